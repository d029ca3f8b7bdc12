// Run after `tsc` by `npm run build`: dist/ keeps only what the current sources compile to (X.js and X.d.ts
// for each X.ts). tsc never deletes, so a renamed or deleted source, or a source map of an older build
// configuration, would otherwise stay in dist/ and be published by `npm pack`. Only such leftovers are
// removed (never a current output), so a build running while other processes use dist/ breaks none of them.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");

/** The source a file in dist/ was compiled from, or undefined if it is not a tsc output of this configuration. */
function sourceOf(file) {
  const match = /^(.*)\.(js|d\.ts)$/.exec(path.relative(dist, file));
  return match ? path.join(root, `${match[1]}.ts`) : undefined;
}

function prune(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(file);
      try {
        fs.rmdirSync(file); // only if empty
      } catch {
        // not empty (or a concurrent build is writing into it again): it stays
      }
      continue;
    }
    const source = sourceOf(file);
    if (source === undefined || !fs.existsSync(source)) fs.rmSync(file, { force: true });
  }
}

if (fs.existsSync(dist)) prune(dist);
