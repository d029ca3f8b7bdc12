// The dynamic provider's log, sent to the engine. Pulumi's dynamic-provider host is started with the
// engine's address (its first argument that is not a flag) but never connects `pulumi.log` to it
// (pulumi/pulumi#6065): there, `pulumi.log.warn` prints "warning: [runtime] …" on stderr, which the engine
// shows as plain output of the stack, and `pulumi preview --diff` not at all. So the provider calls the
// engine's Log RPC itself, as a provider plugin does; each operation awaits its messages before it answers.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EngineLog, engineAddressOf, type OperationLog } from "./engine-log";

export type { OperationLog } from "./engine-log";

/** The engine's address when this process is Pulumi's dynamic-provider host; undefined anywhere else. */
export function hostEngineAddress(main: string | undefined = require.main?.filename, args: readonly string[] = process.argv.slice(2)): string | undefined {
  if (main === undefined || !main.split(path.sep).join("/").endsWith("/cmd/dynamic-provider/index.js")) return undefined;
  return engineAddressOf(args);
}

let engine: EngineLog | undefined;
let connectedTo: string | undefined;

/** The log of one operation: through the engine at `address`, else through `pulumi.log` (tests, mocks). */
export function operationLog(address: string | undefined = hostEngineAddress()): OperationLog {
  if (address === undefined) {
    return { log: { info: (m) => void pulumi.log.info(m), warn: (m) => void pulumi.log.warn(m) }, flush: async () => undefined };
  }
  if (engine === undefined || connectedTo !== address) {
    engine?.close();
    engine = new EngineLog(address);
    connectedTo = address;
  }
  return engine.forResource();
}
