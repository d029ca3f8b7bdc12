// The unsigned `/__admin/` API, served only with --admin: arm faults, read or clear the request
// log, read or clear the count of applied resets, and stop a group's consumers the way a session
// timeout would: now, after a delay, or after its state has been read N times (for tests, which
// must not race a timer).
import { z } from "zod";
import { parseJson } from "../provider/dms/json";
import type { Applications } from "./applications";
import { DmsError, groupNotFound, instanceNotFound } from "./errors";
import { FaultRule, type Faults } from "./faults";
import { LOG_LIMITS, type RequestLog } from "./request-log";
import { route, type Reply, type Route } from "./routes";
import type { World } from "./world";

export interface AdminContext {
  faults: Faults;
  log: RequestLog;
  applications: Applications;
  world: World;
  /** Run `work` after `afterMs` (cancelled when the server closes). */
  schedule(afterMs: number, work: () => void): void;
  params: Readonly<Record<string, string>>;
  body: string;
}

const StopConsumersBody = z
  .strictObject({
    afterMs: z.number().int().nonnegative().optional(),
    afterReads: z.number().int().min(1, "afterReads counts reads of the group's state: at least 1").optional(),
  })
  .refine((b) => b.afterMs === undefined || b.afterReads === undefined, "give afterMs (a timer) or afterReads (after that many reads of the group's state), not both");

function adminError(message: string): DmsError {
  return new DmsError(400, "DMSLOCAL.0400", message);
}

function parseBody<T>(schema: z.ZodType<T>, text: string): T {
  let raw: unknown;
  try {
    raw = text === "" ? {} : parseJson(text);
  } catch {
    throw adminError("the body is not valid JSON");
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw adminError(result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  }
  return result.data;
}

async function addFault(ctx: AdminContext): Promise<Reply> {
  ctx.faults.add(parseBody(FaultRule, ctx.body));
  return { status: 201, body: { faults: ctx.faults.pending() } };
}

async function stopConsumers(ctx: AdminContext): Promise<Reply> {
  const { afterMs = 0, afterReads } = parseBody(StopConsumersBody, ctx.body);
  const instanceId = ctx.params["instance_id"] as string;
  const group = ctx.params["group"] as string;
  const stop = ctx.world.stopConsumers?.bind(ctx.world);
  const stopAfterReads = ctx.world.stopConsumersAfterReads?.bind(ctx.world);
  if (!stop || (afterReads !== undefined && !stopAfterReads)) {
    throw new DmsError(501, "DMSLOCAL.0501", "this world cannot stop consumers: stop the real consumer processes instead");
  }
  if (!(await ctx.world.hasInstance(instanceId))) throw instanceNotFound(instanceId);
  if (!(await ctx.world.describeGroup(instanceId, group))) throw groupNotFound(group);
  if (afterReads !== undefined && stopAfterReads) {
    await stopAfterReads(instanceId, group, afterReads);
    return { status: 202, body: { instance_id: instanceId, group, empty_after_reads: afterReads } };
  }
  if (afterMs === 0) await stop(instanceId, group);
  else ctx.schedule(afterMs, () => void stop(instanceId, group));
  return { status: 202, body: { instance_id: instanceId, group, empty_at: new Date(Date.now() + afterMs).toISOString() } };
}

export const ADMIN_ROUTES: readonly Route<AdminContext>[] = [
  route<AdminContext>(["POST"], "/__admin/faults", addFault),
  route<AdminContext>(["GET"], "/__admin/faults", async (ctx) => ({ status: 200, body: { faults: ctx.faults.pending() } })),
  route<AdminContext>(["DELETE"], "/__admin/faults", async (ctx) => {
    ctx.faults.clear();
    return { status: 204 };
  }),
  route<AdminContext>(["GET"], "/__admin/requests", async (ctx) => ({
    status: 200,
    body: { requests: ctx.log.list(), bytes: ctx.log.bytes(), limits: LOG_LIMITS },
  })),
  route<AdminContext>(["DELETE"], "/__admin/requests", async (ctx) => {
    ctx.log.clear();
    return { status: 204 };
  }),
  route<AdminContext>(["GET"], "/__admin/applications", async (ctx) => ({
    status: 200,
    body: { applications: ctx.applications.list().map((a) => ({ ...a, last: { at: a.last.at.toISOString(), offsets: a.last.offsets } })) },
  })),
  route<AdminContext>(["DELETE"], "/__admin/applications", async (ctx) => {
    ctx.applications.clear();
    return { status: 204 };
  }),
  route<AdminContext>(["POST"], "/__admin/instances/{instance_id}/groups/{group}/stop-consumers", stopConsumers),
];
