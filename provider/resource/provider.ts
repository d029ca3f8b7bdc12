// The OffsetReset provider as Pulumi's dynamic-provider host runs it. It is loaded by package name from the
// thin provider in sdk/provider.ts, so it may hold anything (schemas, clients, configuration): none of it is
// ever serialized into the stack. Existing stacks require this file by its path: it stays here.
import type * as pulumi from "@pulumi/pulumi";
import { checkWithPlan } from "./check-plan";
import { settingsFromConfig, type StackSettings } from "./connection";
import { diffInputs } from "./diff";
import { operationLog } from "./host-log";
import { createRewind, deleteNotice, readOffsets, updateRewind, type ProviderContext } from "./lifecycle";
import type { CheckedInputs, Outputs } from "./properties";

/** Stack configuration, set by `configure` (the host calls it once per process, before any other method). */
let stack: StackSettings = {};

/** Runs one operation with its context; its messages reach the engine before it answers. */
async function withContext<T>(operation: (ctx: ProviderContext) => Promise<T>): Promise<T> {
  const { flush, log } = operationLog();
  try {
    return await operation({ env: process.env, stack, log });
  } finally {
    await flush();
  }
}

// The host passes property bags as plain JSON objects. `news` of diff/update/create are what `check`
// returned and `olds`/`props` what create/update/read returned, hence the casts below.
type Props = Record<string, unknown>;

export const offsetResetProvider: Required<pulumi.dynamic.ResourceProvider<Props, Props>> = {
  async configure(req) {
    stack = settingsFromConfig(req.config);
  },

  async check(olds, news) {
    // The dynamic-provider host never says whether this is a preview; the SDK does (`__preview`).
    const { __preview: preview, ...inputs } = news;
    return withContext((ctx) => checkWithPlan(olds, inputs, preview !== false, ctx));
  },

  async diff(_id, olds, news) {
    const { changes, replaces } = diffInputs(olds, news);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const { id, outs } = await withContext((ctx) => createRewind(inputs as CheckedInputs, ctx));
    return { id, outs: outs as unknown as Props };
  },

  async update(id, olds, news) {
    const { triggersChanged } = diffInputs(olds, news);
    const { outs } = await withContext((ctx) => updateRewind(olds as unknown as Outputs, news as CheckedInputs, triggersChanged, id, ctx));
    return { outs: outs as unknown as Props };
  },

  async read(id, props) {
    const { __provider: _serialized, ...state } = props ?? {};
    const live = await withContext((ctx) => readOffsets(state as unknown as Outputs, ctx));
    return { id, props: live as unknown as Props };
  },

  async delete(_id, props) {
    await withContext(async (ctx) => ctx.log.info(deleteNotice(props as unknown as Outputs)));
  },
};
