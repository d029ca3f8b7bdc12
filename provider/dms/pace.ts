// The pace of one endpoint's requests while its gateway throttles them. Huawei's API gateway refuses what
// goes beyond its limit with 429 APIG.0308 and names no Retry-After: callers that each back off on their
// own leave the endpoint idle while they all sleep, then come back together and are refused again. So once
// an endpoint has answered 429, every request to it from this process takes the next free turn of one
// shared pace instead: a 429 sets the rate a little under what the endpoint was admitting, and every
// answer the pace held back raises it a little, so that it stays close to a limit it cannot know.
// An endpoint that never throttles is never paced, and a pace that holds nothing back for a while ends.

/** A 429 sets the rate to this fraction of what the endpoint admitted (answered other than 429) over the last second. */
export const LOWER = 0.9;
/** While the pace holds requests back, the rate rises by this many requests per second, every second. */
export const RAISE_PER_SECOND = 1;
/** Requests per second, however much the endpoint refuses: a pace that reached 0 would never learn. */
export const MIN_RATE = 1;
/** A pace that has held no request back for this long ends: the endpoint is no longer the limit. */
export const IDLE_MS = 5_000;
/**
 * APIG counts requests per second ("limit:N,time:1 second"). For a second after a 429 lowered the rate, the
 * gateway's window still holds what it admitted before, so the 429s that follow say nothing new.
 */
export const WINDOW_MS = 1_000;

/** Times are milliseconds on one clock (Date.now() in the transport), given by the caller: tests drive them. */
export class Pace {
  /** Requests per second while paced; undefined while the endpoint does not throttle. */
  #rate: number | undefined;
  /** When the next turn starts. */
  #nextTurn = 0;
  /** When a request was last made to wait. */
  #heldAt = 0;
  /** When a 429 last set the rate. */
  #loweredAt = 0;
  readonly #admitted = new AdmittedCount();

  /**
   * Takes the next turn for a request ready at `now`: how long it waits before it is sent (0 at once), or
   * undefined when that turn comes after `deadline` (then none is taken).
   */
  take(now: number, deadline: number): number | undefined {
    if (this.#rate === undefined) return 0;
    if (this.#nextTurn <= now && now - this.#heldAt > IDLE_MS) {
      this.#rate = undefined;
      return 0;
    }
    const at = Math.max(now, this.#nextTurn);
    if (at >= deadline) return undefined;
    this.#nextTurn = at + 1000 / this.#rate;
    if (at > now) this.#heldAt = now;
    return at - now;
  }

  /** The endpoint answered, with anything but 429; `waited`: the request had waited for its turn. */
  answered(now: number, waited: boolean): void {
    this.#admitted.add(now);
    // Raised only when the pace was what held requests back: a rate that nothing tested says nothing.
    if (waited && this.#rate !== undefined) this.#rate += RAISE_PER_SECOND / this.#rate;
  }

  /**
   * The endpoint refused a request with 429; `retryAfterMs`: the wait its Retry-After asked for, if any.
   * The rate comes from what the endpoint admitted over the last second: the first 429 has no rate before
   * it to lower, and that count is what the endpoint can take (or what it leaves to this process).
   */
  throttled(now: number, retryAfterMs: number | undefined): void {
    // When the endpoint may take the next request: after its Retry-After when it names one; else, as far as
    // we can tell, once the oldest of what its window admitted in the last second is a second old (after a
    // burst, retries sent before that would only be refused again).
    let frees = now + (retryAfterMs ?? 0);
    if (this.#rate === undefined || now - this.#loweredAt >= WINDOW_MS) {
      const admitted = this.#admitted.inLastSecond(now);
      this.#rate = Math.max(MIN_RATE, LOWER * admitted.count);
      this.#loweredAt = now;
      if (retryAfterMs === undefined && admitted.oldest !== undefined) frees = admitted.oldest + WINDOW_MS;
    }
    // The refused request's retry waits one turn at least: a "Retry-After: 0" is no invitation to burst.
    this.#nextTurn = Math.max(this.#nextTurn, now + 1000 / this.#rate, frees);
    this.#heldAt = now;
  }
}

interface SecondCount {
  count: number;
  first: number;
  last: number;
}

const NONE: SecondCount = { count: 0, first: 0, last: 0 };

/**
 * Answers other than 429 (what got past the gateway), counted by whole second, this one and the one before:
 * a constant cost per answer, which traffic that is never throttled pays too.
 */
class AdmittedCount {
  #second = 0;
  #current: SecondCount = NONE;
  #previous: SecondCount = NONE;

  add(now: number): void {
    this.#roll(now);
    if (this.#current === NONE) this.#current = { count: 0, first: now, last: now };
    this.#current.count++;
    this.#current.last = now;
  }

  /** How many in the last 1,000 ms, and when the oldest of them came (the previous second's taken as spread evenly). */
  inLastSecond(now: number): { count: number; oldest: number | undefined } {
    this.#roll(now);
    const since = now - 1000;
    const p = this.#previous;
    const c = this.#current;
    if (p.count === 0 || p.last <= since) return { count: c.count, oldest: c.count > 0 ? c.first : undefined };
    if (p.first > since) return { count: p.count + c.count, oldest: p.first };
    return { count: c.count + (p.count * (p.last - since)) / (p.last - p.first), oldest: since };
  }

  #roll(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#second) return;
    this.#previous = second === this.#second + 1 ? this.#current : NONE;
    this.#current = NONE;
    this.#second = second;
  }
}

/** The paces of the process, by origin: every client of an endpoint takes its turns in the same one. */
const paces = new Map<string, Pace>();

export function paceOf(origin: string): Pace {
  let pace = paces.get(origin);
  if (pace === undefined) {
    pace = new Pace();
    paces.set(origin, pace);
  }
  return pace;
}
