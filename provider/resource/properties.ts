// The OffsetReset resource's properties as Pulumi stores them: what `check` hands the engine (normalised
// inputs) and what create/update/read return (outputs). Everything here must survive Pulumi's property
// encoding, so offsets are decimal strings and timestamps epoch-millisecond numbers, never bigints.
// The rpc module alone, not the package's index: the provider plugin starts in a fraction of the time.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { PlanRow } from "../rewind/report";
import type { RenderedOffset } from "../rewind/rewind";
import { SECRET_KEYS, type InputKey } from "./inputs";

/** How Pulumi hands a dynamic provider a value that is not known yet (during preview). */
export const UNKNOWN: string = unknownValue;

/** True for a value Pulumi does not know yet, anywhere inside arrays and objects. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** A partition's offsets of the group, JSON-safe (int64 as decimal strings). */
export type PartitionOffsetState = RenderedOffset;

/** `customTimeouts` resource options that the SDK forwards, since the dynamic-provider host does not. */
export interface ForwardedTimeouts {
  create?: string;
  update?: string;
}

/** What preview shows of the rewind a create, replacement or trigger will run: its plan, or why it is unknown. */
export type PlanState = { partitions: PlanRow[] } | { unknown: string };

/**
 * Inputs after `check`: validated, normalised, in their stored forms (inputs.ts). Credentials are present
 * only when the program set them; `plan` is written by check, `__provider` by the dynamic resource.
 */
export type CheckedInputs = { [K in InputKey]?: unknown } & {
  projectId: string;
  instanceId: string;
  group: string;
  waitForInactiveGroupSeconds?: number;
  forbidForward?: boolean;
  legacyApi?: boolean;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  securityToken?: string;
  customTimeouts?: ForwardedTimeouts;
  plan?: PlanState;
  __provider?: string;
};

/**
 * How the last rewind ended: "applied" (DMS answered), "applied-read-back" (its answer was lost and the
 * group's offsets showed it applied), "nothing-to-send" (the group was at the target), or, recorded with
 * the error of a failed create or update, "not-confirmed", "unknown" or "partial".
 */
export type Outcome = "applied" | "applied-read-back" | "nothing-to-send" | "not-confirmed" | "unknown" | "partial";

/** What a rewind produced, as stored in outputs. */
export interface RewindOutputs {
  resetAt: string;
  requestId: string;
  outcome: Outcome;
  previousOffsets: PartitionOffsetState[];
  appliedOffsets: PartitionOffsetState[];
  taskId?: string;
  currentOffsets: PartitionOffsetState[];
  plan?: PlanState;
}

/** Outputs: the non-secret normalised inputs plus what the rewind produced. */
export type Outputs = Omit<CheckedInputs, "accessKey" | "secretKey" | "securityToken" | "__provider"> & RewindOutputs;

/** The normalised inputs without credentials and without keys whose value is undefined (Pulumi's Struct refuses undefined). */
export function publicInputs(inputs: CheckedInputs): Omit<CheckedInputs, "accessKey" | "secretKey" | "securityToken"> {
  return withoutUndefined(Object.fromEntries(Object.entries(inputs).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)))) as Omit<CheckedInputs, "accessKey" | "secretKey" | "securityToken">;
}

/** A copy of `value` without the keys whose value is undefined. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
