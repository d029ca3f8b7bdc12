// The disaster-recovery rehearsal, on Apache Kafka itself: what a rewind is for is what consumers
// read next, and what the runbook shows before it sends anything (the plan) must be exactly that.
// A consumer of group G reads part of a 3-partition topic; while it runs, `dms-offsets plan` already
// shows where each partition would go and a reset is refused with the group's live state. The CLI then
// waits (`--wait-inactive`) while the consumer dies without leaving: the group stays STABLE until the
// broker's session timeout, then the CLI rewinds G to time T through `dms-local --kafka` (the built
// bin). On every partition the plan's target, DMS's appliedOffsets, the broker's committed offset and
// the first record the restarted consumer reads are one and the same offset. Then the same with the
// Pulumi resource and T2 (the plan from planRewind and the resource's own plan output), and then every
// other kind of target through the CLI (earliest, latest, shift-by, offsets from an exported CSV):
// plan == applied == the broker's committed offsets.
//
// Every step waits for an event, never for a guessed time: the consumer is killed when the CLI (or
// the resource) says it is waiting for it, and waits have generous bounds that only fail a stuck run.
//
// Needs KAFKA_BOOTSTRAP (tests/kafka/broker.sh), a build (`npm run build`: the dms-local bin) and
// the `pulumi` CLI on PATH (tests/e2e/pulumi-cli.sh); tests/run.sh provides all three. Fails, never
// skips, without them. The steps depend on each other, in order.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { Admin, Kafka } from "kafkajs";
import { main as dmsOffsets } from "../../provider/cli/main";
import { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { planRewind, type Plan } from "../../provider/rewind/plan";
import type { RenderedOffset } from "../../provider/rewind/rewind";
import { rewindSchema } from "../../provider/rewind/target";
import type { PartitionOffsetState } from "../../sdk";
import { createBackend, installPackedProject, openStack, requirePulumiCli } from "../e2e/harness/pulumi";
import { bootstrap, CREDENTIALS, INSTANCE_ID, kafkaClient, kafkaSeedInput, pastBase, produce, PROJECT_ID, uniqueName, type TimedRecord } from "./helpers";

jest.setTimeout(120_000);

const DMS_LOCAL_BIN = resolve(__dirname, "../../dist/dms-local/main.js");
const CONSUMER_SCRIPT = resolve(__dirname, "consumer-process.js");
const CLIENT_ID = "rehearsal-consumer";
/** The broker's minimum (group.min.session.timeout.ms), so the wait is as short as Kafka allows. */
const SESSION_TIMEOUT_MS = 6000;
/** consumer-process.js heartbeats this often: its last heartbeat is at most this long before it dies. */
const HEARTBEAT_INTERVAL_MS = 500;
/** Only a bound for a stuck run: the rewind goes as soon as the group is empty. */
const WAIT_INACTIVE_S = 300;
/** How long an awaited event may take before the test fails saying what it awaited. */
const EVENT_TIMEOUT_MS = 90_000;

const PARTITIONS = [0, 1, 2];
const base = pastBase();
/** Record k of partition p, written at base + k × (p + 1) s: each partition has its own pace, so T lands on a different offset in each. */
const record = (partition: number, k: number): TimedRecord => ({ partition, timestamp: base + k * (partition + 1) * 1000, value: `p${partition}-r${k}` });
const records = (from: number, to: number): TimedRecord[] => PARTITIONS.flatMap((p) => Array.from({ length: to - from }, (_, i) => record(p, from + i)));
/** Read by the first consumer. */
const FIRST_BATCH = records(0, 20);
/** Written after it died: never read before the rewind. */
const SECOND_BATCH = records(20, 25);
/** The rewind target. */
const T = base + 12_500;
/** k (= offset) of the first record at or after T, by partition: p0-r13 (13 s), p1-r7 (14 s), p2-r5 (15 s). */
const FIRST_AT_OR_AFTER_T = [13, 7, 5];
/** The Pulumi round's target: exactly the timestamps of p0-r20 and p1-r10 (the bound is inclusive); p2-r7 (21 s). */
const T2 = base + 20_000;
const FIRST_AT_OR_AFTER_T2 = [20, 10, 7];

/** What the rehearsal uses of the packed project (tests/e2e/harness/pulumi.js, whose type other tests extend). */
interface Project {
  dir: string;
  load(id: string): unknown;
  remove(): Promise<void>;
}
type Backend = Awaited<ReturnType<typeof createBackend>>;

const topic = uniqueName("rehearsal-orders");
const group = uniqueName("rehearsal-g");
const env = { CLOUD_SDK_AK: CREDENTIALS.accessKey, CLOUD_SDK_SK: CREDENTIALS.secretKey };

interface Consumed {
  partition: number;
  offset: string;
  timestamp: string;
  value: string;
}

/** `dms-offsets show --json`, as the CLI prints it. */
interface ShowJson {
  state: string;
  members: { memberId: string; clientId: string; host: string; assignment: { topic: string; partitions: number[] }[] }[];
  offsets: RenderedOffset[];
}

/** The lines `dms-offsets --json` writes (one JSON object each). */
interface PlanLine {
  type: "plan";
  group: string;
  partitions: { topic: string; partition: number; current: string | null; target: string; logStart: string; logEnd: string; forward: boolean; clamped: boolean; unchanged: boolean }[];
  exported?: string;
}
interface ResultLine {
  type: "result";
  group: string;
  previousOffsets: RenderedOffset[];
  appliedOffsets: RenderedOffset[];
}
type JsonLine = PlanLine | ResultLine | { type: "log" | "warning"; message: string } | { type: "error"; message: string; code: string };

/** A consumer of `group` in its own process (consumer-process.js). */
class ConsumerProcess {
  readonly records: Consumed[] = [];
  memberId: string | undefined;
  readonly exit: Promise<number | null>;
  private stderr = "";
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(from: "earliest" | "latest") {
    this.child = spawn(process.execPath, [CONSUMER_SCRIPT, bootstrap().join(","), group, topic, CLIENT_ID, String(SESSION_TIMEOUT_MS), from]);
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as { event: "joined"; memberId: string } | ({ event: "record" } & Consumed);
      if (event.event === "joined") this.memberId = event.memberId;
      else this.records.push({ partition: event.partition, offset: event.offset, timestamp: event.timestamp, value: event.value });
    });
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exit = once(this.child, "exit").then(([code]) => code as number | null);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exit;
  }

  /** The offset of the first record read from each partition. */
  firstOffsets(): [number, string | undefined][] {
    return PARTITIONS.map((p) => [p, this.records.find((r) => r.partition === p)?.offset]);
  }

  describe(): string {
    const byPartition = PARTITIONS.map((p) => `p${p}: ${this.records.filter((r) => r.partition === p).map((r) => r.value).join(" ") || "-"}`);
    return `consumer ${this.alive ? "running" : "exited"}; read ${byPartition.join("; ")}${this.stderr ? `; stderr: ${this.stderr}` : ""}`;
  }
}

/** Resolves once `check` holds, looking again every 100 ms; fails after `timeoutMs` saying what it awaited and `context()`. */
async function until(what: string, check: () => boolean | Promise<boolean>, context: () => string, timeoutMs = EVENT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms (${context()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let kafka: Kafka;
let admin: Admin;
let workDir: string;
let dmsLocal: ChildProcessWithoutNullStreams | undefined;
let dmsUrl: string;
const consumers: ConsumerProcess[] = [];
const timings: string[] = [];

/** The runbook CLI, in-process, with credentials from the environment as an operator sets them; `onStdout` sees each write as it happens. */
async function cli(command: "plan" | "reset" | "show", flags: string[], onStdout?: (text: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const args = [command, "--endpoint", dmsUrl, "--project-id", PROJECT_ID, "--instance-id", INSTANCE_ID, "--group", group, ...flags];
  const code = await dmsOffsets(args, env, {
    stdout: (t) => {
      stdout += t;
      onStdout?.(t);
    },
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

function jsonLines(stdout: string): JsonLine[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as JsonLine);
}

/** The one line of `type` a --json run wrote. */
function lineOf<K extends JsonLine["type"]>(r: { stdout: string; stderr: string }, type: K): Extract<JsonLine, { type: K }> {
  const found = jsonLines(r.stdout).filter((l) => l.type === type);
  if (found.length !== 1) throw new Error(`expected one "${type}" line, got ${found.length}: ${r.stdout}${r.stderr}`);
  return found[0] as Extract<JsonLine, { type: K }>;
}

async function show(): Promise<ShowJson> {
  const r = await cli("show", ["--topic", topic, "--json"]);
  if (r.code !== 0) throw new Error(`dms-offsets show failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ShowJson;
}

/** [partition, offset] of the partitions of `topic`, in partition order: the shape every source below is compared in. */
type Offsets = [number, string][];
const sorted = (rows: Offsets): Offsets => [...rows].sort((a, b) => a[0] - b[0]);
const planTargets = (line: PlanLine): Offsets => sorted(line.partitions.filter((p) => p.topic === topic).map((p) => [p.partition, p.target]));
const offsetsOf = (rows: readonly { topic: string; partition: number; messageCurrentOffset: string }[]): Offsets =>
  sorted(rows.filter((o) => o.topic === topic).map((o) => [o.partition, o.messageCurrentOffset]));
const byPartition = (values: readonly (number | string)[]): Offsets => PARTITIONS.map((p) => [p, String(values[p])]);

/** The group's committed offsets as the broker itself holds them (kafkajs, not dms-local). */
async function brokerOffsets(): Promise<Offsets> {
  const fetched = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return sorted((fetched[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** Once the consumer is in the group and dms-local shows it STABLE with `offset` committed on every partition. */
async function committedWhileRunning(consumer: ConsumerProcess, offset: string): Promise<ShowJson> {
  // Until the consumer has joined, the group does not exist (dms-local answers 404).
  await until("the consumer joins the group", () => consumer.memberId !== undefined, () => consumer.describe());
  let live: ShowJson | undefined;
  await until(
    `the consumer commits offset ${offset} on every partition`,
    async () => {
      live = await show();
      return live.state === "STABLE" && live.offsets.length === PARTITIONS.length && offsetsOf(live.offsets).every(([, o]) => o === offset);
    },
    () => `${consumer.describe()}; dms-local shows ${JSON.stringify(live)}`,
  );
  return live!;
}

/**
 * The consumer reads exactly the records at or after `from`, partition by partition in offset order,
 * starting at record `firstK[p]` of partition p (whose predecessor is older than `from`).
 */
async function expectReadsFrom(consumer: ConsumerProcess, from: number, firstK: readonly number[]): Promise<void> {
  const expected = PARTITIONS.map((p) => [...FIRST_BATCH, ...SECOND_BATCH].filter((r) => r.partition === p && r.timestamp >= from));
  const total = expected.reduce((n, e) => n + e.length, 0);
  await until(`the consumer reads the ${total} records at or after ${new Date(from).toISOString()}`, () => consumer.records.length >= total, () => consumer.describe());
  for (const p of PARTITIONS) {
    const read = consumer.records.filter((r) => r.partition === p);
    // Offsets are k: each partition's records were written in order from k = 0.
    const k = firstK[p]!;
    expect(read[0]).toEqual({ partition: p, offset: String(k), timestamp: String(record(p, k).timestamp), value: record(p, k).value });
    expect(record(p, k - 1).timestamp).toBeLessThan(from);
    expect(read.map((r) => r.value)).toEqual(expected[p]!.map((r) => r.value));
  }
  expect(consumer.records).toHaveLength(total);
}

/** `dms-local --kafka` as an operator starts it; resolves with its URL from the ready line. */
async function startDmsLocalBin(seedFile: string): Promise<string> {
  const child = spawn(process.execPath, [DMS_LOCAL_BIN, "--kafka", bootstrap().join(","), "--seed", seedFile, "--port", "0", "--task-delay-ms", "100"]);
  dmsLocal = child;
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((done, fail) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const url = /^dms-local listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) done(url);
    });
    child.once("exit", (code) => fail(new Error(`dms-local exited with ${code} before it was ready (is dist/ built?): ${err}`)));
  });
}

beforeAll(async () => {
  kafka = kafkaClient("rehearsal-test");
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS.length }], waitForLeaders: true });
  await produce(kafka, topic, FIRST_BATCH);

  workDir = await mkdtemp(join(tmpdir(), "rehearsal-"));
  const seedFile = join(workDir, "seed.json");
  await writeFile(seedFile, JSON.stringify(kafkaSeedInput()));
  dmsUrl = await startDmsLocalBin(seedFile);
}, 60_000);

afterAll(async () => {
  for (const c of consumers) if (c.alive) await c.kill("SIGKILL");
  if (dmsLocal && dmsLocal.exitCode === null) {
    dmsLocal.kill("SIGTERM");
    await once(dmsLocal, "exit");
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (admin) {
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  if (timings.length > 0) console.log(`rehearsal timings: ${timings.join("; ")}`);
});

/** The plan `dms-offsets plan` showed for T while the consumer still ran. */
let planWhileRunning: PlanLine;
/** The plan `dms-offsets reset` applied for T. */
let planOfReset: PlanLine;

test("while the consumer runs: the group is STABLE with its member, `plan` already shows T's targets (with a warning), and a reset is refused with that state", async () => {
  const consumer = new ConsumerProcess("earliest");
  consumers.push(consumer);
  // It has read the first batch and committed it: offsets at 20, the log end.
  const live = await committedWhileRunning(consumer, "20");
  expect(live.members).toEqual([{ memberId: consumer.memberId, clientId: CLIENT_ID, host: "/127.0.0.1", assignment: [{ topic, partitions: [0, 1, 2] }] }]);

  // The plan is made by reads only, busy group or not.
  const planned = await cli("plan", ["--topic", topic, "--timestamp", new Date(T).toISOString(), "--json"]);
  expect(planned.code).toBe(0);
  expect(jsonLines(planned.stdout).filter((l) => l.type === "warning")).toEqual([
    { type: "warning", message: expect.stringContaining(`group ${group} is STABLE: its consumers still commit offsets`) },
  ]);
  planWhileRunning = lineOf(planned, "plan");
  expect(planTargets(planWhileRunning)).toEqual(byPartition(FIRST_AT_OR_AFTER_T));
  expect(planWhileRunning.partitions.map((p) => [p.current, p.logEnd, p.forward, p.clamped])).toEqual(PARTITIONS.map(() => ["20", "20", false, false]));

  // The runbook refuses before sending anything, naming the state and who is connected.
  const refused = await cli("reset", ["--topic", topic, "--timestamp", new Date(T).toISOString(), "--yes"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`consumer group "${group}" is STABLE, not EMPTY; still connected: ${consumer.memberId} (client ${CLIENT_ID} on /127.0.0.1)`);

  // dms-local itself refuses a reset sent anyway, with the broker's live state.
  const client = new DmsClient({ endpoint: new URL(dmsUrl), projectId: PROJECT_ID, credentials: CREDENTIALS });
  try {
    const error = await client.resetMessageOffset({ instanceId: INSTANCE_ID, group, topic, partition: -1, position: { timestamp: T } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DmsError);
    expect(error).toMatchObject({ status: 400, errorMsg: expect.stringContaining(`consumer group ${group} is STABLE`) });
  } finally {
    await client.close();
  }
  expect(offsetsOf((await show()).offsets)).toEqual(byPartition([20, 20, 20]));
});

test("the consumer dies while the CLI waits: the group stays STABLE until its session times out, then the CLI rewinds to T; plan == appliedOffsets == the broker's offsets", async () => {
  const [consumer] = consumers;
  let killedAt: number | undefined;
  // The consumer is alive when the CLI first looks; it is killed (no LeaveGroup) once the CLI says it waits for it.
  const r = await cli("reset", ["--topic", topic, "--timestamp", new Date(T).toISOString(), "--wait-inactive", String(WAIT_INACTIVE_S), "--yes", "--json"], (text) => {
    if (killedAt === undefined && text.includes(`waiting for group ${group} to empty`)) {
      killedAt = Date.now();
      void consumer!.kill("SIGKILL");
    }
  });
  const rewoundAt = Date.now();
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  expect(killedAt).toBeDefined();
  const logs = jsonLines(r.stdout).flatMap((l) => (l.type === "log" ? [l.message] : []));
  expect(logs[0]).toMatch(new RegExp(`^waiting for group ${group} to empty: STABLE, 1 member still connected \\(${CLIENT_ID} on /127\\.0\\.0\\.1\\); \\d+s left$`));
  expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^group ${group} is EMPTY after \\d+s$`)));
  // The broker drops a dead member only when its session (from its last heartbeat) has timed out: the
  // rewind cannot have come sooner, however fast or slow the machine.
  expect(rewoundAt - killedAt!).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS);
  timings.push(`consumer killed → rewind done in ${((rewoundAt - killedAt!) / 1000).toFixed(1)} s (session timeout ${SESSION_TIMEOUT_MS / 1000} s, setOffsets ~5 s)`);

  planOfReset = lineOf(r, "plan");
  const result = lineOf(r, "result");
  expect(planTargets(planOfReset)).toEqual(byPartition(FIRST_AT_OR_AFTER_T));
  expect(planTargets(planOfReset)).toEqual(planTargets(planWhileRunning));
  expect(offsetsOf(result.previousOffsets)).toEqual(byPartition([20, 20, 20]));
  expect(offsetsOf(result.appliedOffsets)).toEqual(planTargets(planOfReset));
  expect(await brokerOffsets()).toEqual(planTargets(planOfReset));
  expect(await show()).toMatchObject({ state: "EMPTY", members: [] });

  // Written while nobody consumes: the rewound consumer must read these too.
  await produce(kafka, topic, SECOND_BATCH);
});

test("the restarted consumer resumes, on every partition, at the plan's target (the first record at or after T), skipping none", async () => {
  // latest: a partition without a committed offset would start at its end and read nothing.
  const consumer = new ConsumerProcess("latest");
  consumers.push(consumer);
  await expectReadsFrom(consumer, T, FIRST_AT_OR_AFTER_T);
  expect(consumer.firstOffsets()).toEqual(planTargets(planOfReset));
  // It keeps running: the Pulumi round below starts from a live group.
});

describe("the same rehearsal through the Pulumi resource", () => {
  let project: Project;
  let backend: Backend;
  /** planRewind's plan for T2, made before `pulumi up`. */
  let planned: Offsets;

  beforeAll(async () => {
    requirePulumiCli();
    [project, backend] = await Promise.all([installPackedProject() as Promise<unknown> as Promise<Project>, createBackend("rehearsal-passphrase")]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([project?.remove(), backend?.remove()]);
  });

  test("pulumi up of an OffsetReset to T2 waits while the consumer runs; it dies; the resource rewinds; its plan == planRewind's == appliedOffsets == the broker's", async () => {
    const running = consumers[consumers.length - 1]!;
    // It has committed everything it read: 25 records per partition.
    await committedWhileRunning(running, "25");

    const client = new DmsClient({ endpoint: new URL(dmsUrl), projectId: PROJECT_ID, credentials: CREDENTIALS });
    let plan: Plan;
    try {
      plan = await planRewind(client, rewindSchema().parse({ projectId: PROJECT_ID, instanceId: INSTANCE_ID, group, topic, timestamp: T2 }));
    } finally {
      await client.close();
    }
    planned = sorted(plan.partitions.map((p) => [p.partition, p.target.toString()]));
    expect(planned).toEqual(byPartition(FIRST_AT_OR_AFTER_T2));
    expect(plan.partitions.map((p) => p.current)).toEqual([25n, 25n, 25n]);

    const { OffsetReset } = project.load("pulumi-dms-offset-reset") as typeof import("../../sdk");
    const stack = await openStack(project as unknown as Parameters<typeof openStack>[0], backend, {
      projectName: "kafka-rehearsal",
      stackName: "rehearsal",
      env,
      program: async () => {
        const rewind = new OffsetReset("orders-rewind", {
          endpoint: dmsUrl,
          projectId: PROJECT_ID,
          instanceId: INSTANCE_ID,
          group,
          topic,
          timestamp: new Date(T2).toISOString(),
          waitForInactiveGroupSeconds: WAIT_INACTIVE_S,
        });
        return { previousOffsets: rewind.previousOffsets, appliedOffsets: rewind.appliedOffsets, plan: rewind.plan };
      },
    });
    let killedAt: number | undefined;
    const waiting: string[] = [];
    const result = await stack.up({
      // The consumer dies once the resource says it waits for it: the wait is seen, whatever the engine's start-up took.
      onEvent: (event: EngineEvent) => {
        const message = event.diagnosticEvent?.message ?? "";
        if (!message.includes(`waiting for group ${group} to empty`)) return;
        waiting.push(message);
        if (killedAt === undefined) {
          killedAt = Date.now();
          void running.kill("SIGKILL");
        }
      },
    });
    const doneAt = Date.now();
    expect(result.summary.result).toBe("succeeded");
    expect(killedAt).toBeDefined();
    expect(waiting[0]).toMatch(new RegExp(`waiting for group ${group} to empty: STABLE, 1 member still connected \\(${CLIENT_ID} on /127\\.0\\.0\\.1\\)`));
    expect(doneAt - killedAt!).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS);
    timings.push(`consumer killed → pulumi up done in ${((doneAt - killedAt!) / 1000).toFixed(1)} s`);

    const outputs = result.outputs;
    expect(offsetsOf(outputs["previousOffsets"]!.value as PartitionOffsetState[])).toEqual(byPartition([25, 25, 25]));
    const resourcePlan = outputs["plan"]!.value as { partitions: PlanLine["partitions"] };
    expect(planTargets({ type: "plan", group, partitions: resourcePlan.partitions })).toEqual(planned);
    expect(offsetsOf(outputs["appliedOffsets"]!.value as PartitionOffsetState[])).toEqual(planned);
    expect(await brokerOffsets()).toEqual(planned);
    expect(await show()).toMatchObject({ state: "EMPTY", members: [] });
  }, 240_000);

  test("the next consumer resumes, on every partition, at the plan's target (the first record at or after T2), skipping none", async () => {
    const consumer = new ConsumerProcess("latest");
    consumers.push(consumer);
    await expectReadsFrom(consumer, T2, FIRST_AT_OR_AFTER_T2);
    expect(consumer.firstOffsets()).toEqual(planned);
    // A clean stop (LeaveGroup): the group is EMPTY for the rewinds below, with 25 committed everywhere.
    expect(await consumer.kill("SIGTERM")).toBe(0);
    await until("the group is EMPTY with 25 committed", async () => {
      const s = await show();
      return s.state === "EMPTY" && offsetsOf(s.offsets).every(([, o]) => o === "25");
    }, () => "");
  });
});

describe("every other kind of target through the CLI: the plan is what lands on the broker", () => {
  /** `plan`, then `reset --yes` of the same flags: both plans, DMS's appliedOffsets and the broker's offsets agree. Returns the targets. */
  async function planThenReset(flags: string[]): Promise<Offsets> {
    const planned = await cli("plan", [...flags, "--json"]);
    expect({ code: planned.code, stderr: planned.stderr }).toEqual({ code: 0, stderr: "" });
    const targets = planTargets(lineOf(planned, "plan"));
    const applied = await cli("reset", [...flags, "--yes", "--json"]);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: "" });
    expect(planTargets(lineOf(applied, "plan"))).toEqual(targets);
    expect(offsetsOf(lineOf(applied, "result").appliedOffsets)).toEqual(targets);
    expect(await brokerOffsets()).toEqual(targets);
    return targets;
  }

  test("--to-earliest: the log start of each partition", async () => {
    expect(await planThenReset(["--topic", topic, "--to-earliest"])).toEqual(byPartition([0, 0, 0]));
  });

  test("--to-latest: the log end of each partition", async () => {
    expect(await planThenReset(["--topic", topic, "--to-latest"])).toEqual(byPartition([25, 25, 25]));
  });

  test("--shift-by -3: three records back from the committed offset, partition by partition", async () => {
    expect(await planThenReset(["--topic", topic, "--shift-by", "-3"])).toEqual(byPartition([22, 22, 22]));
  });

  test("--from-file with the CSV `plan --export` wrote: the exported targets, exactly", async () => {
    const file = join(workDir, "plan-T.csv");
    const exported = await cli("plan", ["--topic", topic, "--timestamp", new Date(T).toISOString(), "--export", file, "--json"]);
    expect(exported.code).toBe(0);
    expect(lineOf(exported, "plan").exported).toBe(file);
    expect(await readFile(file, "utf8")).toBe(PARTITIONS.map((p) => `${topic},${p},${FIRST_AT_OR_AFTER_T[p]}\n`).join(""));
    expect(await planThenReset(["--from-file", file])).toEqual(planTargets(lineOf(exported, "plan")));
  });
});
