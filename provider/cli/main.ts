#!/usr/bin/env node
// dms-offsets: the runbook form of a rewind. Every argument is checked (with the same schemas as the
// Pulumi resource) before a single request is sent; a failure is one line on stderr.
import { parseArgs } from "node:util";
import { DmsClient, type Member, type PartitionOffset } from "../dms/client";
import { credentialsFromEnv, projectIdFromEnv, regionFromEnv } from "../dms/credentials";
import { resolveEndpoint } from "../dms/endpoints";
import { ConfigurationError } from "../dms/errors";
import { describeIssues, positionOf, RewindTarget } from "../rewind/target";
import { renderOffsets, rewind } from "../rewind/rewind";
import { renderTable } from "./table";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

type Env = Readonly<Record<string, string | undefined>>;

export const USAGE = `usage:
  dms-offsets reset --project-id P --instance-id I --group G [--topic T] [--partition N]
                    (--offset N | --timestamp MS|ISO8601) [--endpoint URL | --region R] [--legacy-api]
                    [--wait-inactive SECONDS] [--json] [--allow-insecure-http]
  dms-offsets show  --project-id P --instance-id I --group G [--topic T] [--endpoint URL | --region R] [--json]

Credentials: CLOUD_SDK_AK/CLOUD_SDK_SK (or HW_ACCESS_KEY/HW_SECRET_KEY), plus CLOUD_SDK_SECURITY_TOKEN
(or HW_SECURITY_TOKEN) for temporary ones. HW_PROJECT_ID and HW_REGION_NAME fill --project-id and --region.
The group's consumers must be stopped (and session.timeout.ms passed) before a reset.
Exit status: 0 done, 1 DMS refused or could not be reached, 2 bad arguments or configuration.
`;

const OPTIONS = {
  "project-id": { type: "string" },
  "instance-id": { type: "string" },
  group: { type: "string" },
  topic: { type: "string" },
  partition: { type: "string" },
  offset: { type: "string" },
  timestamp: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  "legacy-api": { type: "boolean" },
  "wait-inactive": { type: "string" },
  json: { type: "boolean" },
  "allow-insecure-http": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const RESET_ONLY = ["partition", "offset", "timestamp", "legacy-api", "wait-inactive"] as const;

/** The CLI flag behind each RewindTarget property, so that errors name what the user typed. */
const FLAG_OF: Record<string, string> = {
  projectId: "--project-id",
  instanceId: "--instance-id",
  group: "--group",
  topic: "--topic",
  partition: "--partition",
  messageOffset: "--offset",
  timestamp: "--timestamp",
};

/** A problem with the command line or configuration: exit 2, nothing sent. */
class UsageError extends Error {}

export async function main(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv, env);
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof ConfigurationError)) throw e;
    for (const line of e.message.split("\n")) io.stderr(`dms-offsets: ${line}\n`);
    return 2;
  }
  if (command.kind === "help") {
    io.stdout(USAGE);
    return 0;
  }
  const client = new DmsClient({ endpoint: command.endpoint, projectId: command.projectId, credentials: command.credentials });
  try {
    if (command.kind === "reset") await runReset(client, command, io);
    else await runShow(client, command, io);
    return 0;
  } catch (e) {
    // DmsError, GroupNotInactiveError, ResetNotConfirmedError, DmsUnreachableError: their messages are one line
    // with everything the operator needs (status, error_code, error_msg, request id) and no credentials.
    io.stderr(`dms-offsets: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

interface Common {
  projectId: string;
  instanceId: string;
  group: string;
  topic: string | undefined;
  endpoint: URL;
  credentials: ReturnType<typeof credentialsFromEnv>;
  json: boolean;
}
type Command = { kind: "help" } | (Common & { kind: "reset"; target: RewindTarget; legacyApi: boolean; waitForInactiveMs: number }) | (Common & { kind: "show" });

function parseCommand(argv: readonly string[], env: Env): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\s*\n\s*/g, " ")}; see dms-offsets --help`);
  }
  const { values, positionals } = parsed;
  const sub = positionals[0];
  if (values.help || sub === "help") return { kind: "help" };
  if (sub !== "reset" && sub !== "show") throw new UsageError(`${sub === undefined ? "no command" : `unknown command "${sub}"`}: use reset or show (see dms-offsets --help)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": every value goes after its --flag`);
  if (sub === "show") {
    const stray = RESET_ONLY.find((f) => values[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} is for reset only: show reads the group and sends no change`);
  }

  // Loosely typed on purpose: the schema, not the compiler, judges what the user typed.
  const input: Record<string, unknown> = {
    projectId: values["project-id"] ?? projectIdFromEnv(env) ?? "",
    instanceId: values["instance-id"] ?? "",
    group: values.group ?? "",
  };
  if (values.topic !== undefined) input.topic = values.topic;
  if (values.partition !== undefined) input.partition = strictInteger(values.partition);
  if (values.offset !== undefined) input.messageOffset = values.offset;
  if (values.timestamp !== undefined) input.timestamp = /^\d+$/.test(values.timestamp) ? Number(values.timestamp) : values.timestamp;
  if (values["project-id"] === undefined && input.projectId === "") throw new UsageError("--project-id is required (or set HW_PROJECT_ID)");
  if (values["instance-id"] === undefined) throw new UsageError("--instance-id is required: the ID of the Kafka instance");
  if (values.group === undefined) throw new UsageError("--group is required: name the consumer group");

  // show has no position; a placeholder lets it share the schema's checks of the other fields.
  const checked = RewindTarget.safeParse(sub === "show" ? { ...input, messageOffset: 0 } : input);
  if (!checked.success) {
    throw new UsageError(
      describeIssues(checked.error)
        .map((i) => {
          const flag = FLAG_OF[i.property] ?? i.property;
          const reason = flagWording(i.reason);
          return reason.startsWith(flag) ? reason : `${flag}: ${reason}`;
        })
        .join("\n"),
    );
  }

  let waitForInactiveMs = 0;
  const wait = values["wait-inactive"];
  if (wait !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(wait)) throw new UsageError(`--wait-inactive: expected seconds (e.g. 60), got "${wait}"`);
    waitForInactiveMs = Math.round(Number(wait) * 1000);
  }

  const endpoint = resolveEndpoint({ endpoint: values.endpoint, region: values.region ?? regionFromEnv(env), allowInsecureHttp: values["allow-insecure-http"] ?? false });
  const common: Common = {
    projectId: checked.data.projectId,
    instanceId: checked.data.instanceId,
    group: checked.data.group,
    topic: checked.data.topic,
    endpoint,
    credentials: credentialsFromEnv(env),
    json: values.json ?? false,
  };
  if (sub === "show") return { ...common, kind: "show" };
  return { ...common, kind: "reset", target: checked.data, legacyApi: values["legacy-api"] ?? false, waitForInactiveMs };
}

/**
 * parseArgs refuses `--partition -1` as ambiguous (the value looks like a flag); a negative number right
 * after a value-taking flag can only be its value, so it is joined as `--partition=-1`.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name !== undefined && name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Digits only (with an optional minus): "1e3", "0x10", " 2" and "1.0" are not partition numbers. */
function strictInteger(text: string): number | string {
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/** The schemas speak of properties (messageOffset); on the command line the user typed flags. */
function flagWording(reason: string): string {
  return reason.replace(/\bmessageOffset\b/g, "--offset").replace(/\btimestamp\b/g, "--timestamp").replace(/\bprojectId\b/g, "--project-id").replace(/\binstanceId\b/g, "--instance-id");
}

async function runReset(client: DmsClient, cmd: Extract<Command, { kind: "reset" }>, io: CliIo): Promise<void> {
  const position = positionOf(cmd.target);
  const args = {
    instanceId: cmd.instanceId,
    group: cmd.group,
    ...(cmd.topic !== undefined && { topic: cmd.topic }),
    partition: cmd.target.partition,
    position,
    legacyApi: cmd.legacyApi,
  };
  // Progress goes to stdout with the table; --json keeps stdout to the one JSON object.
  const log = cmd.json ? undefined : (line: string) => io.stdout(`${line}\n`);
  const result = await rewind(client, args, { waitForInactiveMs: cmd.waitForInactiveMs, ...(log && { log }) });
  if (cmd.json) {
    io.stdout(
      `${JSON.stringify({
        group: cmd.group,
        instanceId: cmd.instanceId,
        ...(cmd.topic !== undefined && { topic: cmd.topic }),
        partition: cmd.target.partition,
        ...("messageOffset" in position ? { messageOffset: position.messageOffset.toString() } : { timestamp: position.timestamp }),
        requestId: result.requestId,
        resetAt: result.resetAt,
        ...(result.taskId !== undefined && { taskId: result.taskId }),
        previousOffsets: renderOffsets(result.previousOffsets),
        appliedOffsets: renderOffsets(result.appliedOffsets),
      })}\n`,
    );
    return;
  }
  // The log lines above already named the request id and the task.
  io.stdout(`offsets of group ${cmd.group} before and after the reset at ${result.resetAt}:\n${beforeAfterTable(result.previousOffsets, result.appliedOffsets)}\n`);
}

function beforeAfterTable(before: readonly PartitionOffset[], after: readonly PartitionOffset[]): string {
  const key = (o: PartitionOffset) => `${o.topic}\u0000${o.partition}`;
  const previous = new Map(before.map((o) => [key(o), o]));
  const applied = new Map(after.map((o) => [key(o), o]));
  const keys = [...new Set([...previous.keys(), ...applied.keys()])];
  if (keys.length === 0) return "(the group has no committed offsets)";
  const rows = keys.map((k) => {
    const b = previous.get(k);
    const a = applied.get(k);
    const any = (a ?? b) as PartitionOffset;
    return [any.topic, any.partition, b?.messageCurrentOffset ?? "-", a?.messageCurrentOffset ?? "-", any.messageLogStartOffset, any.messageLogEndOffset, a?.lag ?? "-"];
  });
  return renderTable(["TOPIC", "PARTITION", "BEFORE", "AFTER", "LOG-START", "LOG-END", "LAG"], rows);
}

async function runShow(client: DmsClient, cmd: Extract<Command, { kind: "show" }>, io: CliIo): Promise<void> {
  const details = await client.showGroupDetails(cmd.instanceId, cmd.group);
  const offsets = await client.listGroupMessageOffsets(cmd.instanceId, cmd.group, cmd.topic);
  if (cmd.json) {
    io.stdout(`${JSON.stringify({ group: details.group, instanceId: cmd.instanceId, state: details.state, members: details.members, offsets: renderOffsets(offsets) })}\n`);
    return;
  }
  const lines = [`group ${details.group} on instance ${cmd.instanceId}: ${details.state}`, membersText(details.members), ""];
  lines.push(
    offsets.length === 0
      ? "(no committed offsets)"
      : renderTable(
          ["TOPIC", "PARTITION", "CURRENT", "LOG-START", "LOG-END", "LAG"],
          offsets.map((o) => [o.topic, o.partition, o.messageCurrentOffset, o.messageLogStartOffset, o.messageLogEndOffset, o.lag]),
        ),
  );
  io.stdout(`${lines.join("\n")}\n`);
}

function membersText(members: readonly Member[]): string {
  if (members.length === 0) return "members: none (offsets can be reset)";
  return `members (${members.length}, stop them before a reset):\n${renderTable(
    ["MEMBER", "CLIENT", "HOST", "ASSIGNMENT"],
    members.map((m) => [m.memberId, m.clientId, m.host, m.assignment.map((a) => `${a.topic}[${a.partitions.join(",")}]`).join(" ") || "-"]),
  )}`;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`dms-offsets: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
