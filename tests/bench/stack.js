// `pulumi up` of many OffsetReset resources against dms-local throttled like DMS's API gateway, next to the
// same number of trivial dynamic resources as a baseline (what the engine and the dynamic-provider host cost
// by themselves). Prints wall times, failures, what the requests were, and the lower bound the limit implies.
//
// Run (builds and packs the package itself; needs the `pulumi` CLI on PATH):
//   export PATH="$(bash tests/e2e/pulumi-cli.sh | tail -n 1):$PATH"
//   node tests/bench/stack.js [--resources 200] [--limit 20] [--parallel N]
// --parallel is handed to `pulumi up`; without it the CLI's default applies (4 × GOMAXPROCS, or PULUMI_PARALLEL).
"use strict";
const os = require("node:os");
const { parseArgs } = require("node:util");
const { createBackend, installPackedProject, openStack, requirePulumiCli } = require("../e2e/harness/pulumi");
const { Seed } = require("../../dist/dms-local/seed.js");
const { startDmsLocal } = require("../../dist/dms-local/server.js");

const { values } = parseArgs({
  options: { resources: { type: "string", default: "200" }, limit: { type: "string", default: "20" }, parallel: { type: "string" } },
});
const RESOURCES = Number(values.resources);
const LIMIT = Number(values.limit);
const PARALLEL = values.parallel === undefined ? undefined : Number(values.parallel);

const CREDENTIALS = { ak: "BENCHSTACKAK00000001", sk: "bench-stack-secret-key-not-real-000001" };
const PROJECT_ID = "b3c5d7e9f1a34b5c8d7e9f0a1b2c3d4e";
const INSTANCE_ID = "be4c0000-0000-4000-8000-00000000be4c";
const timestamps = { base: 1_700_000_000_000, stepMs: 1000 };
const groupName = (i) => `bench-group-${String(i).padStart(3, "0")}`;

/** One instance, a two-partition topic, and one stopped consumer group per resource. */
function benchSeed() {
  const groups = {};
  for (let i = 0; i < RESOURCES; i++) groups[groupName(i)] = { state: "EMPTY", offsets: { "payments/0": 47000, "payments/1": 46000 } };
  return Seed.parse({
    projectId: PROJECT_ID,
    credentials: [{ ak: CREDENTIALS.ak, sk: CREDENTIALS.sk }],
    instances: [
      {
        id: INSTANCE_ID,
        topics: { payments: { partitions: [{ logStartOffset: 0, logEndOffset: 48000, timestamps }, { logStartOffset: 0, logEndOffset: 48000, timestamps }] } },
        groups,
      },
    ],
  });
}

/** Runs `up`, returning wall time, the engine's change summary and the resources whose step failed. */
async function timedUp(stack) {
  const failed = [];
  const onEvent = (e) => {
    if (e.resOpFailedEvent) failed.push(e.resOpFailedEvent.metadata.urn.split("::").pop());
  };
  const started = process.hrtime.bigint();
  let summary;
  let error;
  try {
    const result = await stack.up({ onEvent, ...(PARALLEL !== undefined && { parallel: PARALLEL }) });
    summary = result.summary.resourceChanges;
  } catch (e) {
    error = e;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, summary, failed, error };
}

async function main() {
  const cli = requirePulumiCli();
  const [project, backend] = await Promise.all([installPackedProject(), createBackend("bench-passphrase")]);
  const dms = await startDmsLocal({ seed: benchSeed(), admin: true, taskDelayMs: 100, rateLimitPerSecond: LIMIT });
  const env = { CLOUD_SDK_AK: CREDENTIALS.ak, CLOUD_SDK_SK: CREDENTIALS.sk };
  const projectName = "offset-reset-bench";
  try {
    const pulumi = project.load("@pulumi/pulumi");
    const { OffsetReset } = project.load("pulumi-dms-offset-reset");

    // Baseline: the same number of dynamic resources whose create does nothing but answer.
    const trivial = await openStack(project, backend, {
      projectName,
      stackName: "trivial",
      env,
      program: async () => {
        const provider = { create: async (inputs) => ({ id: `trivial-${inputs.n}`, outs: inputs }) };
        for (let i = 0; i < RESOURCES; i++) new pulumi.dynamic.Resource(provider, `trivial-${i}`, { n: i }, {});
      },
    });
    const baseline = await timedUp(trivial);

    const resets = await openStack(project, backend, {
      projectName,
      stackName: "offset-resets",
      env,
      program: async () => {
        for (let i = 0; i < RESOURCES; i++) {
          new OffsetReset(`rewind-${i}`, {
            endpoint: dms.url,
            projectId: PROJECT_ID,
            instanceId: INSTANCE_ID,
            group: groupName(i),
            topic: "payments",
            timestamp: "2023-11-15T06:00:00Z",
          });
        }
      },
    });
    await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
    const measured = await timedUp(resets);
    const { requests } = await (await fetch(`${dms.url}/__admin/requests`)).json();

    const throttled = requests.filter((r) => r.status === 429).length;
    const answered = requests.filter((r) => r.status !== 429);
    const kinds = new Map();
    for (const r of answered) {
      const last = r.path.split("/").pop();
      const kind = `${r.method} ${last.startsWith("bench-group-") ? "groups/{group}" : last}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const resetsApplied = answered.filter((r) => r.path.endsWith("/reset-message-offset") && r.status < 300).length;
    const perCreate = answered.length / RESOURCES;
    // A sliding one-second window admits LIMIT at once, then LIMIT per second.
    const lowerBound = Math.max(0, answered.length - LIMIT) / LIMIT;
    const beyond = measured.seconds - baseline.seconds;

    const fmt = (s) => `${s.toFixed(1)} s`;
    const summary = (r) => (r.error ? `FAILED (${r.failed.length} resources failed)` : JSON.stringify(r.summary));
    console.log(`pulumi ${cli.version}, node ${process.version}, ${os.cpus().length} CPUs; --parallel ${PARALLEL ?? `default (${process.env.PULUMI_PARALLEL ?? `4 × GOMAXPROCS = ${4 * os.cpus().length}`})`}`);
    console.log(`baseline: ${RESOURCES} trivial dynamic resources: up ${fmt(baseline.seconds)}, ${summary(baseline)}`);
    console.log(`OffsetReset: ${RESOURCES} resources at ${LIMIT} requests/s: up ${fmt(measured.seconds)}, ${summary(measured)}`);
    console.log(`  failures: ${measured.failed.length}${measured.failed.length ? ` (${measured.failed.slice(0, 5).join(", ")}${measured.failed.length > 5 ? ", ..." : ""})` : ""}; resets applied: ${resetsApplied}`);
    console.log(`  requests answered: ${answered.length} (${perCreate.toFixed(2)} per create: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}); throttled (429): ${throttled}`);
    console.log(`  lower bound at ${LIMIT}/s for ${answered.length} requests: ${fmt(lowerBound)} (${fmt(RESOURCES / LIMIT)} if a create were one request)`);
    console.log(`  beyond the baseline: ${fmt(beyond)} = ${(beyond / lowerBound).toFixed(2)} × the lower bound (target <= 1.20)`);
    if (measured.error) console.log(`  first error: ${String(measured.error.message).split("\n").find((l) => l.includes("error:")) ?? measured.error.message.slice(0, 300)}`);
  } finally {
    await dms.close();
    await Promise.all([project.remove(), backend.remove()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
