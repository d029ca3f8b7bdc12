// The supported @pulumi/pulumi range (package.json peerDependencies), tested at its ends: the packed package
// installed into a fresh stack next to @pulumi/pulumi at the range's lower bound and at the newest release the
// registry served when the range was last checked. In each stack: exactly one copy of @pulumi/pulumi, the
// stack's (a second copy inside the package is what broke users: `Request message serialization failure:
// Expected argument of type pulumirpc.RegisterResourceRequest`); every module of the package loads with it;
// and the real engine (the `pulumi` CLI on PATH, this repository's version: users' CLIs and SDKs differ too)
// runs the rewind against dms-local as a plain program (Pulumi.yaml + index.js, `pulumi up/preview/destroy`
// in the directory) and as an inline program of the stack's own Automation API, with no warning printed.
// Both stacks are installed at once; npm's cache (~/.npm) keeps reruns short.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Seed, type SeedInput } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import {
  createBackend,
  installedPulumiCopies,
  installPackedProject,
  packPackage,
  requirePulumiCli,
  type PackedProject,
} from "../e2e/harness/pulumi";

type Backend = Awaited<ReturnType<typeof createBackend>>;
const run = promisify(execFile);

jest.setTimeout(300_000);

const repo = path.resolve(__dirname, "../..");
const peerRange = (JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { peerDependencies: Record<string, string> })
  .peerDependencies["@pulumi/pulumi"] as string;
/** The lowest supported release: the range's own lower bound, so that the two cannot drift apart. */
const LOWEST = /^\^(\d+\.\d+\.\d+)$/.exec(peerRange)?.[1] as string;
/** The newest release when the range was last checked (`npm view @pulumi/pulumi version`); raise it with the range. */
const NEWEST = "3.276.0";
const VERSIONS = [LOWEST, NEWEST];

const CREDENTIALS = { ak: "COMPATMATRIXAK000001", sk: "compat-matrix-secret-key-not-real-0001" };
const PROJECT_ID = "c0a7b1e2d3f44a5b8c6d7e8f9a0b1c2d";
const INSTANCE_ID = "c0a70000-1111-4222-8333-444455556666";
const timestamps = { base: 1_700_000_000_000, stepMs: 1000 }; // record n was written at base + n s
const T1 = "2023-11-15T06:00:00Z"; // record 28000 of every partition
const T2 = "2023-11-15T05:00:00Z"; // record 24400: further back (a forward move is warned about)
const AFTER_T1 = { "payments/0": "28000", "payments/1": "28000" };

type Mode = "plain" | "automation";
/** One stopped consumer group per scenario, so that each counts only its own resets. */
const groupOf = (version: string, mode: Mode) => `compat-${mode}-${version.replace(/\./g, "-")}`;

const seedInput: SeedInput = {
  projectId: PROJECT_ID,
  credentials: [{ ak: CREDENTIALS.ak, sk: CREDENTIALS.sk, userName: "compat" }],
  instances: [
    {
      id: INSTANCE_ID,
      topics: { payments: { partitions: [{ logStartOffset: 0, logEndOffset: 48000, timestamps }, { logStartOffset: 200, logEndOffset: 47950, timestamps }] } },
      groups: Object.fromEntries(
        VERSIONS.flatMap((v) => (["plain", "automation"] as const).map((m) => [groupOf(v, m), { state: "EMPTY", offsets: { "payments/0": 47990, "payments/1": 47950 } }])),
      ),
    },
  ],
};

let packDir: string;
let dms: DmsLocal;
const projects = new Map<string, PackedProject>();
const backends = new Map<string, Backend>();

beforeAll(async () => {
  requirePulumiCli();
  packDir = await mkdtemp(path.join(os.tmpdir(), "offset-reset-compat-"));
  const started = Date.now();
  const [tarball] = await Promise.all([
    packPackage(packDir),
    startDmsLocal({ seed: Seed.parse(seedInput), admin: true }).then((d) => void (dms = d)),
  ]);
  await Promise.all(
    VERSIONS.map(async (version) => {
      const [project, backend] = await Promise.all([installPackedProject({ pulumiVersion: version, tarball }), createBackend(`compat-${version}`)]);
      projects.set(version, project);
      backends.set(version, backend);
    }),
  );
  console.log(`packed, and installed beside @pulumi/pulumi ${VERSIONS.join(" and ")}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
  await dms?.close();
  await Promise.all([...projects.values()].map((p) => p.remove()));
  await Promise.all([...backends.values()].map((b) => b.remove()));
  if (packDir !== undefined) await rm(packDir, { recursive: true, force: true });
});

interface Logged {
  method: string;
  path: string;
  status: number | null;
}

/** The resets dms-local received for the group: "accepted" for a 2xx answer, else the status. */
async function resetsOf(group: string): Promise<string[]> {
  const { requests } = (await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: Logged[] };
  return requests.filter((r) => r.path.endsWith(`/groups/${group}/reset-message-offset`)).map((r) => answer(r.status));
}
const answer = (status: number | null) => (status !== null && status >= 200 && status < 300 ? "accepted" : `status ${status}`);

async function committed(group: string): Promise<Record<string, string>> {
  const offsets = await dms.world.committedOffsets(INSTANCE_ID, group);
  return Object.fromEntries(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset.toString()]));
}

const rewindArgs = (group: string, timestamp: string) => ({
  endpoint: dms.url,
  projectId: PROJECT_ID,
  instanceId: INSTANCE_ID,
  group,
  topic: "payments",
  partition: -1,
  timestamp,
});

interface AutomationSteps {
  up: { result: string; changes: Record<string, number>; sdkVersion: string; applied: string[]; resets: string[] };
  preview: { changes: Record<string, number>; resets: string[] };
  replacing: { changes: Record<string, number>; resets: string[] };
  destroy: { result: string; changes: Record<string, number>; resets: string[] };
  /** Lines of the engine's output that mention a warning. */
  warnings: string[];
}

/**
 * The Automation API program, a process of its own as a user's is: its inline program declares the rewind
 * (argv[2]: the inputs as JSON, with both timestamps and dms-local's URL); after each operation it records
 * the engine's summary and the resets dms-local has received for the group, and prints them, with the lines of
 * the engine's output that mention a warning, as one JSON line.
 */
const AUTOMATION_PROGRAM = `"use strict";
const { LocalWorkspace } = require("@pulumi/pulumi/automation");
const { version } = require("@pulumi/pulumi/version");
const { OffsetReset } = require("pulumi-dms-offset-reset");

const { dmsUrl, timestamps, ...args } = JSON.parse(process.argv[2]);
let timestamp = timestamps[0];

async function resets() {
  const { requests } = await (await fetch(dmsUrl + "/__admin/requests")).json();
  const answer = (status) => (status !== null && status >= 200 && status < 300 ? "accepted" : "status " + status);
  return requests.filter((r) => r.path.endsWith("/groups/" + args.group + "/reset-message-offset")).map((r) => answer(r.status));
}

async function main() {
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      projectName: "compat-automation",
      stackName: "automation",
      program: async () => {
        const rewind = new OffsetReset("rewind", { ...args, timestamp });
        return { sdkVersion: version, appliedOffsets: rewind.appliedOffsets };
      },
    },
    { workDir: __dirname, projectSettings: { name: "compat-automation", runtime: "nodejs", main: __dirname } },
  );
  const steps = {};
  const printed = [];
  const print = { onOutput: (text) => void printed.push(text), onError: (text) => void printed.push(text) };
  const up = await stack.up(print);
  steps.up = {
    result: up.summary.result,
    changes: up.summary.resourceChanges,
    sdkVersion: up.outputs.sdkVersion.value,
    applied: up.outputs.appliedOffsets.value.map((o) => o.messageCurrentOffset),
    resets: await resets(),
  };
  steps.preview = { changes: (await stack.preview({ expectNoChanges: true, ...print })).changeSummary, resets: await resets() };
  timestamp = timestamps[1];
  steps.replacing = { changes: (await stack.preview(print)).changeSummary, resets: await resets() };
  const destroyed = await stack.destroy(print);
  steps.destroy = { result: destroyed.summary.result, changes: destroyed.summary.resourceChanges, resets: await resets() };
  steps.warnings = printed.join("").split("\\n").filter((line) => /warning/i.test(line));
  process.stdout.write(JSON.stringify(steps) + "\\n");
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
`;

/**
 * Run in the stack's directory: requires every compiled module of the installed package (the provider plugin's
 * too, which reaches into @pulumi/pulumi's generated protobuf modules) except dms-local's command, which starts
 * serving when loaded; prints the modules that failed and the directories of the @pulumi/pulumi copies loaded.
 */
const LOAD_EVERY_MODULE = `
const fs = require("node:fs");
const path = require("node:path");
const root = path.dirname(require.resolve("pulumi-dms-offset-reset/package.json", { paths: [process.cwd()] }));
const failed = [];
for (const entry of fs.readdirSync(path.join(root, "dist"), { recursive: true })) {
  const file = path.join(root, "dist", entry);
  if (!file.endsWith(".js") || file === path.join(root, "dist/dms-local/main.js")) continue;
  try { require(file); } catch (error) { failed.push(entry + ": " + error.message.split("\\n")[0]); }
}
const pulumiFrom = new Set(Object.keys(require.cache).filter((f) => f.includes("/@pulumi/pulumi/")).map((f) => f.slice(0, f.indexOf("/@pulumi/pulumi/") + "/@pulumi/pulumi".length)));
process.stdout.write(JSON.stringify({ failed, pulumiFrom: [...pulumiFrom] }));
process.exit(0);
`;

/** The plain program: what a user writes in index.js, its settings from stack configuration. */
const PLAIN_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const { OffsetReset } = require("pulumi-dms-offset-reset");

const config = new pulumi.Config();
const rewind = new OffsetReset("rewind", {
  endpoint: config.require("endpoint"),
  projectId: config.require("projectId"),
  instanceId: config.require("instanceId"),
  group: config.require("group"),
  topic: "payments",
  partition: -1,
  timestamp: config.require("timestamp"),
});
exports.sdkVersion = require("@pulumi/pulumi/version").version;
exports.appliedOffsets = rewind.appliedOffsets;
`;

describe.each(VERSIONS)("@pulumi/pulumi %s", (version) => {
  const project = () => projects.get(version) as PackedProject;
  const backend = () => backends.get(version) as Backend;

  test("the stack holds one copy of @pulumi/pulumi, its own, and the package is installed without one", async () => {
    expect(await installedPulumiCopies(project().dir)).toEqual([{ path: path.join("node_modules", "@pulumi", "pulumi"), version }]);
    const installed = JSON.parse(readFileSync(path.join(project().dir, "node_modules/pulumi-dms-offset-reset/package.json"), "utf8")) as Record<string, unknown>;
    expect(installed.peerDependencies).toEqual({ "@pulumi/pulumi": peerRange });
    expect(installed.dependencies).not.toHaveProperty("@pulumi/pulumi");
    const warnings = project().installLog.split("\n").filter((line) => /warn/i.test(line));
    console.log(`npm install beside @pulumi/pulumi ${version} on Node ${process.version}: ${warnings.length === 0 ? "no warnings" : `\n${warnings.join("\n")}`}`);
  });

  test("every module of the package loads beside it, and every Pulumi module they load is the stack's copy", async () => {
    const { stdout } = await run("node", ["-e", LOAD_EVERY_MODULE], { cwd: project().dir, maxBuffer: 16 * 1024 * 1024 });
    const { failed, pulumiFrom } = JSON.parse(stdout) as { failed: string[]; pulumiFrom: string[] };
    expect(failed).toEqual([]);
    expect(pulumiFrom).toEqual([path.join(project().dir, "node_modules", "@pulumi", "pulumi")]);
  });

  test("a plain program: pulumi up, preview, a replacement previewed, destroy in the project directory", async () => {
    const group = groupOf(version, "plain");
    // Everything the CLI prints: the engine's diagnostics (warnings among them) go to stderr.
    const printed: string[] = [];
    const cli = async (args: string[]) => {
      const { stdout, stderr } = await run("pulumi", [...args, "--non-interactive"], {
        cwd: project().dir,
        env: { ...process.env, ...backend().env, CLOUD_SDK_AK: CREDENTIALS.ak, CLOUD_SDK_SK: CREDENTIALS.sk },
        maxBuffer: 16 * 1024 * 1024,
      });
      printed.push(stdout, stderr);
      return stdout;
    };
    await writeFile(path.join(project().dir, "Pulumi.yaml"), "name: compat-plain\nruntime: nodejs\n");
    await writeFile(path.join(project().dir, "index.js"), PLAIN_PROGRAM);
    await cli(["stack", "init", "plain"]);
    for (const [key, value] of Object.entries({ endpoint: dms.url, projectId: PROJECT_ID, instanceId: INSTANCE_ID, group, timestamp: T1 })) {
      await cli(["config", "set", key, value]);
    }

    const up = await cli(["up", "--yes", "--skip-preview"]);
    expect(up).toMatch(/2 created/);
    expect(await resetsOf(group)).toEqual(["accepted"]);
    expect(await committed(group)).toEqual(AFTER_T1);
    const outputs = JSON.parse(await cli(["stack", "output", "--json"])) as { sdkVersion: string; appliedOffsets: { messageCurrentOffset: string }[] };
    expect(outputs.sdkVersion).toBe(version);
    expect(outputs.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual(["28000", "28000"]);

    await cli(["preview", "--expect-no-changes"]);
    await cli(["config", "set", "timestamp", T2]);
    const replacing = await cli(["preview", "--diff"]);
    expect(replacing).toMatch(/\+-\s*pulumi-nodejs:dynamic\/dms:OffsetReset/);
    expect(replacing).toMatch(/1 to replace/);

    const destroyed = await cli(["destroy", "--yes", "--skip-preview"]);
    expect(destroyed).toMatch(/2 deleted/);
    expect(await resetsOf(group)).toEqual(["accepted"]);
    expect(await committed(group)).toEqual(AFTER_T1);
    expect(JSON.parse(await cli(["stack", "export"])).deployment.resources ?? []).toEqual([]);
    // Nothing to warn about, from the engine, the language host, the SDK, the dynamic-provider host or Node.
    expect(printed.join("").split("\n").filter((line) => /warning/i.test(line))).toEqual([]);
  });

  test("an inline program of the project's own Automation API: up, preview, a replacement previewed, destroy", async () => {
    const group = groupOf(version, "automation");
    // A directory of its own: the workspace writes its Pulumi.yaml there, beside the plain program's.
    const workDir = path.join(project().dir, "automation");
    await mkdir(workDir, { recursive: true });
    await writeFile(path.join(workDir, "main.js"), AUTOMATION_PROGRAM);
    const input = { ...rewindArgs(group, T1), timestamps: [T1, T2], dmsUrl: dms.url };
    const { stdout, stderr } = await run("node", ["main.js", JSON.stringify(input)], {
      cwd: workDir,
      env: { ...process.env, ...backend().env, CLOUD_SDK_AK: CREDENTIALS.ak, CLOUD_SDK_SK: CREDENTIALS.sk },
      maxBuffer: 16 * 1024 * 1024,
    });
    const steps = JSON.parse(stdout.trim().split("\n").pop() as string) as AutomationSteps;

    expect(steps.up).toEqual({ result: "succeeded", changes: { create: 2 }, sdkVersion: version, applied: ["28000", "28000"], resets: ["accepted"] });
    expect(steps.preview).toEqual({ changes: { same: 2 }, resets: ["accepted"] });
    expect(steps.replacing).toEqual({ changes: { same: 1, replace: 1 }, resets: ["accepted"] });
    expect(steps.destroy).toEqual({ result: "succeeded", changes: { delete: 2 }, resets: ["accepted"] });
    expect(await committed(group)).toEqual(AFTER_T1);
    // Nothing to warn about, from the engine, the SDK, the dynamic-provider host or Node (whatever `engines` says).
    expect(steps.warnings).toEqual([]);
    expect(stderr).toBe("");
  });
});
