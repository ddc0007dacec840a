#!/usr/bin/env bash
# The web UI's own checks, as CI runs them: dependencies from the lockfile, type check
# (svelte-check), unit tests (Vitest) and a production build (which prints the gzipped
# size of the initial JavaScript).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent check
npm test --silent
npm run --silent build
