// The plugin's package schema is generated from the resource's input table (tools/schema/generate.js) and
// committed (provider/plugin/schema.json): this fails when the two drift apart, and checks that the schema says
// what the table says of each input (secret, replace on change, required, types a program may pass).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CONFIG_KEYS } from "../../provider/resource/connection";
import { INPUT_KEYS, INPUTS, REPLACE_KEYS, SECRET_KEYS } from "../../provider/resource/inputs";
import { buildSchema, schemaText, SCHEMA_PATH } from "../../tools/schema/generate";

const sources = { INPUTS, CONFIG_KEYS, z, version: (JSON.parse(readFileSync(`${__dirname}/../../package.json`, "utf8")) as { version: string }).version };
type PropertySpec = { type?: string; oneOf?: { type?: string }[]; secret?: boolean; replaceOnChanges?: boolean; description?: string; items?: unknown; $ref?: string };

test("the committed schema is what provider/resource/inputs.ts generates (else: npm run build && node tools/schema/generate.js)", () => {
  expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(schemaText(sources));
});

test("each input of the table is in the schema with its description, secrecy and replace-on-change", () => {
  const schema = buildSchema(sources);
  const resource = schema.resources["dms-offset-reset:index:OffsetReset"];
  if (!resource) throw new Error("the schema has no dms-offset-reset:index:OffsetReset");
  const inputs = resource.inputProperties as Record<string, PropertySpec>;
  expect(Object.keys(inputs)).toEqual(INPUT_KEYS.filter((k) => k !== "customTimeouts"));
  expect(Object.keys(inputs).filter((k) => inputs[k]?.secret)).toEqual(SECRET_KEYS);
  expect(Object.keys(inputs).filter((k) => inputs[k]?.replaceOnChanges)).toEqual(REPLACE_KEYS);
  expect(resource.requiredInputs).toEqual(["projectId", "instanceId", "group"]);
  for (const spec of Object.values(inputs)) expect(spec.description).toMatch(/\S/);
  expect(inputs.timestamp?.description).toMatch(/epoch milliseconds or ISO-8601/);
  // What the dynamic resource accepts, typed: epoch ms or ISO text; int64 as a number or a decimal string.
  for (const key of ["timestamp", "messageOffset", "shiftBy"]) expect(inputs[key]?.oneOf).toEqual([{ type: "integer" }, { type: "string" }]);
  // Secrets are never outputs; replace-on-change outputs match.
  const outputs = resource.properties as Record<string, PropertySpec>;
  for (const key of SECRET_KEYS) expect(outputs).not.toHaveProperty(key);
  expect(Object.keys(outputs).filter((k) => outputs[k]?.replaceOnChanges)).toEqual(REPLACE_KEYS);
  expect(Object.keys(schema.config.variables)).toEqual(Object.keys(CONFIG_KEYS));
  expect(Object.entries(schema.config.variables as Record<string, PropertySpec>).filter(([, v]) => v.secret).map(([k]) => k)).toEqual(["accessKey", "secretKey", "securityToken"]);
});

test("an input without a doc comment, or of a type the schema cannot say, fails the generation by name", () => {
  const untyped = { ...INPUTS, extra: { schema: z.unknown().transform((v) => v), onChange: "update" } };
  expect(() => buildSchema({ ...sources, INPUTS: untyped as typeof INPUTS })).toThrow(/no doc comment found for extra/);
});
