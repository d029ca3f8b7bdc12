// The failures dms-local answers with, as DMS and its API gateway shape them: an HTTP status and
// `{error_code, error_msg}`. Codes marked "seen" are ones Huawei's services are known to return
// (API reference, Terraform provider); the others are dms-local's own choice, in DMS's format.

export class DmsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DmsError";
  }
}

/** 400 DMS.00400062 (seen: "Invalid {0} parameter in the request."), naming the field and why. */
export function invalidParameter(field: string, why: string): DmsError {
  return new DmsError(400, "DMS.00400062", `Invalid ${field} parameter in the request: ${why}`);
}

/** 404 DMS.00404022 (seen: "This instance does not exist."). */
export function instanceNotFound(instanceId: string): DmsError {
  return new DmsError(404, "DMS.00404022", `This instance does not exist: ${instanceId}`);
}

/** 404, dms-local's code: DMS has no documented one for a missing consumer group. */
export function groupNotFound(group: string): DmsError {
  return new DmsError(404, "DMS.00404046", `The consumer group does not exist: ${group}`);
}

/** 404, dms-local's code: DMS documents none for a topic the instance does not have. */
export function topicNotFound(topic: string): DmsError {
  return new DmsError(404, "DMS.00404047", `The topic does not exist: ${topic}`);
}

/** 400, dms-local's code: DMS refuses resets while the group has live consumers. */
export function groupNotEmpty(group: string, state: string): DmsError {
  return new DmsError(
    400,
    "DMS.00400814",
    `consumer group ${group} is ${state}: stop its consumers and wait for session.timeout.ms to pass, then reset (DMS does not reset offsets online)`,
  );
}

/** 400 DMS.00400026 (seen: another operation on the instance is in progress; retryable). */
export function operationInProgress(what: string): DmsError {
  return new DmsError(400, "DMS.00400026", `Another operation is in progress: ${what}. Try again later.`);
}

/** 404 APIG.0101 (seen): no such API. */
export function noSuchApi(): DmsError {
  return new DmsError(404, "APIG.0101", "The API does not exist or has not been published in the environment.");
}

/** 401 APIG.0301 (seen): "Incorrect IAM authentication information: …". */
export function badAuthentication(why: string): DmsError {
  return new DmsError(401, "APIG.0301", `Incorrect IAM authentication information: ${why}`);
}

/** 403 APIG.0302 (seen for "not authorized"): the credentials are fine but not for this project. */
export function wrongProject(why: string): DmsError {
  return new DmsError(403, "APIG.0302", `The IAM user is not authorized to access the API: ${why}`);
}

/** 429 APIG.0308 (seen): over the gateway's request rate limit. */
export function throttled(limit: number, per = "time:1 second"): DmsError {
  return new DmsError(429, "APIG.0308", `The throttling threshold has been reached: policy user over ratelimit,limit:${limit},${per}`);
}

/** 400 APIG.0201 (seen): the request itself is malformed (path escapes, body size). */
export function badRequest(why: string): DmsError {
  return new DmsError(400, "APIG.0201", `API request error: ${why}`);
}

/** 413 APIG.0201: the gateway's answer to a body over its limit. */
export function bodyTooLarge(limitBytes: number): DmsError {
  return new DmsError(413, "APIG.0201", `API request error: the body is larger than ${limitBytes / 1024 / 1024} MiB`);
}

/** 500, for a world failure the handlers did not foresee. */
export function internalError(): DmsError {
  return new DmsError(500, "DMS.00500000", "Internal service error.");
}
