// Messages for the engine's Log RPC, for both front doors: the provider plugin attaches them to the resource's
// URN, so that `pulumi up/preview/destroy` shows them under that resource; the dynamic-provider host, which is
// never told a URN, sends them for the stack. Each operation awaits its messages before it answers, so none
// arrives after the operation ended.
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";
import type { ProviderContext } from "./lifecycle";
import { CHANNEL_OPTIONS, grpc } from "./pulumi-grpc";

/**
 * The engine's address among a provider's arguments, as the engine starts both a plugin and the
 * dynamic-provider host: the first argument that is not one of its logging or tracing flags.
 */
export function engineAddressOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--tracing") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

export interface OperationLog {
  log: ProviderContext["log"];
  /** Resolves when every message so far has reached the engine (or failed to, which is written to stderr). */
  flush(): Promise<void>;
}

export class EngineLog {
  private client: EngineClient | undefined;

  constructor(address: string | undefined) {
    this.connect(address);
  }

  /** (Re)connects to the engine at `address`; without one, messages go to stderr. */
  connect(address: string | undefined): void {
    this.client?.close();
    this.client = address ? new EngineClient(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) : undefined;
  }

  /** The log of one operation, on the resource `urn` when the engine said which. */
  forResource(urn?: string): OperationLog {
    // One after the other: the engine shows messages in the order they arrive.
    let sent = Promise.resolve();
    const send = (severity: LogSeverity, message: string) => void (sent = sent.then(() => this.send(severity, message, urn)));
    return {
      log: { info: (m) => send(LogSeverity.INFO, m), warn: (m) => send(LogSeverity.WARNING, m) },
      flush: () => sent,
    };
  }

  private send(severity: LogSeverity, message: string, urn: string | undefined): Promise<void> {
    const client = this.client;
    if (!client) {
      process.stderr.write(`${severity === LogSeverity.WARNING ? "warning" : "info"}: ${message}\n`);
      return Promise.resolve();
    }
    const req = new LogRequest().setSeverity(severity).setMessage(message);
    if (urn !== undefined) req.setUrn(urn);
    return new Promise((resolve) =>
      client.log(req, (err) => {
        if (err) process.stderr.write(`could not send a message to the engine (${err.message}): ${message}\n`);
        resolve();
      }),
    );
  }

  close(): void {
    this.client?.close();
  }
}
