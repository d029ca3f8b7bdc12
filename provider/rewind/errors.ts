// How a rewind can end other than as planned, each error carrying what the operator needs to act on it.
// Before anything is sent: the group's state and members, or the plan that was refused. After a reset was
// sent: exactly what DMS applied, what it did not, what could not be told, and always the offsets from
// before (the undo record), so that nobody retries blind and anybody can go back.
import type { PartitionOffset } from "../dms/client";
import { oneLine } from "../dms/errors";
import { formatOffsets, type PlannedPartition } from "./plan";

export interface GroupMemberSummary {
  memberId: string;
  clientId: string;
  host: string;
}

/** DMS only resets the offsets of a group without consumers; this one still has some. Nothing was sent. */
export class GroupNotInactiveError extends Error {
  override readonly name = "GroupNotInactiveError";
  readonly group: string;
  readonly state: string;
  readonly members: GroupMemberSummary[];

  /** `waitSetting`: how the front door names the wait (`--wait-inactive` or `waitForInactiveGroupSeconds`). */
  constructor(group: string, state: string, members: GroupMemberSummary[], waitedMs: number | undefined, waitSetting: string) {
    const who = members.length
      ? members.map((m) => `${m.memberId} (client ${m.clientId} on ${m.host})`).join(", ")
      : "no members listed";
    const waited = waitedMs === undefined ? "" : ` after waiting ${Math.round(waitedMs / 1000)}s`;
    super(
      `consumer group ${JSON.stringify(group)} is ${state}, not EMPTY${waited}; still connected: ${who}. ` +
        `Nothing was sent. Stop these consumers, then rewind with ${waitSetting} of at least the consumers' session.timeout.ms ` +
        "(the broker only drops a stopped consumer after it)",
    );
    this.group = group;
    this.state = state;
    this.members = members;
  }
}

/** The plan moves the group forward (records would be skipped) and the user forbade that. Nothing was sent. */
export class ForwardMoveRefusedError extends Error {
  override readonly name = "ForwardMoveRefusedError";
  readonly partitions: PlannedPartition[];

  constructor(group: string, forward: PlannedPartition[], setting: string) {
    const moves = forward.map((p) => `${p.topic}/${p.partition} ${p.current} → ${p.target} (skips ${p.target - (p.current ?? 0n)})`).join(", ");
    super(`the plan moves group ${JSON.stringify(group)} FORWARD, skipping records, on ${moves}; ${setting} forbids that: nothing was sent`);
    this.partitions = forward;
  }
}

/** The asynchronous `kafkaResetConsumerOffset` task of an all-topics reset did not succeed. */
export class TaskFailedError extends Error {
  override readonly name = "TaskFailedError";
  readonly taskId: string;
  readonly status: string;

  constructor(taskId: string, status: string, detail?: string) {
    super(`DMS task ${taskId} (kafkaResetConsumerOffset) ended with status ${status}${detail ? `: ${oneLine(detail)}` : ""}`);
    this.taskId = taskId;
    this.status = status;
  }
}

/** What every failure after a reset was sent carries. */
export interface SentResetRecord {
  /** The group's offsets read just before the first reset was sent: rewind to these to undo. */
  undo: PartitionOffset[];
  /** The calls DMS is known to have applied (each described), in order. */
  applied: string[];
  /** The calls of the plan that were never sent, after the one that failed. */
  notSent?: string[];
  /** The group's offsets as last read after the failure, when they could be read. */
  offsetsNow?: PartitionOffset[];
}

/**
 * A reset was sent and the rewind did not end as planned. Subclasses say how; the message always ends with
 * the undo record, because a terminal or a CI log may be all an operator has (the resource also records it in
 * the state of the failed create).
 */
export abstract class ResetSentError extends Error implements SentResetRecord {
  readonly undo: PartitionOffset[];
  readonly applied: string[];
  readonly notSent: string[];
  readonly offsetsNow?: PartitionOffset[];

  constructor(message: string, record: SentResetRecord) {
    super(
      `${oneLine(message)}. ` +
        (record.offsetsNow ? `Offsets now: ${formatOffsets(record.offsetsNow)}. ` : "") +
        `Offsets before the reset (to undo, rewind to these): ${formatOffsets(record.undo)}`,
    );
    this.undo = record.undo;
    this.applied = record.applied;
    this.notSent = record.notSent ?? [];
    if (record.offsetsNow) this.offsetsNow = record.offsetsNow;
  }
}

/** DMS accepted every reset, then a later step (the all-topics task, reading the offsets back) failed. */
export class ResetNotConfirmedError extends ResetSentError {
  override readonly name = "ResetNotConfirmedError";
  readonly requestId: string;
  override readonly cause: Error;

  constructor(applied: string, requestId: string, cause: Error, record: SentResetRecord) {
    super(`${applied} was ACCEPTED by DMS (request id ${requestId || "none"}), but confirming it failed: ${cause.message}`, record);
    this.requestId = requestId;
    this.cause = cause;
  }
}

/**
 * A reset's answer was lost (or was a gateway error) and reading the group back could not tell whether DMS
 * applied it. It may have been applied: do not re-run blind.
 */
export class ResetOutcomeUnknownError extends ResetSentError {
  override readonly name = "ResetOutcomeUnknownError";

  constructor(call: string, why: string, record: SentResetRecord) {
    const before = record.applied.length > 0 ? `; applied before it: ${record.applied.join("; ")}` : "";
    const after = record.notSent && record.notSent.length > 0 ? `; never sent: ${record.notSent.join("; ")}` : "";
    super(`OUTCOME UNKNOWN: ${call} was sent, its answer was lost (${why}), and reading the group back could not tell whether DMS applied it${before}${after}`, record);
  }
}

/** A rewind of several calls stopped midway: some partitions moved, the others did not. */
export class PartialResetError extends ResetSentError {
  override readonly name = "PartialResetError";
  readonly notApplied: string[];
  override readonly cause: Error;

  constructor(failed: string, cause: Error, notApplied: string[], record: SentResetRecord) {
    super(
      `APPLIED IN PART: ${record.applied.length} reset${record.applied.length === 1 ? "" : "s"} applied (${record.applied.join("; ")}), then ${failed} failed: ${cause.message}; ` +
        `not applied: ${notApplied.join("; ")}`,
      record,
    );
    this.notApplied = notApplied;
    this.cause = cause;
  }
}
