// What a user may write for a rewind, validated once for the CLI and the resource alike.
// Each schema names the field and the fix in its message, and normalises: offsets to bigint,
// timestamps to epoch milliseconds.
import { z } from "zod";

const INT64_MAX = 2n ** 63n - 1n;
/** Epoch milliseconds below this are before 1973; such values are almost always epoch seconds. */
const SECONDS_LOOKALIKE_BELOW = 1e11;

export const Group = z
  .string({ error: "group must be a string" })
  .min(1, "group must not be empty: name the consumer group to rewind")
  // HTTP clients collapse `.` and `..` path segments, so the path sent would not be the path signed.
  .refine((g) => g !== "." && g !== "..", "group cannot be \".\" or \"..\": DMS paths cannot carry such a segment");
export const Topic = z.string().min(1, "topic must not be empty: omit it to reset every topic of the group");
export const Partition = z
  .number({ error: "partition must be an integer: -1 for every partition, or a partition number" })
  .int("partition must be an integer: -1 for every partition, or a partition number")
  .min(-1, "partition must be -1 (every partition) or a partition number >= 0");

/** int64 offset from a number, bigint or decimal string; refused when negative or not exact. */
export const MessageOffset = z
  .union([z.number(), z.bigint(), z.string()], { error: "messageOffset must be a number, bigint or decimal string" })
  .transform((v, ctx): bigint => {
    if (typeof v === "number" && !Number.isSafeInteger(v)) {
      ctx.addIssue({
        code: "custom",
        message: Number.isInteger(v)
          ? `messageOffset ${v} is beyond 2^53 and may already have lost digits as a number: pass it as a decimal string`
          : `messageOffset must be a whole number, got ${v}`,
      });
      return z.NEVER;
    }
    if (typeof v === "string" && !/^-?\d+$/.test(v.trim())) {
      ctx.addIssue({ code: "custom", message: `messageOffset must be a whole decimal number, got "${v}"` });
      return z.NEVER;
    }
    const offset = BigInt(typeof v === "string" ? v.trim() : v);
    if (offset < 0n) {
      ctx.addIssue({ code: "custom", message: `messageOffset must be >= 0, got ${offset}: to go back to the start, use the log start offset or a timestamp` });
      return z.NEVER;
    }
    if (offset > INT64_MAX) {
      ctx.addIssue({ code: "custom", message: `messageOffset ${offset} does not fit in int64 (max ${INT64_MAX})` });
      return z.NEVER;
    }
    return offset;
  });

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch milliseconds, from a number, a string of digits, or ISO-8601 with an explicit zone. */
export const Timestamp = z
  .union([z.number(), z.string()], { error: "timestamp must be epoch milliseconds or an ISO-8601 string with a zone" })
  .transform((v, ctx): number => {
    let ms: number;
    if (typeof v === "number" || /^\d+$/.test(v.trim())) {
      ms = Number(v);
    } else if (ISO_WITH_ZONE.test(v.trim())) {
      ms = Date.parse(v.trim());
    } else {
      ctx.addIssue({
        code: "custom",
        message: `timestamp "${v}" is not epoch milliseconds or ISO-8601 with a zone (e.g. 2026-11-24T02:00:00Z)`,
      });
      return z.NEVER;
    }
    if (!Number.isSafeInteger(ms)) {
      ctx.addIssue({ code: "custom", message: `timestamp must be a whole number of epoch milliseconds or a valid date, got ${String(v)}` });
      return z.NEVER;
    }
    if (ms < SECONDS_LOOKALIKE_BELOW) {
      ctx.addIssue({
        code: "custom",
        message: `timestamp ${ms} looks like epoch seconds; DMS expects milliseconds: use ${ms * 1000}`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** Where to rewind to: exactly one of an offset and a timestamp. */
export type Position = { messageOffset: bigint } | { timestamp: number };

/** The rewind a user declares, before credentials and endpoint. */
export const RewindTarget = z
  .object({
    projectId: z.string({ error: "projectId is required" }).min(1, "projectId must not be empty"),
    instanceId: z.string({ error: "instanceId is required" }).min(1, "instanceId must not be empty"),
    group: Group,
    topic: Topic.optional(),
    partition: Partition.default(-1),
    messageOffset: MessageOffset.optional(),
    timestamp: Timestamp.optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.messageOffset === undefined) === (t.timestamp === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [t.messageOffset === undefined ? "messageOffset" : "timestamp"],
        message:
          t.messageOffset === undefined
            ? "set exactly one of messageOffset and timestamp: neither is set"
            : "set exactly one of messageOffset and timestamp: both are set",
      });
    }
  });
export type RewindTargetInput = z.input<typeof RewindTarget>;
export type RewindTarget = z.infer<typeof RewindTarget>;

/** The position of a validated target. */
export function positionOf(t: RewindTarget): Position {
  return t.messageOffset !== undefined ? { messageOffset: t.messageOffset } : { timestamp: t.timestamp as number };
}

/** One line per problem, each naming its field: what a CLI prints and what a Pulumi check returns. */
export function describeIssues(error: z.ZodError): { property: string; reason: string }[] {
  return error.issues.map((i) => ({ property: i.path.map(String).join(".") || "(input)", reason: i.message }));
}
