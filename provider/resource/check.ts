// The resource's `check`: validate every input before any request, name the property at fault, and
// normalise what is stored (offset as a decimal string, timestamp as epoch milliseconds). During preview
// some inputs are not known yet; those are left alone, and rules that depend on them wait for `up`.
import { z } from "zod";
import { RewindTarget, describeIssues } from "../rewind/target";
import { endpointSettings, resolveCredentials, type StackSettings } from "./connection";
import { resolveEndpoint } from "../dms/endpoints";
import { UNKNOWN, withoutUndefined } from "./properties";
import { parseDuration } from "./timeouts";

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckOutcome {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
}

const TARGET_KEYS = ["projectId", "instanceId", "group", "topic", "partition", "messageOffset", "timestamp"] as const;

/** Valid stand-ins for unknown target fields, so the known ones can still be validated. */
const PLACEHOLDERS: Record<string, unknown> = {
  projectId: "unknown",
  instanceId: "unknown",
  group: "unknown",
  topic: "unknown",
  partition: 0,
};
const PLACEHOLDER_TIMESTAMP = 1_700_000_000_000;

/** A day: a larger wait is almost certainly milliseconds typed into a seconds field. */
const MAX_WAIT_SECONDS = 86_400;

const Duration = z
  .string({ error: "custom timeouts must be duration strings such as \"5m\"" })
  .refine((s) => parseDuration(s) !== undefined, { message: "custom timeouts must be duration strings such as \"90s\", \"5m\" or \"1h30m\"" });

const nonEmpty = (name: string, hint: string) =>
  z.string({ error: `${name} must be a string` }).min(1, `${name} must not be empty: ${hint}`);

/** The inputs that say how to reach DMS and how long to wait, not what to rewind. */
const ResourceSettings = z.object({
  endpoint: nonEmpty("endpoint", "omit it and set region, or give the DMS URL").optional(),
  region: nonEmpty("region", "omit it and set endpoint, or name the region, e.g. cn-north-4").optional(),
  accessKey: nonEmpty("accessKey", "omit it to use the environment or stack configuration").optional(),
  secretKey: nonEmpty("secretKey", "omit it to use the environment or stack configuration").optional(),
  securityToken: nonEmpty("securityToken", "omit it unless the credentials are temporary").optional(),
  legacyApi: z.boolean({ error: "legacyApi must be true or false" }).default(false),
  waitForInactiveGroupSeconds: z
    .number({ error: "waitForInactiveGroupSeconds must be a number of seconds" })
    .int("waitForInactiveGroupSeconds must be a whole number of seconds")
    .min(0, "waitForInactiveGroupSeconds must be >= 0 (0: do not wait, fail if the group is busy)")
    .max(MAX_WAIT_SECONDS, `waitForInactiveGroupSeconds must be at most ${MAX_WAIT_SECONDS} (a day); it counts seconds, not milliseconds`)
    .default(0),
  triggers: z.unknown().optional(),
  customTimeouts: z.object({ create: Duration.optional(), update: Duration.optional() }).optional(),
});

/**
 * Validates and normalises `news` (the program's inputs, with Pulumi's unknown sentinel where a value is
 * not known yet). Credentials and endpoint must be resolvable from the inputs, `env` or `stack`.
 */
export function checkInputs(news: Record<string, unknown>, env: NodeJS.ProcessEnv, stack: StackSettings): CheckOutcome {
  const unknown = new Set(Object.keys(news).filter((k) => news[k] === UNKNOWN));
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(news)) if (!unknown.has(k) && v !== null && v !== undefined) known[k] = v;

  const failures: CheckFailure[] = [];
  const report = (error: z.ZodError) =>
    failures.push(...describeIssues(error).filter((f) => !unknown.has(f.property.split(".")[0] as string)));

  const target = RewindTarget.safeParse(targetCandidate(known, unknown));
  if (!target.success) report(target.error);
  const settings = ResourceSettings.safeParse(known);
  if (!settings.success) report(settings.error);
  if (!target.success || !settings.success) return { inputs: news, failures };

  failures.push(...crossChecks(settings.data, unknown, env, stack));
  if (failures.length > 0) return { inputs: news, failures };

  const t = target.data;
  const normalised: Record<string, unknown> = {
    projectId: t.projectId,
    instanceId: t.instanceId,
    group: t.group,
    topic: t.topic,
    partition: t.partition,
    messageOffset: known.messageOffset === undefined ? undefined : t.messageOffset?.toString(),
    timestamp: known.timestamp === undefined ? undefined : t.timestamp,
    ...settings.data,
  };
  for (const k of unknown) normalised[k] = UNKNOWN;
  return { inputs: withoutUndefined(normalised), failures };
}

/** The target to validate: known fields, stand-ins for unknown ones, and one position when the other is unknown. */
function targetCandidate(known: Record<string, unknown>, unknown: Set<string>): Record<string, unknown> {
  const candidate: Record<string, unknown> = {};
  for (const k of TARGET_KEYS) {
    if (known[k] !== undefined) candidate[k] = known[k];
    else if (unknown.has(k) && k in PLACEHOLDERS) candidate[k] = PLACEHOLDERS[k];
  }
  if (unknown.has("messageOffset") || unknown.has("timestamp")) {
    // Whether both or neither position will be set is not known yet: validate the known one alone.
    if (candidate.messageOffset !== undefined) delete candidate.timestamp;
    else if (candidate.timestamp === undefined) candidate.timestamp = PLACEHOLDER_TIMESTAMP;
  }
  return candidate;
}

type Settings = z.infer<typeof ResourceSettings>;

/** Rules across inputs, each skipped while a value it depends on is unknown. */
function crossChecks(s: Settings, unknown: Set<string>, env: NodeJS.ProcessEnv, stack: StackSettings): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const anyUnknown = (...keys: string[]) => keys.some((k) => unknown.has(k));

  if (!anyUnknown("endpoint", "region")) {
    if (s.endpoint !== undefined && s.region !== undefined) {
      failures.push({ property: "region", reason: "set endpoint or region, not both" });
    } else {
      const where = endpointSettings(s, env, stack);
      if (where === undefined) {
        failures.push({
          property: "endpoint",
          reason:
            "set endpoint or region (or stack configuration dms-offset-reset:endpoint or dms-offset-reset:region, or HW_REGION_NAME in the environment)",
        });
      } else {
        try {
          resolveEndpoint(where);
        } catch (e) {
          failures.push({ property: where.endpoint !== undefined ? "endpoint" : "region", reason: (e as Error).message });
        }
      }
    }
  }

  if (!anyUnknown("accessKey", "secretKey", "securityToken")) {
    if ((s.accessKey === undefined) !== (s.secretKey === undefined)) {
      const missing = s.accessKey === undefined ? "accessKey" : "secretKey";
      failures.push({ property: missing, reason: `${missing} is required when ${missing === "accessKey" ? "secretKey" : "accessKey"} is set` });
    } else if (s.securityToken !== undefined && s.accessKey === undefined) {
      failures.push({ property: "securityToken", reason: "securityToken belongs to temporary credentials: set accessKey and secretKey with it" });
    } else {
      try {
        resolveCredentials(s, env, stack);
      } catch (e) {
        failures.push({ property: "accessKey", reason: (e as Error).message });
      }
    }
  }
  return failures;
}
