// What dms-local was asked and what it answered, for tests to read back through the admin API.
// Never holds a header: the credential is recorded as its index in the seed's list.
import type { Query } from "../provider/dms/signing/encoding";

export interface LoggedRequest {
  method: string;
  /** As received (percent-encoded). */
  path: string;
  query: Query;
  /** null when the connection was dropped or no answer was sent. */
  status: number | null;
  requestId: string;
  /** ISO-8601 time the request arrived. */
  at: string;
  /** The body text as received, null when empty. */
  body: string | null;
  /** Index in the seed's credentials of the AK that signed it, null when unauthenticated. */
  credential: number | null;
}

/** Keeps the most recent entries so a long rehearsal cannot grow memory without bound. */
export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly limit = 10_000) {}

  record(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  list(): LoggedRequest[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}
