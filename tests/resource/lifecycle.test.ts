// The provider's lifecycle, called as the dynamic-provider host calls it, against dms-local: what each
// operation sends to DMS (counted in dms-local's request log) and what it records.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { offsetResetProvider as provider } from "../../provider/resource/provider";
import { CONFIG_KEYS } from "../../provider/resource/connection";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { fakeDmsHandler } from "../client/fake-dms";
import { startFakeServer } from "../client/fake-server";

const seed = parseSeed(readFileSync(path.resolve(__dirname, "../../dms-local/seed.default.json"), "utf8"));
const demo = seed.credentials[0] as { ak: string; sk: string };
const projectId = seed.projectId;
const instanceId = (seed.instances[0] as { id: string }).id;
const INCIDENT = "2023-11-15T06:00:00Z"; // record 28000 of every partition in the default seed

let dms: DmsLocal;
let logged: string[];

beforeEach(async () => {
  dms = await startDmsLocal({ seed, port: 0, admin: true, taskDelayMs: 100 });
  logged = [];
  jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  await provider.configure({ config: { get: () => undefined, require: () => { throw new Error("unset"); } } });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await dms.close();
});

interface Logged { method: string; path: string; body: string | null; credential: number | null }
async function requests(): Promise<Logged[]> {
  const res = await fetch(`${dms.url}/__admin/requests`);
  return ((await res.json()) as { requests: Logged[] }).requests;
}
async function resets(): Promise<Logged[]> {
  return (await requests()).filter((r) => r.path.endsWith("/reset-message-offset"));
}
async function clearLog(): Promise<void> {
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
}

async function checked(news: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await provider.check({}, news);
  expect(result.failures).toEqual([]);
  return result.inputs as Record<string, unknown>;
}

/** create, with the outputs it always returns. */
async function create(inputs: Record<string, unknown>): Promise<{ id: string; outs: Record<string, unknown> }> {
  const { id, outs } = await provider.create(inputs);
  return { id, outs: outs ?? {} };
}

const declared = () => ({
  endpoint: dms.url,
  projectId,
  instanceId,
  group: "billing",
  topic: "payments",
  timestamp: INCIDENT,
  accessKey: demo.ak,
  secretKey: demo.sk,
});

test("create sends exactly one reset and records the offsets before and after", async () => {
  const inputs = await checked(declared());
  const { id, outs } = await create(inputs);
  expect(await resets()).toHaveLength(1);
  expect(id).toBe(outs.requestId);
  expect(outs).toMatchObject({
    group: "billing",
    topic: "payments",
    partition: -1,
    timestamp: Date.parse(INCIDENT),
    endpoint: dms.url,
    previousOffsets: [
      { topic: "payments", partition: 0, messageCurrentOffset: "47990", messageLogEndOffset: "48000" },
      { topic: "payments", partition: 1, messageCurrentOffset: "47950" },
    ],
    appliedOffsets: [
      { topic: "payments", partition: 0, messageCurrentOffset: "28000", lag: "20000" },
      { topic: "payments", partition: 1, messageCurrentOffset: "28000" },
    ],
  });
  expect(outs.currentOffsets).toEqual(outs.appliedOffsets);
  expect(Date.parse(outs.resetAt as string)).toBeGreaterThan(Date.now() - 60_000);
  // Credentials never become outputs.
  const text = JSON.stringify(outs);
  expect(text).not.toContain(demo.ak);
  expect(text).not.toContain(demo.sk);
  expect(outs).not.toHaveProperty("accessKey");
});

test("the creates of one host process share one keep-alive connection to their endpoint", async () => {
  const server = await startFakeServer(fakeDmsHandler({ states: ["EMPTY"], members: [], offsets: new Map([["payments", [10n, 20n]]]), tasks: [] }));
  try {
    const createFor = async (group: string) => create(await checked({ ...declared(), endpoint: server.url, group }));
    await createFor("billing-a");
    const opened = server.connections();
    for (const group of ["billing-b", "billing-c", "billing-d"]) await createFor(group);
    expect(server.received.filter((r) => r.method === "PUT")).toHaveLength(4);
    // The later creates went over the connections the first one opened.
    expect(server.connections()).toBe(opened);
  } finally {
    await server.close();
  }
});

test("a busy group without a wait fails naming its state and members, and nothing is reset", async () => {
  const inputs = await checked({ ...declared(), group: "g-busy", topic: "orders" });
  await expect(provider.create(inputs)).rejects.toThrow(/STABLE.*consumer-g-busy-1.*consumer-g-busy-2/s);
  expect(await resets()).toHaveLength(0);
  const stillThere = await dms.world.committedOffsets(instanceId, "g-busy");
  expect(stillThere.map((o) => o.offset)).toEqual([119950n, 118480n, 121300n]);
});

test("with a wait, create resets once the consumers have left", async () => {
  await fetch(`${dms.url}/__admin/instances/${instanceId}/groups/g-busy/stop-consumers`, {
    method: "POST",
    body: JSON.stringify({ afterMs: 1000 }),
  });
  const inputs = await checked({ ...declared(), group: "g-busy", topic: "orders", messageOffset: 5, timestamp: undefined, waitForInactiveGroupSeconds: 20 });
  const { outs } = await create(inputs);
  expect(await resets()).toHaveLength(1);
  expect((outs.appliedOffsets as { messageCurrentOffset: string }[]).map((o) => o.messageCurrentOffset)).toEqual(["5", "1500", "5"]);
});

test("a custom create timeout shorter than the wait bounds it", async () => {
  const inputs = await checked({ ...declared(), group: "g-busy", topic: "orders", waitForInactiveGroupSeconds: 600, customTimeouts: { create: "1s" } });
  const started = Date.now();
  await expect(provider.create(inputs)).rejects.toThrow(/STABLE.*after waiting 1s/);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(await resets()).toHaveLength(0);
});

test("an all-topics reset waits for its own task and records its id", async () => {
  const { topic: _t, ...allTopics } = declared();
  const inputs = await checked({ ...allTopics, group: "billing", messageOffset: "0", timestamp: undefined });
  const { outs } = await create(inputs);
  expect(outs.taskId).toEqual(expect.any(String));
  const applied = outs.appliedOffsets as { topic: string; partition: number; messageCurrentOffset: string }[];
  // Clamped to each partition's log start offset.
  expect(applied.map((o) => `${o.topic}/${o.partition}=${o.messageCurrentOffset}`)).toEqual([
    "orders/0=0", "orders/1=1500", "orders/2=0", "payments/0=0", "payments/1=200",
  ]);
});

test("update resets again only when triggers changed", async () => {
  const first = await checked({ ...declared(), triggers: { run: 1 } });
  const { id, outs } = await create(first);
  await clearLog();

  const moved = await checked({ ...declared(), endpoint: `${dms.url}/`, waitForInactiveGroupSeconds: 30, triggers: { run: 1 } });
  const quiet = await provider.update(id, outs, moved);
  expect(await requests()).toHaveLength(0);
  expect(quiet.outs).toMatchObject({ waitForInactiveGroupSeconds: 30, requestId: outs.requestId, resetAt: outs.resetAt });

  // Consumers moved the group on; a new run of the runbook rewinds it to the same time again.
  await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 0, offset: 47000n }]);
  const rerun = await checked({ ...declared(), triggers: { run: 2 } });
  expect((await provider.diff(id, quiet.outs as Record<string, unknown>, rerun))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  const again = await provider.update(id, quiet.outs as Record<string, unknown>, rerun);
  expect(await resets()).toHaveLength(1);
  expect(again.outs?.requestId).not.toBe(outs.requestId);
  expect((again.outs?.previousOffsets as { messageCurrentOffset: string }[])[0]?.messageCurrentOffset).toBe("47000");
  expect((again.outs?.appliedOffsets as { messageCurrentOffset: string }[])[0]?.messageCurrentOffset).toBe("28000");
});

test("diff sends nothing; refresh reads live offsets with credentials from stack configuration and changes no input", async () => {
  const inputs = await checked(declared());
  const { id, outs } = await create(inputs);
  await clearLog();

  expect(await provider.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  expect(await requests()).toHaveLength(0);

  await dms.world.commitOffsets(instanceId, "billing", [{ topic: "payments", partition: 1, offset: 30000n }]);
  const config: Record<string, string> = { [CONFIG_KEYS.accessKey]: demo.ak, [CONFIG_KEYS.secretKey]: demo.sk };
  await provider.configure({ config: { get: (k) => config[k], require: (k) => config[k] as string } });
  const read = await provider.read(id, { ...outs, __provider: "serialized" });
  expect(read.id).toBe(id);
  const { currentOffsets, ...rest } = read.props ?? {};
  const { currentOffsets: _before, ...recorded } = outs;
  expect(rest).toEqual(recorded);
  expect((currentOffsets as { messageCurrentOffset: string }[]).map((o) => o.messageCurrentOffset)).toEqual(["28000", "30000"]);
  expect(await resets()).toHaveLength(0);
  // The next preview sees no change.
  expect((await provider.diff(id, read.props as Record<string, unknown>, inputs)).changes).toBe(false);
});

test("refresh without credentials anywhere keeps the recorded offsets and says why", async () => {
  const { id, outs } = await create(await checked(declared()));
  await clearLog();
  const read = await provider.read(id, outs);
  expect(read.props).toEqual(outs);
  expect(await requests()).toHaveLength(0);
  expect(logged.join("\n")).toMatch(/currentOffsets not read: no DMS credentials/);
});

test("delete sends nothing to DMS and says why", async () => {
  const { id, outs } = await create(await checked(declared()));
  await clearLog();
  await provider.delete(id, outs);
  expect(await requests()).toHaveLength(0);
  expect(logged.join("\n")).toMatch(/nothing was sent to DMS: committed offsets cannot be un-reset.*previousOffsets/);
});
