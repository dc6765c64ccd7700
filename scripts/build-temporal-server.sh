#!/usr/bin/env bash
# Builds the Temporal server that our dev server pins (Server 1.32.0 = CLI 1.9.1 in
# temporal-dev.sh) and its SQL schema tool from the Go module proxy, for running a Temporal
# cluster (docs/temporal-cluster.md), into a cache that survives between runs on this machine:
#   ${XDG_CACHE_HOME:-~/.cache}/alcaide-ci/temporal-server-<version>-<go version>/
#     temporal-server      go.temporal.io/server/cmd/server
#     temporal-sql-tool    go.temporal.io/server/cmd/tools/sql
#     schema/postgresql/v12/{temporal,visibility}   the module's PostgreSQL schema (setup + versioned)
#     config/development-postgres12.yaml            the module's sample config, for reference
# The module has no replace directives, so `go install pkg@version` builds it with the module's
# own go.mod/go.sum (which pin every dependency's hash); the module's own hash is pinned here.
# Idempotent: when the directory is complete it is reused (no go invocation beyond `go env`).
# Prints the directory on stdout (progress goes to stderr); fails loudly.
#   scripts/build-temporal-server.sh           build if needed, print the directory
#   scripts/build-temporal-server.sh --path    print the directory if it is built, else exit 1
#   scripts/build-temporal-server.sh --version print the pinned version (v1.x.y)
set -euo pipefail

MODULE=go.temporal.io/server
VERSION=v1.32.0
MODULE_SUM='h1:JQoqsVREaGc8vcuDNfuRlySiV3tVi81XUOVC9LeL/1Y='   # go.sum line of $MODULE $VERSION

if [[ ${1:-} == --version ]]; then echo "$VERSION"; exit 0; fi
command -v go >/dev/null || { echo "build-temporal-server: go is not installed (needed to build Temporal $VERSION)" >&2; exit 1; }
export GOTOOLCHAIN=local   # never fetch another toolchain: the cache key is this go's version
gover=$(go env GOVERSION)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/alcaide-ci/temporal-server-$VERSION-$gover"
# written last: its presence means the directory is complete
done_mark="$dir/.built"

if [[ -e $done_mark ]]; then echo "$dir"; exit 0; fi
if [[ ${1:-} == --path ]]; then exit 1; fi
[[ -z ${1:-} ]] || { echo "build-temporal-server: unknown argument $1" >&2; exit 2; }

echo "--- building Temporal server $VERSION with $gover (GOPROXY=$(go env GOPROXY))" >&2
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
# The checksum database is not reachable from CI: the module's hash is checked against the pin
# above instead, and its go.sum verifies every dependency.
export GOSUMDB=off GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
src=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
got_sum=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^\t"Sum": "\(.*\)",$/\1/p')
[[ $got_sum == "$MODULE_SUM" ]] || { echo "build-temporal-server: $MODULE@$VERSION has hash '$got_sum', pinned $MODULE_SUM" >&2; exit 1; }
[[ -d $src/schema/postgresql/v12 ]] || { echo "build-temporal-server: no schema/postgresql/v12 in $src" >&2; exit 1; }
GOBIN="$tmp/bin" go install -ldflags='-s -w' "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION" >&2
mv "$tmp/bin/server" "$tmp/temporal-server"
mv "$tmp/bin/sql" "$tmp/temporal-sql-tool"
rmdir "$tmp/bin"
mkdir -p "$tmp/schema/postgresql" "$tmp/config"
cp -R "$src/schema/postgresql/v12" "$tmp/schema/postgresql/v12"
cp "$src/config/development-postgres12.yaml" "$tmp/config/"
chmod -R u+w,go+rX "$tmp"   # the module cache is read-only; the server may run as another user
got=$("$tmp/temporal-server" --version 2>&1 || true)
[[ $got == *"${VERSION#v}"* ]] || { echo "build-temporal-server: built server says '$got', expected $VERSION" >&2; exit 1; }
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
touch "$done_mark"
echo "--- Temporal server $VERSION built in $((SECONDS - start)) s: $dir" >&2
echo "$dir"
