// How many resets dms-local actually applied, per instance and group: each committed topic reset
// and each all-topics task that committed counts once. Fault tests read it to tell "the reset was
// applied once" from "it was sent once" (a request can be answered 5xx, or dropped, after it applied).
import type { CommittedOffset } from "./world";

export interface Application {
  instanceId: string;
  group: string;
  count: number;
  /** The latest one: when it was applied and the offsets it committed. */
  last: { at: Date; offsets: CommittedOffset[] };
}

export class Applications {
  private readonly byGroup = new Map<string, Application>();

  record(instanceId: string, group: string, offsets: readonly CommittedOffset[], at = new Date()): void {
    const key = `${instanceId}\u0000${group}`;
    const last = { at, offsets: offsets.map((o) => ({ ...o })) };
    const seen = this.byGroup.get(key);
    if (seen) {
      seen.count += 1;
      seen.last = last;
    } else {
      this.byGroup.set(key, { instanceId, group, count: 1, last });
    }
  }

  /** The group's count (0 and no `last` when nothing was applied since start or the last clear). */
  of(instanceId: string, group: string): { count: number; last?: Application["last"] } {
    const seen = this.byGroup.get(`${instanceId}\u0000${group}`);
    return seen ? { count: seen.count, last: copyLast(seen.last) } : { count: 0 };
  }

  /** Every group with at least one application, in the order they were first applied. */
  list(): Application[] {
    return [...this.byGroup.values()].map((a) => ({ ...a, last: copyLast(a.last) }));
  }

  clear(): void {
    this.byGroup.clear();
  }
}

function copyLast(last: Application["last"]): Application["last"] {
  return { at: new Date(last.at), offsets: last.offsets.map((o) => ({ ...o })) };
}
