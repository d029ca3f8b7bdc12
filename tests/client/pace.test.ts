// The shared pace of a throttling endpoint, driven with explicit times (milliseconds): who waits how long.
import { IDLE_MS, LOWER, MIN_RATE, Pace, RAISE_PER_SECOND } from "../../provider/dms/pace";

/** The waits of `n` requests all ready at `now`: turns one after another. */
function turns(pace: Pace, now: number, n: number): number[] {
  return Array.from({ length: n }, () => pace.take(now, Infinity) as number);
}

/** The time between two turns, that is 1000 / the rate, read from two requests ready at the same moment. */
function turnLength(pace: Pace, now: number): number {
  const [a, b] = turns(pace, now, 2) as [number, number];
  return b - a;
}

/** A paced endpoint at `at`: answered every 50 ms for three seconds (20 per second), then one 429. */
function throttledAfterSteadyTraffic(at = 3000): Pace {
  const pace = new Pace();
  for (let t = at - 3000; t < at; t += 50) pace.answered(t, false);
  pace.throttled(at, undefined);
  return pace;
}

test("an endpoint that never throttled is not paced: every request goes at once", () => {
  const pace = new Pace();
  for (let t = 0; t < 3000; t += 10) pace.answered(t, false);
  expect(turns(pace, 3000, 100).every((w) => w === 0)).toBe(true);
});

test("after a 429, requests take turns at a little under what the endpoint admitted over the last second", () => {
  const pace = throttledAfterSteadyTraffic(3000);
  const turn = 1000 / (LOWER * 20);
  // The refused request's retry waits one turn; the others queue behind it.
  expect(turns(pace, 3000, 4)).toEqual([turn, 2 * turn, 3 * turn, 4 * turn].map((w) => expect.closeTo(w, 6)));
  // Requests ready later wait for the turns still free, not for a backoff of their own.
  expect(pace.take(3000 + 4.5 * turn, Infinity)).toBeCloseTo(0.5 * turn, 6);
});

test("after a burst, the first turn waits until the gateway's one-second window has let the burst's first request go", () => {
  const pace = new Pace();
  for (let t = 1000; t < 1200; t += 10) pace.answered(t, false); // 20 answers in 200 ms
  pace.throttled(1200, undefined);
  const turn = 1000 / (LOWER * 20);
  expect(turns(pace, 1200, 3)).toEqual([800, 800 + turn, 800 + 2 * turn].map((w) => expect.closeTo(w, 6)));
});

test("more 429s within a second of the one that set the rate leave it; a 429 after that sets it again from what was admitted", () => {
  const pace = throttledAfterSteadyTraffic(3000);
  const turn = 1000 / (LOWER * 20);
  pace.throttled(3500, undefined);
  expect(turnLength(pace, 3500)).toBeCloseTo(turn, 6);
  // Nothing was admitted since: the next 429 a second later leaves the slowest pace.
  pace.throttled(4100, undefined);
  expect(turnLength(pace, 4100)).toBeCloseTo(1000 / MIN_RATE, 6);
});

test("Retry-After: no request gets a turn before it, whichever client sends it", () => {
  const pace = throttledAfterSteadyTraffic(3000);
  pace.throttled(3000, 2000);
  const turn = 1000 / (LOWER * 20);
  expect(turns(pace, 3000, 3)).toEqual([2000, 2000 + turn, 2000 + 2 * turn].map((w) => expect.closeTo(w, 6)));
  expect(pace.take(4000, Infinity)).toBeGreaterThanOrEqual(1000);
});

test("a Retry-After shorter than the wait for the gateway's window is what the first turn waits", () => {
  const pace = new Pace();
  for (let t = 1000; t < 1200; t += 10) pace.answered(t, false);
  pace.throttled(1200, 100);
  expect(pace.take(1200, Infinity)).toBe(100);
});

test(`answers to requests the pace held back raise the rate by ${RAISE_PER_SECOND} per second every second; others leave it`, () => {
  const held = throttledAfterSteadyTraffic(3000);
  const notHeld = throttledAfterSteadyTraffic(3000);
  // One second of answers at the lowered rate.
  const rate = LOWER * 20;
  for (let i = 0; i < rate; i++) {
    held.answered(3000 + (i * 1000) / rate, true);
    notHeld.answered(3000 + (i * 1000) / rate, false);
  }
  expect(1000 / turnLength(held, 4000)).toBeCloseTo(rate + RAISE_PER_SECOND, 1);
  expect(1000 / turnLength(notHeld, 4000)).toBeCloseTo(rate, 6);
});

test(`a pace that has held no request back for ${IDLE_MS} ms ends`, () => {
  const pace = throttledAfterSteadyTraffic(3000);
  // Still paced shortly after: the second of two requests ready together waits its turn.
  expect(turns(pace, 5000, 2)[1]).toBeGreaterThan(0);
  const quiet = 5000 + IDLE_MS + 1;
  expect(turns(pace, quiet, 50).every((w) => w === 0)).toBe(true);
});

test("a turn that would come after the deadline is not taken: the request gives up at once and the turn stays free", () => {
  const pace = throttledAfterSteadyTraffic(3000);
  const turn = 1000 / (LOWER * 20);
  expect(pace.take(3000, 3000 + turn / 2)).toBeUndefined();
  expect(pace.take(3000, Infinity)).toBeCloseTo(turn, 6);
});
