// dms-local --kafka serves the test broker with DMS's semantics: log start/end offsets, record
// timestamps, groups and committed offsets come from the broker; a reset clamps to the log, resolves
// timestamps with the broker's offset-for-time lookup and, without a topic, runs as a task; the
// plan's reads (ShowInstanceTopicDetail, ShowMessages) read the broker's records.
// Needs KAFKA_BOOTSTRAP (tests/kafka/broker.sh); fails without it.
import type { Admin, Kafka } from "kafkajs";
import { z } from "zod";
import { READER_GROUP_PREFIX } from "../../dms-local/kafka-world";
import { Seed } from "../../dms-local/seed";
import { startDmsLocal } from "../../dms-local/server";
import { DmsError } from "../../provider/dms/errors";
import { rewind } from "../../provider/rewind/rewind";
import { RESET_TASK_NAME } from "../../provider/dms/wire";
import { WireInt64 } from "../../provider/dms/wire";
import { eventually, signedCall, type CallResult } from "../dms-local/helpers";
import { CREDENTIALS, INSTANCE_ID, kafkaClient, kafkaSeedInput, pastBase, produce, PROJECT_ID, startKafkaDmsLocal, uniqueName, type KafkaDmsLocal } from "./helpers";

jest.setTimeout(60_000);

const orders = uniqueName("world-orders");
const payments = uniqueName("world-payments");
const group = uniqueName("world-group");
const base = pastBase();

let kafka: Kafka;
let admin: Admin;
let local: KafkaDmsLocal;

/** Offsets of one topic of the group as DMS lists them: [partition, current, log start, log end]. */
async function offsets(topic: string): Promise<[number, string, string, string][]> {
  const rows = await local.client.listGroupMessageOffsets(INSTANCE_ID, group, topic);
  return rows.map((r) => [r.partition, String(r.messageCurrentOffset), String(r.messageLogStartOffset), String(r.messageLogEndOffset)]);
}

async function refusal(call: Promise<unknown>): Promise<DmsError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DmsError)) throw new Error(`expected a DMS error, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  kafka = kafkaClient("kafka-world-test");
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: orders, numPartitions: 2 }, { topic: payments, numPartitions: 1 }], waitForLeaders: true });
  // orders/0: 10 records a second apart; orders/1: 10 records two seconds apart; payments/0: 5 records.
  await produce(kafka, orders, [
    ...Array.from({ length: 10 }, (_, k) => ({ partition: 0, timestamp: base + k * 1000, value: `o0-${k}` })),
    ...Array.from({ length: 10 }, (_, k) => ({ partition: 1, timestamp: base + k * 2000, value: `o1-${k}` })),
  ]);
  await produce(kafka, payments, Array.from({ length: 5 }, (_, k) => ({ partition: 0, timestamp: base + k * 1000, value: `p0-${k}` })));
  // Retention took orders/0's first 3 records: its log starts at 3. (kafkajs' deleteTopicRecords
  // only finds partition leaders in metadata it already holds, hence the lookup first.)
  await admin.fetchTopicOffsets(orders);
  await admin.deleteTopicRecords({ topic: orders, partitions: [{ partition: 0, offset: "3" }] });

  // The group reads everything once and stops cleanly (LeaveGroup): EMPTY, offsets at the log ends.
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [orders, payments], fromBeginning: true });
  let seen = 0;
  await new Promise<void>((done) => {
    void consumer.run({
      eachMessage: async () => {
        if (++seen === 7 + 10 + 5) done();
      },
    });
  });
  await consumer.disconnect();

  local = await startKafkaDmsLocal();
}, 120_000);

afterAll(async () => {
  await local?.close();
  await admin?.deleteGroups([group]).catch(() => undefined);
  await admin?.deleteTopics({ topics: [orders, payments] }).catch(() => undefined);
  await admin?.disconnect();
});

test("a stopped group: EMPTY with no members, offsets and log start/end from the broker, coordinator = the broker", async () => {
  expect(await local.client.showGroupDetails(INSTANCE_ID, group)).toEqual({ group, state: "EMPTY", members: [] });
  expect(await offsets(orders)).toEqual([
    [0, "10", "3", "10"],
    [1, "10", "0", "10"],
  ]);
  expect(await offsets(payments)).toEqual([[0, "5", "0", "5"]]);
  expect(await local.world.describeGroup(INSTANCE_ID, group)).toMatchObject({ coordinatorId: 1, assignmentStrategy: "" });
});

test("offset for a timestamp: the first record at or after it; log start before every record, log end after the last", async () => {
  const at = (partition: number, timestamp: number | bigint) => local.world.offsetForTimestamp(INSTANCE_ID, orders, partition, BigInt(timestamp));
  // orders/0 holds records 3..9 (a second apart), orders/1 records 0..9 (two seconds apart).
  expect(await at(0, base + 4000)).toBe(4n);
  expect(await at(0, base + 4001)).toBe(5n);
  expect(await at(1, base + 4500)).toBe(3n);
  expect(await at(0, base - 3_600_000)).toBe(3n);
  expect(await at(0, base + 1000)).toBe(3n); // that record was deleted: the first retained one
  expect(await at(1, -5)).toBe(0n);
  expect(await at(0, base + 9001)).toBe(10n);
  expect(await at(1, 2n ** 62n)).toBe(10n);
});

test("unknown group, topic, partition or instance are refused as DMS refuses them", async () => {
  const reset = (g: string, topic: string, partition: number, instanceId = INSTANCE_ID) =>
    refusal(local.client.resetMessageOffset({ instanceId, group: g, topic, partition, position: { messageOffset: 0n } }));
  expect(await reset(uniqueName("never-existed"), orders, 0)).toMatchObject({ status: 404, errorCode: "DMS.00404046" });
  expect(await reset(group, "no-such-topic", 0)).toMatchObject({ status: 400, errorMsg: expect.stringContaining("topic no-such-topic does not exist") });
  expect(await reset(group, orders, 2)).toMatchObject({ status: 400, errorMsg: expect.stringContaining("has no partition 2 (it has 2)") });
  expect(await reset(group, orders, 0, "another-instance")).toMatchObject({ status: 404, errorCode: "DMS.00404022" });
});

test("a reset to a timestamp commits the broker's offsets for it; offsets outside the log are clamped", async () => {
  // base + 4500: orders/0 → record 5, orders/1 → record 3 (timestamp base + 6000).
  await local.client.resetMessageOffset({ instanceId: INSTANCE_ID, group, topic: orders, partition: -1, position: { timestamp: base + 4500 } });
  expect(await offsets(orders)).toEqual([
    [0, "5", "3", "10"],
    [1, "3", "0", "10"],
  ]);
  // Below the log start of orders/0: its log start, as DMS documents. The other partition is untouched.
  await local.client.resetMessageOffset({ instanceId: INSTANCE_ID, group, topic: orders, partition: 0, position: { messageOffset: 0n } });
  expect(await offsets(orders)).toEqual([
    [0, "3", "3", "10"],
    [1, "3", "0", "10"],
  ]);
  expect((await admin.fetchOffsets({ groupId: group, topics: [orders] }))[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
    [0, "3"],
    [1, "3"],
  ]);
}, 120_000);

test("without a topic the reset runs as a kafkaResetConsumerOffset task over every topic the group has offsets for", async () => {
  const result = await rewind(
    local.client,
    { projectId: PROJECT_ID, instanceId: INSTANCE_ID, group, scope: { kind: "all-topics", partition: -1 }, target: { kind: "offset", offset: 1_000_000n } },
    { pollIntervalMs: 200 },
  );
  const task = (await local.client.listTasks(INSTANCE_ID)).find((t) => t.id === result.taskId);
  expect(task).toMatchObject({ name: RESET_TASK_NAME, status: "SUCCESS", user_name: "rehearsal-operator" });
  // Past the log end of each partition: its log end.
  expect(result.appliedOffsets.map((o) => [o.topic, o.partition, String(o.messageCurrentOffset)])).toEqual([
    [orders, 0, "10"],
    [orders, 1, "10"],
    [payments, 0, "5"],
  ]);
}, 120_000);

test("two resets of one group at once, as Pulumi creates resources in parallel, are applied one after the other", async () => {
  // The second is refused with DMS.00400026 while the first commits, and the client retries it.
  await Promise.all([
    local.client.resetMessageOffset({ instanceId: INSTANCE_ID, group, topic: orders, partition: -1, position: { messageOffset: 2n } }),
    local.client.resetMessageOffset({ instanceId: INSTANCE_ID, group, topic: payments, partition: 0, position: { messageOffset: 1n } }),
  ]);
  expect(await offsets(orders)).toEqual([
    [0, "3", "3", "10"],
    [1, "2", "0", "10"],
  ]);
  expect(await offsets(payments)).toEqual([[0, "1", "0", "5"]]);
}, 120_000);

test("a topic deleted behind dms-local's back does not break the others", async () => {
  const doomed = uniqueName("world-doomed");
  await admin.createTopics({ topics: [{ topic: doomed, numPartitions: 1 }], waitForLeaders: true });
  expect(await local.world.partitions(INSTANCE_ID, doomed)).toEqual([{ partition: 0, logStartOffset: 0n, logEndOffset: 0n }]);
  await admin.deleteTopics({ topics: [doomed] });
  expect(await local.world.partitions(INSTANCE_ID, doomed)).toBeUndefined();
  expect((await local.world.partitions(INSTANCE_ID, orders))?.map((p) => p.logEndOffset)).toEqual([10n, 10n]);
  expect(await local.world.offsetForTimestamp(INSTANCE_ID, payments, 0, BigInt(base + 2000))).toBe(2n);
});

const Messages = z.object({
  messages: z.array(z.object({ topic: z.string(), partition: z.number(), message_offset: WireInt64, size: z.number(), timestamp: WireInt64 })),
  messages_count: WireInt64,
  offsets_count: WireInt64,
  offset: WireInt64,
});

/** A signed GET of one of the topic reads, as a client sends it to dms-local --kafka. */
function read(segments: readonly string[], query: Record<string, string> = {}): Promise<CallResult> {
  return signedCall(local.dms.url, { method: "GET", segments: ["v2", PROJECT_ID, "instances", INSTANCE_ID, "management", "topics", ...segments], query, credentials: CREDENTIALS, projectIdHeader: PROJECT_ID });
}

async function readerGroupsLeft(): Promise<string[]> {
  return (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(READER_GROUP_PREFIX));
}

describe("the reads a rewind plan needs, over the broker", () => {
  test("records with their timestamps and sizes, from an offset (the log start when lower), in order, at most `limit`, none at the log end", async () => {
    const committedBefore = await local.world.committedOffsets(INSTANCE_ID, group);
    expect(await local.world.messages(INSTANCE_ID, orders, 0, 0n, 3)).toEqual([
      { offset: 3n, timestamp: BigInt(base + 3000), size: 4 },
      { offset: 4n, timestamp: BigInt(base + 4000), size: 4 },
      { offset: 5n, timestamp: BigInt(base + 5000), size: 4 },
    ]);
    expect((await local.world.messages(INSTANCE_ID, orders, 1, 8n, 10)).map((r) => [r.offset, r.timestamp])).toEqual([
      [8n, BigInt(base + 16_000)],
      [9n, BigInt(base + 18_000)],
    ]);
    expect(await local.world.messages(INSTANCE_ID, orders, 1, 10n, 10)).toEqual([]);
    // Reading committed nothing anywhere, and left no reader group behind.
    expect(await local.world.committedOffsets(INSTANCE_ID, group)).toEqual(committedBefore);
    expect(await readerGroupsLeft()).toEqual([]);
  }, 120_000);

  test("ShowInstanceTopicDetail: lso, hw, leo, leader and replicas from the broker's metadata; the group that consumed it", async () => {
    const res = await read([orders]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      topic: orders,
      partitions: [
        { partition: 0, leader: 1, leo: 10, hw: 10, lso: 3, replicas: [{ broker: 1, leader: true, in_sync: true }] },
        { partition: 1, leader: 1, leo: 10, hw: 10, lso: 0, replicas: [{ broker: 1, leader: true, in_sync: true }] },
      ],
      group_subscribed: [group],
    });
    const missing = await read(["no-such-topic"]);
    expect([missing.status, (missing.json as { error_code: string }).error_code]).toEqual([404, "DMS.00404047"]);
  });

  test("ShowMessages as the plan asks it: the first record at or after T in one partition; none after the last", async () => {
    const first = async (partition: number, t: number) =>
      Messages.parse((await read([orders, "messages"], { start_time: String(t), end_time: String(Date.now() + 3_600_000), partition: String(partition), limit: "1" })).json);
    // orders/1's records are two seconds apart: the first at or after 4.5 s is record 3 (6 s).
    expect((await first(1, base + 4500)).messages).toEqual([{ topic: orders, partition: 1, message_offset: 3n, size: 4, timestamp: BigInt(base + 6000) }]);
    // Before every retained record of orders/0: its log start, 3.
    expect((await first(0, base - 60_000)).messages[0]?.message_offset).toBe(3n);
    expect(await first(0, base + 9001)).toEqual({ messages: [], messages_count: 0n, offsets_count: 0n, offset: 1n });
  }, 120_000);

  test("ShowMessages pages the matches of every partition in (partition, offset) order", async () => {
    const page = async (offset: number) =>
      Messages.parse((await read([orders, "messages"], { start_time: String(base + 8000), end_time: String(base + 60_000), limit: "5", offset: String(offset) })).json);
    // orders/0: 8, 9; orders/1 (records at 2 s steps): 4..9.
    const pages = [await page(0), await page(5)];
    expect(pages.map((p) => p.messages.map((m) => `${m.partition}/${m.message_offset}`))).toEqual([
      ["0/8", "0/9", "1/4", "1/5", "1/6"],
      ["1/7", "1/8", "1/9"],
    ]);
    expect(pages.map((p) => [p.messages_count, p.offsets_count, p.offset])).toEqual([
      [8n, 2n, 1n],
      [8n, 2n, 2n],
    ]);
    expect(await readerGroupsLeft()).toEqual([]);
  }, 120_000);

  test("a log ending in a transaction marker: the read ends at the marker instead of waiting for records that never come", async () => {
    const tx = uniqueName("world-tx");
    await admin.createTopics({ topics: [{ topic: tx, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ transactionalId: uniqueName("world-tx-producer"), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({ topic: tx, messages: [0, 1, 2].map((k) => ({ partition: 0, value: `t-${k}`, timestamp: String(base + k * 1000) })) });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }
    // Records 0..2, then the commit marker at 3: the log ends at 4 once the coordinator has written
    // the marker (commit() returns before it does).
    await eventually(async () => ((await local.world.partitions(INSTANCE_ID, tx))?.[0]?.logEndOffset === 4n ? true : undefined), 60_000);
    // A read that gave up (its 20 s without progress) would reject; these resolve: ended by the marker.
    expect((await local.world.messages(INSTANCE_ID, tx, 0, 0n, 10)).map((r) => r.offset)).toEqual([0n, 1n, 2n]);
    expect(await local.world.messages(INSTANCE_ID, tx, 0, 3n, 10)).toEqual([]);
    await admin.deleteTopics({ topics: [tx] }).catch(() => undefined);
  }, 120_000);
});

test("stop-consumers answers 501, with afterMs or afterReads: a broker's consumers are real processes", async () => {
  const dms = await startDmsLocal({ seed: Seed.parse(kafkaSeedInput()), world: local.world, admin: true });
  try {
    for (const body of [{}, { afterMs: 10 }, { afterReads: 1 }]) {
      const res = await fetch(`${dms.url}/__admin/instances/${INSTANCE_ID}/groups/${group}/stop-consumers`, { method: "POST", body: JSON.stringify(body) });
      expect([res.status, ((await res.json()) as { error_code: string }).error_code]).toEqual([501, "DMSLOCAL.0501"]);
    }
  } finally {
    await dms.close();
  }
});
