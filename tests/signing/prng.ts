// A seeded pseudo-random generator (mulberry32) for randomized tests: the same seed draws the same
// cases, so a failure is reproduced by running again with the seed it printed.

export interface Prng {
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function prng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
  };
}

/** The seed from `envVar` when set (to reproduce a failure), else a fresh one. */
export function seedFrom(envVar: string): number {
  const given = process.env[envVar];
  return given === undefined || given === "" ? Math.floor(Math.random() * 4294967296) : Number(given) >>> 0;
}
