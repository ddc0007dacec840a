#!/usr/bin/env bash
# A one-shot `integr8scode run` against bare python3.11, bubblewrap and the command as
# built from another revision (BEFORE_REV, e.g. the commit before a change), all in one
# interleaved run (integr8scode-oneshot-bench). The other revision is exported with
# `git archive` and built once with the ci preset (ccache makes that cheap); BEFORE_BIN
# names an already built command instead. A benchmark, not a test.
# Usage: [BEFORE_REV=rev | BEFORE_BIN=path] bench/sandbox/oneshot.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-100}
cmake --build --preset ci --target integr8scode-oneshot-bench >/dev/null
before=${BEFORE_BIN:-}
if [[ -z "$before" && -n "${BEFORE_REV:-}" ]]; then
  tree=build/bench/before-$(git rev-parse --short "$BEFORE_REV")
  if [[ ! -x "$tree/build/ci/src/app/integr8scode" ]]; then
    rm -rf "$tree" && mkdir -p "$tree"
    git archive "$BEFORE_REV" | tar -x -C "$tree"
    echo "building integr8scode at $BEFORE_REV in $tree (log: $tree.log)"
    (cd "$tree" && cmake --preset ci -DINTEGR8SCODE_BUILD_TESTS=OFF -DINTEGR8SCODE_BUILD_BENCH=OFF \
      && cmake --build --preset ci --target integr8scode) >"$tree.log" 2>&1 ||
      { tail -20 "$tree.log"; exit 1; }
  fi
  before=$PWD/$tree/build/ci/src/app/integr8scode
fi
args=(--runs "$runs")
[[ -n "$before" ]] && args+=(--before "$before")
exec build/ci/bench/sandbox/integr8scode-oneshot-bench "${args[@]}"
