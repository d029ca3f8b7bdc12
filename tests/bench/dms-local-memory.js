// dms-local's memory under a flood of big requests: `node dist/dms-local/main.js --port 0 --admin` in a
// child process, N requests of 1 MiB each over C connections, the child's RSS sampled from
// /proc/<pid>/status (VmRSS) all along. Prints peak and final RSS, requests/s, and what the request log
// holds at the end. Linux only (/proc).
// Run: npm run build && node tests/bench/dms-local-memory.js [requests] [--connections C] [--mode unsigned|known-ak] [--max-rss-mb M]
//
// --mode unsigned (default): no Authorization header, the traffic the request log must not keep.
// --mode known-ak: an Authorization header naming the demo seed's (published) AK with a wrong
//   signature: dms-local must hold each body until it has checked the signature, so this is the
//   worst case for bodies in flight (capped by BODIES_IN_FLIGHT_BYTES; beyond it, 429).
// --max-rss-mb: exit 1 if the peak RSS goes over it (the bound dms-local/README.md states).
"use strict";
const { spawn } = require("node:child_process");
const { readFileSync } = require("node:fs");
const { loadavg } = require("node:os");
const { join } = require("node:path");
const { parseArgs } = require("node:util");
const { Pool } = require("undici");

const root = join(__dirname, "..", "..");
const { values, positionals } = parseArgs({
  options: {
    connections: { type: "string", default: "8" },
    mode: { type: "string", default: "unsigned" },
    "max-rss-mb": { type: "string" },
    "sample-ms": { type: "string", default: "20" },
  },
  allowPositionals: true,
});
const REQUESTS = Number(positionals[0] ?? 10_000);
const CONNECTIONS = Number(values.connections);
const MODE = values.mode;
if (!["unsigned", "known-ak"].includes(MODE)) throw new Error(`--mode takes unsigned or known-ak, not ${MODE}`);
const MIB = 1024 * 1024;

const seed = JSON.parse(readFileSync(join(root, "dms-local", "seed.default.json"), "utf8"));
const PATH = `/v2/kafka/${seed.projectId}/instances/${seed.instances[0].id}/groups/g-idle/reset-message-offset`;

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/** The bin with the default seed; resolves with the child and its URL once the banner's first line is out. */
function startDmsLocal() {
  const child = spawn(process.execPath, [join(root, "dist/dms-local/main.js"), "--port", "0", "--admin"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("exit", (code) => reject(new Error(`dms-local exited (${code}) before listening: ${out}`)));
    child.stdout.on("data", (c) => {
      out += c;
      const url = /^dms-local listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
  });
}

async function main() {
  const { child, url } = await startDmsLocal();
  const body = Buffer.alloc(MIB, 0x61);
  const headers = { "content-type": "application/json" };
  if (MODE === "known-ak") {
    headers["authorization"] = `SDK-HMAC-SHA256 Access=${seed.credentials[0].ak}, SignedHeaders=host;x-sdk-date, Signature=${"0".repeat(64)}`;
    headers["x-sdk-date"] = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  }
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });

  const idleMb = rssMb(child.pid);
  let peakMb = idleMb;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb(child.pid));
  }, Number(values["sample-ms"]));

  const statuses = new Map();
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < REQUESTS) {
        next += 1;
        const res = await pool.request({ path: PATH, method: "PUT", headers, body });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peakMb = Math.max(peakMb, rssMb(child.pid));
  clearInterval(sampler);
  const finalMb = rssMb(child.pid);

  const log = await (await fetch(`${url}/__admin/requests`)).json();
  await pool.close();
  child.kill("SIGTERM");

  const [load1] = loadavg();
  console.log(`dms-local (pid ${child.pid}), ${REQUESTS} ${MODE} PUTs of 1 MiB over ${CONNECTIONS} connections; load average ${load1.toFixed(2)}`);
  console.log(`  answers: ${[...statuses].map(([s, n]) => `${n} × ${s}`).join(", ")}`);
  console.log(`  ${(REQUESTS / seconds).toFixed(0)} requests/s, ${(REQUESTS / seconds).toFixed(0)} MiB/s, ${seconds.toFixed(1)} s`);
  console.log(`  RSS: idle ${idleMb.toFixed(1)} MB, peak ${peakMb.toFixed(1)} MB, final ${finalMb.toFixed(1)} MB`);
  console.log(`  request log: ${log.requests.length} entries, ${(log.bytes / MIB).toFixed(2)} MiB as it counts them (limits: ${log.limits.entries} entries, ${log.limits.bytes / MIB} MiB)`);
  const max = values["max-rss-mb"] === undefined ? undefined : Number(values["max-rss-mb"]);
  if (max !== undefined && peakMb > max) {
    console.log(`  FAIL: peak RSS ${peakMb.toFixed(1)} MB is over ${max} MB`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
