// The provider plugin over its gRPC interface, as the engine drives it: the built executable started with the
// address of a stand-in engine (which records Log messages), against dms-local. Every step counts what reached
// dms-local. The real engine runs the same plugin in yaml.test.ts, python.test.ts and go.test.ts.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as pulumi from "@pulumi/pulumi";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import type { DmsLocal } from "../../dms-local/server";
import { appliedResets, cleanEnv, CREDENTIALS, FakeEngine, INSTANCE_ID, leakedCredentials, PluginProcess, PROJECT_ID, REPO, requests, startDms, T1, T2, unary, writes } from "./harness";

jest.setTimeout(60_000);

const TYPE = "dms-offset-reset:index:OffsetReset";
const urnOf = (name: string) => `urn:pulumi:dev::plugin-test::${TYPE}::${name}`;
const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
const UNKNOWN = pulumi.runtime.unknownValue;
type Props = Record<string, unknown>;
type JsValue = Parameters<typeof Struct.fromJavaScript>[0];
const struct = (props: Props) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as JsValue);
const js = (s: Struct | undefined) => (s?.toJavaScript() ?? {}) as Props;
const K = proto.PropertyDiff.Kind;

let dms: DmsLocal;
let engine: FakeEngine;
let plugin: PluginProcess;
let client: PluginProcess["client"];

beforeAll(async () => {
  [dms, engine] = await Promise.all([startDms(), FakeEngine.start()]);
  plugin = await PluginProcess.start(engine.address, cleanEnv());
  client = plugin.client;
});

afterAll(async () => {
  await plugin?.stop();
  await Promise.all([engine?.stop(), dms?.close()]);
});

afterEach(async () => {
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  await fetch(`${dms.url}/__admin/faults`, { method: "DELETE" });
});

/** The program's inputs for a rewind of `group` (credentials come from the provider's configuration). */
const declared = (group: string, more: Props = {}): Props => ({ endpoint: dms.url, projectId: PROJECT_ID, instanceId: INSTANCE_ID, group, topic: "payments", timestamp: T1, ...more });

function configure(args: Props): Promise<proto.ConfigureResponse> {
  const req = new proto.ConfigureRequest().setArgs(struct(args)).setAcceptsecrets(true).setAcceptresources(true).setType("pulumi:providers:dms-offset-reset");
  return unary((cb) => client.configure(req, cb));
}

async function check(olds: Props, news: Props, urn = urnOf("r")): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
  const req = new proto.CheckRequest().setUrn(urn).setType(TYPE).setOlds(struct(olds)).setNews(struct(news));
  const res = await unary<proto.CheckResponse>((cb) => client.check(req, cb));
  return { inputs: js(res.getInputs()), failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })) };
}

/** What the engine does with Check's inputs before Create: secrets unwrapped (the plugin does not accept them). */
const plain = (inputs: Props): Props => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, pulumi.runtime.unwrapRpcSecret(v)]));

function create(inputs: Props, options: { urn?: string; preview?: boolean; timeout?: number } = {}): Promise<proto.CreateResponse> {
  const req = new proto.CreateRequest().setUrn(options.urn ?? urnOf("r")).setType(TYPE).setProperties(struct(plain(inputs))).setPreview(options.preview ?? false).setTimeout(options.timeout ?? 0);
  return unary((cb) => client.create(req, cb));
}

function diff(olds: Props, news: Props): Promise<proto.DiffResponse> {
  const req = new proto.DiffRequest().setUrn(urnOf("r")).setType(TYPE).setId("id").setOlds(struct(olds)).setOldInputs(struct(olds)).setNews(struct(plain(news)));
  return unary((cb) => client.diff(req, cb));
}

function update(id: string, olds: Props, news: Props, preview = false): Promise<proto.UpdateResponse> {
  const req = new proto.UpdateRequest().setUrn(urnOf("r")).setType(TYPE).setId(id).setOlds(struct(olds)).setNews(struct(plain(news))).setPreview(preview);
  return unary((cb) => client.update(req, cb));
}

function detailed(res: proto.DiffResponse): Record<string, proto.PropertyDiff.Kind> {
  const kinds: Record<string, proto.PropertyDiff.Kind> = {};
  res.getDetaileddiffMap().forEach((v, k) => (kinds[k] = v.getKind()));
  return kinds;
}

test("GetSchema answers the committed schema and GetPluginInfo the package's version", async () => {
  const schema = await unary<proto.GetSchemaResponse>((cb) => client.getSchema(new proto.GetSchemaRequest(), cb));
  expect(schema.getSchema()).toBe(readFileSync(path.join(REPO, "provider/plugin/schema.json"), "utf8"));
  const info = await unary<PluginInfo>((cb) => client.getPluginInfo(new Empty(), cb));
  expect(info.getVersion()).toBe((JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version);
});

test("CheckConfig names what is wrong and stores credentials as secrets; DiffConfig never replaces the provider", async () => {
  const checkConfig = async (news: Props) => {
    const req = new proto.CheckRequest().setUrn("urn:pulumi:dev::plugin-test::pulumi:providers:dms-offset-reset::default").setNews(struct(news));
    const res = await unary<proto.CheckResponse>((cb) => client.checkConfig(req, cb));
    return { inputs: js(res.getInputs()), failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })) };
  };
  const good = await checkConfig({ accessKey: CREDENTIALS.ak, secretKey: CREDENTIALS.sk, region: "cn-north-4", version: "0.1.0" });
  expect(good.failures).toEqual([]);
  expect(good.inputs).toEqual({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk), region: "cn-north-4", version: "0.1.0" });
  expect((await checkConfig({ secretkey: "x" })).failures).toEqual([{ property: "secretkey", reason: expect.stringMatching(/unknown configuration dms-offset-reset:secretkey: did you mean dms-offset-reset:secretKey\?/) }]);
  expect((await checkConfig({ endpoint: dms.url, region: "cn-north-4" })).failures).toEqual([{ property: "region", reason: expect.stringMatching(/not both/) }]);
  expect((await checkConfig({ accessKey: CREDENTIALS.ak })).failures).toEqual([{ property: "secretKey", reason: expect.stringMatching(/required/) }]);
  expect((await checkConfig({ region: "nowhere-1" })).failures).toEqual([{ property: "region", reason: expect.any(String) }]);

  const diffConfig = (olds: Props, news: Props) => unary<proto.DiffResponse>((cb) => client.diffConfig(new proto.DiffRequest().setUrn("urn:pulumi:dev::p::pulumi:providers:dms-offset-reset::default").setOlds(struct(olds)).setOldInputs(struct(olds)).setNews(struct(news)), cb));
  const moved = await diffConfig({ region: "cn-north-4", secretKey: secret("a") }, { endpoint: dms.url, secretKey: secret("b") });
  expect(moved.getChanges()).toBe(proto.DiffResponse.DiffChanges.DIFF_SOME);
  expect(moved.getReplacesList()).toEqual([]);
  expect(detailed(moved)).toEqual({ endpoint: K.ADD, region: K.DELETE, secretKey: K.UPDATE });
  expect((await diffConfig({ region: "cn-north-4" }, { region: "cn-north-4" })).getChanges()).toBe(proto.DiffResponse.DiffChanges.DIFF_NONE);
});

test("Configure takes the stack configuration (secrets wrapped) and announces preview; Check validates without reading DMS", async () => {
  const configured = await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk), version: "0.1.0" });
  expect(configured.getSupportspreview()).toBe(true);
  expect(configured.getAcceptsecrets()).toBe(false);

  const bad = await check({}, declared("billing", { partition: -7 }));
  expect(bad.failures).toEqual([{ property: "partition", reason: expect.stringMatching(/-1/) }]);
  const both = await check({}, declared("billing", { messageOffset: "10" }));
  expect(both.failures).toEqual([{ property: "timestamp", reason: expect.stringMatching(/both/) }]);
  const typo = await check({}, declared("billing", { timestmap: 5 }));
  expect(typo.failures).toContainEqual({ property: "timestmap", reason: expect.stringMatching(/did you mean "timestamp"/) });
  // A preview's unknown values pass, and stay unknown.
  const pending = await check({}, declared("billing", { group: UNKNOWN }));
  expect(pending.failures).toEqual([]);
  expect(pending.inputs.group).toBe(UNKNOWN);
  // Normalised; credentials given as plain inputs come back as secrets; no plan in check.
  const checked = await check({}, declared("billing", { accessKey: CREDENTIALS.ak, secretKey: CREDENTIALS.sk }));
  expect(checked.failures).toEqual([]);
  // (What check.ts normalises is the dynamic provider's too: only its secrets differ here.)
  expect(checked.inputs).toMatchObject({ ...declared("billing"), timestamp: Date.parse(T1), legacyApi: false, waitForInactiveGroupSeconds: 0, accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  // Offsets and time as the schema allows them: a number or a decimal string; epoch ms or ISO-8601.
  const spelled = await check({}, declared("billing", { timestamp: undefined, messageOffset: 9007199254740993 }));
  expect(spelled.failures).toEqual([{ property: "messageOffset", reason: expect.stringMatching(/decimal string/) }]);
  expect((await check({}, declared("billing", { timestamp: undefined, messageOffset: "9007199254740993" }))).inputs.messageOffset).toBe("9007199254740993");
  expect((await check({}, declared("billing", { timestamp: Date.parse(T1) }))).inputs.timestamp).toBe(Date.parse(T1));
  expect(await requests(dms)).toEqual([]);
});

test("Check takes every target kind and scope the schema offers, in each spelling it types", async () => {
  await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  const base = { ...declared("billing"), timestamp: undefined, topic: undefined };
  const cases: [Props, Props][] = [
    [{ topic: "payments", messageOffset: 28000 }, { messageOffset: "28000" }],
    [{ topic: "payments", messageOffset: "9223372036854775807" }, { messageOffset: "9223372036854775807" }],
    [{ topic: "payments", timestamp: Date.parse(T1) }, { timestamp: Date.parse(T1) }],
    [{ topic: "payments", timestamp: "2023-11-15T07:00:00+01:00" }, { timestamp: Date.parse(T1) }],
    [{ earliest: true }, { earliest: true, partition: -1 }],
    [{ topic: "payments", partition: 1, latest: true }, { latest: true, partition: 1 }],
    [{ topics: ["payments:1,0", { topic: "orders" }], shiftBy: "-100" }, { topics: [{ topic: "payments", partitions: [0, 1] }, { topic: "orders" }], shiftBy: "-100" }],
    [{ topics: [{ topic: "payments", partitions: [0] }], shiftBy: 5 }, { shiftBy: "5" }],
    [{ offsets: [{ topic: "payments", partition: 0, offset: 100 }, { topic: "payments", partition: 1, messageCurrentOffset: "200" }] }, { offsets: [{ topic: "payments", partition: 0, offset: "100" }, { topic: "payments", partition: 1, offset: "200" }] }],
    [{ topic: "payments", toGroup: "ledger" }, { toGroup: "ledger" }],
  ];
  for (const [given, normalised] of cases) {
    const { inputs, failures } = await check({}, { ...base, ...given });
    expect({ given, failures }).toEqual({ given, failures: [] });
    expect(inputs).toMatchObject(normalised);
  }
  expect(await requests(dms)).toEqual([]);
});

test("Diff gives a detailed diff: the input that forces the replacement, an update, or no change for a respelling", async () => {
  await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  const olds = (await check({}, declared("billing"))).inputs;
  const state = plain({ ...olds, accessKey: undefined, secretKey: undefined, resetAt: "2026-01-01T00:00:00.000Z", requestId: "r1", previousOffsets: [], appliedOffsets: [], currentOffsets: [] });

  const respelled = await diff(state, (await check(olds, declared("billing", { timestamp: Date.parse(T1) }))).inputs);
  expect(respelled.getChanges()).toBe(proto.DiffResponse.DiffChanges.DIFF_NONE);

  const moved = await diff(state, (await check(olds, declared("billing", { timestamp: T2 }))).inputs);
  expect(moved.getChanges()).toBe(proto.DiffResponse.DiffChanges.DIFF_SOME);
  expect(moved.getReplacesList()).toEqual(["timestamp"]);
  expect(moved.getHasdetaileddiff()).toBe(true);
  expect(detailed(moved)).toEqual({ timestamp: K.UPDATE_REPLACE });
  expect(moved.getStablesList()).toEqual([]);

  const retargeted = await diff(state, (await check(olds, declared("billing", { timestamp: undefined, earliest: true }))).inputs);
  expect(retargeted.getReplacesList()).toEqual(["timestamp", "earliest"]);
  expect(detailed(retargeted)).toEqual({ timestamp: K.DELETE_REPLACE, earliest: K.ADD_REPLACE });

  const triggered = await diff(state, (await check(olds, declared("billing", { triggers: ["run-2"], waitForInactiveGroupSeconds: 30 }))).inputs);
  expect(triggered.getReplacesList()).toEqual([]);
  expect(detailed(triggered)).toEqual({ waitForInactiveGroupSeconds: K.UPDATE, triggers: K.ADD });
  expect(triggered.getStablesList()).toEqual(expect.arrayContaining(["projectId", "group", "timestamp"]));
  expect(triggered.getStablesList()).not.toContain("previousOffsets");
  expect(await writes(dms)).toEqual([]);
});

test("Create with preview answers the per-partition plan, sends no write, and logs the plan table under the resource's URN", async () => {
  await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  const urn = urnOf("previewed");
  const { inputs } = await check({}, declared("billing"), urn);
  const res = await create(inputs, { urn, preview: true });
  const outs = js(res.getProperties());
  expect(res.getId()).toBe("");
  expect(outs.plan).toEqual({
    partitions: [
      expect.objectContaining({ topic: "payments", partition: 0, current: "47990", target: "28000", forward: false }),
      expect.objectContaining({ topic: "payments", partition: 1, current: "47950", target: "28000", forward: false }),
    ],
  });
  expect(outs).toMatchObject({ group: "billing", timestamp: Date.parse(T1), resetAt: UNKNOWN, previousOffsets: UNKNOWN });
  expect(outs).not.toHaveProperty("taskId");
  expect(leakedCredentials(JSON.stringify(outs))).toEqual([]);
  expect(await writes(dms)).toEqual([]);
  expect(await appliedResets(dms, "billing")).toBe(0);
  expect(engine.logs).toContainEqual({ severity: "info", urn, message: expect.stringMatching(/plan for group billing[\s\S]*payments +0 +47990 +28000/) });

  // Values not known yet: the plan says what it waits for, and nothing is read.
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  const unknownGroup = await create({ ...inputs, group: UNKNOWN }, { urn, preview: true });
  expect(js(unknownGroup.getProperties()).plan).toEqual({ unknown: "plan unknown until group is known" });
  expect(await requests(dms)).toEqual([]);
});

test("Create rewinds once; Update with new triggers rewinds again; Read refreshes; Delete sends nothing and says so in the engine's log", async () => {
  await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  const urn = urnOf("r");
  const checked = (await check({}, declared("ledger"))).inputs;
  const created = await create(checked);
  const outs = js(created.getProperties());
  expect(await appliedResets(dms, "ledger")).toBe(1);
  expect(created.getId()).toBe(outs.requestId);
  expect(outs).toMatchObject({
    outcome: "applied",
    previousOffsets: [{ partition: 0, messageCurrentOffset: "47000" }, { partition: 1, messageCurrentOffset: "46900" }],
    appliedOffsets: [{ partition: 0, messageCurrentOffset: "28000" }, { partition: 1, messageCurrentOffset: "28000" }],
  });
  expect(leakedCredentials(JSON.stringify(outs))).toEqual([]);

  // An update that only changes the wait sends nothing, in preview or not.
  const waited = (await check(checked, declared("ledger", { waitForInactiveGroupSeconds: 5 }))).inputs;
  expect(js((await update(created.getId(), outs, waited, true)).getProperties())).toMatchObject({ waitForInactiveGroupSeconds: 5, requestId: outs.requestId });
  expect(js((await update(created.getId(), outs, waited)).getProperties())).toMatchObject({ waitForInactiveGroupSeconds: 5, requestId: outs.requestId });
  expect(await appliedResets(dms, "ledger")).toBe(1);

  // New triggers: the preview plans the same rewind again without sending it; the update sends it.
  const triggered = (await check(checked, declared("ledger", { triggers: ["run-2"] }))).inputs;
  const previewed = js((await update(created.getId(), outs, triggered, true)).getProperties());
  expect(previewed).toMatchObject({ requestId: UNKNOWN, plan: { partitions: [expect.objectContaining({ current: "28000", target: "28000", unchanged: true }), expect.anything()] } });
  expect(await appliedResets(dms, "ledger")).toBe(1);
  await dms.world.commitOffsets(INSTANCE_ID, "ledger", [{ topic: "payments", partition: 0, offset: 30000n }]);
  const updated = js((await update(created.getId(), outs, triggered)).getProperties());
  expect(await appliedResets(dms, "ledger")).toBe(2);
  expect(updated.triggers).toEqual(["run-2"]);

  // Read: live offsets, the inputs handed back as they were.
  await dms.world.commitOffsets(INSTANCE_ID, "ledger", [{ topic: "payments", partition: 1, offset: 29000n }]);
  const readReq = new proto.ReadRequest().setUrn(urn).setType(TYPE).setId(created.getId()).setProperties(struct(updated)).setInputs(struct(plain(triggered)));
  const read = await unary<proto.ReadResponse>((cb) => client.read(readReq, cb));
  expect(read.getId()).toBe(created.getId());
  expect(js(read.getProperties()).currentOffsets).toMatchObject([{ partition: 0, messageCurrentOffset: "28000" }, { partition: 1, messageCurrentOffset: "29000" }]);
  expect(js(read.getInputs())).toEqual(plain(triggered));
  expect(engine.logs).toContainEqual({ severity: "warning", urn, message: expect.stringMatching(/payments\/1: 28000 → 29000/) });
  expect(await appliedResets(dms, "ledger")).toBe(2);

  // Delete: nothing sent; the notice reaches the engine under the resource's URN before Delete answers.
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  await unary((cb) => client.delete(new proto.DeleteRequest().setUrn(urn).setType(TYPE).setId(created.getId()).setProperties(read.getProperties()), cb));
  expect(await requests(dms)).toEqual([]);
  expect(engine.logs).toContainEqual({ severity: "info", urn, message: expect.stringMatching(/nothing was sent to DMS: committed offsets cannot be un-reset/) });
  expect(leakedCredentials(JSON.stringify(engine.logs) + plugin.printed())).toEqual([]);
});

test("The engine's operation timeout bounds the wait for a busy group, whatever waitForInactiveGroupSeconds asks", async () => {
  await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
  const urn = urnOf("busy");
  const { inputs } = await check({}, declared("draining", { waitForInactiveGroupSeconds: 86400 }), urn);
  // With the wait the input asks for, this would outlast the test; the engine's 3 s end it.
  const failed = await create(inputs, { urn, timeout: 3 }).then(
    () => undefined,
    (e: grpc.ServiceError) => e,
  );
  expect(failed?.details).toMatch(/draining.*not EMPTY after waiting \d+s/);
  const waiting = engine.logs.filter((l) => l.urn === urn && /waiting for group draining to empty/.test(l.message));
  expect(waiting.length).toBeGreaterThan(0);
  expect(Number(/; (\d+)s left/.exec(waiting[0]?.message ?? "")?.[1])).toBeLessThanOrEqual(3);
  expect(await appliedResets(dms, "draining")).toBe(0);
  expect(await writes(dms)).toEqual([]);
});

test("A reset sent and then not confirmed within the engine's timeout fails as ErrorResourceInitFailed carrying the state and the undo record", async () => {
  // A dms-local whose all-topics tasks take longer than the operation may wait: the reset is accepted, its task never done in time.
  const slow = await startDms({ taskDelayMs: 600_000 });
  try {
    await configure({ accessKey: secret(CREDENTIALS.ak), secretKey: secret(CREDENTIALS.sk) });
    const { inputs, failures } = await check({}, { ...declared("audit", { endpoint: slow.url }), topic: undefined });
    expect(failures).toEqual([]);
    const failed = await create(inputs, { timeout: 2 }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(failed).toBeDefined();
    const details = failed?.metadata.get("grpc-status-details-bin")[0] as Buffer | undefined;
    expect(details).toBeDefined();
    const status = Status.deserializeBinary(new Uint8Array(details as Buffer));
    const [any] = status.getDetailsList();
    expect(any?.getTypeName()).toBe("pulumirpc.ErrorResourceInitFailed");
    const init = proto.ErrorResourceInitFailed.deserializeBinary(any?.getValue_asU8() as Uint8Array);
    const props = js(init.getProperties());
    expect(props).toMatchObject({ group: "audit", outcome: "not-confirmed", previousOffsets: [{ partition: 0, messageCurrentOffset: "40000" }, { partition: 1, messageCurrentOffset: "40000" }] });
    expect(init.getId()).not.toBe("");
    expect(init.getId()).toBe(props.requestId);
    expect(init.getReasonsList()[0]).toMatch(/ACCEPTED by DMS/);
    expect(leakedCredentials(JSON.stringify(props))).toEqual([]);
    expect((await writes(slow)).filter((r) => r.path.endsWith("/reset-message-offset"))).toHaveLength(1);
  } finally {
    await slow.close();
  }
});
