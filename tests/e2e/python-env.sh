#!/usr/bin/env bash
# A Python virtualenv with the Pulumi Python SDK (`pulumi` on PyPI, Automation API included) at the version of
# the @pulumi/pulumi npm dependency, so it matches the CLI from tests/e2e/pulumi-cli.sh. Created once and
# cached; prints the venv directory as its LAST stdout line (progress and errors go to stderr).
#
# Usage:
#   venv="$(bash tests/e2e/python-env.sh [REPO_ROOT] | tail -n 1)"
#   "$venv/bin/python" my_automation_program.py   # with the bin dir of pulumi-cli.sh on PATH: the Automation
#                                                 # API runs the `pulumi` it finds there
#
# Cache: $cache_root/python-pulumi-<version>/{venv,install.log,ready}, cache_root being
# ${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset} (shared with the CLI).
# `ready` is written last and names what was installed: a venv without it (a crashed or concurrent
# install) is never handed out but rebuilt. Concurrent runs wait for one builder (flock). Fails (exit 1,
# with the last lines of install.log) if the venv cannot be made or PyPI cannot serve the package.
# Knobs: PYTHON (default python3: the interpreter to base the venv on; 3.9 or later).
# Measured on this 2-core machine (load average 3-6 from other jobs): 15-18 s to create it (pip downloading
# every wheel, no pip cache); a rerun with the venv in place starts node and one Python: ~0.1 s.
set -euo pipefail

log() { printf 'python-env.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${1:-$script_dir/../..}" && pwd) || die "repo root '${1:-}' not found"
command -v node >/dev/null 2>&1 || die "node is not on PATH (needed to read the @pulumi/pulumi version)"

# The same version as pulumi-cli.sh (pulumi-version.js): the @pulumi/pulumi npm installed.
version=$(node "$script_dir/pulumi-version.js" "$repo_root") || die "cannot determine the @pulumi/pulumi version from $repo_root"

cache_root=${PULUMI_CLI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset}
dir="$cache_root/python-pulumi-$version"
venv="$dir/venv"
want="pulumi==$version"

# Ready: the stamp names this version and the venv's interpreter still starts (its base Python may be gone).
ready() {
  [ "$(cat "$dir/ready" 2>/dev/null)" = "$want" ] && "$venv/bin/python" -c '' >/dev/null 2>&1
}

if ready; then printf '%s\n' "$venv"; exit 0; fi

python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || die "$python is not on PATH (set PYTHON to a Python 3.9+ interpreter)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
  || die "$python is $("$python" --version 2>&1), the Pulumi Python SDK needs 3.9 or later"

mkdir -p "$dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.lock"
  if ! flock -n 9; then log "waiting for another run to finish the venv..."; flock 9; fi
  if ready; then printf '%s\n' "$venv"; exit 0; fi
fi

install_log="$dir/install.log"
printf '\n=== %s: venv with %s (%s)\n' "$(date -u +%FT%TZ)" "$want" "$("$python" --version 2>&1)" >>"$install_log"
start=$SECONDS
fail() { # $1 = what failed
  log "error: $1 failed after $((SECONDS - start))s; last lines of $install_log:"
  tail -n 30 "$install_log" >&2
  exit 1
}

# Built in place (a venv can't be moved: its scripts name its path); `ready` marks it usable.
rm -f "$dir/ready"
rm -rf "$venv"
log "creating $venv with $want from PyPI (log: $install_log)"
"$python" -m venv "$venv" >>"$install_log" 2>&1 || fail "'$python -m venv $venv'"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv/bin/python" -m pip install "$want" >>"$install_log" 2>&1 || fail "pip install $want"
# (The package has no pulumi.__version__: the installed distribution's version is read instead.)
got=$("$venv/bin/python" -c 'import importlib.metadata, pulumi, pulumi.automation; print(importlib.metadata.version("pulumi"))' 2>>"$install_log") \
  || fail "importing pulumi and pulumi.automation in the new venv"
[ "$got" = "$version" ] || die "the venv has pulumi $got, expected $version (see $install_log)"
printf '%s\n' "$want" >"$dir/ready"
log "venv with $want ready in $((SECONDS - start))s"
printf '%s\n' "$venv"
