// The OffsetReset provider as Pulumi's dynamic-provider host runs it. It is loaded by package name from the
// thin provider in sdk/provider.ts, so it may hold anything (schemas, clients, configuration): none of it is
// ever serialized into the stack. Existing stacks require this file by its path: it stays here.
import * as pulumi from "@pulumi/pulumi";
import { checkWithPlan } from "./check-plan";
import { settingsFromConfig, type StackSettings } from "./connection";
import { diffInputs } from "./diff";
import { createRewind, deleteNotice, readOffsets, updateRewind, type ProviderContext } from "./lifecycle";
import type { CheckedInputs, Outputs } from "./properties";

/** Stack configuration, set by `configure` (the host calls it once per process, before any other method). */
let stack: StackSettings = {};

function context(): ProviderContext {
  return {
    env: process.env,
    stack,
    log: {
      info: (message) => void pulumi.log.info(message),
      warn: (message) => void pulumi.log.warn(message),
    },
  };
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
    return checkWithPlan(olds, inputs, preview !== false, context());
  },

  async diff(_id, olds, news) {
    const { changes, replaces } = diffInputs(olds, news);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const { id, outs } = await createRewind(inputs as CheckedInputs, context());
    return { id, outs: outs as unknown as Props };
  },

  async update(id, olds, news) {
    const { triggersChanged } = diffInputs(olds, news);
    const { outs } = await updateRewind(olds as unknown as Outputs, news as CheckedInputs, triggersChanged, id, context());
    return { outs: outs as unknown as Props };
  },

  async read(id, props) {
    const { __provider: _serialized, ...state } = props ?? {};
    const live = await readOffsets(state as unknown as Outputs, context());
    return { id, props: live as unknown as Props };
  },

  async delete(_id, props) {
    await pulumi.log.info(deleteNotice(props as unknown as Outputs));
  },
};
