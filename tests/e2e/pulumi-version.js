// The Pulumi version the toolchain scripts build or install (pulumi-cli.sh, python-env.sh): the
// @pulumi/pulumi npm installed, so the CLI, the language hosts and the SDKs always match; before `npm ci`,
// the exact devDependency pin in package.json. Only an exact x.y.z: a range can't name a Go module version.
// Usage: node tests/e2e/pulumi-version.js REPO_ROOT
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = process.argv[2] ?? path.resolve(__dirname, "../..");
let version;
try {
  version = JSON.parse(fs.readFileSync(path.join(root, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version;
} catch {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  version = ((pkg.devDependencies || {})["@pulumi/pulumi"] || "").replace(/^[=v]+/, "");
}
if (!/^\d+\.\d+\.\d+$/.test(version || "")) {
  console.error(`no exact @pulumi/pulumi version (got ${JSON.stringify(version)})`);
  process.exit(1);
}
console.log(version);
