// The resource users declare: one reviewed, recorded rewind of a consumer group's offsets on DMS.
import * as pulumi from "@pulumi/pulumi";
import type { PartitionOffsetState } from "../provider/resource/properties";
import { offsetResetProvider } from "./provider";

export type { PartitionOffsetState } from "../provider/resource/properties";

export interface OffsetResetArgs {
  /** Huawei Cloud project ID. Changing it replaces the resource (a new rewind). */
  projectId: pulumi.Input<string>;
  /** Kafka instance ID. Replaces. */
  instanceId: pulumi.Input<string>;
  /** Consumer group to rewind. Replaces. */
  group: pulumi.Input<string>;
  /** Topic to rewind; omitted, every topic the group has offsets for (DMS runs it as a task). Replaces. */
  topic?: pulumi.Input<string>;
  /** Partition, or -1 (the default) for every partition. Replaces. */
  partition?: pulumi.Input<number>;
  /** Offset to rewind to (int64: pass values past 2^53 as a decimal string or bigint). Exactly one of this and `timestamp`. Replaces. */
  messageOffset?: pulumi.Input<number | bigint | string>;
  /** Time to rewind to: epoch milliseconds or ISO-8601 with a zone. Exactly one of this and `messageOffset`. Replaces. */
  timestamp?: pulumi.Input<number | string>;
  /** DMS endpoint URL (http only on loopback). Set this or `region`; never replaces. */
  endpoint?: pulumi.Input<string>;
  /** Huawei Cloud region, e.g. cn-north-4. Set this or `endpoint`; never replaces. */
  region?: pulumi.Input<string>;
  /** Access key; stored as a secret, never an output. Falls back to the environment, then stack configuration. */
  accessKey?: pulumi.Input<string>;
  /** Secret key; stored as a secret, never an output. */
  secretKey?: pulumi.Input<string>;
  /** Security token of temporary credentials; stored as a secret, never an output. */
  securityToken?: pulumi.Input<string>;
  /** Use the older management reset API (POST) instead of the engine API (PUT). Replaces. */
  legacyApi?: pulumi.Input<boolean>;
  /** Wait up to this many seconds for the group to become EMPTY before resetting (default 0: fail if busy). */
  waitForInactiveGroupSeconds?: pulumi.Input<number>;
  /** Any values; when they change, the same rewind is applied again (an update). */
  triggers?: pulumi.Input<unknown[] | Record<string, unknown>>;
}

/** Inputs that are credentials: secret in state, and masked should a provider ever echo them. */
const CREDENTIALS = ["accessKey", "secretKey", "securityToken"];

/**
 * Rewinds a Kafka consumer group's committed offsets on Huawei Cloud DMS, once, when created. Changing what
 * to rewind to replaces it (a new rewind); changing `triggers` applies the same rewind again; deleting it
 * sends nothing (offsets cannot be un-reset: `previousOffsets` stays in the stack's history).
 */
export class OffsetReset extends pulumi.dynamic.Resource {
  // `declare`: emitted class fields would overwrite, after super(), the outputs Pulumi assigns.
  declare readonly projectId: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string>;
  declare readonly topic: pulumi.Output<string | undefined>;
  declare readonly partition: pulumi.Output<number>;
  /** The offset as a decimal string. */
  declare readonly messageOffset: pulumi.Output<string | undefined>;
  /** The time in epoch milliseconds. */
  declare readonly timestamp: pulumi.Output<number | undefined>;
  declare readonly endpoint: pulumi.Output<string | undefined>;
  declare readonly region: pulumi.Output<string | undefined>;
  declare readonly legacyApi: pulumi.Output<boolean>;
  declare readonly waitForInactiveGroupSeconds: pulumi.Output<number>;
  declare readonly triggers: pulumi.Output<unknown>;
  /** When the last reset was sent (ISO-8601). */
  declare readonly resetAt: pulumi.Output<string>;
  /** DMS's X-Request-Id of the last reset. */
  declare readonly requestId: pulumi.Output<string>;
  /** The group's offsets just before the last reset: what to rewind to, to undo it. */
  declare readonly previousOffsets: pulumi.Output<PartitionOffsetState[]>;
  /** The group's offsets read back just after the last reset. */
  declare readonly appliedOffsets: pulumi.Output<PartitionOffsetState[]>;
  /** The `kafkaResetConsumerOffset` task of an all-topics reset. */
  declare readonly taskId: pulumi.Output<string | undefined>;
  /** The group's offsets as of the last create, update or refresh. */
  declare readonly currentOffsets: pulumi.Output<PartitionOffsetState[]>;

  constructor(name: string, args: OffsetResetArgs, opts?: pulumi.CustomResourceOptions) {
    const secret = (v: pulumi.Input<string> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
    const props: pulumi.Inputs = {
      projectId: args.projectId,
      instanceId: args.instanceId,
      group: args.group,
      topic: args.topic,
      partition: args.partition,
      // Pulumi cannot carry a bigint (its Unwrap type even maps it to never); the provider reads the decimal string exactly.
      messageOffset:
        args.messageOffset === undefined
          ? undefined
          : pulumi.output(args.messageOffset).apply((v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      timestamp: args.timestamp,
      endpoint: args.endpoint,
      region: args.region,
      accessKey: secret(args.accessKey),
      secretKey: secret(args.secretKey),
      securityToken: secret(args.securityToken),
      legacyApi: args.legacyApi,
      waitForInactiveGroupSeconds: args.waitForInactiveGroupSeconds,
      triggers: args.triggers,
      // The dynamic-provider host does not pass the engine's timeouts to the provider: forward them.
      customTimeouts: forwardedTimeouts(opts?.customTimeouts),
      resetAt: undefined,
      requestId: undefined,
      previousOffsets: undefined,
      appliedOffsets: undefined,
      taskId: undefined,
      currentOffsets: undefined,
    };
    super(offsetResetProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...CREDENTIALS])],
    }, "dms", "OffsetReset");
  }
}

function forwardedTimeouts(t: pulumi.CustomTimeouts | undefined): { create?: string; update?: string } | undefined {
  if (t?.create === undefined && t?.update === undefined) return undefined;
  return { ...(t.create !== undefined && { create: t.create }), ...(t.update !== undefined && { update: t.update }) };
}
