// The World held in memory, built from a seed: logs are described by their start/end offsets and a
// timestamp rule (record n written at base + n × stepMs), so no record is stored.
import { MEMBERLESS_STATES, parseOffsetKey, type Seed, type SeedInstance } from "./seed";
import type { CommittedOffset, GroupDescription, LogRecord, PartitionOffsets, TaskRecord, TopicDetail, World } from "./world";

/** The one broker of a memory world: it leads every partition (and coordinates groups by default). */
const BROKER_ID = 1;

interface PartitionLog extends PartitionOffsets {
  timestampBase: bigint;
  stepMs: bigint;
}

interface GroupEntry {
  description: GroupDescription;
  /** topic → partition → committed offset. */
  offsets: Map<string, Map<number, bigint>>;
}

interface InstanceState {
  topics: Map<string, PartitionLog[]>;
  groups: Map<string, GroupEntry>;
  /** Newest first. */
  tasks: TaskRecord[];
}

export class MemoryWorld implements World {
  private readonly instances = new Map<string, InstanceState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Groups whose consumers stop after this many more reads of their state (instance id and group name as key). */
  private readonly readsLeft = new Map<string, number>();

  /** `emptyAfterMs` groups start their countdown now; `emptyAfterReads` groups count reads from now. */
  constructor(seed: Seed, now: Date = new Date()) {
    for (const instance of seed.instances) this.instances.set(instance.id, buildInstance(instance, now));
    for (const instance of seed.instances) {
      for (const [group, g] of Object.entries(instance.groups)) {
        if (g.emptyAfterReads !== undefined) this.readsLeft.set(readsKey(instance.id, group), g.emptyAfterReads);
        if (g.emptyAfterMs === undefined) continue;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.stopConsumers(instance.id, group);
        }, g.emptyAfterMs);
        timer.unref();
        this.timers.add(timer);
      }
    }
  }

  async hasInstance(instanceId: string): Promise<boolean> {
    return this.instances.has(instanceId);
  }

  async partitions(instanceId: string, topic: string): Promise<PartitionOffsets[] | undefined> {
    return this.instances
      .get(instanceId)
      ?.topics.get(topic)
      ?.map(({ partition, logStartOffset, logEndOffset }) => ({ partition, logStartOffset, logEndOffset }));
  }

  async offsetForTimestamp(instanceId: string, topic: string, partition: number, timestamp: bigint): Promise<bigint> {
    const log = this.instances.get(instanceId)?.topics.get(topic)?.[partition];
    if (!log) throw new Error(`no partition ${topic}/${partition} on instance ${instanceId}`);
    let first: bigint;
    if (log.stepMs === 0n) {
      first = timestamp <= log.timestampBase ? log.logStartOffset : log.logEndOffset;
    } else {
      first = ceilDiv(timestamp - log.timestampBase, log.stepMs);
    }
    if (first < log.logStartOffset) return log.logStartOffset;
    if (first > log.logEndOffset) return log.logEndOffset;
    return first;
  }

  async messages(instanceId: string, topic: string, partition: number, fromOffset: bigint, limit: number): Promise<LogRecord[]> {
    const log = this.instances.get(instanceId)?.topics.get(topic)?.[partition];
    if (!log) throw new Error(`no partition ${topic}/${partition} on instance ${instanceId}`);
    const out: LogRecord[] = [];
    for (let offset = fromOffset < log.logStartOffset ? log.logStartOffset : fromOffset; offset < log.logEndOffset && out.length < limit; offset++) {
      out.push({ offset, timestamp: timestampOf(log, offset), size: recordSize(offset) });
    }
    return out;
  }

  async topicDetail(instanceId: string, topic: string): Promise<TopicDetail | undefined> {
    const state = this.instances.get(instanceId);
    const logs = state?.topics.get(topic);
    if (!state || !logs) return undefined;
    const subscribedGroups = [...state.groups]
      .filter(([, g]) => g.offsets.has(topic) || g.description.members.some((m) => m.assignment.some((a) => a.topic === topic)))
      .map(([name]) => name)
      .sort();
    return {
      partitions: logs.map((log) => ({
        partition: log.partition,
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
        leader: BROKER_ID,
        replicas: [{ broker: BROKER_ID, leader: true, inSync: true, lag: 0 }],
        // The last record written, even if retention has deleted it since; none for a log never written.
        ...(log.logEndOffset > 0n && { lastUpdateTimestamp: timestampOf(log, log.logEndOffset - 1n) }),
      })),
      subscribedGroups,
    };
  }

  async describeGroup(instanceId: string, group: string): Promise<GroupDescription | undefined> {
    const entry = this.instances.get(instanceId)?.groups.get(group);
    return entry && structuredClone(entry.description);
  }

  async committedOffsets(instanceId: string, group: string): Promise<CommittedOffset[]> {
    const entry = this.instances.get(instanceId)?.groups.get(group);
    if (!entry) return [];
    const out: CommittedOffset[] = [];
    for (const topic of [...entry.offsets.keys()].sort()) {
      const byPartition = entry.offsets.get(topic) as Map<number, bigint>;
      for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
        out.push({ topic, partition, offset: byPartition.get(partition) as bigint });
      }
    }
    return out;
  }

  async commitOffsets(instanceId: string, group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    const entry = this.instances.get(instanceId)?.groups.get(group);
    if (!entry) throw new Error(`no group ${group} on instance ${instanceId}`);
    // Kafka refuses offset commits from outside the group while it has live members.
    if (!MEMBERLESS_STATES.includes(entry.description.state)) {
      throw new Error(`group ${group} is ${entry.description.state}: offsets can only be committed while it has no members`);
    }
    for (const { topic, partition, offset } of offsets) {
      let byPartition = entry.offsets.get(topic);
      if (!byPartition) entry.offsets.set(topic, (byPartition = new Map()));
      byPartition.set(partition, offset);
    }
    // A DEAD group that gets offsets has metadata again, which is what EMPTY means.
    if (offsets.length > 0) entry.description.state = "EMPTY";
  }

  async tasks(instanceId: string): Promise<TaskRecord[]> {
    return (this.instances.get(instanceId)?.tasks ?? []).map((t) => ({ ...t }));
  }

  async saveTask(instanceId: string, task: TaskRecord): Promise<void> {
    const state = this.instances.get(instanceId);
    if (!state) throw new Error(`no instance ${instanceId}`);
    const at = state.tasks.findIndex((t) => t.id === task.id);
    if (at >= 0) state.tasks[at] = { ...task };
    else state.tasks.unshift({ ...task });
  }

  async stopConsumers(instanceId: string, group: string): Promise<void> {
    const entry = this.instances.get(instanceId)?.groups.get(group);
    if (!entry) throw new Error(`no group ${group} on instance ${instanceId}`);
    entry.description.state = "EMPTY";
    entry.description.members = [];
    entry.description.assignmentStrategy = "";
    this.readsLeft.delete(readsKey(instanceId, group));
  }

  async stopConsumersAfterReads(instanceId: string, group: string, reads: number): Promise<void> {
    if (!this.instances.get(instanceId)?.groups.has(group)) throw new Error(`no group ${group} on instance ${instanceId}`);
    if (!Number.isInteger(reads) || reads < 1) throw new Error(`reads must be a whole number >= 1, got ${reads}`);
    this.readsLeft.set(readsKey(instanceId, group), reads);
  }

  async stateShown(instanceId: string, group: string): Promise<void> {
    const key = readsKey(instanceId, group);
    const left = this.readsLeft.get(key);
    if (left === undefined) return;
    if (left > 1) this.readsLeft.set(key, left - 1);
    else await this.stopConsumers(instanceId, group);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.readsLeft.clear();
  }
}

function readsKey(instanceId: string, group: string): string {
  return `${instanceId}\u0000${group}`;
}

function timestampOf(log: PartitionLog, offset: bigint): bigint {
  return log.timestampBase + offset * log.stepMs;
}

/** A made-up but stable record size, 100 to 999 bytes, so listings look like real ones. */
function recordSize(offset: bigint): number {
  return 100 + Number((offset * 7919n) % 900n);
}

/** Ceiling of a / b for b > 0 (bigint division truncates toward zero). */
function ceilDiv(a: bigint, b: bigint): bigint {
  return a > 0n ? (a + b - 1n) / b : a / b;
}

function buildInstance(instance: SeedInstance, now: Date): InstanceState {
  const topics = new Map<string, PartitionLog[]>();
  for (const [topic, t] of Object.entries(instance.topics)) {
    topics.set(
      topic,
      t.partitions.map((p, partition) => ({
        partition,
        logStartOffset: p.logStartOffset,
        logEndOffset: p.logEndOffset,
        timestampBase: p.timestamps.base,
        stepMs: p.timestamps.stepMs,
      })),
    );
  }
  const groups = new Map<string, GroupEntry>();
  for (const [group, g] of Object.entries(instance.groups)) {
    const offsets = new Map<string, Map<number, bigint>>();
    for (const [key, offset] of Object.entries(g.offsets)) {
      const { topic, partition } = parseOffsetKey(key);
      let byPartition = offsets.get(topic);
      if (!byPartition) offsets.set(topic, (byPartition = new Map()));
      byPartition.set(partition, offset);
    }
    const description: GroupDescription = {
      group,
      state: g.state,
      members: g.members.map((m) => ({ ...m, assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })) })),
      assignmentStrategy: g.assignmentStrategy ?? (g.members.length > 0 ? "range" : ""),
      coordinatorId: g.coordinatorId,
      createdAt: g.createdAt ?? now.getTime(),
    };
    if (g.description !== undefined) description.description = g.description;
    groups.set(group, { description, offsets });
  }
  return { topics, groups, tasks: [] };
}
