// Pulumi's closure serializer at work on the package as users get it: a program in the packed project
// (tests/e2e/harness/pulumi.js installs it there) declares an OffsetReset under mocks, so what Pulumi
// registers, the serialized `__provider` included, is what a real `pulumi up` would send to the engine.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import type { PackedProject } from "../../e2e/harness/pulumi";

const run = promisify(execFile);

/**
 * Runs a program in the project under `pulumi.runtime.setMocks` that declares one OffsetReset with `args`,
 * and returns what Pulumi registered: its type and the serialized `__provider`.
 */
export async function serializeInProject(project: PackedProject, args: Record<string, unknown>): Promise<{ type: string; provider: string }> {
  const program = `
const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks({
  newResource(r) {
    if (r.type.endsWith(":OffsetReset")) process.stdout.write(JSON.stringify({ type: r.type, provider: r.inputs.__provider }) + "\\n");
    return { id: r.name + "-id", state: {} };
  },
  call: (c) => c.inputs,
}, "packed-program", "dev", false).then(() => {
  const { OffsetReset } = require("pulumi-dms-offset-reset");
  new OffsetReset("packed", ${JSON.stringify(args)});
});
`;
  const file = path.join(project.dir, "program.js");
  await writeFile(file, program);
  const { stdout } = await run("node", [file], { cwd: project.dir, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").pop() as string) as { type: string; provider: string };
}
