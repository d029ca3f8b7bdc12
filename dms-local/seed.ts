// The seed file: everything dms-local serves — credentials, project, instances with their topics
// and consumer groups. The zod schema is the type; offsets are int64 and read exactly (parseJson).
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { parseJson } from "../provider/dms/json";
import { WireInt64 } from "../provider/dms/wire";

const Offset = WireInt64.pipe(z.bigint().nonnegative("offsets must be >= 0"));

/** Record at offset n was written at `base + n × stepMs` (epoch milliseconds). */
const Timestamps = z.strictObject({
  base: WireInt64,
  stepMs: WireInt64.pipe(z.bigint().nonnegative("stepMs must be >= 0")),
});

const DEFAULT_TIMESTAMPS = { base: 1_700_000_000_000n, stepMs: 1000n };

const SeedPartition = z
  .strictObject({
    logStartOffset: Offset,
    logEndOffset: Offset,
    timestamps: Timestamps.default(DEFAULT_TIMESTAMPS),
  })
  .refine((p) => p.logStartOffset <= p.logEndOffset, { message: "logStartOffset must be <= logEndOffset" });

const SeedTopic = z.strictObject({ partitions: z.array(SeedPartition).min(1, "a topic has at least one partition") });

const GROUP_STATES = ["EMPTY", "STABLE", "PREPARING_REBALANCE", "COMPLETING_REBALANCE", "DEAD"] as const;
export const GroupState = z.enum(GROUP_STATES);
export type GroupState = z.infer<typeof GroupState>;

/** States in which a group has no live members (Kafka lets offsets be reset only then). */
export const MEMBERLESS_STATES: readonly GroupState[] = ["EMPTY", "DEAD"];

const SeedMember = z.strictObject({
  memberId: z.string().min(1),
  clientId: z.string(),
  host: z.string(),
  assignment: z.array(z.strictObject({ topic: z.string(), partitions: z.array(z.number().int().nonnegative()) })).default([]),
});

/** `"topic/partition"`: topic names cannot hold `/` in Kafka, so the last `/` splits unambiguously. */
const OFFSET_KEY = /^(.+)\/(\d+)$/;

const SeedGroup = z.strictObject({
  state: GroupState,
  members: z.array(SeedMember).default([]),
  offsets: z.record(z.string().regex(OFFSET_KEY, 'offset keys are "topic/partition", e.g. "orders/0"'), Offset).default({}),
  /** A stopped consumer whose session times out: this long after start the group is EMPTY, members gone. */
  emptyAfterMs: z.number().int().nonnegative().optional(),
  /** The same, as an event instead of a timer: the group is EMPTY right after its state has been shown this many times. */
  emptyAfterReads: z.number().int().min(1, "emptyAfterReads counts reads of the group's state: at least 1").optional(),
  assignmentStrategy: z.string().optional(),
  coordinatorId: z.number().int().nonnegative().default(1),
  createdAt: z.number().int().optional(),
  description: z.string().optional(),
});

const SeedInstance = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  topics: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, "Kafka topic names use A-Z a-z 0-9 . _ -"), SeedTopic),
  groups: z.record(z.string().min(1), SeedGroup).default({}),
});

const SeedCredential = z.strictObject({
  ak: z.string().min(1),
  sk: z.string().min(1),
  /** When set, requests must carry it as X-Security-Token (temporary credentials). */
  securityToken: z.string().min(1).optional(),
  /** Shown as the task's user_name / user_id. */
  userName: z.string().default("dms-local"),
  userId: z.string().optional(),
  description: z.string().optional(),
});

export const Seed = z
  .strictObject({
    description: z.string().optional(),
    projectId: z.string().min(1),
    credentials: z.array(SeedCredential).min(1, "at least one credential (AK/SK pair)"),
    instances: z.array(SeedInstance).min(1, "at least one instance"),
  })
  .superRefine((seed, ctx) => {
    seed.instances.forEach((instance, i) => {
      const partitionExists = (topic: string, partition: number): boolean =>
        partition < (instance.topics[topic]?.partitions.length ?? 0);
      for (const [name, group] of Object.entries(instance.groups)) {
        const at = ["instances", i, "groups", name];
        const memberless = MEMBERLESS_STATES.includes(group.state);
        if (group.emptyAfterMs !== undefined && group.emptyAfterReads !== undefined) {
          ctx.addIssue({ code: "custom", path: [...at, "emptyAfterReads"], message: "set emptyAfterMs (a timer) or emptyAfterReads (after that many reads of the state), not both" });
        }
        if (memberless && group.members.length > 0) {
          ctx.addIssue({ code: "custom", path: [...at, "members"], message: `a group in state ${group.state} has no members` });
        }
        if (!memberless && group.members.length === 0) {
          ctx.addIssue({ code: "custom", path: [...at, "members"], message: `a group in state ${group.state} has members: list them` });
        }
        for (const key of Object.keys(group.offsets)) {
          const [, topic = "", partition = "0"] = OFFSET_KEY.exec(key) ?? [];
          if (!partitionExists(topic, Number(partition))) {
            ctx.addIssue({ code: "custom", path: [...at, "offsets", key], message: `no partition ${partition} of topic "${topic}" on this instance` });
          }
        }
        for (const member of group.members) {
          for (const a of member.assignment) {
            for (const p of a.partitions) {
              if (!partitionExists(a.topic, p)) {
                ctx.addIssue({ code: "custom", path: [...at, "members"], message: `member ${member.memberId} is assigned ${a.topic}/${p}, which does not exist` });
              }
            }
          }
        }
      }
    });
    const ids = seed.instances.map((i) => i.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: "custom", path: ["instances"], message: "instance ids must be unique" });
    const aks = seed.credentials.map((c) => c.ak);
    if (new Set(aks).size !== aks.length) ctx.addIssue({ code: "custom", path: ["credentials"], message: "access keys must be unique" });
  });
export type Seed = z.infer<typeof Seed>;
export type SeedInput = z.input<typeof Seed>;
export type SeedInstance = Seed["instances"][number];

/** Split an offsets key `"orders/0"` into topic and partition. */
export function parseOffsetKey(key: string): { topic: string; partition: number } {
  const m = OFFSET_KEY.exec(key);
  if (!m) throw new Error(`offset key "${key}" is not "topic/partition"`);
  return { topic: m[1] as string, partition: Number(m[2]) };
}

/** Validate a seed from its JSON text; the error lists every problem with its path. */
export function parseSeed(text: string, source = "seed"): Seed {
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const result = Seed.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new Error(`${source} is not a valid dms-local seed:\n${lines.join("\n")}`);
  }
  return result.data;
}

export async function loadSeed(path: string): Promise<Seed> {
  return parseSeed(await readFile(path, "utf8"), path);
}
