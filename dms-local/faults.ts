// Fault injection for rehearsals and tests: "the next N matching requests answer like this" —
// an error status with DMS's error body, a delay (or a hang), or a dropped connection; by default
// instead of DMS handling the request, with `after` once DMS has handled it (the write took effect).
import { z } from "zod";

export const FaultRule = z
  .strictObject({
    count: z.number().int().min(1),
    status: z.number().int().min(400).max(599).optional(),
    errorCode: z.string().min(1).optional(),
    errorMsg: z.string().optional(),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    /** Wait this long, then answer (normally, or with `status`). A huge value never answers. */
    hangMs: z.number().int().nonnegative().optional(),
    /** Destroy the connection without answering. */
    drop: z.literal(true).optional(),
    /**
     * Let DMS handle the request first (a reset applies), then answer with the fault instead: a
     * write whose answer is lost (drop, hang) or wrong (status) after it took effect.
     */
    after: z.literal(true).optional(),
    match: z
      .strictObject({
        method: z.string().min(1).optional(),
        /** Matched against the path as received and as decoded. */
        pathIncludes: z.string().min(1).optional(),
      })
      .optional(),
  })
  .refine((r) => r.status !== undefined || r.hangMs !== undefined || r.drop === true, {
    message: "a fault needs status, hangMs or drop",
  });
export type FaultRule = z.infer<typeof FaultRule>;

/** What to do to one request. */
export interface Fault {
  drop: boolean;
  /** Handle the request first, then apply the fault to its answer. */
  after: boolean;
  hangMs?: number;
  error?: { status: number; code: string; message: string; retryAfterSeconds?: number };
}

/** The default error body for an injected status, as the gateway or DMS would answer it. */
function defaultError(status: number): { code: string; message: string } {
  if (status === 429) return { code: "APIG.0308", message: "The throttling threshold has been reached: policy user over ratelimit" };
  if (status === 401) return { code: "APIG.0301", message: "Incorrect IAM authentication information: injected fault" };
  if (status === 403) return { code: "APIG.0302", message: "The IAM user is not authorized to access the API: injected fault" };
  if (status >= 500) return { code: "DMS.00500000", message: "Internal service error (injected fault)" };
  return { code: "DMS.00400062", message: "Invalid request (injected fault)" };
}

export class Faults {
  private rules: Array<FaultRule & { left: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.count });
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules still armed, with how many requests each will still hit. */
  pending(): Array<FaultRule & { left: number }> {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The fault for this request, if an armed rule matches (the oldest first); consumes one use. */
  take(method: string, rawPath: string, decodedPath: string): Fault | undefined {
    const rule = this.rules.find(
      (r) =>
        (r.match?.method === undefined || r.match.method.toUpperCase() === method.toUpperCase()) &&
        (r.match?.pathIncludes === undefined || rawPath.includes(r.match.pathIncludes) || decodedPath.includes(r.match.pathIncludes)),
    );
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.left === 0) this.rules = this.rules.filter((r) => r !== rule);
    const fault: Fault = { drop: rule.drop === true, after: rule.after === true };
    if (rule.hangMs !== undefined) fault.hangMs = rule.hangMs;
    if (rule.status !== undefined) {
      const fallback = defaultError(rule.status);
      fault.error = { status: rule.status, code: rule.errorCode ?? fallback.code, message: rule.errorMsg ?? fallback.message };
      if (rule.retryAfterSeconds !== undefined) fault.error.retryAfterSeconds = rule.retryAfterSeconds;
    }
    return fault;
  }
}
