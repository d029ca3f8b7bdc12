// What `npm pack` publishes, checked in the tarball itself: exactly the compiled sources (no source map whose
// sources are not shipped, no leftover of a deleted source), the seed, the plugin's schema, README, LICENSE; package.json's entry
// points, bins and metadata; @pulumi/pulumi a peer dependency only; every module the shipped code requires
// declared. And the two bins a runbook uses, dms-offsets and dms-local, run without Pulumi's SDK: from the
// repository's dist/ with any @pulumi/ module refused, and from the tarball installed without peers.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import ts from "typescript";

const run = promisify(execFile);
const repo = path.resolve(__dirname, "../..");
const FORBID_PULUMI = path.join(__dirname, "forbid-pulumi.js");
const BUFFER = 16 * 1024 * 1024;

jest.setTimeout(180_000);

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}
interface Manifest {
  name: string;
  license: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  repository?: { type: string; url: string };
  homepage?: string;
  bugs?: { url: string };
  keywords?: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

let work: string;
let packed: PackResult;
/** The tarball's content, extracted: `package/…`. */
let unpacked: string;
let manifest: Manifest;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "offset-reset-package-"));
  await run("npm", ["run", "--silent", "build"], { cwd: repo, maxBuffer: BUFFER }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`npm run build failed in ${repo}:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: repo, maxBuffer: BUFFER });
  packed = (JSON.parse(stdout) as PackResult[])[0] as PackResult;
  unpacked = path.join(work, "unpacked");
  await mkdir(unpacked);
  await run("tar", ["-xzf", path.join(work, packed.filename), "-C", unpacked]);
  manifest = JSON.parse(await readFile(path.join(unpacked, "package/package.json"), "utf8")) as Manifest;
  console.log(`npm pack: ${packed.filename}, ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ${packed.entryCount} files`);
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** The sources tsconfig.json compiles, relative to the repository, without their `.ts`. */
function compiledSources(): string[] {
  const config = ts.readConfigFile(path.join(repo, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repo);
  return parsed.fileNames.filter((f) => !f.endsWith(".d.ts")).map((f) => path.relative(repo, f).replace(/\.ts$/, ""));
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const packagePath = (file: string) => path.join(unpacked, "package", file);

describe("the tarball", () => {
  test("holds the compiled sources (.js and .d.ts), the seed, the plugin's schema, the READMEs, LICENSE and package.json: nothing else", () => {
    const expected = [
      ...compiledSources().flatMap((source) => [`dist/${source}.js`, `dist/${source}.d.ts`]),
      "LICENSE",
      "README.md",
      "dms-local/README.md",
      "dms-local/seed.default.json",
      "package.json",
      "provider/plugin/schema.json", // the provider plugin's GetSchema answer, read at run time (provider/plugin/schema.ts)
    ].sort();
    expect(packed.files.map((f) => f.path).sort()).toEqual(expected);
  });

  test("ships no source map, and no file refers to one that is not shipped", async () => {
    const files = await filesUnder(path.join(unpacked, "package"));
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    const referring: string[] = [];
    for (const file of files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const text = await readFile(packagePath(file), "utf8");
      for (const [, target] of text.matchAll(/^\/\/# source(?:Mapping)?URL=(\S+)$/gm)) {
        if (!existsSync(path.resolve(path.dirname(packagePath(file)), target as string))) referring.push(`${file} -> ${target}`);
      }
    }
    expect(referring).toEqual([]);
  });

  test("LICENSE is the Apache License 2.0 that package.json names", () => {
    const license = readFileSync(packagePath("LICENSE"), "utf8");
    expect(manifest.license).toBe("Apache-2.0");
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//);
    expect(license).toContain("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
    expect(license.trimEnd()).toMatch(/END OF TERMS AND CONDITIONS$/);
  });

  test("package.json: entry points and bins are shipped, the bins are node scripts, the project is described", () => {
    for (const file of [manifest.main, manifest.types, ...Object.values(manifest.bin)]) expect(existsSync(packagePath(file))).toBe(true);
    expect(Object.keys(manifest.bin)).toEqual(expect.arrayContaining(["dms-local", "dms-offsets"]));
    for (const file of Object.values(manifest.bin)) expect(readFileSync(packagePath(file), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(manifest.repository).toEqual({ type: "git", url: expect.stringMatching(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/) });
    const repoUrl = manifest.repository!.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(manifest.homepage).toBe(`${repoUrl}#readme`);
    expect(manifest.bugs).toEqual({ url: `${repoUrl}/issues` });
    expect(manifest.keywords).toEqual(expect.arrayContaining(["pulumi", "kafka", "dms", "huawei-cloud"]));
  });

  test("@pulumi/pulumi is a peer dependency (the user's copy), and the repository builds with a release in its range", () => {
    const range = manifest.peerDependencies?.["@pulumi/pulumi"];
    expect(range).toMatch(/^\^3\.\d+\.\d+$/);
    expect(manifest.dependencies).not.toHaveProperty("@pulumi/pulumi");
    const [lowMinor, lowPatch] = range!.slice(3).split(".").map(Number) as [number, number];
    const dev = manifest.devDependencies["@pulumi/pulumi"] as string;
    expect(dev).toMatch(/^3\.\d+\.\d+$/); // exact: tests/e2e/pulumi-cli.sh builds the CLI of that version
    const [, devMinor, devPatch] = dev.split(".").map(Number) as [number, number, number];
    expect(devMinor > lowMinor || (devMinor === lowMinor && devPatch >= lowPatch)).toBe(true);
  });

  test("every module the shipped code requires is a Node built-in, a dependency, or the @pulumi/pulumi peer", async () => {
    const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const file of (await filesUnder(packagePath("dist"))).filter((f) => f.endsWith(".js"))) {
      const text = await readFile(packagePath(`dist/${file}`), "utf8");
      for (const [, specifier] of text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g)) {
        const id = specifier as string;
        if (id.startsWith(".") || id.startsWith("node:") || builtins.has(id.split("/")[0] as string)) continue;
        const name = id.startsWith("@") ? id.split("/").slice(0, 2).join("/") : (id.split("/")[0] as string);
        if (!declared.has(name)) undeclared.add(`${name} (dist/${file})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });
});

/** Credentials and ids of dms-local's default seed (published, demo-only). */
const seed = JSON.parse(readFileSync(path.join(repo, "dms-local/seed.default.json"), "utf8")) as {
  projectId: string;
  credentials: { ak: string; sk: string }[];
  instances: { id: string }[];
};
const demoEnv = {
  CLOUD_SDK_AK: seed.credentials[0]!.ak,
  CLOUD_SDK_SK: seed.credentials[0]!.sk,
  // Any attempt to load @pulumi/* fails, and is reported at exit.
  NODE_OPTIONS: `--require=${FORBID_PULUMI}`,
};

interface Running {
  url: string;
  /** SIGTERM, then what it printed on stderr and its exit code once it has exited. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Starts a dms-local command on a free port; resolves once its first line (holding its URL) is printed. */
function startDmsLocalBin(command: string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const child = spawn(command[0] as string, [...command.slice(1), "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise<Running>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /^dms-local listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url !== undefined) {
        resolve({
          url,
          stop: async () => {
            child.kill("SIGTERM");
            return { code: await exited, stderr };
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`${command.join(" ")} exited with ${code} before it was ready: ${stdout}${stderr}`)));
  });
}

/** A rewind and a look at the group, through the runbook CLI `cli` against dms-local at `url`. */
async function rewindWithCli(cli: string[], url: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const where = ["--project-id", seed.projectId, "--instance-id", seed.instances[0]!.id, "--group", "g-idle", "--endpoint", url];
  const reset = await run(cli[0] as string, [...cli.slice(1), "reset", ...where, "--topic", "orders", "--offset", "100", "--yes"], { env, maxBuffer: BUFFER });
  expect(reset.stderr).not.toMatch(/forbid-pulumi/);
  const show = await run(cli[0] as string, [...cli.slice(1), "show", ...where, "--json"], { env, maxBuffer: BUFFER });
  expect(show.stderr).not.toMatch(/forbid-pulumi/);
  const group = JSON.parse(show.stdout.trim().split("\n").pop() as string) as { offsets: { topic: string; partition: number; messageCurrentOffset: string }[] };
  return group.offsets.map((o) => `${o.topic}/${o.partition}@${o.messageCurrentOffset}`);
}

describe("dms-offsets and dms-local without @pulumi/pulumi", () => {
  test("from the repository's dist/, with every @pulumi/ module refused: dms-local serves, dms-offsets resets and shows", async () => {
    const env = { ...process.env, ...demoEnv };
    const dms = await startDmsLocalBin(["node", path.join(repo, "dist/dms-local/main.js")], env);
    try {
      expect(await rewindWithCli(["node", path.join(repo, "dist/provider/cli/main.js")], dms.url, env)).toEqual(["orders/0@100", "orders/1@1500", "orders/2@100"]);
    } finally {
      const { stderr } = await dms.stop();
      expect(stderr).not.toMatch(/forbid-pulumi/);
    }
  });

  test("installed from the tarball without peer dependencies: no @pulumi/ in node_modules, and both bins work", async () => {
    const project = path.join(work, "bins-only");
    await mkdir(project);
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "bins-only", private: true }));
    await run("npm", ["install", path.join(work, packed.filename), "--omit=peer", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project, maxBuffer: BUFFER });
    expect(existsSync(path.join(project, "node_modules/pulumi-dms-offset-reset/package.json"))).toBe(true);
    expect(existsSync(path.join(project, "node_modules/@pulumi"))).toBe(false);

    const bin = (name: string) => path.join(project, "node_modules/.bin", name);
    const env = { ...process.env, ...demoEnv };
    const dms = await startDmsLocalBin([bin("dms-local")], env);
    try {
      expect(await rewindWithCli([bin("dms-offsets")], dms.url, env)).toEqual(["orders/0@100", "orders/1@1500", "orders/2@100"]);
    } finally {
      const { stderr } = await dms.stop();
      expect(stderr).not.toMatch(/forbid-pulumi/);
    }
  });
});
