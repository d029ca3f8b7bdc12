// DMS's asynchronous instance tasks: recorded as CREATED at once, run after a delay, then SUCCESS
// (or FAILED), all visible through the World's task list as GET .../tasks shows them. It also knows
// which subjects have an operation in progress (a task, or work run through `hold`).
import { randomUUID } from "node:crypto";
import { stringifyJson } from "../provider/dms/json";
import type { TaskRecord, World } from "./world";

export interface TaskOwner {
  userName: string;
  userId: string;
}

/** DMS ids (requests, tasks) are 32 lower-case hex digits. */
export function newDmsId(): string {
  return randomUUID().replace(/-/g, "");
}

export class TaskRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** `instanceId \0 subject` → operations on it not finished yet (tasks, and work run through `hold`). */
  private readonly running = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly delayMs: number,
  ) {}

  /** Whether a task or held work about this subject (e.g. a consumer group) is still running on the instance. */
  isRunning(instanceId: string, subject: string): boolean {
    return this.running.has(`${instanceId}\u0000${subject}`);
  }

  /** Run `work` as an operation on the subject: isRunning holds from this call until `work` settles. */
  async hold<T>(instanceId: string, subject: string, work: () => Promise<T>): Promise<T> {
    const key = `${instanceId}\u0000${subject}`;
    this.acquire(key);
    try {
      return await work();
    } finally {
      this.release(key);
    }
  }

  private acquire(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
  }

  private release(key: string): void {
    const left = (this.running.get(key) ?? 1) - 1;
    if (left > 0) this.running.set(key, left);
    else this.running.delete(key);
  }

  /**
   * Record a CREATED task named `name` with these params, and after the delay run `work`:
   * SUCCESS when it resolves, FAILED when it throws.
   */
  async start(instanceId: string, subject: string, name: string, owner: TaskOwner, params: unknown, work: () => Promise<void>): Promise<TaskRecord> {
    const createdAt = new Date();
    const task: TaskRecord = {
      id: newDmsId(),
      name,
      userName: owner.userName,
      userId: owner.userId,
      params: stringifyJson(params),
      status: "CREATED",
      createdAt,
      updatedAt: createdAt,
    };
    await this.world.saveTask(instanceId, task);
    const key = `${instanceId}\u0000${subject}`;
    this.acquire(key);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.finish(instanceId, key, task, work);
    }, this.delayMs);
    this.timers.add(timer);
    return { ...task };
  }

  private async finish(instanceId: string, key: string, task: TaskRecord, work: () => Promise<void>): Promise<void> {
    let status: TaskRecord["status"] = "SUCCESS";
    try {
      await work();
    } catch {
      status = "FAILED";
    }
    this.release(key);
    await this.world.saveTask(instanceId, { ...task, status, updatedAt: new Date() }).catch(() => undefined);
  }

  /** Tasks not run yet stay CREATED forever. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
