// The package schema (provider/plugin/schema.json, generated from the resource's input table by
// tools/schema/generate.js and committed) and the package's version, as GetSchema and GetPluginInfo answer.
// Both files sit at fixed places relative to this module in the repository and in the installed package.
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const PKG = "dms-offset-reset";
export const RESOURCE_TYPE = `${PKG}:index:OffsetReset`;

const root = path.resolve(__dirname, "../../..");

let schema: string | undefined;
/** The schema's JSON text, read once. */
export function schemaText(): string {
  schema ??= readFileSync(path.join(root, "provider/plugin/schema.json"), "utf8");
  return schema;
}

/** The package's version: the plugin's, and the one the generated SDKs ask the engine for. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
}
