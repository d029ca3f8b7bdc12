// What a user may ask of a rewind, as one schema shared by every front door: where (project, instance,
// group), which partitions (the scope), and where to (exactly one target kind). The schema is built for a
// naming — the resource's input names or the CLI's flags — so that every message names what the user
// typed, and the fix. It normalises: offsets to bigint, times to epoch milliseconds, scopes and targets
// to one tagged form that the plan and the rewind read.
import { z } from "zod";

export const INT32_MAX = 2 ** 31 - 1;
export const INT64_MAX = 2n ** 63n - 1n;
/** Epoch milliseconds below this are before 1973; such values are almost always epoch seconds. */
const SECONDS_LOOKALIKE_BELOW = 1e11;
/** A day: a longer wait is almost certainly milliseconds typed into a seconds field. */
export const MAX_WAIT_SECONDS = 86_400;

/** The fields a rewind declares. The resource's inputs and the CLI's flags are names for these. */
export const REWIND_KEYS = [
  "projectId",
  "instanceId",
  "group",
  "topic",
  "partition",
  "topics",
  "messageOffset",
  "timestamp",
  "earliest",
  "latest",
  "shiftBy",
  "offsets",
  "toGroup",
] as const;
export type RewindKey = (typeof REWIND_KEYS)[number];

/** The target kinds, each a field: exactly one is set. */
export const TARGET_KEYS = ["messageOffset", "timestamp", "earliest", "latest", "shiftBy", "offsets", "toGroup"] as const;
export type TargetKey = (typeof TARGET_KEYS)[number];

/** The fields that choose partitions; `offsets` names its own. */
export const SCOPE_KEYS = ["topic", "partition", "topics"] as const;

/** How a front door names each field in messages: the resource by input name, the CLI by flag. */
export type Naming = (key: RewindKey | "waitForInactiveGroupSeconds") => string;
export const inputNaming: Naming = (key) => key;

// ---------------------------------------------------------------------------------------------------------
// Names that become path segments.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const ID = /^[A-Za-z0-9._-]+$/;
/** Kafka's own rule for topic names. */
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** A value's kind for a message: `the number 123`, `an array`, … */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return `the ${typeof v} ${String(v)}`;
  return `a value of type ${typeof v}`;
}

/** A string field: "X is required" only when it is absent, "X must be a string" naming what came otherwise. */
function text(name: string, hint: string) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `${name} is required: ${hint}` : `${name} must be a string, got ${kindOf(iss.input)}${typeof iss.input === "number" ? ": quote it" : ""}`) })
    .min(1, `${name} must not be empty: ${hint}`);
}

/** Refusals common to every name sent as a path segment: HTTP clients and servers collapse or split these. */
function segmentProblem(name: string, v: string, hint: string): string | undefined {
  if (v === "." || v === "..") return `${name} cannot be "${v}": it would be a dot segment of the request path, which HTTP collapses; ${hint}`;
  if (LONE_SURROGATE.test(v)) return `${name} holds a lone UTF-16 surrogate, which cannot be sent as UTF-8 (it would arrive as U+FFFD, another name): fix the string`;
  if (CONTROL.test(v)) return `${name} holds a control character (${JSON.stringify(v.match(CONTROL)?.[0])}): remove it`;
  return undefined;
}

function id(name: string, hint: string) {
  return text(name, hint).superRefine((v, ctx) => {
    const problem = segmentProblem(name, v, hint) ?? (ID.test(v) ? undefined : `${name} ${JSON.stringify(v)} may only hold letters, digits, ".", "_" and "-" (it is a segment of the request path): ${hint}`);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

function groupName(name: string) {
  return text(name, "name the consumer group").superRefine((v, ctx) => {
    const problem =
      segmentProblem(name, v, "name the consumer group") ??
      (v.includes("/")
        ? `${name} ${JSON.stringify(v)} holds "/": DMS's API gateway refuses a group name with "/" in the request path, so such a group cannot be reset through DMS's API; reset it with Kafka's own kafka-consumer-groups tool (its reset-offsets command) against the instance`
        : undefined);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

function topicName(name: string, hint: string) {
  return text(name, hint).superRefine((v, ctx) => {
    const problem = segmentProblem(name, v, hint) ?? (TOPIC.test(v) ? undefined : `${name} ${JSON.stringify(v)} is not a Kafka topic name: up to 249 of letters, digits, ".", "_" and "-"`);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

function partitionNumber(name: string, allowAll: boolean) {
  const range = allowAll ? "-1 (every partition) or a partition number" : "a partition number";
  return z
    .number({ error: `${name} must be an integer: ${range}` })
    .int(`${name} must be an integer: ${range}`)
    .min(allowAll ? -1 : 0, `${name} must be ${range}`)
    .max(INT32_MAX, `${name} must be at most ${INT32_MAX}: Kafka partition numbers are int32`);
}

// ---------------------------------------------------------------------------------------------------------
// Numbers that must stay exact.

/** int64 from a number, bigint or decimal string; `min` bounds it below. */
function int64(name: string, min: bigint, belowMin: (v: bigint) => string) {
  return z
    .union([z.number(), z.bigint(), z.string()], { error: (iss) => `${name} must be a whole number (a number, bigint or decimal string), got ${kindOf(iss.input)}` })
    .transform((v, ctx): bigint => {
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        ctx.addIssue({
          code: "custom",
          message: Number.isInteger(v)
            ? `${name} ${v} is beyond 2^53 and may already have lost digits as a number: pass it as a decimal string`
            : `${name} must be a whole number, got ${v}`,
        });
        return z.NEVER;
      }
      if (typeof v === "string" && !/^[-+]?\d+$/.test(v.trim())) {
        ctx.addIssue({ code: "custom", message: `${name} must be a whole decimal number, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      const n = BigInt(typeof v === "string" ? v.trim() : v);
      if (n < min) {
        ctx.addIssue({ code: "custom", message: belowMin(n) });
        return z.NEVER;
      }
      if (n > INT64_MAX || n < -INT64_MAX - 1n) {
        ctx.addIssue({ code: "custom", message: `${name} ${n} does not fit in int64 (at most ${INT64_MAX})` });
        return z.NEVER;
      }
      return n;
    });
}

function offsetValue(name: string, earliest: string) {
  return int64(name, 0n, (n) => `${name} must be >= 0, got ${n}: to go back to the start of the log, use ${earliest}`);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of an ISO-8601 time with a zone, or a message saying which field is impossible. */
function parseIso(name: string, v: string): number | string {
  const m = ISO.exec(v);
  if (!m) return `${name} ${JSON.stringify(v)} is not epoch milliseconds or ISO-8601 with a zone (e.g. 2026-11-24T02:00:00Z)`;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] ? Number(`${m[7].slice(1)}00`.slice(0, 3)) : 0;
  // Date.UTC rolls impossible fields over (February 30th becomes March 2nd): compare the fields it kept.
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year);
  const survived =
    local.getUTCFullYear() === year && local.getUTCMonth() === month - 1 && local.getUTCDate() === day &&
    local.getUTCHours() === hour && local.getUTCMinutes() === minute && local.getUTCSeconds() === second;
  if (!survived) return `${name} ${JSON.stringify(v)} is not a date that exists (check the day of the month and the time): nothing rolls over`;
  const zone = m[8] as string;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) as RegExpExecArray;
    if (Number(hh) > 23 || Number(mm) > 59) return `${name} ${JSON.stringify(v)} has an impossible zone offset ${zone}`;
    offsetMinutes = (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  }
  return local.getTime() + fraction - offsetMinutes * 60_000;
}

/** Epoch milliseconds, from a number, a string of digits, or ISO-8601 with an explicit zone. */
function timestampValue(name: string) {
  return z
    .union([z.number(), z.string()], { error: (iss) => `${name} must be epoch milliseconds or an ISO-8601 string with a zone, got ${kindOf(iss.input)}` })
    .transform((v, ctx): number => {
      const s = typeof v === "string" ? v.trim() : undefined;
      let ms: number | string;
      if (typeof v === "number") ms = v;
      else if (/^-?\d+$/.test(s as string)) ms = Number(s);
      else ms = parseIso(name, s as string);
      if (typeof ms === "string") {
        ctx.addIssue({ code: "custom", message: ms });
        return z.NEVER;
      }
      if (!Number.isSafeInteger(ms)) {
        ctx.addIssue({ code: "custom", message: `${name} must be a whole number of epoch milliseconds, got ${String(v)}` });
        return z.NEVER;
      }
      if (ms < 0) {
        ctx.addIssue({ code: "custom", message: `${name} must not be before 1970 (epoch milliseconds >= 0), got ${ms}` });
        return z.NEVER;
      }
      // Only a bare number can be seconds typed as milliseconds; a written date means what it says.
      if (typeof ms === "number" && ms < SECONDS_LOOKALIKE_BELOW && (typeof v === "number" || /^\d+$/.test(s as string))) {
        ctx.addIssue({ code: "custom", message: `${name} ${ms} looks like epoch seconds; DMS expects milliseconds: use ${ms * 1000}` });
        return z.NEVER;
      }
      return ms;
    });
}

// ---------------------------------------------------------------------------------------------------------
// Scope and targets.

/** Partitions of one topic; undefined: every partition. */
export interface TopicScope {
  topic: string;
  partitions?: number[];
}

/** Which partitions a rewind moves. */
export type Scope =
  /** Every topic the group has committed offsets for (DMS runs it as a task), on every partition (-1) or one. */
  | { kind: "all-topics"; partition: number }
  | { kind: "topics"; topics: TopicScope[] };

export interface PartitionOffsetTarget {
  topic: string;
  partition: number;
  offset: bigint;
}

/** Where to: one of seven kinds. */
export type Target =
  | { kind: "offset"; offset: bigint }
  | { kind: "timestamp"; timestamp: number }
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "shiftBy"; shift: bigint }
  | { kind: "offsets"; offsets: PartitionOffsetTarget[] }
  | { kind: "toGroup"; group: string };

/** A validated rewind. */
export interface Rewind {
  projectId: string;
  instanceId: string;
  group: string;
  scope: Scope;
  target: Target;
}

/** `"payments"` or `"payments:0,1,2"`, as kafka-consumer-groups takes --topic. */
function topicScopeText(name: string) {
  return z.string().transform((v, ctx): TopicScope => {
    const colon = v.lastIndexOf(":");
    const topic = colon < 0 ? v : v.slice(0, colon);
    const topicCheck = topicName(name, "name a topic").safeParse(topic);
    if (!topicCheck.success) {
      for (const i of topicCheck.error.issues) ctx.addIssue({ code: "custom", message: i.message });
      return z.NEVER;
    }
    if (colon < 0) return { topic };
    const list = v.slice(colon + 1);
    if (!/^\d+(,\d+)*$/.test(list)) {
      ctx.addIssue({ code: "custom", message: `${name} ${JSON.stringify(v)}: after "${topic}:" list partition numbers separated by commas, e.g. ${topic}:0,1` });
      return z.NEVER;
    }
    const partitions = list.split(",").map(Number);
    const tooBig = partitions.find((p) => p > INT32_MAX);
    if (tooBig !== undefined) {
      ctx.addIssue({ code: "custom", message: `${name} ${JSON.stringify(v)}: partition ${tooBig} is beyond int32` });
      return z.NEVER;
    }
    return { topic, partitions };
  });
}

function topicScopeObject(name: string) {
  return z
    .strictObject(
      { topic: topicName(`${name}[].topic`, "name a topic"), partitions: z.array(partitionNumber(`${name}[].partitions[]`, false)).min(1, `${name}[].partitions must list at least one partition, or be omitted for every partition`).optional() },
      { error: (iss) => (iss.code === "unrecognized_keys" ? `${name}[] entries hold topic and partitions only` : `${name}[] entries are {topic, partitions?} or "topic:0,1"`) },
    )
    .transform((t): TopicScope => (t.partitions === undefined ? { topic: t.topic } : { topic: t.topic, partitions: t.partitions }));
}

function topicsList(name: string) {
  const text = topicScopeText(name);
  const object = topicScopeObject(name);
  // A string is read as "topic:0,1", anything else as {topic, partitions}: each with its own message.
  const entry = z.unknown().transform((v, ctx): TopicScope => {
    const r = typeof v === "string" ? text.safeParse(v) : object.safeParse(v);
    if (r.success) return r.data;
    for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: i.message, path: i.path });
    return z.NEVER;
  });
  return z
    .array(entry, { error: `${name} must be a list of topics ("topic" or "topic:0,1", or {topic, partitions})` })
    .min(1, `${name} must list at least one topic, or be omitted for every topic of the group`)
    .transform((list, ctx): TopicScope[] => {
      // Several entries for one topic merge; "every partition" absorbs any list.
      const merged = new Map<string, TopicScope>();
      for (const t of list) {
        const seen = merged.get(t.topic);
        if (!seen) merged.set(t.topic, { ...t, ...(t.partitions && { partitions: [...t.partitions] }) });
        else if (seen.partitions === undefined || t.partitions === undefined) merged.set(t.topic, { topic: t.topic });
        else seen.partitions = [...new Set([...seen.partitions, ...t.partitions])];
      }
      if (merged.size === 0) ctx.addIssue({ code: "custom", message: `${name} must list at least one topic` });
      return [...merged.values()].map((t) => (t.partitions ? { topic: t.topic, partitions: [...t.partitions].sort((a, b) => a - b) } : t));
    });
}

/** Explicit per-partition offsets: `{topic, partition, offset}`, or a partition's offsets as OffsetReset outputs them (messageCurrentOffset). */
function offsetsList(name: string, earliest: string) {
  // Other keys (an OffsetReset output's lag and log offsets) are dropped: a partition's offsets can be passed as they are.
  const entry = z
    .object({
      topic: topicName(`${name}[].topic`, "name the topic"),
      partition: partitionNumber(`${name}[].partition`, false),
      offset: offsetValue(`${name}[].offset`, earliest).optional(),
      messageCurrentOffset: offsetValue(`${name}[].messageCurrentOffset`, earliest).optional(),
    }, { error: `${name} entries are {topic, partition, offset}` })
    .transform((e, ctx): PartitionOffsetTarget => {
      const offset = e.offset ?? e.messageCurrentOffset;
      if (offset === undefined) {
        ctx.addIssue({ code: "custom", message: `${name} entry ${e.topic}/${e.partition} has no offset: give offset (or messageCurrentOffset, as previousOffsets holds it)` });
        return z.NEVER;
      }
      return { topic: e.topic, partition: e.partition, offset };
    });
  return z
    .array(entry, { error: `${name} must be a list of {topic, partition, offset}` })
    .min(1, `${name} must list at least one partition`)
    .transform((list, ctx): PartitionOffsetTarget[] => {
      const seen = new Set<string>();
      for (const o of list) {
        const key = `${o.topic}/${o.partition}`;
        if (seen.has(key)) ctx.addIssue({ code: "custom", message: `${name} lists ${key} twice: give each partition once` });
        seen.add(key);
      }
      return [...list].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    });
}

/** A boolean target kind: only `true` selects it. */
function flag(name: string) {
  return z.boolean({ error: `${name} must be true or false` });
}

/** The shape of each field for a naming, before cross-field rules. */
export function rewindFields(n: Naming) {
  return {
    projectId: id(n("projectId"), "the Huawei Cloud project ID (32 hex digits)"),
    instanceId: id(n("instanceId"), "the ID of the Kafka instance (a UUID)"),
    group: groupName(n("group")),
    topic: topicName(n("topic"), `omit it to reset every topic of the group`).optional(),
    partition: partitionNumber(n("partition"), true).optional(),
    topics: topicsList(n("topics")).optional(),
    messageOffset: offsetValue(n("messageOffset"), n("earliest")).optional(),
    timestamp: timestampValue(n("timestamp")).optional(),
    earliest: flag(n("earliest")).optional(),
    latest: flag(n("latest")).optional(),
    shiftBy: int64(n("shiftBy"), -INT64_MAX - 1n, (v) => `${n("shiftBy")} ${v} does not fit in int64`).refine((v) => v !== 0n, `${n("shiftBy")} 0 moves nothing: give a positive (forward, skip records) or negative (back, re-read) number`).optional(),
    offsets: offsetsList(n("offsets"), n("earliest")).optional(),
    toGroup: groupName(n("toGroup")).optional(),
  };
}

type Fields = ReturnType<typeof rewindFields>;
export type RewindInput = z.input<z.ZodObject<Fields>>;
type Parsed = z.output<z.ZodObject<Fields>>;

/** The target kinds set in `p` (a boolean kind counts only when true). */
export function targetsSet(p: Partial<Record<TargetKey, unknown>>): TargetKey[] {
  return TARGET_KEYS.filter((k) => (k === "earliest" || k === "latest" ? p[k] === true : p[k] !== undefined));
}

/** Cross-field rules; each issue's path names the field to change. */
/** A rule's finding: the field to change (its key) and what to do. */
export type Report = (key: RewindKey, message: string) => void;

export function rewindRules(p: Partial<Parsed>, report: Report, n: Naming, known: (key: RewindKey) => boolean = () => true): void {
  const kinds = targetsSet(p);
  const all = TARGET_KEYS.map((k) => n(k)).join(", ");
  // A target whose value is not known yet (Pulumi preview) may be the one that is missing.
  const pendingTarget = TARGET_KEYS.some((k) => !known(k));
  if (kinds.length === 0 && !pendingTarget) {
    report("messageOffset", `set exactly one target: ${all}; none is set`);
  } else if (kinds.length > 1) {
    report(kinds[1] as TargetKey, `set exactly one target of ${all}: ${kinds.map((k) => n(k)).join(" and ")} are both set`);
  }
  if (p.topic !== undefined && p.topics !== undefined) {
    report("topics", `set ${n("topic")} or ${n("topics")}, not both`);
  }
  if (p.partition !== undefined && p.topics !== undefined) {
    report("partition", `${n("partition")} goes with a single ${n("topic")}; with ${n("topics")}, list partitions per topic (e.g. payments:0,1)`);
  }
  if (p.offsets !== undefined) {
    const scoped = SCOPE_KEYS.find((k) => p[k] !== undefined);
    if (scoped) report(scoped, `${n("offsets")} names its own topics and partitions: drop ${n(scoped)}`);
  }
  if (p.toGroup !== undefined && p.group !== undefined && p.toGroup === p.group) {
    report("toGroup", `${n("toGroup")} is the group being reset: name another group to copy offsets from`);
  }
}

/** The normalised rewind of a validated input. */
export function normalise(p: Parsed): Rewind {
  return { projectId: p.projectId, instanceId: p.instanceId, group: p.group, scope: scopeOf(p), target: targetOf(p) };
}

export function scopeOf(p: Pick<Parsed, "topic" | "partition" | "topics" | "offsets">): Scope {
  if (p.offsets !== undefined) {
    const byTopic = new Map<string, number[]>();
    for (const o of p.offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.partition]);
    return { kind: "topics", topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
  }
  if (p.topics !== undefined) return { kind: "topics", topics: p.topics };
  if (p.topic !== undefined) {
    const partition = p.partition ?? -1;
    return { kind: "topics", topics: [partition === -1 ? { topic: p.topic } : { topic: p.topic, partitions: [partition] }] };
  }
  return { kind: "all-topics", partition: p.partition ?? -1 };
}

export function targetOf(p: Pick<Parsed, TargetKey>): Target {
  if (p.messageOffset !== undefined) return { kind: "offset", offset: p.messageOffset };
  if (p.timestamp !== undefined) return { kind: "timestamp", timestamp: p.timestamp };
  if (p.earliest === true) return { kind: "earliest" };
  if (p.latest === true) return { kind: "latest" };
  if (p.shiftBy !== undefined) return { kind: "shiftBy", shift: p.shiftBy };
  if (p.offsets !== undefined) return { kind: "offsets", offsets: p.offsets };
  if (p.toGroup !== undefined) return { kind: "toGroup", group: p.toGroup };
  throw new Error("no target: rewindRules should have refused this input");
}

/** The rewind schema for a naming: unknown fields refused, exactly one target, a normalised Rewind out. */
export function rewindSchema(n: Naming = inputNaming) {
  return z
    .strictObject(rewindFields(n))
    .superRefine((p, ctx) => rewindRules(p, (key, message) => ctx.addIssue({ code: "custom", path: [key], message }), n))
    .transform(normalise);
}

// ---------------------------------------------------------------------------------------------------------
// Settings shared by the front doors.

export function waitSeconds(name: string) {
  return z
    .number({ error: `${name} must be a number of seconds` })
    .min(0, `${name} must be >= 0 (0: do not wait, fail if the group is busy)`)
    .max(MAX_WAIT_SECONDS, `${name} must be at most ${MAX_WAIT_SECONDS} (a day); it counts seconds, not milliseconds`);
}

/** Warnings, not refusals: a value of another shape than DMS's IDs may still be right on another cloud. */
export function idShapeWarnings(r: Pick<Rewind, "projectId" | "instanceId">, n: Naming = inputNaming): string[] {
  const out: string[] = [];
  if (!/^[0-9a-f]{32}$/i.test(r.projectId)) {
    out.push(`${n("projectId")} ${JSON.stringify(r.projectId)} is not 32 hex digits, the shape of a Huawei Cloud project ID: check it (IAM console, My Credentials, Projects)`);
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(r.instanceId)) {
    out.push(`${n("instanceId")} ${JSON.stringify(r.instanceId)} is not a UUID, the shape of a DMS instance ID: check it on the Kafka instance's page`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Messages.

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known name nearest to `key`, when it is near enough to be a typo. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = levenshtein(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** An input nobody declares: named, with the nearest known one when it looks like a typo. */
export function unknownKey(key: string, known: readonly string[]): { property: string; reason: string } {
  const near = nearest(key, known);
  return { property: key, reason: `unknown input ${JSON.stringify(key)}${near ? `: did you mean ${JSON.stringify(near)}?` : ""}` };
}

/**
 * One entry per problem, each naming its field: what a CLI prints and what a Pulumi check returns. Unknown
 * keys name the nearest known one among `known`.
 */
export function describeIssues(error: z.ZodError, known: readonly string[] = []): { property: string; reason: string }[] {
  return error.issues.flatMap((i) => {
    if (i.code === "unrecognized_keys" && i.path.length === 0) {
      return i.keys.map((key) => unknownKey(key, known));
    }
    return [{ property: i.path.map(String).join(".") || "(input)", reason: i.message }];
  });
}
