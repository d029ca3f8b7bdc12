// Just enough of DMS for the rewind tests: one group with scripted states, members, offsets that a reset
// moves (clamped to each partition's log, as DMS does), the topic reads a plan makes, and an instance task
// list the test can drive. Every partition's log runs from LOG_START to LOG_END.
import type { Task } from "../../provider/dms/wire";
import type { Received, Reply } from "./fake-server";

export const LOG_START = 0n;
export const LOG_END = 1000n;

export interface FakeDms {
  /** The state each ShowGroup read returns in turn; the last one repeats. ShowGroups (details) shows the latest one read. */
  states: string[];
  members: { member_id: string; host: string; client_id: string; assignment: { topic: string; partitions: number[] }[] }[];
  /** Current offset of each partition, by topic. */
  offsets: Map<string, bigint[]>;
  tasks: Task[];
  /** Answer the reset with this instead of applying it. */
  resetReply?: Reply;
  /** Answer the group's offset listings with this once a reset was applied (a read-back that fails). */
  offsetReadsAfterReset?: Reply;
  /** Called on the reset; may add tasks. */
  onReset?: (body: { topic?: string; partition: number; message_offset?: number }) => void;
  /** Called on each task listing after the reset: lets a task move on. */
  onTasksListed?: (afterReset: number) => void;
}

const isInactive = (s: string) => /^(empty|dead)$/i.test(s);
const clamp = (v: bigint) => (v < LOG_START ? LOG_START : v > LOG_END ? LOG_END : v);

export function fakeDmsHandler(dms: FakeDms): (r: Received) => Reply {
  let stateReads = 0;
  let resetDone = false;
  let listingsAfterReset = 0;
  const json = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) });
  const state = () => dms.states[Math.min(Math.max(stateReads - 1, 0), dms.states.length - 1)] ?? "EMPTY";
  const rows = (topic: string) =>
    (dms.offsets.get(topic) ?? []).map((current, partition) => ({
      topic,
      partition,
      message_current_offset: Number(current),
      message_log_start_offset: Number(LOG_START),
      message_log_end_offset: Number(LOG_END),
      lag: Number(LOG_END - current),
    }));
  return (r) => {
    const path = r.url.split("?")[0] ?? "";
    if (r.method !== "GET") {
      if (dms.resetReply) return dms.resetReply;
      const body = JSON.parse(r.body.toString()) as { topic?: string; partition: number; message_offset?: number };
      for (const [topic, parts] of dms.offsets) {
        if (body.topic !== undefined && body.topic !== topic) continue;
        parts.forEach((_, p) => {
          if (body.partition === -1 || body.partition === p) parts[p] = clamp(BigInt(body.message_offset ?? 0));
        });
      }
      resetDone = true;
      dms.onReset?.(body);
      return { status: 204 };
    }
    if (path.endsWith("/tasks")) {
      if (resetDone) dms.onTasksListed?.(++listingsAfterReset);
      return json({ task_count: String(dms.tasks.length), tasks: dms.tasks });
    }
    if (path.endsWith("/message-offset")) {
      if (resetDone && dms.offsetReadsAfterReset) return dms.offsetReadsAfterReset;
      const topic = new URL(r.url, "http://x").searchParams.get("topic") ?? "";
      return json({ group_message_offsets: rows(topic), total: rows(topic).length });
    }
    const topicMatch = /\/management\/topics\/([^/]+)$/.exec(path);
    if (topicMatch) {
      const topic = decodeURIComponent(topicMatch[1] as string);
      const parts = dms.offsets.get(topic);
      if (!parts) return { status: 404, body: JSON.stringify({ error_code: "DMS.00404047", error_msg: `The topic does not exist: ${topic}` }) };
      return json({ topic, partitions: parts.map((_, partition) => ({ partition, leo: Number(LOG_END), hw: Number(LOG_END), lso: Number(LOG_START) })) });
    }
    if (path.includes("/management/groups/")) {
      const offsets = [...dms.offsets.keys()].flatMap((t) => rows(t).map(({ message_log_start_offset: _s, ...o }) => o));
      const now = state();
      return json({ group: { group_id: "g1", state: now, members: isInactive(now) ? [] : dms.members, group_message_offsets: offsets } });
    }
    stateReads++;
    return json({ group: { group_id: "g1", state: state() } });
  };
}
