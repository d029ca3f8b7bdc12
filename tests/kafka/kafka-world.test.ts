// dms-local --kafka serves the test broker with DMS's semantics: log start/end offsets, record
// timestamps, groups and committed offsets come from the broker; a reset clamps to the log, resolves
// timestamps with the broker's offset-for-time lookup and, without a topic, runs as a task.
// Needs KAFKA_BOOTSTRAP (tests/kafka/broker.sh); fails without it.
import type { Admin, Kafka } from "kafkajs";
import { DmsError } from "../../provider/dms/errors";
import { rewind } from "../../provider/rewind/rewind";
import { RESET_TASK_NAME } from "../../provider/dms/wire";
import { INSTANCE_ID, kafkaClient, pastBase, produce, startKafkaDmsLocal, uniqueName, type KafkaDmsLocal } from "./helpers";

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
}, 60_000);

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
}, 30_000);

test("without a topic the reset runs as a kafkaResetConsumerOffset task over every topic the group has offsets for", async () => {
  const result = await rewind(local.client, { instanceId: INSTANCE_ID, group, partition: -1, position: { messageOffset: 1_000_000n } }, { pollIntervalMs: 200 });
  const task = (await local.client.listTasks(INSTANCE_ID)).find((t) => t.id === result.taskId);
  expect(task).toMatchObject({ name: RESET_TASK_NAME, status: "SUCCESS", user_name: "rehearsal-operator" });
  // Past the log end of each partition: its log end.
  expect(result.appliedOffsets.map((o) => [o.topic, o.partition, String(o.messageCurrentOffset)])).toEqual([
    [orders, 0, "10"],
    [orders, 1, "10"],
    [payments, 0, "5"],
  ]);
}, 45_000);

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
}, 45_000);

test("a topic deleted behind dms-local's back does not break the others", async () => {
  const doomed = uniqueName("world-doomed");
  await admin.createTopics({ topics: [{ topic: doomed, numPartitions: 1 }], waitForLeaders: true });
  expect(await local.world.partitions(INSTANCE_ID, doomed)).toEqual([{ partition: 0, logStartOffset: 0n, logEndOffset: 0n }]);
  await admin.deleteTopics({ topics: [doomed] });
  expect(await local.world.partitions(INSTANCE_ID, doomed)).toBeUndefined();
  expect((await local.world.partitions(INSTANCE_ID, orders))?.map((p) => p.logEndOffset)).toEqual([10n, 10n]);
  expect(await local.world.offsetForTimestamp(INSTANCE_ID, payments, 0, BigInt(base + 2000))).toBe(2n);
});
