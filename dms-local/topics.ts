// The topic reads a rewind plan needs: ShowInstanceTopicDetail (log start and end of each partition)
// and ShowMessages (the records of a time range, offset and timestamp, no content). Field names are the
// official SDK's; paging is computed from offsets, so a range of any length costs one page of records.
import { invalidParameter, topicNotFound } from "./errors";
import { firstQuery, intQuery, param } from "./query";
import { requireInstance } from "./reset";
import type { HandlerContext, Reply } from "./routes";
import type { PartitionOffsets } from "./world";

/** ShowMessages' page size: DMS's default, and dms-local's ceiling (DMS documents none). */
export const MESSAGES_PAGE = { defaultLimit: 10, maxLimit: 100 };

const INT32_MAX = 2 ** 31 - 1;
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

export async function showTopic(ctx: HandlerContext): Promise<Reply> {
  const instanceId = param(ctx, "instance_id");
  const topic = param(ctx, "topic");
  await requireInstance(ctx.world, instanceId);
  const detail = await ctx.world.topicDetail(instanceId, topic);
  if (!detail) throw topicNotFound(topic);
  return {
    status: 200,
    body: {
      topic,
      partitions: detail.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        // Neither world replicates: what a consumer can read (hw) is all that was written (leo).
        leo: p.logEndOffset,
        hw: p.logEndOffset,
        lso: p.logStartOffset,
        ...(p.lastUpdateTimestamp !== undefined && { last_update_timestamp: p.lastUpdateTimestamp }),
        replicas: p.replicas.map((r) => ({ broker: r.broker, leader: r.leader, in_sync: r.inSync, ...(r.lag !== undefined && { lag: r.lag }) })),
      })),
      group_subscribed: detail.subscribedGroups,
    },
  };
}

/** start_time / end_time: epoch milliseconds as a decimal integer that fits an int64. */
function timeQuery(ctx: HandlerContext, name: string, fallback: bigint): bigint {
  const raw = firstQuery(ctx, name);
  if (raw === undefined || raw === "") return fallback;
  const value = /^-?\d{1,19}$/.test(raw) ? BigInt(raw) : undefined;
  if (value === undefined || value < INT64.min || value > INT64.max) throw invalidParameter(name, "must be Unix epoch milliseconds, a 64-bit integer");
  return value;
}

/** The partitions asked for: all of them for an absent or empty `partition` or -1, else the one named. */
function partitionsAskedFor(ctx: HandlerContext, topic: string, logs: readonly PartitionOffsets[]): PartitionOffsets[] {
  const raw = firstQuery(ctx, "partition");
  if (raw === undefined || raw === "" || raw === "-1") return [...logs];
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > INT32_MAX) throw invalidParameter("partition", "must be a partition number, or -1 for every partition");
  const one = logs.find((p) => p.partition === Number(raw));
  if (!one) throw invalidParameter("partition", `topic ${topic} has no partition ${raw} (it has ${logs.length})`);
  return [one];
}

export async function showMessages(ctx: HandlerContext): Promise<Reply> {
  const instanceId = param(ctx, "instance_id");
  const topic = param(ctx, "topic");
  await requireInstance(ctx.world, instanceId);
  const logs = await ctx.world.partitions(instanceId, topic);
  if (!logs) throw topicNotFound(topic);
  const start = timeQuery(ctx, "start_time", 0n);
  const end = timeQuery(ctx, "end_time", BigInt(Date.now()));
  const limit = intQuery(ctx, "limit", MESSAGES_PAGE.defaultLimit, 1, MESSAGES_PAGE.maxLimit);
  const skip = BigInt(intQuery(ctx, "offset", 0, 0, Number.MAX_SAFE_INTEGER));

  // Each partition's matches are the offsets from the first record at or after start_time up to the
  // first one after end_time: with timestamps that never go back, exactly those with
  // start_time <= timestamp <= end_time.
  const ranges: { partition: number; from: bigint; to: bigint }[] = [];
  for (const p of partitionsAskedFor(ctx, topic, logs)) {
    if (end < start) {
      ranges.push({ partition: p.partition, from: 0n, to: 0n });
      continue;
    }
    const from = await ctx.world.offsetForTimestamp(instanceId, topic, p.partition, start);
    const to = await ctx.world.offsetForTimestamp(instanceId, topic, p.partition, end + 1n);
    ranges.push({ partition: p.partition, from, to: to > from ? to : from });
  }
  const total = ranges.reduce((sum, r) => sum + (r.to - r.from), 0n);

  // In (partition, offset) order: skip whole partitions, then read one page from where it starts.
  const messages: { topic: string; partition: number; message_offset: bigint; size: number; timestamp: bigint }[] = [];
  let toSkip = skip;
  for (const r of ranges) {
    if (messages.length >= limit) break;
    const count = r.to - r.from;
    if (toSkip >= count) {
      toSkip -= count;
      continue;
    }
    const first = r.from + toSkip;
    toSkip = 0n;
    const wanted = BigInt(limit - messages.length) < r.to - first ? limit - messages.length : Number(r.to - first);
    for (const record of await ctx.world.messages(instanceId, topic, r.partition, first, wanted)) {
      if (record.offset >= r.to) break;
      messages.push({ topic, partition: r.partition, message_offset: record.offset, size: record.size, timestamp: record.timestamp });
    }
  }
  const pageSize = BigInt(limit);
  return {
    status: 200,
    body: {
      messages,
      messages_count: total,
      // As DMS documents them: the number of pages, and the (1-based) page this one is.
      offsets_count: (total + pageSize - 1n) / pageSize,
      offset: skip / pageSize + 1n,
    },
  };
}
