// The path a real `pulumi up` takes, minus the CLI: the package packed and installed into a program's
// node_modules, the program's resource serialized by Pulumi, and that `__provider` run by Pulumi's own
// dynamic-provider host, driven over gRPC against dms-local. Requests are counted in dms-local's log and
// resets in its application counter.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { installPackedProject, type PackedProject } from "../e2e/harness/pulumi";
import { FakeEngine } from "./harness/fake-engine";
import { initFailureOf, ProviderHost } from "./harness/provider-host";
import { serializeInProject } from "./harness/serialize-in-project";

jest.setTimeout(120_000);

const seed = parseSeed(readFileSync(path.resolve(__dirname, "../../dms-local/seed.default.json"), "utf8"));
const demo = seed.credentials[0] as { ak: string; sk: string };
const projectId = seed.projectId;
const instanceId = (seed.instances[0] as { id: string }).id;
const TOKEN = "host-test-security-token-0001";
const URN = "urn:pulumi:dev::packed-program::pulumi-nodejs:dynamic/dms:OffsetReset::packed";
const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

let project: PackedProject;
let dms: DmsLocal;
let host: ProviderHost;
let engine: FakeEngine;
let serialized: string;

/** The rewind the program declares; the program also gives a security token, which `declared()` leaves out. */
const rewindArgs = () => ({
  endpoint: dms.url,
  projectId,
  instanceId,
  group: "billing",
  topic: "payments",
  timestamp: "2023-11-15T06:00:00Z",
  accessKey: demo.ak,
  secretKey: demo.sk,
});

/**
 * The program's inputs, as the engine sends them to the provider during `up` (secrets unwrapped: the host
 * does not accept them; `__preview` as the SDK sets it, false outside a preview).
 */
const declared = (): Record<string, unknown> => ({ ...rewindArgs(), __provider: serialized, __preview: false });

interface Logged { method: string; path: string }
async function requests(): Promise<Logged[]> {
  return ((await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: Logged[] }).requests;
}
async function resets(): Promise<number> {
  return (await requests()).filter((r) => r.path.endsWith("/reset-message-offset")).length;
}
async function clearLog(): Promise<void> {
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
}
const writes = async () => (await requests()).filter((r) => r.method !== "GET");
async function fault(rule: Record<string, unknown>): Promise<void> {
  expect((await fetch(`${dms.url}/__admin/faults`, { method: "POST", body: JSON.stringify(rule) })).status).toBe(201);
}

beforeAll(async () => {
  project = await installPackedProject();
  dms = await startDmsLocal({ seed, port: 0, admin: true, taskDelayMs: 100 });
  const registered = await serializeInProject(project, { ...rewindArgs(), securityToken: TOKEN });
  expect(registered.type).toBe("pulumi-nodejs:dynamic/dms:OffsetReset");
  serialized = registered.provider;
  // The engine's environment, without any DMS credential: the ones used here come from inputs or config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CLOUD_SDK_|HW_)/.test(k)));
  engine = await FakeEngine.start();
  host = await ProviderHost.start(project.dir, { ...env, PULUMI_NODEJS_PROJECT: "packed-program" }, engine.address);
}, 600_000);

afterAll(async () => {
  await host?.stop();
  await engine?.stop();
  await dms?.close();
  await project?.remove();
});

test("the installed package's __provider is a small loader holding no credential", () => {
  const bytes = Buffer.byteLength(serialized);
  console.log(`__provider serialized from the packed package: ${bytes} bytes`);
  expect(bytes).toBeLessThanOrEqual(20 * 1024);
  for (const value of [demo.ak, demo.sk, TOKEN]) expect(serialized).not.toContain(value);
  expect(serialized).toContain('require("pulumi-dms-offset-reset/dist/provider/resource/provider.js")');
});

test("Check, Diff, Create, Update, Read and Delete through Pulumi's dynamic-provider host", async () => {
  // The engine configures the provider with the stack's configuration, secrets wrapped.
  await host.configure({ "dms-offset-reset:accessKey": demo.ak, "dms-offset-reset:secretKey": secret(demo.sk) });

  // Check: bad inputs fail by property, before any request.
  const bad = await host.check(URN, {}, { ...declared(), partition: -7 });
  expect(bad.failures).toEqual([{ property: "partition", reason: expect.stringMatching(/-1/) }]);
  const both = await host.check(URN, {}, { ...declared(), messageOffset: 10 });
  expect(both.failures).toEqual([{ property: "timestamp", reason: expect.stringMatching(/both/) }]);
  // Preview: values not known yet pass, and the plan waits for them.
  const pending = await host.check(URN, {}, { ...declared(), __preview: true, group: pulumi.runtime.unknownValue });
  expect(pending.failures).toEqual([]);
  expect(pending.inputs.group).toBe(pulumi.runtime.unknownValue);
  expect(pending.inputs.plan).toEqual({ unknown: "plan unknown until group is known" });
  expect(await requests()).toHaveLength(0);
  // Preview of the create: the plan, by reads only, as an input, and logged.
  const previewed = await host.check(URN, {}, { ...declared(), __preview: true });
  expect(previewed.failures).toEqual([]);
  expect(previewed.inputs).not.toHaveProperty("__preview");
  expect(previewed.inputs.plan).toMatchObject({ partitions: [{ partition: 0, current: "47990", target: "28000" }, { partition: 1, current: "47950", target: "28000" }] });
  expect((await requests()).length).toBeGreaterThan(0);
  expect(await writes()).toEqual([]);
  // The plan reaches the engine's Log RPC as one info message (the host itself never connects pulumi.log).
  expect(engine.of("info")).toEqual([expect.stringMatching(/^OffsetReset of group billing: plan for group billing on instance .*\nTOPIC +PARTITION +COMMITTED/)]);
  engine.clear();
  await clearLog();
  // The check of `up`: nothing read.
  const checked = await host.check(URN, {}, declared());
  expect(checked.failures).toEqual([]);
  expect(checked.inputs).toMatchObject({ timestamp: Date.parse("2023-11-15T06:00:00Z"), partition: -1, __provider: serialized });
  expect(checked.inputs).not.toHaveProperty("plan");
  expect(checked.inputs).not.toHaveProperty("__preview");
  expect(await requests()).toHaveLength(0);

  // Create: exactly one reset.
  const created = await host.create(URN, checked.inputs);
  expect(await resets()).toBe(1);
  expect(created.id).toBe(created.properties.requestId);
  expect(created.properties).toMatchObject({
    group: "billing",
    outcome: "applied",
    plan: { partitions: [{ partition: 0, target: "28000" }, { partition: 1, target: "28000" }] },
    previousOffsets: [{ partition: 0, messageCurrentOffset: "47990" }, { partition: 1, messageCurrentOffset: "47950" }],
    appliedOffsets: [{ partition: 0, messageCurrentOffset: "28000" }, { partition: 1, messageCurrentOffset: "28000" }],
  });
  const outputsText = JSON.stringify({ ...created.properties, __provider: undefined });
  for (const value of [demo.ak, demo.sk]) expect(outputsText).not.toContain(value);
  await clearLog();

  // Diff: the same rewind spelled in epoch ms is no change; a new time replaces; nothing is sent.
  const respelled = await host.check(URN, checked.inputs, { ...declared(), timestamp: Date.parse("2023-11-15T06:00:00Z") });
  expect(await host.diff(URN, created.id, created.properties, respelled.inputs)).toEqual({ changes: "none", replaces: [] });
  const moved = await host.check(URN, checked.inputs, { ...declared(), timestamp: "2023-11-15T07:00:00Z" });
  expect(await host.diff(URN, created.id, created.properties, moved.inputs)).toEqual({ changes: "some", replaces: ["timestamp"] });
  const rotated = await host.check(URN, checked.inputs, { ...declared(), accessKey: undefined, secretKey: undefined });
  expect(rotated.failures).toEqual([]);
  expect(await host.diff(URN, created.id, created.properties, rotated.inputs)).toEqual({ changes: "none", replaces: [] });
  expect(await requests()).toHaveLength(0);

  // A preview in which the resource does not change reads nothing.
  const unchanged = await host.check(URN, checked.inputs, { ...declared(), __preview: true });
  expect(await host.diff(URN, created.id, created.properties, unchanged.inputs)).toEqual({ changes: "none", replaces: [] });
  expect(await requests()).toHaveLength(0);

  // Update with new triggers: the consumers ran on since, and the same rewind runs again, exactly one reset.
  await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 1, offset: 40000n }]);
  const triggered = await host.check(URN, checked.inputs, { ...declared(), triggers: ["run-2"] });
  expect(await host.diff(URN, created.id, created.properties, triggered.inputs)).toEqual({ changes: "some", replaces: [] });
  const updated = await host.update(URN, created.id, created.properties, triggered.inputs);
  expect(await resets()).toBe(1);
  expect(updated.requestId).not.toBe(created.properties.requestId);
  expect(updated.triggers).toEqual(["run-2"]);
  expect(updated.previousOffsets).toMatchObject([{ partition: 0, messageCurrentOffset: "28000" }, { partition: 1, messageCurrentOffset: "40000" }]);
  expect(updated.outcome).toBe("applied");
  await clearLog();

  // Read (refresh): credentials from the stack configuration, live offsets, no reset, no diff afterwards.
  await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 0, offset: 30000n }]);
  const read = await host.read(URN, created.id, updated);
  expect(read.id).toBe(created.id);
  expect(read.properties.currentOffsets).toMatchObject([{ partition: 0, messageCurrentOffset: "30000" }, { partition: 1, messageCurrentOffset: "28000" }]);
  expect(await resets()).toBe(0);
  // The drift is a warning to the engine, naming the partition.
  expect(engine.of("warning")).toEqual([expect.stringMatching(/^OffsetReset of group billing: the group is no longer where the last reset \(.*\) left it: payments\/0: 28000 → 30000$/)]);
  expect(await host.diff(URN, read.id, read.properties, triggered.inputs)).toEqual({ changes: "none", replaces: [] });
  await clearLog();

  // Delete: nothing sent; the engine is told why.
  engine.clear();
  await host.delete(URN, created.id, read.properties);
  expect(await requests()).toHaveLength(0);
  expect(engine.of("info")).toEqual([expect.stringMatching(/nothing was sent to DMS: committed offsets cannot be un-reset/)]);
  // Every message went to the engine; nothing was printed past the port.
  expect(host.printed()).not.toMatch(/\[runtime\]/);
  for (const value of [demo.ak, demo.sk, TOKEN]) {
    expect(host.printed()).not.toContain(value);
    expect(JSON.stringify(engine.messages)).not.toContain(value);
  }
});

test("a create that sent its reset and then failed comes back through the host as ErrorResourceInitFailed, carrying the state to record", async () => {
  await host.configure({ "dms-offset-reset:accessKey": demo.ak, "dms-offset-reset:secretKey": secret(demo.sk) });
  const news = { ...declared(), group: "g-idle", topic: "orders" };
  const checked = await host.check(URN, {}, news);
  expect(checked.failures).toEqual([]);
  // The plan's read of the group's offsets passes; the reset applies and its answer is lost; reading back is refused.
  await fault({ count: 1, hangMs: 0, match: { method: "GET", pathIncludes: "/groups/g-idle/message-offset" } });
  await fault({ count: 1, drop: true, after: true, match: { method: "PUT", pathIncludes: "/groups/g-idle/reset-message-offset" } });
  await fault({ count: 1, status: 403, match: { method: "GET", pathIncludes: "/groups/g-idle/message-offset" } });

  const error = await host.create(URN, checked.inputs).then(() => undefined, (e: unknown) => e);
  expect(dms.applications(instanceId, "g-idle").count).toBe(1);
  const failure = initFailureOf(error);
  expect(failure).toBeDefined();
  expect(failure?.reasons).toEqual([expect.stringMatching(/OUTCOME UNKNOWN.*Offsets before the reset \(to undo, rewind to these\): orders\/0=119000, orders\/1=118200, orders\/2=121000$/)]);
  expect(failure?.properties).toMatchObject({
    group: "g-idle",
    outcome: "unknown",
    previousOffsets: [{ partition: 0, messageCurrentOffset: "119000" }, { partition: 1, messageCurrentOffset: "118200" }, { partition: 2, messageCurrentOffset: "121000" }],
    plan: { partitions: [{ partition: 0, target: "28000" }, { partition: 1, target: "28000" }, { partition: 2, target: "28000" }] },
    // The recorded state can still be read, updated and deleted by this provider.
    __provider: serialized,
  });
  for (const value of [demo.ak, demo.sk, TOKEN]) expect(JSON.stringify(failure)).not.toContain(value);
});
