// What the provider plugin's tests share: a dms-local world with distinctive credentials, the count of resets
// dms-local applied, the plugin started as the engine starts it (with a stand-in engine that records Log
// messages), a bin directory holding the plugin for `plugins: providers`, and the Pulumi CLI's environment.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogSeverity, type LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { Seed, type SeedInput } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { printedPort } from "../support/processes";

export const REPO = path.resolve(__dirname, "../..");
export const PLUGIN_MAIN = path.join(REPO, "dist/provider/plugin/main.js");
export const PLUGIN_NAME = "pulumi-resource-dms-offset-reset";

// Distinctive credentials, so that finding any of them anywhere is unambiguous.
export const CREDENTIALS = { ak: "PLUGINAKCANARY4F7Q2Z", sk: "plugin-secret-key-CANARY-8e1d4b7a2c", securityToken: "plugin-security-token-CANARY-5a9c" };
export const PROJECT_ID = "7c1e3a5b9d2f4c6e8a0b2d4f6a8c0e1b";
export const INSTANCE_ID = "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const timestamps = { base: 1_700_000_000_000, stepMs: 1000 }; // record n was written at base + n s
/** Records 28000 and 31600 of every partition. */
export const T1 = "2023-11-15T06:00:00Z";
export const T2 = "2023-11-15T07:00:00Z";

const seedInput: SeedInput = {
  projectId: PROJECT_ID,
  credentials: [{ ak: CREDENTIALS.ak, sk: CREDENTIALS.sk, userName: "plugin-tests" }],
  instances: [
    {
      id: INSTANCE_ID,
      topics: {
        payments: { partitions: [{ logStartOffset: 0, logEndOffset: 48000, timestamps }, { logStartOffset: 200, logEndOffset: 47950, timestamps }] },
        orders: { partitions: [{ logStartOffset: 0, logEndOffset: 1000, timestamps }] },
      },
      groups: {
        billing: { state: "EMPTY", offsets: { "payments/0": 47990, "payments/1": 47950, "orders/0": 900 } },
        ledger: { state: "EMPTY", offsets: { "payments/0": 47000, "payments/1": 46900 } },
        audit: { state: "EMPTY", offsets: { "payments/0": 40000, "payments/1": 40000 } },
        draining: {
          state: "STABLE",
          members: [{ memberId: "consumer-draining-1-4c2e", clientId: "draining-worker-7", host: "/10.0.3.7", assignment: [{ topic: "payments", partitions: [0, 1] }] }],
          offsets: { "payments/0": 47000, "payments/1": 46800 },
        },
      },
    },
  ],
};
export const SEED = Seed.parse(seedInput);

export function startDms(options: { taskDelayMs?: number } = {}): Promise<DmsLocal> {
  return startDmsLocal({ seed: SEED, admin: true, taskDelayMs: options.taskDelayMs ?? 100 });
}

interface Logged {
  method: string;
  path: string;
  status: number | null;
}

export async function requests(dms: DmsLocal): Promise<Logged[]> {
  return ((await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: Logged[] }).requests;
}

/** Requests that could have written: any method but GET on a reset path. */
export async function writes(dms: DmsLocal): Promise<Logged[]> {
  return (await requests(dms)).filter((r) => r.method !== "GET");
}

/**
 * How many resets dms-local applied to `group`: its applications count (`/__admin/applications`) where it has
 * one, else the reset requests it answered with success.
 */
export async function appliedResets(dms: DmsLocal, group: string): Promise<number> {
  const res = await fetch(`${dms.url}/__admin/applications`);
  if (res.ok) {
    const { applications } = (await res.json()) as { applications: { instanceId: string; group: string; count: number }[] };
    return applications.find((a) => a.instanceId === INSTANCE_ID && a.group === group)?.count ?? 0;
  }
  return (await requests(dms)).filter((r) => r.method !== "GET" && r.path.endsWith(`/groups/${group}/reset-message-offset`) && r.status !== null && r.status < 300).length;
}

/** A stand-in for the engine's Engine service: records what the plugin logs. */
export class FakeEngine {
  readonly logs: { severity: "debug" | "info" | "warning" | "error"; message: string; urn: string }[] = [];

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
  ) {}

  static async start(): Promise<FakeEngine> {
    const server = new grpc.Server();
    const severities = { [LogSeverity.DEBUG]: "debug", [LogSeverity.INFO]: "info", [LogSeverity.WARNING]: "warning", [LogSeverity.ERROR]: "error" } as const;
    let engine: FakeEngine | undefined;
    server.addService(EngineService, {
      log: (call: grpc.ServerUnaryCall<LogRequest, Empty>, callback: grpc.sendUnaryData<Empty>) => {
        engine?.logs.push({ severity: severities[call.request.getSeverity()], message: call.request.getMessage(), urn: call.request.getUrn() });
        callback(null, new Empty());
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    engine = new FakeEngine(server, `127.0.0.1:${port}`);
    return engine;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** The plugin started as the engine starts it: the executable with the engine's address; it prints its port. */
export class PluginProcess {
  private output = "";

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly client: ResourceProviderClient,
    readonly port: number,
  ) {
    child.stdout.on("data", (c: Buffer) => (this.output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (this.output += c.toString()));
  }

  /** Runs the built plugin with this node (npm marks the installed bin executable; a fresh build is not). */
  static async start(engineAddress: string, env: NodeJS.ProcessEnv): Promise<PluginProcess> {
    const child = spawn(process.execPath, [PLUGIN_MAIN, "--logtostderr", "-v=3", engineAddress], { env, stdio: ["ignore", "pipe", "pipe"] });
    const port = await printedPort(child, "the plugin");
    return new PluginProcess(child, new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()), port);
  }

  /** What the plugin printed after its port (stdout) and on stderr. */
  printed(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** Calls a unary method of a gRPC client, as a promise. */
export function unary<T>(call: (cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    call((err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/**
 * A directory holding the plugin executable as `plugins: providers` wants it: the repository's build, linked
 * under the plugin's name. (The YAML test uses the installed package's bin instead.)
 */
export function pluginBinDir(): { dir: string; remove: () => void } {
  chmodSync(PLUGIN_MAIN, 0o755);
  const dir = mkdtempSync(path.join(os.tmpdir(), "dms-plugin-bin-"));
  symlinkSync(PLUGIN_MAIN, path.join(dir, PLUGIN_NAME));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment without any DMS credential or region: the tests give them through configuration. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CLOUD_SDK_|HW_)/.test(k))), ...extra };
}

/** Each of the canary credentials found in `text`. */
export function leakedCredentials(text: string): string[] {
  return Object.values(CREDENTIALS).filter((v) => text.includes(v));
}

export { timed } from "../support/processes";
