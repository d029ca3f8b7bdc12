// @ts-check
// The real Pulumi engine driving the package as a user installs it. Shared by the e2e tests, the
// compatibility matrix (tests/compat) and the stack benchmark (plain JS, so that `node tests/bench/stack.js`
// can use it over dist/); the resource host test uses the packed project alone.
//
// - the `pulumi` CLI must be on PATH (tests/run.sh puts the one tests/e2e/pulumi-cli.sh builds there);
// - the package is built, packed and installed from the tarball into a temporary project next to the
//   `@pulumi/pulumi` version the project asks for (by default this repository's devDependency, the CLI's
//   version), the way a user's stack gets it: @pulumi/pulumi is a peer dependency, so the project's copy is
//   the only one, and Pulumi's closure serializer sees the package as an installed package;
// - programs are inline (Automation API): @pulumi/pulumi serves the language runtime itself, so no
//   pulumi-language-nodejs binary is needed; the Automation API is loaded from the temporary project,
//   so one copy of @pulumi/pulumi runs the program and serializes the resources;
// - state lives in a file:// backend in a temporary directory, secrets under a passphrase, PULUMI_HOME
//   in that directory too, and no update check reaches out.
"use strict";
const { execFile, execFileSync } = require("node:child_process");
const { mkdtemp, mkdir, readdir, readFile, rm, writeFile } = require("node:fs/promises");
const os = require("node:os");
const path = require("node:path");
const { promisify } = require("node:util");

const run = promisify(execFile);
const repo = path.resolve(__dirname, "../../..");
const BUFFER = 64 * 1024 * 1024;
/** The version of Pulumi's Node SDK this repository builds and tests with (its devDependency), the CLI's too. */
const DEV_PULUMI_VERSION = /** @type {string} */ (require(path.join(repo, "package.json")).devDependencies["@pulumi/pulumi"]);

/** @typedef {typeof import("@pulumi/pulumi/automation")} Automation */

/**
 * The `pulumi` on PATH, checked to be the version of the @pulumi/pulumi dependency. Throws (never skips)
 * when it is missing: e2e tests that quietly do nothing would claim what they did not prove.
 * @returns {{ path: string, version: string }}
 */
function requirePulumiCli() {
  const expected = `v${require("@pulumi/pulumi/package.json").version}`;
  let found;
  try {
    found = execFileSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim();
  } catch {
    found = "";
  }
  if (found === "") {
    throw new Error(
      "`pulumi` is not on PATH: the e2e tests need the real engine. Run them through `npm test` (tests/run.sh), " +
        'or first: export PATH="$(bash tests/e2e/pulumi-cli.sh | tail -n 1):$PATH"',
    );
  }
  const version = execFileSync(found, ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "1" } }).trim();
  if (version !== expected) throw new Error(`pulumi on PATH (${found}) is ${version}, the @pulumi/pulumi dependency is ${expected}`);
  return { path: found, version };
}

/**
 * @typedef {object} PackedProject
 * @property {string} dir the project: package.json and node_modules with the packed package installed
 * @property {string} pulumiVersion the version of the project's (only) copy of Pulumi's SDK
 * @property {string} installLog what npm install printed (warnings such as EBADENGINE included)
 * @property {Automation} automation the Automation API from the project's own copy of Pulumi's SDK
 * @property {(id: string) => unknown} load `require` resolved from the project directory
 * @property {() => Promise<void>} remove
 */

/**
 * Builds the repository and packs it into `destination`. Returns the tarball's absolute path.
 * @param {string} destination
 * @returns {Promise<string>}
 */
async function packPackage(destination) {
  await run("npm", ["run", "--silent", "build"], { cwd: repo, maxBuffer: BUFFER }).catch((/** @type {any} */ error) => {
    throw new Error(`npm run build failed in ${repo}:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  });
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", destination], { cwd: repo, maxBuffer: BUFFER });
  return path.join(destination, /** @type {string} */ (stdout.trim().split("\n").pop()));
}

/**
 * Every installed copy of Pulumi's Node SDK under `dir`'s node_modules, however deeply nested (`npm ls`
 * only reports what the lockfile says), as paths relative to `dir` with their versions.
 * @param {string} dir
 * @returns {Promise<{ path: string, version: string }[]>}
 */
async function installedPulumiCopies(dir) {
  /** @type {{ path: string, version: string }[]} */
  const found = [];
  /** @param {string} modules a node_modules directory */
  async function visit(modules) {
    /** @type {import("node:fs").Dirent[]} */
    let entries;
    try {
      entries = await readdir(modules, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === ".bin") continue;
      const packages = entry.name.startsWith("@")
        ? (await readdir(path.join(modules, entry.name), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => path.join(modules, entry.name, e.name))
        : [path.join(modules, entry.name)];
      for (const pkg of packages) {
        if (path.relative(modules, pkg) === path.join("@pulumi", "pulumi")) {
          const { version } = JSON.parse(await readFile(path.join(pkg, "package.json"), "utf8"));
          found.push({ path: path.relative(dir, pkg), version });
        }
        await visit(path.join(pkg, "node_modules"));
      }
    }
  }
  await visit(path.join(dir, "node_modules"));
  return found;
}

/**
 * Installs the packed package into a new temporary project that depends on Pulumi's SDK at `pulumiVersion`
 * (default: this repository's devDependency), as a user's stack does, and checks that the project holds
 * exactly one copy of Pulumi's SDK, at that version.
 * @param {{ pulumiVersion?: string, tarball?: string }} [options] `tarball`: an already packed package
 *   (from packPackage) instead of building and packing again
 * @returns {Promise<PackedProject>}
 */
async function installPackedProject(options = {}) {
  const pulumiVersion = options.pulumiVersion ?? DEV_PULUMI_VERSION;
  const dir = await mkdtemp(path.join(os.tmpdir(), "offset-reset-packed-"));
  let installLog;
  try {
    const tarball = options.tarball ?? (await packPackage(dir));
    await writeFile(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "offset-reset-packed", private: true, dependencies: { "@pulumi/pulumi": pulumiVersion } }),
    );
    // Dependencies come from the registry, normally already in npm's cache.
    const { stdout, stderr } = await run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, maxBuffer: BUFFER });
    installLog = stdout + stderr;
    const copies = await installedPulumiCopies(dir);
    const expected = [{ path: path.join("node_modules", "@pulumi", "pulumi"), version: pulumiVersion }];
    if (JSON.stringify(copies) !== JSON.stringify(expected)) {
      throw new Error(`${dir}: expected one @pulumi/pulumi ${pulumiVersion} in node_modules, found ${JSON.stringify(copies)}`);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const projectRequire = (/** @type {string} */ id) => require(require.resolve(id, { paths: [dir] }));
  return {
    dir,
    pulumiVersion,
    installLog,
    // Loaded when first used: a test may only run programs in processes of their own.
    get automation() {
      return /** @type {Automation} */ (projectRequire("@pulumi/pulumi/automation"));
    },
    load: projectRequire,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * @typedef {object} Backend
 * @property {string} root the temporary directory holding everything below
 * @property {string} home PULUMI_HOME
 * @property {string} state the file:// backend's directory (stack checkpoints and history)
 * @property {Record<string, string>} env what the CLI needs to use them, without asking anything
 * @property {() => Promise<void>} remove
 */

/**
 * A Pulumi home and a local file:// backend with a passphrase secrets provider, in a new temporary directory.
 * @param {string} passphrase
 * @returns {Promise<Backend>}
 */
async function createBackend(passphrase) {
  const root = await mkdtemp(path.join(os.tmpdir(), "offset-reset-pulumi-"));
  const home = path.join(root, "home");
  const state = path.join(root, "state");
  await mkdir(home);
  await mkdir(state); // the file:// backend refuses a directory that does not exist
  return {
    root,
    home,
    state,
    env: {
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "1",
      // Plain JSON checkpoints, so that tests can search them as written.
      PULUMI_DIY_BACKEND_GZIP: "false",
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * Creates (or selects) a stack of an inline program that lives in the project: the project directory is the
 * workspace's workDir and the program's `main`. The engine starts the dynamic-provider host in `main`, and
 * the host loads the provider from there (by default `main` is the cwd of the Node process running the
 * Automation API, where the package is not installed).
 * @param {PackedProject} project
 * @param {Backend} backend
 * @param {{ projectName: string, stackName: string, program: import("@pulumi/pulumi/automation").PulumiFn, env?: Record<string, string> }} options
 */
function openStack(project, backend, options) {
  return project.automation.LocalWorkspace.createOrSelectStack(
    { projectName: options.projectName, stackName: options.stackName, program: options.program },
    {
      workDir: project.dir,
      projectSettings: { name: options.projectName, runtime: "nodejs", main: project.dir },
      envVars: { ...backend.env, ...options.env },
    },
  );
}

/**
 * Runs the `pulumi` CLI itself in the project with the backend, for what the Automation API does differently
 * (its exportStack always shows secrets). Returns stdout.
 * @param {PackedProject} project
 * @param {Backend} backend
 * @param {string[]} args
 * @returns {Promise<string>}
 */
async function pulumiCli(project, backend, args) {
  const { stdout } = await run("pulumi", [...args, "--non-interactive"], { cwd: project.dir, env: { ...process.env, ...backend.env }, maxBuffer: BUFFER });
  return stdout;
}

module.exports = { requirePulumiCli, packPackage, installedPulumiCopies, installPackedProject, createBackend, openStack, pulumiCli };
