#!/usr/bin/env bash
# Builds the pinned Caddy (scripts/caddy/go.mod: the only place the version is pinned) from the Go
# module proxy, reproducibly (go.sum pins every module's hash; -trimpath, CGO_ENABLED=0), into a
# cache that survives between runs on the same machine:
#   ${XDG_CACHE_HOME:-~/.cache}/alcaide-ci/caddy-<version>-<go version>/caddy
# Idempotent: when that binary is there it is reused (no go invocation beyond `go env`).
# Prints the binary's path on stdout (progress goes to stderr); fails loudly.
#   scripts/build-caddy.sh           build if needed, print the path
#   scripts/build-caddy.sh --path    print the path if the binary is there, else exit 1 (no build)
#   scripts/build-caddy.sh --version print the pinned version (v2.x.y)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/caddy"

version=$(sed -n 's|^require github.com/caddyserver/caddy/v2 \(v[0-9][^ ]*\)$|\1|p' "$mod/go.mod")
[[ -n $version ]] || { echo "build-caddy: no 'require github.com/caddyserver/caddy/v2 vX.Y.Z' line in $mod/go.mod" >&2; exit 1; }
if [[ ${1:-} == --version ]]; then echo "$version"; exit 0; fi

command -v go >/dev/null || { echo "build-caddy: go is not installed (needed to build Caddy $version)" >&2; exit 1; }
export GOTOOLCHAIN=local   # never fetch another toolchain: the cache key is this go's version
gover=$(go env GOVERSION)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/alcaide-ci/caddy-$version-$gover"
bin="$dir/caddy"

if [[ -x $bin ]]; then echo "$bin"; exit 0; fi
if [[ ${1:-} == --path ]]; then exit 1; fi
[[ -z ${1:-} ]] || { echo "build-caddy: unknown argument $1" >&2; exit 2; }

echo "--- building Caddy $version with $gover (GOPROXY=$(go env GOPROXY))" >&2
mkdir -p "$dir"
tmp=$(mktemp "$dir/.caddy.XXXXXX")
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
# go.sum (checked in) verifies every download, so the checksum database is not needed (and is
# not reachable from CI); -mod=readonly: a go.mod/go.sum that does not match is an error.
(cd "$mod" && CGO_ENABLED=0 GOSUMDB=off GOFLAGS="-mod=readonly -trimpath -buildvcs=false" \
  go build -ldflags='-s -w' -o "$tmp" .) >&2
got=$("$tmp" version)
[[ $got == "$version "* || $got == "$version" ]] || { echo "build-caddy: built binary says '$got', expected $version" >&2; exit 1; }
chmod 755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "--- Caddy $got built in $((SECONDS - start)) s: $bin" >&2
echo "$bin"
