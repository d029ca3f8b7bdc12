#!/usr/bin/env bash
# `npm run demo`: on a fresh machine, rehearse a rewind end to end against dms-local (the default seed):
# the runbook CLI first, then the quickstart Pulumi program through the real engine — up, a changed
# incident time shown by preview as a replacement, and up again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
pulumi_bin=$(bash tests/e2e/pulumi-cli.sh "$root" | tail -n 1)
export PATH="$pulumi_bin:$PATH"

# A fresh workspace each run: the stack's state, Pulumi's home and dms-local's log live here.
ws="$root/.demo"
rm -rf "$ws" && mkdir -p "$ws/state"
export PULUMI_HOME="$ws/pulumi-home"

seed=dms-local/seed.default.json
# The default seed's key pair is published and demo-only; dms-local accepts nothing else.
read -r project instance CLOUD_SDK_AK CLOUD_SDK_SK < <(node -p 'const s=require("./'"$seed"'"); [s.projectId, s.instances[0].id, s.credentials[0].ak, s.credentials[0].sk].join(" ")')
export CLOUD_SDK_AK CLOUD_SDK_SK

node dist/dms-local/main.js --port 0 --seed "$seed" >"$ws/dms-local.log" 2>&1 &
dms_pid=$!
trap 'kill "$dms_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$ws/dms-local.log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$dms_pid" 2>/dev/null || { cat "$ws/dms-local.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "dms-local did not start; see $ws/dms-local.log" >&2; exit 1; }
echo "dms-local is serving the default seed at $url"

cli=(node dist/provider/cli/main.js)
echo
echo "== dms-offsets show: group billing before anything"
"${cli[@]}" show --project-id "$project" --instance-id "$instance" --group billing --endpoint "$url"
echo
echo "== dms-offsets reset: rewind group g-idle on topic orders to offset 100 (the runbook CLI)"
"${cli[@]}" reset --project-id "$project" --instance-id "$instance" --group g-idle --topic orders --offset 100 --endpoint "$url"

# The package as users get it: packed and installed into the workspace, where Pulumi's dynamic-provider
# host will load it by name, beside the @pulumi/pulumi it peers with (the one copy the program, the engine's
# dynamic-provider host and the package share), at the version of the CLI built above.
pulumi_version=$(node -p 'require("./package.json").devDependencies["@pulumi/pulumi"]')
npm pack --silent --pack-destination "$ws" >/dev/null
echo '{"name":"dms-offset-reset-demo","private":true}' >"$ws/package.json"
(cd "$ws" && npm install ./pulumi-dms-offset-reset-*.tgz "@pulumi/pulumi@$pulumi_version" --prefer-offline --no-audit --no-fund --silent)

node examples/demo/run.js "$ws" "$url"
