// Pulumi's own dynamic-provider host, started the way the engine starts it (the `pulumi-resource-pulumi-nodejs`
// launcher from the program's @pulumi/pulumi, in the program's directory, with the engine address as its
// argument), and driven over its gRPC ResourceProvider interface as the engine drives it.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import type { Any } from "google-protobuf/google/protobuf/any_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { printedPort } from "../../support/processes";

type Props = Record<string, unknown>;

export class ProviderHost {
  private output = "";

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    private readonly client: ResourceProviderClient,
  ) {
    child.stdout.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Starts the host in `cwd` (a project with @pulumi/pulumi installed) and connects to the port it prints. */
  static async start(cwd: string, env: NodeJS.ProcessEnv, engineAddress: string): Promise<ProviderHost> {
    const launcher = path.join(cwd, "node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs");
    // Its own process group: the launcher is a shell script that runs node as its child.
    const child = spawn("sh", [launcher, engineAddress], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const port = await printedPort(child, "the provider host");
    return new ProviderHost(child, new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  }

  /** What the host printed after its port: the engine shows these lines as the provider's diagnostics. */
  printed(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    this.client.close();
    const exited = this.child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => this.child.once("exit", resolve));
    try {
      process.kill(-(this.child.pid as number), "SIGTERM");
    } catch {
      // The group is already gone.
    }
    await exited;
  }

  configure(config: Props): Promise<proto.ConfigureResponse> {
    const req = new proto.ConfigureRequest().setArgs(Struct.fromJavaScript(toStruct(config))).setAcceptsecrets(true);
    return unary((cb) => this.client.configure(req, cb));
  }

  async check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new proto.CheckRequest().setUrn(urn).setOlds(Struct.fromJavaScript(toStruct(olds))).setNews(Struct.fromJavaScript(toStruct(news)));
    const res = await unary<proto.CheckResponse>((cb) => this.client.check(req, cb));
    return {
      inputs: (res.getInputs()?.toJavaScript() ?? {}) as Props,
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(urn: string, id: string, olds: Props, news: Props): Promise<{ changes: "none" | "some" | "unknown"; replaces: string[] }> {
    const req = new proto.DiffRequest().setUrn(urn).setId(id).setOlds(Struct.fromJavaScript(toStruct(olds))).setNews(Struct.fromJavaScript(toStruct(news)));
    const res = await unary<proto.DiffResponse>((cb) => this.client.diff(req, cb));
    const changes = { [proto.DiffResponse.DiffChanges.DIFF_NONE]: "none", [proto.DiffResponse.DiffChanges.DIFF_SOME]: "some", [proto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "unknown" } as const;
    return { changes: changes[res.getChanges()], replaces: res.getReplacesList() };
  }

  async create(urn: string, properties: Props): Promise<{ id: string; properties: Props }> {
    const req = new proto.CreateRequest().setUrn(urn).setProperties(Struct.fromJavaScript(toStruct(properties)));
    const res = await unary<proto.CreateResponse>((cb) => this.client.create(req, cb));
    return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
  }

  async update(urn: string, id: string, olds: Props, news: Props): Promise<Props> {
    const req = new proto.UpdateRequest().setUrn(urn).setId(id).setOlds(Struct.fromJavaScript(toStruct(olds))).setNews(Struct.fromJavaScript(toStruct(news)));
    const res = await unary<proto.UpdateResponse>((cb) => this.client.update(req, cb));
    return (res.getProperties()?.toJavaScript() ?? {}) as Props;
  }

  async read(urn: string, id: string, properties: Props): Promise<{ id: string; properties: Props; inputs: Props | undefined }> {
    const req = new proto.ReadRequest().setUrn(urn).setId(id).setProperties(Struct.fromJavaScript(toStruct(properties)));
    const res = await unary<proto.ReadResponse>((cb) => this.client.read(req, cb));
    return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props, inputs: res.getInputs()?.toJavaScript() as Props | undefined };
  }

  async delete(urn: string, id: string, properties: Props): Promise<void> {
    const req = new proto.DeleteRequest().setUrn(urn).setId(id).setProperties(Struct.fromJavaScript(toStruct(properties)));
    await unary((cb) => this.client.delete(req, cb));
  }
}

/**
 * What a failed Create or Update asks the engine to record (ErrorResourceInitFailed: the resource exists,
 * with these properties and reasons), read from the error's gRPC status details; undefined for a plain error.
 */
export function initFailureOf(error: unknown): { id: string; properties: Props; reasons: string[] } | undefined {
  const raw = (error as Partial<grpc.ServiceError>).metadata?.get("grpc-status-details-bin")[0];
  if (raw === undefined) return undefined;
  // The status message Pulumi's host packs the details in (google.rpc.Status); the SDK ships no types for it.
  const { Status } = require("@pulumi/pulumi/proto/status_pb") as { Status: { deserializeBinary(bytes: Uint8Array): { getDetailsList(): Any[] } } };
  const detail = Status.deserializeBinary(raw as Buffer)
    .getDetailsList()
    .map((any) => any.unpack(proto.ErrorResourceInitFailed.deserializeBinary, "pulumirpc.ErrorResourceInitFailed"))
    .find((d) => d !== null);
  if (!detail) return undefined;
  return { id: detail.getId(), properties: (detail.getProperties()?.toJavaScript() ?? {}) as Props, reasons: detail.getReasonsList() };
}

/** Struct.fromJavaScript's parameter type, which JSON-like property bags are. */
type JavaScriptValue = Parameters<typeof Struct.fromJavaScript>[0];
function toStruct(props: Props): JavaScriptValue {
  return JSON.parse(JSON.stringify(props)) as JavaScriptValue;
}

function unary<T>(call: (cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    call((err, res) => (err ? reject(err) : resolve(res as T)));
  });
}
