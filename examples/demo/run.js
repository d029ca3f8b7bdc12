// @ts-check
// The Pulumi half of `npm run demo`: the quickstart program, run by the real engine through the Automation
// API (the nodejs language host cannot be built here, see README), from a workspace where the package is
// installed from its packed tarball, as users install it. Usage: node run.js WORKSPACE DMS_LOCAL_URL
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

const [workspace, dmsLocalUrl] = process.argv.slice(2);
if (!workspace || !dmsLocalUrl) throw new Error("usage: node run.js WORKSPACE DMS_LOCAL_URL");
// Everything Pulumi comes from the workspace, so the program and the engine share one @pulumi/pulumi.
const { LocalWorkspace } = require(path.join(workspace, "node_modules/@pulumi/pulumi/automation"));

// The quickstart is TypeScript; the engine's own TypeScript support lives in the language host, so the
// demo transpiles it (types were checked by the test suite).
const source = fs.readFileSync(path.join(__dirname, "../quickstart/index.ts"), "utf8");
const programFile = path.join(workspace, "quickstart.js");
fs.writeFileSync(programFile, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);

/** Runs the quickstart afresh: a module runs its top level once per require, and each update needs it again. */
async function program() {
  delete require.cache[programFile];
  return require(programFile);
}

const show = (title, offsets) => {
  console.log(`\n${title}`);
  console.table(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.messageCurrentOffset, lag: o.lag })));
};

async function main() {
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "demo", projectName: "dms-offset-reset-quickstart", program },
    {
      workDir: workspace,
      projectSettings: { name: "dms-offset-reset-quickstart", runtime: "nodejs", backend: { url: `file://${path.join(workspace, "state")}` } },
      secretsProvider: "passphrase",
    },
  );
  await stack.setConfig("endpoint", { value: dmsLocalUrl });

  console.log("\n== pulumi up: rewind group billing (topic payments) to 2023-11-15T06:00:00Z");
  await stack.setConfig("timestamp", { value: "2023-11-15T06:00:00Z" });
  let up = await stack.up({ onOutput: (s) => process.stdout.write(s) });
  show("previousOffsets (before the rewind)", up.outputs.previousOffsets.value);
  show("appliedOffsets (read back after it)", up.outputs.appliedOffsets.value);

  console.log("\n== the runbook changes the incident time to 2023-11-15T04:30:00Z: pulumi preview --diff");
  await stack.setConfig("timestamp", { value: "2023-11-15T04:30:00Z" });
  await stack.preview({ diff: true, onOutput: (s) => process.stdout.write(s) });

  console.log("\n== pulumi up: the replacement sends one new reset; deleting the old rewind sends nothing");
  up = await stack.up({ onOutput: (s) => process.stdout.write(s) });
  show("previousOffsets", up.outputs.previousOffsets.value);
  show("appliedOffsets", up.outputs.appliedOffsets.value);
  console.log(`\nThe stack's state and history are in ${path.join(workspace, "state")} (passphrase: $PULUMI_CONFIG_PASSPHRASE).`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
