// What the CLI tests share: a dms-local of their own (its world hookable at the moment a reset commits),
// its admin API read over node:http (so that the test's own reads are never counted as the CLI's), a
// counter of every HTTP request undici creates in this process, whatever its destination, and `main`
// run with captured output, with or without a terminal.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { request } from "node:http";
import { MemoryWorld } from "../../dms-local/memory-world";
import { Seed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { CommittedOffset } from "../../dms-local/world";
import { main } from "../../provider/cli/main";

export const PROJECT = "4b1f0e2a9c8d7e6f5a4b3c2d1e0f9a8b";
export const INSTANCE = "6d2e8a4c-1f3b-4d5e-9a7c-0b2d4f6a8c1e";
export const ENV = { CLOUD_SDK_AK: "CLITESTAK00000000001", CLOUD_SDK_SK: "cli-test-only-secret-key-not-real-0001" };
/** Record n of every partition was written at BASE_MS + n seconds. */
export const BASE_MS = 1_750_000_000_000;

const timestamps = { base: BASE_MS, stepMs: 1000 };

/** The committed offsets each group starts with, as `topic/partition` → offset. */
export const START: Record<string, Record<string, number>> = {
  billing: { "orders/0": 900, "orders/1": 950, "orders/2": 450, "payments/0": 780, "payments/1": 690 },
  audit: { "orders/0": 300, "orders/1": 400, "orders/2": 200 },
  replica: { "orders/0": 10, "orders/1": 200, "orders/2": 20 },
  "g-busy": { "orders/0": 10, "orders/1": 110, "orders/2": 20 },
  // Names a file name cannot hold as they are.
  订单组: { "orders/0": 500, "orders/1": 600, "orders/2": 400 },
  账单组: { "orders/0": 700, "orders/1": 800, "orders/2": 300 },
  "a b": { "orders/0": 11, "orders/1": 111, "orders/2": 11 },
  a_b: { "orders/0": 22, "orders/1": 122, "orders/2": 22 },
};

export function cliSeed(): Seed {
  return Seed.parse({
    projectId: PROJECT,
    credentials: [{ ak: ENV.CLOUD_SDK_AK, sk: ENV.CLOUD_SDK_SK }],
    instances: [
      {
        id: INSTANCE,
        topics: {
          orders: {
            partitions: [
              { logStartOffset: 0, logEndOffset: 1000, timestamps },
              { logStartOffset: 100, logEndOffset: 1000, timestamps },
              { logStartOffset: 0, logEndOffset: 500, timestamps },
            ],
          },
          payments: { partitions: [{ logStartOffset: 0, logEndOffset: 800, timestamps }, { logStartOffset: 50, logEndOffset: 700, timestamps }] },
        },
        groups: {
          billing: { state: "EMPTY", offsets: START.billing },
          audit: { state: "EMPTY", offsets: START.audit },
          replica: { state: "EMPTY", offsets: START.replica },
          ...Object.fromEntries(["订单组", "账单组", "a b", "a_b"].map((g) => [g, { state: "EMPTY" as const, offsets: START[g] }])),
          "g-busy": {
            state: "STABLE",
            members: [{ memberId: "consumer-1-aaaa", clientId: "billing-worker-1", host: "/10.0.0.11", assignment: [{ topic: "orders", partitions: [0, 1, 2] }] }],
            offsets: START["g-busy"],
          },
        },
      },
    ],
  });
}

/** A MemoryWorld that calls `onCommit` when a reset commits, before the offsets change: the moment DMS acts on it. */
export class HookedWorld extends MemoryWorld {
  onCommit: ((group: string, offsets: readonly CommittedOffset[]) => Promise<void> | void) | undefined;

  override async commitOffsets(instanceId: string, group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    await this.onCommit?.(group, offsets);
    return super.commitOffsets(instanceId, group, offsets);
  }
}

export interface LocalDms {
  dms: DmsLocal;
  world: HookedWorld;
  url: string;
  /** Every DMS request dms-local received since the last clear (the admin API's own are never logged). */
  requests(): Promise<{ method: string; path: string; status: number | null; requestId: string; body: string | null }[]>;
  clearRequests(): Promise<void>;
  /** Arms a fault (dms-local's admin API). */
  fault(rule: Record<string, unknown>): Promise<void>;
  /** The group's committed offsets now, as `topic/partition` → offset. */
  offsets(group: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

function admin(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: body === undefined ? {} : { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export async function startLocalDms(): Promise<LocalDms> {
  const world = new HookedWorld(cliSeed());
  const dms = await startDmsLocal({ seed: cliSeed(), admin: true, world });
  return {
    dms,
    world,
    url: dms.url,
    async requests() {
      const r = await admin(dms.url, "GET", "/__admin/requests");
      return (JSON.parse(r.text) as { requests: { method: string; path: string; status: number | null; requestId: string; body: string | null }[] }).requests;
    },
    async clearRequests() {
      await admin(dms.url, "DELETE", "/__admin/requests");
    },
    async fault(rule) {
      const r = await admin(dms.url, "POST", "/__admin/faults", rule);
      if (r.status !== 201) throw new Error(`arming a fault failed: ${r.status} ${r.text}`);
    },
    async offsets(group) {
      const rows = await world.committedOffsets(INSTANCE, group);
      return Object.fromEntries(rows.map((o) => [`${o.topic}/${o.partition}`, Number(o.offset)]));
    },
    async close() {
      await dms.close();
      await world.close();
    },
  };
}

/**
 * Counts every HTTP request undici creates in this process (the CLI's client is undici), to any host:
 * also those that would never reach our dms-local (another endpoint, a region, a proxy).
 */
export function countUndiciRequests(): { count(): number; reset(): void; stop(): void } {
  let n = 0;
  const onCreate = () => void n++;
  subscribe("undici:request:create", onCreate);
  return { count: () => n, reset: () => void (n = 0), stop: () => unsubscribe("undici:request:create", onCreate) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The questions asked on the terminal. */
  asked: string[];
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** A terminal that answers every question so. Absent: no terminal. */
  terminal?: boolean | ((question: string) => Promise<boolean>);
  /** Sees each piece of stdout as it is written: lets a test act on what the CLI says it is doing. */
  onStdout?: (text: string) => void;
}

export async function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const asked: string[] = [];
  const { terminal, onStdout } = options;
  const out = (t: string): void => {
    stdout += t;
    onStdout?.(t);
  };
  const io =
    terminal === undefined
      ? { stdout: out, stderr: (t: string) => void (stderr += t) }
      : {
          stdout: out,
          stderr: (t: string) => void (stderr += t),
          interactive: true,
          async confirm(question: string) {
            asked.push(question);
            return typeof terminal === "function" ? terminal(question) : terminal;
          },
        };
  const code = await main(args, { ...ENV, ...options.env }, io);
  return { code, stdout, stderr, asked };
}

/** The JSON lines of a --json run, each parsed (a line that does not parse fails the test). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split("\n");
  expect(lines.pop()).toBe("");
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}
