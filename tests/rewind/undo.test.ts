// The undo record, used: a rewind to any target followed by a rewind to `offsets` = the offsets from before
// puts every partition back exactly; and a plan of one call per partition that DMS refuses midway reports
// exactly which partitions moved and which did not, with the record that takes the moved ones back.
import type { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { PartialResetError } from "../../provider/rewind/errors";
import { rewind } from "../../provider/rewind/rewind";
import type { RewindInput } from "../../provider/rewind/target";
import type { DmsLocal } from "../../dms-local/server";
import { startFaultProxy, type FaultProxy } from "../faults/fault-proxy";
import { BASE_MS, byKey, clientFor, committed, failure, INSTANCE_ID, rewindOf, startLocal, undoInput } from "./helpers";

let dms: DmsLocal;
let proxy: FaultProxy;
let client: DmsClient;

beforeEach(async () => {
  dms = await startLocal({ taskDelayMs: 5 });
  proxy = await startFaultProxy(dms.url);
  client = clientFor(proxy.url);
});

afterEach(async () => {
  await client.close();
  await proxy.close();
  await dms.close();
});

const opts = { pollIntervalMs: 5 };

describe("round trip: reset to T, then to the offsets from before", () => {
  test.each<[string, Omit<RewindInput, "projectId" | "instanceId">]>([
    ["a timestamp, every topic", { group: "g-plan", timestamp: BASE_MS + 600_000 }],
    ["an offset, clamped on some partitions", { group: "g-plan", topics: ["orders", "payments:1"], messageOffset: 600 }],
    ["earliest, one topic", { group: "g-plan", topic: "payments", earliest: true }],
    ["latest, one partition", { group: "g-plan", topic: "orders", partition: 1, latest: true }],
    ["shiftBy back, clamped at the log start", { group: "g-plan", shiftBy: -200 }],
    ["shiftBy forward", { group: "g-plan", topics: ["orders:0,2"], shiftBy: 40 }],
    ["another group's offsets", { group: "g-plan", toGroup: "g-source" }],
    ["explicit offsets", { group: "g-plan", offsets: [{ topic: "orders", partition: 0, offset: 1 }, { topic: "payments", partition: 0, offset: 799 }] }],
    ["int64 past 2^53", { group: "g-huge", topic: "huge", earliest: true }],
  ])("%s: every partition back exactly", async (_what, input) => {
    const original = await committed(dms, input.group);
    const there = await rewind(client, rewindOf(input), opts);
    expect(await committed(dms, input.group)).not.toEqual(original);
    // The record as Pulumi state and --json hold it: decimal strings.
    const back = await rewind(client, rewindOf({ group: input.group, ...undoInput(there.previousOffsets) }), opts);
    expect(await committed(dms, input.group)).toEqual(original);
    expect(byKey(back.appliedOffsets)).toEqual(Object.fromEntries(Object.entries(original).filter(([k]) => k in byKey(there.previousOffsets))));
    // Going back moves exactly what going there moved.
    expect(back.plan.partitions.filter((p) => !p.unchanged).map((p) => `${p.topic}/${p.partition}`)).toEqual(
      there.plan.partitions.filter((p) => !p.unchanged).map((p) => `${p.topic}/${p.partition}`),
    );
  });
});

describe("a per-partition plan refused midway", () => {
  const shift = rewindOf({ group: "g-idle", topic: "orders", shiftBy: -100 });
  const refusal = JSON.stringify({ error_code: "DMS.00400062", error_msg: "Invalid parameter: injected refusal" });

  test("PartialResetError names the partitions that moved and those that did not; the undo record takes the moved ones back", async () => {
    proxy.add({ count: 1, skip: 1, match: { method: "PUT" }, action: { kind: "answer-instead", status: 400, body: refusal } });
    const err = await failure(rewind(client, shift, opts));
    expect(err).toBeInstanceOf(PartialResetError);
    const partial = err as PartialResetError;
    expect(partial.applied).toEqual(["the reset of group g-idle (topic orders, partition 0) to offset 800"]);
    expect(partial.notApplied).toEqual([
      "the reset of group g-idle (topic orders, partition 1) to offset 850",
      "the reset of group g-idle (topic orders, partition 2) to offset 350",
    ]);
    expect(partial.cause).toBeInstanceOf(DmsError);
    expect(partial.cause).toMatchObject({ status: 400, errorCode: "DMS.00400062" });
    expect(partial.message).toMatch(
      /^APPLIED IN PART: 1 reset applied \(the reset of group g-idle \(topic orders, partition 0\) to offset 800\), then the reset of group g-idle \(topic orders, partition 1\) to offset 850 failed: DMS PUT \S+ failed: 400 DMS\.00400062 .*; not applied: the reset of group g-idle \(topic orders, partition 1\) to offset 850; the reset of group g-idle \(topic orders, partition 2\) to offset 350\. Offsets before the reset \(to undo, rewind to these\): orders\/0=900, orders\/1=950, orders\/2=450$/,
    );
    expect(byKey(partial.undo)).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    // What DMS holds agrees: one partition moved, once; the others where they were.
    expect(await committed(dms, "g-idle")).toEqual({ "orders/0": 800n, "orders/1": 950n, "orders/2": 450n });
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);
    expect(proxy.requests.filter((r) => r.method === "PUT").map((r) => r.answered)).toEqual([204, 400]);

    const back = await rewind(client, rewindOf({ group: "g-idle", ...undoInput(partial.undo) }), opts);
    expect(back.plan.calls.map((c) => c.partition)).toEqual([0]);
    expect(await committed(dms, "g-idle")).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
  });

  test("refused on the first call: nothing moved, the DMS error itself, nothing to undo", async () => {
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "answer-instead", status: 400, body: refusal } });
    const err = await failure(rewind(client, shift, opts));
    expect(err).toBeInstanceOf(DmsError);
    expect(await committed(dms, "g-idle")).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(0);
  });
});
