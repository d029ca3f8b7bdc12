// How long a create or update may wait. Pulumi's dynamic-provider host drops the engine's operation timeout
// (it calls `create(props)` without it), so the SDK forwards the resource's `customTimeouts` as an input and
// the provider bounds its waits by them here.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

/** Milliseconds of a Pulumi/Go duration string ("90s", "5m", "1h30m"); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit as string] as number);
  return Math.round(ms);
}

/** The waits handed to a rewind. */
export interface WaitBudget {
  /** How long to wait for the group to become inactive before giving up (0: check once). */
  waitForInactiveMs: number;
  /** How long to wait for an all-topics reset task; undefined leaves the client's default. */
  taskTimeoutMs?: number;
}

/**
 * The group wait is what the user asked for, but never longer than the operation's custom timeout; the
 * task wait gets what is left of that timeout after the longest possible group wait, and at least a second.
 */
export function waitBudget(waitForInactiveGroupSeconds: number, operationTimeout: string | undefined): WaitBudget {
  const requested = waitForInactiveGroupSeconds * 1000;
  const limit = operationTimeout === undefined ? undefined : parseDuration(operationTimeout);
  if (limit === undefined) return { waitForInactiveMs: requested };
  const waitForInactiveMs = Math.min(requested, limit);
  return { waitForInactiveMs, taskTimeoutMs: Math.max(1000, limit - waitForInactiveMs) };
}
