// @ts-check
// Generates the provider plugin's Pulumi package schema (provider/plugin/schema.json) from the resource's own
// declarations, so that YAML, Python and Go users see the inputs, outputs, secrets, replace-on-change and
// descriptions the TypeScript users see:
// - inputs from the input table (provider/resource/inputs.ts): each entry's doc comment, read with the
//   TypeScript compiler API, is the description; the type is the entry's zod schema as JSON Schema (input side);
//   `secret` and `onChange: "replace"` carry over; required inputs are those whose schema refuses undefined;
// - outputs from the members the SDK's OffsetReset class declares (sdk/offsetReset.ts), described by their doc
//   comments (or the same-named input's), with the types below;
// - the per-partition row types from their interfaces (RenderedOffset, PlanRow), doc comments included;
// - provider configuration from CONFIG_KEYS (provider/resource/connection.ts).
// Anything the table gains that this file cannot type (a new input zod cannot describe, a new output or
// configuration key) fails the generation by name instead of going out untyped.
//
// Usage: `npm run build && node tools/schema/generate.js [--check]` writes the schema (--check: exit 1 when the
// committed file differs). Tests call buildSchema() with the TypeScript sources loaded by ts-jest.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

const repo = path.resolve(__dirname, "../..");
const SCHEMA_PATH = path.join(repo, "provider/plugin/schema.json");
const PKG = "dms-offset-reset";
const TOKEN = (/** @type {string} */ name) => `${PKG}:index:${name}`;
/** Placeholder until the repository has a public home. */
const REPOSITORY = "https://github.com/pulumi-dms-offset-reset/pulumi-dms-offset-reset";
const GO_IMPORT_BASE = "github.com/pulumi-dms-offset-reset/pulumi-dms-offset-reset/sdk/go/dmsoffsetreset";

/** @typedef {Record<string, unknown>} Spec */
const ref = (/** @type {string} */ name) => ({ $ref: `#/types/${TOKEN(name)}` });
const str = { type: "string" };
const int = { type: "integer" };
const num = { type: "number" };
const bool = { type: "boolean" };
const any = { $ref: "pulumi.json#/Any" };
const arrayOf = (/** @type {Spec} */ items) => ({ type: "array", items });

/** `customTimeouts` is how the dynamic resource forwards the engine's timeouts; the plugin gets them from the engine. */
const NOT_IN_SCHEMA = new Set(["customTimeouts"]);

/** Inputs whose zod schema parses through a transform of unknown, which JSON Schema cannot show: their types. */
const INPUT_TYPE_OVERRIDES = {
  topics: arrayOf({ oneOf: [str, ref("TopicScope")] }),
  triggers: any,
};

/** Output types: what the outputs hold after normalisation (int64s as decimal strings, times as epoch ms). */
const OUTPUT_TYPES = {
  projectId: str,
  instanceId: str,
  group: str,
  topic: str,
  partition: int,
  topics: arrayOf(ref("TopicScope")),
  messageOffset: str,
  timestamp: int,
  earliest: bool,
  latest: bool,
  shiftBy: str,
  offsets: arrayOf(ref("OffsetTarget")),
  toGroup: str,
  endpoint: str,
  region: str,
  legacyApi: bool,
  forbidForward: bool,
  waitForInactiveGroupSeconds: num,
  triggers: any,
  resetAt: str,
  requestId: str,
  outcome: str,
  previousOffsets: arrayOf(ref("PartitionOffsetState")),
  appliedOffsets: arrayOf(ref("PartitionOffsetState")),
  taskId: str,
  currentOffsets: arrayOf(ref("PartitionOffsetState")),
  plan: ref("Plan"),
};

/** Provider configuration: what each stack configuration key means (the keys come from CONFIG_KEYS). */
const CONFIG_DOCS = {
  accessKey: "Access key for every OffsetReset of this provider that sets no `accessKey` input, when CLOUD_SDK_AK / HW_ACCESS_KEY is not set: `pulumi config set --secret dms-offset-reset:accessKey …`.",
  secretKey: "Secret key that goes with `accessKey`: `pulumi config set --secret dms-offset-reset:secretKey …`.",
  securityToken: "Security token of temporary credentials, with `accessKey` and `secretKey`.",
  endpoint: "DMS endpoint URL (plain http:// only to loopback) for every OffsetReset that sets neither `endpoint` nor `region`. Set this or `region`.",
  region: "Huawei Cloud region, e.g. cn-north-4, for every OffsetReset that sets neither `endpoint` nor `region`. Set this or `endpoint`.",
};

/** Descriptions of the object types' fields that no interface declares. */
const TOPIC_SCOPE = {
  description: "A topic and, optionally, which of its partitions (every partition when omitted).",
  properties: {
    topic: { ...str, description: "The topic." },
    partitions: { ...arrayOf(int), description: "Partitions of the topic; omit for every partition." },
  },
  required: ["topic"],
};
const OFFSET_TARGET_DOCS = {
  topic: "The topic.",
  partition: "The partition.",
  offset: "The offset to reset the partition to (int64; past 2^53 pass a decimal string). Outputs hold it as a decimal string.",
  messageCurrentOffset: "Accepted instead of `offset`, so that another OffsetReset's `previousOffsets` entries can be passed as they are.",
};

/**
 * @param {string} file repository-relative path of a TypeScript source
 * @returns {ts.SourceFile}
 */
function parse(file) {
  const text = fs.readFileSync(path.join(repo, file), "utf8");
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
}

/** The text of a node's doc comments, joined; "" when it has none. */
function docOf(/** @type {ts.Node} */ node) {
  return ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => (ts.getTextOfJSDocComment(d.comment) ?? "").trim())
    .filter((t) => t !== "")
    .join("\n\n");
}

/** @param {ts.Node} node @param {(n: ts.Node) => boolean} test @returns {ts.Node | undefined} */
function find(node, test) {
  if (test(node)) return node;
  let found;
  node.forEachChild((c) => {
    found ??= find(c, test);
  });
  return found;
}

/** Each entry's doc comment in `export const INPUTS = { … }`, by key, in declaration order. */
function inputDocs() {
  const source = parse("provider/resource/inputs.ts");
  const decl = /** @type {ts.VariableDeclaration | undefined} */ (find(source, (n) => ts.isVariableDeclaration(n) && n.name.getText() === "INPUTS"));
  if (!decl?.initializer) throw new Error("provider/resource/inputs.ts: no `INPUTS` declaration");
  let init = decl.initializer;
  while (ts.isSatisfiesExpression(init) || ts.isAsExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
  if (!ts.isObjectLiteralExpression(init)) throw new Error("provider/resource/inputs.ts: INPUTS is not an object literal");
  /** @type {Map<string, string>} */
  const docs = new Map();
  for (const p of init.properties) {
    if (!p.name) continue;
    const key = p.name.getText().replace(/^["']|["']$/g, "");
    const doc = docOf(p);
    if (doc === "") throw new Error(`provider/resource/inputs.ts: the input ${key} has no doc comment: it is the input's description`);
    docs.set(key, doc);
  }
  return docs;
}

/** The OffsetReset class: its doc comment and its declared outputs (doc comment, whether they may be absent). */
function sdkClass() {
  const source = parse("sdk/offsetReset.ts");
  const cls = /** @type {ts.ClassDeclaration | undefined} */ (find(source, (n) => ts.isClassDeclaration(n) && n.name?.text === "OffsetReset"));
  if (!cls) throw new Error("sdk/offsetReset.ts: no class OffsetReset");
  /** @type {Map<string, { doc: string, optional: boolean }>} */
  const members = new Map();
  for (const m of cls.members) {
    if (!ts.isPropertyDeclaration(m) || !m.modifiers?.some((x) => x.kind === ts.SyntaxKind.DeclareKeyword)) continue;
    const type = m.type?.getText() ?? "";
    const inner = /^pulumi\.Output<(.*)>$/s.exec(type)?.[1];
    if (inner === undefined) throw new Error(`sdk/offsetReset.ts: OffsetReset.${m.name.getText()} is not a pulumi.Output`);
    members.set(m.name.getText(), { doc: docOf(m), optional: /\bundefined\b/.test(inner) || inner.trim() === "unknown" });
  }
  return { doc: docOf(cls), members };
}

/**
 * An interface of plain fields as an object type: strings (a `| null` is an absent value), booleans, and numbers,
 * which in these row types are partition numbers (integers).
 * @param {string} file @param {string} name
 */
function objectTypeOf(file, name, description = "") {
  const source = parse(file);
  const decl = /** @type {ts.InterfaceDeclaration | undefined} */ (find(source, (n) => ts.isInterfaceDeclaration(n) && n.name.text === name));
  if (!decl) throw new Error(`${file}: no interface ${name}`);
  /** @type {Record<string, Spec>} */
  const properties = {};
  const required = [];
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) || !m.type) throw new Error(`${file}: ${name} has a member that is not a plain field`);
    const key = m.name.getText();
    const nullable = /\|\s*null$/.test(m.type.getText());
    const text = m.type.getText().replace(/\s*\|\s*null$/, "");
    const type = { string: str, boolean: bool, number: int }[text];
    if (!type) throw new Error(`${file}: ${name}.${key} is a ${m.type.getText()}, which tools/schema/generate.js does not map`);
    properties[key] = { ...type, ...(docOf(m) && { description: docOf(m) }) };
    if (!m.questionToken && !nullable) required.push(key);
  }
  return { type: "object", description: description || docOf(decl), properties, required };
}

/**
 * A zod schema's input side (JSON Schema) as a Pulumi type. A number in a union with a string is a whole
 * number (offsets and epoch milliseconds), and zod's bigint (no JSON Schema) is left out: the schema says
 * "an integer or a decimal string".
 * @param {any} js @param {string} where
 * @returns {Spec}
 */
function pulumiType(js, where) {
  const scalar = (/** @type {string} */ t, inUnion = false) => {
    if (t === "string") return str;
    if (t === "boolean") return bool;
    if (t === "integer") return int;
    if (t === "number") return inUnion ? int : num;
    throw new Error(`${where}: no Pulumi type for JSON Schema type ${t}`);
  };
  if (Array.isArray(js.type)) return { oneOf: js.type.map((/** @type {string} */ t) => scalar(t, true)) };
  if (Array.isArray(js.anyOf)) {
    const members = js.anyOf.filter((/** @type {object} */ m) => Object.keys(m).length > 0);
    return { oneOf: members.map((/** @type {any} */ m) => (typeof m.type === "string" ? scalar(m.type, true) : pulumiType(m, where))) };
  }
  if (js.type === "array") return arrayOf(pulumiType(js.items ?? {}, `${where}[]`));
  if (typeof js.type === "string" && js.type !== "object") return scalar(js.type);
  throw new Error(`${where}: its zod schema has no JSON Schema type tools/schema/generate.js can map (${JSON.stringify(js)}): add it to INPUT_TYPE_OVERRIDES`);
}

/**
 * @typedef {object} Sources
 * @property {Record<string, { schema: any, onChange: string, secret?: true }>} INPUTS provider/resource/inputs
 * @property {Record<string, string>} CONFIG_KEYS provider/resource/connection
 * @property {typeof import("zod").z} z zod, the copy that built INPUTS
 * @property {string} version the package's version
 */

/**
 * The sources as built in dist/ (run `npm run build` first).
 * @returns {Sources}
 */
function distSources() {
  return {
    INPUTS: require(path.join(repo, "dist/provider/resource/inputs.js")).INPUTS,
    CONFIG_KEYS: require(path.join(repo, "dist/provider/resource/connection.js")).CONFIG_KEYS,
    z: require("zod").z,
    version: JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")).version,
  };
}

/**
 * The package schema.
 * @param {Sources} sources
 */
function buildSchema(sources) {
  const { INPUTS, CONFIG_KEYS, z, version } = sources;
  const docs = inputDocs();
  const cls = sdkClass();
  const jsonOf = (/** @type {any} */ schema) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

  /** @type {Record<string, Spec>} */
  const inputProperties = {};
  const requiredInputs = [];
  for (const [key, spec] of Object.entries(INPUTS)) {
    if (NOT_IN_SCHEMA.has(key)) continue;
    const doc = docs.get(key);
    if (doc === undefined) throw new Error(`provider/resource/inputs.ts: no doc comment found for ${key}`);
    const type = /** @type {Record<string, Spec>} */ (INPUT_TYPE_OVERRIDES)[key] ?? (key === "offsets" ? arrayOf(ref("OffsetTarget")) : pulumiType(jsonOf(spec.schema), key));
    inputProperties[key] = {
      ...type,
      description: doc,
      ...(spec.secret && { secret: true }),
      ...(spec.onChange === "replace" && { replaceOnChanges: true, willReplaceOnChanges: true }),
    };
    if (!spec.schema.safeParse(undefined).success) requiredInputs.push(key);
  }

  // offsets: its entries' fields as zod describes them.
  const offsetsItems = /** @type {any} */ (jsonOf(INPUTS.offsets?.schema)).items;
  /** @type {Record<string, Spec>} */
  const offsetTarget = {};
  for (const [field, js] of Object.entries(offsetsItems?.properties ?? {})) {
    const doc = /** @type {Record<string, string>} */ (OFFSET_TARGET_DOCS)[field];
    if (doc === undefined) throw new Error(`offsets entries gained the field ${field}: describe it in OFFSET_TARGET_DOCS`);
    offsetTarget[field] = { ...pulumiType(js, `offsets[].${field}`), description: doc };
  }

  /** @type {Record<string, Spec>} */
  const properties = {};
  const required = [];
  for (const [key, member] of cls.members) {
    const type = /** @type {Record<string, Spec>} */ (OUTPUT_TYPES)[key];
    if (type === undefined) throw new Error(`OffsetReset declares the output ${key}: give its type in OUTPUT_TYPES (tools/schema/generate.js)`);
    const input = INPUTS[key];
    // An output that mirrors an input: the input's description, then what the output holds of it.
    const description = [docs.get(key), member.doc].filter(Boolean).join("\n\n");
    if (!description) throw new Error(`sdk/offsetReset.ts: the output ${key} has no doc comment and no same-named input`);
    properties[key] = { ...type, description, ...(input?.onChange === "replace" && { replaceOnChanges: true, willReplaceOnChanges: true }) };
    if (!member.optional) required.push(key);
  }
  for (const key of Object.keys(OUTPUT_TYPES)) if (!cls.members.has(key)) throw new Error(`OUTPUT_TYPES names ${key}, which OffsetReset does not declare`);
  for (const [key, spec] of Object.entries(INPUTS)) {
    if (!spec.secret && !NOT_IN_SCHEMA.has(key) && !cls.members.has(key)) throw new Error(`the input ${key} is copied to outputs but OffsetReset does not declare it`);
  }

  /** @type {Record<string, Spec>} */
  const variables = {};
  for (const key of Object.keys(CONFIG_KEYS)) {
    const doc = /** @type {Record<string, string>} */ (CONFIG_DOCS)[key];
    if (doc === undefined) throw new Error(`CONFIG_KEYS has ${key}: describe it in CONFIG_DOCS (tools/schema/generate.js)`);
    variables[key] = { ...str, description: doc, ...(INPUTS[key]?.secret && { secret: true }) };
  }

  return {
    name: PKG,
    displayName: "DMS offset reset",
    version,
    description: "Kafka consumer-group offset rewinds on Huawei Cloud DMS as code: OffsetReset rewinds a group once, previewed per partition.",
    keywords: ["pulumi", "kafka", "huaweicloud", "dms", "category/utility"],
    license: "Apache-2.0",
    repository: REPOSITORY,
    publisher: "pulumi-dms-offset-reset",
    language: {
      go: { importBasePath: GO_IMPORT_BASE, respectSchemaVersion: true },
      python: { packageName: "pulumi_dms_offset_reset", requires: { pulumi: ">=3.0.0,<4.0.0" }, pyproject: { enabled: true }, respectSchemaVersion: true },
    },
    config: { variables },
    provider: {
      description: "The dms-offset-reset provider: stack configuration `dms-offset-reset:*` configures the default one.",
      inputProperties: variables,
    },
    types: {
      [TOKEN("TopicScope")]: { type: "object", ...TOPIC_SCOPE },
      [TOKEN("OffsetTarget")]: { type: "object", description: "A partition and the offset to reset it to.", properties: offsetTarget, required: offsetsItems?.required ?? [] },
      [TOKEN("PartitionOffsetState")]: objectTypeOf("provider/rewind/rewind.ts", "RenderedOffset", "A partition's offsets of the group, int64s as decimal strings."),
      [TOKEN("PlanRow")]: objectTypeOf("provider/rewind/report.ts", "PlanRow"),
      [TOKEN("Plan")]: {
        type: "object",
        description: "What a preview shows of the rewind a create, replacement or trigger will run: each partition's move, or why it is unknown.",
        properties: {
          partitions: { ...arrayOf(ref("PlanRow")), description: "One row per partition the rewind moves." },
          unknown: { ...str, description: "Why the plan is unknown (DMS could not be read, or inputs are not known yet)." },
        },
      },
    },
    resources: {
      [TOKEN("OffsetReset")]: {
        description: cls.doc,
        inputProperties,
        requiredInputs,
        properties,
        required,
      },
    },
  };
}

/** The schema as committed: two-space JSON and a final newline. */
function schemaText(/** @type {Sources} */ sources) {
  return `${JSON.stringify(buildSchema(sources), null, 2)}\n`;
}

module.exports = { buildSchema, schemaText, distSources, SCHEMA_PATH, PKG, GO_IMPORT_BASE };

if (require.main === module) {
  const text = schemaText(distSources());
  if (process.argv.includes("--check")) {
    const committed = fs.existsSync(SCHEMA_PATH) ? fs.readFileSync(SCHEMA_PATH, "utf8") : "";
    if (committed !== text) {
      console.error(`${path.relative(repo, SCHEMA_PATH)} differs from what provider/resource/inputs.ts declares: run \`node tools/schema/generate.js\``);
      process.exit(1);
    }
  } else {
    fs.mkdirSync(path.dirname(SCHEMA_PATH), { recursive: true });
    fs.writeFileSync(SCHEMA_PATH, text);
    console.error(`wrote ${path.relative(repo, SCHEMA_PATH)}`);
  }
}
