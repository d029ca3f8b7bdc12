#!/usr/bin/env bash
# `npm run demo`: on a fresh machine, rehearse rewinds end to end against dms-local (the default seed, in
# memory): the runbook CLI refusing a group whose consumers still run, waiting for one whose consumers are
# stopping, and showing a plan before it rewinds (and undoes) one; then the quickstart Pulumi program in a
# project directory, as users run it: pulumi preview shows the plan, pulumi up applies it, and a changed
# incident time is previewed as a replacement with its new plan.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DIY_BACKEND_GZIP=false
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
pulumi_bin=$(bash tests/e2e/pulumi-cli.sh "$root" | tail -n 1)
export PATH="$pulumi_bin:$PATH"

# A fresh workspace each run: the stack's state, Pulumi's home, the project and dms-local's log live here.
ws="$root/.demo"
rm -rf "$ws" && mkdir -p "$ws/state" "$ws/project"
export PULUMI_HOME="$ws/pulumi-home" PULUMI_BACKEND_URL="file://$ws/state"

seed=dms-local/seed.default.json
# The default seed's key pair is published and demo-only; dms-local accepts nothing else.
read -r project instance CLOUD_SDK_AK CLOUD_SDK_SK < <(node -p 'const s=require("./'"$seed"'"); [s.projectId, s.instances[0].id, s.credentials[0].ak, s.credentials[0].sk].join(" ")')
export CLOUD_SDK_AK CLOUD_SDK_SK

# --admin: the demo plays the operator who stops a group's consumers (below).
node dist/dms-local/main.js --port 0 --seed "$seed" --admin >"$ws/dms-local.log" 2>&1 &
dms_pid=$!
trap 'kill "$dms_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$ws/dms-local.log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$dms_pid" 2>/dev/null || { cat "$ws/dms-local.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "dms-local did not start; see $ws/dms-local.log" >&2; exit 1; }
sleep 0.2 && cat "$ws/dms-local.log"

step() { printf '\n== %s\n' "$*"; }
cli() { printf '$ dms-offsets %s\n' "$*"; node dist/provider/cli/main.js "$@"; }
where=(--project-id "$project" --instance-id "$instance" --endpoint "$url")

step "1. A refusal: group g-busy still has running consumers, so nothing is sent"
cli reset "${where[@]}" --group g-busy --topic orders --to-earliest --yes || echo "(exit $?: refused before any reset was sent)"

step "2. A wait that succeeds: g-draining's consumers are being stopped; their sessions time out in 4 s"
curl -fsS -X POST -d '{"afterMs": 4000}' "$url/__admin/instances/$instance/groups/g-draining/stop-consumers" >/dev/null
cli reset "${where[@]}" --group g-draining --topic payments --shift-by -500 --wait-inactive 60 --yes

step "3. Plan, apply, undo: group billing back to the incident, 2023-11-15T06:00:00Z"
cli plan "${where[@]}" --group billing --topic payments --timestamp 2023-11-15T06:00:00Z
cli reset "${where[@]}" --group billing --topic payments --timestamp 2023-11-15T06:00:00Z --save-before "$ws/billing-before.csv" --yes
cli reset "${where[@]}" --group billing --from-file "$ws/billing-before.csv" --yes

# The package as users get it: packed and installed into a project directory, beside the @pulumi/pulumi it
# peers with (the one copy the program and the engine's dynamic-provider host share), at the CLI's version.
pulumi_version=$(node -p 'require("./package.json").devDependencies["@pulumi/pulumi"]')
npm pack --silent --pack-destination "$ws" >/dev/null
cd "$ws/project"
echo '{"name":"dms-offset-reset-demo","private":true,"main":"index.js"}' >package.json
npm install "$ws"/pulumi-dms-offset-reset-*.tgz "@pulumi/pulumi@$pulumi_version" --prefer-offline --no-audit --no-fund --silent
# The quickstart is TypeScript; the demo runs it as JavaScript (the test suite type-checks it).
node -e 'const ts = require(process.argv[1]); const fs = require("fs");
  fs.writeFileSync("index.js", ts.transpileModule(fs.readFileSync(process.argv[2], "utf8"), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);' \
  "$root/node_modules/typescript" "$root/examples/quickstart/index.ts"
printf 'name: dms-offset-reset-quickstart\nruntime: nodejs\n' >Pulumi.yaml
pulumi stack init demo --non-interactive >/dev/null
pulumi config set endpoint "$url" >/dev/null

step "4. The same rewind as code: pulumi preview shows every partition's move, and sends nothing"
pulumi config set timestamp 2023-11-15T06:00:00Z >/dev/null
pulumi preview --non-interactive
step "   pulumi up: the plan again, the reset, the offsets before (the undo record) and after"
pulumi up --yes --non-interactive --skip-preview
pulumi stack output --json | node -e 'const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const [name, rows] of [["previousOffsets", o.previousOffsets], ["appliedOffsets", o.appliedOffsets]])
    console.log(`${name}: ${rows.map((r) => `${r.topic}/${r.partition}=${r.messageCurrentOffset}`).join(", ")}`);'

step "5. The runbook moves the incident to 04:30: pulumi preview shows a replacement and its new plan"
pulumi config set timestamp 2023-11-15T04:30:00Z >/dev/null
pulumi preview --non-interactive
pulumi up --yes --non-interactive --skip-preview >/dev/null
echo "applied; the stack's state and history are in $ws/state (passphrase: \$PULUMI_CONFIG_PASSPHRASE)"
