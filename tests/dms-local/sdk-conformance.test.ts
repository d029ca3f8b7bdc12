// Huawei's official Node SDK, unchanged, as the client of dms-local: it must sign, send and parse
// every call the way it would against DMS.
import { BasicCredentials } from "@huaweicloud/huaweicloud-sdk-core";
import { ClientRequestException } from "@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException";
import { Logger4jInstance } from "@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger";
import {
  KafkaClient,
  ListBackgroundTasksRequest,
  ListInstanceConsumerGroupMembersRequest,
  ListInstanceConsumerGroupMessageOffsetRequest,
  ResetMessageOffsetReq,
  ResetMessageOffsetRequest,
  ResetMessageOffsetWithEngineRequest,
  ShowGroupRequest,
  ShowGroupsRequest,
  ShowInstanceTopicDetailRequest,
  ShowMessagesRequest,
} from "@huaweicloud/huaweicloud-sdk-kafka";
import { z } from "zod";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { GroupMessageOffsetsPage, ShowGroupResponse, ShowGroupsResponse, TasksResponse } from "../../provider/dms/wire";
import { adminCall, BASE_MS, CREDENTIALS, INSTANCE_ID, PROJECT_ID, testSeed, UNICODE_GROUP } from "./helpers";

// The SDK logs every failed call (headers included) to stdout at ERROR level; the refusals below are expected.
Logger4jInstance.level = "off";

// ShowInstanceTopicDetail and ShowMessages as the SDK's models name their fields.
const TopicDetail = z.object({
  topic: z.string(),
  partitions: z.array(
    z.object({
      partition: z.number(),
      leader: z.number(),
      leo: z.number(),
      hw: z.number(),
      lso: z.number(),
      last_update_timestamp: z.number(),
      replicas: z.array(z.object({ broker: z.number(), leader: z.boolean(), in_sync: z.boolean(), lag: z.number() })),
    }),
  ),
  group_subscribed: z.array(z.string()),
});
const Messages = z.object({
  messages: z.array(z.object({ topic: z.string(), partition: z.number(), message_offset: z.number(), size: z.number(), timestamp: z.number() })),
  messages_count: z.number(),
  offsets_count: z.number(),
  offset: z.number(),
});

const LoggedRequests = z.object({
  requests: z.array(z.object({ method: z.string(), path: z.string(), status: z.number().nullable(), requestId: z.string(), body: z.string().nullable() })),
});

let dms: DmsLocal;

function sdkClient(secretKey = CREDENTIALS.secretKey): KafkaClient {
  const credentials = new BasicCredentials().withAk(CREDENTIALS.accessKey).withSk(secretKey).withProjectId(PROJECT_ID);
  // A plain http:// endpoint works: the SDK hands any endpoint URL to axios as its baseURL.
  return KafkaClient.newBuilder().withCredential(credentials).withEndpoint(dms.url).build();
}

async function offsetsOf(client: KafkaClient, group: string, topic: string): Promise<Map<number, bigint>> {
  const res = await client.listInstanceConsumerGroupMessageOffset(
    new ListInstanceConsumerGroupMessageOffsetRequest().withEngine("kafka").withInstanceId(INSTANCE_ID).withGroup(group).withTopic(topic),
  );
  const page = GroupMessageOffsetsPage.parse(res as unknown);
  return new Map(page.group_message_offsets.map((row) => [row.partition, row.message_current_offset]));
}

async function lastLogged(): Promise<z.infer<typeof LoggedRequests>["requests"][number]> {
  const log = LoggedRequests.parse((await adminCall(dms.url, "GET", "/__admin/requests")).json);
  const last = log.requests.at(-1);
  if (!last) throw new Error("the request log is empty");
  return last;
}

async function rejection(call: Promise<unknown>): Promise<ClientRequestException> {
  const outcome = await call.then(
    () => new Error("the call succeeded"),
    (e: unknown) => e,
  );
  if (!(outcome instanceof ClientRequestException)) throw outcome instanceof Error ? outcome : new Error(String(outcome));
  return outcome;
}

beforeEach(async () => {
  dms = await startDmsLocal({ seed: testSeed(), admin: true, taskDelayMs: 100 });
});

afterEach(async () => {
  await dms.close();
});

test("ResetMessageOffsetWithEngine: the SDK's PUT resets one partition and answers 204", async () => {
  const client = sdkClient();
  const res = await client.resetMessageOffsetWithEngine(
    new ResetMessageOffsetWithEngineRequest()
      .withInstanceId(INSTANCE_ID)
      .withGroup("g-idle")
      .withBody(new ResetMessageOffsetReq().withTopic("orders").withPartition(1).withMessageOffset(321)),
  );
  expect(res.httpStatusCode).toBe(204);
  expect(await lastLogged()).toMatchObject({ method: "PUT", status: 204, body: '{"topic":"orders","partition":1,"message_offset":321}' });
  expect(await offsetsOf(client, "g-idle", "orders")).toEqual(new Map([[0, 900n], [1, 321n], [2, 450n]]));
});

test("ResetMessageOffset (legacy POST) with a Unicode group name: the SDK's encoded path is decoded and verified", async () => {
  const client = sdkClient();
  const res = await client.resetMessageOffset(
    new ResetMessageOffsetRequest()
      .withInstanceId(INSTANCE_ID)
      .withGroup(UNICODE_GROUP)
      .withBody(new ResetMessageOffsetReq().withTopic("orders").withPartition(0).withMessageOffset(42)),
  );
  expect(res.httpStatusCode).toBe(204);
  const logged = await lastLogged();
  expect(logged.method).toBe("POST");
  // The SDK leaves the name raw in its URL; axios sends it as UTF-8 percent-escapes.
  expect(logged.path).toBe(`/v2/${PROJECT_ID}/instances/${INSTANCE_ID}/management/groups/${encodeURIComponent(UNICODE_GROUP)}/reset-message-offset`);
  expect(await offsetsOf(client, UNICODE_GROUP, "orders")).toEqual(new Map([[0, 42n]]));
});

test("a timestamp resets to the first record at or after it; before the earliest → log start, after the latest → log end", async () => {
  const client = sdkClient();
  const reset = (partition: number, body: ResetMessageOffsetReq) =>
    client.resetMessageOffsetWithEngine(new ResetMessageOffsetWithEngineRequest().withInstanceId(INSTANCE_ID).withGroup("g-idle").withBody(body.withTopic("orders").withPartition(partition)));

  // Record n is written at BASE_MS + n seconds: 250.5 s after the base, the first record at or after it is 251.
  await reset(0, new ResetMessageOffsetReq().withTimestamp(BASE_MS + 250_500));
  // Partition 1 starts at offset 100 (older records deleted): an hour before the base is before all of them.
  await reset(1, new ResetMessageOffsetReq().withTimestamp(BASE_MS - 3_600_000));
  // Partition 2 ends at 500: a day after the base is after its last record.
  await reset(2, new ResetMessageOffsetReq().withTimestamp(BASE_MS + 86_400_000));
  expect(await offsetsOf(client, "g-idle", "orders")).toEqual(new Map([[0, 251n], [1, 100n], [2, 500n]]));
});

test("a message_offset outside the retained log is clamped to log start or log end; partition -1 covers every partition", async () => {
  const client = sdkClient();
  const reset = (body: ResetMessageOffsetReq) =>
    client.resetMessageOffsetWithEngine(new ResetMessageOffsetWithEngineRequest().withInstanceId(INSTANCE_ID).withGroup("g-idle").withBody(body.withTopic("orders")));

  await reset(new ResetMessageOffsetReq().withPartition(-1).withMessageOffset(5));
  expect(await offsetsOf(client, "g-idle", "orders")).toEqual(new Map([[0, 5n], [1, 100n], [2, 5n]]));
  await reset(new ResetMessageOffsetReq().withPartition(-1).withMessageOffset(700));
  expect(await offsetsOf(client, "g-idle", "orders")).toEqual(new Map([[0, 700n], [1, 700n], [2, 500n]]));
});

test("a group with live consumers: the SDK surfaces 400, the DMS error code, a message naming the state, and the request id", async () => {
  const client = sdkClient();
  const e = await rejection(
    client.resetMessageOffset(
      new ResetMessageOffsetRequest().withInstanceId(INSTANCE_ID).withGroup("g-busy").withBody(new ResetMessageOffsetReq().withTopic("orders").withPartition(-1).withMessageOffset(0)),
    ),
  );
  expect(e.httpStatusCode).toBe(400);
  expect(e.errorCode).toMatch(/^DMS\.00400\d{3}$/);
  expect(e.errorMsg).toMatch(/consumer group g-busy is STABLE: stop its consumers/);
  expect(e.requestId).toMatch(/^[0-9a-f]{32}$/);
  expect(e.requestId).toBe((await lastLogged()).requestId);
  expect(await offsetsOf(client, "g-busy", "orders")).toEqual(new Map([[0, 10n], [1, 110n], [2, 20n]]));
});

test("ShowGroup and ShowGroups: state, coordinator, lag, members with assignments, offsets with log end", async () => {
  const client = sdkClient();
  const shown = ShowGroupResponse.parse((await client.showGroup(new ShowGroupRequest().withInstanceId(INSTANCE_ID).withGroup("g-idle"))) as unknown);
  // lag: (1000 − 900) + (1000 − 950) + (500 − 450)
  expect(shown.group).toMatchObject({ group_id: "g-idle", state: "EMPTY", coordinator_id: 1, assignment_strategy: "", lag: 200 });

  const busy = ShowGroupsResponse.parse((await client.showGroups(new ShowGroupsRequest().withInstanceId(INSTANCE_ID).withGroup("g-busy"))) as unknown);
  expect(busy.group.state).toBe("STABLE");
  expect(busy.group.members).toEqual([
    { member_id: "consumer-1-aaaa", host: "/10.0.0.11", client_id: "consumer-1", assignment: [{ topic: "orders", partitions: [0, 1] }] },
    { member_id: "consumer-2-bbbb", host: "/10.0.0.12", client_id: "consumer-2", assignment: [{ topic: "orders", partitions: [2] }] },
  ]);
  expect(busy.group.group_message_offsets).toContainEqual({ topic: "orders", partition: 2, message_current_offset: 20n, message_log_end_offset: 500n, lag: 480n });

  const members = (await client.listInstanceConsumerGroupMembers(
    new ListInstanceConsumerGroupMembersRequest().withEngine("kafka").withInstanceId(INSTANCE_ID).withGroup("g-busy").withLimit(1),
  )) as unknown;
  expect(members).toMatchObject({ total: 2, members: [{ member_id: "consumer-1-aaaa", host: "/10.0.0.11", client_id: "consumer-1" }] });
});

test("an all-topics reset through the SDK becomes a kafkaResetConsumerOffset task the SDK lists", async () => {
  const client = sdkClient();
  await client.resetMessageOffsetWithEngine(
    new ResetMessageOffsetWithEngineRequest().withInstanceId(INSTANCE_ID).withGroup("billing").withBody(new ResetMessageOffsetReq().withPartition(-1).withMessageOffset(0)),
  );
  const listed = TasksResponse.parse((await client.listBackgroundTasks(new ListBackgroundTasksRequest().withInstanceId(INSTANCE_ID))) as unknown);
  expect(listed.task_count).toBe(1);
  expect(listed.tasks[0]).toMatchObject({ name: "kafkaResetConsumerOffset", user_name: "rehearsal-bot" });
});

test("a wrong secret key is refused with 401 APIG.0301, and nothing changes", async () => {
  const e = await rejection(
    sdkClient("not-the-secret-key").resetMessageOffsetWithEngine(
      new ResetMessageOffsetWithEngineRequest().withInstanceId(INSTANCE_ID).withGroup("g-idle").withBody(new ResetMessageOffsetReq().withTopic("orders").withPartition(-1).withMessageOffset(0)),
    ),
  );
  expect(e.httpStatusCode).toBe(401);
  expect(e.errorCode).toBe("APIG.0301");
  expect(e.errorMsg).not.toContain("not-the-secret-key");
  expect(await offsetsOf(sdkClient(), "g-idle", "orders")).toEqual(new Map([[0, 900n], [1, 950n], [2, 450n]]));
});

describe("the reads a rewind plan needs", () => {
  test("ShowInstanceTopicDetail: each partition's log start (lso), high watermark (hw) and log end (leo), leader, replicas, subscribed groups", async () => {
    const res = await sdkClient().showInstanceTopicDetail(new ShowInstanceTopicDetailRequest().withInstanceId(INSTANCE_ID).withTopic("orders"));
    expect(res.httpStatusCode).toBe(200);
    const detail = TopicDetail.parse(res as unknown);
    expect(detail.topic).toBe("orders");
    expect(detail.partitions.map((p) => [p.partition, p.lso, p.hw, p.leo])).toEqual([
      [0, 0, 1000, 1000],
      [1, 100, 1000, 1000],
      [2, 0, 500, 500],
    ]);
    // The newest record of orders/2 is offset 499, written 499 s after the base.
    expect(detail.partitions[2]).toMatchObject({ leader: 1, last_update_timestamp: BASE_MS + 499_000, replicas: [{ broker: 1, leader: true, in_sync: true, lag: 0 }] });
    expect(detail.group_subscribed).toEqual(["billing", "g-busy", "g-idle", UNICODE_GROUP]);
  });

  test("ShowMessages with the plan's query (start_time=T, far end, one partition, limit 1): the first record at or after T, or none", async () => {
    const client = sdkClient();
    const first = async (partition: number, startMs: number) =>
      Messages.parse(
        (await client.showMessages(
          new ShowMessagesRequest()
            .withInstanceId(INSTANCE_ID)
            .withTopic("orders")
            .withStartTime(String(startMs))
            .withEndTime(String(BASE_MS + 10 ** 12))
            .withPartition(String(partition))
            .withLimit(1),
        )) as unknown,
      );
    // Record n is written at BASE_MS + n s: the first at or after 250.5 s is 251; 251 s exactly is 251 too.
    expect((await first(0, BASE_MS + 250_500)).messages).toEqual([{ topic: "orders", partition: 0, message_offset: 251, size: expect.any(Number), timestamp: BASE_MS + 251_000 }]);
    expect((await first(0, BASE_MS + 251_000)).messages[0]?.message_offset).toBe(251);
    // orders/1 starts at 100 (older records deleted): an hour before the base finds the log start.
    expect(await first(1, BASE_MS - 3_600_000)).toMatchObject({ messages: [{ partition: 1, message_offset: 100, timestamp: BASE_MS + 100_000 }], messages_count: 900 });
    // orders/2 ends at 500: nothing at or after 600 s.
    expect(await first(2, BASE_MS + 600_000)).toEqual({ messages: [], messages_count: 0, offsets_count: 0, offset: 1 });
  });

  test("ShowMessages pages every partition's matches in (partition, offset) order with offset/limit", async () => {
    const client = sdkClient();
    // From 995 s on: orders/0 995..999, orders/1 995..999, orders/2 none (it ends at 500).
    const page = async (offset: number) =>
      Messages.parse(
        (await client.showMessages(
          new ShowMessagesRequest().withInstanceId(INSTANCE_ID).withTopic("orders").withStartTime(String(BASE_MS + 995_000)).withEndTime(String(BASE_MS + 10 ** 9)).withLimit(4).withOffset(offset),
        )) as unknown,
      );
    const pages = [await page(0), await page(4), await page(8)];
    expect(pages.map((p) => p.messages.map((m) => `${m.partition}/${m.message_offset}`))).toEqual([
      ["0/995", "0/996", "0/997", "0/998"],
      ["0/999", "1/995", "1/996", "1/997"],
      ["1/998", "1/999"],
    ]);
    expect(pages.map((p) => [p.messages_count, p.offsets_count, p.offset])).toEqual([
      [10, 3, 1],
      [10, 3, 2],
      [10, 3, 3],
    ]);
  });

  test("an unknown topic: both reads fail with 404 and a DMS error body", async () => {
    const client = sdkClient();
    for (const call of [
      client.showInstanceTopicDetail(new ShowInstanceTopicDetailRequest().withInstanceId(INSTANCE_ID).withTopic("no-such-topic")),
      client.showMessages(new ShowMessagesRequest().withInstanceId(INSTANCE_ID).withTopic("no-such-topic").withPartition("0").withLimit(1)),
    ]) {
      const e = await rejection(call);
      expect(e.httpStatusCode).toBe(404);
      expect(e.errorCode).toMatch(/^DMS\./);
      expect(e.errorMsg).toContain("no-such-topic");
    }
  });
});
