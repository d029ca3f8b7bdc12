// What dms-local was asked and what it answered, for tests to read back through the admin API.
// Never holds a header: the credential is recorded as its index in the seed's list. Bounded whatever
// arrives: an unauthenticated request leaves one short line (no query, no body), an authenticated one
// at most KEPT_BODY_BYTES of its body, and the whole log at most LOG_LIMITS.bytes (estimated) and
// LOG_LIMITS.entries entries, the oldest going first.
import type { Query } from "../provider/dms/signing/encoding";

export interface LoggedRequest {
  method: string;
  /** As received (percent-encoded); cut to UNAUTHENTICATED_PATH_CHARS when unauthenticated. */
  path: string;
  /** Empty when unauthenticated. */
  query: Query;
  /** null when the connection was dropped or no answer was sent. */
  status: number | null;
  requestId: string;
  /** ISO-8601 time the request arrived. */
  at: string;
  /** The body text (its first KEPT_BODY_BYTES bytes), null when empty or unauthenticated. */
  body: string | null;
  /** The body's size as received, in bytes. */
  bodyBytes: number;
  /** Index in the seed's credentials of the AK that signed it, null when unauthenticated. */
  credential: number | null;
}

export const LOG_LIMITS = { entries: 10_000, bytes: 8 * 1024 * 1024 };
export const KEPT_BODY_BYTES = 4096;
export const UNAUTHENTICATED_PATH_CHARS = 256;
const METHOD_CHARS = 16;
/** What an entry costs beyond its strings: the object, its fields, the query object. */
const ENTRY_OVERHEAD_BYTES = 256;

/** What arrived, before anything is kept of it. */
export interface ReceivedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  requestId: string;
  at: Date;
  /** The body when it was read into memory (only requests that may authenticate), else undefined. */
  body: Buffer | undefined;
  bodyBytes: number;
}

/**
 * A copy that shares no memory with `text`: V8 keeps a slice of a long string as a view of the
 * whole, so a short prefix of a 16 KiB URL would otherwise keep the URL alive.
 */
function detached(text: string, maxChars: number): string {
  const cut = text.length > maxChars ? text.slice(0, maxChars) : text;
  return Buffer.from(cut, "utf8").toString("utf8");
}

/** The entry to keep of a request: one short line unless `credential` says who signed it. */
export function entryOf(received: ReceivedRequest, status: number | null, credential: number | null, query: () => Query): LoggedRequest {
  const base = { status, requestId: received.requestId, at: received.at.toISOString(), bodyBytes: received.bodyBytes };
  if (credential === null) {
    return { method: detached(received.method, METHOD_CHARS), path: detached(received.rawPath, UNAUTHENTICATED_PATH_CHARS), query: {}, body: null, credential: null, ...base };
  }
  const body = received.body === undefined || received.body.length === 0 ? null : received.body.subarray(0, KEPT_BODY_BYTES).toString("utf8");
  return { method: detached(received.method, METHOD_CHARS), path: detached(received.rawPath, Number.MAX_SAFE_INTEGER), query: query(), body, credential, ...base };
}

/** An upper estimate of the memory an entry holds: two bytes a character (V8's wide strings). */
export function sizeOf(entry: LoggedRequest): number {
  let chars = entry.method.length + entry.path.length + entry.requestId.length + entry.at.length + (entry.body?.length ?? 0);
  for (const [key, value] of Object.entries(entry.query)) {
    chars += key.length + 16;
    for (const v of typeof value === "string" ? [value] : value) chars += v.length + 16;
  }
  return ENTRY_OVERHEAD_BYTES + 2 * chars;
}

export class RequestLog {
  /** Oldest first; evicted slots are emptied at once and the array compacted now and then. */
  private slots: ({ entry: LoggedRequest; size: number } | undefined)[] = [];
  /** Index of the oldest entry still kept: evicting moves it instead of shifting the array each time. */
  private head = 0;
  private total = 0;

  constructor(private readonly limits: { entries: number; bytes: number } = LOG_LIMITS) {}

  record(entry: LoggedRequest): void {
    const size = sizeOf(entry);
    this.slots.push({ entry, size });
    this.total += size;
    while (this.slots.length - this.head > this.limits.entries || this.total > this.limits.bytes) {
      this.total -= this.slots[this.head]?.size ?? 0;
      this.slots[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  list(): LoggedRequest[] {
    return this.slots.slice(this.head).flatMap((slot) => (slot ? [{ ...slot.entry }] : []));
  }

  /** How many entries are kept. */
  size(): number {
    return this.slots.length - this.head;
  }

  /** The estimated memory the kept entries hold, never above the byte limit. */
  bytes(): number {
    return this.total;
  }

  clear(): void {
    this.slots = [];
    this.head = 0;
    this.total = 0;
  }
}
