#!/usr/bin/env bash
# The one-command demo on the embedded default: builds alcaide, starts the local Temporal
# dev server (./temporal-dev.sh) and runs a real workflow through it with `alcaide doctor`
# on the example project. `./demo.sh --stop` stops the dev server.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export ALCAIDE_STATE_DIR="$HERE/.alcaide"

if [[ "${1:-}" == "--stop" ]]; then
  exec ./temporal-dev.sh --stop
fi

if [[ ! -d node_modules ]]; then
  echo "--- installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
if [[ ! -f dist/workflow-bundle.js ]]; then
  echo "--- building"
  npm run build --silent
fi
echo "--- Temporal dev server"
./temporal-dev.sh
echo "--- alcaide doctor (examples/hello/deploy.yml)"
TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:${TEMPORAL_PORT:-7233}}" ./bin/alcaide -c examples/hello/deploy.yml doctor
echo
echo "Temporal Web UI: http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}   (stop with ./demo.sh --stop)"
