// The failures of a DMS call, each carrying what an operator needs to act on it and nothing more: no
// request headers, no credentials, no undici error objects (which hold sockets and options).

/** Collapse a server-supplied text onto one line so that a CLI failure is always exactly one line. */
export function oneLine(text: string): string {
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

/**
 * No usable answer at all: connection refused or dropped, timeouts, or the overall deadline passed.
 * `delivery` says whether DMS may have acted on the request: "unsent" when no attempt ever reached it (or
 * those that did were answered with a refusal), "unknown" when an attempt may have reached it and no
 * answer came back.
 */
export class DmsUnreachableError extends Error {
  override readonly name = "DmsUnreachableError";
  readonly method: string;
  readonly path: string;
  /** The system or undici error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) when there is one. */
  readonly code: string | undefined;
  /** The call's overall deadline passed before an answer came. */
  readonly deadlinePassed: boolean;
  readonly delivery: "unsent" | "unknown";

  constructor(fields: { method: string; path: string; code: string | undefined; reason: string; deadlinePassed?: boolean; delivery: "unsent" | "unknown" }) {
    super(`DMS ${fields.method} ${fields.path} failed: ${oneLine(fields.reason)}`);
    this.method = fields.method;
    this.path = fields.path;
    this.code = fields.code;
    this.deadlinePassed = fields.deadlinePassed ?? false;
    this.delivery = fields.delivery;
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
