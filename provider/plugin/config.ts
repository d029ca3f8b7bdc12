// The provider's configuration: the same settings, with the same meaning, as the dynamic provider's stack
// configuration `dms-offset-reset:*` (resource/connection.ts). The engine checks it (CheckConfig), diffs it
// (DiffConfig) and hands it over (Configure): for the default provider, from stack configuration; for an
// explicit provider, from its inputs.
import { resolveEndpoint } from "../dms/endpoints";
import { CONFIG_KEYS, settingsFromConfig, type StackSettings } from "../resource/connection";
import type { CheckFailure } from "../resource/check";
import { stableJson } from "../resource/diff";
import { SECRET_KEYS } from "../resource/inputs";
import { containsUnknown } from "../resource/properties";
import { nearest } from "../rewind/target";
import { PKG } from "./schema";
import { asSecret, type Props } from "./wire";

type ConfigName = keyof typeof CONFIG_KEYS;
const NAMES = Object.keys(CONFIG_KEYS) as ConfigName[];
/** Configuration stored encrypted: the credentials, as the resource's same-named inputs. */
const SECRET_NAMES = NAMES.filter((k) => (SECRET_KEYS as readonly string[]).includes(k));
/** Inputs the engine itself gives a provider. */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);
const isEngineKey = (k: string) => ENGINE_KEYS.has(k) || k.startsWith("__");

/** CheckConfig: every key known and a string, at most one of endpoint and region, credentials in pairs. */
export function checkConfig(news: Props): { inputs: Props; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  for (const key of Object.keys(news)) {
    if (isEngineKey(key) || (NAMES as string[]).includes(key)) continue;
    const near = nearest(key, NAMES);
    failures.push({ property: key, reason: `unknown configuration ${PKG}:${key}${near ? `: did you mean ${PKG}:${near}?` : ""}; known: ${NAMES.join(", ")}` });
  }
  const known = (k: ConfigName) => news[k] !== undefined && news[k] !== null && !containsUnknown(news[k]);
  for (const key of NAMES) {
    if (known(key) && (typeof news[key] !== "string" || news[key] === "")) failures.push({ property: key, reason: `${PKG}:${key} must be a non-empty string` });
  }
  if (failures.length === 0) {
    const value = (k: ConfigName) => (known(k) ? (news[k] as string) : undefined);
    if (value("endpoint") !== undefined && value("region") !== undefined) {
      failures.push({ property: "region", reason: `set ${PKG}:endpoint or ${PKG}:region, not both` });
    } else {
      const where = value("endpoint") !== undefined ? { endpoint: value("endpoint") as string } : value("region") !== undefined ? { region: value("region") as string } : undefined;
      if (where) {
        try {
          resolveEndpoint(where);
        } catch (e) {
          failures.push({ property: "endpoint" in where ? "endpoint" : "region", reason: (e as Error).message });
        }
      }
    }
    if (known("accessKey") !== known("secretKey") && !containsUnknown(news.accessKey) && !containsUnknown(news.secretKey)) {
      const [missing, given] = known("accessKey") ? ["secretKey", "accessKey"] : ["accessKey", "secretKey"];
      failures.push({ property: missing as string, reason: `${PKG}:${missing} is required with ${PKG}:${given}` });
    }
  }
  const inputs: Props = { ...news };
  // A credential typed as plain configuration (or a literal provider input) is still stored encrypted.
  for (const key of SECRET_NAMES) if (inputs[key] !== undefined && inputs[key] !== null) inputs[key] = asSecret(inputs[key]);
  return { inputs, failures };
}

/** DiffConfig: the keys whose value changed. None replaces the provider (that would replace its resources). */
export function configChanges(olds: Props, news: Props): { key: string; kind: "add" | "delete" | "update" }[] {
  const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => !isEngineKey(k)).sort();
  const absent = (v: unknown) => v === undefined || v === null;
  return keys.flatMap((key) => {
    if (!containsUnknown(news[key]) && stableJson(olds[key] ?? null) === stableJson(news[key] ?? null)) return [];
    return [{ key, kind: absent(olds[key]) ? "add" : absent(news[key]) ? "delete" : "update" } as const];
  });
}

/**
 * Configure: the settings from the request's `args` (secrets unwrapped), or from the deprecated `variables`
 * (`dms-offset-reset:config:accessKey`) of engines that send only those.
 */
export function stackSettings(args: Props, variables: ReadonlyMap<string, string>): StackSettings {
  return settingsFromConfig({
    get: (key) => {
      const name = key.slice(`${PKG}:`.length);
      const value = args[name] ?? variables.get(`${PKG}:config:${name}`);
      return typeof value === "string" ? value : undefined;
    },
  });
}
