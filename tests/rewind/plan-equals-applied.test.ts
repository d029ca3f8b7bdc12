// "The plan is what the reset does": for every target kind and every scope, against dms-local in memory,
// the plan's target on each partition is where DMS then puts the group (appliedOffsets and dms-local's own
// state), the partitions outside the plan stay where they were, the flags (forward, clamped, unchanged)
// are right, each call is applied once, and making the plan sent nothing but GETs. The expected targets
// come from the seed's arithmetic, not from the code under test.
import type { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { PlanError, planRewind, type Plan } from "../../provider/rewind/plan";
import { rewind } from "../../provider/rewind/rewind";
import type { RewindInput } from "../../provider/rewind/target";
import type { DmsLocal } from "../../dms-local/server";
import { BASE_MS, byKey, clientFor, committed, failure, INSTANCE_ID, PLAN_GROUPS, received, rewindOf, startLocal, writesIn, admin } from "./helpers";

let dms: DmsLocal;
let client: DmsClient;

beforeEach(async () => {
  dms = await startLocal({ taskDelayMs: 5 });
  client = clientFor(dms.url);
});

afterEach(async () => {
  await client.close();
  await dms.close();
});

// ---------------------------------------------------------------------------------------------------------
// The seed's arithmetic.

const LOGS: Record<string, [bigint, bigint]> = {
  "orders/0": [0n, 1000n],
  "orders/1": [100n, 1000n],
  "orders/2": [0n, 500n],
  "payments/0": [0n, 800n],
  "payments/1": [50n, 700n],
};
const current = (k: string): bigint | undefined => {
  const v = (PLAN_GROUPS["g-plan"] as Record<string, number>)[k];
  return v === undefined ? undefined : BigInt(v);
};
const source = (k: string): bigint | undefined => {
  const v = (PLAN_GROUPS["g-source"] as Record<string, number>)[k];
  return v === undefined ? undefined : BigInt(v);
};
const bounds = (k: string) => LOGS[k] as [bigint, bigint];
const clamp = (k: string, v: bigint) => {
  const [lo, hi] = bounds(k);
  return v < lo ? lo : v > hi ? hi : v;
};

/** Record n of every seeded partition was written at BASE_MS + n seconds. */
const TIME = BASE_MS + 600_000;
/** Explicit offsets per partition: one below its log start, one past its end, one where the group already is. */
const EXPLICIT: Record<string, bigint> = { "orders/0": 50n, "orders/1": 50n, "orders/2": 700n, "payments/0": 123n, "payments/1": 60n };

interface Expected {
  target: bigint;
  clamped: boolean;
}

/** Where a target puts one partition, and whether DMS's clamping is involved; undefined: the plan leaves it alone. */
const TARGETS: Record<string, { input: (keys: string[]) => Partial<RewindInput>; expect: (k: string) => Expected | undefined }> = {
  offset: { input: () => ({ messageOffset: 600 }), expect: (k) => ({ target: clamp(k, 600n), clamped: clamp(k, 600n) !== 600n }) },
  timestamp: {
    input: () => ({ timestamp: TIME }),
    expect: (k) => {
      const n = BigInt(TIME - BASE_MS) / 1000n;
      const [lo, hi] = bounds(k);
      // No record at or after the time: the log end, flagged as clamped.
      if (n >= hi) return { target: hi, clamped: true };
      return { target: n < lo ? lo : n, clamped: false };
    },
  },
  earliest: { input: () => ({ earliest: true }), expect: (k) => ({ target: bounds(k)[0], clamped: false }) },
  latest: { input: () => ({ latest: true }), expect: (k) => ({ target: bounds(k)[1], clamped: false }) },
  shiftBy: {
    input: () => ({ shiftBy: -200 }),
    expect: (k) => {
      const c = current(k);
      return c === undefined ? undefined : { target: clamp(k, c - 200n), clamped: clamp(k, c - 200n) !== c - 200n };
    },
  },
  offsets: {
    input: (keys) => ({ offsets: keys.map((k) => ({ topic: k.split("/")[0] as string, partition: Number(k.split("/")[1]), offset: String(EXPLICIT[k]) })) }),
    expect: (k) => ({ target: clamp(k, EXPLICIT[k] as bigint), clamped: clamp(k, EXPLICIT[k] as bigint) !== EXPLICIT[k] }),
  },
  toGroup: {
    input: () => ({ toGroup: "g-source" }),
    expect: (k) => {
      const s = source(k);
      return s === undefined ? undefined : { target: s, clamped: false };
    },
  },
};

/** Each scope: the fields that choose it, and the partitions of g-plan it covers. */
const SCOPES: Record<string, { input: Partial<RewindInput>; keys: string[] }> = {
  "all topics": { input: {}, keys: ["orders/0", "orders/1", "orders/2", "payments/0", "payments/1"] },
  "partition 1 of all topics": { input: { partition: 1 }, keys: ["orders/1", "payments/1"] },
  "one topic, every partition": { input: { topic: "orders" }, keys: ["orders/0", "orders/1", "orders/2"] },
  "one partition": { input: { topic: "orders", partition: 1 }, keys: ["orders/1"] },
  "several topics with partition lists": { input: { topics: ["orders:0,2", "payments:1"] }, keys: ["orders/0", "orders/2", "payments/1"] },
};

const cases = Object.keys(TARGETS).flatMap((t) => Object.keys(SCOPES).map((s) => [t, s] as [string, string]));

describe("plan == applied, for every target kind and scope", () => {
  test.each(cases)("%s on %s", async (targetKind, scopeName) => {
    const target = TARGETS[targetKind] as (typeof TARGETS)[string];
    const scope = SCOPES[scopeName] as (typeof SCOPES)[string];
    // `offsets` names its own partitions: those of the scope.
    const request = rewindOf({ group: "g-plan", ...(targetKind === "offsets" ? {} : scope.input), ...target.input(scope.keys) });
    const before = await committed(dms, "g-plan");
    await admin(dms, "DELETE", "requests");

    const plan = await planRewind(client, request);
    const planning = await received(dms);
    expect(planning.length).toBeGreaterThan(0);
    expect(planning.filter((r) => r.method !== "GET")).toEqual([]);

    // The plan: the expected partitions, targets and flags.
    const expected = Object.fromEntries(scope.keys.flatMap((k) => {
      const e = target.expect(k);
      return e ? [[k, e]] : [];
    }));
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(Object.fromEntries(plan.partitions.map((p) => [`${p.topic}/${p.partition}`, { target: p.target, clamped: p.clamped }]))).toEqual(expected);
    for (const p of plan.partitions) {
      const k = `${p.topic}/${p.partition}`;
      expect({ k, current: p.current, forward: p.forward, unchanged: p.unchanged, logStart: p.logStart, logEnd: p.logEnd }).toEqual({
        k,
        current: current(k),
        forward: p.target > (current(k) as bigint),
        unchanged: p.target === current(k),
        logStart: bounds(k)[0],
        logEnd: bounds(k)[1],
      });
    }
    expect(byKey(plan.before)).toEqual(Object.fromEntries(scope.keys.map((k) => [k, before[k]])));

    // Applied: every planned partition where the plan said, every other one where it was, each call once.
    const result = await rewind(client, request, { pollIntervalMs: 5 });
    const after = await committed(dms, "g-plan");
    const planned = Object.fromEntries(plan.partitions.map((p) => [`${p.topic}/${p.partition}`, p.target]));
    expect(Object.fromEntries(Object.keys(planned).map((k) => [k, after[k]]))).toEqual(planned);
    expect(Object.fromEntries(Object.keys(after).filter((k) => !(k in planned)).map((k) => [k, after[k]]))).toEqual(
      Object.fromEntries(Object.keys(before).filter((k) => !(k in planned)).map((k) => [k, before[k]])),
    );
    expect(byKey(result.appliedOffsets.filter((o) => `${o.topic}/${o.partition}` in planned))).toEqual(planned);
    expect(byKey(result.previousOffsets)).toEqual(byKey(plan.before));
    // Before and after cover the same partitions: the scope's, not every partition of its topics.
    expect(Object.keys(byKey(result.appliedOffsets)).sort()).toEqual([...scope.keys].sort());
    expect(result.calls.map((c) => c.confirmedBy)).toEqual(result.plan.calls.map(() => "answer"));
    expect(writesIn(await received(dms))).toHaveLength(result.plan.calls.length);
    expect(dms.applications(INSTANCE_ID, "g-plan").count).toBe(result.plan.calls.length);
  });
});

describe("how the plan is carried out", () => {
  const callsOf = (plan: Plan) => plan.calls.map((c) => `${c.topic ?? "*"}/${c.partition} ${"messageOffset" in c.position ? `offset ${c.position.messageOffset}` : `time ${c.position.timestamp}`}`);

  test("a position DMS resolves itself goes once per topic (or once for every topic); a per-partition one as the absolute offset, once per partition that moves", async () => {
    expect(callsOf(await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", earliest: true })))).toEqual(["orders/-1 offset 0"]);
    expect(callsOf(await planRewind(client, rewindOf({ group: "g-plan", latest: true })))).toEqual(["*/-1 offset 9223372036854775807"]);
    expect(callsOf(await planRewind(client, rewindOf({ group: "g-plan", topics: ["orders:0,2", "payments"], timestamp: TIME })))).toEqual([
      `orders/0 time ${TIME}`,
      `orders/2 time ${TIME}`,
      `payments/-1 time ${TIME}`,
    ]);
    // orders/2 is where g-source is: no call for it.
    expect(callsOf(await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", toGroup: "g-source" })))).toEqual(["orders/0 offset 100", "orders/1 offset 900"]);
    expect(callsOf(await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", shiftBy: -200 })))).toEqual(["orders/0 offset 200", "orders/1 offset 100", "orders/2 offset 250"]);
  });

  test("flags: forward, clamped below the log start and past its end, unchanged; and the group ends where the plan said", async () => {
    const plan = await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", shiftBy: 300 }));
    const flags = Object.fromEntries(plan.partitions.map((p) => [`${p.topic}/${p.partition}`, [p.target, p.requested, p.forward, p.clamped, p.unchanged]]));
    expect(flags).toEqual({
      "orders/0": [700n, undefined, true, false, false],
      "orders/1": [450n, undefined, true, false, false],
      "orders/2": [500n, 750n, true, true, false],
    });
    const back = await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", messageOffset: 450 }));
    expect(back.partitions.map((p) => [p.target, p.forward, p.clamped, p.unchanged])).toEqual([
      [450n, true, false, false],
      [450n, true, false, false],
      [450n, false, false, true],
    ]);
    const below = await planRewind(client, rewindOf({ group: "g-plan", topic: "orders", partition: 1, messageOffset: 5 }));
    expect(below.partitions.map((p) => [p.target, p.requested, p.forward, p.clamped])).toEqual([[100n, 5n, false, true]]);
    await rewind(client, rewindOf({ group: "g-plan", topic: "orders", partition: 1, messageOffset: 5 }));
    expect((await committed(dms, "g-plan"))["orders/1"]).toBe(100n);
  });

  test("a time before a partition's first retained record lands on its log start, as DMS puts it", async () => {
    // orders/1 starts at 100: records 0..99 (written in the first 100 s) are gone.
    const request = rewindOf({ group: "g-plan", topic: "orders", timestamp: BASE_MS + 50_000 });
    const plan = await planRewind(client, request);
    expect(plan.partitions.map((p) => p.target)).toEqual([50n, 100n, 50n]);
    await rewind(client, request);
    expect(await committed(dms, "g-plan")).toMatchObject({ "orders/0": 50n, "orders/1": 100n, "orders/2": 50n });
  });

  test("partitions without a committed offset: a shared position commits one on each, as planned; shiftBy leaves them alone", async () => {
    // billing has only orders/0 of orders.
    const plan = await planRewind(client, rewindOf({ group: "billing", topic: "orders", messageOffset: 300 }));
    expect(plan.partitions.map((p) => [p.partition, p.current, p.target, p.forward, p.unchanged])).toEqual([
      [0, 990n, 300n, false, false],
      [1, undefined, 300n, false, false],
      [2, undefined, 300n, false, false],
    ]);
    const result = await rewind(client, rewindOf({ group: "billing", topic: "orders", messageOffset: 300 }));
    expect(byKey(result.appliedOffsets)).toEqual({ "orders/0": 300n, "orders/1": 300n, "orders/2": 300n });
    const shift = await planRewind(client, rewindOf({ group: "g-idle", topic: "payments", toGroup: "billing" }));
    expect(shift.partitions.map((p) => [p.partition, p.current, p.target])).toEqual([
      [0, undefined, 780n],
      [1, undefined, 690n],
    ]);
  });

  test("int64 past 2^53 stays exact from plan to applied", async () => {
    const request = rewindOf({ group: "g-huge", topic: "huge", shiftBy: "-99" });
    const plan = await planRewind(client, request);
    expect(plan.partitions.map((p) => p.target)).toEqual([9_007_199_254_740_001n]);
    const result = await rewind(client, request);
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([9_007_199_254_740_001n]);
  });
});

describe("a plan that cannot be made fails before anything is sent", () => {
  test.each<[string, Omit<RewindInput, "projectId" | "instanceId">, RegExp]>([
    ["an unknown topic", { group: "g-plan", topic: "nope", messageOffset: 1 }, /topic nope/],
    ["an unknown topic among several", { group: "g-plan", topics: ["orders", "nope:0"], earliest: true }, /topic nope/],
    ["a partition the topic lacks", { group: "g-plan", topic: "orders", partition: 7, messageOffset: 1 }, /topic orders has no partition 7 \(it has 3: 0 to 2\)/],
    ["partitions a topic lacks, in a list", { group: "g-plan", topics: ["orders:1,5,9"], latest: true }, /topic orders has no partition 5, 9/],
    ["an explicit offset on a partition the topic lacks", { group: "g-plan", offsets: [{ topic: "payments", partition: 2, offset: 1 }] }, /topic payments has no partition 2/],
    ["a group with no committed offsets, every topic", { group: "g-none", earliest: true }, /group g-none has no committed offsets on any topic/],
    ["a group with no committed offsets, shifted", { group: "g-none", topic: "orders", shiftBy: 5 }, /group g-none has no committed offsets on orders to shift from/],
    ["copying a group with no committed offsets", { group: "g-plan", toGroup: "g-none" }, /group g-none has no committed offsets on any topic: nothing to copy/],
    ["copying a group with none on the scope", { group: "g-plan", topic: "payments", partition: 0, toGroup: "g-source" }, /group g-source has no committed offsets on payments:0/],
  ])("%s: PlanError, 0 writes", async (_what, input, message) => {
    const before = await committed(dms, "g-plan");
    const err = await failure(rewind(client, rewindOf(input)));
    expect(err).toBeInstanceOf(PlanError);
    expect(err.message).toMatch(message);
    expect(writesIn(await received(dms))).toEqual([]);
    expect(dms.applications(INSTANCE_ID, input.group).count).toBe(0);
    expect(await committed(dms, "g-plan")).toEqual(before);
  });

  test("an unknown instance stays DMS's own 404, not a topic that does not exist", async () => {
    const err = await failure(planRewind(client, { ...rewindOf({ group: "g-plan", topic: "orders", earliest: true }), instanceId: "no-such-instance" }));
    expect(err).toBeInstanceOf(DmsError);
    expect(err).toMatchObject({ status: 404, errorCode: "DMS.00404022" });
    expect(writesIn(await received(dms))).toEqual([]);
  });
});
