// One rewind from start to finish, shared by every front door: wait until the group has no consumers,
// plan it by reads (the offsets before it are the undo record), let the caller see the plan before
// anything is sent, send each reset call once, and read the group back. A call whose answer is lost is
// never sent again blind: the group's offsets (or, for all topics, DMS's task list) decide whether DMS
// applied it, and only a call DMS provably did not apply is sent again.
import { setTimeout as sleep } from "node:timers/promises";
import { OPERATION_IN_PROGRESS, type DmsClient, type PartitionOffset, type ResetOutcome } from "../dms/client";
import { DmsError, DmsUnreachableError } from "../dms/errors";
import { parseJson } from "../dms/json";
import { RESET_TASK_NAME, type Task } from "../dms/wire";
import {
  ForwardMoveRefusedError,
  GroupNotInactiveError,
  PartialResetError,
  ResetNotConfirmedError,
  ResetOutcomeUnknownError,
  TaskFailedError,
  type SentResetRecord,
} from "./errors";
import { describeScope, describeTarget, formatOffsets, PlanError, planRewind, readScopeOffsets, type Plan, type ResetCall } from "./plan";
import type { Rewind } from "./target";

export interface RewindOptions {
  /** Wait this long for the group to become EMPTY (or DEAD) before planning; 0 or absent: look once. */
  waitForInactiveMs?: number;
  /** Between two looks at the group's state or at the task list (default 2 s). */
  pollIntervalMs?: number;
  /** Between two progress lines while waiting (default 5 s). */
  progressIntervalMs?: number;
  /** How long the `kafkaResetConsumerOffset` task of an all-topics reset may take (default 5 min). */
  taskTimeoutMs?: number;
  /** How long one reset call may keep being decided and re-sent after lost answers (default 60 s). */
  writeDeadlineMs?: number;
  /** Refuse a plan that moves any partition forward (records would be skipped). */
  forbidForward?: boolean;
  /** Use the legacy management reset API (POST). */
  legacyApi?: boolean;
  /**
   * Sees the plan before anything is sent: to print it, save the undo record, or ask. Throwing stops the
   * rewind with nothing sent. When it waited for a person (`recheck: true`), the group is looked at again.
   */
  beforeSend?: (plan: Plan) => Promise<{ recheck?: boolean } | void> | { recheck?: boolean } | void;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** How the front door names its settings, for messages: `--wait-inactive` or `waitForInactiveGroupSeconds`, … */
  names?: { waitForInactive: string; forbidForward: string };
}

/** How one reset call was known to be applied. */
export interface AppliedCall {
  call: ResetCall;
  requestId: string;
  /** "answer": DMS said 204; "read-back": its answer was lost and the group's offsets (or task list) showed it applied. */
  confirmedBy: "answer" | "read-back";
  taskId?: string;
}

export interface RewindResult {
  plan: Plan;
  /** The group's offsets just before the reset: the undo record. */
  previousOffsets: PartitionOffset[];
  /** The group's offsets read back after the reset. */
  appliedOffsets: PartitionOffset[];
  calls: AppliedCall[];
  /** The last reset's request id ("" when nothing had to be sent). */
  requestId: string;
  /** When the first reset was sent (ISO-8601), or when the rewind found nothing to send. */
  resetAt: string;
  /** The task of an all-topics reset. */
  taskId?: string;
}

/** A partition's offsets with int64s as decimal strings: what JSON output and Pulumi state can hold. */
export interface RenderedOffset {
  topic: string;
  partition: number;
  /** The group's committed offset: where its consumers resume. */
  messageCurrentOffset: string;
  /** The earliest offset the partition still retains. */
  messageLogStartOffset: string;
  /** The offset the next record will get (the high watermark). */
  messageLogEndOffset: string;
  /** Records between the committed offset and the log end. */
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
const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;
const DEFAULT_TASK_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_WRITE_DEADLINE_MS = 60_000;
const DEFAULT_NAMES = { waitForInactive: "waitForInactiveGroupSeconds", forbidForward: "forbidForward" };

/** Kafka's states in which no consumer holds the group; DMS spells them in either case. */
export function isInactive(state: string): boolean {
  const s = state.toUpperCase();
  return s === "EMPTY" || s === "DEAD";
}

/** Waits for the group to have no consumers, then plans the rewind by reads. Sends nothing. */
export async function prepareRewind(client: DmsClient, request: Rewind, options: RewindOptions = {}): Promise<Plan> {
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? log;
  const names = options.names ?? DEFAULT_NAMES;
  const { instanceId, group } = request;
  await ensureInactive(client, instanceId, group, options.waitForInactiveMs ?? 0, {
    pollMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    progressMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    log,
    waitSetting: names.waitForInactive,
  });
  const plan = await planRewind(client, request);
  const forward = plan.partitions.filter((p) => p.forward);
  if (forward.length > 0 && options.forbidForward) throw new ForwardMoveRefusedError(group, forward, names.forbidForward);
  for (const p of plan.partitions) {
    if (p.forward) warn(`group ${group}: ${p.topic}/${p.partition} moves FORWARD ${p.current} → ${p.target}: ${p.target - (p.current ?? 0n)} records will be skipped`);
    if (p.clamped) warn(`group ${group}: ${p.topic}/${p.partition} is clamped by DMS to ${p.target} (the log holds ${p.logStart} to ${p.logEnd})`);
  }
  return plan;
}

/**
 * Looks at the group again before a plan that waited (for a person to confirm it) is applied: the group must
 * still have no consumers and its offsets must be those the plan was made from. Returns the fresh plan.
 */
export async function recheckPlan(client: DmsClient, request: Rewind, plan: Plan, options: RewindOptions = {}): Promise<Plan> {
  const names = options.names ?? DEFAULT_NAMES;
  await ensureInactive(client, request.instanceId, request.group, 0, { pollMs: 0, progressMs: Infinity, log: () => undefined, waitSetting: names.waitForInactive });
  const again = await planRewind(client, request);
  if (formatOffsets(again.before) !== formatOffsets(plan.before)) {
    throw new PlanError(`group ${request.group}'s offsets changed since the plan was made (${formatOffsets(plan.before)} → ${formatOffsets(again.before)}): nothing was sent; plan again`);
  }
  return again;
}

/** The whole rewind: prepare, show the plan to `beforeSend`, apply. */
export async function rewind(client: DmsClient, request: Rewind, options: RewindOptions = {}): Promise<RewindResult> {
  let plan = await prepareRewind(client, request, options);
  const decision = await options.beforeSend?.(plan);
  if (decision && decision.recheck) plan = await recheckPlan(client, request, plan, options);
  return applyPlan(client, plan, options);
}

/** Sends the plan's reset calls, each applied exactly once, and reads the group back. */
export async function applyPlan(client: DmsClient, plan: Plan, options: RewindOptions = {}): Promise<RewindResult> {
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? log;
  const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const { instanceId, group } = plan;
  const resetAt = new Date().toISOString();
  const applied: SentCall[] = [];
  let sending = 0;
  const record = (offsetsNow?: PartitionOffset[]): SentResetRecord => ({
    undo: plan.before,
    applied: applied.map((a) => describeCall(plan, a.call)),
    notSent: plan.calls.slice(sending + 1).map((c) => describeCall(plan, c)),
    ...(offsetsNow && { offsetsNow }),
  });
  if (plan.calls.length === 0) log(`group ${group} is already at ${describeTarget(plan.target)} ${describeScope(plan.scope)}: nothing to send`);

  for (const [i, call] of plan.calls.entries()) {
    sending = i;
    try {
      applied.push(await sendOnce(client, plan, call, { legacyApi: options.legacyApi ?? false, deadlineMs: options.writeDeadlineMs ?? DEFAULT_WRITE_DEADLINE_MS, pollMs, log, record }));
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!isNotApplied(error)) throw error;
      // Nothing applied yet and DMS provably did not act: the rewind failed as a whole, nothing to undo.
      if (applied.length === 0) throw error;
      throw new PartialResetError(describeCall(plan, call), error, plan.calls.slice(i).map((c) => describeCall(plan, c)), record());
    }
  }

  const last = applied.at(-1);
  const described = applied.length === 1 && last ? describeCall(plan, last.call) : `the ${applied.length} resets of group ${group} to ${describeTarget(plan.target)}`;
  try {
    let taskId = applied.find((a) => a.taskId !== undefined)?.taskId;
    const allTopics = applied.find((a) => a.call.topic === undefined);
    if (allTopics) taskId = await waitForResetTask(client, instanceId, group, allTopics.taskId, allTopics.tasksBefore, options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS, pollMs, log);
    // The offsets the undo record covers: the plan's scope.
    const appliedOffsets = await readScopeOffsets(client, instanceId, group, plan.scope);
    compareWithPlan(plan, appliedOffsets, warn);
    return {
      plan,
      previousOffsets: plan.before,
      appliedOffsets,
      calls: applied.map(({ call, requestId, confirmedBy, taskId: t }) => ({ call, requestId, confirmedBy, ...(t !== undefined && { taskId: t }) })),
      requestId: last?.requestId ?? "",
      resetAt,
      ...(taskId !== undefined && { taskId }),
    };
  } catch (e) {
    throw new ResetNotConfirmedError(described, last?.requestId ?? "", e instanceof Error ? e : new Error(String(e)), record());
  }
}

/** DMS provably did not act: it refused, or the request never left. */
function isNotApplied(e: Error): boolean {
  return e instanceof DmsError || (e instanceof DmsUnreachableError && e.delivery === "unsent");
}

interface SentCall extends AppliedCall {
  /** For an all-topics call: the tasks that existed before it, so that its own can be told apart. */
  tasksBefore?: TasksBefore;
}

/**
 * Sends one reset call until DMS has applied it exactly once. An answer that was lost (or a gateway error
 * that may have followed DMS's work) is settled by reading: applied, done; provably not applied, sent
 * again; anything else, the outcome is unknown and nothing more is sent.
 */
async function sendOnce(
  client: DmsClient,
  plan: Plan,
  call: ResetCall,
  ctx: { legacyApi: boolean; deadlineMs: number; pollMs: number; log: (line: string) => void; record: (offsetsNow?: PartitionOffset[]) => SentResetRecord },
): Promise<SentCall> {
  const deadline = Date.now() + ctx.deadlineMs;
  const described = describeCall(plan, call);
  // An all-topics reset runs as a task; only a task absent from this list can be the one this call starts.
  const tasksBefore = call.topic === undefined ? await taskIds(client, plan.instanceId) : undefined;
  /** The last attempt whose answer was lost: from then on, DMS may still be applying it. */
  let lost: Extract<ResetOutcome, { outcome: "unknown" }> | undefined;
  for (;;) {
    /** Why the group is read back: the lost answer, and a resend's refusal when there was one. */
    let refusal: string | undefined;
    try {
      const answer = await client.resetMessageOffset(
        {
          instanceId: plan.instanceId,
          group: plan.group,
          ...(call.topic !== undefined && { topic: call.topic }),
          partition: call.partition,
          position: call.position,
          legacyApi: ctx.legacyApi,
        },
        { resend: lost !== undefined },
      );
      if (answer.outcome === "applied") {
        ctx.log(`DMS applied ${described}: request id ${answer.requestId || "(none)"}`);
        return { call, requestId: answer.requestId, confirmedBy: "answer", ...(tasksBefore && { tasksBefore }) };
      }
      lost = answer;
      ctx.log(`the answer to ${described} was lost (${answer.reason}); reading the group back to decide whether DMS applied it`);
    } catch (e) {
      // A resend refused as "another operation is in progress" was refused because of something DMS is still
      // doing to the group, which may be the attempt whose answer was lost: the read-back that found it not
      // applied is contradicted. Read again once DMS had a moment; send again only if it still shows nothing.
      if (lost === undefined || !(e instanceof DmsError && e.errorCode === OPERATION_IN_PROGRESS)) throw e;
      refusal = `sent again, DMS refused it with ${e.errorCode}: another operation on the group is in progress, which may be the attempt whose answer was lost, still being applied`;
      await sleep(Math.max(0, Math.min(ctx.pollMs, deadline - Date.now())));
    }
    const verdict = await decide(client, plan, call, tasksBefore);
    if (verdict.applied) {
      ctx.log(`DMS applied ${described}: confirmed by reading back (${verdict.evidence})`);
      return { call, requestId: lost.requestId ?? "", confirmedBy: "read-back", ...(verdict.taskId !== undefined && { taskId: verdict.taskId }), ...(tasksBefore && { tasksBefore }) };
    }
    if (verdict.notApplied && Date.now() < deadline) {
      if (refusal === undefined) ctx.log(`DMS did not apply ${described} (${verdict.evidence}): sending it again`);
      continue;
    }
    const why =
      refusal !== undefined
        ? `${refusal} (${verdict.evidence})`
        : verdict.notApplied
          ? `${verdict.evidence}, but the answer never came within the deadline and a late application cannot be ruled out`
          : verdict.evidence;
    throw new ResetOutcomeUnknownError(described, `${lost.reason}; ${why}`, ctx.record(verdict.offsetsNow));
  }
}

interface Verdict {
  applied: boolean;
  notApplied: boolean;
  evidence: string;
  taskId?: string;
  offsetsNow?: PartitionOffset[];
}

/** Reads what a call would have changed and says whether DMS applied it. */
async function decide(client: DmsClient, plan: Plan, call: ResetCall, tasksBefore: TasksBefore | undefined): Promise<Verdict> {
  try {
    if (tasksBefore) {
      const fresh = (await client.listTasks(plan.instanceId, tasksBefore.since)).filter((t) => isResetTaskOf(t, plan.group) && !tasksBefore.has(t.id));
      // Only a task that names the group proves DMS applied this reset; one without params may be any group's.
      const mine = fresh.find((t) => t.params?.trim());
      if (mine) return { applied: true, notApplied: false, evidence: `DMS started its task ${mine.id}`, taskId: mine.id };
      const anonymous = fresh[0];
      if (anonymous) return { applied: false, notApplied: false, evidence: `DMS started task ${anonymous.id}, whose params do not say which group it resets` };
      return { applied: false, notApplied: true, evidence: `no new ${RESET_TASK_NAME} task for the group` };
    }
    const now = await client.listGroupMessageOffsets(plan.instanceId, plan.group, call.topic);
    const rows = new Map(now.map((o) => [`${o.topic}/${o.partition}`, o]));
    // DMS resolves a time itself: any move away from the offset before is the reset's.
    const requested = "messageOffset" in call.position ? call.position.messageOffset : undefined;
    let moved = 0;
    let stayed = 0;
    const foreign: string[] = [];
    for (const p of call.moves) {
      if (p.unchanged) continue;
      const row = rows.get(`${p.topic}/${p.partition}`);
      const offset = row?.messageCurrentOffset;
      // Both undefined: a partition that had no committed offset still has none.
      if (offset === p.current) stayed++;
      else if (row !== undefined && (requested === undefined || landedAt(row, p.target, requested))) moved++;
      else foreign.push(`${p.topic}/${p.partition} is at ${offset ?? "no offset"} (was ${p.current ?? "none"}, planned ${p.target})`);
    }
    const offsetsNow = now;
    if (foreign.length === 0 && moved > 0 && stayed === 0) return { applied: true, notApplied: false, evidence: `${moved} partition${moved === 1 ? "" : "s"} at the planned offsets`, offsetsNow };
    if (foreign.length === 0 && moved === 0 && stayed > 0) return { applied: false, notApplied: true, evidence: "the offsets are where they were before", offsetsNow };
    if (foreign.length === 0 && moved === 0 && stayed === 0) return { applied: true, notApplied: false, evidence: "the group was already at the target", offsetsNow };
    return { applied: false, notApplied: false, evidence: foreign.length > 0 ? foreign.join("; ") : `${moved} partitions moved and ${stayed} did not`, offsetsNow };
  } catch (e) {
    return { applied: false, notApplied: false, evidence: `reading the group back failed too: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Whether a partition's offset is where DMS puts `requested`: clamped to the log as it was when DMS applied
 * the reset, which is between the log the plan read (its target) and the log now, as logs only grow at
 * either end (producers write, retention deletes).
 */
function landedAt(row: PartitionOffset, planned: bigint, requested: bigint): boolean {
  const start = row.messageLogStartOffset;
  const end = row.messageLogEndOffset;
  const now = requested < start ? start : requested > end ? end : requested;
  const [low, high] = planned <= now ? [planned, now] : [now, planned];
  return row.messageCurrentOffset >= low && row.messageCurrentOffset <= high;
}

/** Says where DMS put a partition elsewhere than the plan said. */
function compareWithPlan(plan: Plan, applied: readonly PartitionOffset[], warn: (line: string) => void): void {
  const at = new Map(applied.map((o) => [`${o.topic}/${o.partition}`, o.messageCurrentOffset]));
  for (const p of plan.partitions) {
    const offset = at.get(`${p.topic}/${p.partition}`);
    if (offset !== p.target) warn(`group ${plan.group}: ${p.topic}/${p.partition} is at ${offset ?? "no committed offset"} after the reset; the plan said ${p.target}`);
  }
}

/** Returns once the group has no consumers; otherwise throws, naming state and members, before any reset is sent. */
async function ensureInactive(
  client: DmsClient,
  instanceId: string,
  group: string,
  waitMs: number,
  ctx: { pollMs: number; progressMs: number; log: (line: string) => void; waitSetting: string },
): Promise<void> {
  const started = Date.now();
  let { state } = await client.showGroup(instanceId, group);
  if (!isInactive(state) && waitMs > 0) {
    const deadline = started + waitMs;
    let nextProgress = started;
    while (!isInactive(state) && Date.now() < deadline) {
      if (Date.now() >= nextProgress) {
        const details = await client.showGroupDetails(instanceId, group);
        const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
        const who = details.members.map((m) => `${m.clientId || m.memberId} on ${m.host}`).join(", ");
        ctx.log(`waiting for group ${group} to empty: ${details.state}, ${details.members.length} member${details.members.length === 1 ? "" : "s"} still connected${who ? ` (${who})` : ""}; ${left}s left`);
        nextProgress = Date.now() + ctx.progressMs;
      }
      await sleep(Math.max(0, Math.min(ctx.pollMs, deadline - Date.now())));
      ({ state } = await client.showGroup(instanceId, group));
    }
    if (isInactive(state)) ctx.log(`group ${group} is ${state} after ${Math.round((Date.now() - started) / 1000)}s`);
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
    ctx.waitSetting,
  );
}

const FAILED_STATUS = /FAIL|ERROR|CANCEL|ABORT|TIMEOUT/i;

/** Waits for the all-topics reset's task: `known` when the read-back already found it, else the new one. */
async function waitForResetTask(
  client: DmsClient,
  instanceId: string,
  group: string,
  known: string | undefined,
  before: TasksBefore | undefined,
  timeoutMs: number,
  pollMs: number,
  log: (line: string) => void,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: Task | undefined;
  for (;;) {
    const tasks = await client.listTasks(instanceId, before?.since);
    const id = seen?.id ?? known;
    const mine = id !== undefined ? tasks.find((t) => t.id === id) : tasks.find((t) => isResetTaskOf(t, group) && !(before?.has(t.id) ?? false));
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

/**
 * The tasks that exist before a reset is sent, from a little before now: the list DMS pages newest first,
 * and a task of this reset can only be newer. The margin covers a DMS clock behind ours (the gateway refuses
 * requests signed more than 15 minutes off, so no clock that serves us is further off).
 */
interface TasksBefore extends ReadonlySet<string> {
  since: Date;
}

async function taskIds(client: DmsClient, instanceId: string): Promise<TasksBefore> {
  const since = new Date(Date.now() - 15 * 60_000);
  return Object.assign(new Set((await client.listTasks(instanceId, since)).map((t) => t.id)), { since });
}

function isResetTaskOf(t: Task, group: string): boolean {
  return t.name === RESET_TASK_NAME && paramsNameGroup(t.params, group);
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

/** "the reset of group billing (topic payments, every partition) to offset 5". */
export function describeCall(plan: Pick<Plan, "group">, call: ResetCall): string {
  const partitions = call.partition === -1 ? "every partition" : `partition ${call.partition}`;
  const scope = call.topic === undefined ? `every topic, ${partitions}` : `topic ${call.topic}, ${partitions}`;
  const position = "messageOffset" in call.position ? `offset ${call.position.messageOffset}` : `timestamp ${new Date(call.position.timestamp).toISOString()} (${call.position.timestamp})`;
  return `the reset of group ${plan.group} (${scope}) to ${position}`;
}
