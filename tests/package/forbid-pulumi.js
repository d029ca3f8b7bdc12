// Preloaded (`node --require`) into the bins by tests/package: the runbook CLI and dms-local must run without
// Pulumi's SDK, a peer dependency a user of only the bins does not install. Any attempt to resolve a
// `@pulumi/` module fails, and is also reported on stderr at exit, in case the code caught the failure.
"use strict";
const Module = require("node:module");

const attempts = [];
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith("@pulumi/")) {
    attempts.push(request);
    throw new Error(`forbid-pulumi: ${request} must not be loaded by this process`);
  }
  return resolveFilename.call(this, request, ...rest);
};
process.on("exit", () => {
  if (attempts.length > 0) process.stderr.write(`forbid-pulumi: attempted to load ${attempts.join(", ")}\n`);
});
