#!/usr/bin/env bash
# The whole test suite from a fresh clone: install, build, start what the tests need (a Kafka broker,
# a Pulumi CLI built from Go modules), run jest, stop what was started. `npm test` and CI run this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DIY_BACKEND_GZIP=false KAFKAJS_NO_PARTITIONER_WARNING=1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
npm run --silent typecheck   # jest transpiles without type-checking; the tests are checked here

# Pulumi's CLI, built once from Go modules and cached; its bin dir also holds the dynamic-provider launcher.
pulumi_bin=$(bash tests/e2e/pulumi-cli.sh "$root" | tail -n 1)
export PATH="$pulumi_bin:$PATH"
# A Python venv with the Pulumi SDK (Automation API), and the SDK generator for package schemas; both built
# once and cached. Plain assignments, then export: `export X=$(...)` would hide a failed build (export's
# own status is 0), and a missing tool must stop the run here.
DMS_PYTHON_VENV=$(bash tests/e2e/python-env.sh "$root" | tail -n 1)
DMS_SDKGEN=$(bash tools/sdkgen/build.sh | tail -n 1)
export DMS_PYTHON_VENV DMS_SDKGEN

# Stop the broker at the end only if this run started it: another run on the machine may be using it.
if bash tests/kafka/broker.sh status >/dev/null 2>&1; then started_broker=0; else started_broker=1; fi
if [ "$started_broker" = 1 ]; then trap 'bash tests/kafka/broker.sh stop >/dev/null 2>&1 || true' EXIT; fi
# A plain assignment first: `eval "$(...)"` would go on with nothing exported when the broker fails to start.
broker_env=$(bash tests/kafka/broker.sh start | grep '^KAFKA_BOOTSTRAP=') || { echo "run.sh: the Kafka broker did not start (see above)" >&2; exit 1; }
eval "$broker_env"
export KAFKA_BOOTSTRAP

results=$(mktemp)
status=0
npx jest --runInBand --json --outputFile="$results" "$@" || status=$?
# CI reads a plain closing line; jest's own summary is not one it knows.
# (JSON.parse, not require: the temp file has no .json extension, so require would parse it as JavaScript.)
node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$results"
rm -f "$results"
exit "$status"
