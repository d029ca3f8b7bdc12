// The World over a real Kafka broker, for `dms-local --kafka`: topics, log start/end offsets, record
// timestamps, group state, members, assignments and committed offsets all come from the broker
// (kafkajs' admin client); the broker is served as one DMS instance whose id the caller chooses.
// Only the instance's task list lives here, in memory, as Kafka has no such thing. Record timestamps
// are read by a short-lived consumer of a throwaway group that never commits (see `read`).
import { randomUUID } from "node:crypto";
import { AssignerProtocol, Kafka, logLevel, type Admin, type Batch, type ConsumerGroupState, type PartitionMetadata } from "kafkajs";
import type {
  CommittedOffset,
  GroupDescription,
  GroupMember,
  GroupState,
  LogRecord,
  MemberAssignment,
  PartitionOffsets,
  TaskRecord,
  TopicDetail,
  World,
} from "./world";

export interface KafkaWorldOptions {
  /** `host:port` of one or more brokers (PLAINTEXT). */
  brokers: readonly string[];
  /** The DMS instance id the broker is served as. */
  instanceId: string;
  clientId?: string;
}

/** Kafka's group states in DMS's spelling. `AwaitingSync` is CompletingRebalance's name before Kafka 2.0. */
const DMS_STATE: Readonly<Record<string, GroupState>> = {
  Stable: "STABLE",
  Empty: "EMPTY",
  PreparingRebalance: "PREPARING_REBALANCE",
  CompletingRebalance: "COMPLETING_REBALANCE",
  AwaitingSync: "COMPLETING_REBALANCE",
  Dead: "DEAD",
};

const OFFSETS_TOPIC = "__consumer_offsets";
/** What OffsetFetch answers for a partition the group has never committed. */
const NO_COMMITTED_OFFSET = "-1";
/** Groups of the consumers that read records for ShowMessages: never committed to, deleted after use. */
export const READER_GROUP_PREFIX = "dms-local-reader-";
/**
 * How long a read may go without the records it waits for before it fails: covers joining the
 * reader group (plus a broker's group.initial.rebalance.delay.ms, 3 s by default) and a fetch.
 */
const READ_TIMEOUT_MS = 20_000;

export class KafkaWorld implements World {
  private admin: Admin;
  /**
   * Partition count of every topic the current admin has looked at. kafkajs keeps those topics'
   * metadata and refreshes all of them on each later topic call, so once one is deleted by anyone
   * else every topic call fails, and a changed partition count goes unseen for 5 minutes (both found
   * against the test broker). When the broker's topics no longer match, a fresh admin takes over.
   */
  private readonly seen = new Map<string, number>();
  /** Replaced admins, still possibly serving a call in flight; disconnected on close. */
  private readonly retired: Admin[] = [];
  private readonly taskList: TaskRecord[] = [];

  private constructor(
    private readonly kafka: Kafka,
    admin: Admin,
    private readonly instanceId: string,
  ) {
    this.admin = admin;
  }

  /** Connect to the broker; rejects when it does not answer. */
  static async connect(options: KafkaWorldOptions): Promise<KafkaWorld> {
    const kafka = new Kafka({
      clientId: options.clientId ?? "dms-local",
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      // Enough for a group coordinator to load on a fresh broker; an unreachable broker fails a
      // request within seconds instead of kafkajs' default of minutes.
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
    } catch (e) {
      await admin.disconnect();
      throw e;
    }
    return new KafkaWorld(kafka, admin, options.instanceId);
  }

  async hasInstance(instanceId: string): Promise<boolean> {
    return instanceId === this.instanceId;
  }

  async partitions(instanceId: string, topic: string): Promise<PartitionOffsets[] | undefined> {
    if (instanceId !== this.instanceId || !(await this.topicExists(topic))) return undefined;
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets
      .map(({ partition, low, high }) => ({ partition, logStartOffset: BigInt(low), logEndOffset: BigInt(high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async offsetForTimestamp(instanceId: string, topic: string, partition: number, timestamp: bigint): Promise<bigint> {
    if (instanceId !== this.instanceId || !(await this.topicExists(topic))) throw new Error(`no topic ${topic} on instance ${instanceId}`);
    // Kafka reads negative ListOffsets timestamps as sentinels (-1 latest, -2 earliest), so a time
    // before the epoch asks for 0: every record is at or after it, the answer is the log start.
    // Past 2^53 no record can be that recent: the broker answers "none", which kafkajs turns into the log end.
    const at = timestamp < 0n ? 0 : timestamp > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(timestamp);
    const found = (await this.admin.fetchTopicOffsetsByTimestamp(topic, at)).find((p) => p.partition === partition);
    if (!found) throw new Error(`no partition ${topic}/${partition} on instance ${instanceId}`);
    return BigInt(found.offset);
  }

  async messages(instanceId: string, topic: string, partition: number, fromOffset: bigint, limit: number): Promise<LogRecord[]> {
    if (instanceId !== this.instanceId || !(await this.topicExists(topic))) throw new Error(`no topic ${topic} on instance ${instanceId}`);
    const log = (await this.admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
    if (!log) throw new Error(`no partition ${topic}/${partition} on instance ${instanceId}`);
    const logStart = BigInt(log.low);
    const logEnd = BigInt(log.high);
    const from = fromOffset < logStart ? logStart : fromOffset;
    if (limit <= 0 || from >= logEnd) return [];
    return this.read(topic, partition, from, logEnd, limit);
  }

  async topicDetail(instanceId: string, topic: string): Promise<TopicDetail | undefined> {
    if (instanceId !== this.instanceId) return undefined;
    const metadata = await this.topicMetadata(topic);
    if (!metadata) return undefined;
    const offsets = await this.admin.fetchTopicOffsets(topic);
    const partitions = metadata
      .map((m) => {
        const o = offsets.find((p) => p.partition === m.partitionId);
        return {
          partition: m.partitionId,
          logStartOffset: BigInt(o?.low ?? 0),
          logEndOffset: BigInt(o?.high ?? 0),
          leader: m.leader,
          replicas: m.replicas.map((broker) => ({ broker, leader: broker === m.leader, inSync: m.isr.includes(broker) })),
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return { partitions, subscribedGroups: await this.groupsOf(topic) };
  }

  async describeGroup(instanceId: string, group: string): Promise<GroupDescription | undefined> {
    if (instanceId !== this.instanceId) return undefined;
    const described = (await this.admin.describeGroups([group])).groups[0];
    if (!described) throw new Error(`the broker did not describe group ${group}`);
    const state = dmsState(described.state);
    // The broker describes any name it has no metadata for as a Dead group without members.
    if (state === "DEAD" && described.members.length === 0 && (await this.committedOffsets(instanceId, group)).length === 0) return undefined;
    const members: GroupMember[] = described.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.clientHost,
      assignment: described.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : [],
    }));
    return {
      group,
      state,
      members,
      assignmentStrategy: members.length > 0 ? described.protocol : "",
      coordinatorId: await this.coordinatorOf(group),
    };
  }

  async committedOffsets(instanceId: string, group: string): Promise<CommittedOffset[]> {
    if (instanceId !== this.instanceId) return [];
    // No topics: every topic the group has offsets for. resolveOffsets stays off: it would commit.
    const fetched = await this.admin.fetchOffsets({ groupId: group });
    return fetched
      .flatMap(({ topic, partitions }) =>
        partitions.filter((p) => p.offset !== NO_COMMITTED_OFFSET).map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
      )
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async commitOffsets(instanceId: string, group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    if (instanceId !== this.instanceId) throw new Error(`no instance ${instanceId}`);
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const { topic, partition, offset } of offsets) {
      let partitions = byTopic.get(topic);
      if (!partitions) byTopic.set(topic, (partitions = []));
      partitions.push({ partition, offset: offset.toString() });
    }
    // setOffsets covers one topic per call and refuses unless the group is Empty or Dead. It joins
    // the group with a short-lived member and commits as that member leaves, about 5 s per call
    // (kafkajs' fixed fetch wait).
    for (const [topic, partitions] of byTopic) {
      if (!(await this.topicExists(topic))) throw new Error(`no topic ${topic} on instance ${instanceId}`);
      await this.admin.setOffsets({ groupId: group, topic, partitions });
    }
  }

  async tasks(instanceId: string): Promise<TaskRecord[]> {
    return instanceId === this.instanceId ? this.taskList.map((t) => ({ ...t })) : [];
  }

  async saveTask(instanceId: string, task: TaskRecord): Promise<void> {
    if (instanceId !== this.instanceId) throw new Error(`no instance ${instanceId}`);
    const at = this.taskList.findIndex((t) => t.id === task.id);
    if (at >= 0) this.taskList[at] = { ...task };
    else this.taskList.unshift({ ...task });
  }

  async close(): Promise<void> {
    for (const admin of [this.admin, ...this.retired.splice(0)]) await admin.disconnect().catch(() => undefined);
  }

  /** Whether the broker has the topic (see topicMetadata). */
  private async topicExists(topic: string): Promise<boolean> {
    return (await this.topicMetadata(topic)) !== undefined;
  }

  /**
   * The topic's partitions as the broker describes them, from one Metadata request for all topics;
   * replaces the admin first when a topic it remembers is gone or has a different partition count.
   */
  private async topicMetadata(topic: string): Promise<PartitionMetadata[] | undefined> {
    const { topics } = await this.admin.fetchTopicMetadata();
    const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
    if ([...this.seen].some(([name, count]) => counts.get(name) !== count)) {
      const fresh = this.kafka.admin();
      await fresh.connect();
      this.retired.push(this.admin);
      this.admin = fresh;
      this.seen.clear();
    }
    const found = topics.find((t) => t.name === topic);
    if (!found) return undefined;
    this.seen.set(topic, found.partitions.length);
    return found.partitions;
  }

  /** Consumer groups with a member assigned to the topic or an offset committed on it (reader groups left out). */
  private async groupsOf(topic: string): Promise<string[]> {
    const names = (await this.admin.listGroups()).groups
      .filter((g) => (g.protocolType === "consumer" || g.protocolType === "") && !g.groupId.startsWith(READER_GROUP_PREFIX))
      .map((g) => g.groupId);
    if (names.length === 0) return [];
    const described = (await this.admin.describeGroups(names)).groups;
    const found: string[] = [];
    for (const name of names) {
      const g = described.find((d) => d.groupId === name);
      const assigned = g?.protocolType === "consumer" && g.members.some((m) => decodeAssignment(m.memberAssignment).some((a) => a.topic === topic));
      const committed = assigned || (await this.admin.fetchOffsets({ groupId: name, topics: [topic] })).some((t) => t.partitions.some((p) => p.offset !== NO_COMMITTED_OFFSET));
      if (committed) found.push(name);
    }
    return found.sort();
  }

  /**
   * Up to `limit` records of one partition from `from` (inside the log) to `end` (the log end when
   * asked), read by a consumer of a group of its own: kafkajs has no assign(), so it subscribes to the
   * topic, pauses the other partitions and seeks. It never commits (autoCommit off, and the group is
   * nobody's), and the group is deleted afterwards. Fails rather than answer short: a missing record
   * would move a plan's rewind to the log end.
   */
  private async read(topic: string, partition: number, from: bigint, end: bigint, limit: number): Promise<LogRecord[]> {
    const groupId = `${READER_GROUP_PREFIX}${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 2, restartOnFailure: async () => false },
    });
    const records: LogRecord[] = [];
    /** Every offset below this has been seen (a record taken, or nothing there to take). */
    let next = from;
    const done = (): boolean => records.length >= limit || next >= end;
    try {
      await new Promise<void>((resolve, reject) => {
        let timer = setTimeout(() => reject(new Error(`reading ${topic}/${partition} from offset ${from}: no records within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
        const progress = (): void => {
          if (done()) {
            clearTimeout(timer);
            resolve();
            return;
          }
          clearTimeout(timer);
          timer = setTimeout(() => reject(new Error(`reading ${topic}/${partition}: stuck at offset ${next} for ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
        };
        consumer.on(consumer.events.CRASH, (e) => {
          clearTimeout(timer);
          reject(e.payload.error);
        });
        // A batch of transaction markers only (or aborted records) never reaches eachBatch; this
        // event still says which offsets it covered, so a read ending in one does not wait forever.
        consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
          if (payload.topic !== topic || payload.partition !== partition || payload.batchSize > 0 || done()) return;
          const first = payload.firstOffset === null ? undefined : BigInt(payload.firstOffset);
          if (first !== undefined && first <= next && BigInt(payload.lastOffset) >= next) {
            next = BigInt(payload.lastOffset) + 1n;
            progress();
          }
        });
        const take = async ({ batch }: { batch: Batch }): Promise<void> => {
          // Every fetch starts at the log start or where a previous one (or the seek) left off, never
          // past `next`; a batch that did would leave a hole, so it is ignored.
          const fetched = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
          if (batch.topic !== topic || batch.partition !== partition || done() || (fetched !== undefined && BigInt(fetched) > next)) return;
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < next) continue;
            if (offset >= end || records.length >= limit) break;
            records.push({ offset, timestamp: BigInt(m.timestamp), size: (m.key?.length ?? 0) + (m.value?.length ?? 0) });
            next = offset + 1n;
          }
          // Transaction markers at the end of the batch are seen too.
          if (records.length < limit && BigInt(batch.lastOffset()) >= next) next = BigInt(batch.lastOffset()) + 1n;
          progress();
        };
        (async () => {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          // autoCommit off: the positions eachBatch resolves stay in this process.
          await consumer.run({ autoCommit: false, eachBatch: take });
          // run() returns once the group is joined: every partition of the topic is this member's.
          const others = (await this.admin.fetchTopicOffsets(topic)).map((p) => p.partition).filter((p) => p !== partition);
          if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
          consumer.seek({ topic, partition, offset: from.toString() });
        })().catch((e: unknown) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await this.admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return records;
  }

  /**
   * The group's coordinator as Kafka picks it: the leader of partition
   * abs(javaHashCode(group)) % partitions of __consumer_offsets.
   */
  private async coordinatorOf(group: string): Promise<number> {
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] });
    const partitions = topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`the broker has no ${OFFSETS_TOPIC} partitions`);
    const index = (javaHashCode(group) & 0x7fffffff) % partitions.length;
    const leader = partitions.find((p) => p.partitionId === index)?.leader;
    if (leader === undefined) throw new Error(`no leader for ${OFFSETS_TOPIC}/${index}`);
    return leader;
  }
}

function dmsState(state: ConsumerGroupState | string): GroupState {
  const dms = DMS_STATE[state];
  if (!dms) throw new Error(`the broker reports a group state dms-local does not know: ${state}`);
  return dms;
}

/** A consumer-protocol member's assignment, topics and partitions sorted; empty while it has none. */
function decodeAssignment(buffer: Buffer): MemberAssignment[] {
  const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
  if (!decoded) return [];
  return Object.entries(decoded.assignment)
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

/** Java's String.hashCode (UTF-16 code units, int32 arithmetic), which Kafka uses to place a group. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}
