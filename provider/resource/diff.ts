// The resource's `diff`, derived from each input's declared behaviour (inputs.ts): a change to a
// `replace` input is a different rewind, to `triggers` an update that rewinds again, to a connection or
// wait setting an update that sends nothing, to a credential no change. Both sides are compared in their
// canonical form, so "10" and 10, or an ISO time and its epoch milliseconds, are the same value.
import { resolveEndpoint } from "../dms/endpoints";
import { canonical, INPUT_KEYS, INPUTS, type InputKey, type OnChange } from "./inputs";
import { containsUnknown } from "./properties";

export interface InputChange {
  key: InputKey;
  onChange: Exclude<OnChange, "none">;
}

export interface DiffOutcome {
  changes: boolean;
  /** The inputs whose change replaces the resource, in declaration order. */
  replaces: string[];
  /** True when `triggers` changed: the update must rewind again. */
  triggersChanged: boolean;
  /** Every changed input with what its change means (for a detailed diff). */
  changed: InputChange[];
}

const ENDPOINT_KEYS: readonly InputKey[] = ["endpoint", "region"];

/**
 * `olds` are the resource's properties in state, `news` the inputs `check` returned; a value still unknown
 * in `news` counts as changed, so a preview never hides a replacement.
 */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>): DiffOutcome {
  const changed: InputChange[] = [];
  for (const key of INPUT_KEYS) {
    const { onChange } = INPUTS[key];
    if (onChange === "none" || ENDPOINT_KEYS.includes(key)) continue;
    if (containsUnknown(news[key]) || stableJson(canonical(key, olds[key])) !== stableJson(canonical(key, news[key]))) changed.push({ key, onChange });
  }
  // A region and its endpoint URL are the same place: the pair is compared as the URL it resolves to.
  const unknownPlace = ENDPOINT_KEYS.some((k) => containsUnknown(news[k]));
  if (unknownPlace || stableJson(canonicalEndpoint(olds)) !== stableJson(canonicalEndpoint(news))) {
    for (const key of ENDPOINT_KEYS) {
      if (unknownPlace || olds[key] !== news[key]) changed.push({ key, onChange: "update" });
    }
  }
  return {
    changes: changed.length > 0,
    replaces: changed.filter((c) => c.onChange === "replace").map((c) => c.key),
    triggersChanged: changed.some((c) => c.onChange === "rewind-again"),
    changed,
  };
}

/** The URL the endpoint or region resolves to, so a region and its explicit endpoint are the same place. */
function canonicalEndpoint(props: Record<string, unknown>): unknown {
  const { endpoint, region } = props;
  const given = typeof endpoint === "string" ? { endpoint } : typeof region === "string" ? { region } : undefined;
  if (given === undefined) return null;
  try {
    return resolveEndpoint(given).href;
  } catch {
    return given;
  }
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof v === "bigint"
        ? v.toString()
        : v,
  ) ?? "undefined";
}
