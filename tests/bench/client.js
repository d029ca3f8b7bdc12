// Sequential resets per second and latency percentiles: our DmsClient against the official SDK's
// ResetMessageOffsetWithEngine, both against the same dms-local (EMPTY group g-idle, topic orders).
// Run: npm run build && node tests/bench/client.js [resets]
// dms-local runs in this process, so every reset costs its client's work plus the same server work on
// one thread: the difference between the two is the clients' own.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..", "..");
const { startDmsLocal } = require(join(root, "dist/dms-local/server.js"));
const { parseSeed } = require(join(root, "dist/dms-local/seed.js"));
const { DmsClient } = require(join(root, "dist/provider/client.js"));
const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core");
const { Logger4jInstance } = require("@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger");
const { KafkaClient, ResetMessageOffsetReq, ResetMessageOffsetWithEngineRequest } = require("@huaweicloud/huaweicloud-sdk-kafka");

const RESETS = Number(process.argv[2] ?? 2000);
const WARM_UP = 500;
const BLOCK = 250;
const GROUP = "g-idle";
const TOPIC = "orders";
Logger4jInstance.level = "off";

function percentile(sortedMs, p) {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1)];
}

/**
 * Both clients warm up, then run in alternating blocks until each has done RESETS: a load spike on this
 * shared machine then hits both alike instead of whichever ran second.
 */
async function measureBoth(clients) {
  for (const reset of Object.values(clients)) for (let i = 0; i < WARM_UP; i++) await reset(i);
  const results = Object.fromEntries(Object.keys(clients).map((name) => [name, { latencies: [], ns: 0n, cpuUs: 0 }]));
  for (let done = 0; done < RESETS; done += BLOCK) {
    for (const [name, reset] of Object.entries(clients)) {
      const r = results[name];
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = done; i < Math.min(done + BLOCK, RESETS); i++) {
        const t = process.hrtime.bigint();
        await reset(i);
        r.latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      r.ns += process.hrtime.bigint() - start;
      const used = process.cpuUsage(cpu);
      r.cpuUs += used.user + used.system;
    }
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const sorted = r.latencies.sort((a, b) => a - b);
      return [name, { perSecond: sorted.length / (Number(r.ns) / 1e9), p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuUs: r.cpuUs / sorted.length }];
    }),
  );
}

async function main() {
  const seedPath = join(root, "dms-local", "seed.default.json");
  const seed = parseSeed(readFileSync(seedPath, "utf8"), seedPath);
  const { ak, sk } = seed.credentials[0];
  const projectId = seed.projectId;
  const instanceId = seed.instances[0].id;

  const dms = await startDmsLocal({ seed: parseSeed(readFileSync(seedPath, "utf8"), seedPath) });
  const url = dms.url;

  const ours = new DmsClient({ endpoint: new URL(url), projectId, credentials: { accessKey: ak, secretKey: sk } });
  const sdk = KafkaClient.newBuilder()
    .withCredential(new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId))
    .withEndpoint(url)
    .build();

  // Offsets cycle inside the partition's retained range so that every reset really moves the group.
  const offsetOf = (i) => 1000 + (i % 5000);
  const resetOurs = (i) => ours.resetMessageOffset({ instanceId, group: GROUP, topic: TOPIC, partition: 0, position: { messageOffset: BigInt(offsetOf(i)) } });
  const resetSdk = async (i) => {
    const res = await sdk.resetMessageOffsetWithEngine(
      new ResetMessageOffsetWithEngineRequest()
        .withInstanceId(instanceId)
        .withGroup(GROUP)
        .withBody(new ResetMessageOffsetReq().withTopic(TOPIC).withPartition(0).withMessageOffset(offsetOf(i))),
    );
    if (res.httpStatusCode !== 204) throw new Error(`SDK reset answered ${res.httpStatusCode}`);
  };

  console.log(`${RESETS} sequential resets each (after ${WARM_UP} warm-up, in alternating blocks of ${BLOCK}), dms-local at ${url}, node ${process.version}`);
  const { ours: a, sdk: b } = await measureBoth({ ours: resetOurs, sdk: resetSdk });
  // CPU per reset (this process: client and dms-local together) moves far less than wall time when
  // other work shares the machine, so it is printed beside the wall-clock figures.
  const row = (name, r) =>
    `${name.padEnd(22)} ${r.perSecond.toFixed(0).padStart(8)} resets/s   p50 ${r.p50.toFixed(3).padStart(7)} ms   p99 ${r.p99.toFixed(3).padStart(7)} ms   CPU ${r.cpuUs.toFixed(0).padStart(4)} µs/reset`;
  console.log(row("ours (DmsClient)", a));
  console.log(row("official SDK", b));
  console.log(
    `throughput ours/SDK ${(a.perSecond / b.perSecond).toFixed(2)}x (target >= 3x)   p99 ours/SDK ${(a.p99 / b.p99).toFixed(2)}x (target <= 0.5x)   ` +
      `p50 ours/SDK ${(a.p50 / b.p50).toFixed(2)}x   CPU ours/SDK ${(a.cpuUs / b.cpuUs).toFixed(2)}x`,
  );

  await ours.close();
  await dms.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
