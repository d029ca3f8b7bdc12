// The package as users get it: built, packed with `npm pack`, and installed from the tarball into a fresh
// project's node_modules. That is where Pulumi's closure serializer and its dynamic-provider host look.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = path.resolve(__dirname, "../../..");

export interface PackedProject {
  /** The project directory: package.json and node_modules with the package installed. */
  dir: string;
  /** File name of the packed tarball, inside `dir`. */
  tarballName: string;
  remove(): Promise<void>;
}

/** Builds the repository, packs it and installs the tarball into a new temporary project. */
export async function installPackedPackage(): Promise<PackedProject> {
  await run("npm", ["run", "--silent", "build"], { cwd: repo, maxBuffer: 16 * 1024 * 1024 });
  const dir = await mkdtemp(path.join(os.tmpdir(), "offset-reset-packed-"));
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: repo });
  const tarballName = stdout.trim().split("\n").pop() as string;
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "packed-program", private: true }));
  // The registry is reachable but the npm cache already holds every dependency of the repository.
  await run("npm", ["install", `./${tarballName}`, "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, tarballName, remove: () => rm(dir, { recursive: true, force: true }) };
}

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
