#!/usr/bin/env bash
# Installs the schema validator's npm packages (validate.mjs) from the committed lockfile
# when they are missing or older than it; scripts/setup --test does the same.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e "import('kubernetes-models/_schemas/IoK8sApiCoreV1Pod').then(() => console.log('validator packages: ready'))"
