// @ts-check
// Generates the Python and Go SDKs of the provider plugin from the committed schema (provider/plugin/schema.json)
// with tools/sdkgen, into sdk/python and sdk/go, which are committed. A few files there are not generated and
// are kept as they are (KEPT): the Python package's README (pyproject.toml names it) and the Go module's go.mod
// and go.sum (the Go module is sdk/go/dmsoffsetreset, its path the schema's importBasePath).
//
// Usage: node tools/schema/sdks.js [--check]
//   sdkgen is $DMS_SDKGEN, else built (or taken from the cache) by tools/sdkgen/build.sh.
//   --check: generate into a temporary directory and exit 1, listing the files, when the committed SDKs differ.
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const repo = path.resolve(__dirname, "../..");
const SCHEMA = path.join(repo, "provider/plugin/schema.json");
/** @typedef {"python" | "go"} Language */
/** @type {readonly Language[]} */
const LANGUAGES = ["python", "go"];
/** @type {Record<Language, string>} */
const SDK_DIRS = { python: path.join(repo, "sdk/python"), go: path.join(repo, "sdk/go") };
/** Committed files sdkgen does not write, relative to each language's directory. @type {Record<Language, string[]>} */
const KEPT = { python: ["README.md"], go: ["dmsoffsetreset/go.mod", "dmsoffsetreset/go.sum"] };

/** The sdkgen binary: $DMS_SDKGEN, else the one tools/sdkgen/build.sh builds or finds in its cache. */
function sdkgenPath() {
  const given = process.env.DMS_SDKGEN;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`DMS_SDKGEN=${given} does not exist`);
    return given;
  }
  const out = execFileSync("bash", [path.join(repo, "tools/sdkgen/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return out.trim().split("\n").pop() ?? "";
}

/** Runs sdkgen on the schema: OUT/python and OUT/go. */
function generate(/** @type {string} */ out, sdkgen = sdkgenPath()) {
  execFileSync(sdkgen, ["--schema", SCHEMA, "--out", out, "--lang", LANGUAGES.join(",")], { stdio: ["ignore", "inherit", "inherit"] });
}

/** Every file under `dir`, as paths relative to it with "/" separators, sorted. */
function filesUnder(/** @type {string} */ dir) {
  /** @type {string[]} */
  const found = [];
  const walk = (/** @type {string} */ d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else found.push(path.relative(dir, p).split(path.sep).join("/"));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found.sort();
}

/**
 * What differs between the generated SDKs in `generated` (OUT of generate) and the committed ones: files missing,
 * extra or changed, each as "lang/path: why". Kept files are not compared.
 */
function drift(/** @type {string} */ generated) {
  /** @type {string[]} */
  const problems = [];
  for (const lang of LANGUAGES) {
    const kept = new Set(KEPT[lang]);
    const committedDir = SDK_DIRS[lang];
    const fresh = filesUnder(path.join(generated, lang));
    const committed = filesUnder(committedDir).filter((f) => !kept.has(f));
    for (const f of fresh) {
      if (!committed.includes(f)) problems.push(`${lang}/${f}: generated but not committed`);
      else if (!fs.readFileSync(path.join(generated, lang, f)).equals(fs.readFileSync(path.join(committedDir, f)))) problems.push(`${lang}/${f}: differs`);
    }
    for (const f of committed) if (!fresh.includes(f)) problems.push(`${lang}/${f}: committed but no longer generated`);
    for (const f of kept) if (!fs.existsSync(path.join(committedDir, f))) problems.push(`${lang}/${f}: missing (kept by hand, see tools/schema/sdks.js)`);
  }
  return problems;
}

/** Replaces the committed SDKs with freshly generated ones, keeping KEPT files. */
function write() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dms-sdks-"));
  try {
    generate(tmp);
    for (const lang of LANGUAGES) {
      const dir = SDK_DIRS[lang];
      const kept = new Set(KEPT[lang]);
      for (const f of filesUnder(dir)) if (!kept.has(f)) fs.rmSync(path.join(dir, f));
      for (const f of filesUnder(path.join(tmp, lang))) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(tmp, lang, f), path.join(dir, f));
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { generate, drift, sdkgenPath, filesUnder, SDK_DIRS, KEPT };

if (require.main === module) {
  if (process.argv.includes("--check")) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dms-sdks-"));
    try {
      generate(tmp);
      const problems = drift(tmp);
      if (problems.length > 0) {
        console.error(`the committed SDKs differ from what provider/plugin/schema.json generates (run \`node tools/schema/sdks.js\`):\n  ${problems.join("\n  ")}`);
        process.exitCode = 1;
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    write();
  }
}
