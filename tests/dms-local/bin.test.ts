// The `dms-local` command as the demo runs it: the built bin (npm test builds before jest), one
// ready line with the URL, the demo seed served, a clean exit on SIGTERM.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadSeed } from "../../dms-local/seed";
import { ShowGroupResponse } from "../../provider/dms/wire";
import { signedCall } from "./helpers";

const BIN = resolve(__dirname, "../../dist/dms-local/main.js");
const DEMO_SEED = resolve(__dirname, "../../dms-local/seed.default.json");

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function readyUrl(r: Run): Promise<string> {
  const line = await new Promise<string>((done, fail) => {
    const check = (): void => {
      if (r.stdout().includes("\n")) done(r.stdout().split("\n")[0] as string);
    };
    r.child.stdout.on("data", check);
    void r.exit.then((code) => fail(new Error(`dms-local exited with ${code} before it was ready: ${r.stderr()}`)));
    check();
  });
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
  if (!url) throw new Error(`no URL in the ready line: ${line}`);
  return url;
}

test("--port 0 prints one line with http://127.0.0.1:PORT, serves the demo seed to signed requests, and exits 0 on SIGTERM", async () => {
  const r = run(["--port", "0", "--task-delay-ms", "50"]);
  const url = await readyUrl(r);
  const seed = await loadSeed(DEMO_SEED);
  const credential = seed.credentials[0]!;
  const instanceId = seed.instances[0]!.id;

  const res = await signedCall(url, {
    method: "GET",
    segments: ["v2", seed.projectId, "instances", instanceId, "groups", "g-busy"],
    credentials: { accessKey: credential.ak, secretKey: credential.sk },
    projectIdHeader: seed.projectId,
  });
  expect(res.status).toBe(200);
  expect(ShowGroupResponse.parse(res.json).group).toMatchObject({ group_id: "g-busy", state: "STABLE" });
  // Admin is off unless asked for.
  expect((await fetch(`${url}/__admin/requests`)).status).toBe(404);

  r.child.kill("SIGTERM");
  expect(await r.exit).toBe(0);
  expect(r.stdout().trim().split("\n")).toHaveLength(1);
});

test("--kafka: a malformed bootstrap is a usage error (exit 2); a broker that does not answer exits 1 naming it", async () => {
  const bad = run(["--kafka", "localhost"]);
  expect(await bad.exit).toBe(2);
  expect(bad.stderr()).toMatch(/--kafka takes HOST:PORT\[,HOST:PORT\.\.\.\], got "localhost"/);
  // Port 1: nothing listens there, the connection is refused at once (kafkajs retries a few times).
  const down = run(["--kafka", "127.0.0.1:1", "--port", "0"]);
  expect(await down.exit).toBe(1);
  expect(down.stderr()).toMatch(/no Kafka broker answers at 127\.0\.0\.1:1: .*ECONNREFUSED/);
  expect(down.stdout()).toBe("");
}, 20_000);

test("a bad option or port value is a usage error (exit 2)", async () => {
  const unknown = run(["--prot", "1"]);
  expect(await unknown.exit).toBe(2);
  expect(unknown.stderr()).toMatch(/usage: dms-local/);
  const port = run(["--port", "eighty"]);
  expect(await port.exit).toBe(2);
  expect(port.stderr()).toMatch(/--port must be a non-negative integer/);
});

test("an invalid seed file is refused with every problem and its path (exit 1)", async () => {
  const file = join(tmpdir(), `dms-local-bad-seed-${process.pid}.json`);
  await writeFile(file, JSON.stringify({ projectId: "p", credentials: [], instances: [{ id: "i", topics: {}, groups: { g: { state: "LOST" } } }] }));
  const r = run(["--seed", file, "--port", "0"]);
  const code = await r.exit;
  await rm(file);
  expect(code).toBe(1);
  expect(r.stderr()).toContain("credentials: at least one credential");
  expect(r.stderr()).toContain("instances.0.groups.g.state");
  expect(r.stdout()).toBe("");
});
