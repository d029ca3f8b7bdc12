// OffsetReset from Go: the generated Go SDK (sdk/go/dmsoffsetreset) builds and vets, and an inline Automation API
// program that uses it (tests/plugin/goprogram, its go.sum committed) runs up and destroy under the real engine
// against dms-local, the plugin named in the project's `plugins: providers`. Go builds share the Go module and
// build caches with the Pulumi CLI's build (same flags: -trimpath, CGO off).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { DmsLocal } from "../../dms-local/server";
import { createBackend, requirePulumiCli } from "../e2e/harness/pulumi";
import { appliedResets, cleanEnv, CREDENTIALS, INSTANCE_ID, leakedCredentials, pluginBinDir, PROJECT_ID, REPO, startDms, T1, timed, writes } from "./harness";

jest.setTimeout(900_000);
const run = promisify(execFile);
type Backend = Awaited<ReturnType<typeof createBackend>>;

const GO_ENV = { ...process.env, CGO_ENABLED: "0", GOWORK: "off", GOFLAGS: "-mod=readonly -buildvcs=false" };
const SDK_DIR = path.join(REPO, "sdk/go/dmsoffsetreset");

async function go(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await run("go", args, { cwd, env: GO_ENV, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`go ${args.join(" ")} in ${cwd} failed:\n${stdout}\n${stderr}`);
  }
}

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "offset-reset-go-"));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the generated Go SDK builds and vets", async () => {
  await timed("go: build ./... of the SDK", () => go(["build", "-trimpath", "./..."], SDK_DIR));
  await timed("go: vet ./... of the SDK", () => go(["vet", "-trimpath", "./..."], SDK_DIR));
});

describe("an inline Go Automation API program using the SDK", () => {
  let dms: DmsLocal;
  let backend: Backend;
  let bin: ReturnType<typeof pluginBinDir>;

  beforeAll(async () => {
    requirePulumiCli();
    [dms, backend] = await Promise.all([startDms(), createBackend("go-passphrase")]);
    bin = pluginBinDir();
  });

  afterAll(async () => {
    await dms?.close();
    await backend?.remove();
    bin?.remove();
  });

  test("runs up (one reset) and destroy (nothing sent) against dms-local", async () => {
    const program = path.join(tmp, "goprogram");
    await timed("go: build the Automation API program", () => go(["build", "-trimpath", "-o", program, "."], path.join(__dirname, "goprogram")));
    const workDir = mkdtempSync(path.join(tmp, "work-"));
    const env = cleanEnv({
      ...backend.env,
      DMS_PLUGIN_DIR: bin.dir,
      DMS_WORK_DIR: workDir,
      DMS_ENDPOINT: dms.url,
      DMS_PROJECT_ID: PROJECT_ID,
      DMS_INSTANCE_ID: INSTANCE_ID,
      DMS_AK: CREDENTIALS.ak,
      DMS_SK: CREDENTIALS.sk,
      DMS_TIMESTAMP: T1,
    });
    const step = async (name: string) => {
      try {
        const { stdout } = await run(program, [name], { env, maxBuffer: 64 * 1024 * 1024 });
        return JSON.parse(stdout.trim().split("\n").pop() as string) as { summary: Record<string, number>; outputs?: Record<string, unknown>; printed: string };
      } catch (e) {
        const { stdout, stderr } = e as { stdout?: string; stderr?: string };
        throw new Error(`goprogram ${name} failed:\n${stdout}\n${stderr}`);
      }
    };

    const up = await timed("go: up", () => step("up"));
    expect(up.summary).toEqual({ create: 2 });
    expect(await appliedResets(dms, "billing")).toBe(1);
    expect((up.outputs?.previousOffsets as { messageCurrentOffset: string }[]).map((o) => o.messageCurrentOffset)).toEqual(["47990", "47950"]);
    expect(up.printed).toMatch(/payments +0 +47990 +28000/);

    await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
    const destroyed = await timed("go: destroy", () => step("destroy"));
    expect(destroyed.summary).toEqual({ delete: 2 });
    expect(destroyed.printed).toMatch(/nothing was sent to DMS/);
    expect(await writes(dms)).toEqual([]);
    expect(await appliedResets(dms, "billing")).toBe(1);
    expect(leakedCredentials(up.printed + destroyed.printed)).toEqual([]);
  });
});
