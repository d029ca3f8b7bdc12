// The resource users declare: one reviewed, recorded rewind of a consumer group's offsets on DMS. Its
// argument types are mapped from the provider's input table (provider/resource/inputs.ts), doc comments
// included, so that the editor knows every input, and accepts exactly one target.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { SECRET_KEYS, type INPUTS } from "../provider/resource/inputs";
import type { Outcome, PartitionOffsetState, PlanState } from "../provider/resource/properties";
import type { TargetKey } from "../provider/rewind/target";
import { offsetResetProvider } from "./provider";

export type { Outcome, PartitionOffsetState, PlanState } from "../provider/resource/properties";
export type { PlanRow } from "../provider/rewind/report";

type Table = typeof INPUTS;
/** `customTimeouts` is a resource option, forwarded by the SDK; it is not an argument. */
type ArgKey = Exclude<keyof Table, "customTimeouts">;
/** What a program may pass for an input: what its schema accepts, a `Date` for the time, `true` to choose an end of the log. */
type Value<K extends keyof Table> = K extends "timestamp"
  ? number | string | Date
  : K extends "earliest" | "latest"
    ? true
    : Exclude<z.input<Table[K]["schema"]>, undefined>;
type RequiredKey = { [K in ArgKey]: undefined extends z.input<Table[K]["schema"]> ? never : K }[ArgKey];
type OptionalKey = Exclude<ArgKey, RequiredKey | TargetKey>;

type Required_ = { [K in keyof Table as K extends RequiredKey ? K : never]: pulumi.Input<Value<K>> };
type Optional_ = { [K in keyof Table as K extends OptionalKey ? K : never]?: pulumi.Input<Value<K>> };
/** Exactly one target: the chosen one is required, every other one absent. */
type OneTarget = {
  [T in TargetKey]: { [K in keyof Table as K extends T ? K : never]-?: pulumi.Input<Value<K>> } & {
    [K in keyof Table as K extends Exclude<TargetKey, T> ? K : never]?: never;
  };
}[TargetKey];

export type OffsetResetArgs = Required_ & Optional_ & OneTarget;

/**
 * Rewinds a Kafka consumer group's committed offsets on Huawei Cloud DMS, once, when created. `pulumi preview`
 * shows each partition's move (the plan); changing what to rewind to replaces it (a new rewind); changing
 * `triggers` applies the same rewind again; deleting it sends nothing (offsets cannot be un-reset:
 * `previousOffsets` stays in the stack's history, and passed as `offsets` of a new OffsetReset, undoes it).
 */
export class OffsetReset extends pulumi.dynamic.Resource {
  // `declare`: emitted class fields would overwrite, after super(), the outputs Pulumi assigns.
  declare readonly projectId: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string>;
  declare readonly topic: pulumi.Output<string | undefined>;
  declare readonly partition: pulumi.Output<number | undefined>;
  declare readonly topics: pulumi.Output<{ topic: string; partitions?: number[] }[] | undefined>;
  /** The offset as a decimal string. */
  declare readonly messageOffset: pulumi.Output<string | undefined>;
  /** The time in epoch milliseconds. */
  declare readonly timestamp: pulumi.Output<number | undefined>;
  declare readonly earliest: pulumi.Output<boolean | undefined>;
  declare readonly latest: pulumi.Output<boolean | undefined>;
  /** The shift as a decimal string. */
  declare readonly shiftBy: pulumi.Output<string | undefined>;
  /** Explicit offsets, each offset a decimal string. */
  declare readonly offsets: pulumi.Output<{ topic: string; partition: number; offset: string }[] | undefined>;
  declare readonly toGroup: pulumi.Output<string | undefined>;
  declare readonly endpoint: pulumi.Output<string | undefined>;
  declare readonly region: pulumi.Output<string | undefined>;
  declare readonly legacyApi: pulumi.Output<boolean>;
  declare readonly forbidForward: pulumi.Output<boolean | undefined>;
  declare readonly waitForInactiveGroupSeconds: pulumi.Output<number>;
  declare readonly triggers: pulumi.Output<unknown>;
  /** When the last reset was sent (ISO-8601). */
  declare readonly resetAt: pulumi.Output<string>;
  /** DMS's X-Request-Id of the last reset ("" when the group was already at the target). */
  declare readonly requestId: pulumi.Output<string>;
  /**
   * How the last rewind ended: applied (DMS said so), applied-read-back (its answer was lost; the offsets showed it
   * applied), nothing-to-send; recorded with a create that failed after its reset was sent: not-confirmed, unknown
   * or partial (the error says what happened; `previousOffsets` undoes it).
   */
  declare readonly outcome: pulumi.Output<Outcome>;
  /** The group's offsets just before the last reset: pass them as `offsets` of a new OffsetReset to undo it. */
  declare readonly previousOffsets: pulumi.Output<PartitionOffsetState[]>;
  /** The group's offsets read back just after the last reset. */
  declare readonly appliedOffsets: pulumi.Output<PartitionOffsetState[]>;
  /** The `kafkaResetConsumerOffset` task of an all-topics reset. */
  declare readonly taskId: pulumi.Output<string | undefined>;
  /** The group's offsets as of the last create, update or refresh. */
  declare readonly currentOffsets: pulumi.Output<PartitionOffsetState[]>;
  /** Each partition's move as the last reset planned it (and as the preview showed it). */
  declare readonly plan: pulumi.Output<PlanState | undefined>;

  constructor(name: string, args: OffsetResetArgs, opts?: pulumi.CustomResourceOptions) {
    const props: pulumi.Inputs = {
      ...Object.fromEntries(Object.entries(args).map(([k, v]) => [k, (SECRET_KEYS as string[]).includes(k) ? pulumi.secret(v as pulumi.Input<string>) : portable(v)])),
      // The dynamic-provider host does not pass the engine's timeouts to the provider: forward them.
      customTimeouts: forwardedTimeouts(opts?.customTimeouts),
      // Nor does it say whether this is a preview; check reads the plan from DMS only for one.
      __preview: pulumi.runtime.isDryRun(),
      resetAt: undefined,
      requestId: undefined,
      outcome: undefined,
      previousOffsets: undefined,
      appliedOffsets: undefined,
      taskId: undefined,
      currentOffsets: undefined,
      plan: undefined,
    };
    super(offsetResetProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...SECRET_KEYS])],
    }, "dms", "OffsetReset");
  }
}

/**
 * Pulumi cannot carry a bigint (its Unwrap type even maps it to never), nor a Date: the provider reads the
 * decimal string exactly, and the ISO time to the millisecond.
 */
function portable(v: unknown): pulumi.Input<unknown> {
  if (v === undefined) return undefined;
  return (pulumi.output(v) as pulumi.Output<unknown>).apply((x: unknown) => (typeof x === "bigint" ? x.toString() : x instanceof Date ? x.toISOString() : x));
}

function forwardedTimeouts(t: pulumi.CustomTimeouts | undefined): { create?: string; update?: string } | undefined {
  if (t?.create === undefined && t?.update === undefined) return undefined;
  return { ...(t.create !== undefined && { create: t.create }), ...(t.update !== undefined && { update: t.update }) };
}
