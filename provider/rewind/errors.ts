// How a rewind can end other than as planned, each error carrying what the operator needs to act on it:
// the group's state and members, the task's status, or what DMS accepted and its request id.
import { oneLine } from "../dms/errors";

export interface GroupMemberSummary {
  memberId: string;
  clientId: string;
  host: string;
}

/** DMS only resets the offsets of a group without consumers; this one still has some. */
export class GroupNotInactiveError extends Error {
  override readonly name = "GroupNotInactiveError";
  readonly group: string;
  readonly state: string;
  readonly members: GroupMemberSummary[];

  constructor(group: string, state: string, members: GroupMemberSummary[], waitedMs?: number) {
    const who = members.length
      ? members.map((m) => `${m.memberId} (client ${m.clientId} on ${m.host})`).join(", ")
      : "no members listed";
    const waited = waitedMs === undefined ? "" : ` after waiting ${Math.round(waitedMs / 1000)}s`;
    super(
      `consumer group ${JSON.stringify(group)} is ${state}, not EMPTY${waited}; still connected: ${who}. ` +
        "Stop these consumers and wait for session.timeout.ms before resetting offsets",
    );
    this.group = group;
    this.state = state;
    this.members = members;
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

/**
 * DMS accepted the reset, then a later step (the all-topics task, reading the offsets back) failed. The
 * offsets may already have moved: the message says exactly what was sent, so that nobody retries blind.
 */
export class ResetNotConfirmedError extends Error {
  override readonly name = "ResetNotConfirmedError";
  readonly requestId: string;
  override readonly cause: Error;

  constructor(applied: string, requestId: string, cause: Error) {
    super(`${applied} was ACCEPTED by DMS (request id ${requestId || "none"}), but confirming it failed: ${oneLine(cause.message)}`);
    this.requestId = requestId;
    this.cause = cause;
  }
}
