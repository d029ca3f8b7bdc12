// The built `dms-offsets` bin as a user runs it: a separate node process, its environment the only input.
// Needs `npm run build` first (tests/run.sh does it).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fakeDmsHandler } from "../client/fake-dms";
import { startFakeServer, type FakeServer } from "../client/fake-server";
import { startProxy, type CountingProxy } from "../client/proxy";
import { selfSignedCertificate } from "../client/tls";

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

test("dms-offsets show over https through HTTPS_PROXY, trusting the endpoint's CA via NODE_EXTRA_CA_CERTS", async () => {
  const tls = selfSignedCertificate();
  const server = await startFakeServer(fakeDmsHandler({ states: ["EMPTY"], members: [], offsets: new Map([["orders", [7n]]]), tasks: [] }), tls);
  const proxy = await startProxy();
  closers.push(server, proxy);
  const env = { CLOUD_SDK_AK: "AK-BIN", CLOUD_SDK_SK: "SK-BIN", HW_PROJECT_ID: "proj-1", HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: tls.certPath };
  const r = await runBin(["show", "--instance-id", "inst-1", "--group", "g1", "--endpoint", server.url, "--json"], env);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(JSON.parse(r.stdout)).toMatchObject({ state: "EMPTY", offsets: [{ topic: "orders", partition: 0, messageCurrentOffset: "7" }] });
  expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(server.url).host}`]));

  const bad = await runBin(["reset", "--instance-id", "inst-1", "--group", "g1", "--endpoint", server.url, "--partition", "-3", "--offset", "1"], env);
  expect(bad).toMatchObject({ code: 2, stdout: "" });
  expect(bad.stderr).toBe("dms-offsets: --partition: partition must be -1 (every partition) or a partition number >= 0\n");
  expect(server.received.filter((q) => q.method !== "GET")).toHaveLength(0);
});
