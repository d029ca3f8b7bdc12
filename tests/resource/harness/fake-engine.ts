// The part of Pulumi's engine a provider talks to: its Log RPC, recording each message with its severity, so
// that a test can tell a warning the engine shows as a warning from a line the provider printed.
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogSeverity, type LogRequest } from "@pulumi/pulumi/proto/engine_pb";

export interface EngineMessage {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
}

const SEVERITIES = { [LogSeverity.DEBUG]: "debug", [LogSeverity.INFO]: "info", [LogSeverity.WARNING]: "warning", [LogSeverity.ERROR]: "error" } as const;

export class FakeEngine {
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly messages: EngineMessage[],
  ) {}

  static async start(): Promise<FakeEngine> {
    const server = new grpc.Server();
    const messages: EngineMessage[] = [];
    server.addService(EngineService, {
      log: (call: grpc.ServerUnaryCall<LogRequest, Empty>, callback: grpc.sendUnaryData<Empty>) => {
        const req = call.request;
        messages.push({ severity: SEVERITIES[req.getSeverity()], message: req.getMessage(), urn: req.getUrn() });
        callback(null, new Empty());
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    return new FakeEngine(server, `127.0.0.1:${port}`, messages);
  }

  /** The messages of one severity, in the order they arrived. */
  of(severity: EngineMessage["severity"]): string[] {
    return this.messages.filter((m) => m.severity === severity).map((m) => m.message);
  }

  clear(): void {
    this.messages.length = 0;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
