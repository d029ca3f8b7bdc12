// The resource's `check`: validate every input before any request, name the input at fault and the fix,
// and normalise what is stored (int64s as decimal strings, times as epoch milliseconds). During preview
// some inputs are not known yet; those are left alone, and rules that depend on them wait for `up`.
import type { z } from "zod";
import { resolveEndpoint } from "../dms/endpoints";
import { describeIssues, inputNaming, rewindRules, unknownKey, type RewindKey } from "../rewind/target";
import { endpointSettings, resolveCredentials, type StackSettings } from "./connection";
import { INPUT_KEYS, INPUTS, PROVIDER_KEYS, stored, type InputKey } from "./inputs";
import { containsUnknown, UNKNOWN, withoutUndefined } from "./properties";

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckOutcome {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
}

const isInput = (k: string): k is InputKey => Object.hasOwn(INPUTS, k);

/**
 * Validates and normalises `news` (the program's inputs, with Pulumi's unknown sentinel where a value is
 * not known yet). Credentials and endpoint must be resolvable from the inputs, `env` or `stack`.
 */
export function checkInputs(news: Record<string, unknown>, env: NodeJS.ProcessEnv, stack: StackSettings): CheckOutcome {
  const unknown = new Set(Object.keys(news).filter((k) => containsUnknown(news[k])));
  const failures: CheckFailure[] = [];
  const report = (key: string, error: z.ZodError) =>
    failures.push(...describeIssues(error).map((f) => ({ property: f.property === "(input)" ? key : `${key}.${f.property}`.replace(/\.$/, ""), reason: f.reason })));

  for (const key of Object.keys(news)) {
    if (isInput(key) || (PROVIDER_KEYS as readonly string[]).includes(key)) continue;
    failures.push(unknownKey(key, INPUT_KEYS));
  }

  const parsed: Partial<Record<InputKey, unknown>> = {};
  for (const key of INPUT_KEYS) {
    if (unknown.has(key)) continue;
    const value = news[key] ?? undefined;
    const result = INPUTS[key].schema.safeParse(value === null ? undefined : value);
    // An optional input that is absent parses to undefined; a required one reports itself.
    if (!result.success) report(key, result.error);
    else if (result.data !== undefined) parsed[key] = result.data;
  }
  if (failures.length > 0) return { inputs: news, failures };

  const ruleIssues: CheckFailure[] = [];
  rewindRules(
    parsed as Parameters<typeof rewindRules>[0],
    (property, reason) => void ruleIssues.push({ property, reason }),
    inputNaming,
    (k: RewindKey) => !unknown.has(k),
  );
  // A rule about a value not known yet waits for `up`.
  failures.push(...ruleIssues.filter((f) => !unknown.has(f.property)));
  failures.push(...connectionChecks(parsed, unknown, env, stack));
  if (failures.length > 0) return { inputs: news, failures };

  const normalised: Record<string, unknown> = {};
  for (const key of INPUT_KEYS) if (parsed[key] !== undefined) normalised[key] = stored(key, parsed[key]);
  // Defaults that outputs have always carried: partition -1 with one topic or every topic. A list of
  // topics, or explicit offsets, names its own partitions, and a partition beside them is refused.
  const listed = news.topics !== undefined || news.offsets !== undefined;
  if (normalised.partition === undefined && !listed && !unknown.has("partition")) normalised.partition = -1;
  normalised.legacyApi ??= false;
  normalised.waitForInactiveGroupSeconds ??= 0;
  for (const k of unknown) normalised[k] = isInput(k) || k === "__provider" ? news[k] : UNKNOWN;
  return { inputs: withoutUndefined(normalised), failures };
}

type Parsed = Partial<Record<InputKey, unknown>>;

/** Rules about where and as whom to reach DMS, each skipped while a value it depends on is unknown. */
function connectionChecks(s: Parsed, unknown: Set<string>, env: NodeJS.ProcessEnv, stack: StackSettings): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const anyUnknown = (...keys: string[]) => keys.some((k) => unknown.has(k));
  const str = (k: InputKey) => s[k] as string | undefined;

  if (!anyUnknown("endpoint", "region")) {
    if (str("endpoint") !== undefined && str("region") !== undefined) {
      failures.push({ property: "region", reason: "set endpoint or region, not both" });
    } else {
      const where = endpointSettings({ endpoint: str("endpoint"), region: str("region") }, env, stack);
      if (where === undefined) {
        failures.push({
          property: "endpoint",
          reason: "set endpoint or region (or stack configuration dms-offset-reset:endpoint or dms-offset-reset:region, or HW_REGION_NAME in the environment)",
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
    const [accessKey, secretKey, securityToken] = [str("accessKey"), str("secretKey"), str("securityToken")];
    if ((accessKey === undefined) !== (secretKey === undefined)) {
      const missing = accessKey === undefined ? "accessKey" : "secretKey";
      failures.push({ property: missing, reason: `${missing} is required when ${missing === "accessKey" ? "secretKey" : "accessKey"} is set` });
    } else if (securityToken !== undefined && accessKey === undefined) {
      failures.push({ property: "securityToken", reason: "securityToken belongs to temporary credentials: set accessKey and secretKey with it" });
    } else {
      try {
        resolveCredentials({ accessKey, secretKey, securityToken }, env, stack);
      } catch (e) {
        failures.push({ property: "accessKey", reason: (e as Error).message });
      }
    }
  }
  return failures;
}
