// The path a real `pulumi up` takes, minus the CLI: the package packed and installed into a program's
// node_modules, the program's resource serialized by Pulumi, and that `__provider` run by Pulumi's own
// dynamic-provider host, driven over gRPC against dms-local. Requests are counted in dms-local's log.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { installPackedProject, type PackedProject } from "../e2e/harness/pulumi";
import { ProviderHost } from "./harness/provider-host";
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

/** The program's inputs, as the engine sends them to the provider (secrets unwrapped: the host does not accept them). */
const declared = (): Record<string, unknown> => ({ ...rewindArgs(), __provider: serialized });

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

beforeAll(async () => {
  project = await installPackedProject();
  dms = await startDmsLocal({ seed, port: 0, admin: true, taskDelayMs: 100 });
  const registered = await serializeInProject(project, { ...rewindArgs(), securityToken: TOKEN });
  expect(registered.type).toBe("pulumi-nodejs:dynamic/dms:OffsetReset");
  serialized = registered.provider;
  // The engine's environment, without any DMS credential: the ones used here come from inputs or config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CLOUD_SDK_|HW_)/.test(k)));
  host = await ProviderHost.start(project.dir, { ...env, PULUMI_NODEJS_PROJECT: "packed-program" }, "127.0.0.1:1");
}, 600_000);

afterAll(async () => {
  await host?.stop();
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
  // Preview: values not known yet pass.
  const preview = await host.check(URN, {}, { ...declared(), group: pulumi.runtime.unknownValue });
  expect(preview.failures).toEqual([]);
  expect(preview.inputs.group).toBe(pulumi.runtime.unknownValue);
  const checked = await host.check(URN, {}, declared());
  expect(checked.failures).toEqual([]);
  expect(checked.inputs).toMatchObject({ timestamp: Date.parse("2023-11-15T06:00:00Z"), partition: -1, __provider: serialized });
  expect(await requests()).toHaveLength(0);

  // Create: exactly one reset.
  const created = await host.create(URN, checked.inputs);
  expect(await resets()).toBe(1);
  expect(created.id).toBe(created.properties.requestId);
  expect(created.properties).toMatchObject({
    group: "billing",
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

  // Update with new triggers: the same rewind again, exactly one reset.
  const triggered = await host.check(URN, checked.inputs, { ...declared(), triggers: ["run-2"] });
  expect(await host.diff(URN, created.id, created.properties, triggered.inputs)).toEqual({ changes: "some", replaces: [] });
  const updated = await host.update(URN, created.id, created.properties, triggered.inputs);
  expect(await resets()).toBe(1);
  expect(updated.requestId).not.toBe(created.properties.requestId);
  expect(updated.triggers).toEqual(["run-2"]);
  await clearLog();

  // Read (refresh): credentials from the stack configuration, live offsets, no reset, no diff afterwards.
  await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 0, offset: 30000n }]);
  const read = await host.read(URN, created.id, updated);
  expect(read.id).toBe(created.id);
  expect(read.properties.currentOffsets).toMatchObject([{ partition: 0, messageCurrentOffset: "30000" }, { partition: 1, messageCurrentOffset: "28000" }]);
  expect(await resets()).toBe(0);
  expect(await host.diff(URN, read.id, read.properties, triggered.inputs)).toEqual({ changes: "none", replaces: [] });
  await clearLog();

  // Delete: nothing sent; the host prints why (the engine shows it as the provider's output).
  await host.delete(URN, created.id, read.properties);
  expect(await requests()).toHaveLength(0);
  expect(host.printed()).toMatch(/nothing was sent to DMS: committed offsets cannot be un-reset/);
  for (const value of [demo.ak, demo.sk, TOKEN]) expect(host.printed()).not.toContain(value);
});
