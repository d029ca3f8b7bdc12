// The failures a rewind can end in, each carrying what an operator needs to act on it and nothing
// more: no request headers, no credentials, no undici error objects (which hold sockets and options).

/** Collapse a server-supplied text onto one line so that a CLI failure is always exactly one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** DMS (or its API gateway) answered with an error status. */
export class DmsError extends Error {
  override readonly name = "DmsError";
  readonly status: number;
  readonly errorCode: string;
  readonly errorMsg: string;
  readonly requestId: string | undefined;
  readonly method: string;
  readonly path: string;

  constructor(fields: { status: number; errorCode: string; errorMsg: string; requestId: string | undefined; method: string; path: string }) {
    const errorMsg = oneLine(fields.errorMsg);
    super(
      `DMS ${fields.method} ${fields.path} failed: ${fields.status} ${fields.errorCode || "(no error_code)"} ` +
        `${JSON.stringify(errorMsg)} (request id ${fields.requestId ?? "none"})`,
    );
    this.status = fields.status;
    this.errorCode = fields.errorCode;
    this.errorMsg = errorMsg;
    this.requestId = fields.requestId;
    this.method = fields.method;
    this.path = fields.path;
  }
}

/** No usable answer at all: connection refused or dropped, timeouts, or the overall deadline passed. */
export class DmsUnreachableError extends Error {
  override readonly name = "DmsUnreachableError";
  readonly method: string;
  readonly path: string;
  /** The system or undici error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) when there is one. */
  readonly code: string | undefined;
  /** The call's overall deadline passed before an answer came. */
  readonly deadlinePassed: boolean;

  constructor(fields: { method: string; path: string; code: string | undefined; reason: string; deadlinePassed?: boolean }) {
    super(`DMS ${fields.method} ${fields.path} failed: ${oneLine(fields.reason)}`);
    this.method = fields.method;
    this.path = fields.path;
    this.code = fields.code;
    this.deadlinePassed = fields.deadlinePassed ?? false;
  }
}

/** The DMS answer did not have the shape its API documents. */
export class DmsResponseError extends Error {
  override readonly name = "DmsResponseError";
  constructor(method: string, path: string, problem: string, requestId: string | undefined) {
    super(`DMS ${method} ${path} returned an unexpected body: ${oneLine(problem)} (request id ${requestId ?? "none"})`);
  }
}

/** Configuration that cannot work (endpoint, region, credentials): the fix is on the caller's side. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

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
