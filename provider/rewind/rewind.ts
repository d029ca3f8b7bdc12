// One rewind from start to finish, shared by the CLI and the Pulumi resource: make sure the group has
// no consumers, record its offsets, reset, wait for DMS's task when the reset covers every topic, and
// record the offsets again.
import { setTimeout as sleep } from "node:timers/promises";
import type { DmsClient, PartitionOffset, ResetArgs } from "../dms/client";
import { GroupNotInactiveError, ResetNotConfirmedError, TaskFailedError } from "./errors";
import { parseJson } from "../dms/json";
import { RESET_TASK_NAME, type Task } from "../dms/wire";

export interface RewindOptions {
  /** Wait this long for the group to become EMPTY (or DEAD) before resetting; 0 or absent: check once. */
  waitForInactiveMs?: number;
  /** Between two looks at the group's state or at the task list (default 2 s). */
  pollIntervalMs?: number;
  /** How long the `kafkaResetConsumerOffset` task of an all-topics reset may take (default 5 min). */
  taskTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RewindResult {
  requestId: string;
  /** When DMS accepted the reset (ISO-8601). */
  resetAt: string;
  previousOffsets: PartitionOffset[];
  appliedOffsets: PartitionOffset[];
  /** The task of an all-topics reset. */
  taskId?: string;
}

/** A partition's offsets with int64s as decimal strings: what JSON output and Pulumi state can hold. */
export interface RenderedOffset {
  topic: string;
  partition: number;
  messageCurrentOffset: string;
  messageLogStartOffset: string;
  messageLogEndOffset: string;
  lag: string;
}

export function renderOffsets(offsets: readonly PartitionOffset[]): RenderedOffset[] {
  return offsets.map((o) => ({
    topic: o.topic,
    partition: o.partition,
    messageCurrentOffset: o.messageCurrentOffset.toString(),
    messageLogStartOffset: o.messageLogStartOffset.toString(),
    messageLogEndOffset: o.messageLogEndOffset.toString(),
    lag: o.lag.toString(),
  }));
}

const DEFAULT_POLL_INTERVAL_MS = 2_000;
const DEFAULT_TASK_TIMEOUT_MS = 5 * 60_000;

/** Kafka's states in which no consumer holds the group; DMS spells them in either case. */
export function isInactive(state: string): boolean {
  const s = state.toUpperCase();
  return s === "EMPTY" || s === "DEAD";
}

export async function rewind(client: DmsClient, target: ResetArgs, options: RewindOptions = {}): Promise<RewindResult> {
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const { instanceId, group, topic } = target;

  await ensureInactive(client, instanceId, group, options.waitForInactiveMs ?? 0, pollMs, log);
  const previousOffsets = await client.listGroupMessageOffsets(instanceId, group, topic);
  // An all-topics reset runs as a task; only a task absent from this list can be the one this reset starts.
  const tasksBefore = topic === undefined ? new Set((await client.listTasks(instanceId)).map((t) => t.id)) : undefined;

  const { requestId } = await client.resetMessageOffset(target);
  const resetAt = new Date().toISOString();
  const applied = `the reset of group ${group} (${describeScope(target)}) to ${describePosition(target)}`;
  log(`DMS accepted ${applied}: request id ${requestId || "(none)"}`);

  try {
    const taskId = tasksBefore && (await waitForResetTask(client, instanceId, group, tasksBefore, options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS, pollMs, log));
    const appliedOffsets = await client.listGroupMessageOffsets(instanceId, group, topic);
    return taskId === undefined ? { requestId, resetAt, previousOffsets, appliedOffsets } : { requestId, resetAt, previousOffsets, appliedOffsets, taskId };
  } catch (e) {
    throw new ResetNotConfirmedError(applied, requestId, e instanceof Error ? e : new Error(String(e)));
  }
}

/** Returns once the group has no consumers; otherwise throws, naming state and members, before any reset is sent. */
async function ensureInactive(client: DmsClient, instanceId: string, group: string, waitMs: number, pollMs: number, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  let { state } = await client.showGroup(instanceId, group);
  if (!isInactive(state) && waitMs > 0) {
    log(`group ${group} is ${state}; waiting up to ${Math.round(waitMs / 1000)}s for its consumers to leave`);
    const deadline = started + waitMs;
    while (!isInactive(state) && Date.now() < deadline) {
      await sleep(Math.min(pollMs, deadline - Date.now()));
      ({ state } = await client.showGroup(instanceId, group));
    }
  }
  if (isInactive(state)) return;
  const details = await client.showGroupDetails(instanceId, group);
  // The last consumer may have left between the two reads.
  if (isInactive(details.state)) return;
  throw new GroupNotInactiveError(
    group,
    details.state,
    details.members.map(({ memberId, clientId, host }) => ({ memberId, clientId, host })),
    waitMs > 0 ? Date.now() - started : undefined,
  );
}

const FAILED_STATUS = /FAIL|ERROR|CANCEL|ABORT|TIMEOUT/i;

async function waitForResetTask(
  client: DmsClient,
  instanceId: string,
  group: string,
  before: ReadonlySet<string>,
  timeoutMs: number,
  pollMs: number,
  log: (line: string) => void,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: Task | undefined;
  for (;;) {
    const tasks = await client.listTasks(instanceId);
    const mine = seen ? tasks.find((t) => t.id === seen?.id) : tasks.find((t) => t.name === RESET_TASK_NAME && !before.has(t.id) && paramsNameGroup(t.params, group));
    if (mine) {
      if (!seen) log(`waiting for DMS task ${mine.id} (${RESET_TASK_NAME}) of group ${group}`);
      seen = mine;
      if (mine.status.toUpperCase() === "SUCCESS") return mine.id;
      if (FAILED_STATUS.test(mine.status)) throw new TaskFailedError(mine.id, mine.status);
    }
    if (Date.now() >= deadline) {
      const waited = `${Math.round(timeoutMs / 1000)}s`;
      if (seen) throw new TaskFailedError(seen.id, seen.status, `not finished after ${waited}`);
      throw new Error(`no ${RESET_TASK_NAME} task for group ${group} appeared on instance ${instanceId} within ${waited} of the reset`);
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}

/** A task's params name the group somewhere (as a JSON value, or in plain text); absent params match any group. */
function paramsNameGroup(params: string | undefined, group: string): boolean {
  if (!params?.trim()) return true;
  let value: unknown;
  try {
    value = parseJson(params);
  } catch {
    return params.includes(group);
  }
  const holds = (v: unknown): boolean =>
    v === group || (Array.isArray(v) ? v.some(holds) : typeof v === "object" && v !== null && Object.values(v).some(holds));
  return holds(value);
}

function describeScope(t: ResetArgs): string {
  const partitions = t.partition === -1 ? "every partition" : `partition ${t.partition}`;
  return t.topic === undefined ? `every topic, ${partitions}` : `topic ${t.topic}, ${partitions}`;
}

function describePosition(t: Pick<ResetArgs, "position">): string {
  return "messageOffset" in t.position ? `offset ${t.position.messageOffset}` : `timestamp ${new Date(t.position.timestamp).toISOString()} (${t.position.timestamp})`;
}
