// The resource's `diff`: which changes are a different rewind (replacement), which re-apply the same
// rewind (triggers: an update that resets), and which only change how DMS is reached or how long to wait
// (an update that resets nothing). Both sides are compared normalised, so "10" and 10, or an ISO time and
// its epoch milliseconds, are the same value.
import { MessageOffset, Timestamp } from "../rewind/target";
import { resolveEndpoint } from "../dms/endpoints";
import { containsUnknown, REPLACE_KEYS } from "./properties";
import { parseDuration } from "./timeouts";

export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  /** True when `triggers` changed: the update must rewind again. */
  triggersChanged: boolean;
}

/** Inputs whose change is an update that sends nothing to DMS. */
const SETTING_KEYS = ["endpoint", "waitForInactiveGroupSeconds", "customTimeouts"] as const;

/**
 * `olds` are the resource's outputs in state, `news` the inputs `check` returned; a value still unknown in
 * `news` counts as changed, so a preview never hides a replacement.
 */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>): DiffOutcome {
  const changed = (key: string, canonical: (props: Record<string, unknown>) => unknown) =>
    containsUnknown(news[key]) || stableJson(canonical(olds)) !== stableJson(canonical(news));

  const replaces = REPLACE_KEYS.filter((k) => changed(k, (p) => canonicalTarget(k, p[k])));
  const triggersChanged = changed("triggers", (p) => p.triggers ?? null);
  const settingsChanged = SETTING_KEYS.some((k) => changed(k, (p) => canonicalSetting(k, p)))
    || containsUnknown(news.region);
  return { changes: replaces.length > 0 || triggersChanged || settingsChanged, replaces: [...replaces], triggersChanged };
}

function canonicalTarget(key: (typeof REPLACE_KEYS)[number], value: unknown): unknown {
  if (value === undefined || value === null) {
    if (key === "partition") return -1;
    if (key === "legacyApi") return false;
    return null;
  }
  if (key === "messageOffset") {
    const r = MessageOffset.safeParse(value);
    return r.success ? r.data.toString() : value;
  }
  if (key === "timestamp") {
    const r = Timestamp.safeParse(value);
    return r.success ? r.data : value;
  }
  return value;
}

function canonicalSetting(key: (typeof SETTING_KEYS)[number], props: Record<string, unknown>): unknown {
  switch (key) {
    case "endpoint":
      return canonicalEndpoint(props.endpoint, props.region);
    case "waitForInactiveGroupSeconds":
      return props.waitForInactiveGroupSeconds ?? 0;
    case "customTimeouts": {
      const t = (props.customTimeouts ?? {}) as Record<string, unknown>;
      const ms = (v: unknown) => (typeof v === "string" ? parseDuration(v) ?? v : null);
      return { create: ms(t.create), update: ms(t.update) };
    }
  }
}

/** The URL the endpoint or region resolves to, so a region and its explicit endpoint are the same place. */
function canonicalEndpoint(endpoint: unknown, region: unknown): unknown {
  const given = typeof endpoint === "string" ? { endpoint } : typeof region === "string" ? { region } : undefined;
  if (given === undefined) return null;
  try {
    return resolveEndpoint(given).href;
  } catch {
    return given;
  }
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  ) ?? "undefined";
}
