// dms-local's request rate limit: what the API gateway in front of DMS answers beyond it.
import { RateLimiter } from "../../dms-local/rate-limit";
import { startDmsLocal } from "../../dms-local/server";
import { testSeed } from "./helpers";

describe("RateLimiter", () => {
  test("admits `limit` requests in any one-second window, whatever the window's start", () => {
    const limiter = new RateLimiter(3);
    expect([0, 10, 20, 30].map((t) => limiter.admit(t))).toEqual([true, true, true, false]);
    // The first slot frees exactly one second after it was taken, not at a window edge.
    expect(limiter.admit(999)).toBe(false);
    expect(limiter.admit(1000)).toBe(true);
    expect(limiter.admit(1005)).toBe(false);
    expect(limiter.admit(1010)).toBe(true);
  });

  test("refused requests take no slot", () => {
    const limiter = new RateLimiter(1);
    expect(limiter.admit(0)).toBe(true);
    expect(limiter.admit(500)).toBe(false);
    expect(limiter.admit(1000)).toBe(true);
  });

  test("a limit must be a whole number of requests", () => {
    expect(() => new RateLimiter(0)).toThrow("a rate limit is a whole number of requests >= 1, got 0");
    expect(() => new RateLimiter(2.5)).toThrow("got 2.5");
  });
});

test("beyond rateLimitPerSecond, DMS requests get 429 APIG.0308 at once (logged, no Retry-After); the admin API is not limited", async () => {
  // The clock held still: the 8 requests are one burst however long a loaded machine takes to send them.
  const dms = await startDmsLocal({ seed: testSeed(), admin: true, rateLimitPerSecond: 5, rateLimitClock: () => 1_700_000_000_000 });
  try {
    // Unsigned requests to no API: whatever passes the gateway is answered 404 APIG.0101 behind it.
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${dms.url}/v2/nothing`)));
    const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, retryAfter: r.headers.get("retry-after"), body: await r.json() })));
    expect(bodies.filter((b) => b.status === 404)).toHaveLength(5);
    const refused = bodies.filter((b) => b.status === 429);
    expect(refused).toHaveLength(3);
    for (const b of refused) {
      expect(b).toEqual({
        status: 429,
        retryAfter: null,
        body: { error_code: "APIG.0308", error_msg: "The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 second" },
      });
    }
    const log = (await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: { status: number }[] };
    expect(log.requests.map((r) => r.status).sort()).toEqual([404, 404, 404, 404, 404, 429, 429, 429]);
    // Still the same second: refused too.
    expect((await fetch(`${dms.url}/v2/nothing`)).status).toBe(429);
  } finally {
    await dms.close();
  }
});

test("the limit counts by its clock: once a second has passed on it, requests are admitted again", async () => {
  let now = 1_700_000_000_000;
  const dms = await startDmsLocal({ seed: testSeed(), rateLimitPerSecond: 2, rateLimitClock: () => now });
  try {
    const status = async () => (await fetch(`${dms.url}/v2/nothing`)).status;
    expect([await status(), await status(), await status()]).toEqual([404, 404, 429]);
    now += 999;
    expect(await status()).toBe(429);
    // Both slots were taken at the same instant: both free one second after it.
    now += 1;
    expect([await status(), await status(), await status()]).toEqual([404, 404, 429]);
  } finally {
    await dms.close();
  }
});
