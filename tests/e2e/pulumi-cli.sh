#!/usr/bin/env bash
# Make a working `pulumi` CLI available, at the same version as the @pulumi/pulumi npm dependency, with the
# Node.js and YAML language hosts, all built from source (the only way this project's machines can get
# them: no download site is reachable, only package registries). Prints the directory to put on PATH as
# its LAST stdout line; everything else (progress, warnings, errors) goes to stderr. Never leaves a tool
# out silently: if one cannot be built, it exits non-zero naming what failed and the log to read.
#
# Usage:
#   bin="$(bash tests/e2e/pulumi-cli.sh [REPO_ROOT] | tail -n 1)"
#   export PATH="$bin:$PATH"
#   export PULUMI_SKIP_UPDATE_CHECK=1                # no update check: there is no internet
#   export PULUMI_CONFIG_PASSPHRASE=...              # passphrase secrets provider (or ..._FILE)
#   export PULUMI_HOME="$tmp/pulumi-home"            # optional: keep ~/.pulumi untouched
#   mkdir -p "$tmp/state"                            # a file:// backend dir must exist
#   pulumi login "file://$tmp/state"                 # or: export PULUMI_BACKEND_URL=file://...
# Then both a plain `pulumi up/preview/destroy` in a project directory (runtime nodejs or yaml) and the
# Automation API work; the Automation API (Node's LocalWorkspace, Python's, Go's) runs the `pulumi` it
# finds on the PATH of its process, so export PATH before starting node/jest/python.
#
# The printed directory holds:
#   pulumi                          the CLI (engine), v<version of node_modules/@pulumi/pulumi>, built from the
#                                   Go modules github.com/pulumi/pulumi/{pkg,sdk}/v3 at that version
#   pulumi-language-nodejs          the Node.js language host at the same version, built from its upstream
#                                   source shipped in shared/tools (the Go module proxy refuses that module;
#                                   see shared/tools/pulumi-language-nodejs-v<version>/ORIGIN.md). Looked for
#                                   in this order, first found wins:
#                                     $PULUMI_LANGUAGE_NODEJS_SRC
#                                     REPO_ROOT/../shared/tools/pulumi-language-nodejs-v<version>
#                                     ORIGIN/../shared/tools/…, ORIGIN the checkout a fresh clone was made from
#                                     /work/shared/tools/… (the workspace's shared folder, for a clone made
#                                     elsewhere on this kind of machine, as CI's may be)
#                                   none there: exit 1, naming the paths tried
#   pulumi-language-yaml            the YAML language host, github.com/pulumi/pulumi-yaml v1.25.0 (`go install`)
#   pulumi-resource-pulumi-nodejs   the dynamic-provider launcher, which the engine looks up on PATH
#                                   for every pulumi.dynamic.Resource
# The language hosts sit beside `pulumi` because the engine looks for its bundled plugins there first.
#
# REPO_ROOT defaults to two levels above this script; its node_modules gives the version and the
# fallback copy of @pulumi/pulumi for the dynamic-provider launcher (run `npm ci` first).
#
# Knobs (all optional):
#   PULUMI_CLI_CACHE_DIR            cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset)
#   PULUMI_CLI_IGNORE_PATH=1        don't reuse a matching `pulumi` already on PATH; use/build the cached one
#   PULUMI_LANGUAGE_NODEJS_SRC      the pulumi-language-nodejs source dir to build from (see above)
#
# Cache layout: $PULUMI_CLI_CACHE_DIR/pulumi-cli-v<version>/{bin,src,build.log,...}; delete a binary from
# bin/ to rebuild just that one. Measured on this 2-core machine with the Go module and build caches
# empty at the start, the three built one after the other (load average 4-8: other test runs shared
# the machine), filling ~1.7 GB of GOMODCACHE and ~1.9 GB of GOCACHE (with tools/sdkgen's build):
#   pulumi                  426 s (5 min at load 3-5)
#   pulumi-language-nodejs   18 s (it reuses the packages the CLI build compiled: same flags)
#   pulumi-language-yaml     61 s (downloads and compiles the older pulumi/pkg/v3 v3.206.0 it requires)
#   whole script            505 s
# With the CLI already built and the Go caches warm: host 2-7 s, yaml host 48 s. A rerun with the cache in
# place does no Go work and takes ~0.1 s (node reads the version). Allow far more on a slow proxy link.
# Concurrent runs wait for one builder (flock).
set -euo pipefail

log() { printf 'pulumi-cli.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${1:-$script_dir/../..}" && pwd) || die "repo root '${1:-}' not found"

command -v node >/dev/null 2>&1 || die "node is not on PATH (needed to read the @pulumi/pulumi version and to run dynamic providers)"

# --- Which version: the one npm installed, so CLI and Node SDK always match. -------------------
# pulumi-version.js reads it from node_modules/@pulumi/pulumi; before `npm ci`, from the devDependency pin.
version=$(node "$script_dir/pulumi-version.js" "$repo_root") || die "cannot determine the @pulumi/pulumi version from $repo_root"

# The YAML language host: its own release line (pulumi-yaml), not tied to the CLI's version.
yaml_version=v1.25.0
yaml_mod=github.com/pulumi/pulumi-yaml

npm_pulumi="$repo_root/node_modules/@pulumi/pulumi"
if [ ! -f "$npm_pulumi/cmd/dynamic-provider/index.js" ]; then
  log "warning: $npm_pulumi/cmd/dynamic-provider is missing (run npm ci): the dynamic-provider launcher will only work for programs that have their own @pulumi/pulumi"
fi

cache_root=${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset}
dir="$cache_root/pulumi-cli-v$version"
bin="$dir/bin"
yaml_stamp="$dir/pulumi-language-yaml.version"   # which pulumi-yaml built bin/pulumi-language-yaml
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

cache_complete() {
  [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] && [ -x "$bin/pulumi-language-yaml" ] \
    && [ "$(cat "$yaml_stamp" 2>/dev/null)" = "$yaml_version" ]
}

finish() { # $1 = the bin dir to print
  write_launcher "$1"
  printf '%s\n' "$1"
  exit 0
}

# --- Fast path 1: cached build (no Go, no network). ---------------------------------------------
if cache_complete; then finish "$bin"; fi

# --- Fast path 2: a matching pulumi already on PATH, with its language hosts, is used as is. -----
# E.g. a developer's regular install. Used only if pulumi-language-nodejs and pulumi-language-yaml sit
# beside its real (symlink-resolved) executable, where the engine looks for them first; otherwise the
# cached build is used (mixing would make the engine warn on every run). It gets a bin dir of its own
# with symlinks (plus our launcher), so the printed dir is always self-sufficient. Our own cache dir is
# skipped so a half-finished cache never links to itself.
if [ -z "${PULUMI_CLI_IGNORE_PATH:-}" ]; then
  found=$(command -v pulumi 2>/dev/null || true)
  if [ -n "$found" ] && [ "$(cd "$(dirname "$found")" && pwd -P)" != "$(cd "$bin" && pwd -P)" ]; then
    found_version=$(PULUMI_SKIP_UPDATE_CHECK=1 "$found" version 2>/dev/null || true)
    real=$(readlink -f "$found")
    real_dir=$(dirname "$real")
    if [ "$found_version" != "v$version" ]; then
      log "pulumi on PATH ($found) is '${found_version:-unknown}', not v$version: using the cached build"
    elif [ ! -x "$real_dir/pulumi-language-nodejs" ] || [ ! -x "$real_dir/pulumi-language-yaml" ]; then
      log "pulumi $found_version on PATH ($found) has no pulumi-language-nodejs and pulumi-language-yaml beside it in $real_dir: using the cached build"
    else
      path_bin="$dir/bin-from-path"
      mkdir -p "$path_bin"
      for f in pulumi pulumi-language-nodejs pulumi-language-yaml; do ln -sfn "$real_dir/$f" "$path_bin/$f"; done
      log "using pulumi $found_version and its language hosts from $real_dir"
      finish "$path_bin"
    fi
  fi
fi

# --- Where the Node.js language host's source is (checked before any build work: fail fast). -----
lang_nodejs_mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
nodejs_src=""
if [ ! -x "$bin/pulumi-language-nodejs" ]; then
  tried=()
  # A fresh clone of a local checkout knows where that checkout is: shared/ sits beside it.
  origin=$(git -C "$repo_root" config --get remote.origin.url 2>/dev/null || true)
  case "$origin" in /*) ;; *) origin="" ;; esac
  for cand in ${PULUMI_LANGUAGE_NODEJS_SRC:+"$PULUMI_LANGUAGE_NODEJS_SRC"} \
              "$repo_root/../shared/tools/pulumi-language-nodejs-v$version" \
              ${origin:+"$origin/../shared/tools/pulumi-language-nodejs-v$version"} \
              "/work/shared/tools/pulumi-language-nodejs-v$version"; do
    tried+=("$cand")
    if [ -f "$cand/go.mod" ] && [ -f "$cand/main.go" ]; then nodejs_src=$(cd "$cand" && pwd); break; fi
    # A dir named explicitly must be right: no quiet fallback to another copy.
    [ "$cand" != "${PULUMI_LANGUAGE_NODEJS_SRC:-}" ] \
      || die "PULUMI_LANGUAGE_NODEJS_SRC=$cand is not a pulumi-language-nodejs source dir (no go.mod and main.go there)"
  done
  [ -n "$nodejs_src" ] || die "no source for pulumi-language-nodejs v$version (a dir with go.mod and main.go) in any of: ${tried[*]} -- a fresh clone needs shared/ beside it, or set PULUMI_LANGUAGE_NODEJS_SRC"
  # It must be that module, pinned to this very pulumi version (ORIGIN.md: replace => pkg/sdk v<version>).
  grep -q "^module $lang_nodejs_mod\$" "$nodejs_src/go.mod" \
    || die "$nodejs_src/go.mod is not module $lang_nodejs_mod"
  grep -Eq "github\.com/pulumi/pulumi/sdk/v3 => github\.com/pulumi/pulumi/sdk/v3 v$version\$" "$nodejs_src/go.mod" \
    || die "$nodejs_src/go.mod does not pin github.com/pulumi/pulumi/sdk/v3 to v$version (replace line): not the source for pulumi v$version"
fi

# --- Build. ------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build pulumi v$version and its language hosts)"

# One builder at a time per version (parallel e2e jobs may all call this); whoever waited rechecks.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  if ! flock -n 9; then log "waiting for another build in $dir to finish..."; flock 9; fi
  if cache_complete; then finish "$bin"; fi
fi

printf '\n=== %s: build run (pulumi v%s)\n' "$(date -u +%FT%TZ)" "$version" >>"$build_log"   # append: keeps earlier errors
start=$SECONDS
# Left by earlier versions of this script (proxy probing, opt-in v3.68 host): dead now.
rm -rf "$dir/language-nodejs.unavailable" "$dir/bin-legacy-nodejs-host" "$dir/src/legacy-nodejs-host"

# A cold build is silent for many minutes; say we're alive once a minute (on stderr only, and the
# ticker never holds stdout open, so `$(...)` around this script returns as soon as it exits; nor
# the lock; and it stops by itself if this script dies without running its EXIT trap).
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  while sleep 60 & s=$!; wait "$s"; kill -0 $$ 2>/dev/null; do
    log "still building... $((SECONDS - start))s (log: $build_log)"
  done ) >&2 9>&- &
ticker=$!
tmp=""
trap 'kill "$ticker" 2>/dev/null || true; [ -z "$tmp" ] || rm -rf "$tmp"' EXIT

# Module mode regardless of the caller's setup: no go.work, no vendor; -mod=mod lets `go build` fill
# in go.mod/go.sum of the generated wrapper module. CGO off: static binaries, and no C toolchain needed
# (the upstream release builds are CGO-free too). All three builds use the same flags (-trimpath, CGO
# off), so packages they share are compiled once and come from the Go build cache after that.
export GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
pkg_mod=github.com/pulumi/pulumi/pkg/v3
sdk_mod=github.com/pulumi/pulumi/sdk/v3

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

# --- pulumi ----------------------------------------------------------------------------------------
if [ ! -x "$bin/pulumi" ]; then
  t0=$SECONDS
  log "building pulumi v$version from Go modules (cold: ~1.3 GB of modules, ~4-5 min on 2 cores; log: $build_log)"
  pkg_gomod=$(modinfo '{{.GoMod}}' "$pkg_mod@v$version" 2>>"$build_log") || fail_build "resolving $pkg_mod@v$version"
  pkg_go=$(go mod edit -json "$pkg_gomod" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).Go)')
  src="$dir/src/pulumi"
  write_wrapper "$src" "$pkg_go" "$pkg_mod@v$version" "$sdk_mod@v$version" -- "$pkg_gomod" 2>>"$build_log" \
    || fail_build "writing the wrapper module"
  tmp="$bin/.pulumi.tmp.$$"
  (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg_mod/cmd/pulumi") >>"$build_log" 2>&1 \
    || fail_build "go build $pkg_mod/cmd/pulumi"
  got=$(PULUMI_SKIP_UPDATE_CHECK=1 "$tmp" version 2>>"$build_log") || fail_build "running the new pulumi"
  [ "$got" = "v$version" ] || die "built pulumi reports '$got', expected v$version"
  mv -f "$tmp" "$bin/pulumi"; tmp=""
  log "built pulumi $got in $((SECONDS - t0))s"
fi

# --- pulumi-language-nodejs: upstream source from shared/tools, unmodified. ----------------------------
# Copied first (shared/ may be read-only, and `go build -mod=mod` may update go.sum). The only addition
# to ORIGIN.md's `GOFLAGS=-mod=mod go build` is the flags the CLI is built with (version stamp, -trimpath,
# CGO off), which lets it reuse the CLI's compiled packages.
if [ ! -x "$bin/pulumi-language-nodejs" ]; then
  t0=$SECONDS
  log "building pulumi-language-nodejs v$version from $nodejs_src (log: $build_log)"
  printf -- '--- pulumi-language-nodejs from %s\n' "$nodejs_src" >>"$build_log"
  src="$dir/src/language-nodejs"
  rm -rf "$src"
  mkdir -p "$dir/src"
  cp -R "$nodejs_src" "$src" 2>>"$build_log" || fail_build "copying $nodejs_src to $src"
  chmod -R u+w "$src"
  tmp="$bin/.pulumi-language-nodejs.tmp.$$"
  (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$tmp" .) >>"$build_log" 2>&1 \
    || fail_build "go build of pulumi-language-nodejs in $src (copied from $nodejs_src)"
  mv -f "$tmp" "$bin/pulumi-language-nodejs"; tmp=""
  log "built pulumi-language-nodejs in $((SECONDS - t0))s"
fi

# --- pulumi-language-yaml: `go install` from the Go module proxy (its go.mod has no replaces). ----------
if [ ! -x "$bin/pulumi-language-yaml" ] || [ "$(cat "$yaml_stamp" 2>/dev/null)" != "$yaml_version" ]; then
  t0=$SECONDS
  log "building pulumi-language-yaml $yaml_version (go install $yaml_mod/cmd/pulumi-language-yaml; log: $build_log)"
  printf -- '--- go install %s/cmd/pulumi-language-yaml@%s\n' "$yaml_mod" "$yaml_version" >>"$build_log"
  tmp="$dir/.gobin.$$"
  mkdir -p "$tmp"
  # `go install mod@version` runs outside any module and rejects -mod=mod: plain GOFLAGS here.
  (cd "$dir" && GOFLAGS=-buildvcs=false GOBIN="$tmp" go install -trimpath \
     -ldflags "-s -w -X $yaml_mod/pkg/version.Version=$yaml_version" \
     "$yaml_mod/cmd/pulumi-language-yaml@$yaml_version") >>"$build_log" 2>&1 \
    || fail_build "go install $yaml_mod/cmd/pulumi-language-yaml@$yaml_version"
  [ -x "$tmp/pulumi-language-yaml" ] || fail_build "go install (no pulumi-language-yaml in $tmp)"
  mv -f "$tmp/pulumi-language-yaml" "$bin/pulumi-language-yaml"
  rm -rf "$tmp"; tmp=""
  printf '%s\n' "$yaml_version" >"$yaml_stamp"
  log "built pulumi-language-yaml $yaml_version in $((SECONDS - t0))s"
fi

cache_complete || die "internal: the build finished but $bin is incomplete"
log "pulumi v$version with its Node.js and YAML language hosts ready ($((SECONDS - start))s)"
finish "$bin"
