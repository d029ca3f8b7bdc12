// The dynamic provider's log, sent to the engine. Pulumi's dynamic-provider host is started with the
// engine's address (its first argument that is not a flag) but never connects `pulumi.log` to it
// (pulumi/pulumi#6065): there, `pulumi.log.warn` prints "warning: [runtime] …" on stderr, which the engine
// shows as plain output of the stack, and `pulumi preview --diff` not at all. So the provider calls the
// engine's Log RPC itself, as a provider plugin does; each operation awaits its messages before it answers.
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

export interface OperationLog {
  info(message: string): void;
  warn(message: string): void;
  /** Resolves once every message so far has reached the engine (or failed to, said on stderr). */
  flush(): Promise<void>;
}

/** The engine's address when this process is Pulumi's dynamic-provider host; undefined anywhere else. */
export function hostEngineAddress(main: string | undefined = require.main?.filename, args: readonly string[] = process.argv.slice(2)): string | undefined {
  if (main === undefined || !main.split(path.sep).join("/").endsWith("/cmd/dynamic-provider/index.js")) return undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--tracing") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

let client: EngineClient | undefined;
let connectedTo: string | undefined;

/** The log of one operation: through the engine at `address`, else through `pulumi.log` (tests, mocks). */
export function operationLog(address: string | undefined = hostEngineAddress()): OperationLog {
  if (address === undefined) {
    return { info: (m) => void pulumi.log.info(m), warn: (m) => void pulumi.log.warn(m), flush: async () => undefined };
  }
  if (connectedTo !== address) {
    client?.close();
    // @pulumi/pulumi's own gRPC runtime: the one its generated client was built with.
    const grpc = createRequire(require.resolve("@pulumi/pulumi/package.json"))("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
    client = new EngineClient(address, grpc.credentials.createInsecure());
    connectedTo = address;
  }
  const engine = client as EngineClient;
  // One after the other: the engine shows messages in the order they arrive.
  let sent = Promise.resolve();
  const send = (severity: LogSeverity, message: string) =>
    void (sent = sent.then(
      () =>
        new Promise<void>((resolve) =>
          engine.log(new LogRequest().setSeverity(severity).setMessage(message), (err) => {
            if (err) process.stderr.write(`${severity === LogSeverity.WARNING ? "warning" : "info"}: ${message} (not sent to the engine: ${err.message})\n`);
            resolve();
          }),
        ),
    ));
  return { info: (m) => send(LogSeverity.INFO, m), warn: (m) => send(LogSeverity.WARNING, m), flush: () => sent };
}
