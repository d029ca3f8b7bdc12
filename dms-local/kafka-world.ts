// The World over a real Kafka broker, for `dms-local --kafka`: topics, log start/end offsets, record
// timestamps, group state, members, assignments and committed offsets all come from the broker
// (kafkajs' admin client); the broker is served as one DMS instance whose id the caller chooses.
// Only the instance's task list lives here, in memory, as Kafka has no such thing.
import { AssignerProtocol, Kafka, logLevel, type Admin, type ConsumerGroupState } from "kafkajs";
import type { CommittedOffset, GroupDescription, GroupMember, GroupState, MemberAssignment, PartitionOffsets, TaskRecord, World } from "./world";

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

  /**
   * Whether the broker has the topic, from one Metadata request for all topics; replaces the admin
   * first when a topic it remembers is gone or has a different partition count.
   */
  private async topicExists(topic: string): Promise<boolean> {
    const { topics } = await this.admin.fetchTopicMetadata();
    const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
    if ([...this.seen].some(([name, count]) => counts.get(name) !== count)) {
      const fresh = this.kafka.admin();
      await fresh.connect();
      this.retired.push(this.admin);
      this.admin = fresh;
      this.seen.clear();
    }
    const count = counts.get(topic);
    if (count === undefined) return false;
    this.seen.set(topic, count);
    return true;
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
