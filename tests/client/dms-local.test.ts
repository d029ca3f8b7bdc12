// The client, rewind() and the CLI against dms-local: real signature checks, real reset semantics and
// tasks, and faults injected through its admin API.
import { request } from "undici";
import { main } from "../../provider/cli/main";
import { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { GroupNotInactiveError, ResetNotConfirmedError, TaskFailedError } from "../../provider/rewind/errors";
import { applyPlan, prepareRewind, rewind } from "../../provider/rewind/rewind";
import { rewindSchema, type Rewind, type RewindInput } from "../../provider/rewind/target";
import { RESET_TASK_NAME } from "../../provider/dms/wire";
import { MemoryWorld } from "../../dms-local/memory-world";
import type { LoggedRequest } from "../../dms-local/request-log";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { BASE_MS, BEYOND_DOUBLE, CREDENTIALS, INSTANCE_ID, PROJECT_ID, UNICODE_GROUP, testSeed } from "../dms-local/helpers";

let dms: DmsLocal;
let client: DmsClient;

async function start(options: { world?: MemoryWorld; taskDelayMs?: number } = {}) {
  dms = await startDmsLocal({ seed: testSeed(), admin: true, taskDelayMs: options.taskDelayMs ?? 100, ...(options.world && { world: options.world }) });
  client = new DmsClient({ endpoint: new URL(dms.url), projectId: PROJECT_ID, credentials: CREDENTIALS, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
}

afterEach(async () => {
  await client.close();
  await dms.close();
});

async function admin(method: "POST" | "GET" | "DELETE", path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${dms.url}/__admin/${path}`, { method, ...(body !== undefined && { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`admin ${method} ${path}: ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function logged(): Promise<LoggedRequest[]> {
  return ((await admin("GET", "requests")) as { requests: LoggedRequest[] }).requests;
}
const resetsIn = (log: LoggedRequest[]) => log.filter((r) => r.path.endsWith("/reset-message-offset"));

describe("client against dms-local", () => {
  test("a read is sent again after injected 503s and a dropped connection; dms-local verifies every signature", async () => {
    await start();
    await admin("POST", "faults", { count: 2, status: 503, match: { method: "GET", pathIncludes: "/message-offset" } });
    await admin("POST", "faults", { count: 1, drop: true, match: { method: "GET", pathIncludes: "/message-offset" } });
    const offsets = await client.listGroupMessageOffsets(INSTANCE_ID, "g-idle", "orders");
    expect(offsets).toHaveLength(3);
    const log = (await logged()).filter((r) => r.path.endsWith("/message-offset"));
    expect(log.map((r) => r.status)).toEqual([503, 503, null, 200]);
    expect(log.every((r) => r.credential === 0)).toBe(true);
  });

  test("a reset answered 503 is not sent again: its outcome is unknown", async () => {
    await start();
    await admin("POST", "faults", { count: 1, status: 503, match: { method: "PUT" } });
    const outcome = await client.resetMessageOffset({ instanceId: INSTANCE_ID, group: "g-idle", topic: "orders", partition: 0, position: { messageOffset: 5n } });
    expect(outcome).toMatchObject({ outcome: "unknown", status: 503 });
    expect(resetsIn(await logged()).map((r) => r.status)).toEqual([503]);
  });

  test("429 with Retry-After is waited out", async () => {
    await start();
    await admin("POST", "faults", { count: 1, status: 429, retryAfterSeconds: 1, match: { method: "PUT" } });
    await client.resetMessageOffset({ instanceId: INSTANCE_ID, group: "g-idle", topic: "orders", partition: 0, position: { messageOffset: 5n } });
    const [first, second] = resetsIn(await logged());
    expect(first?.status).toBe(429);
    expect(Date.parse(second?.at ?? "") - Date.parse(first?.at ?? "")).toBeGreaterThanOrEqual(950);
  });

  test("DMS.00400026 from a still-running task is retried until the task is done", async () => {
    // The task runs a second after the first reset: the second one comes while it is still pending.
    await start({ taskDelayMs: 1000 });
    const all = { instanceId: INSTANCE_ID, group: "billing", partition: -1, position: { messageOffset: 0n } };
    await client.resetMessageOffset(all);
    await client.resetMessageOffset({ ...all, position: { messageOffset: 1n } });
    const statuses = resetsIn(await logged()).map((r) => r.status);
    expect(statuses[0]).toBe(204);
    expect(statuses.at(-1)).toBe(204);
    expect(statuses.slice(1, -1).length).toBeGreaterThan(0);
    expect(statuses.slice(1, -1).every((s) => s === 400)).toBe(true);
  });

  test("another 400 is sent once and surfaces as a DmsError", async () => {
    await start();
    const err = (await client
      .resetMessageOffset({ instanceId: INSTANCE_ID, group: "g-idle", topic: "nope", partition: 0, position: { messageOffset: 5n } })
      .catch((e: unknown) => e)) as DmsError;
    expect(err).toBeInstanceOf(DmsError);
    expect(err.status).toBe(400);
    expect(err.errorCode).toMatch(/^DMS\./);
    expect(err.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(resetsIn(await logged())).toHaveLength(1);
  });

  test("int64 past 2^53 and a Unicode group name survive the round trip", async () => {
    await start();
    await client.resetMessageOffset({ instanceId: INSTANCE_ID, group: "g-huge", topic: "huge", partition: 0, position: { messageOffset: BEYOND_DOUBLE } });
    expect(resetsIn(await logged())[0]?.body).toBe('{"partition":0,"topic":"huge","message_offset":9007199254740993}');
    const [row] = await client.listGroupMessageOffsets(INSTANCE_ID, "g-huge", "huge");
    expect(row?.messageCurrentOffset).toBe(9007199254740993n);
    await client.resetMessageOffset({ instanceId: INSTANCE_ID, group: UNICODE_GROUP, topic: "orders", partition: 0, position: { messageOffset: 7n } });
    expect((await client.listGroupMessageOffsets(INSTANCE_ID, UNICODE_GROUP, "orders"))[0]?.messageCurrentOffset).toBe(7n);
  });
});

describe("rewind against dms-local", () => {
  const rewindOf = (input: Omit<RewindInput, "projectId" | "instanceId">): Rewind => rewindSchema().parse({ projectId: PROJECT_ID, instanceId: INSTANCE_ID, ...input });
  const busyOrdersTo0 = rewindOf({ group: "g-busy", topic: "orders", messageOffset: 0 });
  const billingEveryTopicTo0 = rewindOf({ group: "billing", messageOffset: 0 });

  test("a group with consumers is refused before any write, naming them", async () => {
    await start();
    const err = (await rewind(client, busyOrdersTo0).catch((e: unknown) => e)) as GroupNotInactiveError;
    expect(err).toBeInstanceOf(GroupNotInactiveError);
    expect(err.message).toMatch(/"g-busy" is STABLE.*consumer-1-aaaa \(client consumer-1 on \/10\.0\.0\.11\), consumer-2-bbbb \(client consumer-2 on \/10\.0\.0\.12\)/);
    expect(resetsIn(await logged())).toHaveLength(0);
  });

  test("waits for consumers that stop, with progress lines, then resets", async () => {
    await start();
    await admin("POST", `instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterMs: 300 });
    const lines: string[] = [];
    const result = await rewind(client, busyOrdersTo0, { waitForInactiveMs: 10_000, pollIntervalMs: 50, progressIntervalMs: 0, log: (l) => lines.push(l) });
    // Offset 0 is clamped to each partition's log start (orders/1 starts at 100).
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([0n, 100n, 0n]);
    expect(result.previousOffsets.map((o) => o.messageCurrentOffset)).toEqual([10n, 110n, 20n]);
    expect(lines[0]).toMatch(/^waiting for group g-busy to empty: STABLE, 2 members still connected \(consumer-1 on \/10\.0\.0\.11, consumer-2 on \/10\.0\.0\.12\); \d+s left$/);
    expect(lines).toContainEqual(expect.stringMatching(/^group g-busy is EMPTY after \d+s$/));
    expect(resetsIn(await logged())).toHaveLength(1);
  });

  test("a wait that runs out sends no write", async () => {
    await start();
    await admin("POST", `instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterMs: 60_000 });
    await expect(rewind(client, busyOrdersTo0, { waitForInactiveMs: 300, pollIntervalMs: 50 })).rejects.toThrow(/g-busy.*after waiting \d+s; still connected: consumer-1-aaaa/);
    expect(resetsIn(await logged())).toHaveLength(0);
  });

  test("planning sends only reads; the reset applies once, where the plan said", async () => {
    await start();
    const plan = await prepareRewind(client, rewindOf({ group: "g-idle", topic: "orders", timestamp: BASE_MS + 300_000 }));
    expect((await logged()).filter((r) => r.method !== "GET")).toEqual([]);
    expect(plan.partitions.map((p) => p.target)).toEqual([300n, 300n, 300n]);
    const result = await applyPlan(client, plan);
    expect(result.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual([300n, 300n, 300n]);
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);
  });

  test("an all-topics reset waits for its own task, not an older one of the same name", async () => {
    const world = new MemoryWorld(testSeed());
    const old = (id: string, status: "SUCCESS" | "FAILED") =>
      world.saveTask(INSTANCE_ID, { id, name: RESET_TASK_NAME, userName: "x", userId: "y", params: '{"group":"billing"}', status, createdAt: new Date(Date.now() - 60_000), updatedAt: new Date(Date.now() - 60_000) });
    await old("old-success", "SUCCESS");
    await old("old-failed", "FAILED");
    await start({ world, taskDelayMs: 300 });
    const result = await rewind(client, billingEveryTopicTo0, { pollIntervalMs: 50 });
    expect(result.taskId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.appliedOffsets.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`)).toEqual(["orders/0=0", "payments/0=0", "payments/1=50"]);
    const tasks = await client.listTasks(INSTANCE_ID);
    expect(tasks.find((t) => t.id === result.taskId)?.status).toBe("SUCCESS");
    expect(dms.applications(INSTANCE_ID, "billing").count).toBe(1);
    await world.close();
  });

  test("a failed task is reported with its id and the undo record", async () => {
    const world = new MemoryWorld(testSeed());
    await world.saveTask(INSTANCE_ID, { id: "old-success", name: RESET_TASK_NAME, userName: "x", userId: "y", params: '{"group":"billing"}', status: "SUCCESS", createdAt: new Date(0), updatedAt: new Date(0) });
    // The broker refusing the commit when the task runs: the task ends FAILED.
    world.commitOffsets = () => Promise.reject(new Error("broker refused the commit"));
    await start({ world, taskDelayMs: 100 });
    const err = (await rewind(client, billingEveryTopicTo0, { pollIntervalMs: 50 }).catch((e: unknown) => e)) as ResetNotConfirmedError;
    expect(err).toBeInstanceOf(ResetNotConfirmedError);
    const task = err.cause as TaskFailedError;
    expect(task).toBeInstanceOf(TaskFailedError);
    expect(task.taskId).not.toBe("old-success");
    expect(err.message).toContain(`was ACCEPTED by DMS (request id ${err.requestId}), but confirming it failed: DMS task ${task.taskId} (kafkaResetConsumerOffset) ended with status FAILED`);
    expect(err.message).toMatch(/\. Offsets before the reset \(to undo, rewind to these\): orders\/0=990, payments\/0=780, payments\/1=690$/);
    expect(dms.applications(INSTANCE_ID, "billing").count).toBe(0);
    await world.close();
  });
});

describe("dms-offsets against dms-local", () => {
  const env = { CLOUD_SDK_AK: CREDENTIALS.accessKey, CLOUD_SDK_SK: CREDENTIALS.secretKey, HW_PROJECT_ID: PROJECT_ID };

  async function cli(args: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await main([...args, "--instance-id", INSTANCE_ID, "--endpoint", dms.url], env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  test("reset --json by timestamp, then show", async () => {
    await start();
    // Record n of orders was written at 1_700_000_000_000 + n seconds.
    const r = await cli(["reset", "--group", "g-idle", "--topic", "orders", "--timestamp", String(1_700_000_000_000 + 300_000), "--json", "--yes"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    // One JSON object per line: the plan, progress, then the result.
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]?.type).toBe("plan");
    const out = lines.find((l) => l.type === "result") as unknown as { appliedOffsets: { messageCurrentOffset: string }[]; previousOffsets: { messageCurrentOffset: string }[] };
    expect(out.previousOffsets.map((o) => o.messageCurrentOffset)).toEqual(["900", "950", "450"]);
    expect(out.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual(["300", "300", "300"]);

    const show = await cli(["show", "--group", "g-busy"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^group g-busy on instance .*: STABLE\nmembers \(2, stop them before a reset\):\n/);
    expect(show.stdout).toMatch(/consumer-2-bbbb\s+consumer-2\s+\/10\.0\.0\.12\s+orders\[2\]/);
  });

  test("a refused reset: exit 1 and one line with status, error_code and request id", async () => {
    await start();
    await admin("POST", "faults", { count: 1, status: 403, errorCode: "APIG.0302", errorMsg: "not authorized", match: { method: "PUT" } });
    const r = await cli(["reset", "--group", "g-idle", "--topic", "orders", "--offset", "1", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dms-offsets: DMS PUT \/v2\/kafka\/\w+\/instances\/[\w-]+\/groups\/g-idle\/reset-message-offset failed: 403 APIG\.0302 "not authorized" \(request id [0-9a-f]{32}\)\n$/);
  });
});
