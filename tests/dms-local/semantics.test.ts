// dms-local's DMS behaviour beyond what the SDK can show: tasks, int64 exactness, errors, fault
// injection, the request log, admin routes, authentication edges, groups that empty over time.
// Requests are signed by our own signer (provider/signing) and sent with undici.
import { request } from "undici";
import { z } from "zod";
import { MemoryWorld } from "../../dms-local/memory-world";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { CommittedOffset } from "../../dms-local/world";
import { encodePath } from "../../provider/dms/signing/encoding";
import { signRequest } from "../../provider/dms/signing/signer";
import { ErrorBody, GroupMessageOffsetsPage, ShowGroupResponse, ShowGroupsResponse, TasksResponse } from "../../provider/dms/wire";
import {
  adminCall,
  BEYOND_DOUBLE,
  CREDENTIALS,
  eventually,
  INSTANCE_ID,
  paths,
  PROJECT_ID,
  signedCall,
  testSeed,
  UNICODE_GROUP,
  type CallResult,
} from "./helpers";

const LoggedRequests = z.object({
  requests: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      query: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
      status: z.number().nullable(),
      requestId: z.string(),
      at: z.string(),
      body: z.string().nullable(),
      credential: z.number().nullable(),
    }),
  ),
});

const servers: DmsLocal[] = [];

async function serve(options: Partial<Parameters<typeof startDmsLocal>[0]> = {}): Promise<DmsLocal> {
  const dms = await startDmsLocal({ seed: testSeed(), admin: true, taskDelayMs: 200, ...options });
  servers.push(dms);
  return dms;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function errorOf(res: CallResult): ErrorBody {
  return ErrorBody.parse(res.json);
}

const reset = (dms: DmsLocal, group: string, body: unknown, method = "PUT") =>
  signedCall(dms.url, { method, segments: paths.engineReset(group), body: JSON.stringify(body) });

async function offsets(dms: DmsLocal, group: string, topic: string): Promise<Map<number, bigint>> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets(group), query: { topic } });
  expect(res.status).toBe(200);
  return new Map(GroupMessageOffsetsPage.parse(res.json).group_message_offsets.map((r) => [r.partition, r.message_current_offset]));
}

async function listTasks(dms: DmsLocal): Promise<TasksResponse> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.tasks() });
  expect(res.status).toBe(200);
  return TasksResponse.parse(res.json);
}

async function groupState(dms: DmsLocal, group: string): Promise<string> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.showGroup(group) });
  return ShowGroupResponse.parse(res.json).group.state;
}

describe("all-topics reset task", () => {
  test("is CREATED at once with the offsets untouched, then SUCCESS with every topic of the group reset", async () => {
    const dms = await serve({ taskDelayMs: 400 });
    const before = { orders: await offsets(dms, "billing", "orders"), payments: await offsets(dms, "billing", "payments") };

    const res = await reset(dms, "billing", { partition: -1, message_offset: 0 });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");

    const created = await listTasks(dms);
    expect(created.task_count).toBe(1);
    const task = created.tasks[0];
    expect(task).toMatchObject({ name: "kafkaResetConsumerOffset", status: "CREATED", user_name: "rehearsal-bot" });
    expect(task?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(task?.params ?? "{}")).toMatchObject({ group: "billing", partition: -1, message_offset: 0 });
    expect(Date.parse(task?.created_at ?? "")).not.toBeNaN();
    expect({ orders: await offsets(dms, "billing", "orders"), payments: await offsets(dms, "billing", "payments") }).toEqual(before);

    await eventually(async () => ((await listTasks(dms)).tasks[0]?.status === "SUCCESS" ? true : undefined));
    // Clamped to each partition's log start: payments/1 starts at 50.
    expect(await offsets(dms, "billing", "payments")).toEqual(new Map([[0, 0n], [1, 50n]]));
    expect(await offsets(dms, "billing", "orders")).toEqual(new Map([[0, 0n]]));
  });

  test("a second reset of the group while its task runs is refused as another operation in progress (DMS.00400026)", async () => {
    const dms = await serve({ taskDelayMs: 60_000 });
    expect((await reset(dms, "billing", { partition: -1, timestamp: 1_700_000_000_000 })).status).toBe(204);
    const again = await reset(dms, "billing", { topic: "orders", partition: 0, message_offset: 3 });
    expect(again.status).toBe(400);
    expect(errorOf(again).error_code).toBe("DMS.00400026");
  });

  test("a task whose commit fails when it runs ends FAILED, with the offsets as they were", async () => {
    class RefusingWorld extends MemoryWorld {
      override async commitOffsets(_instanceId: string, group: string, _offsets: readonly CommittedOffset[]): Promise<void> {
        throw new Error(`the coordinator of ${group} is unavailable`);
      }
    }
    const world = new RefusingWorld(testSeed());
    try {
      const dms = await serve({ world, taskDelayMs: 50 });
      expect((await reset(dms, "billing", { partition: -1, message_offset: 0 })).status).toBe(204);
      const failed = await eventually(async () => {
        const task = (await listTasks(dms)).tasks[0];
        return task?.status === "CREATED" ? undefined : task;
      });
      expect(failed.status).toBe("FAILED");
      expect(Date.parse(failed.updated_at ?? "")).toBeGreaterThanOrEqual(Date.parse(failed.created_at ?? ""));
      expect(await offsets(dms, "billing", "payments")).toEqual(new Map([[0, 780n], [1, 690n]]));
    } finally {
      await world.close();
    }
  });

  test("a group without committed offsets has nothing to reset without a topic", async () => {
    const dms = await serve({ seed: testSeed((s) => (s.instances[0]!.groups!["fresh"] = { state: "EMPTY" })) });
    const res = await reset(dms, "fresh", { partition: -1, message_offset: 0 });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({ error_code: "DMS.00400062", error_msg: expect.stringMatching(/no committed offsets: name the topic/) });
    expect((await listTasks(dms)).task_count).toBe(0);
  });
});

describe("int64 offsets", () => {
  test(`${BEYOND_DOUBLE} (past 2^53) is stored and answered digit for digit`, async () => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-huge"), body: `{"topic":"huge","partition":0,"message_offset":${BEYOND_DOUBLE}}` });
    expect(res.status).toBe(204);

    const read = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-huge"), query: { topic: "huge" } });
    expect(read.text).toContain(`"message_current_offset":${BEYOND_DOUBLE}`);
    expect(read.text).toContain('"message_log_start_offset":9007199254740000');
    expect(GroupMessageOffsetsPage.parse(read.json).group_message_offsets[0]).toMatchObject({ message_current_offset: BEYOND_DOUBLE, lag: 9_007_199_254_741_000n - BEYOND_DOUBLE });

    const shown = ShowGroupsResponse.parse((await signedCall(dms.url, { method: "GET", segments: paths.showGroups("g-huge") })).json);
    expect(shown.group.group_message_offsets[0]?.message_current_offset).toBe(BEYOND_DOUBLE);
  });

  test("an int64 message_offset sent as a decimal string is accepted and clamped exactly", async () => {
    const dms = await serve();
    expect((await reset(dms, "g-huge", { topic: "huge", partition: 0, message_offset: "9223372036854775807" })).status).toBe(204);
    expect(await offsets(dms, "g-huge", "huge")).toEqual(new Map([[0, 9_007_199_254_741_000n]]));
  });
});

describe("DMS errors", () => {
  test.each([
    [{ topic: "orders", partition: 0, message_offset: 1, timestamp: 1_700_000_000_000 }, "message_offset", /exactly one/],
    [{ topic: "orders", partition: 0 }, "message_offset", /one of message_offset and timestamp is required/],
    [{ topic: "orders", message_offset: 1 }, "partition", /expected number/],
    [{ topic: "orders", partition: -2, message_offset: 1 }, "partition", /-1/],
    [{ topic: "nope", partition: 0, message_offset: 1 }, "topic", /topic nope does not exist/],
    [{ topic: "orders", partition: 3, message_offset: 1 }, "partition", /no partition 3/],
  ])("%j → 400 naming %s", async (body, field, why) => {
    const dms = await serve();
    const res = await reset(dms, "g-idle", body);
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.error_code).toBe("DMS.00400062");
    expect(error.error_msg).toContain(`Invalid ${field} parameter`);
    expect(error.error_msg).toMatch(why);
  });

  test("a body that is not JSON → 400 naming the body", async () => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "POST", segments: paths.legacyReset("g-idle"), body: "{topic:" });
    expect(res.status).toBe(400);
    expect(errorOf(res).error_msg).toContain("Invalid body parameter");
  });

  test("unknown instance → 404 DMS.00404022; unknown group → 404; unknown route → 404 APIG.0101", async () => {
    const dms = await serve();
    const noInstance = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle", "no-such-instance") });
    expect([noInstance.status, errorOf(noInstance).error_code]).toEqual([404, "DMS.00404022"]);
    const noGroup = await reset(dms, "no-such-group", { topic: "orders", partition: 0, message_offset: 1 });
    expect(noGroup.status).toBe(404);
    expect(errorOf(noGroup).error_msg).toContain("no-such-group");
    const noRoute = await signedCall(dms.url, { method: "DELETE", segments: paths.showGroup("g-idle") });
    expect([noRoute.status, errorOf(noRoute).error_code]).toEqual([404, "APIG.0101"]);
  });

  test("every answer, success or failure, carries a distinct 32-hex X-Request-Id", async () => {
    const dms = await serve();
    const answers = [
      await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle") }),
      await reset(dms, "g-busy", { topic: "orders", partition: 0, message_offset: 1 }),
      await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 1 }),
      await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), credentials: { ...CREDENTIALS, secretKey: "wrong" } }),
    ];
    const ids = answers.map((a) => a.headers["x-request-id"]);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("engine reset also answers POST (as the reference and Terraform send it); the legacy path is POST only", async () => {
    const dms = await serve();
    expect((await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 7 }, "POST")).status).toBe(204);
    const legacyPut = await signedCall(dms.url, { method: "PUT", segments: paths.legacyReset("g-idle"), body: '{"partition":0,"topic":"orders","message_offset":1}' });
    expect(legacyPut.status).toBe(404);
    expect(await offsets(dms, "g-idle", "orders")).toEqual(new Map([[0, 7n], [1, 950n], [2, 450n]]));
  });
});

describe("reads", () => {
  test("message-offset pages with offset/limit (default 10, at most 50), filters by partition, and needs a topic", async () => {
    const dms = await serve();
    const page = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-idle"), query: { topic: "orders", offset: "1", limit: "1" } });
    expect(GroupMessageOffsetsPage.parse(page.json)).toMatchObject({ total: 3, group_message_offsets: [{ partition: 1, message_log_start_offset: 100n }] });
    const one = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-busy"), query: { topic: "orders", partition: "2" } });
    expect(GroupMessageOffsetsPage.parse(one.json).group_message_offsets).toEqual([
      { topic: "orders", partition: 2, message_current_offset: 20n, message_log_start_offset: 0n, message_log_end_offset: 500n, lag: 480n, consumer_id: "consumer-2-bbbb", host: "/10.0.0.12", client_id: "consumer-2" },
    ]);
    const tooMany = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-idle"), query: { topic: "orders", limit: "51" } });
    expect([tooMany.status, errorOf(tooMany).error_msg]).toEqual([400, expect.stringContaining("Invalid limit parameter")]);
    const noTopic = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-idle") });
    expect([noTopic.status, errorOf(noTopic).error_msg]).toEqual([400, expect.stringContaining("Invalid topic parameter")]);
  });

  test("a query with a repeated key is signed and verified over every value", async () => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-idle"), query: { topic: "orders", partition: ["1", "0"] } });
    expect(res.status).toBe(200);
  });

  test("members past the end are refused as DMS does (DMS.00400062), not answered with an empty page", async () => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "GET", segments: paths.members("g-busy"), query: { offset: "2" } });
    expect([res.status, errorOf(res).error_code]).toEqual([400, "DMS.00400062"]);
  });

  test("a Unicode group name, encoded once by our signer, reaches its group", async () => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "GET", segments: paths.showGroup(UNICODE_GROUP) });
    expect(ShowGroupResponse.parse(res.json).group.group_id).toBe(UNICODE_GROUP);
  });
});

describe("authentication", () => {
  test("X-Sdk-Date more than 15 minutes off → 401 APIG.0301; 14 minutes off is accepted", async () => {
    const dms = await serve();
    const skewed = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), date: new Date(Date.now() - 16 * 60_000) });
    expect([skewed.status, errorOf(skewed).error_code]).toEqual([401, "APIG.0301"]);
    expect(errorOf(skewed).error_msg).toMatch(/15 minutes/);
    const ahead = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), date: new Date(Date.now() + 16 * 60_000) });
    expect(ahead.status).toBe(401);
    const tolerable = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), date: new Date(Date.now() - 14 * 60_000) });
    expect(tolerable.status).toBe(200);
  });

  test("a project other than the seed's, in the path or in X-Project-Id → 403", async () => {
    const dms = await serve();
    const inPath = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle", INSTANCE_ID, "another-project"), projectIdHeader: "another-project" });
    expect([inPath.status, errorOf(inPath).error_code]).toEqual([403, "APIG.0302"]);
    const inHeader = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), projectIdHeader: "another-project" });
    expect(inHeader.status).toBe(403);
    expect(`${inPath.text}${inHeader.text}`).not.toContain(CREDENTIALS.secretKey);
  });

  test("an unknown access key, a missing Authorization and a tampered body are each 401", async () => {
    const dms = await serve();
    const unknown = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), credentials: { accessKey: "SOMEONEELSE", secretKey: CREDENTIALS.secretKey } });
    expect([unknown.status, errorOf(unknown).error_code]).toEqual([401, "APIG.0301"]);
    expect(unknown.text).not.toContain("SOMEONEELSE");

    const unsigned = await adminCall(dms.url, "GET", `/${paths.showGroup("g-idle").join("/")}`);
    expect(unsigned.status).toBe(401);

    // Signed for one body, sent with another: the gateway hashes the bytes it received.
    const encodedPath = encodePath(paths.engineReset("g-idle"));
    const headers = signRequest(
      { method: "PUT", host: new URL(dms.url).host, encodedPath, query: {}, body: '{"topic":"orders","partition":0,"message_offset":1}', projectId: PROJECT_ID },
      CREDENTIALS,
      new Date(),
    );
    const tampered = await request(`${dms.url}${encodedPath}`, { method: "PUT", headers, body: '{"topic":"orders","partition":0,"message_offset":2}' });
    expect(tampered.statusCode).toBe(401);
    await tampered.body.text();
    expect(await offsets(dms, "g-idle", "orders")).toEqual(new Map([[0, 900n], [1, 950n], [2, 450n]]));
  });
});

describe("fault injection", () => {
  test("the next N matching requests get the injected status, code, message and Retry-After; others pass", async () => {
    const dms = await serve();
    const armed = await adminCall(dms.url, "POST", "/__admin/faults", {
      count: 2,
      status: 400,
      errorCode: "DMS.00400026",
      errorMsg: "Another operation is in progress",
      retryAfterSeconds: 3,
      match: { method: "PUT", pathIncludes: "reset-message-offset" },
    });
    expect(armed.status).toBe(201);

    expect((await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle") })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 5 });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toEqual({ error_code: "DMS.00400026", error_msg: "Another operation is in progress" });
      expect(res.headers["retry-after"]).toBe("3");
      expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    }
    expect((await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 5 })).status).toBe(204);
  });

  test("429 without a code answers as the gateway's throttling (APIG.0308)", async () => {
    const dms = await serve();
    await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, status: 429 });
    const res = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle") });
    expect([res.status, errorOf(res).error_code]).toEqual([429, "APIG.0308"]);
  });

  test("drop closes the connection without an answer; the request is logged with no status", async () => {
    const dms = await serve();
    await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, drop: true, match: { pathIncludes: UNICODE_GROUP } });
    await expect(signedCall(dms.url, { method: "GET", segments: paths.showGroup(UNICODE_GROUP) })).rejects.toThrow();
    const log = LoggedRequests.parse((await adminCall(dms.url, "GET", "/__admin/requests")).json);
    expect(log.requests.at(-1)).toMatchObject({ method: "GET", status: null });
    expect((await signedCall(dms.url, { method: "GET", segments: paths.showGroup(UNICODE_GROUP) })).status).toBe(200);
  });

  test("a huge hangMs never answers (the client gives up); the next request is answered normally", async () => {
    const dms = await serve();
    await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, hangMs: 10 ** 12 });
    await expect(request(`${dms.url}/v2/${PROJECT_ID}/instances/${INSTANCE_ID}/tasks`, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/abort/i);
    expect((await signedCall(dms.url, { method: "GET", segments: paths.tasks() })).status).toBe(200);
  });

  test("a short hangMs delays, then answers as normal", async () => {
    const dms = await serve();
    await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, hangMs: 50 });
    expect((await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle") })).status).toBe(200);
  });

  test("a rule that would do nothing is refused", async () => {
    const dms = await serve();
    const res = await adminCall(dms.url, "POST", "/__admin/faults", { count: 1 });
    expect(res.status).toBe(400);
    expect(errorOf(res).error_msg).toMatch(/status, hangMs or drop/);
  });
});

describe("request log", () => {
  test("records method, path, query, status, request id, body and the credential's index — never a secret or a header", async () => {
    const dms = await serve();
    const read = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-idle"), query: { topic: "orders", partition: ["0", "1"] } });
    const body = '{"topic":"orders","partition":0,"message_offset":8}';
    const write = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body });
    const refused = await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle"), credentials: { ...CREDENTIALS, secretKey: "wrong" } });

    const res = await adminCall(dms.url, "GET", "/__admin/requests");
    const { requests } = LoggedRequests.parse(res.json);
    expect(requests).toEqual([
      expect.objectContaining({ method: "GET", query: { topic: "orders", partition: ["0", "1"] }, status: 200, requestId: read.headers["x-request-id"], body: null, credential: 0 }),
      expect.objectContaining({ method: "PUT", path: `/${paths.engineReset("g-idle").join("/")}`, status: 204, requestId: write.headers["x-request-id"], body, credential: 0 }),
      expect.objectContaining({ method: "GET", status: 401, requestId: refused.headers["x-request-id"], credential: null }),
    ]);
    expect(Date.parse(requests[0]?.at ?? "")).not.toBeNaN();
    for (const secret of [CREDENTIALS.accessKey, CREDENTIALS.secretKey, "SDK-HMAC-SHA256", "authorization"]) expect(res.text).not.toContain(secret);

    expect((await adminCall(dms.url, "DELETE", "/__admin/requests")).status).toBe(204);
    expect(LoggedRequests.parse((await adminCall(dms.url, "GET", "/__admin/requests")).json).requests).toEqual([]);
  });
});

describe("admin API", () => {
  test("is off by default: /__admin/ answers 404 like any unknown API, and arms nothing", async () => {
    const dms = await serve({ admin: false });
    for (const [method, path] of [["GET", "/__admin/requests"], ["POST", "/__admin/faults"], ["POST", `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`]] as const) {
      const res = await adminCall(dms.url, method, path, method === "POST" ? { count: 5, status: 500 } : undefined);
      expect([res.status, errorOf(res).error_code]).toEqual([404, "APIG.0101"]);
    }
    expect(await groupState(dms, "g-busy")).toBe("STABLE");
  });

  test("stop-consumers empties a busy group (members gone), after which a reset is allowed", async () => {
    const dms = await serve();
    const stop = await adminCall(dms.url, "POST", `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterMs: 0 });
    expect(stop.status).toBe(202);
    expect(await groupState(dms, "g-busy")).toBe("EMPTY");
    const members = await signedCall(dms.url, { method: "GET", segments: paths.members("g-busy") });
    expect(members.json).toEqual({ members: [], total: 0 });
    expect((await reset(dms, "g-busy", { topic: "orders", partition: -1, message_offset: 0 })).status).toBe(204);
  });

  test("stop-consumers with afterMs is a timer: the group is STABLE before it fires (an hour away), EMPTY after it fires", async () => {
    // Wall-clock timers are for people; a test only asserts what no delay can change: a timer an hour
    // away has not fired, and a short one has fired once the test sees EMPTY.
    const dms = await serve();
    const before = Date.now();
    const later = await adminCall(dms.url, "POST", `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterMs: 3_600_000 });
    expect(later.status).toBe(202);
    expect(Date.parse((later.json as { empty_at: string }).empty_at)).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(await groupState(dms, "g-busy")).toBe("STABLE");
    await adminCall(dms.url, "POST", `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterMs: 50 });
    await eventually(async () => ((await groupState(dms, "g-busy")) === "EMPTY" ? true : undefined));
    const unknown = await adminCall(dms.url, "POST", `/__admin/instances/${INSTANCE_ID}/groups/ghost/stop-consumers`, {});
    expect(unknown.status).toBe(404);
  });

  test("stop-consumers with afterReads is an event: the next N answers showing the state show the group busy, the one after shows it EMPTY", async () => {
    const dms = await serve();
    const armed = await adminCall(dms.url, "POST", `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`, { afterReads: 2 });
    expect([armed.status, armed.json]).toEqual([202, { instance_id: INSTANCE_ID, group: "g-busy", empty_after_reads: 2 }]);

    // Reads that do not show the state, and a refused reset, do not count.
    expect((await signedCall(dms.url, { method: "GET", segments: paths.members("g-busy") })).status).toBe(200);
    expect((await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets("g-busy"), query: { topic: "orders" } })).status).toBe(200);
    expect((await reset(dms, "g-busy", { topic: "orders", partition: -1, message_offset: 0 })).status).toBe(400);

    // Read 1 (ShowGroup) and read 2 (ShowGroups): still busy, members listed.
    expect(await groupState(dms, "g-busy")).toBe("STABLE");
    const second = ShowGroupsResponse.parse((await signedCall(dms.url, { method: "GET", segments: paths.showGroups("g-busy") })).json);
    expect([second.group.state, second.group.members.map((m) => m.member_id)]).toEqual(["STABLE", ["consumer-1-aaaa", "consumer-2-bbbb"]]);
    // Right after the second, the consumers are gone: a reset is applied without any further read.
    expect((await reset(dms, "g-busy", { topic: "orders", partition: -1, message_offset: 0 })).status).toBe(204);
    const third = ShowGroupsResponse.parse((await signedCall(dms.url, { method: "GET", segments: paths.showGroups("g-busy") })).json);
    expect([third.group.state, third.group.members]).toEqual(["EMPTY", []]);
    // Counting stopped with it.
    expect(await groupState(dms, "g-busy")).toBe("EMPTY");
  });

  test("stop-consumers: afterReads below 1, or both afterMs and afterReads, is a 400 that arms nothing", async () => {
    const dms = await serve();
    const path = `/__admin/instances/${INSTANCE_ID}/groups/g-busy/stop-consumers`;
    const zero = await adminCall(dms.url, "POST", path, { afterReads: 0 });
    expect([zero.status, errorOf(zero).error_msg]).toEqual([400, expect.stringContaining("afterReads counts reads of the group's state: at least 1")]);
    const both = await adminCall(dms.url, "POST", path, { afterMs: 0, afterReads: 1 });
    expect([both.status, errorOf(both).error_msg]).toEqual([400, expect.stringContaining("not both")]);
    for (let i = 0; i < 3; i++) expect(await groupState(dms, "g-busy")).toBe("STABLE");
  });
});

describe("groups whose consumers stopped", () => {
  test("emptyAfterMs is a timer started with the world: STABLE at first, then EMPTY (members gone) and a reset is allowed", async () => {
    const world = new MemoryWorld(
      testSeed((s) => {
        s.instances[0]!.groups!["g-busy"]!.emptyAfterMs = 300;
      }),
    );
    // Read before any timer can run (a timer fires only after the promises already settling): no race.
    expect((await world.describeGroup(INSTANCE_ID, "g-busy"))?.state).toBe("STABLE");
    const dms = await serve({ world });
    try {
      await eventually(async () => ((await groupState(dms, "g-busy")) === "EMPTY" ? true : undefined));
      const shown = ShowGroupsResponse.parse((await signedCall(dms.url, { method: "GET", segments: paths.showGroups("g-busy") })).json);
      expect(shown.group.members).toEqual([]);
      expect((await reset(dms, "g-busy", { topic: "orders", partition: 0, message_offset: 1 })).status).toBe(204);
    } finally {
      await world.close();
    }
  });

  test("emptyAfterReads: the seeded group is busy for its first N state reads (a reset meanwhile is refused), EMPTY from the next", async () => {
    const dms = await serve({
      seed: testSeed((s) => {
        s.instances[0]!.groups!["g-busy"]!.emptyAfterReads = 1;
      }),
    });
    const early = await reset(dms, "g-busy", { topic: "orders", partition: 0, message_offset: 1 });
    expect(early.status).toBe(400);
    expect(errorOf(early).error_msg).toMatch(/g-busy is STABLE/);
    expect(await groupState(dms, "g-busy")).toBe("STABLE");
    expect(await groupState(dms, "g-busy")).toBe("EMPTY");
    expect((await reset(dms, "g-busy", { topic: "orders", partition: 0, message_offset: 1 })).status).toBe(204);
  });

  test("a seed group with both emptyAfterMs and emptyAfterReads, or emptyAfterReads 0, is refused", () => {
    expect(() => testSeed((s) => Object.assign(s.instances[0]!.groups!["g-busy"]!, { emptyAfterMs: 10, emptyAfterReads: 1 }))).toThrow(/emptyAfterMs \(a timer\) or emptyAfterReads/);
    expect(() => testSeed((s) => Object.assign(s.instances[0]!.groups!["g-busy"]!, { emptyAfterReads: 0 }))).toThrow(/at least 1/);
  });
});
