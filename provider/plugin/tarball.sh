#!/usr/bin/env bash
# Builds the provider plugin as a Pulumi plugin tarball, for machines that install plugins rather than npm
# packages:
#   pulumi plugin install resource dms-offset-reset VERSION --file pulumi-resource-dms-offset-reset-vVERSION.tar.gz
# The tarball holds the executable the engine runs, `pulumi-resource-dms-offset-reset` (a launcher that runs the
# plugin with the `node` on PATH, Node.js >= 20.19), and node_modules/ with the packed package and its production
# dependencies: it is self-contained but for Node.js itself, and runs on any OS and architecture that has it.
#
# Usage: bash provider/plugin/tarball.sh [OUT_DIR]   (default: the repository root)
# Builds and packs the package, installs the tarball's dependencies from the npm registry (npm's cache first),
# and prints the tarball's path as its LAST stdout line; progress goes to stderr.
set -euo pipefail

log() { printf 'tarball.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$(mkdir -p "${1:-$repo}" && cd "${1:-$repo}" && pwd)
command -v node >/dev/null 2>&1 || die "node is not on PATH"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH"
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
name=pulumi-resource-dms-offset-reset
tarball="$out/$name-v$version.tar.gz"

stage=$(mktemp -d "${TMPDIR:-/tmp}/$name-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

log "building and packing pulumi-dms-offset-reset $version"
(cd "$repo" && npm run --silent build) >&2
packed=$(cd "$repo" && npm pack --silent --pack-destination "$stage" | tail -n 1)
log "installing it with its production dependencies"
printf '{"name":"%s","private":true}\n' "$name" >"$stage/package.json"
(cd "$stage" && npm install --omit=dev --no-audit --no-fund --prefer-offline --no-package-lock "./$packed") >&2
rm -f "$stage/$packed" "$stage/package.json"
main="node_modules/pulumi-dms-offset-reset/dist/provider/plugin/main.js"
[ -f "$stage/$main" ] || die "the packed package has no $main"
[ -f "$stage/node_modules/pulumi-dms-offset-reset/provider/plugin/schema.json" ] \
  || die "the packed package has no provider/plugin/schema.json: package.json \"files\" must list it"

cat >"$stage/$name" <<'LAUNCHER'
#!/bin/sh
# The dms-offset-reset provider plugin: the engine runs this with its address; the plugin is JavaScript.
dir=$(cd "$(dirname "$0")" && pwd)
exec node "$dir/node_modules/pulumi-dms-offset-reset/dist/provider/plugin/main.js" "$@"
LAUNCHER
chmod 755 "$stage/$name"

tar -czf "$tarball.tmp" -C "$stage" .
mv -f "$tarball.tmp" "$tarball"
log "wrote $tarball ($(du -h "$tarball" | cut -f1))"
printf '%s\n' "$tarball"
