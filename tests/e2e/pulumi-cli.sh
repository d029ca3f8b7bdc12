#!/usr/bin/env bash
# Make a working `pulumi` CLI available, at the same version as the @pulumi/pulumi npm dependency,
# built from Go modules (the only place this project's machines can get it: no download site is
# reachable, only package registries). Prints the directory to put on PATH as its LAST stdout line;
# everything else (progress, warnings) goes to stderr.
#
# Usage:
#   bin="$(bash tests/e2e/pulumi-cli.sh [REPO_ROOT] | tail -n 1)"
#   export PATH="$bin:$PATH"
#   export PULUMI_SKIP_UPDATE_CHECK=1                # no update check: there is no internet
#   export PULUMI_CONFIG_PASSPHRASE=...              # passphrase secrets provider (or ..._FILE)
#   export PULUMI_HOME="$tmp/pulumi-home"            # optional: keep ~/.pulumi untouched
#   mkdir -p "$tmp/state"                            # a file:// backend dir must exist
#   pulumi login "file://$tmp/state"                 # or: export PULUMI_BACKEND_URL=file://...
# The Automation API (LocalWorkspace) runs the `pulumi` it finds on the PATH of the Node process, so
# export PATH before starting node/jest; inline programs work without pulumi-language-nodejs.
#
# The printed directory holds:
#   pulumi                          the CLI (engine), v<version of node_modules/@pulumi/pulumi>
#   pulumi-language-nodejs          the Node.js language host, ONLY if the Go module proxy serves it;
#                                   otherwise a warning line on stderr says so and why, and callers
#                                   must use the Automation API with inline programs (it brings its
#                                   own language server), not a plain `pulumi up` in a project dir
#   pulumi-resource-pulumi-nodejs   the dynamic-provider launcher, which the engine looks up on PATH
#                                   for every pulumi.dynamic.Resource
#
# REPO_ROOT defaults to two levels above this script; its node_modules gives the version and the
# fallback copy of @pulumi/pulumi for the dynamic-provider launcher (run `npm ci` first).
#
# Knobs (all optional):
#   PULUMI_CLI_CACHE_DIR            cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset)
#   PULUMI_CLI_IGNORE_PATH=1        don't reuse a matching `pulumi` already on PATH; use/build the cached one
#   PULUMI_CLI_RETRY_LANGUAGE_HOST=1  retry pulumi-language-nodejs even though an earlier run recorded
#                                   that it is unavailable (the failure is cached so reruns stay fast)
#   PULUMI_CLI_LEGACY_NODEJS_HOST=1 when the matching pulumi-language-nodejs is unavailable, use an OLD
#                                   one instead: v3.68.0, the last release that shipped it inside the
#                                   sdk/v3 module (which the proxy serves). It is version-skewed against
#                                   the v3.248 engine and SDK, but drives `pulumi up/preview/destroy` of
#                                   a plain Node project (config, secrets, dynamic resources, errors)
#                                   correctly in the checks done when this was written. Prints a
#                                   different bin dir (bin-legacy-nodejs-host), so it never leaks into
#                                   callers that did not ask for it.
#
# Cache layout: $PULUMI_CLI_CACHE_DIR/pulumi-cli-v<version>/{bin,src,build.log,...}. A cold build
# (empty Go module and build caches) fills ~1.3 GB of GOMODCACHE and ~1.6 GB of GOCACHE and took
# about 4 minutes on 2 cores here (allow up to ~25 on a slow proxy link); a rerun with the cache in
# place does no Go work and takes well under a second. Concurrent runs wait for one builder (flock).
set -euo pipefail

log() { printf 'pulumi-cli.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${1:-$script_dir/../..}" && pwd) || die "repo root '${1:-}' not found"

command -v node >/dev/null 2>&1 || die "node is not on PATH (needed to read the @pulumi/pulumi version and to run dynamic providers)"

# --- Which version: the one npm installed, so CLI and Node SDK always match. -------------------
# Read it from node_modules/@pulumi/pulumi/package.json; before `npm ci`, fall back to the exact pin
# in package.json. Only an exact x.y.z is accepted: a range can't name a Go module version.
version=$(node -e '
  const fs = require("fs"), path = require("path"), root = process.argv[1];
  let v;
  try { v = JSON.parse(fs.readFileSync(path.join(root, "node_modules/@pulumi/pulumi/package.json"))).version; }
  catch (e) {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json")));
    v = ((pkg.dependencies || {})["@pulumi/pulumi"] || "").replace(/^[=v]+/, "");
  }
  if (!/^\d+\.\d+\.\d+$/.test(v || "")) { console.error("no exact @pulumi/pulumi version (got " + JSON.stringify(v) + ")"); process.exit(1); }
  console.log(v);
' "$repo_root") || die "cannot determine the @pulumi/pulumi version from $repo_root"

npm_pulumi="$repo_root/node_modules/@pulumi/pulumi"
if [ ! -f "$npm_pulumi/cmd/dynamic-provider/index.js" ]; then
  log "warning: $npm_pulumi/cmd/dynamic-provider is missing (run npm ci): the dynamic-provider launcher will only work for programs that have their own @pulumi/pulumi"
fi

cache_root=${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset}
dir="$cache_root/pulumi-cli-v$version"
bin="$dir/bin"
lang_unavailable="$dir/language-nodejs.unavailable"   # holds the reason, so reruns warn without Go work
build_log="$dir/build.log"
mkdir -p "$bin"

# The dynamic-provider launcher. The copy in the npm package resolves @pulumi/pulumi from the working
# directory the engine gives it (the program's dir) and silently does nothing if that fails (the
# engine then dies waiting for a port). This one does the same first - the program's own
# @pulumi/pulumi is the one that serialized the provider - then falls back to this repo's copy
# (inline Automation API programs often run from a temp dir), and fails loudly otherwise.
# Rewritten only when its content changes, atomically, so concurrent users never see half a file.
write_launcher() { # $1 = target dir
  local target="$1/pulumi-resource-pulumi-nodejs" fallback content tmp
  fallback="$npm_pulumi/cmd/dynamic-provider/index.js"
  fallback=${fallback//\'/\'\\\'\'}   # quote for sh single quotes
  content="#!/bin/sh
# Generated by tests/e2e/pulumi-cli.sh: Pulumi's dynamic-provider launcher (see there).
script=\$(node -e 'try { process.stdout.write(require.resolve(\"@pulumi/pulumi/cmd/dynamic-provider\")) } catch (e) {}' 2>/dev/null)
[ -n \"\$script\" ] || script='$fallback'
if [ ! -f \"\$script\" ]; then
  echo \"pulumi-resource-pulumi-nodejs: @pulumi/pulumi/cmd/dynamic-provider not found from \$(pwd) nor at \$script\" >&2
  exit 1
fi
exec node \"\$script\" \"\$@\"
"
  if [ -x "$target" ] && [ "$(cat "$target")"$'\n' = "$content" ]; then return 0; fi
  tmp=$(mktemp "$1/.launcher.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$target"
}

warn_lang_unavailable() {
  log "WARNING: pulumi-language-nodejs v$version is unavailable, only 'pulumi' is provided: $(cat "$lang_unavailable") -- use the Automation API with inline programs (a plain 'pulumi up' in a Node project directory fails with \"no language plugin 'pulumi-language-nodejs' found\"). Details: $build_log; retry: PULUMI_CLI_RETRY_LANGUAGE_HOST=1; old host instead: PULUMI_CLI_LEGACY_NODEJS_HOST=1"
}

# Opt-in legacy host (see PULUMI_CLI_LEGACY_NODEJS_HOST above).
legacy_sdk=v3.68.0
legacy_bin="$dir/bin-legacy-nodejs-host"
want_legacy() { [ "${PULUMI_CLI_LEGACY_NODEJS_HOST:-}" = 1 ] && [ ! -x "$bin/pulumi-language-nodejs" ]; }
legacy_ready() { [ -x "$legacy_bin/pulumi" ] && [ -x "$legacy_bin/pulumi-language-nodejs" ]; }

# Done when pulumi is there and the language host is either built or known to be unavailable.
cache_complete() {
  [ -x "$bin/pulumi" ] || return 1
  [ -x "$bin/pulumi-language-nodejs" ] && return 0
  [ -f "$lang_unavailable" ] && [ "${PULUMI_CLI_RETRY_LANGUAGE_HOST:-}" != 1 ]
}

finish() { # prints the bin dir: the legacy-host one if asked for (and built), else $bin
  local out="$bin"
  if want_legacy && legacy_ready; then
    out="$legacy_bin"
    log "WARNING: using the legacy pulumi-language-nodejs $legacy_sdk (opt-in PULUMI_CLI_LEGACY_NODEJS_HOST=1) with pulumi v$version: pulumi-language-nodejs v$version is unavailable: $(cat "$lang_unavailable" 2>/dev/null)"
  elif [ ! -x "$bin/pulumi-language-nodejs" ] && [ -f "$lang_unavailable" ]; then
    warn_lang_unavailable
  fi
  write_launcher "$out"
  printf '%s\n' "$out"
  exit 0
}

# --- Fast path 1: cached build (no Go, no network). ---------------------------------------------
if cache_complete && { ! want_legacy || legacy_ready; }; then finish; fi

# --- Fast path 2: a matching pulumi already on PATH is used as is. -------------------------------
# It gets a bin dir of its own with symlinks (plus our launcher), so the printed dir is always
# self-sufficient. Our own cache dir is skipped so a half-finished cache never links to itself.
if [ -z "${PULUMI_CLI_IGNORE_PATH:-}" ] && [ ! -x "$bin/pulumi" ] && [ "${PULUMI_CLI_LEGACY_NODEJS_HOST:-}" != 1 ]; then
  found=$(command -v pulumi 2>/dev/null || true)
  if [ -n "$found" ] && [ "$(cd "$(dirname "$found")" && pwd -P)" != "$(cd "$bin" && pwd -P)" ]; then
    found_version=$(PULUMI_SKIP_UPDATE_CHECK=1 "$found" version 2>/dev/null || true)
    if [ "$found_version" = "v$version" ]; then
      path_bin="$dir/bin-from-path"
      mkdir -p "$path_bin"
      ln -sfn "$(readlink -f "$found")" "$path_bin/pulumi"
      lang=$(command -v pulumi-language-nodejs 2>/dev/null || true)
      [ -n "$lang" ] || { [ -x "$(dirname "$found")/pulumi-language-nodejs" ] && lang="$(dirname "$found")/pulumi-language-nodejs"; } || true
      if [ -n "$lang" ]; then ln -sfn "$(readlink -f "$lang")" "$path_bin/pulumi-language-nodejs"
      else rm -f "$path_bin/pulumi-language-nodejs"; log "warning: pulumi $found_version found at $found but no pulumi-language-nodejs beside it or on PATH"; fi
      log "using pulumi $found_version from $found"
      write_launcher "$path_bin"
      printf '%s\n' "$path_bin"
      exit 0
    fi
    log "pulumi on PATH ($found) is '${found_version:-unknown}', not v$version: using the cached build"
  fi
fi

# --- Build. ------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build pulumi v$version)"

# One builder at a time per version (parallel e2e jobs may all call this); whoever waited rechecks.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  if ! flock -n 9; then log "waiting for another build of pulumi v$version to finish..."; flock 9; fi
  if cache_complete && { ! want_legacy || legacy_ready; }; then finish; fi
fi

printf '\n=== %s: build run (pulumi v%s)\n' "$(date -u +%FT%TZ)" "$version" >>"$build_log"   # append: keeps earlier errors the warnings point to
start=$SECONDS

# A cold build is silent for many minutes; say we're alive once a minute (on stderr only, and the
# ticker never holds stdout open, so `$(...)` around this script returns as soon as it exits; nor
# the lock; and it stops by itself if this script dies without running its EXIT trap).
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  while sleep 60 & s=$!; wait "$s"; kill -0 $$ 2>/dev/null; do
    log "still building... $((SECONDS - start))s (log: $build_log)"
  done ) >&2 9>&- &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT

# Module mode regardless of the caller's setup: no go.work, no vendor; -mod=mod lets `go build` fill
# in go.mod/go.sum of the generated wrapper modules. CGO off: a static binary, and no C toolchain
# needed (the upstream release builds are CGO-free too).
export GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
pkg_mod=github.com/pulumi/pulumi/pkg/v3
sdk_mod=github.com/pulumi/pulumi/sdk/v3
lang_mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3

fail_build() { # $1 = what failed
  log "error: $1 failed after $((SECONDS - start))s; last lines of $build_log:"
  tail -n 30 "$build_log" >&2
  exit 1
}

# Write a wrapper module in $1 that requires the given module@versions (the sdk/pkg pair always at
# $version) and repeats the versioned `replace` lines of the go.mod files given after "--". Why a
# wrapper: pulumi's own modules carry `replace` directives (sdk => ../sdk, ...), so
# `go install mod@version` refuses them; as dependencies of another module their replaces are
# ignored, so the wrapper must pin sdk to the same version as pkg itself (pkg's go.mod may name an
# older sdk and rely on its replace) and restate the other replaces (e.g. atotto/clipboard => a fork).
write_wrapper() { # $1 dir, $2 go version, then mod@ver ... -- gomodfile ...
  local wdir="$1" gover="$2" mv rep reps
  shift 2
  mkdir -p "$wdir"
  rm -f "$wdir/go.mod" "$wdir/go.sum"
  printf 'module pulumi-dms-offset-reset/pulumi-cli-build\n\ngo %s\n' "$gover" >"$wdir/go.mod"
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    (cd "$wdir" && go mod edit -require="$1") || return 1
    shift
  done
  [ $# -gt 0 ] && shift
  for mv in "$@"; do
    # Versioned replaces only (local-path ones point into pulumi's own checkout: sdk, pkg, ...).
    reps=$(go mod edit -json "$mv" | node -e '
      const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of m.Replace || []) {
        if (!r.New.Version || /^github\.com\/pulumi\/pulumi\//.test(r.Old.Path)) continue;
        console.log((r.Old.Version ? r.Old.Path + "@" + r.Old.Version : r.Old.Path) + "=" + r.New.Path + "@" + r.New.Version);
      }') || return 1
    for rep in $reps; do
      (cd "$wdir" && go mod edit -replace="$rep") || return 1
    done
  done
  return 0
}

# `go list -m` on a module@version fetches only its .info/.mod from the proxy (cheap).
modinfo() { # $1 format, $2 mod@ver; runs outside any module
  (cd "$dir" && GOFLAGS='' go list -m -f "$1" "$2")
}

if [ ! -x "$bin/pulumi" ]; then
  log "building pulumi v$version from Go modules (cold: ~1.3 GB of modules, ~4+ min on 2 cores; log: $build_log)"
  pkg_gomod=$(modinfo '{{.GoMod}}' "$pkg_mod@v$version" 2>>"$build_log") || fail_build "resolving $pkg_mod@v$version"
  pkg_go=$(go mod edit -json "$pkg_gomod" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).Go)')
  src="$dir/src/pulumi"
  write_wrapper "$src" "$pkg_go" "$pkg_mod@v$version" "$sdk_mod@v$version" -- "$pkg_gomod" 2>>"$build_log" \
    || fail_build "writing the wrapper module"
  tmp="$bin/.pulumi.tmp.$$"
  (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg_mod/cmd/pulumi") >>"$build_log" 2>&1 \
    || { rm -f "$tmp"; fail_build "go build $pkg_mod/cmd/pulumi"; }
  got=$(PULUMI_SKIP_UPDATE_CHECK=1 "$tmp" version 2>>"$build_log") || { rm -f "$tmp"; fail_build "running the new pulumi"; }
  [ "$got" = "v$version" ] || { rm -f "$tmp"; die "built pulumi reports '$got', expected v$version"; }
  mv -f "$tmp" "$bin/pulumi"
  log "built pulumi $got in $((SECONDS - start))s"
fi

# --- pulumi-language-nodejs: best effort. ---------------------------------------------------------
# Its module has no version tags; it is addressed by the commit of the pulumi release tag (a
# pseudo-version). Known commits per version below; for other versions the pkg tag's commit and the
# plain version are tried. If the proxy serves none of them, record why and go on without it.
if [ ! -x "$bin/pulumi-language-nodejs" ] && { [ ! -f "$lang_unavailable" ] || [ "${PULUMI_CLI_RETRY_LANGUAGE_HOST:-}" = 1 ]; }; then
  rm -f "$lang_unavailable"
  case "$version" in
    3.248.0) revs="a88168d865b7fd428e5a929cc54aeceaf72d203f" ;;   # commit of tag v3.248.0
    *) revs="" ;;
  esac
  pkg_rev=$(modinfo '{{with .Origin}}{{.Hash}}{{end}}' "$pkg_mod@v$version" 2>/dev/null || true)
  for r in $pkg_rev "v$version"; do case " $revs " in *" $r "*) ;; *) revs="$revs $r" ;; esac; done
  lang_ver="" first_error=""
  for r in $revs; do
    if out=$(modinfo '{{.Version}} {{.GoMod}}' "$lang_mod@$r" 2>&1); then lang_ver=${out%% *}; lang_gomod=${out#* }; break; fi
    printf '%s\n' "$out" >>"$build_log"
    [ -n "$first_error" ] || first_error=$(printf '%s' "$out" | tr -s '\n\t' '  ')
  done
  if [ -z "$lang_ver" ]; then
    # Keep the first error verbatim (they are all alike: the proxy refuses the module); all are in the log.
    printf 'the Go module proxy does not serve %s at any of %s; first error: %s\n' \
      "$lang_mod" "$(printf '%s' "${revs# }" | tr ' ' ',')" "$first_error" >"$lang_unavailable"
  else
    log "building pulumi-language-nodejs $lang_ver"
    pkg_gomod=$(modinfo '{{.GoMod}}' "$pkg_mod@v$version" 2>>"$build_log") || fail_build "resolving $pkg_mod@v$version"
    lang_go=$(go mod edit -json "$lang_gomod" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).Go)')
    src="$dir/src/language-nodejs"
    tmp="$bin/.pulumi-language-nodejs.tmp.$$"
    if write_wrapper "$src" "$lang_go" "$lang_mod@$lang_ver" "$pkg_mod@v$version" "$sdk_mod@v$version" -- "$lang_gomod" "$pkg_gomod" >>"$build_log" 2>&1 \
       && (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$tmp" "$lang_mod") >>"$build_log" 2>&1; then
      mv -f "$tmp" "$bin/pulumi-language-nodejs"
      log "built pulumi-language-nodejs in $((SECONDS - start))s"
    else
      rm -f "$tmp"
      printf 'building %s@%s failed: %s\n' "$lang_mod" "$lang_ver" "$(tail -n 5 "$build_log" | tr -s '\n\t' '  ')" >"$lang_unavailable"
    fi
  fi
fi

# --- Opt-in legacy pulumi-language-nodejs. -----------------------------------------------------------
# Built from the sdk/v3 module at $legacy_sdk, where the host still lived (later releases moved it to
# the separate module above). `pulumi` is hard-linked (copied if it can't be) into the same dir:
# the engine looks for bundled plugins beside its real (symlink-resolved) executable first, and one
# found only on PATH makes every run print a "using pulumi-language-nodejs from $PATH" warning.
if want_legacy && ! legacy_ready; then
  log "building the legacy pulumi-language-nodejs from $sdk_mod@$legacy_sdk (opt-in)"
  src="$dir/src/legacy-nodejs-host"
  mkdir -p "$legacy_bin"
  tmp="$legacy_bin/.pulumi-language-nodejs.tmp.$$"
  write_wrapper "$src" "$(go env GOVERSION | sed 's/^go//; s/ .*//')" "$sdk_mod@$legacy_sdk" -- >>"$build_log" 2>&1 \
    || fail_build "writing the legacy wrapper module"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X $sdk_mod/go/common/version.Version=$legacy_sdk" \
     -o "$tmp" "$sdk_mod/nodejs/cmd/pulumi-language-nodejs") >>"$build_log" 2>&1 \
    || { rm -f "$tmp"; fail_build "go build of the legacy pulumi-language-nodejs"; }
  mv -f "$tmp" "$legacy_bin/pulumi-language-nodejs"
  ln -f "$bin/pulumi" "$legacy_bin/pulumi" 2>/dev/null || cp -f "$bin/pulumi" "$legacy_bin/pulumi"
fi

log "pulumi v$version ready ($((SECONDS - start))s)"
finish
