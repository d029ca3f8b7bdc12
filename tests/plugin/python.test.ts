// OffsetReset from Python under the real engine: the generated typed SDK (sdk/python) installed beside the Pulumi
// Python SDK of tests/e2e/python-env.sh ($DMS_PYTHON_VENV), an inline Automation API program
// (tests/plugin/python/program.py) whose project names the plugin in `plugins: providers`, stack configuration
// holding the credentials, and dms-local standing in for DMS. One program step per process; dms-local is
// checked in between. The steps depend on each other (one stack through its whole life).
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { DmsLocal } from "../../dms-local/server";
import { filesUnder, SDK_DIRS } from "../../tools/schema/sdks";
import { createBackend, requirePulumiCli } from "../e2e/harness/pulumi";
import { appliedResets, cleanEnv, CREDENTIALS, INSTANCE_ID, leakedCredentials, pluginBinDir, PROJECT_ID, REPO, startDms, T1, T2, timed, writes } from "./harness";

jest.setTimeout(300_000);
const run = promisify(execFile);
type Backend = Awaited<ReturnType<typeof createBackend>>;

/** The venv with the Pulumi Python SDK: $DMS_PYTHON_VENV (tests/run.sh), else made (or found cached) by python-env.sh. */
function pythonVenv(): string {
  const given = process.env.DMS_PYTHON_VENV;
  if (given) return given;
  return execFileSync("bash", [path.join(REPO, "tests/e2e/python-env.sh"), REPO], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop() as string;
}

/**
 * A directory for PYTHONPATH holding the generated SDK and what it needs beyond the venv (parver), installed once
 * per SDK content and venv into the tools' cache (pip, from PyPI). The venv itself is shared and left as it is.
 */
function sdkSitePackages(venv: string): string {
  const hash = createHash("sha256").update(venv);
  for (const f of filesUnder(SDK_DIRS.python)) hash.update(f).update(readFileSync(path.join(SDK_DIRS.python, f)));
  const cacheRoot = process.env.PULUMI_CLI_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-dms-offset-reset");
  const dir = path.join(cacheRoot, `python-sdk-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(path.join(dir, "ready"))) return path.join(dir, "site");
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    // A copy: building in sdk/python would leave build/ and *.egg-info there.
    cpSync(SDK_DIRS.python, path.join(tmp, "src"), { recursive: true });
    const pip = (args: string[]) => execFileSync(path.join(venv, "bin/python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", path.join(tmp, "site"), ...args], { stdio: ["ignore", "inherit", "inherit"] });
    pip(["--no-deps", path.join(tmp, "src")]);
    pip(["parver>=0.2.1"]);
    writeFileSync(path.join(tmp, "ready"), "");
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return path.join(dir, "site");
}

let venv: string;
let site: string;
let dms: DmsLocal;
let backend: Backend;
let bin: ReturnType<typeof pluginBinDir>;
let workDir: string;
const transcript: string[] = [];

beforeAll(async () => {
  requirePulumiCli();
  venv = pythonVenv();
  site = await timed("python: SDK install (cached per SDK content)", async () => sdkSitePackages(venv));
  [dms, backend] = await Promise.all([startDms(), createBackend("python-passphrase")]);
  bin = pluginBinDir();
  workDir = mkdtempSync(path.join(os.tmpdir(), "offset-reset-python-"));
  writeFileSync(
    path.join(workDir, "Pulumi.yaml"),
    ["name: offset-reset-python", "runtime: python", "plugins:", "  providers:", "    - name: dms-offset-reset", `      path: ${bin.dir}`, ""].join("\n"),
  );
}, 600_000);

afterAll(async () => {
  await dms?.close();
  await backend?.remove();
  bin?.remove();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface StepResult {
  summary?: Record<string, number>;
  outputs?: Record<string, unknown>;
  changes?: Record<string, number>;
  steps?: { op: string; type: string; keys?: string[] }[];
  diagnostics?: string[];
  printed: string;
}

/** Runs one step of program.py; returns its JSON result. */
async function step(name: string, timestamp = ""): Promise<StepResult> {
  const env = cleanEnv({
    ...backend.env,
    PYTHONPATH: site,
    DMS_PROJECT_ID: PROJECT_ID,
    DMS_INSTANCE_ID: INSTANCE_ID,
    DMS_AK: CREDENTIALS.ak,
    DMS_SK: CREDENTIALS.sk,
    DMS_ENDPOINT: dms.url,
  });
  try {
    const { stdout, stderr } = await run(path.join(venv, "bin/python"), [path.join(__dirname, "python/program.py"), workDir, name, timestamp], { env, maxBuffer: 64 * 1024 * 1024 });
    transcript.push(stdout, stderr);
    return JSON.parse(stdout.trim().split("\n").pop() as string) as StepResult;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`program.py ${name} failed:\n${stdout}\n${stderr}`);
  }
}

test("the typed Python SDK: up rewinds once; a new timestamp previews as a replacement caused by timestamp, with the plan; up; refresh; destroy sends nothing; no credential in state", async () => {
  await step("init");
  const up = await timed("python: up", () => step("up", T1));
  expect(up.summary).toEqual({ create: 2 });
  expect(await appliedResets(dms, "billing")).toBe(1);
  // The typed SDK's output objects export their fields by their Python names.
  expect((up.outputs?.previousOffsets as { message_current_offset: string }[]).map((o) => o.message_current_offset)).toEqual(["47990", "47950"]);
  expect(up.printed).toMatch(/payments +0 +47990 +28000/);

  const preview = await timed("python: preview", () => step("preview", T2));
  expect(preview.steps).toContainEqual({ op: "replace", type: "dms-offset-reset:index:OffsetReset", keys: ["timestamp"] });
  expect(preview.diagnostics?.join("\n")).toMatch(/payments +1 +28000 +31600 .*SKIPS 3600/);
  expect(await writes(dms)).toHaveLength(1);

  const replaced = await timed("python: up (replace)", () => step("up", T2));
  expect(replaced.summary).toMatchObject({ replace: 1 });
  expect(await appliedResets(dms, "billing")).toBe(2);

  await timed("python: refresh", () => step("refresh", T2));
  await timed("python: preview expecting no changes", () => step("preview-no-changes", T2));
  expect(await appliedResets(dms, "billing")).toBe(2);

  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  const destroyed = await timed("python: destroy", () => step("destroy", T2));
  expect(destroyed.summary).toEqual({ delete: 2 });
  expect(destroyed.printed).toMatch(/nothing was sent to DMS/);
  expect(await writes(dms)).toEqual([]);

  const { stdout: exported } = await run("pulumi", ["stack", "export", "--show-secrets=false", "--non-interactive"], { cwd: workDir, env: cleanEnv(backend.env) });
  expect(leakedCredentials(exported)).toEqual([]);
  const stateFiles = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  })(backend.state);
  expect(stateFiles.length).toBeGreaterThan(0);
  for (const file of stateFiles) expect({ file, leaked: leakedCredentials(readFileSync(file, "utf8")) }).toEqual({ file, leaked: [] });
  expect(leakedCredentials(transcript.join("\n"))).toEqual([]);
});
