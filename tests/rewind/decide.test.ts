// The places where rewind() could still apply a reset twice or say something untrue about it, each tried
// against dms-local behind the fault proxy: a call that moves nothing, partitions that had no committed
// offset, a resend after the write deadline, a log that grows between the plan and the reset, a DMS slow to
// apply what it received, a task that could be anyone's, a request that reaches DMS after the client gave up
// on it, and an answer lost in the middle of a plan of several calls.
import type { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { ResetOutcomeUnknownError } from "../../provider/rewind/errors";
import { planRewind } from "../../provider/rewind/plan";
import { rewind, type RewindOptions } from "../../provider/rewind/rewind";
import type { DmsLocal } from "../../dms-local/server";
import { startFaultProxy, type FaultProxy } from "../faults/fault-proxy";
import { BASE_MS, byKey, clientFor, committed, failure, GatedWorld, GrowingWorld, INSTANCE_ID, rewindOf, rewindSeed, startLocal, until } from "./helpers";

let dms: DmsLocal;
let proxy: FaultProxy;
const clients: DmsClient[] = [];
const closeAfter: { close(): Promise<void> }[] = [];

async function start(options: { world?: GatedWorld | GrowingWorld } = {}): Promise<void> {
  dms = await startLocal({ taskDelayMs: 20, ...(options.world && { world: options.world }) });
  if (options.world) closeAfter.push(options.world);
  proxy = await startFaultProxy(dms.url);
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await proxy.close();
  await dms.close();
  for (const w of closeAfter.splice(0)) await w.close();
});

function client(deadlineMs = 20_000): DmsClient {
  const c = clientFor(proxy.url, deadlineMs);
  clients.push(c);
  return c;
}

const puts = () => proxy.requests.filter((r) => r.method === "PUT");
const applications = (group: string) => dms.applications(INSTANCE_ID, group).count;
const opts = (more: RewindOptions = {}): RewindOptions => ({ pollIntervalMs: 5, ...more });
const lostBeforeDms = { count: 1, match: { method: "PUT" }, action: { kind: "drop-before-forward" } } as const;
const lostAfterDms = { count: 1, match: { method: "PUT" }, action: { kind: "forward-then-drop" } } as const;

describe("a call that moves nothing", () => {
  // g-plan's orders/2 is at 450; record 450 was written at BASE_MS + 450 s.
  const atTarget = rewindOf({ group: "g-plan", topic: "orders", partition: 2, timestamp: BASE_MS + 450_000 });

  test("a timestamp call whose partitions are already at the target is not sent, so no lost answer can be read as DMS's work", async () => {
    await start();
    proxy.add(lostBeforeDms);
    const plan = await planRewind(client(), atTarget);
    expect(plan.partitions.map((p) => [p.partition, p.unchanged])).toEqual([[2, true]]);
    const lines: string[] = [];
    const result = await rewind(client(), atTarget, opts({ log: (l) => lines.push(l) }));
    expect(result.calls).toEqual([]);
    expect(puts()).toEqual([]);
    expect(applications("g-plan")).toBe(0);
    expect(lines).toContain(`group g-plan is already at the first record at or after ${new Date(BASE_MS + 450_000).toISOString()} (${BASE_MS + 450_000}) on orders:2: nothing to send`);
  });

  test("with several partitions, only the calls that move something are sent", async () => {
    await start();
    const request = rewindOf({ group: "g-plan", topics: ["orders:0,2"], timestamp: BASE_MS + 450_000 });
    const plan = await planRewind(client(), request);
    expect(plan.calls.map((c) => c.partition)).toEqual([0]);
    proxy.add(lostBeforeDms);
    const result = await rewind(client(), request, opts());
    expect(result.calls.map((c) => [c.call.partition, c.confirmedBy])).toEqual([[0, "answer"]]);
    expect(applications("g-plan")).toBe(1);
    expect(await committed(dms, "g-plan")).toMatchObject({ "orders/0": 450n, "orders/2": 450n });
  });
});

describe("partitions without a committed offset", () => {
  // billing has committed only orders/0 of orders' three partitions.
  const request = rewindOf({ group: "billing", topic: "orders", messageOffset: 300 });

  test("DMS saw nothing: they still have none, which is 'not applied', so the call is sent again and applied once", async () => {
    await start();
    proxy.add(lostBeforeDms);
    const result = await rewind(client(), request, opts());
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["answer"]);
    expect(puts()).toHaveLength(2);
    expect(applications("billing")).toBe(1);
    expect(byKey(result.appliedOffsets)).toEqual({ "orders/0": 300n, "orders/1": 300n, "orders/2": 300n });
  });

  test("DMS applied it: they now have the planned offset, which is 'applied'", async () => {
    await start();
    proxy.add(lostAfterDms);
    const result = await rewind(client(), request, opts());
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["read-back"]);
    expect(puts()).toHaveLength(1);
    expect(applications("billing")).toBe(1);
  });
});

describe("the write deadline", () => {
  const request = rewindOf({ group: "g-idle", topic: "orders", messageOffset: 5 });

  test("past it, 'not applied' is not sent again: OUTCOME UNKNOWN with the undo record, one PUT, nothing applied", async () => {
    await start();
    proxy.add({ ...lostBeforeDms, count: 10 });
    const err = await failure(rewind(client(), request, opts({ writeDeadlineMs: 0 })));
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    expect(err.message).toMatch(/the offsets are where they were before, but the answer never came within the deadline and a late application cannot be ruled out/);
    expect(byKey((err as ResetOutcomeUnknownError).undo)).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    expect(byKey((err as ResetOutcomeUnknownError).offsetsNow ?? [])).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    expect(puts()).toHaveLength(1);
    expect(applications("g-idle")).toBe(0);
  });

  test("past it, a reset DMS did apply is still confirmed by reading back", async () => {
    await start();
    proxy.add(lostAfterDms);
    const result = await rewind(client(), request, opts({ writeDeadlineMs: 0 }));
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["read-back"]);
    expect(applications("g-idle")).toBe(1);
  });

  test("every attempt lost before DMS: sent again until the deadline, then OUTCOME UNKNOWN; no hang", async () => {
    await start();
    proxy.add({ ...lostBeforeDms, count: 1000 });
    const started = Date.now();
    const err = await failure(rewind(client(), request, opts({ writeDeadlineMs: 300 })));
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    // Generous: only a hang fails it.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(puts().length).toBeGreaterThanOrEqual(1);
    expect(puts().every((r) => r.forwarded === false)).toBe(true);
    expect(applications("g-idle")).toBe(0);
  });
});

describe("a log that grows between the plan and the reset (producers keep writing)", () => {
  test("latest: DMS puts the group at the new log end; a lost answer is still read back as applied, not as someone else's move", async () => {
    const world = new GrowingWorld(rewindSeed());
    await start({ world });
    proxy.add(lostAfterDms);
    const warnings: string[] = [];
    const result = await rewind(client(), rewindOf({ group: "g-idle", topic: "orders", latest: true }), opts({ beforeSend: () => world.grow("orders", 10n), warn: (l) => warnings.push(l) }));
    expect(result.plan.partitions.map((p) => p.target)).toEqual([1000n, 1000n, 500n]);
    expect(byKey(result.appliedOffsets)).toEqual({ "orders/0": 1010n, "orders/1": 1010n, "orders/2": 510n });
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["read-back"]);
    expect(applications("g-idle")).toBe(1);
    // Where DMS put it differs from the plan: said, not hidden.
    expect(warnings).toContain("group g-idle: orders/0 is at 1010 after the reset; the plan said 1000");
  });

  test("an offset past the old end: the same", async () => {
    const world = new GrowingWorld(rewindSeed());
    await start({ world });
    proxy.add(lostAfterDms);
    const result = await rewind(client(), rewindOf({ group: "g-idle", topic: "orders", partition: 2, messageOffset: 505 }), opts({ beforeSend: () => world.grow("orders", 10n) }));
    expect(result.plan.partitions.map((p) => [p.target, p.clamped])).toEqual([[500n, true]]);
    expect(byKey(result.appliedOffsets)).toMatchObject({ "orders/2": 505n });
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["read-back"]);
  });

  test("DMS saw nothing: the group is where it was, so it is sent again, once", async () => {
    const world = new GrowingWorld(rewindSeed());
    await start({ world });
    proxy.add(lostBeforeDms);
    const result = await rewind(client(), rewindOf({ group: "g-idle", topic: "orders", latest: true }), opts({ beforeSend: () => world.grow("orders", 10n) }));
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["answer"]);
    expect(puts()).toHaveLength(2);
    expect(applications("g-idle")).toBe(1);
  });
});

describe("a DMS slow to apply a reset it has received", () => {
  test("the resend is answered DMS.00400026 (the first attempt still being applied) until the rewind's write deadline: OUTCOME UNKNOWN, not 'refused, nothing applied'", async () => {
    const world = new GatedWorld(rewindSeed());
    await start({ world });
    const request = rewindOf({ group: "g-idle", topic: "orders", shiftBy: -100 });
    // The client gives each call 3 s: the first PUT's answer never comes in that time, nor does the resend get past "in progress".
    const c = client(3000);
    let entered: Promise<void> | undefined;
    // The rewind reads back and sends again while DMS answers "in progress", until its write deadline.
    const err = await failure(rewind(c, request, opts({ writeDeadlineMs: 4000, beforeSend: () => void (entered = world.hold()) })));
    await entered;
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    expect(err.message).toMatch(/DMS\.00400026/);
    expect(byKey((err as ResetOutcomeUnknownError).undo)).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    expect(puts().length).toBeGreaterThanOrEqual(2);
    expect(puts().slice(1).every((r) => r.answered === 400)).toBe(true);
    // DMS finishes the first attempt: once, where the plan said.
    world.release();
    await until(() => applications("g-idle") === 1, "the first attempt's application");
    expect(await committed(dms, "g-idle")).toMatchObject({ "orders/0": 800n });
  });

  test("all topics: DMS slow to record the task; the resend is answered DMS.00400026 until the rewind's write deadline: OUTCOME UNKNOWN, then one task", async () => {
    const world = new GatedWorld(rewindSeed());
    await start({ world });
    let entered: Promise<void> | undefined;
    const err = await failure(rewind(client(3000), rewindOf({ group: "billing", messageOffset: 5 }), opts({ writeDeadlineMs: 4000, beforeSend: () => void (entered = world.hold("task")) })));
    await entered;
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    expect(err.message).toMatch(/DMS\.00400026.*no new kafkaResetConsumerOffset task for the group/);
    expect(byKey((err as ResetOutcomeUnknownError).undo)).toEqual({ "orders/0": 990n, "payments/0": 780n, "payments/1": 690n });
    world.release();
    await until(() => applications("billing") === 1, "the first attempt's task");
    expect((await dms.world.tasks(INSTANCE_ID)).filter((t) => t.params.includes('"billing"'))).toHaveLength(1);
  });
});

describe("all topics: a task whose params do not name any group", () => {
  test("appearing after a lost answer, it is no evidence that DMS applied this reset: OUTCOME UNKNOWN, not success", async () => {
    await start();
    proxy.add(lostBeforeDms);
    // While the answer is lost, another reset task shows up on the instance, its params empty.
    void proxy.until((r) => r.some((x) => x.method === "PUT" && x.answered === "dropped")).then(() =>
      dms.world.saveTask(INSTANCE_ID, { id: "f".repeat(32), name: "kafkaResetConsumerOffset", userName: "someone", userId: "", params: "", status: "SUCCESS", createdAt: new Date(), updatedAt: new Date() }),
    );
    const outcome = await rewind(client(), rewindOf({ group: "billing", messageOffset: 5 }), opts()).then(
      (r) => ({ confirmedBy: r.calls.map((c) => c.confirmedBy), applied: byKey(r.appliedOffsets) }),
      (e: unknown) => e,
    );
    expect(applications("billing")).toBe(0);
    expect(outcome).toBeInstanceOf(ResetOutcomeUnknownError);
    expect((outcome as Error).message).toMatch(/task f{32}, whose params do not say which group it resets/);
    expect(puts()).toHaveLength(1);
  });
});

describe("a request that reaches DMS after the client gave up on it (known limit: read back as 'not applied', sent again)", () => {
  test("shiftBy: the late first attempt and the resend both land on the planned absolute offset, so the group moves once, not twice", async () => {
    await start();
    proxy.add({ count: 1, skip: 1, match: { method: "PUT" }, action: { kind: "hold-then-forward" } });
    const request = rewindOf({ group: "g-idle", topic: "orders", shiftBy: -100 });
    const result = await rewind(client(3000), request, opts());
    expect(byKey(result.appliedOffsets)).toEqual({ "orders/0": 800n, "orders/1": 850n, "orders/2": 350n });
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(["answer", "answer", "answer"]);
    (await proxy.nextHeld()).release();
    await proxy.until((r) => r.filter((x) => x.method === "PUT").every((x) => x.forwarded));
    // DMS applied orders/1 twice (4 applications for 3 calls), both times to 850: never 750.
    expect(applications("g-idle")).toBe(4);
    expect(puts().map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { partition: 0, topic: "orders", message_offset: 800 },
      { partition: 1, topic: "orders", message_offset: 850 },
      { partition: 1, topic: "orders", message_offset: 850 },
      { partition: 2, topic: "orders", message_offset: 350 },
    ]);
    expect(await committed(dms, "g-idle")).toEqual({ "orders/0": 800n, "orders/1": 850n, "orders/2": 350n });
  });
});

describe("an answer lost in the middle of a plan of several calls", () => {
  test("undecidable: OUTCOME UNKNOWN naming the call, with the calls applied before it, the offsets now and the undo record; the rest are not sent", async () => {
    await start();
    // orders/1 is moved by someone else while the answer to its reset is lost: the read-back cannot tell.
    proxy.add({ count: 1, skip: 1, match: { method: "PUT" }, action: { kind: "forward-then-drop" } });
    const request = rewindOf({ group: "g-idle", topic: "orders", shiftBy: -100 });
    void proxy.until((r) => r.filter((x) => x.method === "PUT").length === 2 && r[r.length - 1]?.answered === "dropped").then(() =>
      dms.world.commitOffsets(INSTANCE_ID, "g-idle", [{ topic: "orders", partition: 1, offset: 1n }]),
    );
    const err = await failure(rewind(client(), request, opts()));
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    const unknown = err as ResetOutcomeUnknownError;
    expect(unknown.message).toMatch(/^OUTCOME UNKNOWN: the reset of group g-idle \(topic orders, partition 1\) to offset 850 was sent/);
    expect(unknown.message).toContain("orders/1 is at 1 (was 950, planned 850)");
    expect(unknown.applied).toEqual(["the reset of group g-idle (topic orders, partition 0) to offset 800"]);
    expect(byKey(unknown.offsetsNow ?? [])).toEqual({ "orders/0": 800n, "orders/1": 1n, "orders/2": 450n });
    expect(byKey(unknown.undo)).toEqual({ "orders/0": 900n, "orders/1": 950n, "orders/2": 450n });
    expect(puts()).toHaveLength(2);
  });
});

test("a refusal of a resend other than 'in progress' is a refusal: nothing applied, as the read-back found", async () => {
  await start();
  proxy.add(lostBeforeDms);
  proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "answer-instead", status: 400, body: JSON.stringify({ error_code: "DMS.00400814", error_msg: "group is STABLE" }) } });
  const err = await failure(rewind(client(), rewindOf({ group: "g-idle", topic: "orders", messageOffset: 5 }), opts()));
  expect(err).toBeInstanceOf(DmsError);
  expect(err).toMatchObject({ errorCode: "DMS.00400814" });
  expect(applications("g-idle")).toBe(0);
});
