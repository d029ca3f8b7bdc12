// The disaster-recovery rehearsal, on Apache Kafka itself: what a rewind is for is what consumers
// read next. A consumer of group G reads part of a 3-partition topic; while it runs, a reset is
// refused with the group's live state; the consumer dies without leaving, and the inactive wait
// lasts until the broker's session timeout has passed; the runbook CLI rewinds G to time T through
// `dms-local --kafka` (the built bin); a restarted consumer then reads, on every partition, from the
// first record with timestamp >= T, and every record after it. Then the same again with the Pulumi
// resource: the consumer dies, `pulumi up` of an inline program declaring an OffsetReset to T2 waits
// for the group to empty and rewinds it, and the next consumer starts at the first record >= T2.
//
// Needs KAFKA_BOOTSTRAP (tests/kafka/broker.sh), a build (`npm run build`: the dms-local bin) and
// the `pulumi` CLI on PATH (tests/e2e/pulumi-cli.sh); tests/run.sh provides all three. Fails, never
// skips, without them. The steps depend on each other, in order.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Admin, Kafka } from "kafkajs";
import { main as dmsOffsets } from "../../provider/cli/main";
import { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import type { PartitionOffsetState } from "../../sdk";
import { createBackend, installPackedProject, openStack, requirePulumiCli } from "../e2e/harness/pulumi";
import { bootstrap, CREDENTIALS, INSTANCE_ID, kafkaClient, kafkaSeedInput, pastBase, produce, PROJECT_ID, uniqueName, type TimedRecord } from "./helpers";

jest.setTimeout(60_000);

const DMS_LOCAL_BIN = resolve(__dirname, "../../dist/dms-local/main.js");
const CONSUMER_SCRIPT = resolve(__dirname, "consumer-process.js");
const CLIENT_ID = "rehearsal-consumer";
/** The broker's minimum (group.min.session.timeout.ms), so the wait is as short as Kafka allows. */
const SESSION_TIMEOUT_MS = 6000;
const WAIT_INACTIVE_S = 30;

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
/** k of the first record at or after T, by partition: p0-r13 (13 s), p1-r7 (14 s), p2-r5 (15 s). */
const FIRST_AT_OR_AFTER_T = [13, 7, 5];
/** The Pulumi round's target: exactly the timestamps of p0-r20 and p1-r10 (the bound is inclusive); p2-r7 (21 s). */
const T2 = base + 20_000;
const FIRST_AT_OR_AFTER_T2 = [20, 10, 7];

type PackedProject = Awaited<ReturnType<typeof installPackedProject>>;
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
  offsets: { topic: string; partition: number; messageCurrentOffset: string; messageLogStartOffset: string; messageLogEndOffset: string; lag: string }[];
}

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

  describe(): string {
    const byPartition = PARTITIONS.map((p) => `p${p}: ${this.records.filter((r) => r.partition === p).map((r) => r.value).join(" ") || "-"}`);
    return `consumer ${this.alive ? "running" : "exited"}; read ${byPartition.join("; ")}${this.stderr ? `; stderr: ${this.stderr}` : ""}`;
  }
}

/** Poll `check` until it holds; the failure says what was awaited and `context()`. */
async function until(what: string, check: () => boolean | Promise<boolean>, context: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms (${context()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let kafka: Kafka;
let admin: Admin;
let seedDir: string;
let dmsLocal: ChildProcessWithoutNullStreams | undefined;
let dmsUrl: string;
const consumers: ConsumerProcess[] = [];
const timings: string[] = [];

/** The runbook CLI, in-process, with credentials from the environment as an operator sets them. */
async function cli(command: "reset" | "show", ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const args = [command, "--endpoint", dmsUrl, "--project-id", PROJECT_ID, "--instance-id", INSTANCE_ID, "--group", group, ...flags];
  const code = await dmsOffsets(args, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function show(): Promise<ShowJson> {
  const r = await cli("show", "--topic", topic, "--json");
  if (r.code !== 0) throw new Error(`dms-offsets show failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ShowJson;
}

const currentOffsets = (s: ShowJson): [number, string][] => s.offsets.map((o) => [o.partition, o.messageCurrentOffset]);

/** Once the consumer is in the group and dms-local shows it STABLE with `offset` committed on every partition. */
async function committedWhileRunning(consumer: ConsumerProcess, offset: string): Promise<ShowJson> {
  // Until the consumer has joined, the group does not exist (dms-local answers 404).
  await until("the consumer joins the group", () => consumer.memberId !== undefined, () => consumer.describe());
  let live: ShowJson | undefined;
  await until(
    `the consumer commits offset ${offset} on every partition`,
    async () => {
      live = await show();
      return live.state === "STABLE" && live.offsets.length === PARTITIONS.length && currentOffsets(live).every(([, o]) => o === offset);
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

  seedDir = await mkdtemp(join(tmpdir(), "rehearsal-seed-"));
  const seedFile = join(seedDir, "seed.json");
  await writeFile(seedFile, JSON.stringify(kafkaSeedInput()));
  dmsUrl = await startDmsLocalBin(seedFile);
});

afterAll(async () => {
  for (const c of consumers) if (c.alive) await c.kill("SIGKILL");
  if (dmsLocal && dmsLocal.exitCode === null) {
    dmsLocal.kill("SIGTERM");
    await once(dmsLocal, "exit");
  }
  if (seedDir) await rm(seedDir, { recursive: true, force: true });
  if (admin) {
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  if (timings.length > 0) console.log(`rehearsal timings: ${timings.join("; ")}`);
});

test("while the consumer runs, the group is STABLE with its member, and a reset is refused with that state", async () => {
  const consumer = new ConsumerProcess("earliest");
  consumers.push(consumer);
  // It has read the first batch and committed it: offsets at 20, the log end.
  const live = await committedWhileRunning(consumer, "20");
  expect(live.members).toEqual([{ memberId: consumer.memberId, clientId: CLIENT_ID, host: "/127.0.0.1", assignment: [{ topic, partitions: [0, 1, 2] }] }]);

  // The runbook refuses before sending anything, naming the state and who is connected.
  const refused = await cli("reset", "--topic", topic, "--timestamp", new Date(T).toISOString());
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
  expect(currentOffsets(await show())).toEqual([
    [0, "20"],
    [1, "20"],
    [2, "20"],
  ]);
});

test("the consumer dies without leaving: the group stays STABLE until its session times out, --wait-inactive waits for that, then the CLI rewinds to T", async () => {
  const [consumer] = consumers;
  const killedAt = Date.now();
  await consumer!.kill("SIGKILL");
  // Written while nobody consumes: the rewound consumer must read these too.
  await produce(kafka, topic, SECOND_BATCH);

  // The broker still counts the dead consumer as a member.
  const dead = await show();
  expect(dead.state).toBe("STABLE");
  expect(dead.members.map((m) => m.memberId)).toEqual([consumer!.memberId]);

  const r = await cli("reset", "--topic", topic, "--timestamp", new Date(T).toISOString(), "--wait-inactive", String(WAIT_INACTIVE_S));
  const rewoundAt = Date.now();
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toContain(`group ${group} is STABLE; waiting up to ${WAIT_INACTIVE_S}s for its consumers to leave`);
  timings.push(`consumer killed → rewind done in ${((rewoundAt - killedAt) / 1000).toFixed(1)} s (session timeout ${SESSION_TIMEOUT_MS / 1000} s, setOffsets ~5 s)`);

  const after = await show();
  expect(after).toMatchObject({ state: "EMPTY", members: [] });
  expect(after.offsets.map((o) => [o.partition, o.messageCurrentOffset, o.messageLogEndOffset])).toEqual(PARTITIONS.map((p) => [p, String(FIRST_AT_OR_AFTER_T[p]), "25"]));
});

test("the restarted consumer reads, on every partition, from the first record at or after T, skipping none", async () => {
  // latest: a partition without a committed offset would start at its end and read nothing.
  const consumer = new ConsumerProcess("latest");
  consumers.push(consumer);
  await expectReadsFrom(consumer, T, FIRST_AT_OR_AFTER_T);
  // It keeps running: the Pulumi round below starts from a live group.
});

describe("the same rehearsal through the Pulumi resource", () => {
  let project: PackedProject;
  let backend: Backend;

  beforeAll(async () => {
    requirePulumiCli();
    [project, backend] = await Promise.all([installPackedProject(), createBackend("rehearsal-passphrase")]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([project?.remove(), backend?.remove()]);
  });

  test("the consumer dies; pulumi up of an OffsetReset to T2 waits for the group to empty and rewinds it", async () => {
    const running = consumers[consumers.length - 1]!;
    // It has committed everything it read: 25 records per partition.
    await committedWhileRunning(running, "25");
    const killedAt = Date.now();
    await running.kill("SIGKILL");
    // Still a member as far as the broker knows: the resource has to wait.
    expect((await show()).state).toBe("STABLE");

    const { OffsetReset } = project.load("pulumi-dms-offset-reset") as typeof import("../../sdk");
    const stack = await openStack(project, backend, {
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
        return { previousOffsets: rewind.previousOffsets, appliedOffsets: rewind.appliedOffsets };
      },
    });
    const result = await stack.up();
    timings.push(`consumer killed → pulumi up done in ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);

    expect(result.summary.result).toBe("succeeded");
    const offsetsOf = (name: string) => (result.outputs[name]!.value as PartitionOffsetState[]).map((o) => [o.partition, o.messageCurrentOffset]);
    expect(offsetsOf("previousOffsets")).toEqual(PARTITIONS.map((p) => [p, "25"]));
    expect(offsetsOf("appliedOffsets")).toEqual(PARTITIONS.map((p) => [p, String(FIRST_AT_OR_AFTER_T2[p])]));
    expect(await show()).toMatchObject({ state: "EMPTY", members: [] });
  }, 120_000);

  test("the next consumer reads, on every partition, from the first record at or after T2, skipping none", async () => {
    const consumer = new ConsumerProcess("latest");
    consumers.push(consumer);
    await expectReadsFrom(consumer, T2, FIRST_AT_OR_AFTER_T2);
    await consumer.kill("SIGTERM");
  });
});
