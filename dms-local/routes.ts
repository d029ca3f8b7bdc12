// The DMS API dms-local serves: which method and path go to which handler, and each handler's
// answer in DMS's JSON (snake_case, int64 offsets as exact numbers).
import { parseJson } from "../provider/dms/json";
import type { Applications } from "./applications";
import { invalidParameter } from "./errors";
import { firstQuery, intQuery, param } from "./query";
import { parseResetBody, requireGroup, requireInstance, resetMessageOffset } from "./reset";
import type { Seed } from "./seed";
import type { TaskOwner, TaskRunner } from "./tasks";
import { showMessages, showTopic } from "./topics";
import type { CommittedOffset, GroupDescription, PartitionOffsets, TaskRecord, World } from "./world";

export interface HandlerContext {
  world: World;
  tasks: TaskRunner;
  applications: Applications;
  seed: Seed;
  /** Index in seed.credentials of the caller's AK. */
  credentialIndex: number;
  /** Decoded path parameters. */
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string[]>>;
  body: string;
}

export interface Reply {
  status: number;
  /** Serialized with stringifyJson; absent for 204. */
  body?: unknown;
}

export interface Route<C = HandlerContext> {
  methods: readonly string[];
  /** Segments after the leading `/`; `{name}` binds a (decoded) path parameter. */
  pattern: readonly string[];
  handle(ctx: C): Promise<Reply>;
}

export function route<C = HandlerContext>(methods: readonly string[], path: string, handle: (ctx: C) => Promise<Reply>): Route<C> {
  return { methods, pattern: path.slice(1).split("/"), handle };
}

/** The route and its path parameters for already-decoded segments, or undefined. */
export function matchRoute<C>(
  routes: readonly Route<C>[],
  method: string,
  segments: readonly string[],
): { route: Route<C>; params: Record<string, string> } | undefined {
  for (const r of routes) {
    if (!r.methods.includes(method) || r.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = r.pattern.every((p, i) => {
      const s = segments[i] as string;
      if (p.startsWith("{")) {
        params[p.slice(1, -1)] = s;
        return s !== "";
      }
      return p === s;
    });
    if (matches) return { route: r, params };
  }
  return undefined;
}


/** DMS pages with offset (rows to skip) and limit (default 10, at most 50). */
function page<T>(ctx: HandlerContext, rows: readonly T[]): T[] {
  const offset = intQuery(ctx, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intQuery(ctx, "limit", 10, 1, 50);
  return rows.slice(offset, offset + limit);
}

function lag(current: bigint, logEnd: bigint): bigint {
  return logEnd > current ? logEnd - current : 0n;
}

function logOf(logs: readonly PartitionOffsets[] | undefined, partition: number): PartitionOffsets | undefined {
  return logs?.find((p) => p.partition === partition);
}

async function logsByTopic(world: World, instanceId: string, offsets: readonly CommittedOffset[]): Promise<Map<string, PartitionOffsets[]>> {
  const logs = new Map<string, PartitionOffsets[]>();
  for (const topic of new Set(offsets.map((o) => o.topic))) logs.set(topic, (await world.partitions(instanceId, topic)) ?? []);
  return logs;
}

/** The member consuming this partition, as DMS shows it beside an offset ("" when none). */
function consumerOf(group: GroupDescription, topic: string, partition: number): { consumer_id: string; host: string; client_id: string } {
  const m = group.members.find((member) => member.assignment.some((a) => a.topic === topic && a.partitions.includes(partition)));
  return { consumer_id: m?.memberId ?? "", host: m?.host ?? "", client_id: m?.clientId ?? "" };
}

function owner(ctx: HandlerContext): TaskOwner {
  const c = ctx.seed.credentials[ctx.credentialIndex];
  return { userName: c?.userName ?? "dms-local", userId: c?.userId ?? "" };
}

async function reset(ctx: HandlerContext): Promise<Reply> {
  let raw: unknown;
  try {
    raw = parseJson(ctx.body === "" ? "null" : ctx.body);
  } catch {
    throw invalidParameter("body", "not valid JSON");
  }
  const request = parseResetBody(raw);
  await resetMessageOffset(ctx.world, ctx.tasks, owner(ctx), param(ctx, "instance_id"), param(ctx, "group"), request, ctx.applications);
  return { status: 204 };
}

/** The path's group with its committed offsets and the logs of their topics: what both group views show. */
async function groupWithOffsets(ctx: HandlerContext): Promise<{ g: GroupDescription; offsets: CommittedOffset[]; logs: Map<string, PartitionOffsets[]> }> {
  const instanceId = param(ctx, "instance_id");
  const g = await requireGroup(ctx.world, instanceId, param(ctx, "group"));
  const offsets = await ctx.world.committedOffsets(instanceId, g.group);
  return { g, offsets, logs: await logsByTopic(ctx.world, instanceId, offsets) };
}

/**
 * Tells the world that an answer shows the group's state, once that answer is built: a group set to empty
 * after N reads (stopConsumersAfterReads, a seed's emptyAfterReads) is still busy in the N-th, EMPTY in the next.
 */
async function shown(ctx: HandlerContext, g: GroupDescription, reply: Reply): Promise<Reply> {
  await ctx.world.stateShown?.(param(ctx, "instance_id"), g.group);
  return reply;
}

async function showGroup(ctx: HandlerContext): Promise<Reply> {
  const { g, offsets, logs } = await groupWithOffsets(ctx);
  const totalLag = offsets.reduce((sum, o) => sum + lag(o.offset, logOf(logs.get(o.topic), o.partition)?.logEndOffset ?? o.offset), 0n);
  return shown(ctx, g, {
    status: 200,
    body: {
      group: {
        group_id: g.group,
        state: g.state,
        coordinator_id: g.coordinatorId,
        assignment_strategy: g.assignmentStrategy,
        createdAt: g.createdAt,
        group_desc: g.description ?? null,
        lag: totalLag,
      },
    },
  });
}

async function showGroups(ctx: HandlerContext): Promise<Reply> {
  const { g, offsets, logs } = await groupWithOffsets(ctx);
  return shown(ctx, g, {
    status: 200,
    body: {
      group: {
        group_id: g.group,
        state: g.state,
        coordinator_id: g.coordinatorId,
        members: g.members.map((m) => ({
          host: m.host,
          assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: a.partitions })),
          member_id: m.memberId,
          client_id: m.clientId,
        })),
        group_message_offsets: offsets.map((o) => {
          const logEnd = logOf(logs.get(o.topic), o.partition)?.logEndOffset ?? o.offset;
          return { partition: o.partition, lag: lag(o.offset, logEnd), topic: o.topic, message_current_offset: o.offset, message_log_end_offset: logEnd };
        }),
        assignment_strategy: g.assignmentStrategy,
      },
    },
  });
}

async function messageOffsets(ctx: HandlerContext): Promise<Reply> {
  const instanceId = param(ctx, "instance_id");
  const g = await requireGroup(ctx.world, instanceId, param(ctx, "group"));
  const topic = firstQuery(ctx, "topic");
  if (topic === undefined || topic === "") throw invalidParameter("topic", "topic is required to query a consumer group's offsets");
  const logs = await ctx.world.partitions(instanceId, topic);
  if (!logs) throw invalidParameter("topic", `topic ${topic} does not exist on instance ${instanceId}`);
  const partitionFilter = firstQuery(ctx, "partition");
  if (partitionFilter !== undefined && partitionFilter !== "" && !/^\d+$/.test(partitionFilter)) throw invalidParameter("partition", "must be a partition number");
  const rows = (await ctx.world.committedOffsets(instanceId, g.group))
    .filter((o) => o.topic === topic && (partitionFilter === undefined || partitionFilter === "" || o.partition === Number(partitionFilter)))
    .map((o) => {
      const log = logOf(logs, o.partition);
      const logStart = log?.logStartOffset ?? o.offset;
      const logEnd = log?.logEndOffset ?? o.offset;
      return {
        partition: o.partition,
        message_current_offset: o.offset,
        topic: o.topic,
        message_log_start_offset: logStart,
        lag: lag(o.offset, logEnd),
        message_log_end_offset: logEnd,
        ...consumerOf(g, o.topic, o.partition),
      };
    });
  return { status: 200, body: { group_message_offsets: page(ctx, rows), total: rows.length } };
}

async function members(ctx: HandlerContext): Promise<Reply> {
  const g = await requireGroup(ctx.world, param(ctx, "instance_id"), param(ctx, "group"));
  const host = firstQuery(ctx, "host");
  const memberId = firstQuery(ctx, "member_id");
  const rows = g.members
    .filter((m) => (host === undefined || host === "" || m.host === host) && (memberId === undefined || memberId === "" || m.memberId === memberId))
    .map((m) => ({ host: m.host, member_id: m.memberId, client_id: m.clientId }));
  // DMS answers an offset at or past the end with DMS.00400062 rather than an empty page.
  const offset = intQuery(ctx, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset > 0 && offset >= rows.length) throw invalidParameter("offset", `the group has ${rows.length} members`);
  return { status: 200, body: { members: page(ctx, rows), total: rows.length } };
}

/** `YYYYMMDDHHmmss` (UTC), as ListBackgroundTasks' begin_time and end_time are written. */
function taskTime(ctx: HandlerContext, name: string): number | undefined {
  const raw = firstQuery(ctx, name);
  if (raw === undefined || raw === "") return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw);
  if (!m) throw invalidParameter(name, "must be YYYYMMDDHHmmss");
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function taskJson(t: TaskRecord): Record<string, string> {
  return {
    id: t.id,
    name: t.name,
    user_name: t.userName,
    user_id: t.userId,
    params: t.params,
    status: t.status,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

async function tasks(ctx: HandlerContext): Promise<Reply> {
  const instanceId = param(ctx, "instance_id");
  await requireInstance(ctx.world, instanceId);
  const begin = taskTime(ctx, "begin_time");
  const end = taskTime(ctx, "end_time");
  const all = (await ctx.world.tasks(instanceId)).filter(
    (t) => (begin === undefined || t.createdAt.getTime() >= begin) && (end === undefined || t.createdAt.getTime() <= end),
  );
  // The SDK sends `start`, newer API pages say `offset`: both skip that many tasks (newest first).
  const skip = intQuery(ctx, firstQuery(ctx, "start") !== undefined ? "start" : "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intQuery(ctx, "limit", 10, 1, 1000);
  // DMS writes task_count as a string.
  return { status: 200, body: { task_count: String(all.length), tasks: all.slice(skip, skip + limit).map(taskJson) } };
}

export const DMS_ROUTES: readonly Route[] = [
  // ResetMessageOffsetWithEngine: the SDK sends PUT, the reference and Terraform POST.
  route(["PUT", "POST"], "/v2/kafka/{project_id}/instances/{instance_id}/groups/{group}/reset-message-offset", reset),
  // ResetMessageOffset (legacy, still served).
  route(["POST"], "/v2/{project_id}/instances/{instance_id}/management/groups/{group}/reset-message-offset", reset),
  route(["GET"], "/v2/{project_id}/instances/{instance_id}/groups/{group}", showGroup),
  route(["GET"], "/v2/{project_id}/instances/{instance_id}/management/groups/{group}", showGroups),
  route(["GET"], "/v2/kafka/{project_id}/instances/{instance_id}/groups/{group}/message-offset", messageOffsets),
  route(["GET"], "/v2/kafka/{project_id}/instances/{instance_id}/groups/{group}/members", members),
  route(["GET"], "/v2/{project_id}/instances/{instance_id}/tasks", tasks),
  // ShowInstanceTopicDetail and ShowMessages: what a rewind plan reads (topics.ts).
  route(["GET"], "/v2/{project_id}/instances/{instance_id}/management/topics/{topic}", showTopic),
  route(["GET"], "/v2/{project_id}/instances/{instance_id}/management/topics/{topic}/messages", showMessages),
];
