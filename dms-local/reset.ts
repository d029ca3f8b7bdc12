// DMS's reset-message-offset semantics over any World: body validation, the group must have no
// live consumers, partition -1 = every partition, offsets clamped to [log start, log end],
// timestamps resolved to the first record at or after them; with a topic the reset applies at once,
// without one it runs as a `kafkaResetConsumerOffset` task over every topic the group has offsets for.
import { RESET_TASK_NAME, ResetMessageOffsetBody } from "../provider/dms/wire";
import type { Applications } from "./applications";
import { groupNotEmpty, groupNotFound, instanceNotFound, invalidParameter, operationInProgress } from "./errors";
import { MEMBERLESS_STATES } from "./seed";
import type { TaskOwner, TaskRunner } from "./tasks";
import type { CommittedOffset, GroupDescription, PartitionOffsets, World } from "./world";

export type Position = { messageOffset: bigint } | { timestamp: bigint };

export interface ResetRequest {
  /** Undefined (or empty on the wire): every topic the group has offsets for. */
  topic?: string;
  /** -1: every partition. */
  partition: number;
  position: Position;
}

interface TopicTargets {
  topic: string;
  partitions: PartitionOffsets[];
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** DMS reads message_offset and timestamp as Java longs: anything a long cannot hold is refused, not clamped. */
function requireInt64(field: string, value: bigint | undefined): void {
  if (value !== undefined && (value < INT64.min || value > INT64.max)) {
    throw invalidParameter(field, `must be a 64-bit integer (from ${INT64.min} to ${INT64.max})`);
  }
}

/** Validate a parsed JSON body; the error names the offending field. */
export function parseResetBody(raw: unknown): ResetRequest {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalidParameter("body", "expected a JSON object");
  const result = ResetMessageOffsetBody.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "body";
    throw invalidParameter(field, issue?.message ?? "invalid");
  }
  const body = result.data;
  if (body.partition < INT32.min || body.partition > INT32.max) throw invalidParameter("partition", "must be a 32-bit integer");
  requireInt64("message_offset", body.message_offset);
  requireInt64("timestamp", body.timestamp);
  if (body.partition < -1) throw invalidParameter("partition", "must be -1 (every partition) or a partition number");
  if (body.message_offset !== undefined && body.timestamp !== undefined) {
    throw invalidParameter("message_offset", "set exactly one of message_offset and timestamp, not both");
  }
  let position: Position;
  if (body.message_offset !== undefined) position = { messageOffset: body.message_offset };
  else if (body.timestamp !== undefined) position = { timestamp: body.timestamp };
  else throw invalidParameter("message_offset", "one of message_offset and timestamp is required");
  const request: ResetRequest = { partition: body.partition, position };
  if (body.topic !== undefined && body.topic !== "") request.topic = body.topic;
  return request;
}

export async function requireInstance(world: World, instanceId: string): Promise<void> {
  if (!(await world.hasInstance(instanceId))) throw instanceNotFound(instanceId);
}

export async function requireGroup(world: World, instanceId: string, group: string): Promise<GroupDescription> {
  await requireInstance(world, instanceId);
  const description = await world.describeGroup(instanceId, group);
  if (!description) throw groupNotFound(group);
  return description;
}

async function requireMemberless(world: World, instanceId: string, group: string): Promise<void> {
  const { state } = await requireGroup(world, instanceId, group);
  if (!MEMBERLESS_STATES.includes(state)) throw groupNotEmpty(group, state);
}

/** The partitions a topic reset touches; unknown topic or partition is a 400 naming it. */
async function topicTargets(world: World, instanceId: string, topic: string, partition: number): Promise<TopicTargets> {
  const all = await world.partitions(instanceId, topic);
  if (!all) throw invalidParameter("topic", `topic ${topic} does not exist on instance ${instanceId}`);
  if (partition === -1) return { topic, partitions: all };
  const one = all.find((p) => p.partition === partition);
  if (!one) throw invalidParameter("partition", `topic ${topic} has no partition ${partition} (it has ${all.length})`);
  return { topic, partitions: [one] };
}

/** The partitions an all-topics reset touches: those the group has committed offsets for. */
async function groupTargets(world: World, instanceId: string, group: string, partition: number): Promise<TopicTargets[]> {
  const committed = (await world.committedOffsets(instanceId, group)).filter((c) => partition === -1 || c.partition === partition);
  const targets: TopicTargets[] = [];
  for (const topic of [...new Set(committed.map((c) => c.topic))]) {
    const logs = await world.partitions(instanceId, topic);
    // A topic deleted since the group committed to it has nothing left to reset.
    if (!logs) continue;
    const wanted = new Set(committed.filter((c) => c.topic === topic).map((c) => c.partition));
    const partitions = logs.filter((p) => wanted.has(p.partition));
    if (partitions.length > 0) targets.push({ topic, partitions });
  }
  if (targets.length === 0) {
    throw invalidParameter(
      "topic",
      partition === -1
        ? `consumer group ${group} has no committed offsets: name the topic to reset`
        : `consumer group ${group} has no committed offset on partition ${partition} of any topic`,
    );
  }
  return targets;
}

async function resolveOffsets(world: World, instanceId: string, targets: readonly TopicTargets[], position: Position): Promise<CommittedOffset[]> {
  const out: CommittedOffset[] = [];
  for (const { topic, partitions } of targets) {
    for (const p of partitions) {
      const wanted = "messageOffset" in position ? position.messageOffset : await world.offsetForTimestamp(instanceId, topic, p.partition, position.timestamp);
      const offset = wanted < p.logStartOffset ? p.logStartOffset : wanted > p.logEndOffset ? p.logEndOffset : wanted;
      out.push({ topic, partition: p.partition, offset });
    }
  }
  return out;
}

/**
 * One reset request, as DMS handles it. Resolves once the reset is applied (with a topic) or its
 * task is recorded (without); rejects with a DmsError when DMS would refuse it. Each commit that
 * succeeds is counted in `applications`.
 */
export async function resetMessageOffset(
  world: World,
  tasks: TaskRunner,
  owner: TaskOwner,
  instanceId: string,
  group: string,
  request: ResetRequest,
  applications?: Applications,
): Promise<void> {
  const commit = async (targets: readonly TopicTargets[]): Promise<void> => {
    const offsets = await resolveOffsets(world, instanceId, targets, request.position);
    await world.commitOffsets(instanceId, group, offsets);
    applications?.record(instanceId, group, offsets);
  };
  // One reset of a group at a time: another one while a reset is being applied (on a real broker a
  // commit takes seconds, and two at once hang kafkajs' setOffsets) or while its task has not run
  // is DMS.00400026, which clients retry. Checked and claimed with no await in between, so two
  // requests cannot both pass.
  if (tasks.isRunning(instanceId, group)) throw operationInProgress(`a reset of consumer group ${group} (or its ${RESET_TASK_NAME} task) has not finished`);
  await tasks.hold(instanceId, group, async () => {
    await requireMemberless(world, instanceId, group);

    if (request.topic !== undefined) {
      await commit([await topicTargets(world, instanceId, request.topic, request.partition)]);
      return;
    }

    // Checked now so the caller hears of a group with nothing to reset; recomputed when the task runs.
    await groupTargets(world, instanceId, group, request.partition);
    const params = {
      group,
      topic: "",
      partition: request.partition,
      ...("messageOffset" in request.position ? { message_offset: request.position.messageOffset } : { timestamp: request.position.timestamp }),
    };
    await tasks.start(instanceId, group, RESET_TASK_NAME, owner, params, async () => {
      // The consumers may have come back while the task waited.
      await requireMemberless(world, instanceId, group);
      await commit(await groupTargets(world, instanceId, group, request.partition));
    });
  });
}
