#!/usr/bin/env bash
# Build tools/sdkgen (Pulumi SDK generator for a package schema: Python, Go, Node.js; see main.go) once
# into the cache and print the binary's path as the LAST stdout line (progress and errors go to stderr).
#
# Usage:
#   sdkgen="$(bash tools/sdkgen/build.sh | tail -n 1)"
#   "$sdkgen" --schema schema.json --out DIR --lang python,go,nodejs     # writes DIR/python, DIR/go, DIR/nodejs
#
# Cache: $cache_root/sdkgen-<hash of go.mod, go.sum, main.go>/{sdkgen,build.log}, where cache_root is
# ${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset} (the Pulumi CLI's, see
# tests/e2e/pulumi-cli.sh); an edit of any of the three files builds a new binary. Concurrent runs wait for one
# builder (flock). The build uses the committed go.sum as is (-mod=readonly) and the same flags as the Pulumi
# CLI build (-trimpath, CGO off), so the pkg/v3 packages the CLI build compiled come from the Go build cache.
# Measured on this 2-core machine (load average 3-6 from other jobs): 10-13 s after the Pulumi CLI build
# (its compiled packages in the Go build cache), 177 s with an empty Go build cache (modules already
# downloaded); a rerun with the binary in place does no Go work (~10 ms).
set -euo pipefail

log() { printf 'sdkgen/build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for f in go.mod go.sum main.go; do [ -f "$src/$f" ] || die "$src/$f is missing"; done
hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)
cache_root=${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset}
dir="$cache_root/sdkgen-$hash"
out="$dir/sdkgen"

if [ -x "$out" ]; then printf '%s\n' "$out"; exit 0; fi

command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build $src)"
mkdir -p "$dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  if ! flock -n 9; then log "waiting for another build of sdkgen to finish..."; flock 9; fi
  if [ -x "$out" ]; then printf '%s\n' "$out"; exit 0; fi
fi

build_log="$dir/build.log"
printf '\n=== %s: build of %s\n' "$(date -u +%FT%TZ)" "$src" >>"$build_log"
log "building sdkgen (cold: compiles pulumi/pkg/v3's codegen, minutes; log: $build_log)"
start=$SECONDS
tmp="$dir/.sdkgen.tmp.$$"
trap 'rm -f "$tmp"' EXIT
if ! (cd "$src" && GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
        go build -trimpath -ldflags "-s -w" -o "$tmp" .) >>"$build_log" 2>&1; then
  log "error: go build of $src failed after $((SECONDS - start))s; last lines of $build_log:"
  tail -n 30 "$build_log" >&2
  exit 1
fi
"$tmp" --help >>"$build_log" 2>&1 || die "the new sdkgen does not run: '$tmp --help' failed (see $build_log)"
mv -f "$tmp" "$out"
log "built $out in $((SECONDS - start))s"
printf '%s\n' "$out"
