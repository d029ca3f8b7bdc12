// dms-offsets' command line: the flags, each a name for a field of the shared rewind schema, and the one
// pass that turns argv into a command — every value checked, every file read, before a request is sent.
// A mistake is a UsageError naming the flag and the fix (exit 2).
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { credentialsFromEnv, projectIdFromEnv, regionFromEnv, type Credentials } from "../dms/credentials";
import { resolveEndpoint } from "../dms/endpoints";
import { ConfigurationError } from "../dms/errors";
import { parseCsv } from "../rewind/report";
import { describeIssues, idShapeWarnings, nearest, rewindSchema, waitSeconds, type Naming, type Rewind } from "../rewind/target";

/** A problem with the command line: exit 2, nothing sent. */
export class UsageError extends Error {}

export const OPTIONS = {
  "project-id": { type: "string" },
  "instance-id": { type: "string" },
  group: { type: "string", multiple: true },
  topic: { type: "string", multiple: true },
  partition: { type: "string" },
  offset: { type: "string" },
  "to-offset": { type: "string" },
  timestamp: { type: "string" },
  "to-datetime": { type: "string" },
  "to-earliest": { type: "boolean" },
  "to-latest": { type: "boolean" },
  "shift-by": { type: "string" },
  "by-duration": { type: "string" },
  "from-file": { type: "string" },
  "to-group": { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  "allow-insecure-http": { type: "boolean" },
  "legacy-api": { type: "boolean" },
  "wait-inactive": { type: "string" },
  "forbid-forward": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "save-before": { type: "string" },
  export: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;
type Flag = keyof typeof OPTIONS;

/** The flag behind each field of the rewind schema: messages name what the user typed. */
const FLAG_OF = {
  projectId: "--project-id",
  instanceId: "--instance-id",
  group: "--group",
  topic: "--topic",
  partition: "--partition",
  topics: "--topic",
  messageOffset: "--offset",
  timestamp: "--timestamp",
  earliest: "--to-earliest",
  latest: "--to-latest",
  shiftBy: "--shift-by",
  offsets: "--from-file",
  toGroup: "--to-group",
  waitForInactiveGroupSeconds: "--wait-inactive",
} as const;
export const flagNaming: Naming = (key) => FLAG_OF[key];

/**
 * Where two flags name one field (--offset/--to-offset, --timestamp/--to-datetime/--by-duration), messages
 * name the one given; a project ID from HW_PROJECT_ID is named so.
 */
function namingFor(values: Values): Naming {
  const typed: Partial<Record<Parameters<Naming>[0], string>> = {};
  if (values["project-id"] === undefined) typed.projectId = "HW_PROJECT_ID";
  if (values.offset === undefined && values["to-offset"] !== undefined) typed.messageOffset = "--to-offset";
  if (values["by-duration"] !== undefined) typed.timestamp = "--by-duration";
  else if (values.timestamp === undefined && values["to-datetime"] !== undefined) typed.timestamp = "--to-datetime";
  return (key) => typed[key] ?? FLAG_OF[key];
}

/**
 * Node turns an argument that is not valid text (a lone UTF-16 surrogate, bytes that are not UTF-8) into
 * U+FFFD before dms-offsets sees it: the name would silently be another group's.
 */
function replacementCharacterProblem(flag: string, name: string): string | undefined {
  if (!name.includes("\uFFFD")) return undefined;
  return (
    `${flag} ${JSON.stringify(name)} holds U+FFFD, the replacement character: the argument was not valid text ` +
    "(a lone UTF-16 surrogate or bytes that are not UTF-8 arrive as U+FFFD), so DMS would be asked about another group: pass the name as UTF-8"
  );
}

/** A file the CLI will write (--save-before, --export): checked before anything is sent, not after the reads. */
function checkOutputFile(flag: string, file: string): void {
  const directory = dirname(resolve(file));
  if (statSync(directory, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`${flag} ${file}: the directory ${directory} does not exist: create it, or write the file elsewhere`);
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) {
    throw new UsageError(`${flag} ${file} is a directory: name a file in it (e.g. ${file.replace(/\/+$/, "")}/before.csv)`);
  }
}

/** Which flags each command takes (besides --help and --json). */
const TARGET_FLAGS: Flag[] = ["offset", "to-offset", "timestamp", "to-datetime", "to-earliest", "to-latest", "shift-by", "by-duration", "from-file", "to-group"];
const WHERE: Flag[] = ["project-id", "instance-id", "group", "endpoint", "region", "allow-insecure-http", "json"];
const COMMAND_FLAGS: Record<"plan" | "reset" | "show", Flag[]> = {
  plan: [...WHERE, "topic", "partition", ...TARGET_FLAGS, "export"],
  reset: [...WHERE, "topic", "partition", ...TARGET_FLAGS, "export", "legacy-api", "wait-inactive", "forbid-forward", "yes", "save-before"],
  show: [...WHERE, "topic"],
};

interface Connection {
  endpoint: URL;
  credentials: Credentials;
  projectId: string;
  /** The flags that reach the same endpoint, for the undo command line. */
  endpointFlags: string[];
}

export type Command =
  | { kind: "help" }
  | ({ kind: "show"; instanceId: string; groups: string[]; topic?: string; json: boolean; warnings: string[] } & Connection)
  | ({ kind: "plan"; rewinds: Rewind[]; json: boolean; exportFile?: string; warnings: string[] } & Connection)
  | ({
      kind: "reset";
      rewinds: Rewind[];
      json: boolean;
      exportFile?: string;
      saveBefore?: string;
      yes: boolean;
      legacyApi: boolean;
      forbidForward: boolean;
      waitForInactiveMs: number;
      warnings: string[];
    } & Connection);

type Env = Readonly<Record<string, string | undefined>>;

export function parseCommand(argv: readonly string[], env: Env, now: () => number = Date.now): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  const sub = positionals[0];
  if (values.help || sub === "help") return { kind: "help" };
  if (sub !== "reset" && sub !== "show" && sub !== "plan") {
    throw new UsageError(`${sub === undefined ? "no command" : `unknown command "${sub}"`}: use plan, reset or show (see dms-offsets --help)`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": every value goes after its --flag`);
  const given = (Object.keys(values) as Flag[]).filter((f) => values[f] !== undefined && f !== "help");
  const stray = given.find((f) => !COMMAND_FLAGS[sub].includes(f));
  if (stray) throw new UsageError(`--${stray} does not go with ${sub}${sub === "show" ? ": show reads the group and sends nothing" : ""} (see dms-offsets --help)`);

  const projectId = values["project-id"] ?? projectIdFromEnv(env);
  if (projectId === undefined) throw new UsageError("--project-id is required (or set HW_PROJECT_ID): the Huawei Cloud project ID");
  if (values["instance-id"] === undefined) throw new UsageError("--instance-id is required: the ID of the Kafka instance");
  const groups = values.group ?? [];
  if (groups.length === 0) throw new UsageError("--group is required: name the consumer group (repeat it for several)");
  if (new Set(groups).size !== groups.length) throw new UsageError("--group names the same group twice: give each group once");
  for (const [flag, name] of [...groups.map((g) => ["--group", g] as const), ...(values["to-group"] !== undefined ? [["--to-group", values["to-group"]] as const] : [])]) {
    const problem = replacementCharacterProblem(flag, name);
    if (problem) throw new UsageError(problem);
  }

  // Loosely typed on purpose: the schema, not the compiler, judges what the user typed.
  const declared: Record<string, unknown> = { projectId, instanceId: values["instance-id"] };
  const topics = values.topic ?? [];
  if (sub === "show") {
    if (topics.length > 1) throw new UsageError("--topic: show takes one topic");
  } else {
    if (topics.length === 1 && !(topics[0] as string).includes(":")) declared.topic = topics[0];
    else if (topics.length > 0) declared.topics = topics;
    if (values.partition !== undefined) declared.partition = /^-?\d+$/.test(values.partition) ? Number(values.partition) : values.partition;
    Object.assign(declared, targetFields(values, now));
  }

  const rewinds: Rewind[] = [];
  const naming = namingFor(values);
  const schema = rewindSchema(naming);
  for (const group of groups) {
    // show has no target; a placeholder lets it share the schema's checks of the other fields.
    const checked = schema.safeParse(sub === "show" ? { ...declared, group, ...(topics[0] !== undefined && { topic: topics[0] }), messageOffset: 0 } : { ...declared, group });
    if (!checked.success) throw new UsageError(describeIssues(checked.error).map((i) => i.reason).join("\n"));
    rewinds.push(checked.data);
  }
  const first = rewinds[0] as Rewind;
  const warnings = idShapeWarnings(first, naming);

  if (values.endpoint !== undefined && values.region !== undefined) throw new UsageError("--endpoint and --region name the same thing: give one");
  const region = values.region ?? (values.endpoint === undefined ? regionFromEnv(env) : undefined);
  const allowInsecureHttp = values["allow-insecure-http"] ?? false;
  let endpoint: URL;
  try {
    endpoint = resolveEndpoint({ endpoint: values.endpoint, region, allowInsecureHttp }, { endpoint: "--endpoint", region: "--region (or HW_REGION_NAME)", allowInsecureHttp: "--allow-insecure-http" });
  } catch (e) {
    if (!(e instanceof ConfigurationError)) throw e;
    // Name where the refused value came from, when the message does not.
    const source = values.endpoint !== undefined ? "--endpoint" : values.region !== undefined ? "--region" : region !== undefined ? "HW_REGION_NAME" : undefined;
    throw new UsageError(source === undefined || e.message.includes(source) ? e.message : `${source}: ${e.message}`);
  }
  if (allowInsecureHttp && endpoint.protocol === "http:") {
    warnings.push(`--allow-insecure-http: signed requests go to ${endpoint.host} over plain http: anyone on the path can read them and replay them for 15 minutes`);
  }
  const connection: Connection = {
    endpoint,
    credentials: credentialsFromEnv(env),
    projectId: first.projectId,
    endpointFlags: [values.endpoint !== undefined ? `--endpoint ${endpoint.origin}` : `--region ${region}`, ...(allowInsecureHttp ? ["--allow-insecure-http"] : [])],
  };
  const json = values.json ?? false;
  if (sub === "show") return { kind: "show", instanceId: first.instanceId, groups, ...(topics[0] !== undefined && { topic: topics[0] }), json, warnings, ...connection };
  const exportFile = values.export;
  if (exportFile !== undefined) checkOutputFile("--export", exportFile);
  if (sub === "plan") return { kind: "plan", rewinds, json, ...(exportFile !== undefined && { exportFile }), warnings, ...connection };

  let waitForInactiveMs = 0;
  const wait = values["wait-inactive"];
  if (wait !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(wait) ? waitSeconds("--wait-inactive").safeParse(Number(wait)) : undefined;
    if (!seconds?.success) throw new UsageError(seconds ? (seconds.error.issues[0]?.message as string) : `--wait-inactive: expected seconds (e.g. 60), got "${wait}"`);
    waitForInactiveMs = Math.round(seconds.data * 1000);
  }
  const saveBefore = values["save-before"];
  if (saveBefore !== undefined) {
    checkOutputFile("--save-before", saveBefore);
    if (exportFile !== undefined && resolve(saveBefore) === resolve(exportFile)) {
      throw new UsageError(`--save-before and --export both name ${saveBefore}: the plan would overwrite the undo record; give two files`);
    }
  }
  return {
    kind: "reset",
    rewinds,
    json,
    ...(exportFile !== undefined && { exportFile }),
    ...(saveBefore !== undefined && { saveBefore }),
    yes: values.yes ?? false,
    legacyApi: values["legacy-api"] ?? false,
    forbidForward: values["forbid-forward"] ?? false,
    waitForInactiveMs,
    warnings,
    ...connection,
  };
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>["values"];

/** The target flags as schema fields: aliases merged, --by-duration resolved against now, --from-file read. */
function targetFields(values: Values, now: () => number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const one = (a: "offset" | "timestamp", b: "to-offset" | "to-datetime"): string | undefined => {
    if (values[a] !== undefined && values[b] !== undefined) throw new UsageError(`--${a} and --${b} are the same target: give one`);
    return values[a] ?? values[b];
  };
  const offset = one("offset", "to-offset");
  if (offset !== undefined) out.messageOffset = offset;
  const timestamp = one("timestamp", "to-datetime");
  if (timestamp !== undefined) out.timestamp = timestamp;
  if (values["by-duration"] !== undefined) {
    if (out.timestamp !== undefined) throw new UsageError(`--${values.timestamp !== undefined ? "timestamp" : "to-datetime"} and --by-duration are both targets: give one`);
    const ms = durationMs(values["by-duration"]);
    if (ms === undefined) throw new UsageError(`--by-duration ${JSON.stringify(values["by-duration"])} is not an ISO-8601 duration: write it like PT2H, PT30M, P1DT6H`);
    const from = now() - ms;
    // The shared schema would refuse such a time as epoch seconds, naming --timestamp: the duration is the typo.
    if (!(from >= BY_DURATION_EARLIEST_MS)) throw new UsageError(`--by-duration ${values["by-duration"]} reaches back before 1973: no log holds records that old; give a shorter duration (e.g. PT2H, P7D)`);
    out.timestamp = from;
  }
  if (values["to-earliest"]) out.earliest = true;
  if (values["to-latest"]) out.latest = true;
  if (values["shift-by"] !== undefined) out.shiftBy = values["shift-by"];
  if (values["to-group"] !== undefined) out.toGroup = values["to-group"];
  const file = values["from-file"];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory, not a file" : `cannot be read (${code ?? (e as Error).message})`;
      throw new UsageError(`--from-file ${file}: ${why}: give a CSV file of topic,partition,offset lines (as --save-before and --export write them)`);
    }
    const csv = parseCsv(text);
    if ("problem" in csv) throw new UsageError(`--from-file ${file}: ${csv.problem} (the format is kafka-consumer-groups' export: topic,partition,offset per line)`);
    out.offsets = csv.offsets;
  }
  return out;
}

/** Epoch ms below this are read as epoch seconds by the shared schema (before 1973). */
const BY_DURATION_EARLIEST_MS = 1e11;

/** Milliseconds of an ISO-8601 duration (PnDTnHnMnS, weeks as PnW); months and years vary in length and are refused. */
export function durationMs(text: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text.trim());
  if (!m || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number];
  return Math.round((((w * 7 + d) * 24 + h) * 60 + min) * 60_000 + s * 1000);
}

/** parseArgs' own messages, in ours: one line, the flag named, a nearest known flag suggested. */
function parseArgsMessage(e: Error & { code?: string }): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(e.message)?.[1];
  if (unknown) {
    if (/^--(dry-run|execute)$/.test(unknown)) return `unknown option ${unknown}: reset always shows its plan first; for a plan alone, use dms-offsets plan (see dms-offsets --help)`;
    const near = nearest(unknown.replace(/^-+/, ""), Object.keys(OPTIONS));
    return `unknown option ${unknown}${near ? `: did you mean --${near}?` : ""} (see dms-offsets --help)`;
  }
  const missing = /Option '(-[^']+)' argument missing/.exec(e.message)?.[1];
  if (missing) return `${missing.replace(/^-\w, /, "")} needs a value (see dms-offsets --help)`;
  const ambiguous = /Option '(?:-\w, )?(--[^']+)' argument is ambiguous/.exec(e.message)?.[1];
  if (ambiguous) return `${ambiguous}: its value starts with "-", like a flag: if it is the value, write ${ambiguous}=VALUE (see dms-offsets --help)`;
  const valueless = /Option '(?:-\w, )?(--[^']+)' does not take an argument/.exec(e.message)?.[1];
  if (valueless) return `${valueless} takes no value: write ${valueless} alone (see dms-offsets --help)`;
  return `${e.message.split("\n")[0]?.replace(/\s+To specify.*$/, "")} (see dms-offsets --help)`;
}

/**
 * parseArgs refuses `--partition -1` and `--shift-by -100` as ambiguous (the value looks like a flag); a
 * negative number right after a value-taking flag can only be its value, so it is joined as `--flag=-1`.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name !== undefined && name in OPTIONS && OPTIONS[name as Flag].type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}
