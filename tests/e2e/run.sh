#!/usr/bin/env bash
# Runs the browser tests: a real `integr8scode serve` per suite, Debian's Chromium driven by
# playwright-core. Exits non-zero when any test fails.
#   INTEGR8SCODE_BIN       server binary (default build/ci/src/app/integr8scode)
#   INTEGR8SCODE_E2E_URL   test an already running server instead of starting one
# Screenshots go to test-output/screenshots/, server logs to test-output/e2e/.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -d web/node_modules ]]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ ! -f web/dist/index.html || -n "$(find web/src web/index.html web/public -newer web/dist/index.html -print -quit)" ]]; then
  (cd web && npm run build)
fi
if [[ -z "${INTEGR8SCODE_E2E_URL:-}" ]]; then
  bin=${INTEGR8SCODE_BIN:-build/ci/src/app/integr8scode}
  if [[ ! -x "$bin" ]]; then
    echo "e2e: no server binary at $bin (build it, or set INTEGR8SCODE_BIN)" >&2
    exit 1
  fi
fi
if [[ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then
  echo "e2e: Chromium not found at ${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install chromium)" >&2
  exit 1
fi

mkdir -p test-output/screenshots test-output/e2e
# One suite at a time: each starts its own server, and the machine has two cores.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" \
  tests/e2e/editor.test.mjs tests/e2e/accounts.test.mjs tests/e2e/rate_limit.test.mjs \
  tests/e2e/resilience.test.mjs tests/e2e/accessibility.test.mjs tests/e2e/output.test.mjs \
  tests/e2e/share_limits.test.mjs
