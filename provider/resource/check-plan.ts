// Check, and the plan a preview shows. When the inputs declare a rewind that will run — a new resource, a
// replacement, changed triggers — and the program is previewing, the plan is read from DMS and put in the
// inputs (and logged), so that `pulumi preview` shows every partition's move before anything is sent. When
// nothing will rewind, no request is sent and the plan recorded last time is carried over, so that the
// inputs, and with them the diff, do not change.
import { checkInputs, type CheckOutcome } from "./check";
import { diffInputs, stableJson } from "./diff";
import { planForPreview, previewPlan, type ProviderContext } from "./lifecycle";
import type { CheckedInputs, PlanState } from "./properties";

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
  const { plan, refusal } = await planForPreview(inputs as CheckedInputs, ctx, (i, c) => {
    // Read once per set of inputs: the engine checks a replacement more than once in one preview.
    const key = stableJson(i);
    let reading = planned.get(key);
    if (reading === undefined) {
      reading = previewPlan(i, c);
      planned.set(key, reading);
    }
    return reading;
  });
  inputs.plan = plan;
  if (refusal !== undefined) outcome.failures.push({ property: "forbidForward", reason: refusal });
  return outcome;
}
