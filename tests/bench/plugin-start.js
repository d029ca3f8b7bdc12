// Cold start of the two front doors, as the engine starts them: the provider plugin
// (pulumi-resource-dms-offset-reset, as the packed package installs it) and Pulumi's dynamic-provider host
// (the pulumi-resource-pulumi-nodejs launcher of @pulumi/pulumi) loading the packed package's `__provider`.
// For each: spawn → port printed → Configure and the first Check answered (the engine configures a provider
// before its first Check). Check validates the same rewind in both (the dynamic one told it is not a preview,
// so that neither reads DMS). Prints each run and the median and minimum per front door.
//
// Run (builds and packs the package itself):
//   node tests/bench/plugin-start.js [--runs 5]
"use strict";
const { execFile, spawn } = require("node:child_process");
const { existsSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { parseArgs, promisify } = require("node:util");
const grpc = require("@grpc/grpc-js");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { EngineService } = require("@pulumi/pulumi/proto/engine_grpc_pb");
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");
const proto = require("@pulumi/pulumi/proto/provider_pb");
const { installPackedProject } = require("../e2e/harness/pulumi");

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const run = promisify(execFile);

const CREDENTIALS = { ak: "BENCHSTARTAK00000001", sk: "bench-start-secret-key-not-real-01" };
const INPUTS = {
  endpoint: "http://127.0.0.1:18080",
  projectId: "b3c5d7e9f1a34b5c8d7e9f0a1b2c3d4e",
  instanceId: "be4c0000-0000-4000-8000-00000000be4c",
  group: "billing",
  topic: "payments",
  timestamp: "2023-11-15T06:00:00Z",
};
const URN = (type) => `urn:pulumi:dev::bench::${type}::start`;

/** A stand-in engine: answers the Log RPC. */
async function startEngine() {
  const server = new grpc.Server();
  server.addService(EngineService, { log: (_call, callback) => callback(null, new Empty()) });
  const port = await new Promise((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.tryShutdown(resolve)) };
}

/** The `__provider` Pulumi serializes for an OffsetReset of the installed package (under mocks, as in host.test.ts). */
async function serializedProvider(project) {
  const file = path.join(project.dir, "serialize.js");
  writeFileSync(
    file,
    `const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks({
  newResource(r) { if (r.type.endsWith(":OffsetReset")) process.stdout.write(JSON.stringify(r.inputs.__provider) + "\\n"); return { id: "id", state: {} }; },
  call: (c) => c.inputs,
}, "bench", "dev", false).then(() => {
  const { OffsetReset } = require("pulumi-dms-offset-reset");
  new OffsetReset("start", ${JSON.stringify({ ...INPUTS, accessKey: CREDENTIALS.ak, secretKey: CREDENTIALS.sk })});
});`,
  );
  const { stdout } = await run("node", [file], { cwd: project.dir, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").pop());
}

const unary = (call) => new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));
const ms = (from) => Number(process.hrtime.bigint() - from) / 1e6;

/** Spawns `command args`, waits for the port line, then Configure and the first Check. Returns the times in ms. */
async function coldStart({ command, args, cwd, type, news, config }) {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  try {
    const port = await new Promise((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (c) => {
        text += c;
        const newline = text.indexOf("\n");
        if (newline >= 0) resolve(Number(text.slice(0, newline).trim()));
      });
      child.once("exit", (code) => reject(new Error(`${command} exited with ${code} before printing a port: ${stderr}`)));
    });
    const portMs = ms(started);
    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    await unary((cb) => client.configure(new proto.ConfigureRequest().setArgs(Struct.fromJavaScript(config)).setAcceptsecrets(true).setType("pulumi:providers:dms-offset-reset"), cb));
    const res = await unary((cb) => client.check(new proto.CheckRequest().setUrn(URN(type)).setType(type).setOlds(Struct.fromJavaScript({})).setNews(Struct.fromJavaScript(news)), cb));
    const checkMs = ms(started);
    client.close();
    const failures = res.getFailuresList().map((f) => `${f.getProperty()}: ${f.getReason()}`);
    if (failures.length > 0) throw new Error(`Check failed: ${failures.join("; ")}`);
    return { portMs, checkMs };
  } finally {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  console.log("building, packing and installing the package...");
  const project = await installPackedProject();
  const engine = await startEngine();
  try {
    const installed = path.join(project.dir, "node_modules/.bin/pulumi-resource-dms-offset-reset");
    const plugin = existsSync(installed)
      ? { command: installed, args: [engine.address], label: "plugin (node_modules/.bin/pulumi-resource-dms-offset-reset)" }
      : { command: process.execPath, args: [path.resolve(__dirname, "../../dist/provider/plugin/main.js"), engine.address], label: "plugin (dist/provider/plugin/main.js: the packed package has no bin for it)" };
    const provider = await serializedProvider(project);
    const config = { "dms-offset-reset:accessKey": CREDENTIALS.ak, "dms-offset-reset:secretKey": CREDENTIALS.sk };
    const doors = [
      { ...plugin, cwd: project.dir, type: "dms-offset-reset:index:OffsetReset", news: INPUTS, config: { accessKey: CREDENTIALS.ak, secretKey: CREDENTIALS.sk } },
      {
        label: "dynamic provider (pulumi-resource-pulumi-nodejs, packed __provider)",
        command: "sh",
        args: [path.join(project.dir, "node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"), engine.address],
        cwd: project.dir,
        type: "pulumi-nodejs:dynamic/dms:OffsetReset",
        news: { ...INPUTS, __provider: provider, __preview: false },
        config,
      },
    ];
    const results = new Map(doors.map((d) => [d.label, []]));
    for (let i = 0; i < RUNS; i++) {
      // Alternating, so that the machine's load falls on both alike.
      for (const door of doors) {
        const r = await coldStart(door);
        results.get(door.label).push(r);
        console.log(`run ${i + 1} ${door.label}: port after ${r.portMs.toFixed(0)} ms, first Check answered after ${r.checkMs.toFixed(0)} ms`);
      }
    }
    console.log(`\ncold start over ${RUNS} runs (median / min), spawn → port printed, spawn → Configure + first Check answered:`);
    for (const [label, rs] of results) {
      const port = rs.map((r) => r.portMs);
      const check = rs.map((r) => r.checkMs);
      console.log(`  ${label}\n    port ${median(port).toFixed(0)} / ${Math.min(...port).toFixed(0)} ms; first Check ${median(check).toFixed(0)} / ${Math.min(...check).toFixed(0)} ms`);
    }
    console.log(`load average: ${require("node:os").loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    await engine.stop();
    await project.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
