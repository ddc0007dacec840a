#!/usr/bin/env bash
# Renders deploy/kubernetes (kubectl kustomize) and checks every object: the Kubernetes
# schema of its kind and our own rules (tests/deploy/kubernetes.test.mjs).
set -euo pipefail
cd "$(dirname "$0")"
command -v kubectl >/dev/null || { echo "kubernetes: kubectl not found (it renders the kustomizations)" >&2; exit 1; }
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-reporter=spec kubernetes.test.mjs
