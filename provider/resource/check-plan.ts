// Check, and the plan a preview shows. When the inputs declare a rewind that will run — a new resource, a
// replacement, changed triggers — and the program is previewing, the plan is read from DMS and put in the
// inputs (and logged), so that `pulumi preview` shows every partition's move before anything is sent. When
// nothing will rewind, no request is sent and the plan recorded last time is carried over, so that the
// inputs, and with them the diff, do not change.
import { checkInputs, type CheckOutcome } from "./check";
import { diffInputs, stableJson } from "./diff";
import { INPUTS, REPLACE_KEYS } from "./inputs";
import { previewPlan, type ProviderContext } from "./lifecycle";
import { containsUnknown, type CheckedInputs, type PlanState } from "./properties";

/**
 * Plans this process already read, by the inputs they were read for. The engine checks a replacement's
 * inputs more than once in one preview; the plan is read (and logged) once. The dynamic-provider host lives
 * for one operation, so a plan never outlives it.
 */
const planned = new Map<string, Promise<PlanState>>();

/** Whether applying `news` over `olds` (a resource's old inputs; empty for a new one) runs a rewind. */
export function rewinds(olds: Record<string, unknown>, news: Record<string, unknown>): boolean {
  if (Object.keys(olds).length === 0) return true;
  const { replaces, triggersChanged } = diffInputs(olds, news);
  return replaces.length > 0 || triggersChanged;
}

/** `preview`: the program is previewing (or cannot say); during `up`, create plans for itself. */
export async function checkWithPlan(olds: Record<string, unknown>, news: Record<string, unknown>, preview: boolean, ctx: ProviderContext): Promise<CheckOutcome> {
  const outcome = checkInputs(news, ctx.env, ctx.stack);
  if (outcome.failures.length > 0) return outcome;
  const inputs = outcome.inputs;
  if (!rewinds(olds, inputs)) {
    if (olds.plan !== undefined) inputs.plan = olds.plan;
    return outcome;
  }
  if (!preview) return outcome;
  const pending = Object.keys(INPUTS).filter((k) => (REPLACE_KEYS as string[]).includes(k) || k === "endpoint" || k === "region").filter((k) => containsUnknown(inputs[k]));
  if (pending.length > 0) {
    inputs.plan = { unknown: `plan unknown until ${pending.join(", ")} ${pending.length === 1 ? "is" : "are"} known` };
    return outcome;
  }
  const key = stableJson(inputs);
  let reading = planned.get(key);
  if (reading === undefined) {
    reading = previewPlan(inputs as CheckedInputs, ctx);
    planned.set(key, reading);
  }
  const plan = await reading;
  inputs.plan = plan;
  if (inputs.forbidForward === true && "partitions" in plan) {
    const forward = plan.partitions.filter((p) => p.forward).map((p) => `${p.topic}/${p.partition} ${p.current} → ${p.target}`);
    if (forward.length > 0) outcome.failures.push({ property: "forbidForward", reason: `the plan moves the group FORWARD (records skipped) on ${forward.join(", ")}, which forbidForward refuses` });
  }
  return outcome;
}
