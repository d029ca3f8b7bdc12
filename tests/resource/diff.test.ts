import { diffInputs } from "../../provider/resource/diff";
import { UNKNOWN } from "../../provider/resource/properties";

// Outputs in state after a create (normalised inputs plus results), and the next check's inputs.
const olds = {
  projectId: "p",
  instanceId: "i",
  group: "billing",
  topic: "orders",
  partition: -1,
  timestamp: Date.UTC(2026, 10, 24, 2),
  endpoint: "http://127.0.0.1:8080",
  legacyApi: false,
  waitForInactiveGroupSeconds: 0,
  triggers: { incident: "INC-1" },
  resetAt: "2026-11-25T10:00:00.000Z",
  requestId: "req-1",
  previousOffsets: [],
  appliedOffsets: [],
  currentOffsets: [],
};
const { resetAt: _r, requestId: _q, previousOffsets: _p, appliedOffsets: _a, currentOffsets: _c, ...inputs } = olds;
const news = { ...inputs, accessKey: "AK1", secretKey: "SK1" };

test("the same rewind, whatever the spelling, is no change", () => {
  expect(diffInputs(olds, news)).toMatchObject({ changes: false, replaces: [], triggersChanged: false });
  expect(diffInputs(olds, { ...news, timestamp: "2026-11-24T02:00:00Z" }).changes).toBe(false);
  expect(diffInputs(olds, { ...news, timestamp: "2026-11-24T03:00:00+01:00" }).changes).toBe(false);
  expect(diffInputs(olds, { ...news, partition: undefined, legacyApi: undefined, waitForInactiveGroupSeconds: undefined }).changes).toBe(false);
  expect(diffInputs(olds, { ...news, endpoint: "http://127.0.0.1:8080/" }).changes).toBe(false);
  expect(diffInputs(olds, { ...news, triggers: { incident: "INC-1" } }).changes).toBe(false);
  const byOffset = { ...olds, timestamp: undefined, messageOffset: "10" };
  expect(diffInputs(byOffset, { ...news, timestamp: undefined, messageOffset: 10 }).changes).toBe(false);
  expect(diffInputs(byOffset, { ...news, timestamp: undefined, messageOffset: "10" }).changes).toBe(false);
});

test("a region and its explicit endpoint are the same place", () => {
  const inRegion = { ...olds, endpoint: undefined, region: "cn-north-4" };
  expect(diffInputs(inRegion, { ...news, endpoint: "https://dms.cn-north-4.myhuaweicloud.com" }).changes).toBe(false);
});

test("rotated credentials are no change", () => {
  expect(diffInputs(olds, { ...news, accessKey: "AK2", secretKey: "SK2", securityToken: "T2" }).changes).toBe(false);
});

test.each<[string, unknown]>([
  ["projectId", "p2"],
  ["instanceId", "i2"],
  ["group", "billing-2"],
  ["topic", "payments"],
  ["topic", undefined],
  ["partition", 3],
  ["timestamp", "2026-11-24T02:00:01Z"],
  ["legacyApi", true],
])("changing %s to %j replaces", (key, value) => {
  expect(diffInputs(olds, { ...news, [key]: value })).toMatchObject({ changes: true, replaces: [key], triggersChanged: false });
});

test("switching from a timestamp to an offset replaces on both", () => {
  expect(diffInputs(olds, { ...news, timestamp: undefined, messageOffset: 5 }).replaces).toEqual(["messageOffset", "timestamp"]);
});

test("changed triggers are an update that rewinds again", () => {
  expect(diffInputs(olds, { ...news, triggers: { incident: "INC-2" } })).toMatchObject({ changes: true, replaces: [], triggersChanged: true });
  expect(diffInputs({ ...olds, triggers: undefined }, { ...news, triggers: ["x"] }).triggersChanged).toBe(true);
});

test.each<[string, Record<string, unknown>]>([
  ["another endpoint", { endpoint: "http://127.0.0.1:9090" }],
  ["a region instead of an endpoint elsewhere", { endpoint: undefined, region: "cn-east-3" }],
  ["a longer wait", { waitForInactiveGroupSeconds: 60 }],
  ["new custom timeouts", { customTimeouts: { create: "10m" } }],
])("%s is an update that does not rewind", (_what, change) => {
  expect(diffInputs(olds, { ...news, ...change })).toMatchObject({ changes: true, replaces: [], triggersChanged: false });
});

test("values unknown during preview count as changed", () => {
  expect(diffInputs(olds, { ...news, group: UNKNOWN }).replaces).toEqual(["group"]);
  expect(diffInputs(olds, { ...news, triggers: { incident: UNKNOWN } }).triggersChanged).toBe(true);
  expect(diffInputs(olds, { ...news, endpoint: UNKNOWN })).toMatchObject({ changes: true, replaces: [], triggersChanged: false });
});

test("the detailed diff names every changed input with what its change does", () => {
  const { changed } = diffInputs(olds, { ...news, timestamp: undefined, shiftBy: "-10", triggers: { incident: "INC-2" }, waitForInactiveGroupSeconds: 30 });
  expect(changed).toEqual([
    { key: "timestamp", onChange: "replace" },
    { key: "shiftBy", onChange: "replace" },
    { key: "waitForInactiveGroupSeconds", onChange: "update" },
    { key: "triggers", onChange: "rewind-again" },
  ]);
});

test("the plan written by check and the serialized provider are never a change", () => {
  expect(diffInputs({ ...olds, plan: { partitions: [] } }, { ...news, plan: { unknown: "x" }, __provider: "exports.handler = …" }).changes).toBe(false);
});

test.each<[string, unknown, unknown]>([
  ["forbidForward", undefined, false],
  ["earliest", undefined, false],
  ["topics", ["orders"], [{ topic: "orders" }]],
  ["offsets", [{ topic: "orders", partition: 0, offset: 5 }], [{ topic: "orders", partition: 0, offset: "5" }]],
  ["shiftBy", -5, "-5"],
])("%s: %j and %j are the same value", (key, a, b) => {
  const base = { ...olds, timestamp: undefined };
  expect(diffInputs({ ...base, [key]: a }, { ...news, timestamp: undefined, [key]: b }).changes).toBe(false);
});
