// The fenced code blocks of README.md and examples/yaml/README.md, and how each one is checked. Every block must
// match exactly one entry of BLOCKS (by its file, its language and how its first line starts) and every entry
// exactly one block: a block added to a README fails the test until someone decides here how it is checked.
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "../..");
export const README = "README.md";
export const YAML_README = "examples/yaml/README.md";
export const DOCUMENTS = [README, YAML_README] as const;

export interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string's first word ("" when none). */
  lang: string;
  /** The nearest heading above the block. */
  heading: string;
  /** The content, without the fences and without the fence's indentation. */
  text: string;
  /** The first non-blank line of the content, trimmed. */
  firstLine: string;
}

/** Every fenced block of `file` (relative to the repository), in order. Throws on a fence that is never closed. */
export function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(path.join(REPO, file), "utf8").split("\n");
  const blocks: Block[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^#{1,6} /.test(line)) heading = line;
    const open = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (!open) continue;
    const [, indent = "", fence = "", lang = ""] = open;
    const close = lines.findIndex((l, j) => j > i && l.startsWith(indent) && l.trim().startsWith(fence) && l.trim().replace(/[`~]/g, "") === "");
    if (close < 0) throw new Error(`${file}:${i + 1}: the ${fence}${lang} block is never closed`);
    const content = lines.slice(i + 1, close).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    const text = content.join("\n");
    blocks.push({ file, line: i + 1, lang, heading, text, firstLine: content.find((l) => l.trim() !== "")?.trim() ?? "" });
    i = close;
  }
  return blocks;
}

/**
 * The shell commands of a block: logical lines (a line ending in `\` continues on the next), blank and
 * comment-only lines left out. Trailing comments stay: bash reads them as a user's shell does.
 */
export function commandsOf(text: string): string[] {
  const commands: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (current === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    current += line;
    if (/\\$/.test(line)) {
      current += "\n";
      continue;
    }
    commands.push(current);
    current = "";
  }
  if (current !== "") commands.push(current);
  return commands;
}

export type BlockId =
  | "two-commands"
  | "try-it"
  | "plan-apply-undo"
  | "plan-sample"
  | "undo-as-code"
  | "install"
  | "typescript-program"
  | "stack-config"
  | "plugins-entry"
  | "yaml-program"
  | "python-program"
  | "go-program"
  | "cli-usage"
  | "dms-local-commands"
  | "yaml-example";

export interface BlockEntry {
  id: BlockId;
  file: (typeof DOCUMENTS)[number];
  lang: string;
  /** How the block's first non-blank line starts: the stable feature it is recognised by. */
  starts: string;
  /** What the block is, and how the test checks it. */
  check: string;
  /** Why any of it is not executed as written (absent: all of it is). */
  notRun?: string;
}

/** The classification: one entry per block, in the order the READMEs show them. */
export const BLOCKS: readonly BlockEntry[] = [
  {
    id: "two-commands",
    file: README,
    lang: "sh",
    starts: "npm run demo",
    check: "shell: `npm run demo` runs in this repository (it is written for a clone; 40–62 s measured on 2 shared cores with the toolchain cached); its refusal, wait, plan, rewind, undo, preview, up and replacement preview are checked in its output",
    notRun: "`npm test`: it is the suite this test runs in (tests/run.sh runs jest, which runs this file)",
  },
  {
    id: "try-it",
    file: README,
    lang: "sh",
    starts: "npx dms-local --port 18080 &",
    check: "shell: in the README session (bash, a fresh directory where the packed package is installed); dms-local's ready line is awaited; the exported credentials and project are the ones its banner prints",
  },
  {
    id: "plan-apply-undo",
    file: README,
    lang: "sh",
    starts: "npx dms-offsets plan ",
    check: "shell: in the README session, using the previous block's dms-local and exports; the plan sends nothing and prints the sample below, the reset lands every partition on the plan's target and saves the offsets before, the --from-file reset puts every partition back exactly",
  },
  {
    id: "plan-sample",
    file: README,
    lang: "text",
    starts: "plan for group billing on instance ",
    check: "output sample: equal, line by line, to what the plan command above printed (… elides)",
  },
  {
    id: "undo-as-code",
    file: README,
    lang: "ts",
    starts: 'const rewind = new OffsetReset("billing-rewind", { projectId, instanceId,',
    check: "program fragment: verbatim in an index.ts that imports OffsetReset and defines projectId and instanceId (dms-local's), endpoint from `pulumi config set dms-offset-reset:endpoint`; pulumi up rewinds every topic of billing and the undo puts every partition back",
  },
  {
    id: "install",
    file: README,
    lang: "sh",
    starts: "npm install pulumi-dms-offset-reset @pulumi/pulumi",
    check: "shell: first in the README session; every line as written, except the one substitution: the package is not published, so `npm install pulumi-dms-offset-reset @pulumi/pulumi` installs the packed tarball and @pulumi/pulumi at this repository's devDependency (the CLI's version)",
  },
  {
    id: "typescript-program",
    file: README,
    lang: "ts",
    starts: 'import { OffsetReset } from "pulumi-dms-offset-reset";',
    check: "program: index.ts verbatim in the installed project (Pulumi.yaml: runtime nodejs), credentials from the session's exports; pulumi preview shows the plan and sends nothing, pulumi up applies one reset, previousOffsets/appliedOffsets are right, pulumi destroy sends nothing",
    notRun: 'the Huawei Cloud variant (`region: "cn-north-4"` instead of `endpoint`) needs Huawei Cloud',
  },
  {
    id: "stack-config",
    file: README,
    lang: "text",
    starts: "pulumi config set --secret dms-offset-reset:accessKey",
    check: "shell commands shown as text: run as written (placeholders and all) in a new stack of a project of another name; the keys land under dms-offset-reset:, the three credentials encrypted",
  },
  {
    id: "plugins-entry",
    file: README,
    lang: "yaml",
    starts: "plugins:",
    check: "Pulumi.yaml fragment: verbatim in the Pulumi.yaml that runs the YAML program below (and equal to examples/yaml's entry)",
  },
  {
    id: "yaml-program",
    file: README,
    lang: "yaml",
    starts: "resources:",
    check: "YAML program fragment: verbatim in a Pulumi.yaml (runtime yaml, the plugins entry above, config defaults for ${projectId} and ${instanceId}); pulumi up against the session's dms-local rewinds billing, pulumi destroy",
  },
  {
    id: "python-program",
    file: README,
    lang: "python",
    starts: "import pulumi",
    check: "program fragment: every keyword argument and attribute it uses exists in the generated SDK (sdk/python)",
    notRun: "running Python needs pulumi-language-python and the SDK installed from PyPI; tests/plugin/python.test.ts runs the same SDK calls against dms-local",
  },
  {
    id: "go-program",
    file: README,
    lang: "go",
    starts: "r, err := dmsoffsetreset.NewOffsetReset(",
    check: "program fragment: type-checked as written (go vet) inside a Pulumi program of the SDK in sdk/go, with the pulumi.Int variant its comment names",
    notRun: "running Go needs the Automation API harness of tests/plugin/go.test.ts, which runs a program of the same SDK against dms-local",
  },
  {
    id: "cli-usage",
    file: README,
    lang: "text",
    starts: "usage:",
    check: "usage text: equal to `dms-offsets --help` (tests/cli/readme.test.ts)",
  },
  {
    id: "dms-local-commands",
    file: README,
    lang: "text",
    starts: "npx dms-local --port 0",
    check: "shell commands shown as text: each started as written in the installed project (my-world.json: a world of one's own written there first), its banner awaited and checked, then stopped",
    notRun: "`--kafka 127.0.0.1:9092` runs against the test broker instead ($KAFKA_BOOTSTRAP, from tests/kafka/broker.sh): nothing listens on 9092",
  },
  {
    id: "yaml-example",
    file: YAML_README,
    lang: "sh",
    starts: "(cd ../.. && npm run build)",
    check: "shell: the first line runs as written in this repository's examples/yaml (it is the build the tarball is packed from); the others in a copy of examples/yaml whose package.json names the packed tarball (instead of file:../..) and @pulumi/pulumi at the devDependency, in order, in one bash session, against its dms-local",
  },
];

/**
 * Each block with its entry. Throws naming every block without an entry (or with several) and every entry
 * without a block.
 */
export function classify(): Map<BlockId, Block> {
  const problems: string[] = [];
  const found = new Map<BlockId, Block>();
  for (const file of DOCUMENTS) {
    for (const block of fencedBlocks(file)) {
      const entries = BLOCKS.filter((e) => e.file === block.file && e.lang === block.lang && block.firstLine.startsWith(e.starts));
      if (entries.length !== 1) {
        problems.push(
          `${block.file}:${block.line}: a \`\`\`${block.lang} block starting ${JSON.stringify(block.firstLine)} matches ${entries.length === 0 ? "no entry" : `${entries.length} entries`} of BLOCKS in tests/readme/blocks.ts: decide how it is checked and add it there`,
        );
        continue;
      }
      const entry = entries[0] as BlockEntry;
      if (found.has(entry.id)) problems.push(`${block.file}:${block.line}: a second block for entry ${entry.id}`);
      found.set(entry.id, block);
    }
  }
  for (const entry of BLOCKS) {
    if (!found.has(entry.id)) problems.push(`entry ${entry.id} of tests/readme/blocks.ts matches no block of ${entry.file} (a \`\`\`${entry.lang} block starting ${JSON.stringify(entry.starts)})`);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return found;
}
