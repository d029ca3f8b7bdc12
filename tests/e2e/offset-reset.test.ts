// OffsetReset under the real Pulumi engine, as a user runs it: the package packed and installed into a
// temporary project, inline programs driven through the Automation API by the `pulumi` CLI on PATH (built
// by tests/e2e/pulumi-cli.sh), and dms-local standing in for DMS. Every step counts what reached dms-local.
// The steps of the first block depend on each other (one stack through its whole life), in file order.
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import type { EngineEvent, OpType, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { Seed, type SeedInput } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { OffsetResetArgs } from "../../sdk";
import { createBackend, installPackedProject, openStack, pulumiCli, requirePulumiCli } from "./harness/pulumi";

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
        billing: { state: "EMPTY", offsets: { "payments/0": 47990, "payments/1": 47950, "orders/0": 900 } },
        draining: {
          state: "STABLE",
          members: [{ memberId: "consumer-draining-1-4c2e", clientId: "billing-worker-7", host: "/10.0.3.7", assignment: [{ topic: "payments", partitions: [0, 1] }] }],
          offsets: { "payments/0": 47000, "payments/1": 46800 },
        },
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

/** Options for every operation: collect what the CLI prints, and the engine's events into `events`. */
function observe(events: EngineEvent[] = []) {
  return {
    onOutput: (out: string) => void transcript.push(out),
    onError: (err: string) => void transcript.push(err),
    onEvent: (event: EngineEvent) => void events.push(event),
  };
}

/**
 * The steps the engine planned or took for OffsetReset resources, with the inputs that force a replacement.
 * An unchanged resource ("same") has no step event; the operation's change summary counts it.
 */
function offsetResetSteps(events: EngineEvent[]): { op: OpType; keys?: string[] }[] {
  return events
    .map((e) => e.resourcePreEvent?.metadata)
    .filter((m) => m !== undefined && m.type.endsWith(":OffsetReset"))
    .map((m) => ({ op: m!.op, ...(m!.keys !== undefined && { keys: m!.keys }) }));
}

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
/** Each request as "METHOD last-path-segment", the group's own URL being ".../groups/{group}". */
const shape = (r: Logged) => `${r.method} ${r.path.split("/").pop()}`;

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

describe("one OffsetReset through its life: up, replace, rotate, re-trigger, refresh, destroy", () => {
  let stack: Stack;
  const declared: { timestamp: string; endpoint?: string; triggers?: Record<string, unknown>; credentials?: Partial<OffsetResetArgs> } = { timestamp: T1 };
  let exported: string;

  beforeAll(async () => {
    stack = await stackOf("lifecycle", async () => {
      const rewind = new OffsetReset("billing-rewind", {
        endpoint: declared.endpoint ?? dms.url,
        projectId: PROJECT_ID,
        instanceId: INSTANCE_ID,
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
      };
    });
  });

  test("up rewinds once: one reset reaches DMS, the offsets are as declared, and the outputs carry them before and after", async () => {
    await clearRequests();
    // Verbose engine logs (which print secret properties in plaintext) are scanned too: credentials taken
    // from the environment never enter the engine at all.
    const result = await stack.up({ ...observe(), logVerbosity: 9, logToStdErr: true });

    const sent = await requests();
    expect(sent.filter(isReset)).toHaveLength(1);
    expect(JSON.parse(sent.find(isReset)!.body!)).toEqual({ topic: "payments", partition: -1, timestamp: 1_700_028_000_000 });
    expect(sent.every((r) => r.credential === CREDENTIAL_ENV && r.status! < 300)).toBe(true);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "28000", "payments/1": "28000" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@47990", "payments/1@47950"]);
    expect(currentOffsets(result.outputs.appliedOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    expect(result.outputs.requestId!.value).toMatch(/^[0-9a-f]{32}$/);
  });

  test("a new timestamp is a replacement: preview shows it, up sends exactly one reset, deleting the old one sends nothing", async () => {
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
    expect(await requests()).toEqual([]);

    const taken: EngineEvent[] = [];
    const result = await stack.up(observe(taken));
    expect(result.summary.resourceChanges).toEqual({ replace: 1, same: 1 });
    expect(offsetResetSteps(taken).map((s) => s.op)).toEqual(["create-replacement", "replace", "delete-replaced"]);
    // One create's requests, and nothing from the delete of the replaced resource.
    expect((await requests()).map(shape)).toEqual(["GET billing", "GET message-offset", "PUT reset-message-offset", "GET message-offset"]);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "31600", "payments/1": "31600" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@28000", "payments/1@28000"]);
    expect(transcript.join("")).toContain("nothing was sent to DMS");
  });

  test("other credentials, as inputs (a key pair with a security token), are no replacement and send nothing", async () => {
    declared.credentials = { accessKey: INPUT_PAIR.ak, secretKey: INPUT_PAIR.sk, securityToken: INPUT_PAIR.securityToken };
    await clearRequests();
    const preview = await stack.preview(observe());
    expect(preview.changeSummary).toEqual({ same: 2 });
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

  test("new triggers apply the same rewind again: an update with exactly one reset, signed with the rotated credentials", async () => {
    await commit("billing", { "payments/0": 40000, "payments/1": 39000 }); // the consumers ran on since
    declared.triggers = { incident: "INC-2", attempt: 2 };
    await clearRequests();
    const planned: EngineEvent[] = [];
    const preview = await stack.preview(observe(planned));
    expect(preview.changeSummary).toEqual({ update: 1, same: 1 });
    expect(offsetResetSteps(planned)).toEqual([{ op: "update" }]);

    const result = await stack.up(observe());
    expect(result.summary.resourceChanges).toEqual({ update: 1, same: 1 });
    const sent = await requests();
    expect(sent.filter(isReset)).toHaveLength(1);
    // dms-local accepts this key pair only with its security token.
    expect(sent.every((r) => r.credential === CREDENTIAL_INPUT && r.status! < 300)).toBe(true);
    expect(await committed("billing")).toEqual({ "orders/0": "900", "payments/0": "31600", "payments/1": "31600" });
    expect(currentOffsets(result.outputs.previousOffsets!.value)).toEqual(["payments/0@40000", "payments/1@39000"]);
    expect(currentOffsets(result.outputs.appliedOffsets!.value)).toEqual(["payments/0@31600", "payments/1@31600"]);
  });

  test("refresh reads the live offsets without resetting, and the next preview expects no changes", async () => {
    await commit("billing", { "payments/0": 45000, "payments/1": 44000 });
    await clearRequests();
    await stack.refresh(observe());
    const sent = await requests();
    expect(sent.map(shape)).toEqual(["GET message-offset"]);
    // The resource's outputs in state (the stack's own outputs change only when the program runs).
    expect(currentOffsets((await offsetResetState()).outputs.currentOffsets)).toEqual(["payments/0@45000", "payments/1@44000"]);

    await clearRequests();
    await expect(stack.preview({ ...observe(), expectNoChanges: true })).resolves.toBeDefined();
    expect(await requests()).toEqual([]);
  });

  /** The OffsetReset's state as `pulumi stack export` prints it (the Automation API's exportStack shows secrets). */
  async function offsetResetState(): Promise<{ inputs: Record<string, unknown>; outputs: Record<string, unknown> }> {
    exported = await pulumiCli(project, backend, ["stack", "export", "--stack", "lifecycle"]);
    const state = JSON.parse(exported) as { deployment: { resources: { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] } };
    return state.deployment.resources.find((r) => r.type.endsWith(":OffsetReset"))!;
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

describe("a busy group", () => {
  let stack: Stack;
  let waitForInactiveGroupSeconds: number | undefined;

  beforeAll(async () => {
    stack = await stackOf("busy", async () => {
      new OffsetReset("draining-rewind", {
        endpoint: dms.url,
        projectId: PROJECT_ID,
        instanceId: INSTANCE_ID,
        group: "draining",
        topic: "payments",
        timestamp: T1,
        ...(waitForInactiveGroupSeconds !== undefined && { waitForInactiveGroupSeconds }),
      });
    });
  });

  test("without a wait, up fails naming the group's state and its consumer, and resets nothing", async () => {
    await clearRequests();
    const up = stack.up(observe());
    await expect(up).rejects.toThrow(/consumer group "draining" is STABLE, not EMPTY; still connected: consumer-draining-1-4c2e \(client billing-worker-7 on \/10\.0\.3\.7\)/);
    expect((await requests()).filter(isReset)).toEqual([]);
    expect(await committed("draining")).toEqual({ "payments/0": "47000", "payments/1": "46800" });
  });

  test("with waitForInactiveGroupSeconds, up waits for the consumers to leave, then rewinds", async () => {
    waitForInactiveGroupSeconds = 60;
    await clearRequests();
    const stop = await fetch(`${dms.url}/__admin/instances/${INSTANCE_ID}/groups/draining/stop-consumers`, {
      method: "POST",
      body: JSON.stringify({ afterMs: 4000 }),
    });
    const emptyAt = Date.parse(((await stop.json()) as { empty_at: string }).empty_at);
    await stack.up(observe());

    const sent = await requests();
    const resets = sent.filter(isReset);
    expect(resets).toHaveLength(1);
    expect(Date.parse(resets[0]!.at)).toBeGreaterThanOrEqual(emptyAt);
    // Looked at the group while it was busy, and again until it was not.
    expect(sent.filter((r) => r.path.endsWith("/groups/draining")).length).toBeGreaterThanOrEqual(2);
    expect(transcript.join("")).toContain("group draining is STABLE; waiting up to 60s");
    expect(await committed("draining")).toEqual({ "payments/0": "28000", "payments/1": "28000" });
  });
});

describe("bad inputs fail preview at check, naming the property, before any request", () => {
  let stack: Stack;
  let args: Partial<OffsetResetArgs> = {};

  beforeAll(async () => {
    stack = await stackOf("bad-inputs", async () => {
      new OffsetReset("bad", { endpoint: dms.url, projectId: PROJECT_ID, instanceId: INSTANCE_ID, group: "billing", topic: "payments", ...args });
    });
  });

  test.each<[string, Partial<OffsetResetArgs>, string, string]>([
    ["a timestamp in seconds", { timestamp: 1_700_028_000 }, "timestamp", "looks like epoch seconds; DMS expects milliseconds: use 1700028000000"],
    ["both positions", { timestamp: T1, messageOffset: 100 }, "timestamp", "set exactly one of messageOffset and timestamp: both are set"],
    ["neither position", {}, "messageOffset", "set exactly one of messageOffset and timestamp: neither is set"],
    ["a negative offset", { messageOffset: -5 }, "messageOffset", "messageOffset must be >= 0"],
    ["a partition below -1", { timestamp: T1, partition: -2 }, "partition", "partition must be -1 (every partition) or a partition number >= 0"],
  ])("%s", async (_case, given, property, reason) => {
    args = given;
    await clearRequests();
    const preview = stack.preview(observe());
    await expect(preview).rejects.toThrow(`OffsetReset resource 'bad': property ${property} value`);
    await expect(preview).rejects.toThrow(reason);
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
