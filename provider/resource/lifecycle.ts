// What create, update, read and delete do to DMS. Create and a triggers update run one rewind; read only
// reads offsets; delete sends nothing, because committed offsets cannot be un-reset.
import { randomUUID } from "node:crypto";
import { DmsClient } from "../dms/client";
import type { Credentials } from "../dms/signing/signer";
import { resolveEndpoint } from "../dms/endpoints";
import { ConfigurationError } from "../dms/errors";
import { rewind, renderOffsets } from "../rewind/rewind";
import { sharedDispatcher } from "../dms/transport";
import { endpointSettings, resolveCredentials, type StackSettings } from "./connection";
import { publicInputs, type CheckedInputs, type Outputs, type RewindOutputs } from "./properties";
import { waitBudget } from "./timeouts";

/** Where the provider runs: its environment, the stack configuration it was given, and Pulumi's log. */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  stack: StackSettings;
  log: { info(message: string): void; warn(message: string): void };
}

/** Rewinds as `inputs` declare; the resource's id is the reset's request id. */
export async function createRewind(inputs: CheckedInputs, ctx: ProviderContext): Promise<{ id: string; outs: Outputs }> {
  const result = await runRewind(inputs, inputs.customTimeouts?.create, ctx);
  return { id: result.requestId || randomUUID(), outs: { ...publicInputs(inputs), ...result } };
}

/**
 * Applies the same rewind again when `triggers` changed; any other update only records the new settings
 * (endpoint, waits) and sends nothing.
 */
export async function updateRewind(
  olds: Outputs,
  news: CheckedInputs,
  triggersChanged: boolean,
  ctx: ProviderContext,
): Promise<{ outs: Outputs }> {
  if (!triggersChanged) return { outs: { ...publicInputs(news), ...previousResult(olds) } };
  const result = await runRewind(news, news.customTimeouts?.update, ctx);
  return { outs: { ...publicInputs(news), ...result } };
}

/**
 * Refresh: the same properties back, with the group's live offsets as `currentOffsets`. Outputs hold no
 * credentials, so a refresh takes them from the environment or stack configuration; without any, it keeps
 * the recorded offsets and says why.
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
  const live = await clientFor(props, credentials, ctx).listGroupMessageOffsets(props.instanceId, props.group, props.topic);
  return { ...props, currentOffsets: renderOffsets(live) };
}

/** What delete tells the user: DMS is not called. */
export function deleteNotice(props: Outputs): string {
  return (
    `OffsetReset of group ${props.group} on instance ${props.instanceId} removed from the stack; nothing was sent to DMS: ` +
    "committed offsets cannot be un-reset. The offsets before the reset (previousOffsets) remain in the stack's history " +
    "(pulumi stack history / stack export); to go back, declare a new OffsetReset to those offsets."
  );
}

async function runRewind(inputs: CheckedInputs, operationTimeout: string | undefined, ctx: ProviderContext): Promise<RewindOutputs> {
  const client = clientFor(inputs, resolveCredentials(inputs, ctx.env, ctx.stack), ctx);
  const budget = waitBudget(inputs.waitForInactiveGroupSeconds, operationTimeout);
  const result = await rewind(
    client,
    {
      instanceId: inputs.instanceId,
      group: inputs.group,
      ...(inputs.topic !== undefined && { topic: inputs.topic }),
      partition: inputs.partition,
      position:
        inputs.messageOffset !== undefined ? { messageOffset: BigInt(inputs.messageOffset) } : { timestamp: inputs.timestamp as number },
      legacyApi: inputs.legacyApi,
    },
    { ...budget, log: (message: string) => ctx.log.info(message) },
  );
  const applied = renderOffsets(result.appliedOffsets);
  return {
    resetAt: result.resetAt,
    requestId: result.requestId,
    previousOffsets: renderOffsets(result.previousOffsets),
    appliedOffsets: applied,
    ...(result.taskId !== undefined && { taskId: result.taskId }),
    currentOffsets: applied,
  };
}

/**
 * A client for one operation. The host runs every resource's operations in one process, so the clients share
 * the process's connection pool for their endpoint instead of each opening its own; the signer (and with it
 * the credentials) stays the client's.
 */
function clientFor(
  where: { projectId: string; endpoint?: string; region?: string },
  credentials: Credentials,
  ctx: ProviderContext,
): DmsClient {
  const settings = endpointSettings(where, ctx.env, ctx.stack);
  if (settings === undefined) throw new ConfigurationError("no DMS endpoint: set endpoint or region");
  return new DmsClient({ endpoint: resolveEndpoint(settings), projectId: where.projectId, credentials, dispatcher: sharedDispatcher(ctx.env) });
}

function previousResult(olds: Outputs): RewindOutputs {
  const { resetAt, requestId, previousOffsets, appliedOffsets, taskId, currentOffsets } = olds;
  return { resetAt, requestId, previousOffsets, appliedOffsets, ...(taskId !== undefined && { taskId }), currentOffsets };
}
