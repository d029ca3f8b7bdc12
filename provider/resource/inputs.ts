// The OffsetReset resource's inputs, declared once: each input's schema, what a change to it means,
// whether it is a secret, what an absent value stands for and how it is stored; each entry's doc comment
// is the input's description. Check, diff, the SDK's types (which carry the doc comments to editors) and
// the provider plugin's schema derive from this table.
import { z } from "zod";
import { inputNaming, REWIND_KEYS, rewindFields, TARGET_KEYS, waitSeconds, type PartitionOffsetTarget, type TopicScope } from "../rewind/target";
import { parseDuration } from "./timeouts";

/**
 * What a change to an input does, as Pulumi shows it:
 * - replace: a different rewind (a new resource, a new reset);
 * - rewind-again: an update that applies the same rewind again (`triggers`);
 * - update: an update that sends nothing to DMS (how to reach it, how long to wait);
 * - none: no change at all (credentials, respellings).
 */
export type OnChange = "replace" | "rewind-again" | "update" | "none";

export interface InputSpec {
  schema: z.ZodType;
  onChange: OnChange;
  /** Stored encrypted in state and never copied to outputs. */
  secret?: true;
  /** What an absent input means: absent and this compare equal. */
  default?: unknown;
  /** The schema's output as Pulumi can store it (no bigint, no undefined). */
  store?: (parsed: never) => unknown;
}

const fields = rewindFields(inputNaming);
const decimal = (v: bigint) => v.toString();

const nonEmpty = (name: string, hint: string) =>
  z.string({ error: (iss) => `${name} must be a string, got ${iss.input === null ? "null" : typeof iss.input}` }).min(1, `${name} must not be empty: ${hint}`);

const Duration = (name: string) =>
  z
    .string({ error: `${name} must be a duration string such as "5m"` })
    .refine((s) => parseDuration(s) !== undefined, { message: `${name} must be a duration such as "90s", "5m" or "1h30m"` });

/** The resource's inputs, in the order the documentation lists them. */
export const INPUTS = {
  /** Huawei Cloud project ID (32 hex digits). */
  projectId: { schema: fields.projectId, onChange: "replace" },
  /** ID of the DMS Kafka instance (a UUID). */
  instanceId: { schema: fields.instanceId, onChange: "replace" },
  /** Consumer group to rewind. Its consumers must be stopped. */
  group: { schema: fields.group, onChange: "replace" },
  /** Topic to rewind. Omit it (and `topics`) to rewind every topic the group has offsets for (DMS runs that as a task). */
  topic: {
    schema: fields.topic,
    onChange: "replace",
    default: null,
  },
  /** Partition of `topic`, or -1 (the default) for every partition. */
  partition: { schema: fields.partition, onChange: "replace", default: -1 },
  /** Several topics, each "topic", "topic:0,1" or {topic, partitions}: instead of `topic` and `partition`. */
  topics: {
    schema: fields.topics,
    onChange: "replace",
    default: null,
    store: (t: TopicScope[]) => t,
  },
  /** Target: this offset on every partition in scope (int64; past 2^53 pass a decimal string). DMS clamps it to each partition's log. */
  messageOffset: {
    schema: fields.messageOffset,
    onChange: "replace",
    default: null,
    store: decimal,
  },
  /** Target: the first record at or after this time, on each partition: epoch milliseconds or ISO-8601 with a zone. */
  timestamp: {
    schema: fields.timestamp,
    onChange: "replace",
    default: null,
  },
  /** Target: the earliest retained offset of each partition. */
  earliest: { schema: fields.earliest, onChange: "replace", default: false },
  /** Target: the end of each partition's log (skip everything not yet consumed). */
  latest: { schema: fields.latest, onChange: "replace", default: false },
  /** Target: each partition's committed offset, read when the rewind runs, plus this (negative: back, re-read; positive: forward, skip). */
  shiftBy: {
    schema: fields.shiftBy,
    onChange: "replace",
    default: null,
    store: decimal,
  },
  /** Target: explicit offsets, [{topic, partition, offset}]. Another OffsetReset's `previousOffsets` can be passed as is: that is how a rewind is undone. */
  offsets: {
    schema: fields.offsets,
    onChange: "replace",
    default: null,
    store: (o: PartitionOffsetTarget[]) => o.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset.toString() })),
  },
  /** Target: the committed offsets of this other consumer group. */
  toGroup: { schema: fields.toGroup, onChange: "replace", default: null },
  /** Use DMS's older management reset API (POST) instead of the engine API (PUT). */
  legacyApi: {
    schema: z.boolean({ error: "legacyApi must be true or false" }).optional(),
    onChange: "replace",
    default: false,
  },
  /** DMS endpoint URL (plain http:// only to loopback). Set this or `region`, else stack configuration, else HW_REGION_NAME. */
  endpoint: {
    schema: nonEmpty("endpoint", "omit it and set region, or give the DMS URL").optional(),
    onChange: "update",
    default: null,
  },
  /** Huawei Cloud region, e.g. cn-north-4 (the official SDK's table). Set this or `endpoint`. */
  region: {
    schema: nonEmpty("region", "omit it and set endpoint, or name the region, e.g. cn-north-4").optional(),
    onChange: "update",
    default: null,
  },
  /** Access key. Default: CLOUD_SDK_AK / HW_ACCESS_KEY, then stack configuration. */
  accessKey: { schema: nonEmpty("accessKey", "omit it to use the environment or stack configuration").optional(), onChange: "none", secret: true },
  /** Secret key. Default: CLOUD_SDK_SK / HW_SECRET_KEY, then stack configuration. */
  secretKey: { schema: nonEmpty("secretKey", "omit it to use the environment or stack configuration").optional(), onChange: "none", secret: true },
  /** Security token of temporary credentials. */
  securityToken: { schema: nonEmpty("securityToken", "omit it unless the credentials are temporary").optional(), onChange: "none", secret: true },
  /** Wait up to this many seconds (at most 86400) for the group to become EMPTY before resetting; at least the consumers' session.timeout.ms. 0: fail at once if it is busy. */
  waitForInactiveGroupSeconds: {
    schema: waitSeconds("waitForInactiveGroupSeconds").optional(),
    onChange: "update",
    default: 0,
  },
  /** Fail, sending nothing, when the plan moves any partition forward (records would be skipped). */
  forbidForward: {
    schema: z.boolean({ error: "forbidForward must be true or false" }).optional(),
    onChange: "update",
    default: false,
  },
  /** Any values; when they change, the same rewind is applied again. */
  triggers: { schema: z.unknown(), onChange: "rewind-again", default: null },
  /** The resource's customTimeouts, forwarded by the SDK (the dynamic-provider host drops the engine's). */
  customTimeouts: {
    schema: z.strictObject({ create: Duration("customTimeouts.create").optional(), update: Duration("customTimeouts.update").optional() }, { error: "customTimeouts holds create and update durations" }).optional(),
    onChange: "update",
    default: null,
  },
} satisfies Record<string, InputSpec>;

export type InputKey = keyof typeof INPUTS;
export const INPUT_KEYS = Object.keys(INPUTS) as InputKey[];

/**
 * Properties that are no user input: `__provider` (the dynamic resource's serialized provider), `plan`
 * (written by check), `__preview` (the SDK says whether the program runs a preview; check consumes it).
 */
export const PROVIDER_KEYS = ["__provider", "plan", "__preview"] as const;

export const keysWhere = (test: (spec: InputSpec, key: InputKey) => boolean): InputKey[] => INPUT_KEYS.filter((k) => test(INPUTS[k] as InputSpec, k));
export const SECRET_KEYS = keysWhere((s) => s.secret === true);
export const REPLACE_KEYS = keysWhere((s) => s.onChange === "replace");

/** The stored (Pulumi-safe) form of a parsed input value. */
export function stored(key: InputKey, parsed: unknown): unknown {
  const spec = INPUTS[key] as InputSpec;
  return spec.store ? (spec.store as (v: unknown) => unknown)(parsed) : parsed;
}

/** The canonical form of a raw input value: parsed and stored, or the raw value when it does not parse. */
export function canonical(key: InputKey, value: unknown): unknown {
  const spec = INPUTS[key] as InputSpec;
  if (value === undefined || value === null) return spec.default ?? null;
  const parsed = spec.schema.safeParse(value);
  return parsed.success ? stored(key, parsed.data) : value;
}

// The rewind's own fields are exactly the target module's: a field added there must be declared here.
type Missing = Exclude<(typeof REWIND_KEYS)[number] | (typeof TARGET_KEYS)[number], InputKey>;
const _everyRewindFieldIsAnInput: Missing extends never ? true : Missing = true;
void _everyRewindFieldIsAnInput;
