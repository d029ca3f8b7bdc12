// The OffsetReset resource's properties as Pulumi stores them: what `check` hands the engine (normalised
// inputs) and what create/update/read return (outputs). Everything here must survive Pulumi's property
// encoding, so offsets are decimal strings and timestamps epoch-millisecond numbers, never bigints.
import { runtime } from "@pulumi/pulumi";
import type { RenderedOffset } from "../rewind/rewind";

/** How Pulumi hands a dynamic provider a value that is not known yet (during preview). */
export const UNKNOWN: string = runtime.unknownValue;

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

/** Inputs after `check`: validated and normalised. Credentials are present only when the program set them. */
export interface CheckedInputs {
  projectId: string;
  instanceId: string;
  group: string;
  topic?: string;
  partition: number;
  messageOffset?: string;
  timestamp?: number;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  securityToken?: string;
  legacyApi: boolean;
  waitForInactiveGroupSeconds: number;
  triggers?: unknown;
  customTimeouts?: ForwardedTimeouts;
}

/** The credential inputs: secrets, never copied to outputs. */
export const CREDENTIAL_KEYS = ["accessKey", "secretKey", "securityToken"] as const;

/** Inputs that name the rewind itself: changing any of them is a different rewind, so a replacement. */
export const REPLACE_KEYS = [
  "projectId",
  "instanceId",
  "group",
  "topic",
  "partition",
  "messageOffset",
  "timestamp",
  "legacyApi",
] as const;

/** What a rewind produced, as stored in outputs. */
export interface RewindOutputs {
  resetAt: string;
  requestId: string;
  previousOffsets: PartitionOffsetState[];
  appliedOffsets: PartitionOffsetState[];
  taskId?: string;
  currentOffsets: PartitionOffsetState[];
}

/** Outputs: the non-secret normalised inputs plus what the rewind produced. */
export type Outputs = Omit<CheckedInputs, (typeof CREDENTIAL_KEYS)[number]> & RewindOutputs;

/** The normalised inputs without credentials and without keys whose value is undefined (Pulumi's Struct refuses undefined). */
export function publicInputs(inputs: CheckedInputs): Omit<CheckedInputs, (typeof CREDENTIAL_KEYS)[number]> {
  const { accessKey: _a, secretKey: _s, securityToken: _t, ...rest } = inputs;
  return withoutUndefined(rest);
}

/** A copy of `value` without the keys whose value is undefined. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
