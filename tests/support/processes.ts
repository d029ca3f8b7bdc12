// What several suites need around the processes and ports they start: the port a gRPC server prints as its
// first line (how the engine learns where a provider listens), a loopback port nothing listens on, and a
// wall-time line for a test's report (printed, never asserted).
import type { ChildProcessByStdio } from "node:child_process";
import { createServer } from "node:net";
import type { Readable } from "node:stream";

/**
 * The port `child` prints as the first line of its stdout, as Pulumi's plugins announce theirs. Rejects, with
 * what the child wrote on stderr, when it fails to start or exits before printing a line.
 */
export function printedPort(child: ChildProcessByStdio<null, Readable, Readable>, what: string): Promise<number> {
  let stderr = "";
  const onStderr = (chunk: Buffer) => (stderr += chunk.toString());
  child.stderr.on("data", onStderr);
  return new Promise<number>((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const newline = text.indexOf("\n");
      if (newline < 0) return;
      child.stdout.off("data", onData);
      child.stderr.off("data", onStderr);
      resolve(Number(text.slice(0, newline).trim()));
    };
    child.stdout.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code} before printing its port: ${stderr}`)));
  });
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Measures how long `work` takes and logs it, for the report a test prints. */
export async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    console.log(`${label}: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
  }
}
