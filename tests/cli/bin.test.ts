// The built `dms-offsets` bin as a user runs it: a separate node process, its environment the only input.
// Needs `npm run build` first (tests/run.sh does it).
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeDmsHandler } from "../client/fake-dms";
import { startFakeServer, type FakeServer } from "../client/fake-server";
import { startProxy, type CountingProxy } from "../client/proxy";

const bin = join(__dirname, "..", "..", "dist", "provider", "cli", "main.js");

function runBin(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

const closers: (FakeServer | CountingProxy)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0)) await c.close();
});

test("the bin starts with a node shebang", () => {
  expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
});

/** Not loopback, so proxied; only the test proxy resolves it (to this machine). */
const PROXIED_NAME = "dms.proxied.test";

/** A throwaway self-signed certificate for PROXIED_NAME and 127.0.0.1, made with the system's openssl. */
function certificateForProxiedName(): { key: string; cert: string; certPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "dms-offsets-bin-tls-"));
  const [keyPath, certPath] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", `/CN=${PROXIED_NAME}`, "-addext", `subjectAltName=DNS:${PROXIED_NAME},IP:127.0.0.1`],
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8"), certPath };
}

test("dms-offsets show over https through HTTPS_PROXY, trusting the endpoint's CA via NODE_EXTRA_CA_CERTS; a loopback endpoint is never proxied", async () => {
  const tls = certificateForProxiedName();
  const server = await startFakeServer(fakeDmsHandler({ states: ["EMPTY"], members: [], offsets: new Map([["orders", [7n]]]), tasks: [] }), tls);
  const proxy = await startProxy({ [PROXIED_NAME]: "127.0.0.1" });
  closers.push(server, proxy);
  const env = { CLOUD_SDK_AK: "AK-BIN", CLOUD_SDK_SK: "SK-BIN", HW_PROJECT_ID: "proj-1", HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: tls.certPath };
  const proxied = server.url.replace("127.0.0.1", PROXIED_NAME);
  const r = await runBin(["show", "--instance-id", "inst-1", "--group", "g1", "--endpoint", proxied, "--json"], env);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  // One JSON object per line: the warnings about the IDs' shapes, then the group.
  const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l.type)).toEqual(["warning", "warning", "group"]);
  expect(lines[2]).toMatchObject({ state: "EMPTY", offsets: [{ topic: "orders", partition: 0, messageCurrentOffset: "7" }] });
  expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(proxied).host}`]));

  proxy.seen.length = 0;
  const direct = await runBin(["show", "--instance-id", "inst-1", "--group", "g1", "--endpoint", server.url, "--json"], env);
  expect(direct).toMatchObject({ code: 0, stderr: "" });
  expect(proxy.seen).toEqual([]);

  const before = server.received.length;
  const bad = await runBin(["reset", "--instance-id", "inst-1", "--group", "g1", "--endpoint", proxied, "--partition", "-3", "--offset", "1"], env);
  expect(bad).toMatchObject({ code: 2, stdout: "" });
  expect(bad.stderr).toBe("dms-offsets: --partition must be -1 (every partition) or a partition number\n");
  expect(server.received.length).toBe(before);
  expect(proxy.seen).toEqual([]);
});

test("a group name that is not valid text in argv arrives as U+FFFD and is refused, nothing sent", async () => {
  const server = await startFakeServer(fakeDmsHandler({ states: ["EMPTY"], members: [], offsets: new Map([["orders", [7n]]]), tasks: [] }));
  closers.push(server);
  const env = { CLOUD_SDK_AK: "AK-BIN", CLOUD_SDK_SK: "SK-BIN", HW_PROJECT_ID: "proj-1" };
  // Node cannot pass a lone surrogate to a process: it encodes it as U+FFFD (EF BF BD), which is what
  // the CLI's argv then holds. Undetected, the reset would go to the group "g\uFFFD", not the one meant.
  const r = await runBin(["plan", "--instance-id", "inst-1", "--group", "g\uD800", "--endpoint", server.url, "--to-earliest"], env);
  expect(r).toMatchObject({ code: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dms-offsets: --group "g\uFFFD" holds U\+FFFD, the replacement character: .*pass the name as UTF-8\n$/);
  expect(server.received).toHaveLength(0);
  expect(server.connections()).toBe(0);
});
