// rewind() and its steps (prepareRewind, recheckPlan, applyPlan) against a scripted DMS: the group must be
// without consumers before anything is sent (waiting for it, with progress lines), the plan is made by reads
// and shown before any write, a plan that waited is looked at again, an all-topics reset waits for the task
// it started (not an older one), and a reset whose confirmation fails says it was accepted, with the
// offsets to undo it.
import { ForwardMoveRefusedError, GroupNotInactiveError, ResetNotConfirmedError, TaskFailedError } from "../../provider/rewind/errors";
import { PlanError } from "../../provider/rewind/plan";
import { applyPlan, prepareRewind, recheckPlan, renderOffsets, rewind } from "../../provider/rewind/rewind";
import { rewindSchema, type Rewind, type RewindInput } from "../../provider/rewind/target";
import type { Task } from "../../provider/dms/wire";
import { fakeDmsHandler, type FakeDms } from "./fake-dms";
import { errorBody, fakeServerWithClientPerTest, type FakeServer } from "./fake-server";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET" };

const startWithClient = fakeServerWithClientPerTest();
const startDms = (dms: FakeDms) => startWithClient(fakeDmsHandler(dms), { credentials, retry: { baseDelayMs: 5, maxDelayMs: 20 } });

const writes = (s: FakeServer) => s.received.filter((r) => r.method !== "GET");
/** ShowGroup reads: the look at the group's state. */
const stateReads = (s: FakeServer) => s.received.filter((r) => /\/instances\/inst-1\/groups\/g1$/.test(r.url));
const members = [
  { member_id: "consumer-1-aaa", host: "/10.0.0.7", client_id: "billing-1", assignment: [{ topic: "orders", partitions: [0] }] },
  { member_id: "consumer-2-bbb", host: "/10.0.0.8", client_id: "billing-2", assignment: [{ topic: "orders", partitions: [1] }] },
];
const offsets = () => new Map([["orders", [500n, 600n]], ["payments", [700n]]]);
const rewindOf = (input: Partial<RewindInput>): Rewind => rewindSchema().parse({ projectId: "proj-1", instanceId: "inst-1", group: "g1", ...input });
const ordersTo100 = rewindOf({ topic: "orders", messageOffset: 100 });
const everyTopicTo100 = rewindOf({ messageOffset: 100 });
const UNDO = "Offsets before the reset (to undo, rewind to these): orders/0=500, orders/1=600, payments/0=700";

describe("rewind of one topic", () => {
  test("records offsets before and after, without waiting for a task", async () => {
    const { server, client } = await startDms({ states: ["Empty"], members, offsets: offsets(), tasks: [] });
    const result = await rewind(client, ordersTo100, { pollIntervalMs: 10 });
    expect(result.previousOffsets.map((o) => o.messageCurrentOffset)).toEqual([500n, 600n]);
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([100n, 100n]);
    expect(result.calls).toEqual([expect.objectContaining({ confirmedBy: "answer", requestId: expect.stringMatching(/^req-/) })]);
    expect(result.requestId).toMatch(/^req-/);
    expect(result.taskId).toBeUndefined();
    expect(Number.isNaN(Date.parse(result.resetAt))).toBe(false);
    expect(server.received.some((r) => r.url.includes("/tasks"))).toBe(false);
    expect(writes(server).map((r) => r.body.toString())).toEqual(['{"partition":-1,"topic":"orders","message_offset":100}']);
  });

  test("renderOffsets turns every int64 into a decimal string", () => {
    const rendered = renderOffsets([{ topic: "t", partition: 0, messageCurrentOffset: 2n ** 63n - 1n, messageLogStartOffset: 0n, messageLogEndOffset: 9007199254740993n, lag: 1n }]);
    expect(JSON.stringify(rendered)).toBe(
      '[{"topic":"t","partition":0,"messageCurrentOffset":"9223372036854775807","messageLogStartOffset":"0","messageLogEndOffset":"9007199254740993","lag":"1"}]',
    );
  });

  test("a read-back that fails after DMS accepted the reset: ResetNotConfirmedError, saying it was accepted, with the undo record", async () => {
    const { server, client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [], offsetReadsAfterReset: { status: 403, body: errorBody("APIG.0302", "not allowed to read") } });
    const err = (await rewind(client, ordersTo100).catch((e: unknown) => e)) as ResetNotConfirmedError;
    expect(err).toBeInstanceOf(ResetNotConfirmedError);
    expect(err.requestId).toMatch(/^req-/);
    expect(err.message).toMatch(
      /^the reset of group g1 \(topic orders, every partition\) to offset 100 was ACCEPTED by DMS \(request id req-\d+\), but confirming it failed: DMS GET \S+ failed: 403 APIG\.0302 "not allowed to read" \(request id req-\d+\)\. Offsets before the reset \(to undo, rewind to these\): orders\/0=500, orders\/1=600$/,
    );
    expect(err.undo.map((o) => o.messageCurrentOffset)).toEqual([500n, 600n]);
    expect(writes(server)).toHaveLength(1);
  });
});

describe("a group with consumers", () => {
  test("without a wait: refused before any write, naming state and every member", async () => {
    const { server, client } = await startDms({ states: ["STABLE"], members, offsets: offsets(), tasks: [] });
    const err = (await rewind(client, ordersTo100).catch((e: unknown) => e)) as GroupNotInactiveError;
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(err).toMatchObject({ group: "g1", state: "STABLE" });
    expect(err.members).toEqual([
      { memberId: "consumer-1-aaa", clientId: "billing-1", host: "/10.0.0.7" },
      { memberId: "consumer-2-bbb", clientId: "billing-2", host: "/10.0.0.8" },
    ]);
    expect(err.message).toMatch(/"g1" is STABLE.*consumer-1-aaa \(client billing-1 on \/10\.0\.0\.7\), consumer-2-bbb \(client billing-2 on \/10\.0\.0\.8\).*Nothing was sent/);
    expect(writes(server)).toHaveLength(0);
  });

  test("waits until the group is EMPTY, with a progress line at each look, then resets", async () => {
    const lines: string[] = [];
    const { server, client } = await startDms({ states: ["STABLE", "PREPARING_REBALANCE", "STABLE", "EMPTY"], members, offsets: offsets(), tasks: [] });
    const result = await rewind(client, ordersTo100, { waitForInactiveMs: 20_000, pollIntervalMs: 5, progressIntervalMs: 0, log: (l) => lines.push(l) });
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([100n, 100n]);
    expect(stateReads(server)).toHaveLength(4);
    expect(writes(server)).toHaveLength(1);
    const waiting = lines.filter((l) => l.startsWith("waiting for group g1"));
    expect(waiting.map((l) => l.replace(/\d+s left$/, "Ns left"))).toEqual([
      "waiting for group g1 to empty: STABLE, 2 members still connected (billing-1 on /10.0.0.7, billing-2 on /10.0.0.8); Ns left",
      "waiting for group g1 to empty: PREPARING_REBALANCE, 2 members still connected (billing-1 on /10.0.0.7, billing-2 on /10.0.0.8); Ns left",
      "waiting for group g1 to empty: STABLE, 2 members still connected (billing-1 on /10.0.0.7, billing-2 on /10.0.0.8); Ns left",
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^group g1 is EMPTY after \d+s$/));
    // Every line about waiting came before the reset was sent.
    expect(lines.findIndex((l) => l.startsWith("DMS applied"))).toBeGreaterThan(lines.findIndex((l) => l.startsWith("group g1 is EMPTY")));
  });

  test("a wait that runs out sends no write and names the members", async () => {
    const { server, client } = await startDms({ states: ["STABLE"], members, offsets: offsets(), tasks: [] });
    const err = (await rewind(client, ordersTo100, { waitForInactiveMs: 300, pollIntervalMs: 20 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(err.message).toMatch(/STABLE, not EMPTY after waiting \d+s; still connected: consumer-1-aaa .*consumer-2-bbb/);
    expect(writes(server)).toHaveLength(0);
  });

  test("DEAD counts as inactive, in any case", async () => {
    const { server, client } = await startDms({ states: ["dead"], members, offsets: offsets(), tasks: [] });
    await rewind(client, ordersTo100);
    expect(writes(server)).toHaveLength(1);
  });
});

describe("the plan before anything is sent", () => {
  test("prepareRewind reads only; applyPlan sends the plan's calls and reads back", async () => {
    const { server, client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [] });
    const plan = await prepareRewind(client, rewindOf({ topics: ["orders:1"], shiftBy: -50 }));
    expect(writes(server)).toHaveLength(0);
    expect(plan.partitions).toEqual([expect.objectContaining({ topic: "orders", partition: 1, current: 600n, target: 550n, forward: false, clamped: false, unchanged: false })]);
    expect(plan.calls.map((c) => c.position)).toEqual([{ messageOffset: 550n }]);
    const result = await applyPlan(client, plan);
    expect(writes(server).map((r) => r.body.toString())).toEqual(['{"partition":1,"topic":"orders","message_offset":550}']);
    expect(result.appliedOffsets.map((o) => [o.partition, o.messageCurrentOffset])).toEqual([[1, 550n]]);
  });

  test("beforeSend sees the plan; throwing stops the rewind with nothing sent", async () => {
    const { server, client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [] });
    const seen: number[] = [];
    const err = await rewind(client, ordersTo100, {
      beforeSend: (plan) => {
        seen.push(plan.partitions.length);
        throw new Error("declined");
      },
    }).catch((e: unknown) => e);
    expect(err).toEqual(new Error("declined"));
    expect(seen).toEqual([2]);
    expect(writes(server)).toHaveLength(0);
  });

  test("forward moves are warned of, clamping too; forbidForward refuses them before anything is sent", async () => {
    const { server, client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [] });
    const warnings: string[] = [];
    await prepareRewind(client, rewindOf({ topic: "orders", messageOffset: 5000 }), { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([
      "group g1: orders/0 moves FORWARD 500 → 1000: 500 records will be skipped",
      "group g1: orders/0 is clamped by DMS to 1000 (the log holds 0 to 1000)",
      "group g1: orders/1 moves FORWARD 600 → 1000: 400 records will be skipped",
      "group g1: orders/1 is clamped by DMS to 1000 (the log holds 0 to 1000)",
    ]);
    const err = await rewind(client, rewindOf({ topic: "orders", shiftBy: 10 }), { forbidForward: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForwardMoveRefusedError);
    expect((err as Error).message).toBe("the plan moves group \"g1\" FORWARD, skipping records, on orders/0 500 → 510 (skips 10), orders/1 600 → 610 (skips 10); forbidForward forbids that: nothing was sent");
    expect(writes(server)).toHaveLength(0);
  });

  test("a plan that waited is looked at again: offsets moved meanwhile → PlanError, nothing sent", async () => {
    const dms: FakeDms = { states: ["EMPTY"], members, offsets: offsets(), tasks: [] };
    const { server, client } = await startDms(dms);
    const plan = await prepareRewind(client, ordersTo100);
    (dms.offsets.get("orders") as bigint[])[1] = 601n;
    const err = await recheckPlan(client, ordersTo100, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toBe("group g1's offsets changed since the plan was made (orders/0=500, orders/1=600 → orders/0=500, orders/1=601): nothing was sent; plan again");
    expect(writes(server)).toHaveLength(0);
  });

  test("a plan that waited is looked at again: consumers came back → GroupNotInactiveError, nothing sent", async () => {
    const { server, client } = await startDms({ states: ["EMPTY", "STABLE"], members, offsets: offsets(), tasks: [] });
    const err = await rewind(client, ordersTo100, { beforeSend: () => ({ recheck: true }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(stateReads(server)).toHaveLength(2);
    expect(writes(server)).toHaveLength(0);
  });

  test("rechecked and unchanged: applied as planned", async () => {
    const { server, client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [] });
    const result = await rewind(client, ordersTo100, { beforeSend: () => ({ recheck: true }) });
    expect(stateReads(server)).toHaveLength(2);
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([100n, 100n]);
  });
});

describe("rewind of every topic waits for the task this reset created", () => {
  const task = (id: string, status: string, group = "g1", created = "2026-01-01T00:00:00Z"): Task => ({
    id,
    name: "kafkaResetConsumerOffset",
    params: JSON.stringify({ group_id: group }),
    status,
    created_at: created,
  });

  test("an older SUCCESS task of the same name is not taken for this one, nor another group's", async () => {
    const dms: FakeDms = {
      states: ["EMPTY"],
      members,
      offsets: offsets(),
      tasks: [task("old-ok", "SUCCESS"), task("old-failed", "FAILED")],
      onReset: () => dms.tasks.unshift(task("other-group", "CREATED", "g2"), task("new-1", "CREATED")),
      onTasksListed: (n) => {
        if (n === 3) dms.tasks = dms.tasks.map((t) => (t.id === "new-1" ? { ...t, status: "SUCCESS" } : t));
      },
    };
    const { server, client } = await startDms(dms);
    const lines: string[] = [];
    const result = await rewind(client, everyTopicTo100, { pollIntervalMs: 10, log: (l) => lines.push(l) });
    expect(result.taskId).toBe("new-1");
    expect(result.appliedOffsets.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`)).toEqual(["orders/0=100", "orders/1=100", "payments/0=100"]);
    expect(writes(server).map((r) => r.body.toString())).toEqual(['{"partition":-1,"message_offset":100}']);
    // One listing before the reset, then polls until new-1 reported SUCCESS on the third.
    expect(server.received.filter((r) => r.url.split("?")[0]?.endsWith("/tasks"))).toHaveLength(4);
    expect(lines).toContain("waiting for DMS task new-1 (kafkaResetConsumerOffset) of group g1");
  });

  test("a failed task is an error naming its id, even with an older successful one around, with the undo record", async () => {
    const dms: FakeDms = {
      states: ["EMPTY"],
      members,
      offsets: offsets(),
      tasks: [task("old-ok", "SUCCESS")],
      onReset: () => dms.tasks.push(task("new-2", "CREATED")),
      onTasksListed: (n) => {
        if (n === 2) dms.tasks = dms.tasks.map((t) => (t.id === "new-2" ? { ...t, status: "FAILED" } : t));
      },
    };
    const { client } = await startDms(dms);
    const err = (await rewind(client, everyTopicTo100, { pollIntervalMs: 10 }).catch((e: unknown) => e)) as ResetNotConfirmedError;
    // The reset was sent: the error says so before it says what went wrong afterwards.
    expect(err).toBeInstanceOf(ResetNotConfirmedError);
    expect(err.cause).toBeInstanceOf(TaskFailedError);
    expect(err.cause).toMatchObject({ taskId: "new-2", status: "FAILED" });
    expect(err.message).toBe(
      `the reset of group g1 (every topic, every partition) to offset 100 was ACCEPTED by DMS (request id ${err.requestId}), but confirming it failed: DMS task new-2 (kafkaResetConsumerOffset) ended with status FAILED. ${UNDO}`,
    );
    expect(err.undo.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`)).toEqual(["orders/0=500", "orders/1=600", "payments/0=700"]);
  });

  test("a task that never finishes ends at the task timeout, named", async () => {
    const dms: FakeDms = { states: ["EMPTY"], members, offsets: offsets(), tasks: [], onReset: () => dms.tasks.push(task("slow", "CREATED")) };
    const { client } = await startDms(dms);
    const err = await rewind(client, everyTopicTo100, { pollIntervalMs: 20, taskTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResetNotConfirmedError);
    expect((err as Error).message).toMatch(/task slow .* ended with status CREATED: not finished after 0s\. Offsets before the reset/);
  });

  test("no new task at all is reported, not mistaken for an old one", async () => {
    const { client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [task("old-ok", "SUCCESS")] });
    await expect(rewind(client, everyTopicTo100, { pollIntervalMs: 20, taskTimeoutMs: 200 })).rejects.toThrow(/no kafkaResetConsumerOffset task for group g1 appeared/);
  });
});
