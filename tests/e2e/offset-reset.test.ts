// OffsetReset under the real Pulumi engine, as a user runs it: the package packed and installed into a
// temporary project, inline programs driven through the Automation API by the `pulumi` CLI on PATH (built
// by tests/e2e/pulumi-cli.sh), and dms-local standing in for DMS. Every step counts what reached dms-local
// (its request log) and what it applied (its application counter). The steps of each block depend on each
// other (one stack through its life), in file order; the blocks use groups of their own.
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import type { EngineEvent, OpType, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { Seed, type SeedInput } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { OffsetResetArgs, PlanRow } from "../../sdk";
import { createBackend, installPackedProject, openStack, pulumiCli, requirePulumiCli } from "./harness/pulumi";
import { closedPort } from "../support/processes";

type PackedProject = Awaited<ReturnType<typeof installPackedProject>>;
type Backend = Awaited<ReturnType<typeof createBackend>>;
type OffsetResetClass = typeof import("../../sdk").OffsetReset;

jest.setTimeout(180_000);

// Distinctive credentials, so that finding any of them anywhere is unambiguous.
const ENV_PAIR = { ak: "E2EENVAKCANARY7Q2X9B", sk: "e2e-env-secret-key-CANARY-3f8b1c9d5e" };
const INPUT_PAIR = {
  ak: "E2EINPUTAKCANARY5M4K",
  sk: "e2e-input-secret-key-CANARY-9d2e7a41c6",
  securityToken: "e2e-security-token-CANARY-71c4b0e2f8a9",
};
const SECRETS = [ENV_PAIR.ak, ENV_PAIR.sk, INPUT_PAIR.ak, INPUT_PAIR.sk, INPUT_PAIR.securityToken];

const PROJECT_ID = "5b7d9f1a3c5e4a6b8d0f2a4c6e8b0d1f";
const INSTANCE_ID = "e2e0c1d2-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const timestamps = { base: 1_700_000_000_000, stepMs: 1000 }; // record n was written at base + n s
// Records 28000 and 31600 of every partition.
const T1 = "2023-11-15T06:00:00Z";
const T2 = "2023-11-15T07:00:00Z";

const payments = (p0: number, p1: number) => ({ "payments/0": p0, "payments/1": p1 });
const seedInput: SeedInput = {
  projectId: PROJECT_ID,
  credentials: [
    { ak: ENV_PAIR.ak, sk: ENV_PAIR.sk, userName: "e2e-env" },
    { ak: INPUT_PAIR.ak, sk: INPUT_PAIR.sk, securityToken: INPUT_PAIR.securityToken, userName: "e2e-rotated" },
  ],
  instances: [
    {
      id: INSTANCE_ID,
      topics: {
        payments: { partitions: [{ logStartOffset: 0, logEndOffset: 48000, timestamps }, { logStartOffset: 200, logEndOffset: 47950, timestamps }] },
        orders: { partitions: [{ logStartOffset: 0, logEndOffset: 1000, timestamps }] },
      },
      groups: {
        billing: { state: "EMPTY", offsets: { ...payments(47990, 47950), "orders/0": 900 } },
        draining: {
          state: "STABLE",
          members: [{ memberId: "consumer-draining-1-4c2e", clientId: "billing-worker-7", host: "/10.0.3.7", assignment: [{ topic: "payments", partitions: [0, 1] }] }],
          offsets: payments(47000, 46800),
        },
        // One group per block below, so that no block depends on another's offsets.
        undo: { state: "EMPTY", offsets: payments(47990, 47950) },
        lost: { state: "EMPTY", offsets: payments(40000, 41000) },
        readback: { state: "EMPTY", offsets: payments(40000, 41000) },
        ahead: { state: "EMPTY", offsets: payments(1000, 1200) },
        steady: { state: "EMPTY", offsets: payments(100, 300) },
        clamp: { state: "EMPTY", offsets: payments(1000, 2000) },
      },
    },
  ],
};
const seed = Seed.parse(seedInput);
const CREDENTIAL_ENV = 0;
const CREDENTIAL_INPUT = 1;

let project: PackedProject;
let backend: Backend;
let dms: DmsLocal;
let OffsetReset: OffsetResetClass;
/** Everything the CLI printed, on stdout and stderr, in every operation of the suite. */
const transcript: string[] = [];

beforeAll(async () => {
  requirePulumiCli();
  [project, backend, dms] = await Promise.all([
    installPackedProject(),
    createBackend("e2e-passphrase"),
    startDmsLocal({ seed, admin: true, taskDelayMs: 100 }),
  ]);
  ({ OffsetReset } = project.load("pulumi-dms-offset-reset") as typeof import("../../sdk"));
}, 300_000);

afterAll(async () => {
  await dms?.close();
  await Promise.all([project?.remove(), backend?.remove()]);
});

/** A stack of the suite's project whose CLI runs with the default credentials in CLOUD_SDK_AK/SK. */
function stackOf(stackName: string, program: PulumiFn): Promise<Stack> {
  return openStack(project, backend, {
    projectName: "offset-reset-e2e",
    stackName,
    program,
    env: { CLOUD_SDK_AK: ENV_PAIR.ak, CLOUD_SDK_SK: ENV_PAIR.sk },
  });
}

/** The connection and identity every resource of the suite shares. */
const at = () => ({ endpoint: dms.url, projectId: PROJECT_ID, instanceId: INSTANCE_ID });

// ---------------------------------------------------------------------------------------------------------
// What the engine did and said.

/** Options for every operation: collect what the CLI prints, and the engine's events into `events`. */
function observe(events: EngineEvent[] = []) {
  return {
    onOutput: (out: string) => void transcript.push(out),
    onError: (err: string) => void transcript.push(err),
    onEvent: (event: EngineEvent) => void events.push(event),
  };
}

const offsetResetStepMetadata = (events: EngineEvent[]) =>
  events.map((e) => e.resourcePreEvent?.metadata).filter((m) => m !== undefined && m.type.endsWith(":OffsetReset")).map((m) => m!);

/**
 * The steps the engine planned or took for OffsetReset resources, with the inputs that force a replacement.
 * An unchanged resource ("same") has no step event; the operation's change summary counts it.
 */
function offsetResetSteps(events: EngineEvent[]): { op: OpType; keys?: string[] }[] {
  return offsetResetStepMetadata(events).map((m) => ({ op: m.op, ...(m.keys !== undefined && { keys: m.keys }) }));
}

/** The `plan` input of the resource's step `op` (the one a preview shows): its rows, or why it is unknown. */
function plannedBy(events: EngineEvent[], op: OpType, name?: string): { partitions?: PlanRow[]; unknown?: string } | undefined {
  const step = offsetResetStepMetadata(events).find((m) => m.op === op && (name === undefined || m.urn.endsWith(`::${name}`)));
  return step?.new?.inputs.plan as { partitions?: PlanRow[]; unknown?: string } | undefined;
}

/** The engine's diagnostics of one severity, as the events carry them (Pulumi's color directives removed). */
function diagnostics(events: EngineEvent[], severity: "info" | "warning" | "error"): string[] {
  return events
    .map((e) => e.diagnosticEvent)
    .filter((d) => d !== undefined && d.severity === severity)
    .map((d) => d!.message.replace(/<\{%[^%]*%\}>/g, ""));
}

/** "topic/partition current→target move" per row: what a reviewer reads in the plan. */
const moves = (plan: { partitions?: PlanRow[] } | undefined) => plan?.partitions?.map((p) => `${p.topic}/${p.partition} ${p.current}→${p.target} ${p.move}${p.forward ? " FORWARD" : ""}${p.clamped ? " clamped" : ""}`);

// ---------------------------------------------------------------------------------------------------------
// What reached dms-local.

interface Logged {
  method: string;
  path: string;
  status: number | null;
  at: string;
  body: string | null;
  credential: number | null;
}

async function requests(): Promise<Logged[]> {
  const res = await fetch(`${dms.url}/__admin/requests`);
  return ((await res.json()) as { requests: Logged[] }).requests;
}

async function clearRequests(): Promise<void> {
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
}

const isReset = (r: Logged) => r.path.endsWith("/reset-message-offset");
const isWrite = (r: Logged) => r.method !== "GET";
/** Each request as "METHOD last-path-segment", the group's own URL being ".../groups/{group}". */
const shape = (r: Logged) => `${r.method} ${r.path.split("/").pop()}`;

/** Resolves once dms-local has logged a request that `matches`: the provider has reached that step. */
async function untilRequest(matches: (r: Logged) => boolean): Promise<Logged> {
  for (;;) {
    const found = (await requests()).find(matches);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Arms a dms-local fault (dms-local/README.md, Admin API). */
async function fault(rule: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${dms.url}/__admin/faults`, { method: "POST", body: JSON.stringify(rule) });
  expect(res.status).toBe(201);
}

async function pendingFaults(): Promise<unknown[]> {
  return ((await (await fetch(`${dms.url}/__admin/faults`)).json()) as { faults: unknown[] }).faults;
}

/** How many resets dms-local applied to the group. */
const applications = (group: string) => dms.applications(INSTANCE_ID, group).count;

/** The group's committed offsets as "topic/partition" → offset. */
async function committed(group: string): Promise<Record<string, string>> {
  const offsets = await dms.world.committedOffsets(INSTANCE_ID, group);
  return Object.fromEntries(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset.toString()]));
}

async function commit(group: string, offsets: Record<string, number>): Promise<void> {
  await dms.world.commitOffsets(
    INSTANCE_ID,
    group,
    Object.entries(offsets).map(([key, offset]) => ({ topic: key.split("/")[0] as string, partition: Number(key.split("/")[1]), offset: BigInt(offset) })),
  );
}

interface PartitionOffsets {
  topic: string;
  partition: number;
  messageCurrentOffset: string;
}
const currentOffsets = (value: unknown) => (value as PartitionOffsets[]).map((o) => `${o.topic}/${o.partition}@${o.messageCurrentOffset}`);

interface ExportedResource {
  type: string;
  urn: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  initErrors?: string[];
}

/** The stack's state as `pulumi stack export` prints it (the Automation API's exportStack shows secrets). */
async function exportStack(stackName: string): Promise<{ text: string; offsetResets: ExportedResource[] }> {
  const text = await pulumiCli(project, backend, ["stack", "export", "--stack", stackName]);
  const state = JSON.parse(text) as { deployment: { resources: ExportedResource[] } };
  return { text, offsetResets: state.deployment.resources.filter((r) => r.type.endsWith(":OffsetReset")) };
}

/** The rejection's message (Automation API errors carry the CLI's stdout and stderr). */
async function failureOf(operation: Promise<unknown>): Promise<string> {
  const error = await operation.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

// ---------------------------------------------------------------------------------------------------------

describe("one OffsetReset through its life: preview, up, replace, rotate, re-trigger, refresh, destroy", () => {
  let stack: Stack;
  const declared: { timestamp: string; endpoint?: string; triggers?: Record<string, unknown>; credentials?: { accessKey?: string; secretKey?: string; securityToken?: string } } = { timestamp: T1 };
  let exported: string;

  beforeAll(async () => {
    stack = await stackOf("lifecycle", async () => {
      const rewind = new OffsetReset("billing-rewind", {
        ...at(),
        endpoint: declared.endpoint ?? dms.url,
        group: "billing",
        topic: "payments",
        partition: -1,
        timestamp: declared.timestamp,
        ...(declared.triggers !== undefined && { triggers: declared.triggers }),
        ...declared.credentials,
      });
      return {
        previousOffsets: rewind.previousOffsets,
        appliedOffsets: rewind.appliedOffsets,
        currentOffsets: rewind.currentOffsets,
        requestId: rewind.requestId,
        outcome: rewind.outcome,
        plan: rewind.plan,
      };
    });
  });

  test("preview of the create shows every partition's move, in the output and as the plan input, and writes nothing", async () => {
    await clearRequests();
    const events: EngineEvent[] = [];
    const preview = await stack.preview(observe(events));
    expect(preview.changeSummary).toEqual({ create: 2 });
    expect(moves(plannedBy(events, "create"))).toEqual(["payments/0 47990→28000 re-reads 19990", "payments/1 47950→28000 re-reads 19950"]);
    expect(plannedBy(events, "create")?.partitions?.[1]).toEqual({
      topic: "payments", partition: 1, current: "47950", target: "28000", logStart: "200", logEnd: "47950", move: "re-reads 19950", forward: false, clamped: false, unchanged: false,
    });
    // The table, as the preview prints it among the resource's diagnostics.
    expect(preview.stdout).toMatch(/plan for group billing on instance e2e0c1d2-.*: to the first record at or after 2023-11-15T06:00:00\.000Z \(1700028000000\) on payments \(1 reset request\)/);
    expect(preview.stdout).toMatch(/TOPIC\s+PARTITION\s+COMMITTED\s+TARGET\s+LOG-START\s+LOG-END\s+MOVE\s+FLAGS/);
    expect(preview.stdout).toMatch(/payments\s+0\s+47990\s+28000\s+0\s+48000\s+re-reads 19990\s+-/);
    expect(preview.stdout).toMatch(/payments\s+1\s+47950\s+28000\s+200\s+47950\s+re-reads 19950\s+-/);
    expect(diagnostics(events, "info").join("\n")).toContain("OffsetReset of group billing: plan for group billing");
    const sent = await requests();
    expect(sent.map(shape)).toEqual(["GET payments", "GET message-offset", "GET messages", "GET messages"]);
    expect(sent.filter(isWrite)).toEqual([]);
    expect(applications("billing")).toBe(0);
  });

  test("up rewinds once: the plan logged again before the one reset, outcome applied, offsets before and after in the outputs", async () => {
    await clearRequests();
    // Verbose engine logs (which print secret properties in plaintext) are scanned too: credentials taken
    // from the environment never enter the engine at all.
    const events: EngineEvent[] = [];
    const result = await stack.up({ ...observe(events), logVerbosity: 9, logToStdErr: true });

    const sent = await requests();
    expect(sent.filter(isReset)).toHaveLength(1);
    expect(applications("billing")).toBe(1);
    expect(JSON.parse(sent.find(isReset)!.body!)).toEqual({ topic: "payments", partition: -1, timestamp: 1_700_028_000_000 });
    expect(sent.every((r) => r.credential === CREDENTIAL_ENV && r.status! < 300)).toBe(true);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "28000", "payments/1": "28000" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@47990", "payments/1@47950"]);
    expect(currentOffsets(result.outputs.appliedOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    expect(result.outputs.requestId!.value).toMatch(/^[0-9a-f]{32}$/);
    expect(result.outputs.outcome!.value).toBe("applied");
    expect(moves(result.outputs.plan!.value)).toEqual(["payments/0 47990→28000 re-reads 19990", "payments/1 47950→28000 re-reads 19950"]);
    // The plan, then DMS's answer, then the undo record.
    const info = diagnostics(events, "info");
    const planned = info.findIndex((m) => m.includes("plan for group billing"));
    const applied = info.findIndex((m) => m.includes("DMS applied the reset of group billing"));
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(applied).toBeGreaterThan(planned);
    expect(info.join("\n")).toContain("done (applied); offsets before, to undo: payments/0=47990, payments/1=47950");
    expect(result.stdout).toMatch(/payments\s+0\s+47990\s+28000\s+0\s+48000\s+re-reads 19990/);
  });

  test("a new timestamp is a replacement: preview shows it and its plan, writes nothing; up sends exactly one reset, deleting the old one sends nothing", async () => {
    declared.timestamp = T2;
    await clearRequests();
    const planned: EngineEvent[] = [];
    const preview = await stack.preview({ ...observe(planned), diff: true });
    expect(preview.changeSummary).toEqual({ replace: 1, same: 1 });
    // Create the new one first, then delete the old one (deleteBeforeReplace: false), because of the timestamp.
    expect(offsetResetSteps(planned)).toEqual([
      { op: "create-replacement", keys: ["timestamp"] },
      { op: "replace", keys: ["timestamp"] },
      { op: "delete-replaced" },
    ]);
    expect(preview.stdout).toMatch(/\+-pulumi-nodejs:dynamic\/dms:OffsetReset: \(replace\)\n.*\n.*OffsetReset::billing-rewind\]/);
    expect(preview.stdout).toMatch(/~ timestamp\s*: 1700028000000 => 1700031600000/);
    // The replacement's plan, from where the group is now.
    expect(moves(plannedBy(planned, "create-replacement"))).toEqual(["payments/0 28000→31600 SKIPS 3600 FORWARD", "payments/1 28000→31600 SKIPS 3600 FORWARD"]);
    // The diff display (--diff) prints diagnostics on stderr.
    expect(preview.stderr).toMatch(/payments\s+0\s+28000\s+31600\s+0\s+48000\s+SKIPS 3600\s+FORWARD/);
    expect(preview.stderr).toMatch(/warning: OffsetReset of group billing: payments\/0 moves FORWARD 28000 → 31600: 3600 records will be skipped/);
    // Once each, though the engine checks a replacement twice (the second time without the old inputs).
    expect(diagnostics(planned, "warning")).toEqual([
      "OffsetReset of group billing: payments/0 moves FORWARD 28000 → 31600: 3600 records will be skipped\n",
      "OffsetReset of group billing: payments/1 moves FORWARD 28000 → 31600: 3600 records will be skipped\n",
    ]);
    // The plan was read once, by reads only.
    expect((await requests()).map(shape)).toEqual(["GET payments", "GET message-offset", "GET messages", "GET messages"]);

    await clearRequests();
    const taken: EngineEvent[] = [];
    const result = await stack.up(observe(taken));
    expect(result.summary.resourceChanges).toEqual({ replace: 1, same: 1 });
    expect(offsetResetSteps(taken).map((s) => s.op)).toEqual(["create-replacement", "replace", "delete-replaced"]);
    // One create's requests (look at the group, plan, reset, read back), and nothing from the delete of the replaced resource.
    expect((await requests()).map(shape)).toEqual(["GET billing", "GET payments", "GET message-offset", "GET messages", "GET messages", "PUT reset-message-offset", "GET message-offset"]);
    expect(applications("billing")).toBe(2);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "31600", "payments/1": "31600" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    // The forward moves are warnings of the up too.
    expect(diagnostics(taken, "warning").join("\n")).toContain("payments/0 moves FORWARD 28000 → 31600");
    expect(transcript.join("")).toContain("nothing was sent to DMS");
  });

  test("other credentials, as inputs (a key pair with a security token), are no replacement: preview and up send no request at all", async () => {
    declared.credentials = { accessKey: INPUT_PAIR.ak, secretKey: INPUT_PAIR.sk, securityToken: INPUT_PAIR.securityToken };
    await clearRequests();
    const preview = await stack.preview(observe());
    expect(preview.changeSummary).toEqual({ same: 2 });
    expect(await requests()).toEqual([]);
    const result = await stack.up(observe());
    expect(result.summary.resourceChanges).toEqual({ same: 2 });
    expect(await requests()).toEqual([]);
  });

  test("the same endpoint spelt differently is no replacement and sends nothing", async () => {
    declared.endpoint = `${dms.url}/`;
    await clearRequests();
    const result = await stack.up(observe());
    expect(result.summary.resourceChanges).toEqual({ same: 2 });
    expect(await requests()).toEqual([]);
  });

  test("new triggers apply the same rewind again: preview shows the plan, up sends exactly one reset, signed with the rotated credentials", async () => {
    await commit("billing", { "payments/0": 40000, "payments/1": 39000 }); // the consumers ran on since
    declared.triggers = { incident: "INC-2", attempt: 2 };
    await clearRequests();
    const planned: EngineEvent[] = [];
    const preview = await stack.preview(observe(planned));
    expect(preview.changeSummary).toEqual({ update: 1, same: 1 });
    expect(offsetResetSteps(planned)).toEqual([{ op: "update" }]);
    expect(moves(plannedBy(planned, "update"))).toEqual(["payments/0 40000→31600 re-reads 8400", "payments/1 39000→31600 re-reads 7400"]);
    expect((await requests()).filter(isWrite)).toEqual([]);

    await clearRequests();
    const result = await stack.up(observe());
    expect(result.summary.resourceChanges).toEqual({ update: 1, same: 1 });
    const sent = await requests();
    expect(sent.filter(isReset)).toHaveLength(1);
    // dms-local accepts this key pair only with its security token.
    expect(sent.every((r) => r.credential === CREDENTIAL_INPUT && r.status! < 300)).toBe(true);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "31600", "payments/1": "31600" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@40000", "payments/1@39000"]);
    expect(currentOffsets(result.outputs.appliedOffsets!.value)).toEqual(["payments/0@31600", "payments/1@31600"]);
    expect(result.outputs.outcome!.value).toBe("applied");
  });

  test("refresh reads the live offsets without resetting and names each partition that drifted; the next preview expects no changes and sends nothing", async () => {
    await commit("billing", { "payments/0": 45000, "payments/1": 44000 }); // moved by hand
    await clearRequests();
    const events: EngineEvent[] = [];
    const refresh = await stack.refresh(observe(events));
    const sent = await requests();
    expect(sent.map(shape)).toEqual(["GET message-offset"]);
    const drift = diagnostics(events, "warning");
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatch(/OffsetReset of group billing: the group is no longer where the last reset \(.*\) left it: payments\/0: 31600 → 45000; payments\/1: 31600 → 44000/);
    expect(refresh.stdout).toContain("payments/0: 31600 → 45000; payments/1: 31600 → 44000");
    // The resource's outputs in state (the stack's own outputs change only when the program runs).
    expect(currentOffsets((await offsetResetState()).outputs.currentOffsets)).toEqual(["payments/0@45000", "payments/1@44000"]);

    await clearRequests();
    await expect(stack.preview({ ...observe(), expectNoChanges: true })).resolves.toBeDefined();
    expect(await requests()).toEqual([]);
  });

  /** The OffsetReset's state as `pulumi stack export` prints it. */
  async function offsetResetState(): Promise<ExportedResource> {
    const { text, offsetResets } = await exportStack("lifecycle");
    exported = text;
    expect(offsetResets).toHaveLength(1);
    return offsetResets[0]!;
  }

  test("`pulumi stack export` holds the credential inputs only encrypted, and a small provider", async () => {
    const resource = await offsetResetState();
    // Pulumi's secret envelope: a signature key and a ciphertext.
    for (const key of ["accessKey", "secretKey", "securityToken"]) {
      expect(resource.inputs[key]).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: expect.any(String) });
      expect(resource.outputs).not.toHaveProperty(key);
    }
    const provider = resource.inputs.__provider as string;
    process.stdout.write(`e2e: serialized __provider in the exported state: ${Buffer.byteLength(provider)} bytes\n`);
    expect(Buffer.byteLength(provider)).toBeLessThanOrEqual(20 * 1024);
    expect(provider).toContain('require("pulumi-dms-offset-reset/dist/provider/resource/provider.js")');
    expect(resource.inputs).not.toHaveProperty("__preview");
    for (const secret of SECRETS) expect(exported).not.toContain(secret);
  });

  test("destroy sends nothing to DMS and leaves the offsets as they are", async () => {
    await clearRequests();
    const taken: EngineEvent[] = [];
    const result = await stack.destroy(observe(taken));
    expect(result.summary.resourceChanges).toEqual({ delete: 2 });
    expect(offsetResetSteps(taken).map((s) => s.op)).toEqual(["delete"]);
    expect(await requests()).toEqual([]);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "45000", "payments/1": "44000" });
    expect(diagnostics(taken, "info").join("\n")).toContain("nothing was sent to DMS");
  });

  test("no access key, secret key or token in plaintext: state, history, backups, Pulumi's home, the project, the CLI's output", async () => {
    const files = [...(await filesUnder(backend.root)), ...(await filesUnder(project.dir, ["node_modules"]))];
    // The history holds every checkpoint of the stack; Pulumi.yaml and the stack's settings are in the project.
    expect(files.some((f) => f.includes(`${path.sep}history${path.sep}`))).toBe(true);
    expect(files).toContain(path.join(project.dir, "Pulumi.lifecycle.yaml"));
    const haystacks: [string, string][] = [
      ["exported state", exported],
      ["CLI output", transcript.join("")],
      ...(await Promise.all(files.map(async (f): Promise<[string, string]> => [f, await readFile(f, "latin1")]))),
    ];
    const found = haystacks.flatMap(([where, text]) => SECRETS.filter((s) => text.includes(s)).map((s) => `${s} in ${where}`));
    expect(found).toEqual([]);
  });
});

describe("undo as code: a second OffsetReset whose offsets are the first one's previousOffsets", () => {
  let stack: Stack;
  let withUndo = false;

  beforeAll(async () => {
    stack = await stackOf("undo", async () => {
      const rewind = new OffsetReset("undo-rewind", { ...at(), group: "undo", topic: "payments", timestamp: T1 });
      if (!withUndo) return {};
      const undo = new OffsetReset("undo-back", { ...at(), group: "undo", offsets: rewind.previousOffsets });
      return { outcome: undo.outcome, previousOffsets: undo.previousOffsets };
    });
  });

  test("the rewind", async () => {
    await stack.up(observe());
    expect(await committed("undo")).toEqual({ "payments/0": "28000", "payments/1": "28000" });
  });

  test("the undo: preview shows it moving every partition forward to where it was, up puts each back exactly", async () => {
    withUndo = true;
    await clearRequests();
    const planned: EngineEvent[] = [];
    const preview = await stack.preview(observe(planned));
    expect(preview.changeSummary).toEqual({ create: 1, same: 2 });
    expect(moves(plannedBy(planned, "create", "undo-back"))).toEqual(["payments/0 28000→47990 SKIPS 19990 FORWARD", "payments/1 28000→47950 SKIPS 19950 FORWARD"]);
    expect(preview.stdout).toMatch(/plan for group undo on instance .*: to 2 explicit partition offsets on payments:0,1 \(2 reset requests\)/);
    expect((await requests()).filter(isWrite)).toEqual([]);

    await clearRequests();
    const events: EngineEvent[] = [];
    const result = await stack.up(observe(events));
    expect(result.summary.resourceChanges).toEqual({ create: 1, same: 2 });
    // One absolute offset per partition, so that a call sent twice lands where it landed once.
    expect((await requests()).filter(isReset).map((r) => JSON.parse(r.body!))).toEqual([
      { topic: "payments", partition: 0, message_offset: 47990 },
      { topic: "payments", partition: 1, message_offset: 47950 },
    ]);
    expect(await committed("undo")).toEqual({ "payments/0": "47990", "payments/1": "47950" });
    expect(result.outputs.outcome!.value).toBe("applied");
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    expect(diagnostics(events, "warning").join("\n")).toContain("payments/0 moves FORWARD 28000 → 47990: 19990 records will be skipped");
  });
});

describe("a create whose reset was sent but whose outcome was lost", () => {
  test("answer lost and reading back refused: the create fails with the offsets from before, the state keeps the resource (outcome unknown, previousOffsets), the next up sends nothing", async () => {
    const stack = await stackOf("lost", async () => {
      const rewind = new OffsetReset("lost-rewind", { ...at(), group: "lost", topic: "payments", timestamp: T1 });
      return { outcome: rewind.outcome };
    });
    // The plan's read of the group's offsets passes; the reset applies and its answer is lost; reading the group back is refused.
    await fault({ count: 1, hangMs: 0, match: { method: "GET", pathIncludes: "/groups/lost/message-offset" } });
    await fault({ count: 1, drop: true, after: true, match: { method: "PUT", pathIncludes: "/groups/lost/reset-message-offset" } });
    await fault({ count: 1, status: 403, match: { method: "GET", pathIncludes: "/groups/lost/message-offset" } });
    await clearRequests();

    const message = await failureOf(stack.up(observe()));
    expect(await pendingFaults()).toEqual([]);
    expect(applications("lost")).toBe(1);
    expect(await committed("lost")).toEqual({ "payments/0": "28000", "payments/1": "28000" });
    expect(message).toContain("OUTCOME UNKNOWN");
    expect(message).toContain("Offsets before the reset (to undo, rewind to these): payments/0=40000, payments/1=41000");

    const { offsetResets } = await exportStack("lost");
    expect(offsetResets).toHaveLength(1);
    const [resource] = offsetResets;
    expect(resource!.outputs).toMatchObject({ outcome: "unknown", requestId: "", appliedOffsets: [] });
    expect(currentOffsets(resource!.outputs.previousOffsets)).toEqual(["payments/0@40000", "payments/1@41000"]);
    expect(moves(resource!.outputs.plan as { partitions: PlanRow[] })).toEqual(["payments/0 40000→28000 re-reads 12000", "payments/1 41000→28000 re-reads 13000"]);
    expect(resource!.initErrors?.join("\n")).toContain("payments/0=40000, payments/1=41000");

    // The next up finds the resource in the state: it does not rewind again, and asks DMS nothing.
    await clearRequests();
    const again = await stack.up(observe());
    expect(await requests()).toEqual([]);
    expect(applications("lost")).toBe(1);
    expect(again.outputs.outcome!.value).toBe("unknown");
    const after = (await exportStack("lost")).offsetResets[0]!;
    expect(after.initErrors ?? []).toEqual([]);
    expect(currentOffsets(after.outputs.previousOffsets)).toEqual(["payments/0@40000", "payments/1@41000"]);
  });

  test("answer lost and reading back shows it applied: the create succeeds, outcome applied-read-back, applied once", async () => {
    const stack = await stackOf("readback", async () => {
      const rewind = new OffsetReset("readback-rewind", { ...at(), group: "readback", topic: "payments", timestamp: T1 });
      return { outcome: rewind.outcome, appliedOffsets: rewind.appliedOffsets };
    });
    await fault({ count: 1, drop: true, after: true, match: { method: "PUT", pathIncludes: "/groups/readback/reset-message-offset" } });
    const result = await stack.up(observe());
    expect(await pendingFaults()).toEqual([]);
    expect(result.outputs.outcome!.value).toBe("applied-read-back");
    expect(currentOffsets(result.outputs.appliedOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    expect(applications("readback")).toBe(1);
  });
});

describe("what a preview and an up say, and refuse", () => {
  test("forbidForward with a plan that moves forward: the preview fails at check naming the moves, up sends nothing", async () => {
    const stack = await stackOf("forward", async () => {
      new OffsetReset("ahead-rewind", { ...at(), group: "ahead", topic: "payments", timestamp: T1, forbidForward: true });
    });
    await clearRequests();
    const preview = await failureOf(stack.preview(observe()));
    expect(preview).toContain("OffsetReset resource 'ahead-rewind': property forbidForward value {true} has a problem: the plan moves the group FORWARD (records skipped) on payments/0 1000 → 28000, payments/1 1200 → 28000, which forbidForward refuses");
    expect((await requests()).filter(isWrite)).toEqual([]);

    await clearRequests();
    const up = await failureOf(stack.up(observe()));
    expect(up).toContain('the plan moves group "ahead" FORWARD, skipping records, on payments/0 1000 → 28000 (skips 27000), payments/1 1200 → 28000 (skips 26800); forbidForward forbids that: nothing was sent');
    expect((await requests()).filter(isWrite)).toEqual([]);
    expect(applications("ahead")).toBe(0);
    expect(await committed("ahead")).toEqual({ "payments/0": "1000", "payments/1": "1200" });
    expect((await exportStack("forward")).offsetResets).toEqual([]);
  });

  test("up: a forward or clamped move is a warning; a group already at the target sends nothing (outcome nothing-to-send)", async () => {
    const stack = await stackOf("outcomes", async () => {
      const clamped = new OffsetReset("clamp-rewind", { ...at(), group: "clamp", topic: "payments", messageOffset: "999999" });
      const steady = new OffsetReset("steady-rewind", { ...at(), group: "steady", offsets: [{ topic: "payments", partition: 0, offset: 100 }, { topic: "payments", partition: 1, offset: "300" }] });
      return { clamped: clamped.outcome, steady: steady.outcome, steadyRequestId: steady.requestId };
    });
    await clearRequests();
    const events: EngineEvent[] = [];
    const result = await stack.up(observe(events));
    expect(result.outputs.clamped!.value).toBe("applied");
    expect(result.outputs.steady!.value).toBe("nothing-to-send");
    expect(result.outputs.steadyRequestId!.value).toBe("");
    const sent = await requests();
    expect(sent.filter(isReset).map((r) => r.path.split("/").at(-2))).toEqual(["clamp"]);
    expect(applications("steady")).toBe(0);
    expect(await committed("clamp")).toEqual({ "payments/0": "48000", "payments/1": "47950" });
    const warnings = diagnostics(events, "warning").join("\n");
    expect(warnings).toContain("group clamp: payments/0 moves FORWARD 1000 → 48000: 47000 records will be skipped");
    expect(warnings).toContain("group clamp: payments/0 is clamped by DMS to 48000 (the log holds 0 to 48000)");
    expect(warnings).toContain("group clamp: payments/1 is clamped by DMS to 47950 (the log holds 200 to 47950)");
    expect(diagnostics(events, "info").join("\n")).toContain("group steady is already at 2 explicit partition offsets on payments:0,1: nothing to send");
    expect(result.stdout).toMatch(/warning: .*is clamped by DMS to 48000/);
  });

  test("a preview with DMS unreachable succeeds, says the plan is unknown and why, and records it as unknown", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const stack = await stackOf("offline", async () => {
      new OffsetReset("offline-rewind", { ...at(), endpoint, group: "billing", topic: "payments", timestamp: T1 });
    });
    const events: EngineEvent[] = [];
    const preview = await stack.preview(observe(events));
    expect(preview.changeSummary).toEqual({ create: 2 });
    expect(plannedBy(events, "create")).toEqual({ unknown: expect.stringMatching(/^plan unknown: DMS could not be read: /) });
    expect(diagnostics(events, "warning")).toEqual([expect.stringMatching(/^OffsetReset of group billing: plan unknown: DMS could not be read: /)]);
    expect(preview.stdout).toMatch(/warning: OffsetReset of group billing: plan unknown: DMS could not be read/);
  });
});

describe("a busy group", () => {
  let stack: Stack;
  let waitForInactiveGroupSeconds: number | undefined;

  beforeAll(async () => {
    stack = await stackOf("busy", async () => {
      new OffsetReset("draining-rewind", {
        ...at(),
        group: "draining",
        topic: "payments",
        timestamp: T1,
        ...(waitForInactiveGroupSeconds !== undefined && { waitForInactiveGroupSeconds }),
      });
    });
  });

  test("without a wait, up fails naming the group's state, its consumer, the wait setting and session.timeout.ms, and resets nothing", async () => {
    await clearRequests();
    const message = await failureOf(stack.up(observe()));
    expect(message).toMatch(/consumer group "draining" is STABLE, not EMPTY; still connected: consumer-draining-1-4c2e \(client billing-worker-7 on \/10\.0\.3\.7\)/);
    expect(message).toContain("rewind with waitForInactiveGroupSeconds of at least the consumers' session.timeout.ms");
    expect((await requests()).filter(isWrite)).toEqual([]);
    expect(await committed("draining")).toEqual({ "payments/0": "47000", "payments/1": "46800" });
  });

  test("with waitForInactiveGroupSeconds, up prints progress while the consumers are connected, then rewinds once they have left", async () => {
    waitForInactiveGroupSeconds = 60;
    await clearRequests();
    const events: EngineEvent[] = [];
    const up = stack.up(observe(events));
    // The consumers leave once the provider has looked at the group's members (what its progress line reports).
    await untilRequest((r) => r.method === "GET" && r.path.endsWith("/management/groups/draining"));
    const stop = await fetch(`${dms.url}/__admin/instances/${INSTANCE_ID}/groups/draining/stop-consumers`, { method: "POST", body: JSON.stringify({ afterMs: 0 }) });
    expect(stop.status).toBe(202);
    const stoppedAt = Date.parse(((await stop.json()) as { empty_at: string }).empty_at);
    const result = await up;

    const sent = await requests();
    const resets = sent.filter(isReset);
    expect(resets).toHaveLength(1);
    expect(Date.parse(resets[0]!.at)).toBeGreaterThanOrEqual(stoppedAt);
    const info = diagnostics(events, "info").join("\n");
    expect(info).toMatch(/OffsetReset of group draining: waiting for group draining to empty: STABLE, 1 member still connected \(billing-worker-7 on \/10\.0\.3\.7\); \d+s left/);
    expect(info).toMatch(/OffsetReset of group draining: group draining is EMPTY after \d+s/);
    expect(result.stdout).toMatch(/waiting for group draining to empty: STABLE, 1 member still connected/);
    expect(await committed("draining")).toEqual({ "payments/0": "28000", "payments/1": "28000" });
  });
});

describe("bad inputs fail preview at check, naming the property, before any request", () => {
  let stack: Stack;
  let args: Record<string, unknown> = {};

  beforeAll(async () => {
    stack = await stackOf("bad-inputs", async () => {
      new OffsetReset("bad", { ...at(), group: "billing", topic: "payments", ...args } as OffsetResetArgs);
    });
  });

  const TARGETS = "messageOffset, timestamp, earliest, latest, shiftBy, offsets, toGroup";
  test.each<[string, Record<string, unknown>, string, string]>([
    ["a timestamp in seconds", { timestamp: 1_700_028_000 }, "timestamp", "timestamp 1700028000 looks like epoch seconds; DMS expects milliseconds: use 1700028000000"],
    ["two targets", { timestamp: T1, messageOffset: 100 }, "timestamp", `set exactly one target of ${TARGETS}: messageOffset and timestamp are both set`],
    ["no target", {}, "messageOffset", `set exactly one target: ${TARGETS}; none is set`],
    ["a negative offset", { messageOffset: -5 }, "messageOffset", "messageOffset must be >= 0, got -5: to go back to the start of the log, use earliest"],
    ["a partition below -1", { timestamp: T1, partition: -2 }, "partition", "partition must be -1 (every partition) or a partition number"],
    ["a partition beside offsets", { offsets: [{ topic: "payments", partition: 0, offset: 5 }] }, "topic", "offsets names its own topics and partitions: drop topic"],
  ])("%s", async (_case, given, property, reason) => {
    args = given;
    await clearRequests();
    const message = await failureOf(stack.preview(observe()));
    expect(message).toContain(`OffsetReset resource 'bad': property ${property} value`);
    expect(message).toContain(reason);
    expect(await requests()).toEqual([]);
  });
});

/** Every file under `dir`, skipping directories with the given names. */
async function filesUnder(dir: string, skip: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return skip.includes(e.name) ? [] : filesUnder(full, skip);
      return e.isFile() ? [full] : [];
    }),
  );
  return nested.flat();
}
