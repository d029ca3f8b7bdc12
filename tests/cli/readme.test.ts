// README.md's `dms-offsets` usage block is `dms-offsets --help`, verbatim: USAGE in provider/cli/main.ts is
// the source, the README copies it (the fenced block under the heading below).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { USAGE } from "../../provider/cli/main";

const HEADING = "## Use it from a runbook: `dms-offsets`";

/** The first fenced block under the heading (before the next heading), without its fences. */
function readmeBlock(): string {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8").split("\n");
  const at = readme.indexOf(HEADING);
  if (at < 0) throw new Error(`README.md has no heading ${JSON.stringify(HEADING)}`);
  const open = readme.findIndex((l, i) => i > at && /^```/.test(l));
  const next = readme.findIndex((l, i) => i > at && /^## /.test(l));
  if (open < 0 || (next >= 0 && open > next)) throw new Error(`no fenced block under ${JSON.stringify(HEADING)}`);
  const close = readme.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (close < 0) throw new Error(`the fenced block under ${JSON.stringify(HEADING)} is not closed`);
  return readme.slice(open + 1, close).join("\n");
}

test("README.md's dms-offsets usage block is --help's text, verbatim", () => {
  expect(USAGE.startsWith("usage:\n  dms-offsets plan ")).toBe(true);
  expect(readmeBlock()).toBe(USAGE.replace(/\n$/, ""));
});
