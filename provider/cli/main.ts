#!/usr/bin/env node
// dms-offsets: the runbook form of a rewind. `plan` shows where every partition would go, sending nothing;
// `reset` shows the same plan, asks (or takes --yes), then applies it once and reads the group back;
// `show` reads a group. Every argument is checked before a single request is sent.
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { DmsClient } from "../dms/client";
import { planRewind, type Plan } from "../rewind/plan";
import { planCsv, undoCsv } from "../rewind/report";
import { applyPlan, isInactive, prepareRewind, recheckPlan, renderOffsets, type RewindOptions } from "../rewind/rewind";
import { renderTable } from "../rewind/table";
import type { Rewind } from "../rewind/target";
import { parseCommand, UsageError, type Command } from "./args";
import { EXIT, NotAppliedByChoice, Output, type CliIo } from "./output";

export type { CliIo } from "./output";

export const USAGE = `usage:
  dms-offsets plan  --project-id P --instance-id I --group G [--group G2 ...] [SCOPE] TARGET
                    [--export FILE] [CONNECTION] [--json]
  dms-offsets reset --project-id P --instance-id I --group G [--group G2 ...] [SCOPE] TARGET
                    [--yes] [--save-before FILE] [--export FILE] [--wait-inactive SECONDS]
                    [--forbid-forward] [--legacy-api] [CONNECTION] [--json]
  dms-offsets show  --project-id P --instance-id I --group G [--topic T] [CONNECTION] [--json]

SCOPE (default: every topic the group has offsets for):
  --topic T [--partition N]      one topic, every partition or one
  --topic T:0,1 [--topic U ...]  several topics, each with every partition or a list
TARGET (exactly one):
  --offset N | --to-offset N     this offset (DMS clamps it to each partition's log)
  --timestamp T | --to-datetime T  the first record at or after T: epoch ms or ISO-8601 with a zone
  --by-duration D                the first record at or after now minus D (ISO-8601, e.g. PT2H)
  --to-earliest | --to-latest    the start or the end of each partition's log
  --shift-by N                   the committed offset plus N (negative: back)
  --from-file FILE               topic,partition,offset per line (kafka-consumer-groups --export)
  --to-group G                   the committed offsets of another group
CONNECTION: [--endpoint URL | --region R] [--allow-insecure-http]

reset prints the plan, then asks on a terminal; without a terminal it applies only with --yes.
--save-before FILE writes the offsets before (the undo record) as a --from-file file, before sending.
--export FILE writes the plan's targets in the same format.
--json writes one JSON object per line: "plan" before anything is sent, then "result" or "error".
Credentials: CLOUD_SDK_AK/CLOUD_SDK_SK (or HW_ACCESS_KEY/HW_SECRET_KEY), plus CLOUD_SDK_SECURITY_TOKEN
(or HW_SECURITY_TOKEN) for temporary ones. HW_PROJECT_ID and HW_REGION_NAME fill --project-id and --region.
The group's consumers must be stopped (and session.timeout.ms passed) before a reset.
Exit status: 0 done; 1 DMS refused or could not be reached, nothing applied; 2 bad arguments or
configuration, nothing sent; 3 the outcome is not confirmed or the plan was applied in part (read the
message: it carries the offsets to undo); 4 not applied by choice (declined, no --yes without a terminal,
or --forbid-forward refused a forward move).
`;

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<number> {
  const wantsJson = argv.includes("--json");
  let command: Command;
  try {
    command = parseCommand(argv, env);
  } catch (e) {
    return new Output(io, wantsJson).error(e);
  }
  if (command.kind === "help") {
    io.stdout(USAGE);
    return EXIT.done;
  }
  const out = new Output(io, command.json);
  for (const w of command.warnings) out.warn(w);
  let client: DmsClient;
  try {
    client = new DmsClient({ endpoint: command.endpoint, projectId: command.projectId, credentials: command.credentials, env });
  } catch (e) {
    return out.error(e);
  }
  try {
    if (command.kind === "show") return await runShow(client, command, out, io);
    if (command.kind === "plan") return await runPlan(client, command, out);
    return await runReset(client, command, out, io);
  } finally {
    await client.close();
  }
}

type Of<K extends Command["kind"]> = Extract<Command, { kind: K }>;

/**
 * A file per group: FILE itself for one group, FILE with the group's name before its extension for several.
 * Characters other than letters, digits, ".", "_" and "-" are percent-encoded: two groups never share a
 * file (with one "_" for each, "订单" and "账单", or "a b" and "a_b", would overwrite each other's undo record).
 */
function fileFor(file: string | undefined, group: string, groups: number): string | undefined {
  if (file === undefined || groups === 1) return file;
  const dot = file.lastIndexOf(".");
  const safe = encodeURIComponent(group).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return dot > file.lastIndexOf("/") ? `${file.slice(0, dot)}-${safe}${file.slice(dot)}` : `${file}-${safe}`;
}

function write(flag: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UsageError(`${flag} ${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was sent`);
  }
}

async function runPlan(client: DmsClient, cmd: Of<"plan">, out: Output): Promise<number> {
  for (const rewind of cmd.rewinds) {
    try {
      const { state } = await client.showGroup(rewind.instanceId, rewind.group);
      if (!isInactive(state)) out.warn(`group ${rewind.group} is ${state}: its consumers still commit offsets, and a reset is refused until they stop`);
      const plan = await planRewind(client, rewind);
      const exported = fileFor(cmd.exportFile, rewind.group, cmd.rewinds.length);
      if (exported !== undefined) write("--export", exported, planCsv(plan));
      out.plan(plan, { ...(exported !== undefined && { export: exported }) });
    } catch (e) {
      return out.error(e, { group: rewind.group });
    }
  }
  return EXIT.done;
}

async function runReset(client: DmsClient, cmd: Of<"reset">, out: Output, io: CliIo): Promise<number> {
  const options: RewindOptions = {
    waitForInactiveMs: cmd.waitForInactiveMs,
    forbidForward: cmd.forbidForward,
    legacyApi: cmd.legacyApi,
    names: { waitForInactive: "--wait-inactive", forbidForward: "--forbid-forward" },
    log: (line) => out.log(line),
    warn: (line) => out.warn(line),
  };
  // Every group planned before any file is written or plan shown, and every plan shown before anything is
  // sent: a group that cannot be planned leaves no undo file behind for a reset that never happened.
  const planned: { rewind: Rewind; plan: Plan; saved?: string }[] = [];
  for (const rewind of cmd.rewinds) {
    try {
      planned.push({ rewind, plan: await prepareRewind(client, rewind, options) });
    } catch (e) {
      return out.error(e, { group: rewind.group });
    }
  }
  for (const entry of planned) {
    const { rewind, plan } = entry;
    try {
      const saved = fileFor(cmd.saveBefore, rewind.group, cmd.rewinds.length);
      const exported = fileFor(cmd.exportFile, rewind.group, cmd.rewinds.length);
      if (saved !== undefined) write("--save-before", saved, undoCsv(plan.before));
      if (exported !== undefined) write("--export", exported, planCsv(plan));
      out.plan(plan, { ...(saved !== undefined && { saveBefore: saved }), ...(exported !== undefined && { export: exported }) });
      if (saved !== undefined) entry.saved = saved;
    } catch (e) {
      return out.error(e, { group: rewind.group });
    }
  }

  let asked = false;
  if (!cmd.yes) {
    const groups = planned.map((p) => p.rewind.group).join(", ");
    const nothingSent = `nothing was sent to group${planned.length === 1 ? "" : "s"} ${groups}`;
    if (cmd.json) return out.error(new NotAppliedByChoice(`not applied: --json never asks: pass --yes to apply this plan (${nothingSent})`));
    if (!io.interactive || !io.confirm) {
      return out.error(new NotAppliedByChoice(`not applied: pass --yes to apply this plan without a terminal (${nothingSent})`));
    }
    // A prompt that cannot be answered (stdin closed) is a no.
    const yes = await io.confirm(`Apply this plan to group${planned.length === 1 ? "" : "s"} ${groups}? [y/N] `).catch(() => false);
    if (!yes) {
      return out.error(new NotAppliedByChoice("not applied: declined; nothing was sent"));
    }
    asked = true;
  }

  const applied: string[] = [];
  for (const { rewind, plan, saved } of planned) {
    try {
      // A person took a while to answer: the group must still be as planned.
      const current = asked ? await recheckPlan(client, rewind, plan, options) : plan;
      const result = await applyPlan(client, current, options);
      out.result(result, undoCommand(cmd, rewind, saved));
      applied.push(rewind.group);
    } catch (e) {
      return out.error(e, { group: rewind.group, applied });
    }
  }
  return EXIT.done;
}

/** The command line that puts the group back where it was. */
function undoCommand(cmd: Of<"reset">, rewind: Rewind, saved: string | undefined): string {
  const file = saved ?? "BEFORE.csv";
  const line = `dms-offsets reset --project-id ${rewind.projectId} --instance-id ${rewind.instanceId} --group ${shellWord(rewind.group)} --from-file ${shellWord(file)} --yes ${cmd.endpointFlags.join(" ")}`;
  return saved !== undefined ? line : `${line}   (BEFORE.csv: the undo record above, one topic,partition,offset per line; --save-before writes it)`;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9._\/:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

async function runShow(client: DmsClient, cmd: Of<"show">, out: Output, io: CliIo): Promise<number> {
  for (const group of cmd.groups) {
    try {
      const details = await client.showGroupDetails(cmd.instanceId, group);
      const offsets = await client.listGroupMessageOffsets(cmd.instanceId, group, cmd.topic);
      if (cmd.json) {
        io.stdout(`${JSON.stringify({ type: "group", group: details.group, instanceId: cmd.instanceId, state: details.state, members: details.members, offsets: renderOffsets(offsets) })}\n`);
        continue;
      }
      const members =
        details.members.length === 0
          ? "members: none (offsets can be reset)"
          : `members (${details.members.length}, stop them before a reset):\n${renderTable(
              ["MEMBER", "CLIENT", "HOST", "ASSIGNMENT"],
              details.members.map((m) => [m.memberId, m.clientId, m.host, m.assignment.map((a) => `${a.topic}[${a.partitions.join(",")}]`).join(" ") || "-"]),
            )}`;
      const table =
        offsets.length === 0
          ? "(no committed offsets)"
          : renderTable(
              ["TOPIC", "PARTITION", "CURRENT", "LOG-START", "LOG-END", "LAG"],
              offsets.map((o) => [o.topic, o.partition, o.messageCurrentOffset, o.messageLogStartOffset, o.messageLogEndOffset, o.lag]),
            );
      io.stdout(`group ${details.group} on instance ${cmd.instanceId}: ${details.state}\n${members}\n\n${table}\n`);
    } catch (e) {
      return out.error(e, { group });
    }
  }
  return EXIT.done;
}

/** The process's terminal, when there is one on both ends. */
function processIo(): CliIo {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    interactive,
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`dms-offsets: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
