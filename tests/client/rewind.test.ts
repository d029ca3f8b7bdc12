import { GroupNotInactiveError, ResetNotConfirmedError, TaskFailedError } from "../../provider/rewind/errors";
import { renderOffsets, rewind } from "../../provider/rewind/rewind";
import type { Task } from "../../provider/dms/wire";
import { fakeDmsHandler, type FakeDms } from "./fake-dms";
import { fakeServerWithClientPerTest, type FakeServer } from "./fake-server";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET" };

const startWithClient = fakeServerWithClientPerTest();
const startDms = (dms: FakeDms) => startWithClient(fakeDmsHandler(dms), { credentials });

const resets = (s: FakeServer) => s.received.filter((r) => r.method !== "GET");
const members = [
  { member_id: "consumer-1-aaa", host: "/10.0.0.7", client_id: "billing-1", assignment: [{ topic: "orders", partitions: [0] }] },
  { member_id: "consumer-2-bbb", host: "/10.0.0.8", client_id: "billing-2", assignment: [{ topic: "orders", partitions: [1] }] },
];
const offsets = () => new Map([["orders", [500n, 600n]], ["payments", [700n]]]);
const toOffset = { instanceId: "inst-1", group: "g1", partition: -1, position: { messageOffset: 100n } };

describe("rewind of one topic", () => {
  test("records offsets before and after, without waiting for a task", async () => {
    const { server, client } = await startDms({ states: ["Empty"], members, offsets: offsets(), tasks: [] });
    const result = await rewind(client, { ...toOffset, topic: "orders" }, { pollIntervalMs: 10 });
    expect(result.previousOffsets.map((o) => o.messageCurrentOffset)).toEqual([500n, 600n]);
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([100n, 100n]);
    expect(result.requestId).toMatch(/^req-/);
    expect(result.taskId).toBeUndefined();
    expect(Number.isNaN(Date.parse(result.resetAt))).toBe(false);
    expect(server.received.some((r) => r.url.includes("/tasks"))).toBe(false);
    expect(resets(server)).toHaveLength(1);
  });

  test("renderOffsets turns every int64 into a decimal string", () => {
    const rendered = renderOffsets([{ topic: "t", partition: 0, messageCurrentOffset: 2n ** 63n - 1n, messageLogStartOffset: 0n, messageLogEndOffset: 9007199254740993n, lag: 1n }]);
    expect(JSON.stringify(rendered)).toBe(
      '[{"topic":"t","partition":0,"messageCurrentOffset":"9223372036854775807","messageLogStartOffset":"0","messageLogEndOffset":"9007199254740993","lag":"1"}]',
    );
  });
});

describe("a group with consumers", () => {
  test("without a wait: refused before any reset, naming state and every member", async () => {
    const { server, client } = await startDms({ states: ["STABLE"], members, offsets: offsets(), tasks: [] });
    const err = (await rewind(client, { ...toOffset, topic: "orders" }).catch((e: unknown) => e)) as GroupNotInactiveError;
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(err).toMatchObject({ group: "g1", state: "STABLE" });
    expect(err.members).toEqual([
      { memberId: "consumer-1-aaa", clientId: "billing-1", host: "/10.0.0.7" },
      { memberId: "consumer-2-bbb", clientId: "billing-2", host: "/10.0.0.8" },
    ]);
    expect(err.message).toMatch(/"g1" is STABLE.*consumer-1-aaa \(client billing-1 on \/10\.0\.0\.7\), consumer-2-bbb \(client billing-2 on \/10\.0\.0\.8\)/);
    expect(resets(server)).toHaveLength(0);
  });

  test("waits until the group is EMPTY, then resets", async () => {
    const lines: string[] = [];
    const { server, client } = await startDms({ states: ["STABLE", "PREPARING_REBALANCE", "STABLE", "EMPTY"], members, offsets: offsets(), tasks: [] });
    const result = await rewind(client, { ...toOffset, topic: "orders" }, { waitForInactiveMs: 5000, pollIntervalMs: 20, log: (l) => lines.push(l) });
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([100n, 100n]);
    expect(server.received.filter((r) => /\/groups\/g1$/.test(r.url))).toHaveLength(4);
    expect(resets(server)).toHaveLength(1);
    expect(lines[0]).toMatch(/group g1 is STABLE; waiting up to 5s/);
  });

  test("a wait that runs out sends no reset and names the members", async () => {
    const { server, client } = await startDms({ states: ["STABLE"], members, offsets: offsets(), tasks: [] });
    const err = (await rewind(client, { ...toOffset, topic: "orders" }, { waitForInactiveMs: 300, pollIntervalMs: 50 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(err.message).toMatch(/STABLE, not EMPTY after waiting 0s; still connected: consumer-1-aaa .*consumer-2-bbb/);
    expect(server.received.filter((r) => /\/groups\/g1$/.test(r.url)).length).toBeGreaterThan(2);
    expect(resets(server)).toHaveLength(0);
  });

  test("DEAD counts as inactive, in any case", async () => {
    const { server, client } = await startDms({ states: ["dead"], members, offsets: offsets(), tasks: [] });
    await rewind(client, { ...toOffset, topic: "orders" });
    expect(resets(server)).toHaveLength(1);
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

  test("an older SUCCESS task of the same name is not taken for this one", async () => {
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
    const result = await rewind(client, toOffset, { pollIntervalMs: 10 });
    expect(result.taskId).toBe("new-1");
    expect(result.appliedOffsets.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`)).toEqual(["orders/0=100", "orders/1=100", "payments/0=100"]);
    // One listing before the reset, then polls until new-1 reported SUCCESS on the third.
    expect(server.received.filter((r) => r.url.endsWith("/tasks"))).toHaveLength(4);
  });

  test("a failed task is an error naming its id, even with an older successful one around", async () => {
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
    const err = (await rewind(client, toOffset, { pollIntervalMs: 10 }).catch((e: unknown) => e)) as ResetNotConfirmedError;
    // The reset was sent: the error says so before it says what went wrong afterwards.
    expect(err).toBeInstanceOf(ResetNotConfirmedError);
    expect(err.cause).toBeInstanceOf(TaskFailedError);
    expect(err.cause).toMatchObject({ taskId: "new-2", status: "FAILED" });
    expect(err.message).toMatch(/^the reset of group g1 \(every topic, every partition\) to offset \d+ was ACCEPTED by DMS \(request id \S+\), but confirming it failed: DMS task new-2 \(kafkaResetConsumerOffset\) ended with status FAILED$/);
  });

  test("a task that never finishes ends at the task timeout, named", async () => {
    const dms: FakeDms = { states: ["EMPTY"], members, offsets: offsets(), tasks: [], onReset: () => dms.tasks.push(task("slow", "CREATED")) };
    const { client } = await startDms(dms);
    await expect(rewind(client, toOffset, { pollIntervalMs: 20, taskTimeoutMs: 200 })).rejects.toThrow(/task slow .* ended with status CREATED: not finished after 0s/);
  });

  test("no new task at all is reported, not mistaken for an old one", async () => {
    const { client } = await startDms({ states: ["EMPTY"], members, offsets: offsets(), tasks: [task("old-ok", "SUCCESS")] });
    await expect(rewind(client, toOffset, { pollIntervalMs: 20, taskTimeoutMs: 200 })).rejects.toThrow(/no kafkaResetConsumerOffset task for group g1 appeared/);
  });
});
