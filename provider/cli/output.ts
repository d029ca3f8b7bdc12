// What dms-offsets prints: text for a terminal, or with --json one JSON object per line (`type`: "log",
// "warning", "plan", "result", "error"), so that a script reads the plan before anything is sent and the
// outcome after. Every failure becomes one message and an exit status; after a reset was sent, the
// message carries the undo record.
import type { PartitionOffset } from "../dms/client";
import { ConfigurationError, DmsError, DmsUnreachableError } from "../dms/errors";
import { ForwardMoveRefusedError, GroupNotInactiveError, PartialResetError, ResetNotConfirmedError, ResetOutcomeUnknownError, ResetSentError } from "../rewind/errors";
import { formatOffsets, PlanError, type Plan } from "../rewind/plan";
import { beforeAfterText, planRows, planText } from "../rewind/report";
import { renderOffsets, type RewindResult } from "../rewind/rewind";
import { UsageError } from "./args";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Both stdin and stdout are a terminal: a person can be asked. */
  interactive?: boolean;
  /** Asks a yes/no question on the terminal. */
  confirm?(question: string): Promise<boolean>;
}

/** Exit statuses, as --help and the README document them. */
export const EXIT = { done: 0, failed: 1, usage: 2, unconfirmed: 3, declined: 4 } as const;

/** The user chose not to apply (declined, or no --yes without a terminal). Nothing was sent. */
export class NotAppliedByChoice extends Error {
  override readonly name = "NotAppliedByChoice";
}

export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  log(message: string): void {
    if (this.json) this.line({ type: "log", message });
    else this.io.stdout(`${message}\n`);
  }

  warn(message: string): void {
    if (this.json) this.line({ type: "warning", message });
    else this.io.stderr(`dms-offsets: warning: ${message}\n`);
  }

  plan(plan: Plan, files: { saveBefore?: string; export?: string }): void {
    if (this.json) {
      this.line({
        type: "plan",
        group: plan.group,
        instanceId: plan.instanceId,
        partitions: planRows(plan),
        requests: plan.calls.length,
        undo: undoEntries(plan.before),
        ...(files.saveBefore !== undefined && { savedBefore: files.saveBefore }),
        ...(files.export !== undefined && { exported: files.export }),
      });
      return;
    }
    const lines = [planText(plan, plan.instanceId), `undo record (the offsets before): ${formatOffsets(plan.before)}`];
    if (files.saveBefore !== undefined) lines.push(`undo record saved to ${files.saveBefore}`);
    if (files.export !== undefined) lines.push(`plan exported to ${files.export}`);
    this.io.stdout(`${lines.join("\n")}\n`);
  }

  result(result: RewindResult, undoCommand: string): void {
    const { plan } = result;
    if (this.json) {
      this.line({
        type: "result",
        group: plan.group,
        instanceId: plan.instanceId,
        requestId: result.requestId,
        resetAt: result.resetAt,
        requests: result.calls.map((c) => ({ requestId: c.requestId, confirmedBy: c.confirmedBy })),
        ...(result.taskId !== undefined && { taskId: result.taskId }),
        previousOffsets: renderOffsets(result.previousOffsets),
        appliedOffsets: renderOffsets(result.appliedOffsets),
        undoCommand,
      });
      return;
    }
    this.io.stdout(
      `offsets of group ${plan.group} before and after the reset at ${result.resetAt}:\n${beforeAfterText(result.previousOffsets, result.appliedOffsets)}\n` +
        `to undo: ${undoCommand}\n`,
    );
  }

  /** Reports a failure; returns the exit status. */
  error(e: unknown, context: { group?: string; applied?: string[] } = {}): number {
    const { code, exit } = classify(e);
    const message = e instanceof Error ? e.message : String(e);
    const partly = context.applied !== undefined && context.applied.length > 0;
    const exitStatus = partly && exit !== EXIT.usage ? EXIT.unconfirmed : exit;
    const prefix = partly ? `group${context.applied!.length === 1 ? "" : "s"} ${context.applied!.join(", ")} applied; then ` : "";
    if (this.json) {
      this.line({
        type: "error",
        code,
        message: `${prefix}${message}`,
        exitStatus,
        ...(context.group !== undefined && { group: context.group }),
        ...(context.applied !== undefined && context.applied.length > 0 && { appliedGroups: context.applied }),
        ...(e instanceof DmsError && { status: e.status, errorCode: e.errorCode, requestId: e.requestId ?? null }),
        ...(e instanceof ResetNotConfirmedError && { requestId: e.requestId }),
        // Applied in part because DMS refused a later call: that refusal's request id, for DMS support.
        ...(e instanceof PartialResetError && e.cause instanceof DmsError && { requestId: e.cause.requestId ?? null, status: e.cause.status, errorCode: e.cause.errorCode }),
        ...(e instanceof ResetSentError && { undo: undoEntries(e.undo), appliedRequests: e.applied, ...(e.offsetsNow && { offsetsNow: renderOffsets(e.offsetsNow) }) }),
        ...(e instanceof GroupNotInactiveError && { state: e.state, members: e.members }),
      });
    } else {
      for (const line of `${prefix}${message}`.split("\n")) this.io.stderr(`dms-offsets: ${line}\n`);
    }
    return exitStatus;
  }

  private line(value: Record<string, unknown>): void {
    this.io.stdout(`${JSON.stringify(value)}\n`);
  }
}

/** The undo record as kafka-consumer-groups' CSV holds it: topic, partition, offset. */
function undoEntries(before: readonly PartitionOffset[]): { topic: string; partition: number; offset: string }[] {
  return before.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.messageCurrentOffset.toString() }));
}

function classify(e: unknown): { code: string; exit: number } {
  if (e instanceof UsageError || e instanceof ConfigurationError) return { code: "usage", exit: EXIT.usage };
  if (e instanceof NotAppliedByChoice) return { code: "not-confirmed-by-user", exit: EXIT.declined };
  if (e instanceof ForwardMoveRefusedError) return { code: "forward-move-refused", exit: EXIT.declined };
  if (e instanceof ResetOutcomeUnknownError) return { code: "outcome-unknown", exit: EXIT.unconfirmed };
  if (e instanceof ResetNotConfirmedError) return { code: "applied-not-confirmed", exit: EXIT.unconfirmed };
  if (e instanceof ResetSentError) return { code: "applied-in-part", exit: EXIT.unconfirmed };
  if (e instanceof GroupNotInactiveError) return { code: "group-not-inactive", exit: EXIT.failed };
  if (e instanceof PlanError) return { code: "plan-impossible", exit: EXIT.failed };
  if (e instanceof DmsError) return { code: "dms-refused", exit: EXIT.failed };
  if (e instanceof DmsUnreachableError) return { code: "dms-unreachable", exit: EXIT.failed };
  return { code: "failed", exit: EXIT.failed };
}
