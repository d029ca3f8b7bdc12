// Shared by the rewind tests: dms-local in memory with a seed made for plans (a group with offsets on two
// topics, a group to copy from, a group with none), rewinds built by the one schema every front door uses,
// worlds that let a test hold DMS's work or grow a log at a moment it chooses, and reads of what dms-local
// holds and was sent, straight from it rather than through the client under test.
import { request } from "undici";
import { DmsClient } from "../../provider/dms/client";
import type { PartitionOffset } from "../../provider/dms/client";
import { parseJson } from "../../provider/dms/json";
import { rewindSchema, type Rewind, type RewindInput } from "../../provider/rewind/target";
import { MemoryWorld } from "../../dms-local/memory-world";
import type { LoggedRequest } from "../../dms-local/request-log";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { Seed } from "../../dms-local/seed";
import type { CommittedOffset, PartitionOffsets, TaskRecord, TopicDetail } from "../../dms-local/world";
import { BASE_MS, CREDENTIALS, INSTANCE_ID, PROJECT_ID, testSeed } from "../dms-local/helpers";

export { BASE_MS, INSTANCE_ID, PROJECT_ID } from "../dms-local/helpers";

/** Groups the rewind tests add to dms-local's test seed (orders: [0,1000] [100,1000] [0,500]; payments: [0,800] [50,700]). */
export const PLAN_GROUPS = {
  "g-plan": { "orders/0": 400, "orders/1": 150, "orders/2": 450, "payments/0": 700, "payments/1": 60 },
  "g-source": { "orders/0": 100, "orders/1": 900, "orders/2": 450, "payments/1": 300 },
  "g-none": {},
} as const;

/** Groups of bystanders: each can start an all-topics task of its own. */
export const BYSTANDERS = Array.from({ length: 12 }, (_, i) => `bystander-${i}`);

export function rewindSeed(): Seed {
  return testSeed((s) => {
    const instance = s.instances[0];
    // The shared seed writes `huge` one record a second from 1970-ish offsets on, so its newest record is dated
    // past 2^53 ms, which the client's ShowInstanceTopicDetail schema refuses (reported); here its records are
    // all dated BASE_MS, as a real log's would be within 2^53.
    const huge = instance?.topics["huge"]?.partitions[0];
    if (huge) huge.timestamps = { base: BASE_MS, stepMs: 0 };
    const groups = instance?.groups ?? {};
    for (const [group, offsets] of Object.entries(PLAN_GROUPS)) groups[group] = { state: "EMPTY", offsets: { ...offsets } };
    for (const group of BYSTANDERS) groups[group] = { state: "EMPTY", offsets: { "payments/0": 1 } };
  });
}

/** A Rewind on the test instance, from the fields a resource or the CLI would be given. */
export function rewindOf(input: Omit<RewindInput, "projectId" | "instanceId">): Rewind {
  return rewindSchema().parse({ projectId: PROJECT_ID, instanceId: INSTANCE_ID, ...input });
}

/** A client with short backoffs (the deadline is each test's to choose). */
export function clientFor(url: string, deadlineMs = 20_000): DmsClient {
  return new DmsClient({ endpoint: new URL(url), projectId: PROJECT_ID, credentials: CREDENTIALS, deadlineMs, retry: { baseDelayMs: 10, maxDelayMs: 100 } });
}

export async function startLocal(options: { world?: MemoryWorld; taskDelayMs?: number } = {}): Promise<DmsLocal> {
  return startDmsLocal({ seed: rewindSeed(), admin: true, taskDelayMs: options.taskDelayMs ?? 20, ...(options.world && { world: options.world }) });
}

export async function admin(dms: DmsLocal, method: "POST" | "GET" | "DELETE", path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${dms.url}/__admin/${path}`, { method, ...(body !== undefined && { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`admin ${method} ${path}: ${res.statusCode} ${text}`);
  return text ? parseJson(text) : undefined;
}

/** What dms-local received (DMS API only), oldest first. */
export async function received(dms: DmsLocal): Promise<LoggedRequest[]> {
  return ((await admin(dms, "GET", "requests")) as { requests: LoggedRequest[] }).requests;
}

export const writesIn = (log: readonly LoggedRequest[]) => log.filter((r) => r.method !== "GET");

/** `topic/partition` → committed offset, as dms-local holds it. */
export async function committed(dms: DmsLocal, group: string): Promise<Record<string, bigint>> {
  return Object.fromEntries((await dms.world.committedOffsets(INSTANCE_ID, group)).map((o) => [`${o.topic}/${o.partition}`, o.offset]));
}

/** `topic/partition` → offset, of a client's rows. */
export function byKey(rows: readonly { topic: string; partition: number; messageCurrentOffset: bigint }[]): Record<string, bigint> {
  return Object.fromEntries(rows.map((o) => [`${o.topic}/${o.partition}`, o.messageCurrentOffset]));
}

/** The undo record as a rewind of explicit offsets takes it (and as Pulumi state holds it: decimal strings). */
export function undoInput(undo: readonly PartitionOffset[]): { offsets: { topic: string; partition: number; messageCurrentOffset: string }[] } {
  return { offsets: undo.map((o) => ({ topic: o.topic, partition: o.partition, messageCurrentOffset: o.messageCurrentOffset.toString() })) };
}

/** Resolves once `check` is true, looking again every few milliseconds; fails (never hangs) after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Settles with the rejection as a value, so a test can look at the error's class and fields. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the rewind to fail, and it succeeded");
}

/**
 * A memory world that can hold DMS's work on a reset it has received, as a broker commit can take seconds:
 * while held, a commit (or, with "task", the recording of an all-topics task) waits until release();
 * hold() resolves its promise when the first one starts waiting.
 */
export class GatedWorld extends MemoryWorld {
  private gate: { what: "commit" | "task"; opened: Promise<void> } | undefined;
  private open: (() => void) | undefined;
  private onEnter: (() => void) | undefined;

  hold(what: "commit" | "task" = "commit"): Promise<void> {
    this.gate = { what, opened: new Promise((resolve) => (this.open = resolve)) };
    return new Promise((resolve) => (this.onEnter = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  private async wait(what: "commit" | "task"): Promise<void> {
    if (this.gate?.what !== what) return;
    const { opened } = this.gate;
    this.onEnter?.();
    this.onEnter = undefined;
    await opened;
  }

  override async commitOffsets(instanceId: string, group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    await this.wait("commit");
    return super.commitOffsets(instanceId, group, offsets);
  }

  override async saveTask(instanceId: string, task: TaskRecord): Promise<void> {
    await this.wait("task");
    return super.saveTask(instanceId, task);
  }
}

/** A memory world whose topics keep being written: grow() moves a topic's log end, as producers do. */
export class GrowingWorld extends MemoryWorld {
  private readonly growth = new Map<string, bigint>();

  grow(topic: string, records: bigint): void {
    this.growth.set(topic, (this.growth.get(topic) ?? 0n) + records);
  }

  override async partitions(instanceId: string, topic: string): Promise<PartitionOffsets[] | undefined> {
    const extra = this.growth.get(topic) ?? 0n;
    return (await super.partitions(instanceId, topic))?.map((p) => ({ ...p, logEndOffset: p.logEndOffset + extra }));
  }

  override async topicDetail(instanceId: string, topic: string): Promise<TopicDetail | undefined> {
    const extra = this.growth.get(topic) ?? 0n;
    const detail = await super.topicDetail(instanceId, topic);
    return detail && { ...detail, partitions: detail.partitions.map((p) => ({ ...p, logEndOffset: p.logEndOffset + extra })) };
  }
}
