// OffsetReset from Pulumi YAML under the real engine, as a user runs it: the package packed and installed into a
// project directory, whose Pulumi.yaml (runtime: yaml) names the plugin the package installs in
// node_modules/.bin (`plugins: providers`), `pulumi` CLI commands run there with stack configuration holding
// the credentials, and dms-local standing in for DMS. Every step counts the resets dms-local applied. The
// steps of the first test depend on each other (one stack through its whole life).
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { createBackend, installPackedProject, requirePulumiCli } from "../e2e/harness/pulumi";
import { appliedResets, cleanEnv, CREDENTIALS, INSTANCE_ID, leakedCredentials, PLUGIN_NAME, PROJECT_ID, REPO, startDms, T1, T2, timed, writes } from "./harness";

jest.setTimeout(300_000);
const run = promisify(execFile);

type PackedProject = Awaited<ReturnType<typeof installPackedProject>>;
type Backend = Awaited<ReturnType<typeof createBackend>>;

let project: PackedProject;
let backend: Backend;
let dms: DmsLocal;
/** Everything the CLI printed, to search for credentials at the end. */
const transcript: string[] = [];

beforeAll(async () => {
  requirePulumiCli();
  [project, backend, dms] = await Promise.all([timed("pack and install", () => installPackedProject()), createBackend("yaml-passphrase"), startDms()]);
  const plugin = path.join(project.dir, "node_modules/.bin", PLUGIN_NAME);
  if (!existsSync(plugin)) {
    throw new Error(`the installed package has no ${PLUGIN_NAME} in node_modules/.bin: package.json needs "bin": {"${PLUGIN_NAME}": "dist/provider/plugin/main.js"}`);
  }
  if (!existsSync(path.join(project.dir, "node_modules/pulumi-dms-offset-reset/provider/plugin/schema.json"))) {
    throw new Error('the packed package lacks provider/plugin/schema.json: package.json "files" needs "provider/plugin/schema.json"');
  }
}, 600_000);

afterAll(async () => {
  await dms?.close();
  await Promise.all([project?.remove(), backend?.remove()]);
});

/** Runs `pulumi ARGS` in the project directory; returns stdout (and keeps both streams in the transcript). */
async function pulumi(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run("pulumi", [...args, "--non-interactive"], { cwd: project.dir, env: cleanEnv({ ...backend.env, ...env }), maxBuffer: 64 * 1024 * 1024 });
    transcript.push(stdout, stderr);
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    transcript.push(stdout ?? "", stderr ?? "");
    throw new Error(`pulumi ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
  }
}

/**
 * The program: one OffsetReset of group billing on topic payments, to `timestamp`; endpoint and credentials from
 * stack configuration. The plugin is the installed package's (`plugins: providers`), or without `localPlugin`,
 * one installed with `pulumi plugin install`.
 */
function writeProgram(timestamp: string, localPlugin = true): void {
  writeFileSync(
    path.join(project.dir, "Pulumi.yaml"),
    [
      "name: offset-reset-yaml",
      "runtime: yaml",
      ...(localPlugin ? ["plugins:", "  providers:", "    - name: dms-offset-reset", "      path: ./node_modules/.bin"] : []),
      "resources:",
      "  rewind:",
      "    type: dms-offset-reset:index:OffsetReset",
      "    properties:",
      `      projectId: ${PROJECT_ID}`,
      `      instanceId: ${INSTANCE_ID}`,
      "      group: billing",
      "      topic: payments",
      `      timestamp: "${timestamp}"`,
      "outputs:",
      "  previousOffsets: ${rewind.previousOffsets}",
      "  appliedOffsets: ${rewind.appliedOffsets}",
      "",
    ].join("\n"),
  );
}

interface PreviewJson {
  steps: { op: string; urn: string; replaceReasons?: string[]; detailedDiff?: Record<string, { kind: string }> }[];
  diagnostics?: { urn?: string; message: string; severity: string }[];
}

test("up rewinds once; a new timestamp previews as a replacement caused by timestamp, with the plan; up; refresh; destroy sends nothing; no credential in state", async () => {
  writeProgram(T1);
  await pulumi(["stack", "init", "dev"]);
  await pulumi(["config", "set", "--secret", "dms-offset-reset:accessKey", CREDENTIALS.ak]);
  await pulumi(["config", "set", "--secret", "dms-offset-reset:secretKey", CREDENTIALS.sk]);
  await pulumi(["config", "set", "dms-offset-reset:endpoint", dms.url]);

  const up = await timed("yaml: up", () => pulumi(["up", "--yes"]));
  expect(await appliedResets(dms, "billing")).toBe(1);
  expect(up).toMatch(/payments +0 +47990 +28000/); // the plan, in the update's diagnostics
  const outputs = JSON.parse(await pulumi(["stack", "output", "--json"])) as { previousOffsets: { messageCurrentOffset: string }[]; appliedOffsets: { messageCurrentOffset: string }[] };
  expect(outputs.previousOffsets.map((o) => o.messageCurrentOffset)).toEqual(["47990", "47950"]);
  expect(outputs.appliedOffsets.map((o) => o.messageCurrentOffset)).toEqual(["28000", "28000"]);

  writeProgram(T2);
  const preview = JSON.parse(await timed("yaml: preview --json", () => pulumi(["preview", "--json"]))) as PreviewJson;
  const step = preview.steps.find((s) => s.urn.endsWith("::rewind"));
  expect(step).toMatchObject({ op: "replace", replaceReasons: ["timestamp"], detailedDiff: { timestamp: { kind: "update-replace" } } });
  const planned = (preview.diagnostics ?? []).filter((d) => d.urn?.endsWith("::rewind")).map((d) => d.message).join("\n");
  expect(planned).toMatch(/payments +0 +28000 +31600 .*SKIPS 3600/);
  expect(planned).toMatch(/payments +1 +28000 +31600 .*SKIPS 3600/);
  expect(await appliedResets(dms, "billing")).toBe(1);
  expect(await writes(dms)).toHaveLength(1);

  await timed("yaml: up (replace)", () => pulumi(["up", "--yes"]));
  expect(await appliedResets(dms, "billing")).toBe(2);
  expect(await dms.world.committedOffsets(INSTANCE_ID, "billing")).toEqual(expect.arrayContaining([expect.objectContaining({ topic: "payments", partition: 0, offset: 31600n })]));

  await timed("yaml: refresh", () => pulumi(["refresh", "--yes"]));
  await timed("yaml: preview --expect-no-changes", () => pulumi(["preview", "--expect-no-changes"]));
  expect(await appliedResets(dms, "billing")).toBe(2);

  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  const destroyed = await timed("yaml: destroy", () => pulumi(["destroy", "--yes"]));
  expect(destroyed).toMatch(/nothing was sent to DMS/);
  expect(await writes(dms)).toEqual([]);
  expect(await appliedResets(dms, "billing")).toBe(2);

  // No credential anywhere: the export without secrets, the raw checkpoints and history, what the CLI printed.
  expect(leakedCredentials(await pulumi(["stack", "export", "--show-secrets=false"]))).toEqual([]);
  const stateFiles = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  })(backend.state);
  expect(stateFiles.some((f) => f.endsWith(path.join("stacks", "offset-reset-yaml", "dev.json")))).toBe(true);
  for (const file of stateFiles) expect({ file, leaked: leakedCredentials(readFileSync(file, "utf8")) }).toEqual({ file, leaked: [] });
  expect(leakedCredentials(transcript.join("\n"))).toEqual([]);
});

test("examples/yaml runs as its README says, against dms-local's default seed", async () => {
  const seed = parseSeed(readFileSync(path.join(REPO, "dms-local/seed.default.json"), "utf8"));
  const demo = seed.credentials[0] as { ak: string; sk: string };
  const local = await startDmsLocal({ seed, admin: true });
  try {
    writeFileSync(path.join(project.dir, "Pulumi.yaml"), readFileSync(path.join(REPO, "examples/yaml/Pulumi.yaml")));
    await pulumi(["stack", "init", "example"]);
    await pulumi(["config", "set", "dms-offset-reset:endpoint", local.url]);
    await pulumi(["config", "set", "--secret", "dms-offset-reset:accessKey", demo.ak]);
    await pulumi(["config", "set", "--secret", "dms-offset-reset:secretKey", demo.sk]);
    await timed("examples/yaml: up", () => pulumi(["up", "--yes"]));
    const applied = local.applications((seed.instances[0] as { id: string }).id, "billing");
    expect(applied.count).toBe(1);
    const outputs = JSON.parse(await pulumi(["stack", "output", "--json"])) as { requestId: string };
    expect(outputs.requestId).toMatch(/\S/);
    await pulumi(["destroy", "--yes"]);
    expect(local.applications((seed.instances[0] as { id: string }).id, "billing").count).toBe(1);
  } finally {
    await local.close();
  }
});

test("the plugin tarball (provider/plugin/tarball.sh) installs with `pulumi plugin install --file` and runs a program that names no plugin path", async () => {
  const out = await timed("tarball: build", async () => (await run("bash", [path.join(REPO, "provider/plugin/tarball.sh"), project.dir], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim().split("\n").pop() as string);
  const version = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
  expect(path.basename(out)).toBe(`pulumi-resource-dms-offset-reset-v${version}.tar.gz`);
  await pulumi(["plugin", "install", "resource", "dms-offset-reset", version, "--file", out]);
  const listed = await pulumi(["plugin", "ls"]);
  expect(listed).toMatch(new RegExp(`dms-offset-reset\\s+resource\\s+${version.replace(/\./g, "\\.")}`));
  writeProgram(T1, false);
  await pulumi(["stack", "init", "tarball"]);
  await pulumi(["config", "set", "--secret", "dms-offset-reset:accessKey", CREDENTIALS.ak]);
  await pulumi(["config", "set", "--secret", "dms-offset-reset:secretKey", CREDENTIALS.sk]);
  await pulumi(["config", "set", "dms-offset-reset:endpoint", dms.url]);
  const before = await appliedResets(dms, "billing");
  await timed("tarball: up", () => pulumi(["up", "--yes"]));
  expect(await appliedResets(dms, "billing")).toBe(before + 1);
  await pulumi(["destroy", "--yes"]);
  expect(await appliedResets(dms, "billing")).toBe(before + 1);
});
