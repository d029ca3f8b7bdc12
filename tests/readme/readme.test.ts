// README.md (and examples/yaml/README.md) are true as written: every fenced block is classified (blocks.ts says
// how each is checked, and why anything is not run), and the shell blocks and programs run as a user runs them,
// against dms-local, with their outcomes checked (offsets read back, outputs, state), not only their exit status.
//
// How "as a user runs them":
// - the shell blocks run in order in one bash session (session.ts) in a fresh temporary directory, so exports,
//   the directory and background jobs carry over as the README implies; `npx` resolves the installed bins;
// - port 18080 is used as written: the test fails at once, saying so, when something else holds it;
// - the session's environment is a fresh shell's: no DMS credentials (the README's exports provide them), a
//   Pulumi home and file:// backend of the test's own with a passphrase (what a user's `pulumi login` provides),
//   `PULUMI_SKIP_CONFIRMATIONS=true` (there is no terminal to answer `pulumi up`'s question: the commands stay
//   as written, `pulumi up` and `pulumi destroy` without `--yes`), and npm told to prefer its cache and skip
//   the audit.
// What differs from the READMEs' text, all of it here:
// - the package is not published, so README.md's `npm install pulumi-dms-offset-reset @pulumi/pulumi` installs the
//   packed tarball and @pulumi/pulumi at this repository's devDependency (the `pulumi` CLI's version); the tarball
//   is built by examples/yaml/README.md's first line, run as written in this repository's examples/yaml;
// - examples/yaml runs from a copy whose package.json names that tarball instead of `file:../..` (the copy is not
//   in a clone) and @pulumi/pulumi at the devDependency instead of the newest ^3.230.0;
// - `npx dms-local --kafka 127.0.0.1:9092` runs against the test broker ($KAFKA_BOOTSTRAP); `my-world.json` (the
//   reader's own seed) is written before `npx dms-local --seed my-world.json`;
// - scaffolding the READMEs only name: a Pulumi.yaml beside each program, `pulumi stack init`, `pulumi preview`
//   and `up` and `destroy` around the programs, `pulumi stack output`/`export` and `dms-offsets show --json` to
//   read outcomes, and a `dms-offsets reset --from-file` that puts group billing back to the seed between tests.
// Waits are on events (dms-local's ready line, a command's end marker); at the end every session's process group
// is signalled, which stops the dms-local the README starts with `&`, and the port is checked to be free again.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual, promisify } from "node:util";
import { INPUT_KEYS, INPUTS, type OnChange } from "../../provider/resource/inputs";
import { createBackend, installedPulumiCopies, requirePulumiCli } from "../e2e/harness/pulumi";
import { BLOCKS, classify, commandsOf, fencedBlocks, README, REPO, YAML_README, type Block, type BlockId } from "./blocks";
import { portFree, portReleased, Session, timed, userEnv, type CommandResult } from "./session";

jest.setTimeout(900_000);
const run = promisify(execFile);
const BUFFER = 64 * 1024 * 1024;

const DEV_PULUMI = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies["@pulumi/pulumi"] as string;
const PORT = 18080;
const URL = `http://127.0.0.1:${PORT}`;
interface SeedFile {
  projectId: string;
  credentials: { ak: string; sk: string }[];
  instances: { id: string; groups: Record<string, { offsets: Record<string, number> }> }[];
}
const SEED = JSON.parse(readFileSync(path.join(REPO, "dms-local/seed.default.json"), "utf8")) as SeedFile;
const DEMO = {
  projectId: SEED.projectId,
  instanceId: (SEED.instances[0] as SeedFile["instances"][number]).id,
  ak: (SEED.credentials[0] as { ak: string }).ak,
  sk: (SEED.credentials[0] as { sk: string }).sk,
};
/** Group billing's offsets in the default seed, as `dms-offsets show --json` spells them. */
const SEEDED: Record<string, string> = Object.fromEntries(
  Object.entries((SEED.instances[0] as SeedFile["instances"][number]).groups.billing?.offsets ?? {}).map(([k, v]) => [k, String(v)]),
);

let blocks: Map<BlockId, Block> | undefined;
function block(id: BlockId): Block {
  blocks ??= classify();
  return blocks.get(id) as Block;
}

/** Everything the test creates lives under here. */
let tmp: string;
/** The user's directory: the packed package installed, the README session's working directory. */
let project: string;
let tarball: string;
let readmeSession: Session | undefined;
let yamlSession: Session | undefined;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "readme-test-"));
  project = path.join(tmp, "user");
  mkdirSync(project);
});

afterAll(async () => {
  await readmeSession?.close();
  await yamlSession?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The session's settings beyond a fresh shell's (see the top of this file). */
const SESSION_SETTINGS = {
  PULUMI_SKIP_CONFIRMATIONS: "true",
  npm_config_prefer_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

/**
 * The build and the tarball: examples/yaml/README.md's first line, run as written where it is written for (a
 * clone's examples/yaml), then `npm pack`. Fails at once when port 18080 is taken.
 */
async function buildAndPack(): Promise<void> {
  requirePulumiCli();
  if (!(await portFree(PORT))) {
    throw new Error(`port ${PORT} is in use: README.md and examples/yaml/README.md start dms-local on it as written, and this test runs them as written. Stop whatever listens on 127.0.0.1:${PORT} and run again.`);
  }
  const build = commandsOf(block("yaml-example").text)[0] as string;
  await timed(`build: ${build}`, () =>
    run("bash", ["-c", build], { cwd: path.join(REPO, "examples/yaml"), maxBuffer: BUFFER }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`\`${build}\` failed in examples/yaml:\n${e.stdout}\n${e.stderr}`);
    }),
  );
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", tmp], { cwd: REPO, maxBuffer: BUFFER });
  tarball = path.join(tmp, stdout.trim().split("\n").pop() as string);
}

// --- helpers -------------------------------------------------------------------------------------------------

/** The installed `dms-offsets` of `dir`, run outside any session with the demo credentials (test scaffolding). */
async function dmsOffsets(dir: string, args: string[]): Promise<string> {
  const bin = path.join(dir, "node_modules/.bin/dms-offsets");
  try {
    const { stdout } = await run(process.execPath, [bin, ...args, "--endpoint", URL, "--project-id", DEMO.projectId, "--instance-id", DEMO.instanceId], {
      env: userEnv({ CLOUD_SDK_AK: DEMO.ak, CLOUD_SDK_SK: DEMO.sk }),
      maxBuffer: BUFFER,
    });
    return stdout;
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`dms-offsets ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
  }
}

/** Group billing's committed offsets now, "topic/partition" → offset. */
async function billing(dir = project): Promise<Record<string, string>> {
  const line = (await dmsOffsets(dir, ["show", "--group", "billing", "--json"])).trim().split("\n").pop() as string;
  const group = JSON.parse(line) as { offsets: { topic: string; partition: number; messageCurrentOffset: string }[] };
  return Object.fromEntries(group.offsets.map((o) => [`${o.topic}/${o.partition}`, o.messageCurrentOffset]));
}

/** Puts group billing back where the seed has it (between tests, so that each one's move shows). */
async function restoreBilling(dir = project): Promise<void> {
  if (isDeepStrictEqual(await billing(dir), SEEDED)) return;
  const file = path.join(tmp, "seeded.csv");
  writeFileSync(file, Object.entries(SEEDED).map(([k, v]) => `${k.replace("/", ",")},${v}`).join("\n") + "\n");
  await dmsOffsets(dir, ["reset", "--group", "billing", "--from-file", file, "--yes"]);
  expect(await billing(dir)).toEqual(SEEDED);
}

interface PlanRow {
  topic: string;
  partition: number;
  committed: string;
  target: string;
}

/** The distinct rows of the plan tables in `text` (TOPIC PARTITION COMMITTED TARGET …), indented or not. */
function planRows(text: string): PlanRow[] {
  const rows: PlanRow[] = [];
  let inTable = false;
  for (const line of text.split("\n")) {
    if (/^\s*TOPIC\s+PARTITION\s+COMMITTED\s+TARGET\b/.test(line)) {
      inTable = true;
      continue;
    }
    const row = /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s/.exec(line);
    if (inTable && row) rows.push({ topic: row[1] as string, partition: Number(row[2]), committed: row[3] as string, target: row[4] as string });
    else inTable = false;
  }
  // The same table may be printed more than once (as progress and in the diagnostics).
  return [...new Map(rows.map((r) => [JSON.stringify(r), r])).values()];
}

/** The offsets of output entries ({topic, partition, messageCurrentOffset}), "topic/partition" → offset. */
function byPartition(entries: { topic: string; partition: number; messageCurrentOffset: string }[]): Record<string, string> {
  return Object.fromEntries(entries.map((o) => [`${o.topic}/${o.partition}`, o.messageCurrentOffset]));
}

/**
 * Runs a block's commands in order, each through the one step whose pattern matches it (a command no step
 * matches fails: a new command in the README needs a decision on what it must do).
 */
async function runSteps(
  session: Session,
  commands: string[],
  steps: { match: RegExp; check: (r: CommandResult, since: { out: number; err: number }) => Promise<void> | void }[],
): Promise<void> {
  for (const command of commands) {
    const step = steps.find((s) => s.match.test(command));
    if (!step) throw new Error(`no step of the test knows what \`${command}\` must do: add one`);
    const since = session.mark();
    await step.check(await session.run(command), since);
  }
}

function expectOk(r: CommandResult): void {
  if (r.status !== 0) throw new Error(`\`${r.command}\` exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
}

/** Waits for the ready line of the dms-local a command just started in the background; returns its URL. */
async function awaitDmsLocal(session: Session, since: { out: number; err: number }): Promise<string> {
  // Its errors (e.g. `dms-local: listen EADDRINUSE …`) fail the wait; its warnings do not.
  const ready = await session.waitFor(/^dms-local listening on (http:\/\/\S+)/m, since, "dms-local's ready line", { failure: /^dms-local: (?!WARNING|--kafka: the seed's).*$/m });
  return ready[1] as string;
}

/** The deployment's OffsetReset resources (`pulumi stack export`, scaffolding). */
async function offsetResets(session: Session): Promise<{ urn: string; outputs: Record<string, unknown> }[]> {
  const exported = JSON.parse((await session.ok("pulumi stack export")).stdout) as { deployment: { resources?: { urn: string; type: string; outputs?: Record<string, unknown> }[] } };
  return (exported.deployment.resources ?? []).filter((r) => /OffsetReset$/.test(r.type)).map((r) => ({ urn: r.urn, outputs: r.outputs ?? {} }));
}

// --- the classification and what is checked without running anything ---------------------------------------------

test("every fenced block of README.md and examples/yaml/README.md is classified, and each entry has its block", () => {
  const found = classify();
  const table = BLOCKS.map((e) => {
    const b = found.get(e.id) as Block;
    return `${b.file}:${b.line} \`\`\`${b.lang} ${e.id}: ${e.check}${e.notRun ? ` [not run: ${e.notRun}]` : ""}`;
  });
  console.log(`README blocks:\n${table.join("\n")}`);
  expect(found.size).toBe(BLOCKS.length);
  // A fenced block without a language would not be classified by what it holds.
  for (const file of [README, YAML_README]) for (const b of fencedBlocks(file)) expect({ at: `${file}:${b.line}`, lang: b.lang }).toEqual({ at: `${file}:${b.line}`, lang: expect.stringMatching(/\S/) });
});

describe("README.md's input table (Resource reference) agrees with provider/resource/inputs.ts", () => {
  const HEADING = "### Resource reference: `OffsetReset`";

  /** The table's rows: each input key of the first cell → the "on change" cell. */
  function table(): Map<string, string> {
    const lines = readFileSync(path.join(REPO, README), "utf8").split("\n");
    const at = lines.indexOf(HEADING);
    if (at < 0) throw new Error(`README.md has no heading ${HEADING}`);
    const head = lines.findIndex((l, i) => i > at && /^\| input \|/.test(l));
    const columns = (lines[head] as string).split("|").slice(1, -1).map((c) => c.trim());
    expect(columns).toEqual(["input", "type", "default", "on change"]);
    const rows = new Map<string, string>();
    for (let i = head + 2; i < lines.length && (lines[i] as string).startsWith("|"); i++) {
      const cells = (lines[i] as string).split("|").slice(1, -1).map((c) => c.trim());
      for (const [, key] of (cells[0] as string).matchAll(/`(\w+)`/g)) rows.set(key as string, cells[3] as string);
    }
    return rows;
  }

  /** What an "on change" text says, in inputs.ts's terms ("as `endpoint`" refers to that row). */
  function meaning(text: string, rows: Map<string, string>): OnChange | string {
    if (text === "**replace**") return "replace";
    if (text === "**update that rewinds again**") return "rewind-again";
    if (/^(on change: )?update,? (that )?sends nothing\b/.test(text)) return "update";
    if (/^(no change|never a change)\b/.test(text)) return "none";
    const as = /^as `(\w+)`/.exec(text);
    if (as && rows.has(as[1] as string)) return meaning(rows.get(as[1] as string) as string, rows);
    return `(unrecognised: ${text})`;
  }

  test("every input has a row (customTimeouts: in the text), and no row names something else", () => {
    const rows = table();
    expect([...rows.keys(), "customTimeouts"].sort()).toEqual([...INPUT_KEYS].sort());
  });

  test("each row's \"on change\" is the input's onChange", () => {
    const rows = table();
    const documented = Object.fromEntries([...rows].map(([key, text]) => [key, meaning(text, rows)]));
    const declared = Object.fromEntries([...rows.keys()].map((key) => [key, INPUTS[key as keyof typeof INPUTS].onChange]));
    expect(documented).toEqual(declared);
  });

  test("the text says what a change of the forwarded customTimeouts does, as inputs.ts declares it", () => {
    // customTimeouts has no row: the text after the table documents it ("forwards its `customTimeouts` (…) as an
    // input (…)"). The Lifecycle table's diff row says the same as inputs.ts: "custom timeouts → update that sends nothing".
    const text = readFileSync(path.join(REPO, README), "utf8").replace(/\s+/g, " ");
    const said = /forwards its `customTimeouts` \([^)]*\) as an input \(([^)]*)\)/.exec(text);
    expect(said).not.toBeNull();
    const statement = (said as RegExpExecArray)[0];
    expect({ statement, means: meaning((said as RegExpExecArray)[1] as string, new Map()) }).toEqual({ statement, means: INPUTS.customTimeouts.onChange });
    expect(text).toMatch(/custom timeouts → update that sends nothing/);
  });
});

test("the Python fragment uses only what the generated SDK has (sdk/python)", () => {
  const fragment = block("python-program").text;
  const sdk = path.join(REPO, "sdk/python");
  const module = /^import (\w+) as (\w+)$/m.exec(fragment);
  expect(module?.[1]).toBe("pulumi_dms_offset_reset");
  const alias = module?.[2] as string;
  const source = readFileSync(path.join(sdk, "pulumi_dms_offset_reset/offset_reset.py"), "utf8");
  const resource = source.slice(source.indexOf("class OffsetReset(pulumi.CustomResource):"));
  expect(resource.length).toBeLessThan(source.length);
  const call = new RegExp(`${alias}\\.(\\w+)\\(([^)]*)\\)`).exec(fragment);
  expect(call?.[1]).toBe("OffsetReset");
  const keywords = [...(call?.[2] ?? "").matchAll(/(\w+)=/g)].map((m) => m[1] as string);
  expect(keywords).toEqual(["project_id", "instance_id", "group", "topic", "timestamp"]);
  for (const kw of keywords) expect({ kw, found: new RegExp(`^ +${kw}: pulumi\\.Input`, "m").test(resource) }).toEqual({ kw, found: true });
  for (const [, attr] of fragment.matchAll(/rewind\.(\w+)/g)) expect({ attr, found: new RegExp(`def ${attr}\\(self\\)`).test(resource) }).toEqual({ attr, found: true });
  // The comment's claim: entries have Python names.
  for (const [, name] of fragment.matchAll(/Python names: ([a-z_]+)/g)) {
    expect(readFileSync(path.join(sdk, "pulumi_dms_offset_reset/outputs.py"), "utf8")).toContain(`def ${name}(self)`);
  }
});

test("the Go fragment type-checks as written against sdk/go (go vet), and so does its pulumi.Int variant", async () => {
  const fragment = block("go-program").text;
  const dir = path.join(tmp, "go-fragment");
  mkdirSync(dir);
  // The module and its checksums are those of tests/plugin/goprogram (the SDK at sdk/go, the Pulumi Go SDK at the CLI's version).
  const goMod = readFileSync(path.join(REPO, "tests/plugin/goprogram/go.mod"), "utf8")
    .replace(/^module .*$/m, "module readmefragment")
    .replace(/=> \S+$/m, `=> ${path.join(REPO, "sdk/go/dmsoffsetreset")}`);
  writeFileSync(path.join(dir, "go.mod"), goMod);
  cpSync(path.join(REPO, "tests/plugin/goprogram/go.sum"), path.join(dir, "go.sum"));
  const variant = fragment.replace(/Timestamp: pulumi\.String\("[^"]*"\)/, "Timestamp: pulumi.Int(1700028000000)");
  expect(variant).not.toBe(fragment);
  const wrap = (name: string, body: string) =>
    [`func ${name}(ctx *pulumi.Context, projectID, instanceID string) error {`, body, "\t_ = r", "\treturn err", "}", ""].join("\n");
  writeFileSync(
    path.join(dir, "main.go"),
    [
      "package main",
      "",
      'import (\n\t"github.com/pulumi-dms-offset-reset/pulumi-dms-offset-reset/sdk/go/dmsoffsetreset"\n\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"\n)',
      "",
      wrap("asWritten", fragment),
      wrap("withMilliseconds", variant),
      'func main() {\n\tpulumi.Run(func(ctx *pulumi.Context) error { return asWritten(ctx, "p", "i") })\n\t_ = withMilliseconds\n}',
      "",
    ].join("\n"),
  );
  const env = { ...process.env, CGO_ENABLED: "0", GOWORK: "off", GOFLAGS: "-mod=readonly -buildvcs=false" };
  await timed("go vet of the Go fragment", () =>
    run("go", ["vet", "-trimpath", "."], { cwd: dir, env, maxBuffer: BUFFER }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`go vet of README.md's Go fragment failed:\n${e.stdout}\n${e.stderr}\n${readFileSync(path.join(dir, "main.go"), "utf8")}`);
    }),
  );
});

describe("run as written (the package built and packed once)", () => {
  beforeAll(buildAndPack, 600_000);

  // --- README.md's shell blocks and programs, in one bash session ---------------------------------------------------

  describe("README.md as a user runs it, in one shell, against the dms-local it starts", () => {
    let session: Session;
    let backend: Awaited<ReturnType<typeof createBackend>>;

    beforeAll(async () => {
      backend = await createBackend("readme-passphrase");
      session = readmeSession = Session.start("README", project, userEnv({ ...backend.env, ...SESSION_SETTINGS }));
    });

    afterAll(async () => {
      await backend?.remove();
    });

    test("Install: npm install (the packed package for pulumi-dms-offset-reset), every line of the block", async () => {
      const commands = commandsOf(block("install").text);
      const substituted = commands.map((c) => c.replace(/^npm install pulumi-dms-offset-reset @pulumi\/pulumi(?=\s|$)/, `npm install ${tarball} @pulumi/pulumi@${DEV_PULUMI}`));
      expect(substituted.filter((c, i) => c !== commands[i])).toHaveLength(1);
      for (const command of substituted) expectOk(await session.run(command));
      expect(await installedPulumiCopies(project)).toEqual([{ path: path.join("node_modules", "@pulumi", "pulumi"), version: DEV_PULUMI }]);
      for (const bin of ["dms-offsets", "dms-local", "pulumi-resource-dms-offset-reset"]) expect(existsSync(path.join(project, "node_modules/.bin", bin))).toBe(true);
    });

    let url: string;

    test("Try it in five minutes: dms-local starts on 18080 in the background; the exports are what it prints", async () => {
      let banner = "";
      for (const command of commandsOf(block("try-it").text)) {
        const since = session.mark();
        expectOk(await session.run(command));
        if (/&\s*(#.*)?$/.test(command)) {
          if (!/^npx dms-local\b/.test(command)) throw new Error(`a background command the test does not know how to wait for: ${command}`);
          url = await awaitDmsLocal(session, since);
          banner = await session.waitFor(/^dms-local listening on [\s\S]*?\n {2}try .*\n/m, since, "dms-local's banner").then((m) => m[0]);
        }
      }
      expect(url).toBe(URL);
      // "It prints what you need to talk to it, including its demo credentials": the block's exports are those.
      const exported = /^ +(export CLOUD_SDK_AK=\S+ CLOUD_SDK_SK=\S+)$/m.exec(banner)?.[1];
      expect(commandsOf(block("try-it").text)).toContain(exported);
      expect(block("try-it").text).toContain(`HW_PROJECT_ID=${/project id +(\S+)/.exec(banner)?.[1]}`);
      // The instance the next section names is the banner's.
      expect(banner).toContain(`instance     ${DEMO.instanceId}`);
      expect(readFileSync(path.join(REPO, README), "utf8")).toContain(`(instance \`${DEMO.instanceId}\`, group \`billing\`)`);
    });

    test("Plan, apply, undo: the plan is the sample and sends nothing; the reset lands on its targets; --from-file puts every partition back", async () => {
      const before = await billing();
      expect(before).toEqual(SEEDED);
      let plan: PlanRow[] = [];
      await runSteps(session, commandsOf(block("plan-apply-undo").text), [
        {
          match: /^npx dms-offsets plan /,
          check: async (r) => {
            expectOk(r);
            // The output sample below the block is this output, line by line (… elides).
            const sample = block("plan-sample").text.split("\n");
            const printed = r.stdout.trimEnd().split("\n");
            const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            expect(printed).toEqual(sample.map((line, i) => (new RegExp(`^${line.split("…").map(escape).join(".*?")}$`).test(printed[i] ?? "") ? printed[i] : line)));
            plan = planRows(r.stdout);
            expect(await billing()).toEqual(before);
          },
        },
        {
          match: /^npx dms-offsets reset .*--save-before billing-before\.csv/s,
          check: async (r) => {
            expectOk(r);
            expect(planRows(r.stdout)).toEqual(plan);
            const targets = Object.fromEntries(plan.map((p) => [`${p.topic}/${p.partition}`, p.target]));
            expect(Object.keys(targets).sort()).toEqual(["payments/0", "payments/1"]);
            expect(await billing()).toEqual({ ...before, ...targets });
            // The undo record, written before the reset was sent, holds the offsets from before.
            const saved = readFileSync(path.join(project, "billing-before.csv"), "utf8").trim().split("\n");
            expect(saved.sort()).toEqual(plan.map((p) => `${p.topic},${p.partition},${before[`${p.topic}/${p.partition}`]}`).sort());
            expect(r.stdout).toMatch(/to undo: dms-offsets reset .*--group billing --from-file billing-before\.csv --yes/);
          },
        },
        {
          match: /^npx dms-offsets reset .*--from-file billing-before\.csv/s,
          check: async (r) => {
            expectOk(r);
            expect(await billing()).toEqual(before);
          },
        },
      ]);
    });

    test("Use it from Pulumi (TypeScript): index.ts as written; preview shows the plan, up applies one reset, outputs, destroy sends nothing", async () => {
      await restoreBilling();
      writeFileSync(path.join(project, "Pulumi.yaml"), "name: readme-typescript\nruntime: nodejs\n");
      writeFileSync(path.join(project, "index.ts"), block("typescript-program").text + "\n");
      // Scaffolding: a stack, then the commands the README names.
      await session.ok("pulumi stack init readme-typescript");
      const preview = await session.ok("pulumi preview");
      expect(planRows(preview.stdout)).toEqual([
        { topic: "payments", partition: 0, committed: "47990", target: "28000" },
        { topic: "payments", partition: 1, committed: "47950", target: "28000" },
      ]);
      expect(await billing()).toEqual(SEEDED);

      const up = await session.ok("pulumi up");
      expect(up.stdout).toMatch(/\+ 2 created/);
      const resets = await offsetResets(session);
      expect(resets).toHaveLength(1);
      expect(resets[0]?.outputs).toMatchObject({ outcome: "applied", requestId: expect.stringMatching(/\S/) });
      expect(await billing()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
      const outputs = JSON.parse((await session.ok("pulumi stack output --json")).stdout) as Record<string, { topic: string; partition: number; messageCurrentOffset: string }[]>;
      expect(byPartition(outputs.previousOffsets ?? [])).toEqual({ "payments/0": "47990", "payments/1": "47950" });
      expect(byPartition(outputs.appliedOffsets ?? [])).toEqual({ "payments/0": "28000", "payments/1": "28000" });

      const destroyed = await session.ok("pulumi destroy");
      expect(destroyed.stdout).toMatch(/nothing was sent to DMS/);
      expect(await billing()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
    });

    test("the two-line undo as code: a program around the README's lines (its names defined) rewinds billing and puts every partition back", async () => {
      await restoreBilling();
      const lines = block("undo-as-code").text;
      writeFileSync(
        path.join(project, "index.ts"),
        [
          'import { OffsetReset } from "pulumi-dms-offset-reset";',
          "",
          `const projectId = "${DEMO.projectId}";`,
          `const instanceId = "${DEMO.instanceId}";`,
          lines,
          "",
          "export const rewound = rewind.appliedOffsets;",
          "export const before = rewind.previousOffsets;",
          "export const undone = undo.appliedOffsets;",
          "",
        ].join("\n"),
      );
      await session.ok("pulumi stack init readme-undo");
      // The lines name neither endpoint nor region: stack configuration gives it (README: Credentials and configuration).
      await session.ok(`pulumi config set dms-offset-reset:endpoint ${URL}`);
      await session.ok("pulumi up");
      const outputs = JSON.parse((await session.ok("pulumi stack output --json")).stdout) as Record<string, { topic: string; partition: number; messageCurrentOffset: string }[]>;
      // No topic: every topic billing has offsets for, to the first record at or after 06:00 (record 28000 of each partition).
      expect(byPartition(outputs.before ?? [])).toEqual(SEEDED);
      expect(byPartition(outputs.rewound ?? [])).toEqual(Object.fromEntries(Object.keys(SEEDED).map((k) => [k, "28000"])));
      expect(byPartition(outputs.undone ?? [])).toEqual(SEEDED);
      expect(await billing()).toEqual(SEEDED);
      await session.ok("pulumi destroy");
      expect(await billing()).toEqual(SEEDED);
    });

    test("the YAML program (with the plugins entry) runs as a Pulumi.yaml against dms-local", async () => {
      await restoreBilling();
      const dir = path.join(project, "readme-yaml");
      mkdirSync(dir);
      // `path: ./node_modules/.bin` is relative to the project: this one sits in the directory the package is installed in.
      symlinkSync(path.join(project, "node_modules"), path.join(dir, "node_modules"));
      writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        [
          "name: readme-yaml",
          "runtime: yaml",
          block("plugins-entry").text,
          "config:",
          "  projectId:",
          `    default: ${DEMO.projectId}`,
          "  instanceId:",
          `    default: ${DEMO.instanceId}`,
          block("yaml-program").text,
          "",
        ].join("\n"),
      );
      // examples/yaml/Pulumi.yaml names the plugin the same way.
      expect(readFileSync(path.join(REPO, "examples/yaml/Pulumi.yaml"), "utf8").replace(/ *#.*$/gm, "")).toContain(block("plugins-entry").text.replace(/ *#.*$/gm, ""));
      await session.ok(`cd ${dir}`);
      try {
        await session.ok("pulumi stack init readme-yaml");
        await session.ok(`pulumi config set dms-offset-reset:endpoint ${URL}`);
        const up = await session.ok("pulumi up");
        expect(up.stdout).toMatch(/\+ 2 created/);
        expect(await billing()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
        await session.ok("pulumi destroy");
        expect(await billing()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
      } finally {
        await session.ok(`cd ${project}`);
      }
    });

    test("Credentials and configuration: the pulumi config set lines, as written, land under dms-offset-reset: keys, credentials encrypted", async () => {
      // A project of another name: "Keys are in the dms-offset-reset: namespace, whatever the project is called".
      const dir = path.join(project, "readme-config");
      mkdirSync(dir);
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: any-project-name\nruntime: nodejs\n");
      await session.ok(`cd ${dir}`);
      try {
        await session.ok("pulumi stack init readme-config");
        const commands = commandsOf(block("stack-config").text);
        for (const command of commands) expectOk(await session.run(command));
        const config = JSON.parse((await session.ok("pulumi config --json")).stdout) as Record<string, { secret: boolean; value?: string }>;
        expect(Object.keys(config).sort()).toEqual(["dms-offset-reset:accessKey", "dms-offset-reset:region", "dms-offset-reset:secretKey", "dms-offset-reset:securityToken"]);
        expect(config).toMatchObject({
          "dms-offset-reset:accessKey": { secret: true },
          "dms-offset-reset:secretKey": { secret: true },
          "dms-offset-reset:securityToken": { secret: true },
          "dms-offset-reset:region": { secret: false, value: "cn-north-4" },
        });
        // Encrypted in the stack's file, and they decrypt to what was typed.
        const file = readFileSync(path.join(dir, "Pulumi.readme-config.yaml"), "utf8");
        for (const key of ["accessKey", "secretKey", "securityToken"]) expect(file).toMatch(new RegExp(`dms-offset-reset:${key}:\\n\\s+secure: \\S+`));
        expect(file).not.toMatch(/AK…|SK…/);
        expect((await session.ok("pulumi config get dms-offset-reset:accessKey")).stdout.trim()).toBe("AK…");
      } finally {
        await session.ok(`cd ${project}`);
      }
    });

    test("the session ends, and the dms-local it started with `&` with it", async () => {
      await session.close();
      readmeSession = undefined;
      expect(await portReleased(PORT)).toBe(true);
    });
  });

  // --- README.md's dms-local commands (a text block: each runs in the foreground until stopped) ----------------------

  test("Rehearse it: each dms-local command starts as written and prints what its comment says; then stopped", async () => {
    const commands = commandsOf(block("dms-local-commands").text);
    // "your own world": a seed of one's own in the directory the command runs in.
    const mine = { ...SEED, projectId: "1234567890abcdef1234567890abcdef", credentials: [{ ak: "MYWORLDACCESSKEY0001", sk: "my-world-secret-key-0001", userName: "me" }] };
    writeFileSync(path.join(project, "my-world.json"), JSON.stringify(mine, null, 2));
    const bootstrap = process.env.KAFKA_BOOTSTRAP;
    const checks: { match: RegExp; substitute?: [string, string]; banner: (text: string) => void }[] = [
      {
        match: /^npx dms-local --port 0\s/,
        banner: (text) => {
          expect(text).toMatch(/^dms-local listening on http:\/\/127\.0\.0\.1:(?!0\b)\d+\n/);
          expect(text).toContain(`project id   ${DEMO.projectId}`);
          expect(text).toContain(`instance     ${DEMO.instanceId}`);
          expect(text).toMatch(/groups .*billing EMPTY/);
          expect(text).toContain(`export CLOUD_SDK_AK=${DEMO.ak} CLOUD_SDK_SK=${DEMO.sk}`);
        },
      },
      {
        match: /^npx dms-local --seed my-world\.json\s/,
        banner: (text) => {
          expect(text).toMatch(new RegExp(`^dms-local listening on http://127\\.0\\.0\\.1:${PORT}\\n`));
          expect(text).toContain(`project id   ${mine.projectId}`);
          expect(text).toContain("MYWORLDACCESSKEY0001");
          expect(text).not.toContain("my-world-secret-key-0001");
        },
      },
      {
        match: /^npx dms-local --kafka 127\.0\.0\.1:9092\s/,
        substitute: ["127.0.0.1:9092", bootstrap ?? ""],
        banner: (text) => expect(text).toMatch(new RegExp(`^dms-local listening on http://127\\.0\\.0\\.1:${PORT} \\(Kafka at ${bootstrap} as instance ${DEMO.instanceId}\\)`)),
      },
    ];
    for (const command of commands) {
      const check = checks.find((c) => c.match.test(command));
      if (!check) throw new Error(`no check knows what \`${command}\` must print: add one`);
      let typed = command;
      if (check.substitute) {
        if (!bootstrap) throw new Error("KAFKA_BOOTSTRAP is not set: `npx dms-local --kafka …` needs a broker. Start one: eval \"$(bash tests/kafka/broker.sh start)\"; export KAFKA_BOOTSTRAP (npm test does)");
        typed = command.replace(check.substitute[0], check.substitute[1]);
      }
      // One session per command: the command runs in the foreground, as typed, until the test stops it.
      const session = Session.start(`dms-local command ${commands.indexOf(command) + 1}`, project, userEnv(SESSION_SETTINGS));
      try {
        const since = session.mark();
        // It runs until stopped: ending by itself is a failure.
        const ended = session.run(typed).then((r) => {
          throw new Error(`\`${typed}\` exited ${r.status} without being stopped:\n${r.stdout}\n${r.stderr}`);
        });
        ended.catch(() => undefined);
        await Promise.race([awaitDmsLocal(session, since), ended]);
        const banner = await session.waitFor(/^dms-local listening on [\s\S]*?\n {2}try .*\n/m, since, "dms-local's banner");
        check.banner(banner[0]);
      } finally {
        await session.close();
      }
      expect(await portReleased(PORT)).toBe(true);
    }
  });

  // --- examples/yaml/README.md ---------------------------------------------------------------------------------------

  test("examples/yaml/README.md's commands run as written in a copy of examples/yaml, against the dms-local they start", async () => {
    const dir = path.join(tmp, "examples-yaml");
    cpSync(path.join(REPO, "examples/yaml"), dir, { recursive: true });
    // The one change: the package from the tarball instead of `file:../..` (the copy is not in a clone), and
    // @pulumi/pulumi at the devDependency (the CLI's version) instead of the newest ^3.230.0.
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["pulumi-dms-offset-reset"]).toBe("file:../..");
    pkg.dependencies["pulumi-dms-offset-reset"] = `file:${tarball}`;
    pkg.dependencies["@pulumi/pulumi"] = DEV_PULUMI;
    writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
    const backend = await createBackend("yaml-example-passphrase");
    const session = (yamlSession = Session.start("examples/yaml", dir, userEnv({ ...backend.env, ...SESSION_SETTINGS })));
    const committed = () => billing(dir);
    const replacedTimestamp = /\+-.*OffsetReset.*billingRewind.*replace.*\[diff: .*~timestamp/;
    try {
      const [build, ...commands] = commandsOf(block("yaml-example").text);
      expect(build).toMatch(/^\(cd \.\.\/\.\. && npm run build\)/); // run as written in this repository, before packing (beforeAll)
      await runSteps(session, commands, [
        {
          match: /^npm install(\s|$)/,
          check: async (r) => {
            expectOk(r);
            expect(existsSync(path.join(dir, "node_modules/.bin/pulumi-resource-dms-offset-reset"))).toBe(true);
            expect(await installedPulumiCopies(dir)).toEqual([{ path: path.join("node_modules", "@pulumi", "pulumi"), version: DEV_PULUMI }]);
          },
        },
        {
          match: /^npx dms-local --port 18080 &/,
          check: async (r, since) => {
            expectOk(r);
            expect(await awaitDmsLocal(session, since)).toBe(URL);
          },
        },
        { match: /^pulumi stack init dev(\s|$)/, check: expectOk },
        { match: /^pulumi config set (--secret )?dms-offset-reset:/, check: expectOk },
        {
          match: /^pulumi preview(\s|$)/,
          check: async (r) => {
            expectOk(r);
            expect(planRows(r.stdout)).toEqual([
              { topic: "payments", partition: 0, committed: "47990", target: "28000" },
              { topic: "payments", partition: 1, committed: "47950", target: "28000" },
            ]);
            expect(await committed()).toEqual(SEEDED);
          },
        },
        {
          match: /^pulumi up(\s|$)/,
          check: async (r) => {
            expectOk(r);
            expect(await committed()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
            const outputs = JSON.parse((await session.ok("pulumi stack output --json")).stdout) as { previousOffsets: { topic: string; partition: number; messageCurrentOffset: string }[]; requestId: string };
            expect(byPartition(outputs.previousOffsets)).toEqual({ "payments/0": "47990", "payments/1": "47950" });
            expect(outputs.requestId).toMatch(/\S/);
          },
        },
        {
          match: /^pulumi config set rewindTo \S+ && pulumi preview(\s|$)/,
          check: async (r) => {
            expectOk(r);
            expect(r.stdout).toMatch(replacedTimestamp);
            expect(planRows(r.stdout)).toEqual([
              { topic: "payments", partition: 0, committed: "28000", target: "31600" },
              { topic: "payments", partition: 1, committed: "28000", target: "31600" },
            ]);
            expect(r.stdout).toMatch(/payments +0 +28000 +31600 .*SKIPS 3600/);
            expect(await committed()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
          },
        },
        {
          match: /^pulumi destroy(\s|$)/,
          check: async (r) => {
            expectOk(r);
            expect(r.stdout).toMatch(/nothing was sent to DMS/);
            expect(await committed()).toEqual({ ...SEEDED, "payments/0": "28000", "payments/1": "28000" });
          },
        },
      ]);
    } finally {
      await session.close();
      yamlSession = undefined;
      await backend.remove();
    }
    expect(await portReleased(PORT)).toBe(true);
  });

  // --- README.md's first block ---------------------------------------------------------------------------------------

  test("The two commands: `npm run demo` runs in this repository and shows what it says (`npm test` is the suite running this)", async () => {
    const commands = commandsOf(block("two-commands").text).map((c) => c.replace(/\s+#.*$/, ""));
    expect(commands).toEqual(["npm run demo", "npm test"]);
    const started = process.hrtime.bigint();
    const { stdout, stderr } = await run("bash", ["-c", commands[0] as string], { cwd: REPO, env: userEnv(), maxBuffer: BUFFER }).catch((e: { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`npm run demo exited ${e.code}:\n${e.stdout}\n${e.stderr}`);
    });
    console.log(`npm run demo: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
    const printed = stdout + stderr;
    expect(printed).toMatch(/^dms-local listening on http:\/\/127\.0\.0\.1:\d+/m);
    expect(printed).toMatch(/consumer group "g-busy" is STABLE, not EMPTY[^\n]*Nothing was sent/);
    expect(printed).toMatch(/group g-draining is EMPTY after \d+s/);
    expect(printed).toMatch(/payments +0 +47990 +28000 .*re-reads 19990/);
    expect(printed).toMatch(/DMS applied the reset of group billing \(topic payments, partition 0\) to offset 47990/); // the undo
    expect(printed).toMatch(/appliedOffsets: payments\/0=28000, payments\/1=28000/);
    expect(printed).toMatch(/\+- .*OffsetReset billing-rewind replace .*~timestamp/);
  });
});
