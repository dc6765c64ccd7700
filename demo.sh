#!/usr/bin/env bash
# The demo on the embedded default, on this machine: installs what is missing, starts the
# Temporal dev server and a simulated FreeBSD host, then `alcaide setup` and `alcaide deploy`
# of the fixture Phoenix-shaped app. Run it again to deploy the next version blue/green.
#
#   ./demo.sh          deploy (the first time: set up, then deploy v1.0.0)
#   ./demo.sh --stop   tear the simulated host down and stop the dev server
# It needs root (the simulated host uses network namespaces): run as a user, it runs itself
# again through sudo; as root, no sudo is needed (nor installed, on many machines).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "demo.sh needs root (the simulated FreeBSD host uses network namespaces) and there is no sudo: run it as root" >&2; exit 1; }
  exec sudo -- "$HERE/demo.sh" "$@"
fi
cd "$HERE"
export ALCAIDE_STATE_DIR="$HERE/.alcaide"
DEMO="$HERE/.alcaide/demo"
SIM="$DEMO/sim"
APP="$DEMO/hello"
ALCAIDE="$HERE/bin/alcaide"

sim_up() { [[ -f "$DEMO/sim.json" ]] && python3 -I test/simhost/simhost.py status --dir "$SIM" 2>/dev/null | grep -q '"alive": true'; }

if [[ "${1:-}" == "--stop" ]]; then
  if [[ -f "$DEMO/sim.json" ]]; then python3 -I test/simhost/simhost.py down --dir "$SIM" >/dev/null && echo "simulated host removed"; fi
  rm -rf "$DEMO"
  exec ./temporal-dev.sh --stop
fi
scripts/install-deps.sh
[[ -d node_modules ]] || npm ci --no-audit --no-fund
[[ -f dist/workflow-bundle.js ]] || npm run build --silent
# the demo project has no secrets, so no payload key: its history is in clear, no codec server
ALCAIDE_UI_CODEC_ENDPOINT="${ALCAIDE_UI_CODEC_ENDPOINT-none}" ./temporal-dev.sh

mkdir -p "$DEMO"
if ! sim_up; then
  echo "--- simulated FreeBSD host"
  rm -rf "$SIM"
  python3 -I test/simhost/simhost.py up --hosts 1 --dir "$SIM" > "$DEMO/sim.json"
  rm -rf "$APP"
fi
field() { python3 -c "import json,sys; print(json.load(open('$DEMO/sim.json'))['hosts'][0]['$1'])"; }
HOST="$(field host)"

git_() { git -C "$APP" -c user.name=demo -c user.email=demo@localhost "$@"; }
if [[ ! -d "$APP/.git" ]]; then
  sh test/fixtures/make-app.sh "$APP" 1.0.0 >/dev/null
  cat > "$APP/deploy.yml" <<YML
app: hello
server:
  host: $HOST
ssh:
  keys: [$(field privateKey)]
  known_hosts: $(field knownHostsFile)
health_check:
  path: /health
  interval: 200ms
  timeout: 30s
drain_timeout: 2s
release:
  migrate: "Hello.Release.migrate()"
YML
  git_ add -A && git_ commit -qm "deploy config"
  echo "--- alcaide setup"
  (cd "$APP" && "$ALCAIDE" setup)
else
  next="1.$(( $(cut -d. -f2 "$APP/VERSION" | head -1) + 1 )).0"
  echo "$next" > "$APP/VERSION"
  git_ commit -qam "v$next"
fi

echo "--- alcaide deploy ($(head -1 "$APP/VERSION"))"
(cd "$APP" && "$ALCAIDE" deploy)
echo
echo "The app answers at http://$HOST/ : $(curl -s "http://$HOST/")"
echo "Temporal Web UI: http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}/namespaces/default/workflows/alcaide-hello"
echo "Run ./demo.sh again to deploy the next version blue/green; ./demo.sh --stop to tear down."
