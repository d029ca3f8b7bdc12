// DMS's asynchronous instance tasks: recorded as CREATED at once, run after a delay, then SUCCESS
// (or FAILED), all visible through the World's task list as GET .../tasks shows them.
import { randomUUID } from "node:crypto";
import { stringifyJson } from "../provider/json";
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
  /** `instanceId \0 subject` of tasks not finished yet. */
  private readonly running = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly delayMs: number,
  ) {}

  /** Whether a task about this subject (e.g. a consumer group) is still running on the instance. */
  isRunning(instanceId: string, subject: string): boolean {
    return this.running.has(`${instanceId}\u0000${subject}`);
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
    this.running.add(key);
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
    this.running.delete(key);
    await this.world.saveTask(instanceId, { ...task, status, updatedAt: new Date() }).catch(() => undefined);
  }

  /** Tasks not run yet stay CREATED forever. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
