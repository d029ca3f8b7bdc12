// Just enough of DMS for the rewind and CLI tests: one group with scripted states, members, offsets
// that a reset moves, and an instance task list the test can drive.
import type { Task } from "../../provider/dms/wire";
import type { Received, Reply } from "./fake-server";

export interface FakeDms {
  /** The state each ShowGroup read returns in turn; the last one repeats. */
  states: string[];
  members: { member_id: string; host: string; client_id: string; assignment: { topic: string; partitions: number[] }[] }[];
  /** Current offset of each partition, by topic. */
  offsets: Map<string, bigint[]>;
  tasks: Task[];
  /** Answer the reset with this instead of applying it. */
  resetReply?: Reply;
  /** Called on the reset; may add tasks. */
  onReset?: (body: { topic?: string; message_offset?: number }) => void;
  /** Called on each task listing after the reset: lets a task move on. */
  onTasksListed?: (afterReset: number) => void;
}

const LOG_END = 1000n;
const isInactive = (s: string) => /^(empty|dead)$/i.test(s);

export function fakeDmsHandler(dms: FakeDms): (r: Received) => Reply {
  let stateReads = 0;
  let resetDone = false;
  let listingsAfterReset = 0;
  const json = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) });
  const rows = (topic: string) =>
    (dms.offsets.get(topic) ?? []).map((current, partition) => ({
      topic,
      partition,
      message_current_offset: Number(current),
      message_log_start_offset: 0,
      message_log_end_offset: Number(LOG_END),
      lag: Number(LOG_END - current),
    }));
  return (r) => {
    const path = r.url.split("?")[0] ?? "";
    if (r.method !== "GET") {
      if (dms.resetReply) return dms.resetReply;
      const body = JSON.parse(r.body.toString()) as { topic?: string; message_offset?: number };
      for (const [topic, parts] of dms.offsets) if (body.topic === undefined || body.topic === topic) parts.fill(BigInt(body.message_offset ?? 0));
      resetDone = true;
      dms.onReset?.(body);
      return { status: 204 };
    }
    if (path.endsWith("/tasks")) {
      if (resetDone) dms.onTasksListed?.(++listingsAfterReset);
      return json({ task_count: dms.tasks.length, tasks: dms.tasks });
    }
    if (path.endsWith("/message-offset")) {
      const topic = new URL(r.url, "http://x").searchParams.get("topic") ?? "";
      return json({ group_message_offsets: rows(topic), total: rows(topic).length });
    }
    const state = dms.states[Math.min(stateReads, dms.states.length - 1)] ?? "EMPTY";
    if (path.includes("/management/groups/")) {
      const offsets = [...dms.offsets.keys()].flatMap((t) => rows(t).map(({ message_log_start_offset: _s, ...o }) => o));
      return json({ group: { group_id: "g1", state, members: isInactive(state) ? [] : dms.members, group_message_offsets: offsets } });
    }
    stateReads++;
    return json({ group: { group_id: "g1", state } });
  };
}
