// The resource's lifecycle (provider/resource/lifecycle.ts and check-plan.ts), as both front doors call
// it, against dms-local: what each operation sends to DMS (counted in dms-local's request log and its
// application counter), what it logs, and what it records — a preview's plan, a create's outcome, the
// state a create that failed after sending leaves, a refresh's drift.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkWithPlan } from "../../provider/resource/check-plan";
import { hostEngineAddress } from "../../provider/resource/host-log";
import type { StackSettings } from "../../provider/resource/connection";
import { CONFIG_KEYS } from "../../provider/resource/connection";
import { createRewind, deleteNotice, previewPlan, readOffsets, ResourceInitError, updateRewind, type ProviderContext } from "../../provider/resource/lifecycle";
import { UNKNOWN, type CheckedInputs, type Outputs } from "../../provider/resource/properties";
import { offsetResetProvider as provider } from "../../provider/resource/provider";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { fakeDmsHandler } from "../client/fake-dms";
import { startFakeServer } from "../client/fake-server";
import { closedPort } from "../support/processes";

const seed = parseSeed(readFileSync(path.resolve(__dirname, "../../dms-local/seed.default.json"), "utf8"));
const demo = seed.credentials[0] as { ak: string; sk: string };
const projectId = seed.projectId;
const instanceId = (seed.instances[0] as { id: string }).id;
const INCIDENT = "2023-11-15T06:00:00Z"; // record 28000 of every partition in the default seed
const LATER = "2023-11-15T07:00:00Z"; // record 31600

let dms: DmsLocal;

beforeEach(async () => {
  dms = await startDmsLocal({ seed, port: 0, admin: true, taskDelayMs: 100 });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await dms.close();
});

// ---------------------------------------------------------------------------------------------------------
// What reached dms-local.

interface Logged { method: string; path: string; query: Record<string, string>; body: string | null; credential: number | null }
async function requests(): Promise<Logged[]> {
  return ((await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: Logged[] }).requests;
}
const writes = async () => (await requests()).filter((r) => r.method !== "GET");
const resets = async () => (await requests()).filter((r) => r.path.endsWith("/reset-message-offset"));
/** Each request as "METHOD last-path-segment". */
const shapes = async () => (await requests()).map((r) => `${r.method} ${r.path.split("/").pop()}`);
async function clearLog(): Promise<void> {
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
}
/** Arms a dms-local fault (see dms-local/README.md, Admin API). */
async function fault(rule: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${dms.url}/__admin/faults`, { method: "POST", body: JSON.stringify(rule) });
  expect(res.status).toBe(201);
}
async function pendingFaults(): Promise<unknown[]> {
  return ((await (await fetch(`${dms.url}/__admin/faults`)).json()) as { faults: unknown[] }).faults;
}
/** Resolves once dms-local has logged a request that `matches`: the provider has reached that step. */
async function untilRequest(matches: (r: Logged) => boolean): Promise<void> {
  while (!(await requests()).some(matches)) await new Promise((resolve) => setTimeout(resolve, 20));
}
const committed = async (group: string) => Object.fromEntries((await dms.world.committedOffsets(instanceId, group)).map((o) => [`${o.topic}/${o.partition}`, o.offset.toString()]));

// ---------------------------------------------------------------------------------------------------------
// The provider's context and inputs.

interface Captured extends ProviderContext {
  infos: string[];
  warnings: string[];
  /** Both, in order, each prefixed with its level. */
  lines: string[];
}

function context(stack: StackSettings = {}, env: NodeJS.ProcessEnv = {}): Captured {
  const infos: string[] = [];
  const warnings: string[] = [];
  const lines: string[] = [];
  return {
    env,
    stack,
    infos,
    warnings,
    lines,
    log: {
      info: (m) => void (infos.push(m), lines.push(`info: ${m}`)),
      warn: (m) => void (warnings.push(m), lines.push(`warn: ${m}`)),
    },
  };
}

const declared = (): Record<string, unknown> => ({
  endpoint: dms.url,
  projectId,
  instanceId,
  group: "billing",
  topic: "payments",
  timestamp: INCIDENT,
  accessKey: demo.ak,
  secretKey: demo.sk,
});

/** check as `pulumi up` calls it for a new resource (no preview: create plans for itself). */
async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}, preview = false, ctx: ProviderContext = context()): Promise<CheckedInputs> {
  const { inputs, failures } = await checkWithPlan(olds, news, preview, ctx);
  expect(failures).toEqual([]);
  return inputs as CheckedInputs;
}

const PLAN_AT_INCIDENT = [
  { topic: "payments", partition: 0, current: "47990", target: "28000", logStart: "0", logEnd: "48000", move: "re-reads 19990", forward: false, clamped: false, unchanged: false },
  { topic: "payments", partition: 1, current: "47950", target: "28000", logStart: "200", logEnd: "47950", move: "re-reads 19950", forward: false, clamped: false, unchanged: false },
];

const offsetsOf = (rows: unknown) => (rows as { topic: string; partition: number; messageCurrentOffset: string }[]).map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`);

// ---------------------------------------------------------------------------------------------------------

describe("checkWithPlan: a preview shows the plan of a rewind that will run, and nothing else reads DMS", () => {
  test("a new resource, previewed: the plan is read by reads only, logged as a table, and stored as the plan input", async () => {
    const ctx = context();
    const inputs = await checked(declared(), {}, true, ctx);
    expect(inputs.plan).toEqual({ partitions: PLAN_AT_INCIDENT });
    expect(await shapes()).toEqual(["GET payments", "GET message-offset", "GET messages", "GET messages"]);
    expect(ctx.infos.join("\n")).toMatch(/OffsetReset of group billing: plan for group billing on instance 8f2d6c1e-.*: to the first record at or after 2023-11-15T06:00:00\.000Z \(1700028000000\) on payments \(1 reset request\)/);
    expect(ctx.infos.join("\n")).toMatch(/payments\s+0\s+47990\s+28000\s+0\s+48000\s+re-reads 19990/);
    expect(ctx.warnings).toEqual([]);
  });

  test("a new resource during `up` (not a preview): no request; create plans for itself", async () => {
    const inputs = await checked(declared(), {}, false);
    expect(inputs).not.toHaveProperty("plan");
    expect(await requests()).toEqual([]);
  });

  test("nothing will rewind (no change, or only settings that send nothing): no request, the old plan carried over", async () => {
    const olds = await checked(declared(), {}, true);
    await clearLog();
    const same = await checked(declared(), olds, true);
    expect(same.plan).toEqual(olds.plan);
    const settings = await checked({ ...declared(), endpoint: `${dms.url}/`, waitForInactiveGroupSeconds: 30, forbidForward: true, accessKey: undefined, secretKey: undefined }, olds, true, context({ accessKey: demo.ak, secretKey: demo.sk }));
    expect(settings.plan).toEqual(olds.plan);
    // A resource created by `up` alone has no plan input: none appears.
    const { plan: _plan, ...withoutPlan } = olds;
    expect(await checked(declared(), withoutPlan, true)).not.toHaveProperty("plan");
    expect(await requests()).toEqual([]);
  });

  test("a replacement, and new triggers, read the plan again", async () => {
    const olds = await checked(declared());
    const replaced = await checked({ ...declared(), timestamp: LATER }, olds, true);
    expect((replaced.plan as { partitions: { target: string }[] }).partitions.map((p) => p.target)).toEqual(["31600", "31600"]);
    await clearLog();
    const retriggered = await checked({ ...declared(), triggers: { run: 2 } }, olds, true);
    expect(retriggered.plan).toEqual({ partitions: PLAN_AT_INCIDENT });
    expect(await shapes()).toEqual(["GET payments", "GET message-offset", "GET messages", "GET messages"]);
  });

  test("the engine checks a replacement twice, the second time without the old inputs: the plan is read and logged once", async () => {
    const olds = await checked(declared());
    const ctx = context();
    const first = await checked({ ...declared(), timestamp: LATER }, olds, true, ctx);
    await clearLog();
    const second = await checked({ ...declared(), timestamp: LATER }, {}, true, ctx);
    expect(second.plan).toEqual(first.plan);
    expect(await requests()).toEqual([]);
    expect(ctx.infos.filter((m) => m.includes("plan for group billing"))).toHaveLength(1);
  });

  test("values not known yet: the plan is unknown, saying which, and nothing is sent", async () => {
    const ctx = context();
    const group = await checked({ ...declared(), group: UNKNOWN }, {}, true, ctx);
    expect(group.plan).toEqual({ unknown: "plan unknown until group is known" });
    const two = await checked({ ...declared(), group: UNKNOWN, timestamp: UNKNOWN }, {}, true, ctx);
    expect(two.plan).toEqual({ unknown: "plan unknown until group, timestamp are known" });
    const where = await checked({ ...declared(), endpoint: UNKNOWN }, {}, true, ctx);
    expect(where.plan).toEqual({ unknown: "plan unknown until endpoint is known" });
    expect(await requests()).toEqual([]);
  });

  test("DMS unreachable: the preview's check still succeeds, the plan is unknown, and a warning says why", async () => {
    const ctx = context();
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { inputs, failures } = await checkWithPlan({}, { ...declared(), endpoint }, true, ctx);
    expect(failures).toEqual([]);
    expect(inputs.plan).toEqual({ unknown: expect.stringMatching(/^plan unknown: DMS could not be read: /) });
    expect(ctx.warnings).toEqual([`OffsetReset of group billing: ${(inputs.plan as { unknown: string }).unknown}`]);
  }, 60_000);

  test("a forward move is a warning; with forbidForward the preview's check fails naming the moves; nothing is written", async () => {
    await dms.world.commitOffsets(instanceId, "billing", [
      { topic: "payments", partition: 0, offset: 1000n },
      { topic: "payments", partition: 1, offset: 1200n },
    ]);
    const ctx = context();
    const allowed = await checked(declared(), {}, true, ctx);
    expect((allowed.plan as { partitions: { forward: boolean }[] }).partitions.map((p) => p.forward)).toEqual([true, true]);
    expect(ctx.warnings).toEqual([
      "OffsetReset of group billing: payments/0 moves FORWARD 1000 → 28000: 27000 records will be skipped",
      "OffsetReset of group billing: payments/1 moves FORWARD 1200 → 28000: 26800 records will be skipped",
    ]);
    const { failures } = await checkWithPlan({}, { ...declared(), forbidForward: true }, true, context());
    expect(failures).toEqual([
      { property: "forbidForward", reason: "the plan moves the group FORWARD (records skipped) on payments/0 1000 → 28000, payments/1 1200 → 28000, which forbidForward refuses" },
    ]);
    expect(await writes()).toEqual([]);
  });

  test("previewPlan alone: without credentials anywhere the plan is unknown and says why, nothing sent", async () => {
    const ctx = context();
    const inputs = await checked(declared());
    const { accessKey: _a, secretKey: _s, ...anonymous } = inputs;
    const plan = await previewPlan(anonymous as CheckedInputs, ctx);
    expect(plan).toEqual({ unknown: expect.stringMatching(/^plan unknown: .*no DMS credentials/) });
    expect(ctx.warnings).toHaveLength(1);
    expect(await requests()).toEqual([]);
  });

  test("the dynamic provider's check consumes the SDK's __preview: false plans nothing, true plans", async () => {
    jest.spyOn(console, "log").mockImplementation(() => undefined);
    await provider.configure({ config: { get: () => undefined, require: () => { throw new Error("unset"); } } });
    const up = await provider.check({}, { ...declared(), __preview: false });
    expect(up.failures).toEqual([]);
    expect(up.inputs).not.toHaveProperty("__preview");
    expect(up.inputs).not.toHaveProperty("plan");
    expect(await requests()).toEqual([]);
    const preview = await provider.check({}, { ...declared(), __preview: true });
    expect(preview.inputs).not.toHaveProperty("__preview");
    expect(preview.inputs?.plan).toEqual({ partitions: PLAN_AT_INCIDENT });
    expect(await writes()).toEqual([]);
  });
});

describe("createRewind", () => {
  test("sends exactly one reset, logs the plan before sending it, and records the outcome, the plan and the offsets before and after", async () => {
    const ctx = context();
    const inputs = await checked(declared());
    const { id, outs } = await createRewind(inputs, ctx);
    expect(await shapes()).toEqual(["GET billing", "GET payments", "GET message-offset", "GET messages", "GET messages", "PUT reset-message-offset", "GET message-offset"]);
    expect(id).toBe(outs.requestId);
    expect(outs).toMatchObject({
      group: "billing",
      topic: "payments",
      partition: -1,
      timestamp: Date.parse(INCIDENT),
      endpoint: dms.url,
      outcome: "applied",
      plan: { partitions: PLAN_AT_INCIDENT },
      previousOffsets: [
        { topic: "payments", partition: 0, messageCurrentOffset: "47990", messageLogEndOffset: "48000" },
        { topic: "payments", partition: 1, messageCurrentOffset: "47950" },
      ],
      appliedOffsets: [
        { topic: "payments", partition: 0, messageCurrentOffset: "28000", lag: "20000" },
        { topic: "payments", partition: 1, messageCurrentOffset: "28000" },
      ],
    });
    expect(outs.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(outs.currentOffsets).toEqual(outs.appliedOffsets);
    expect(Date.parse(outs.resetAt)).toBeGreaterThan(Date.now() - 60_000);
    // The plan, then DMS's answer, then the outcome with the undo record.
    const planAt = ctx.lines.findIndex((l) => l.startsWith("info: OffsetReset of group billing: plan for group billing"));
    const appliedAt = ctx.lines.findIndex((l) => l.startsWith("info: OffsetReset of group billing: DMS applied"));
    expect(planAt).toBeGreaterThanOrEqual(0);
    expect(appliedAt).toBeGreaterThan(planAt);
    expect(ctx.lines.at(-1)).toBe("info: OffsetReset of group billing: done (applied); offsets before, to undo: payments/0=47990, payments/1=47950");
    // Credentials never become outputs.
    const text = JSON.stringify(outs);
    expect(text).not.toContain(demo.ak);
    expect(text).not.toContain(demo.sk);
    expect(outs).not.toHaveProperty("accessKey");
  });

  test("the creates of one host process share one keep-alive connection to their endpoint", async () => {
    const server = await startFakeServer(fakeDmsHandler({ states: ["EMPTY"], members: [], offsets: new Map([["payments", [10n, 20n]]]), tasks: [] }));
    try {
      // The fake holds one group's offsets: each create moves them somewhere new, so that each sends its reset.
      const createFor = async (group: string, messageOffset: number) => createRewind(await checked({ ...declared(), endpoint: server.url, group, timestamp: undefined, messageOffset }), context());
      await createFor("billing-a", 5);
      const opened = server.connections();
      for (const [i, group] of ["billing-b", "billing-c", "billing-d"].entries()) await createFor(group, 6 + i);
      expect(server.received.filter((r) => r.method === "PUT")).toHaveLength(4);
      // The later creates went over the connections the first one opened.
      expect(server.connections()).toBe(opened);
    } finally {
      await server.close();
    }
  });

  test("a busy group without a wait fails naming its state, its members, the wait setting and the session timeout; nothing is reset", async () => {
    const inputs = await checked({ ...declared(), group: "g-busy", topic: "orders" });
    const error = await createRewind(inputs, context()).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/consumer group "g-busy" is STABLE, not EMPTY; still connected: .*consumer-g-busy-1.*consumer-g-busy-2/);
    expect(error?.message).toMatch(/Nothing was sent\. Stop these consumers, then rewind with waitForInactiveGroupSeconds of at least the consumers' session\.timeout\.ms/);
    expect(error).not.toBeInstanceOf(ResourceInitError);
    expect(await resets()).toHaveLength(0);
    expect(dms.applications(instanceId, "g-busy").count).toBe(0);
  });

  test("with a wait, create prints progress while the group is busy and resets once the consumers have left", async () => {
    const ctx = context();
    const inputs = await checked({ ...declared(), group: "g-busy", topic: "orders", messageOffset: 5, timestamp: undefined, waitForInactiveGroupSeconds: 60 });
    const created = createRewind(inputs, ctx);
    // The consumers leave once the provider has looked at the group's members (its first progress line).
    await untilRequest((r) => r.path.endsWith("/management/groups/g-busy"));
    const stop = await fetch(`${dms.url}/__admin/instances/${instanceId}/groups/g-busy/stop-consumers`, { method: "POST", body: JSON.stringify({ afterMs: 0 }) });
    expect(stop.status).toBe(202);
    const { outs } = await created;
    expect(await resets()).toHaveLength(1);
    expect(offsetsOf(outs.appliedOffsets)).toEqual(["orders/0=5", "orders/1=1500", "orders/2=5"]);
    expect(ctx.infos.join("\n")).toMatch(
      /OffsetReset of group g-busy: waiting for group g-busy to empty: STABLE, 2 members still connected \(consumer-g-busy-1 on \/10\.0\.1\.21, consumer-g-busy-2 on \/10\.0\.1\.22\); \d+s left/,
    );
    expect(ctx.infos.join("\n")).toMatch(/OffsetReset of group g-busy: group g-busy is EMPTY after \d+s/);
  });

  test("a custom create timeout shorter than the wait bounds it, and so does the engine's timeout the plugin passes", async () => {
    const forwarded = await checked({ ...declared(), group: "g-busy", topic: "orders", waitForInactiveGroupSeconds: 600, customTimeouts: { create: "1s" } });
    const started = Date.now();
    await expect(createRewind(forwarded, context())).rejects.toThrow(/STABLE, not EMPTY after waiting 1s/);
    const engine = await checked({ ...declared(), group: "g-busy", topic: "orders", waitForInactiveGroupSeconds: 600 });
    await expect(createRewind(engine, context(), "1s")).rejects.toThrow(/STABLE, not EMPTY after waiting 1s/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await resets()).toHaveLength(0);
  });

  test("an all-topics reset waits for its own task and records its id", async () => {
    const { topic: _t, ...allTopics } = declared();
    const inputs = await checked({ ...allTopics, messageOffset: "0", timestamp: undefined });
    expect(inputs.partition).toBe(-1);
    const { outs } = await createRewind(inputs, context());
    expect(outs.taskId).toEqual(expect.any(String));
    expect(outs.outcome).toBe("applied");
    // Clamped to each partition's log start offset.
    expect(offsetsOf(outs.appliedOffsets)).toEqual(["orders/0=0", "orders/1=1500", "orders/2=0", "payments/0=0", "payments/1=200"]);
    expect(dms.applications(instanceId, "billing").count).toBe(1);
  });

  test("the group already at the target: nothing to send, outcome nothing-to-send", async () => {
    const ctx = context();
    const { topic: _t, ...noTopic } = declared();
    const inputs = await checked({ ...noTopic, timestamp: undefined, offsets: [{ topic: "payments", partition: 0, offset: "47990" }, { topic: "payments", partition: 1, offset: 47950 }] });
    const { outs } = await createRewind(inputs, ctx);
    expect(outs).toMatchObject({ outcome: "nothing-to-send", requestId: "" });
    expect(await writes()).toEqual([]);
    expect(ctx.infos.join("\n")).toMatch(/is already at 2 explicit partition offsets on payments:0,1: nothing to send/);
  });

  test("a lost answer that reading back settles: applied once, outcome applied-read-back", async () => {
    await fault({ count: 1, drop: true, after: true, match: { method: "PUT", pathIncludes: "/reset-message-offset" } });
    const { outs } = await createRewind(await checked(declared()), context());
    expect(outs.outcome).toBe("applied-read-back");
    expect(dms.applications(instanceId, "billing").count).toBe(1);
    expect(await resets()).toHaveLength(1);
    expect(await committed("billing")).toMatchObject({ "payments/0": "28000", "payments/1": "28000" });
  });

  test("a lost answer that reading back cannot settle: a ResourceInitError whose state keeps outcome unknown, the undo record and the plan", async () => {
    // The plan's read of the group's offsets passes; the PUT applies and its answer is lost; the read-back is refused.
    await fault({ count: 1, hangMs: 0, match: { method: "GET", pathIncludes: "/groups/billing/message-offset" } });
    await fault({ count: 1, drop: true, after: true, match: { method: "PUT", pathIncludes: "/reset-message-offset" } });
    await fault({ count: 1, status: 403, match: { method: "GET", pathIncludes: "/groups/billing/message-offset" } });
    const inputs = await checked(declared());
    const error = await createRewind(inputs, context()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceInitError);
    const init = error as ResourceInitError;
    expect(await pendingFaults()).toEqual([]);
    expect(dms.applications(instanceId, "billing").count).toBe(1);
    expect(init.message).toMatch(/^OffsetReset of group billing: OUTCOME UNKNOWN: .*Offsets before the reset \(to undo, rewind to these\): payments\/0=47990, payments\/1=47950$/);
    expect(init.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(init.reasons).toEqual([init.message]);
    expect(init.properties).toMatchObject({
      group: "billing",
      topic: "payments",
      timestamp: Date.parse(INCIDENT),
      outcome: "unknown",
      requestId: "",
      appliedOffsets: [],
      plan: { partitions: PLAN_AT_INCIDENT },
    });
    expect(offsetsOf(init.properties.previousOffsets)).toEqual(["payments/0=47990", "payments/1=47950"]);
    expect(JSON.stringify(init.properties)).not.toContain(demo.sk);
    expect(init.properties).not.toHaveProperty("accessKey");

    // The next `up` updates the resource (it failed to initialise): the recorded outcome stays, nothing is sent,
    // and a warning says so, with what to do and the offsets to undo it.
    await clearLog();
    const next = context();
    const { outs } = await updateRewind(init.properties as unknown as Outputs, inputs, false, init.id, next);
    expect(outs).toMatchObject({ outcome: "unknown", previousOffsets: init.properties.previousOffsets });
    expect(next.warnings).toEqual([
      expect.stringMatching(/its last rewind \(.*\) ended unknown, and nothing is sent again: check the group's offsets; to apply the rewind again, change triggers; to undo it, .*previousOffsets \(payments\/0=47990, payments\/1=47950\)$/),
    ]);
    expect(await requests()).toEqual([]);
    expect(dms.applications(instanceId, "billing").count).toBe(1);
  });

  test("DMS accepted the reset but reading it back failed: a ResourceInitError with outcome not-confirmed and DMS's request id", async () => {
    await fault({ count: 1, hangMs: 0, match: { method: "GET", pathIncludes: "/groups/billing/message-offset" } });
    await fault({ count: 1, status: 403, match: { method: "GET", pathIncludes: "/groups/billing/message-offset" } });
    const error = await createRewind(await checked(declared()), context()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceInitError);
    const init = error as ResourceInitError;
    expect(init.properties).toMatchObject({ outcome: "not-confirmed", requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(init.id).toBe(init.properties.requestId);
    expect(init.message).toMatch(/ACCEPTED by DMS.*payments\/0=47990, payments\/1=47950$/);
    expect(dms.applications(instanceId, "billing").count).toBe(1);
  });
});

describe("updateRewind", () => {
  test("rewinds again only when triggers changed; other changes record the settings and send nothing", async () => {
    const first = await checked({ ...declared(), triggers: { run: 1 } });
    const { id, outs } = await createRewind(first, context());
    await clearLog();

    const moved = await checked({ ...declared(), endpoint: `${dms.url}/`, waitForInactiveGroupSeconds: 30, triggers: { run: 1 } }, first);
    const quiet = await updateRewind(outs, moved, false, id, context());
    expect(await requests()).toEqual([]);
    expect(quiet.outs).toMatchObject({ waitForInactiveGroupSeconds: 30, requestId: outs.requestId, resetAt: outs.resetAt, outcome: "applied", plan: outs.plan });

    // Consumers moved the group on; a new run of the runbook rewinds it to the same time again.
    await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 0, offset: 47000n }]);
    const rerun = await checked({ ...declared(), triggers: { run: 2 } }, first);
    const again = await updateRewind(quiet.outs, rerun, true, id, context());
    expect(await resets()).toHaveLength(1);
    expect(again.outs.requestId).not.toBe(outs.requestId);
    expect(again.outs.triggers).toEqual({ run: 2 });
    expect(offsetsOf(again.outs.previousOffsets)).toEqual(["payments/0=47000", "payments/1=28000"]);
    expect(offsetsOf(again.outs.appliedOffsets)).toEqual(["payments/0=28000", "payments/1=28000"]);
  });
});

describe("readOffsets (refresh)", () => {
  const fromConfig = () => context({ accessKey: demo.ak, secretKey: demo.sk });

  test("reads live offsets with credentials from stack configuration, names every partition that drifted, changes nothing else", async () => {
    const { outs } = await createRewind(await checked(declared()), context());
    await clearLog();
    await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 1, offset: 30000n }]);
    const ctx = fromConfig();
    const read = await readOffsets(outs, ctx);
    const { currentOffsets, ...rest } = read;
    const { currentOffsets: _before, ...recorded } = outs;
    expect(rest).toEqual(recorded);
    expect(offsetsOf(currentOffsets)).toEqual(["payments/0=28000", "payments/1=30000"]);
    expect(await shapes()).toEqual(["GET message-offset"]);
    expect(ctx.warnings).toEqual([`OffsetReset of group billing: the group is no longer where the last reset (${outs.resetAt}) left it: payments/1: 28000 → 30000`]);
  });

  test("no drift, no warning; every drifted partition is named", async () => {
    const { outs } = await createRewind(await checked(declared()), context());
    const quiet = fromConfig();
    await readOffsets(outs, quiet);
    expect(quiet.warnings).toEqual([]);
    await dms.world.commitOffsets(instanceId, "billing", [
      { topic: "payments", partition: 0, offset: 45000n },
      { topic: "payments", partition: 1, offset: 44000n },
    ]);
    const loud = fromConfig();
    await readOffsets(outs, loud);
    expect(loud.warnings).toHaveLength(1);
    expect(loud.warnings[0]).toMatch(/: payments\/0: 28000 → 45000; payments\/1: 28000 → 44000$/);
  });

  test("the dynamic provider's read keeps __provider out of the props it compares and the next diff sees no change", async () => {
    const inputs = await checked(declared());
    const { id, outs } = await createRewind(inputs, context());
    jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const config: Record<string, string> = { [CONFIG_KEYS.accessKey]: demo.ak, [CONFIG_KEYS.secretKey]: demo.sk };
    await provider.configure({ config: { get: (k) => config[k], require: (k) => config[k] as string } });
    const read = await provider.read(id, { ...(outs as unknown as Record<string, unknown>), __provider: "serialized" });
    expect(read.id).toBe(id);
    expect(read.props).not.toHaveProperty("__provider");
    expect((await provider.diff(id, read.props as Record<string, unknown>, inputs as unknown as Record<string, unknown>)).changes).toBe(false);
    expect(await resets()).toHaveLength(1);
  });

  test("without credentials anywhere it keeps the recorded offsets and says why", async () => {
    const { outs } = await createRewind(await checked(declared()), context());
    await clearLog();
    const ctx = context();
    expect(await readOffsets(outs, ctx)).toEqual(outs);
    expect(await requests()).toEqual([]);
    expect(ctx.warnings.join("\n")).toMatch(/currentOffsets not read: no DMS credentials/);
  });
});

test("delete sends nothing to DMS and says why", async () => {
  const { id, outs } = await createRewind(await checked(declared()), context());
  await clearLog();
  const logged: string[] = [];
  jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  await provider.delete(id, outs as unknown as Record<string, unknown>);
  expect(await requests()).toEqual([]);
  expect(deleteNotice(outs)).toMatch(/nothing was sent to DMS: committed offsets cannot be un-reset.*previousOffsets/);
  expect(logged.join("\n")).toContain(deleteNotice(outs));
});

test("the dynamic provider logs through the engine only inside Pulumi's dynamic-provider host, whose first non-flag argument is the engine", () => {
  const host = "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js".split("/").join(path.sep);
  expect(hostEngineAddress(host, ["127.0.0.1:40123"])).toBe("127.0.0.1:40123");
  expect(hostEngineAddress(host, ["--logtostderr", "-v=9", "--tracing", "file:/t.json", "127.0.0.1:40123"])).toBe("127.0.0.1:40123");
  expect(hostEngineAddress(host, [])).toBeUndefined();
  // Anywhere else (jest, a program under mocks), pulumi.log is used as it is.
  expect(hostEngineAddress("/repo/node_modules/jest/bin/jest.js", ["tests/resource/lifecycle.test.ts"])).toBeUndefined();
  expect(hostEngineAddress(undefined, ["127.0.0.1:40123"])).toBeUndefined();
});
