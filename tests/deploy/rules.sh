#!/usr/bin/env bash
# The Prometheus configuration and rules of deploy/monitoring: promtool checks them and runs
# their unit tests (every alert fires when it should and stays quiet when it should not).
set -euo pipefail
cd "$(dirname "$0")/../../deploy/monitoring"
command -v promtool >/dev/null || { echo "rules: promtool not found (apt-get install prometheus)" >&2; exit 1; }
promtool check rules rules/*.yml
promtool test rules tests/alerts_test.yml
# The shipped configuration loads its rules from /etc/prometheus/rules; check it against a
# copy whose rule_files point here.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/etc/prometheus/rules/|$PWD/rules/|" prometheus.yml >"$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml"
