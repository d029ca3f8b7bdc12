// A rewind's plan, computed by reads only: for every partition it will move, the committed offset now,
// the target after DMS's clamping, the log's bounds, and whether the move skips records (forward), was
// clamped, or changes nothing; and the reset calls that carry it out. The plan is what every front door
// shows before anything is sent, and what the rewind checks DMS's answers against.
import type { DmsClient, PartitionOffset, Position, TopicOffsets } from "../dms/client";
import { DmsError } from "../dms/errors";
import { INT64_MAX, type Rewind, type Scope, type Target } from "./target";

export interface PlannedPartition {
  topic: string;
  partition: number;
  /** The group's committed offset now; undefined where it has none (the reset will commit one). */
  current: bigint | undefined;
  /** Where the group will be: what was asked, clamped by DMS to [logStart, logEnd]. */
  target: bigint;
  logStart: bigint;
  logEnd: bigint;
  /** What was asked, when DMS's clamping changes it. */
  requested?: bigint;
  /** The target is past the committed offset: the records between are skipped, never consumed. */
  forward: boolean;
  /** The request asked for a place outside the log; DMS moves the group to the nearest end instead. */
  clamped: boolean;
  /** The group is there already. */
  unchanged: boolean;
}

/** One reset request: DMS moves one partition, or every partition of a topic, or of every topic, per call. */
export interface ResetCall {
  /** Undefined: every topic the group has offsets for (DMS runs it as a task). */
  topic?: string;
  /** -1: every partition. */
  partition: number;
  position: Position;
  /** The planned partitions this call moves. */
  moves: PlannedPartition[];
}

export interface Plan {
  instanceId: string;
  group: string;
  scope: Scope;
  target: Target;
  partitions: PlannedPartition[];
  calls: ResetCall[];
  /** The group's committed offsets as read for the plan, over the plan's topics: the undo record. */
  before: PartitionOffset[];
}

/** The plan cannot be made: the reset would be refused, or would move nothing DMS can find. Nothing was sent. */
export class PlanError extends Error {
  override readonly name = "PlanError";
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);

interface Log {
  topic: string;
  partition: number;
  logStart: bigint;
  logEnd: bigint;
}

/** Reads what the rewind will touch and computes where each partition lands. Sends no write. */
export async function planRewind(client: DmsClient, rewind: Rewind): Promise<Plan> {
  const { instanceId, group, scope, target } = rewind;
  const { before, logs } = await readScope(client, instanceId, group, scope);
  const committed = new Map(before.map((o) => [key(o.topic, o.partition), o.messageCurrentOffset]));

  const partitions: PlannedPartition[] = [];
  /** `clamped` overrides the test "DMS's clamping changed what was asked". */
  const add = (log: Log, requested: bigint, clamped?: boolean): void => {
    const current = committed.get(key(log.topic, log.partition));
    const targetOffset = clamp(requested, log.logStart, log.logEnd);
    const wasClamped = clamped ?? targetOffset !== requested;
    partitions.push({
      topic: log.topic,
      partition: log.partition,
      current,
      target: targetOffset,
      logStart: log.logStart,
      logEnd: log.logEnd,
      ...(targetOffset !== requested && { requested }),
      forward: current !== undefined && targetOffset > current,
      clamped: wasClamped,
      unchanged: current === targetOffset,
    });
  };

  switch (target.kind) {
    case "offset":
      for (const log of logs) add(log, target.offset);
      break;
    case "earliest":
      for (const log of logs) add(log, log.logStart);
      break;
    case "latest":
      for (const log of logs) add(log, log.logEnd);
      break;
    case "timestamp":
      for (const log of logs) {
        const first = await client.firstOffsetAtOrAfter(instanceId, log.topic, log.partition, target.timestamp);
        // No record at or after the time: DMS moves the group to the log's end, as it documents.
        if (first === undefined) add(log, log.logEnd, true);
        else add(log, first);
      }
      break;
    case "shiftBy":
      for (const log of logs) {
        const current = committed.get(key(log.topic, log.partition));
        // Nothing to shift from: a partition without a committed offset is left alone.
        if (current !== undefined) add(log, current + target.shift);
      }
      break;
    case "offsets": {
      const wanted = new Map(target.offsets.map((o) => [key(o.topic, o.partition), o.offset]));
      for (const log of logs) {
        const offset = wanted.get(key(log.topic, log.partition));
        if (offset !== undefined) add(log, offset);
      }
      break;
    }
    case "toGroup": {
      const source = await readScopeOffsets(client, instanceId, target.group, scope);
      const logsByKey = new Map(logs.map((l) => [key(l.topic, l.partition), l]));
      for (const o of source) {
        const log = logsByKey.get(key(o.topic, o.partition)) ?? { topic: o.topic, partition: o.partition, logStart: o.messageLogStartOffset, logEnd: o.messageLogEndOffset };
        add(log, o.messageCurrentOffset);
      }
      if (partitions.length === 0) throw new PlanError(`group ${target.group} has no committed offsets ${describeScope(scope)}: nothing to copy`);
      break;
    }
  }
  if (partitions.length === 0) {
    throw new PlanError(
      target.kind === "shiftBy"
        ? `group ${group} has no committed offsets ${describeScope(scope)} to shift from`
        : `group ${group} has no committed offsets ${describeScope(scope)}: name the topic to reset`,
    );
  }
  partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return { instanceId, group, scope, target, partitions, calls: callsFor(scope, target, partitions), before };
}

/** The group's offsets and the logs of the partitions in scope. */
async function readScope(client: DmsClient, instanceId: string, group: string, scope: Scope): Promise<{ before: PartitionOffset[]; logs: Log[] }> {
  if (scope.kind === "all-topics") {
    // DMS resets only the partitions the group has offsets for; their logs come with the offsets.
    const before = (await client.listGroupMessageOffsets(instanceId, group)).filter((o) => scope.partition === -1 || o.partition === scope.partition);
    return { before, logs: before.map((o) => ({ topic: o.topic, partition: o.partition, logStart: o.messageLogStartOffset, logEnd: o.messageLogEndOffset })) };
  }
  const before: PartitionOffset[] = [];
  const logs: Log[] = [];
  for (const t of scope.topics) {
    const detail = await topicDetail(client, instanceId, t.topic);
    const known = new Set(detail.partitions.map((p) => p.partition));
    const missing = (t.partitions ?? []).filter((p) => !known.has(p));
    if (missing.length > 0) {
      throw new PlanError(`topic ${t.topic} has no partition ${missing.join(", ")} (it has ${detail.partitions.length}: 0 to ${detail.partitions.length - 1})`);
    }
    const wanted = t.partitions && new Set(t.partitions);
    for (const p of detail.partitions) {
      if (!wanted || wanted.has(p.partition)) logs.push({ topic: t.topic, partition: p.partition, logStart: p.logStartOffset, logEnd: p.logEndOffset });
    }
    before.push(...(await client.listGroupMessageOffsets(instanceId, group, t.topic)).filter((o) => !wanted || wanted.has(o.partition)));
  }
  return { before, logs };
}

/** DMS's code for an unknown instance; any other 404 to a topic read is about the topic. */
const INSTANCE_NOT_FOUND = "DMS.00404022";

/** The topic's partitions; a topic DMS does not know is a plan that cannot be made, not a refusal of a write. */
async function topicDetail(client: DmsClient, instanceId: string, topic: string): Promise<TopicOffsets> {
  try {
    return await client.showTopic(instanceId, topic);
  } catch (e) {
    if (e instanceof DmsError && e.status === 404 && e.errorCode !== INSTANCE_NOT_FOUND) {
      throw new PlanError(`topic ${topic} does not exist on instance ${instanceId} (DMS answered ${e.status} ${e.errorCode} ${JSON.stringify(e.errorMsg)}): check the topic name`);
    }
    throw e;
  }
}

/** The group's committed offsets on the partitions the scope covers. */
export async function readScopeOffsets(client: DmsClient, instanceId: string, group: string, scope: Scope): Promise<PartitionOffset[]> {
  const rows: PartitionOffset[] = [];
  if (scope.kind === "all-topics") rows.push(...(await client.listGroupMessageOffsets(instanceId, group)));
  else for (const t of scope.topics) rows.push(...(await client.listGroupMessageOffsets(instanceId, group, t.topic)));
  return rows.filter((o) => inScope(scope, o.topic, o.partition));
}

/** Whether the scope covers the partition. */
function inScope(scope: Scope, topic: string, partition: number): boolean {
  if (scope.kind === "all-topics") return scope.partition === -1 || scope.partition === partition;
  const t = scope.topics.find((s) => s.topic === topic);
  return t !== undefined && (t.partitions === undefined || t.partitions.includes(partition));
}

/**
 * The calls that carry the plan out. A position DMS resolves itself (an offset, a time, either end of the
 * log) goes as one call per topic, or one for every topic, as the user scoped it; a position per partition
 * (a shift, explicit offsets, another group's) goes as one call per partition that moves, with the
 * absolute offset the plan computed: a call sent twice then lands where it landed once. A call that would
 * move none of its partitions is not sent: had its answer been lost, no read could tell whether DMS acted.
 */
function callsFor(scope: Scope, target: Target, partitions: PlannedPartition[]): ResetCall[] {
  const position = sharedPosition(target);
  if (position === undefined) {
    return partitions.filter((p) => !p.unchanged).map((p) => ({ topic: p.topic, partition: p.partition, position: { messageOffset: p.target }, moves: [p] }));
  }
  const moves = (call: ResetCall) => call.moves.some((p) => !p.unchanged);
  if (scope.kind === "all-topics") return [{ partition: scope.partition, position, moves: partitions }].filter(moves);
  return scope.topics
    .flatMap((t): ResetCall[] => {
      const of = partitions.filter((p) => p.topic === t.topic);
      if (t.partitions === undefined) return [{ topic: t.topic, partition: -1, position, moves: of }];
      return of.map((p) => ({ topic: t.topic, partition: p.partition, position, moves: [p] }));
    })
    .filter(moves);
}

/** The one position every partition is reset to, for targets DMS resolves per partition itself. */
function sharedPosition(target: Target): Position | undefined {
  switch (target.kind) {
    case "offset":
      return { messageOffset: target.offset };
    case "timestamp":
      return { timestamp: target.timestamp };
    // DMS clamps an offset below the log start to the start, and one past the end to the end.
    case "earliest":
      return { messageOffset: 0n };
    case "latest":
      return { messageOffset: INT64_MAX };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Words.

export function describeScope(scope: Scope): string {
  if (scope.kind === "all-topics") return scope.partition === -1 ? "on any topic" : `on partition ${scope.partition} of any topic`;
  return `on ${scope.topics.map((t) => (t.partitions ? `${t.topic}:${t.partitions.join(",")}` : t.topic)).join(" ")}`;
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case "offset":
      return `offset ${target.offset}`;
    case "timestamp":
      return `the first record at or after ${new Date(target.timestamp).toISOString()} (${target.timestamp})`;
    case "earliest":
      return "the earliest retained offset";
    case "latest":
      return "the latest offset (the log end)";
    case "shiftBy":
      return `the committed offset ${target.shift < 0n ? "" : "+"}${target.shift}`;
    case "offsets":
      return `${target.offsets.length} explicit partition offset${target.offsets.length === 1 ? "" : "s"}`;
    case "toGroup":
      return `the committed offsets of group ${target.group}`;
  }
}

/** What a partition's move means for the consumer: records re-read (back) or skipped (forward). */
export function describeMove(p: PlannedPartition): string {
  if (p.current === undefined) return "no committed offset yet";
  if (p.unchanged) return "unchanged";
  const n = p.target - p.current;
  return n < 0n ? `re-reads ${-n}` : `SKIPS ${n}`;
}

/** Compact `topic/partition=offset` list, for messages that must carry offsets (the undo record). */
export function formatOffsets(offsets: readonly { topic: string; partition: number; messageCurrentOffset: bigint }[]): string {
  return offsets.length === 0 ? "(none committed)" : offsets.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`).join(", ");
}
