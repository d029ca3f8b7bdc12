// Request throttling as Huawei Cloud's API gateway (APIG) does it in front of DMS: a limit of N requests per
// second, and every request beyond it refused at once with 429 APIG.0308 ("The throttling threshold has been
// reached: policy user over ratelimit,limit:N,time:1 second"). APIG neither queues nor delays the excess, and
// its documentation names no Retry-After header (it tells callers to retry after a short while), so none is
// sent here: clients must back off on their own.

/** At most `limit` requests admitted in any window of `windowMs` (a sliding window: no bursts at window edges). */
export class RateLimiter {
  /** When each of the last `limit` admitted requests arrived, oldest first. */
  private readonly admitted: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs = 1000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a rate limit is a whole number of requests >= 1, got ${limit}`);
  }

  /** True (and counted) when a request arriving at `now` is within the limit. */
  admit(now: number): boolean {
    if (this.admitted.length === this.limit) {
      if (now - (this.admitted[0] as number) < this.windowMs) return false;
      this.admitted.shift();
    }
    this.admitted.push(now);
    return true;
  }
}
