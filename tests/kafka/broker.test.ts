// Proves that the Kafka client (kafkajs) and the test broker (tests/kafka/broker.sh) together do
// what the product relies on: read a group's state and committed offsets, look up offsets by
// timestamp, and rewind an empty group to them so that a restarted consumer resumes, on every
// partition, at the first record whose timestamp is >= the chosen time.
//
// Needs a running broker: `eval "$(tests/kafka/broker.sh start)"; export KAFKA_BOOTSTRAP`.
// Without KAFKA_BOOTSTRAP it fails (never skips), so a CI run without Kafka cannot pass silently.
import { AssignerProtocol } from "kafkajs";
import type { Admin, Consumer, Kafka, KafkaMessage } from "kafkajs";
import { bootstrap, kafkaClient, pastBase, produce, uniqueName, type TimedRecord } from "./helpers";

const PARTITIONS = 3;
const RECORDS = 30;

interface Sent extends TimedRecord {
  index: number;
}

function newConsumer(kafka: Kafka, groupId: string): Consumer {
  // maxWaitTimeInMs: a fetch long-poll waits this long for data, and disconnect() waits for the
  // fetch in flight; kafkajs' 5 s default would make every stop take 5 s.
  return kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 1000 });
}

/** Consume until `enough` says so (or fail after `timeoutMs`), then disconnect (LeaveGroup). */
async function consumeUntil(
  consumer: Consumer,
  topic: string,
  fromBeginning: boolean,
  enough: (seen: { partition: number; message: KafkaMessage }[]) => boolean,
  timeoutMs: number,
): Promise<{ partition: number; message: KafkaMessage }[]> {
  const seen: { partition: number; message: KafkaMessage }[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  // fromBeginning only applies to partitions without a committed offset.
  await consumer.subscribe({ topics: [topic], fromBeginning });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ partition, message });
      if (enough(seen)) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  const outcome = await Promise.race([finished.then(() => "ok" as const), timedOut]);
  clearTimeout(timer);
  return outcome === "ok" ? seen : Promise.reject(new Error(`consumed only ${seen.length} records in ${timeoutMs} ms`));
}

async function waitForGroupState(admin: Admin, groupId: string, state: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    last = groups[0]?.state ?? "(missing)";
    if (last === state) return;
    if (Date.now() > deadline) throw new Error(`group ${groupId} is ${last}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Kafka broker + kafkajs: rewind a consumer group to a timestamp", () => {
  let kafka: Kafka;
  let admin: Admin | undefined;
  const consumers: Consumer[] = [];
  const topic = uniqueName("broker-test");
  const groupId = uniqueName("broker-test-group");

  beforeAll(async () => {
    const brokers = bootstrap();
    kafka = kafkaClient("broker-test");
    admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new Error(
        `No Kafka broker answers at KAFKA_BOOTSTRAP=${brokers.join(",")} (${reason}). ` +
          "Start one with `tests/kafka/broker.sh start`.",
      );
    }
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    if (admin) {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  test("fetchTopicOffsetsByTimestamp + setOffsets make a restarted consumer start at the first record >= T", async () => {
    const a = admin!;

    // --- a 3-partition topic with 30 records, timestamps base + i*1000, round-robin over partitions
    expect(await a.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true })).toBe(true);
    const meta = await a.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

    const base = pastBase();
    const sent: Sent[] = Array.from({ length: RECORDS }, (_, index) => ({
      index,
      partition: index % PARTITIONS,
      timestamp: base + index * 1000,
      value: `record-${index}`,
    }));
    // One send: records of one partition keep their order, so record i sits at offset floor(i/3).
    await produce(kafka, topic, sent);

    const ends = await a.fetchTopicOffsets(topic);
    expect(ends.map((o) => [o.partition, o.low, o.high]).sort()).toEqual([
      [0, "0", "10"],
      [1, "0", "10"],
      [2, "0", "10"],
    ]);

    // --- a group consumes everything and commits (autoCommit; disconnect commits what is left)
    const first = newConsumer(kafka, groupId);
    consumers.push(first);
    const consumed = await consumeUntil(first, topic, true, (seen) => seen.length >= RECORDS, 60_000);
    expect(consumed).toHaveLength(RECORDS);

    // While it runs: the group is Stable with one member that owns all 3 partitions.
    const live = (await a.describeGroups([groupId])).groups[0];
    expect(live?.state).toBe("Stable");
    expect(live?.protocolType).toBe("consumer");
    expect(live?.members).toHaveLength(1);
    const assignment = AssignerProtocol.MemberAssignment.decode(live!.members[0]!.memberAssignment);
    expect(assignment?.assignment[topic]?.slice().sort()).toEqual([0, 1, 2]);
    const listed = await a.listGroups();
    expect(listed.groups).toContainEqual({ groupId, protocolType: "consumer" });

    await first.disconnect(); // sends LeaveGroup: the group is empty at once, no session timeout
    await waitForGroupState(a, groupId, "Empty", 60_000);

    const committed = await a.fetchOffsets({ groupId, topics: [topic] });
    expect(committed[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, "10"],
      [1, "10"],
      [2, "10"],
    ]);

    // --- rewind to T = the timestamp of record 14 exactly (inclusive bound), i.e. records 14..29
    const T = base + 14 * 1000;
    const expectedFirst = new Map<number, Sent>();
    for (const s of sent) if (s.timestamp >= T && !expectedFirst.has(s.partition)) expectedFirst.set(s.partition, s);
    // record 14 -> p2 offset 4, record 15 -> p0 offset 5, record 16 -> p1 offset 5
    const byTime = await a.fetchTopicOffsetsByTimestamp(topic, T);
    expect(byTime.map((o) => [o.partition, o.offset]).sort()).toEqual([
      [0, "5"],
      [1, "5"],
      [2, "4"],
    ]);

    await a.setOffsets({ groupId, topic, partitions: byTime.map((o) => ({ partition: o.partition, offset: o.offset })) });
    const rewound = await a.fetchOffsets({ groupId, topics: [topic] });
    expect(rewound[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, "5"],
      [1, "5"],
      [2, "4"],
    ]);
    await waitForGroupState(a, groupId, "Empty", 60_000); // setOffsets' helper member has left again

    // --- a restarted consumer of the same group reads exactly the records with timestamp >= T.
    // fromBeginning: false, so had the rewind not been committed it would read nothing (and time out)
    // rather than happen to start at offset 0.
    const remaining = sent.filter((s) => s.timestamp >= T).length; // 16
    const second = newConsumer(kafka, groupId);
    consumers.push(second);
    const replayed = await consumeUntil(second, topic, false, (seen) => seen.length >= remaining, 60_000);
    await second.disconnect();

    for (let partition = 0; partition < PARTITIONS; partition++) {
      const got = replayed.filter((r) => r.partition === partition);
      const want = expectedFirst.get(partition)!;
      expect({ partition, value: got[0]?.message.value?.toString(), timestamp: got[0]?.message.timestamp }).toEqual({
        partition,
        value: want.value,
        timestamp: String(want.timestamp),
      });
      expect(got[0]?.message.offset).toBe(String(Math.floor(want.index / PARTITIONS)));
    }
    const replayedTimestamps = replayed.map((r) => Number(r.message.timestamp));
    expect(Math.min(...replayedTimestamps)).toBe(T);
    expect(replayed).toHaveLength(remaining);
  }, 240_000);
});
