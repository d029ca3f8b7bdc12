// A plan and a rewind's offsets in the forms people and programs read: a JSON-safe row per partition
// (int64s as decimal strings) for --json and Pulumi state, a text table for terminals and the Pulumi log,
// and kafka-consumer-groups' CSV (`topic,partition,offset`) for --export, --from-file and the undo record.
import type { PartitionOffset } from "../dms/client";
import { describeMove, describeScope, describeTarget, type Plan } from "./plan";
import { renderTable } from "./table";
import type { PartitionOffsetTarget } from "./target";

/** One partition of a plan, JSON-safe. */
export interface PlanRow {
  topic: string;
  partition: number;
  /** The group's committed offset now; null where it has none. */
  current: string | null;
  /** Where the group will be, after DMS's clamping. */
  target: string;
  logStart: string;
  logEnd: string;
  /** "re-reads N", "SKIPS N", "unchanged" or "no committed offset yet". */
  move: string;
  forward: boolean;
  clamped: boolean;
  unchanged: boolean;
}

export function planRows(plan: Plan): PlanRow[] {
  return plan.partitions.map((p) => ({
    topic: p.topic,
    partition: p.partition,
    current: p.current === undefined ? null : p.current.toString(),
    target: p.target.toString(),
    logStart: p.logStart.toString(),
    logEnd: p.logEnd.toString(),
    move: describeMove(p),
    forward: p.forward,
    clamped: p.clamped,
    unchanged: p.unchanged,
  }));
}

/** The plan as a headline and a table, as a terminal or the Pulumi log shows it. */
export function planText(plan: Plan, instanceId: string): string {
  const rows = plan.partitions.map((p) => [
    p.topic,
    p.partition,
    p.current ?? "-",
    p.target,
    p.logStart,
    p.logEnd,
    describeMove(p),
    [p.forward && "FORWARD", p.clamped && "clamped"].filter(Boolean).join(",") || "-",
  ]);
  const sends = plan.calls.length === 0 ? "nothing to send" : `${plan.calls.length} reset request${plan.calls.length === 1 ? "" : "s"}`;
  return [
    `plan for group ${plan.group} on instance ${instanceId}: to ${describeTarget(plan.target)} ${describeScope(plan.scope)} (${sends})`,
    renderTable(["TOPIC", "PARTITION", "COMMITTED", "TARGET", "LOG-START", "LOG-END", "MOVE", "FLAGS"], rows),
  ].join("\n");
}

/** Offsets before and after a reset, side by side. */
export function beforeAfterText(before: readonly PartitionOffset[], after: readonly PartitionOffset[]): string {
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

/** kafka-consumer-groups' export format: one `topic,partition,offset` line per partition, no header. */
export function toCsv(offsets: readonly PartitionOffsetTarget[]): string {
  return offsets.map((o) => `${o.topic},${o.partition},${o.offset}\n`).join("");
}

/** The plan's targets as CSV: what --export writes and --from-file applies exactly. */
export function planCsv(plan: Plan): string {
  return toCsv(plan.partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.target })));
}

/** The offsets before, as CSV: applying this file with --from-file undoes the rewind. */
export function undoCsv(before: readonly PartitionOffset[]): string {
  return toCsv(before.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.messageCurrentOffset })));
}

/**
 * Reads `topic,partition,offset` lines (kafka-consumer-groups' --export; a header line and blank lines are
 * skipped). Returns the entries as written, or the first problem with its line number.
 */
export function parseCsv(text: string): { offsets: { topic: string; partition: number; offset: string }[] } | { problem: string } {
  const offsets: { topic: string; partition: number; offset: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || (i === 0 && /^topic\s*,\s*partition\s*,/i.test(line))) continue;
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length !== 3) return { problem: `line ${i + 1}: expected topic,partition,offset, got ${JSON.stringify(raw)}` };
    const [topic, partition, offset] = cells as [string, string, string];
    if (!/^\d+$/.test(partition)) return { problem: `line ${i + 1}: partition ${JSON.stringify(partition)} is not a partition number` };
    if (!/^\d+$/.test(offset)) return { problem: `line ${i + 1}: offset ${JSON.stringify(offset)} is not a whole number >= 0` };
    offsets.push({ topic, partition: Number(partition), offset });
  }
  if (offsets.length === 0) return { problem: "the file lists no partition" };
  return { offsets };
}
