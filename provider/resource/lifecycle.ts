// What the resource's operations do to DMS, for every front door (the dynamic provider and the provider
// plugin): preview plans by reads; create and a triggers update run one rewind; read only reads offsets
// and says where the group drifted; delete sends nothing, because committed offsets cannot be un-reset.
import { randomUUID } from "node:crypto";
import { DmsClient, type PartitionOffset } from "../dms/client";
import { resolveEndpoint } from "../dms/endpoints";
import { ConfigurationError } from "../dms/errors";
import type { Credentials } from "../dms/signing/signer";
import { sharedDispatcher } from "../dms/transport";
import { ResetNotConfirmedError, ResetOutcomeUnknownError, ResetSentError } from "../rewind/errors";
import { formatOffsets, planRewind, type Plan } from "../rewind/plan";
import { planRows, planText } from "../rewind/report";
import { renderOffsets, rewind, type RewindResult } from "../rewind/rewind";
import { inputNaming, REWIND_KEYS, rewindSchema, type Rewind } from "../rewind/target";
import { endpointSettings, resolveCredentials, type StackSettings } from "./connection";
import { INPUT_KEYS, INPUTS, SECRET_KEYS } from "./inputs";
import { containsUnknown, publicInputs, type CheckedInputs, type Outcome, type Outputs, type PartitionOffsetState, type PlanState, type RewindOutputs } from "./properties";
import { waitBudget } from "./timeouts";

/** Where the provider runs: its environment, the stack configuration it was given, and Pulumi's log. */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  stack: StackSettings;
  log: { info(message: string): void; warn(message: string): void };
}

/** The names the resource gives its settings in messages. */
const NAMES = { waitForInactive: "waitForInactiveGroupSeconds", forbidForward: "forbidForward" };

/** A preview must not hang on an unreachable DMS: its reads get this long in all. */
const PREVIEW_DEADLINE_MS = 15_000;

/**
 * A create, update or read that sent a reset and then failed: the engine records `properties` as the
 * resource's state (with the error), so the undo record is kept and the reset is not sent again by the
 * next `up`. Pulumi's dynamic-provider host and the plugin both turn this shape into an
 * ErrorResourceInitFailed.
 */
export class ResourceInitError extends Error {
  override readonly name = "ResourceInitError";
  constructor(
    message: string,
    readonly id: string,
    readonly properties: Record<string, unknown>,
    readonly reasons: string[] = [message],
  ) {
    super(message);
  }
}

/** The rewind the stored inputs declare. */
export function rewindOf(inputs: CheckedInputs): Rewind {
  const declared = Object.fromEntries(REWIND_KEYS.filter((k) => inputs[k] !== undefined && inputs[k] !== null).map((k) => [k, inputs[k]]));
  return rewindSchema(inputNaming).parse(declared);
}

/**
 * The plan of the rewind `inputs` declare, by reads only, for a preview: logged as a table, and returned
 * for the inputs. Never fails: when DMS cannot be read, the plan is unknown and a warning says why.
 */
export async function previewPlan(inputs: CheckedInputs, ctx: ProviderContext): Promise<PlanState> {
  const what = `OffsetReset of group ${inputs.group}`;
  let client: DmsClient;
  try {
    client = clientFor(inputs, resolveCredentials(inputs, ctx.env, ctx.stack), ctx, PREVIEW_DEADLINE_MS);
  } catch (e) {
    const reason = `plan unknown: ${(e as Error).message}`;
    ctx.log.warn(`${what}: ${reason}`);
    return { unknown: reason };
  }
  try {
    const plan = await planRewind(client, rewindOf(inputs));
    ctx.log.info(`${what}: ${planText(plan, inputs.instanceId)}`);
    for (const p of plan.partitions.filter((q) => q.forward)) ctx.log.warn(`${what}: ${p.topic}/${p.partition} moves FORWARD ${p.current} → ${p.target}: ${p.target - (p.current ?? 0n)} records will be skipped`);
    return { partitions: planRows(plan) };
  } catch (e) {
    const reason = `plan unknown: DMS could not be read: ${(e as Error).message}`;
    ctx.log.warn(`${what}: ${reason}`);
    return { unknown: reason };
  }
}

/** The inputs that decide a plan: what to rewind, where DMS is, and as whom. */
const PLAN_INPUTS = INPUT_KEYS.filter((k) => INPUTS[k].onChange === "replace" || (SECRET_KEYS as string[]).includes(k) || k === "endpoint" || k === "region");

/**
 * What a preview shows of a rewind to come, for both front doors: its plan, read once every input that decides
 * it is known (else unknown, saying which), and the refusal `forbidForward` makes of a plan that moves forward.
 */
export async function planForPreview(inputs: CheckedInputs, ctx: ProviderContext, read: (inputs: CheckedInputs, ctx: ProviderContext) => Promise<PlanState> = previewPlan): Promise<{ plan: PlanState; refusal?: string }> {
  const pending = PLAN_INPUTS.filter((k) => containsUnknown(inputs[k]));
  if (pending.length > 0) return { plan: { unknown: `plan unknown until ${pending.join(", ")} ${pending.length === 1 ? "is" : "are"} known` } };
  const plan = await read(inputs, ctx);
  const forward = inputs.forbidForward === true && "partitions" in plan ? plan.partitions.filter((p) => p.forward) : [];
  if (forward.length === 0) return { plan };
  const moves = forward.map((p) => `${p.topic}/${p.partition} ${p.current} → ${p.target}`).join(", ");
  return { plan, refusal: `the plan moves the group FORWARD (records skipped) on ${moves}, which forbidForward refuses` };
}

/**
 * Rewinds as `inputs` declare; the resource's id is the first reset's request id. `operationTimeout` bounds the
 * waits: the provider plugin passes the engine's (CreateRequest.timeout), the dynamic provider the forwarded
 * `customTimeouts.create`.
 */
export async function createRewind(inputs: CheckedInputs, ctx: ProviderContext, operationTimeout: string | undefined = inputs.customTimeouts?.create): Promise<{ id: string; outs: Outputs }> {
  const result = await runRewind(inputs, operationTimeout, ctx, randomUUID());
  return { id: result.id, outs: { ...publicInputs(inputs), ...result.outputs } as Outputs };
}

/**
 * Applies the same rewind again when `triggers` changed; any other update only records the new settings
 * (endpoint, waits) and sends nothing. `operationTimeout` as for createRewind (UpdateRequest.timeout, or the
 * forwarded `customTimeouts.update`).
 */
export async function updateRewind(
  olds: Outputs,
  news: CheckedInputs,
  triggersChanged: boolean,
  id: string,
  ctx: ProviderContext,
  operationTimeout: string | undefined = news.customTimeouts?.update,
): Promise<{ outs: Outputs }> {
  if (!triggersChanged) {
    // The engine updates a resource whose create failed after sending; that sends nothing, but must not hide it.
    if (olds.outcome === "unknown" || olds.outcome === "partial" || olds.outcome === "not-confirmed") {
      ctx.log.warn(
        `OffsetReset of group ${news.group}: its last rewind (${olds.resetAt}) ended ${olds.outcome}, and nothing is sent again: check the group's offsets; ` +
          `to apply the rewind again, change triggers; to undo it, declare an OffsetReset with offsets set to its previousOffsets (${formatOffsets(parseOffsets(olds.previousOffsets))})`,
      );
    }
    return { outs: { ...publicInputs(news), ...previousResult(olds) } as Outputs };
  }
  const result = await runRewind(news, operationTimeout, ctx, id);
  return { outs: { ...publicInputs(news), ...result.outputs } as Outputs };
}

/**
 * Refresh: the same properties back, with the group's live offsets as `currentOffsets`, and a warning per
 * partition that is no longer where the last reset left it. Outputs hold no credentials, so a refresh takes
 * them from the environment or stack configuration; without any, it keeps the recorded offsets and says why.
 */
export async function readOffsets(props: Outputs, ctx: ProviderContext): Promise<Outputs> {
  let credentials: Credentials;
  try {
    credentials = resolveCredentials({}, ctx.env, ctx.stack);
  } catch (e) {
    if (!(e instanceof ConfigurationError)) throw e;
    ctx.log.warn(`OffsetReset refresh of group ${props.group}: currentOffsets not read: ${e.message}`);
    return props;
  }
  const rewound = rewindOf(props);
  const client = clientFor(props, credentials, ctx);
  const scope = rewound.scope;
  const live: PartitionOffset[] = [];
  if (scope.kind === "all-topics") live.push(...(await client.listGroupMessageOffsets(props.instanceId, props.group)));
  else for (const t of scope.topics) live.push(...(await client.listGroupMessageOffsets(props.instanceId, props.group, t.topic)));
  const currentOffsets = renderOffsets(live);
  const drift = driftLines(props.appliedOffsets ?? [], currentOffsets);
  if (drift.length > 0) {
    ctx.log.warn(`OffsetReset of group ${props.group}: the group is no longer where the last reset (${props.resetAt}) left it: ${drift.join("; ")}`);
  }
  return { ...props, currentOffsets };
}

/** "payments/0: 28000 → 28500" for each partition the group has moved from since the reset. */
export function driftLines(applied: readonly PartitionOffsetState[], live: readonly PartitionOffsetState[]): string[] {
  const now = new Map(live.map((o) => [`${o.topic}/${o.partition}`, o.messageCurrentOffset]));
  return applied.flatMap((o) => {
    const at = now.get(`${o.topic}/${o.partition}`);
    return at === o.messageCurrentOffset ? [] : [`${o.topic}/${o.partition}: ${o.messageCurrentOffset} → ${at ?? "no committed offset"}`];
  });
}

/** What delete tells the user: DMS is not called. */
export function deleteNotice(props: Outputs): string {
  return (
    `OffsetReset of group ${props.group} on instance ${props.instanceId} removed from the stack; nothing was sent to DMS: ` +
    "committed offsets cannot be un-reset. The offsets before the reset (previousOffsets) remain in the stack's history " +
    "(pulumi stack history / stack export); to go back, declare a new OffsetReset with offsets set to them."
  );
}

async function runRewind(inputs: CheckedInputs, operationTimeout: string | undefined, ctx: ProviderContext, fallbackId: string): Promise<{ id: string; outputs: RewindOutputs }> {
  const client = clientFor(inputs, resolveCredentials(inputs, ctx.env, ctx.stack), ctx);
  const budget = waitBudget(inputs.waitForInactiveGroupSeconds ?? 0, operationTimeout);
  const what = `OffsetReset of group ${inputs.group}`;
  let result: RewindResult;
  // The plan that is sent: a failure after sending records it with the undo record.
  let sent: Plan | undefined;
  try {
    result = await rewind(client, rewindOf(inputs), {
      ...budget,
      legacyApi: inputs.legacyApi === true,
      forbidForward: inputs.forbidForward === true,
      names: NAMES,
      beforeSend: (plan) => {
        sent = plan;
        ctx.log.info(`${what}: ${planText(plan, inputs.instanceId)}`);
      },
      log: (message) => ctx.log.info(`${what}: ${message}`),
      warn: (message) => ctx.log.warn(`${what}: ${message}`),
    });
  } catch (e) {
    if (!(e instanceof ResetSentError)) throw e;
    // A reset was sent: the state must keep what happened and the offsets to undo it.
    const outcome: Outcome = e instanceof ResetNotConfirmedError ? "not-confirmed" : e instanceof ResetOutcomeUnknownError ? "unknown" : "partial";
    const requestId = e instanceof ResetNotConfirmedError ? e.requestId : "";
    const properties = {
      ...publicInputs(inputs),
      resetAt: new Date().toISOString(),
      requestId,
      outcome,
      previousOffsets: renderOffsets(e.undo),
      appliedOffsets: [],
      currentOffsets: renderOffsets(e.offsetsNow ?? []),
      ...(sent !== undefined ? { plan: { partitions: planRows(sent) } } : inputs.plan !== undefined && { plan: inputs.plan }),
    };
    throw new ResourceInitError(`${what}: ${e.message}`, requestId || fallbackId, properties);
  }
  const applied = renderOffsets(result.appliedOffsets);
  const outcome: Outcome = result.calls.length === 0 ? "nothing-to-send" : result.calls.some((c) => c.confirmedBy === "read-back") ? "applied-read-back" : "applied";
  ctx.log.info(`${what}: done (${outcome}); offsets before, to undo: ${formatOffsets(result.previousOffsets)}`);
  return {
    id: result.calls[0]?.requestId || fallbackId,
    outputs: {
      resetAt: result.resetAt,
      requestId: result.requestId,
      outcome,
      previousOffsets: renderOffsets(result.previousOffsets),
      appliedOffsets: applied,
      ...(result.taskId !== undefined && { taskId: result.taskId }),
      currentOffsets: applied,
      plan: { partitions: planRows(result.plan) },
    },
  };
}

/**
 * A client for one operation. The host runs every resource's operations in one process, so the clients share
 * the process's connection pool for their endpoint instead of each opening its own; the signer (and with it
 * the credentials) stays the client's.
 */
function clientFor(where: { projectId: string; endpoint?: string; region?: string }, credentials: Credentials, ctx: ProviderContext, deadlineMs?: number): DmsClient {
  const settings = endpointSettings(where, ctx.env, ctx.stack);
  if (settings === undefined) throw new ConfigurationError("no DMS endpoint: set endpoint or region");
  const endpoint = resolveEndpoint(settings);
  return new DmsClient({ endpoint, projectId: where.projectId, credentials, dispatcher: sharedDispatcher(ctx.env, endpoint), ...(deadlineMs !== undefined && { deadlineMs }) });
}

/** Rendered offsets back to the shape formatOffsets reads. */
function parseOffsets(rows: readonly PartitionOffsetState[] = []): { topic: string; partition: number; messageCurrentOffset: bigint }[] {
  return rows.map((o) => ({ topic: o.topic, partition: o.partition, messageCurrentOffset: BigInt(o.messageCurrentOffset) }));
}

function previousResult(olds: Outputs): RewindOutputs {
  const { resetAt, requestId, outcome, previousOffsets, appliedOffsets, taskId, currentOffsets, plan } = olds;
  return {
    resetAt,
    requestId,
    outcome: outcome ?? "applied",
    previousOffsets,
    appliedOffsets,
    ...(taskId !== undefined && { taskId }),
    currentOffsets,
    ...(plan !== undefined && { plan }),
  };
}
