// The `dms-local` command as the demo runs it: the built bin (npm test builds before jest), a ready
// banner whose first line holds the URL and whose rest says how to talk to it (or one JSON line), the
// demo seed served, a clean exit on SIGTERM, the admin API kept off the network.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { loadSeed } from "../../dms-local/seed";
import { ShowGroupResponse } from "../../provider/dms/wire";
import { signedCall } from "./helpers";

const BIN = resolve(__dirname, "../../dist/dms-local/main.js");
const DEMO_SEED = resolve(__dirname, "../../dms-local/seed.default.json");
const CLI = resolve(__dirname, "../../dist/provider/cli/main.js");

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

test("--port 0: the first line is `dms-local listening on http://127.0.0.1:PORT`; it serves the demo seed to signed requests, and exits 0 on SIGTERM", async () => {
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
  expect(r.stdout().split("\n")[0]).toBe(`dms-local listening on ${url}`);
});

/** Everything printed once ready: the banner is one write, its last line the command to try (or one JSON line). */
async function banner(r: Run): Promise<string> {
  return new Promise<string>((done, fail) => {
    const check = (): void => {
      const out = r.stdout();
      if (/\n {2}try {10}.*\n$/.test(out) || (out.startsWith("{") && out.endsWith("\n"))) done(out);
    };
    r.child.stdout.on("data", check);
    void r.exit.then((code) => fail(new Error(`dms-local exited with ${code} before it was ready: ${r.stderr()}`)));
    check();
  });
}

async function stop(r: Run): Promise<void> {
  r.child.kill("SIGTERM");
  expect(await r.exit).toBe(0);
}

test("the banner says how to talk to it: project, instances with topics and groups (with state), the demo key pair, and a dms-offsets command that works", async () => {
  const r = run(["--port", "0"]);
  const out = await banner(r);
  const seed = await loadSeed(DEMO_SEED);
  const url = /^dms-local listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out)?.[1] as string;
  expect(url).toBeDefined();
  expect(out).toContain(`project id   ${seed.projectId}\n`);
  expect(out).toContain(`instance     ${seed.instances[0]!.id} (kafka-demo)\n`);
  expect(out).toContain("topics     orders (3 partitions), payments (2 partitions)\n");
  expect(out).toContain("groups     g-idle EMPTY, billing EMPTY, g-busy STABLE, g-draining STABLE (EMPTY 30 s after start)\n");
  expect(out).toMatch(/demo-only, never a real key/);
  const exports = /\n {4}export CLOUD_SDK_AK=(\S+) CLOUD_SDK_SK=(\S+)\n/.exec(out);
  expect(exports?.slice(1)).toEqual([seed.credentials[0]!.ak, seed.credentials[0]!.sk]);

  // Paste the two lines: the command runs against this dms-local and shows the group.
  const command = /\n {2}try {10}dms-offsets (show .*)\n$/.exec(out)?.[1] as string;
  expect(command).toBe(`show --endpoint ${url} --project-id ${seed.projectId} --instance-id ${seed.instances[0]!.id} --group g-idle`);
  const shown = await promisify(execFile)(process.execPath, [CLI, ...command.split(" ")], {
    env: { PATH: process.env.PATH, CLOUD_SDK_AK: exports?.[1], CLOUD_SDK_SK: exports?.[2] },
  });
  expect(shown.stdout).toMatch(/^group g-idle on instance .*: EMPTY\n/);
  await stop(r);
});

test("--json prints exactly one JSON line with the same facts, the URL first", async () => {
  const r = run(["--port", "0", "--json", "--admin"]);
  const out = await banner(r);
  const seed = await loadSeed(DEMO_SEED);
  expect(out.split("\n")).toEqual([expect.any(String), ""]);
  expect(out).toMatch(/^\{"url":"http:\/\/127\.0\.0\.1:\d+",/);
  const facts = JSON.parse(out) as Record<string, unknown>;
  expect(facts).toEqual({
    url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    projectId: seed.projectId,
    admin: true,
    seed: DEMO_SEED,
    instances: [
      {
        id: seed.instances[0]!.id,
        name: "kafka-demo",
        topics: [{ name: "orders", partitions: 3 }, { name: "payments", partitions: 2 }],
        groups: [
          { name: "g-idle", state: "EMPTY" },
          { name: "billing", state: "EMPTY" },
          { name: "g-busy", state: "STABLE" },
          { name: "g-draining", state: "STABLE", emptyAfterMs: 30000 },
        ],
      },
    ],
    credentials: [{ ak: seed.credentials[0]!.ak, sk: seed.credentials[0]!.sk, demo: true }],
    example: expect.stringMatching(/^dms-offsets show --endpoint http:/),
  });
  await stop(r);
});

test("a user's seed: the banner gives the AK and where the SK is, never the SK", async () => {
  const file = join(tmpdir(), `dms-local-user-seed-${process.pid}.json`);
  const secret = "user-secret-key-that-must-not-be-printed-0001";
  const seed = JSON.parse(await readFile(DEMO_SEED, "utf8")) as { credentials: { ak: string; sk: string }[] };
  seed.credentials = [{ ak: "USERAKFORREHEARSAL01", sk: secret }];
  await writeFile(file, JSON.stringify(seed));
  try {
    const text = run(["--port", "0", "--seed", file]);
    const out = await banner(text);
    expect(out).toContain(`credentials  AK USERAKFORREHEARSAL01; its SK is credentials[0].sk in ${file} (not printed)\n`);
    expect(out).not.toContain(secret);
    expect(out).not.toContain("export CLOUD_SDK_SK");
    await stop(text);

    const json = run(["--port", "0", "--seed", file, "--json"]);
    const line = await banner(json);
    expect(line).not.toContain(secret);
    expect((JSON.parse(line) as { credentials: unknown }).credentials).toEqual([{ ak: "USERAKFORREHEARSAL01", demo: false, sk: null, skIn: `${file}#credentials[0].sk` }]);
    await stop(json);
  } finally {
    await rm(file);
  }
});

test("--admin on a non-loopback --host is refused (exit 2) unless --admin-on-network, which warns on stderr", async () => {
  const refused = run(["--host", "0.0.0.0", "--admin", "--port", "0"]);
  expect(await refused.exit).toBe(2);
  expect(refused.stderr()).toMatch(/--admin on --host 0\.0\.0\.0 would let anyone who reaches the port .* add --admin-on-network/);
  expect(refused.stdout()).toBe("");

  const alone = run(["--admin-on-network", "--port", "0"]);
  expect(await alone.exit).toBe(2);
  expect(alone.stderr()).toMatch(/--admin-on-network only goes with --admin/);

  const open = run(["--host", "0.0.0.0", "--admin", "--admin-on-network", "--port", "0"]);
  const out = await banner(open);
  const port = /^dms-local listening on http:\/\/0\.0\.0\.0:(\d+) \(admin API on\)\n/.exec(out)?.[1];
  expect(port).toBeDefined();
  expect(open.stderr()).toMatch(/^dms-local: WARNING: the unsigned admin API is open to the network at http:\/\/0\.0\.0\.0:\d+\/__admin\//m);
  // The command to try goes through loopback.
  expect(out).toContain(`dms-offsets show --endpoint http://127.0.0.1:${port} `);
  expect((await fetch(`http://127.0.0.1:${port}/__admin/faults`)).status).toBe(200);
  await stop(open);
});

test("--help names every option, --admin-on-network and --json included", async () => {
  const r = run(["--help"]);
  expect(await r.exit).toBe(0);
  for (const option of ["--port", "--host", "--seed", "--kafka", "--admin", "--admin-on-network", "--task-delay-ms", "--json"]) expect(r.stdout()).toContain(option);
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
