// The provider plugin's gRPC ResourceProvider service: a thin front door on the lifecycle the dynamic
// resource runs (resource/check, diff, lifecycle). Each method converts the engine's request, calls the
// lifecycle with a context whose log reaches the engine attached to the resource's URN, and converts back.
// What differs from the dynamic provider is only what the engine gives a real plugin: stack configuration in
// Configure, the operation timeout in Create/Update, `preview` in Create/Update (the plan is read there, not
// in Check), a detailed diff.
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import type * as grpcTypes from "@grpc/grpc-js";
import { checkInputs } from "../resource/check";
import type { StackSettings } from "../resource/connection";
import { diffInputs, type InputChange } from "../resource/diff";
import { SECRET_KEYS } from "../resource/inputs";
import { createRewind, deleteNotice, planForPreview, readOffsets, ResourceInitError, updateRewind, type ProviderContext } from "../resource/lifecycle";
import { publicInputs, UNKNOWN, type CheckedInputs, type Outputs, type PlanState } from "../resource/properties";
import { checkConfig, configChanges, stackSettings } from "./config";
import { EngineLog } from "../resource/engine-log";
import { packageVersion, RESOURCE_TYPE, schemaText } from "./schema";
import { Any, CHANNEL_OPTIONS, Empty, grpc } from "../resource/pulumi-grpc";
import { asSecret, fromStruct, toStruct, unwrapSecrets, type Props } from "./wire";

type Kind = proto.PropertyDiff.Kind;
const KIND = proto.PropertyDiff.Kind;

/** What a rewind adds to the outputs: unknown during a preview of a create or of a rewinding update. */
const REWIND_OUTPUTS = ["resetAt", "requestId", "outcome", "previousOffsets", "appliedOffsets", "currentOffsets"] as const;

/** A gRPC error with a message; an error carrying a resource's state goes as ErrorResourceInitFailed. */
function grpcError(e: unknown): Partial<grpcTypes.StatusObject> & { code: grpcTypes.status; details: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof ResourceInitError)) return { code: grpc.status.UNKNOWN, details: message };
  // As @pulumi/pulumi's own servers: the status, with the resource's state in its details, in the
  // grpc-status-details-bin trailer, so that the engine records the state (and the undo record in it).
  const detail = new proto.ErrorResourceInitFailed().setId(e.id).setProperties(toStruct(e.properties)).setReasonsList(e.reasons);
  const any = new Any();
  any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
  const status = new statusproto.Status().setCode(grpc.status.UNKNOWN).setMessage(message);
  status.addDetails(any);
  const metadata = new grpc.Metadata();
  metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
  return { code: grpc.status.UNKNOWN, details: message, metadata };
}

/** `seconds` of an engine timeout as the duration the lifecycle's waitBudget reads; 0 means none. */
function durationOf(seconds: number): string | undefined {
  return seconds > 0 ? `${seconds}s` : undefined;
}

const isAbsent = (v: unknown) => v === undefined || v === null;

/** A detailed-diff entry: a change to an input, added, removed or changed, replacing or not. */
function kindOf(olds: Props, news: Props, key: string, replace: boolean): Kind {
  if (isAbsent(olds[key])) return replace ? KIND.ADD_REPLACE : KIND.ADD;
  if (isAbsent(news[key])) return replace ? KIND.DELETE_REPLACE : KIND.DELETE;
  return replace ? KIND.UPDATE_REPLACE : KIND.UPDATE;
}

/** The plan a preview shows, or why it is unknown; a forward move that forbidForward refuses fails the preview. */
async function planOfPreview(inputs: CheckedInputs, ctx: ProviderContext): Promise<PlanState> {
  const { plan, refusal } = await planForPreview(inputs, ctx);
  if (refusal !== undefined) throw new Error(`forbidForward: ${refusal}`);
  return plan;
}

/** The outputs a preview shows for a rewind to come: the inputs, the plan, and what only the rewind knows as unknown. */
function previewOutputs(inputs: CheckedInputs, plan: PlanState): Props {
  const allTopics = [inputs.topic, inputs.topics, inputs.offsets].every(isAbsent);
  return {
    ...publicInputs(inputs),
    ...Object.fromEntries(REWIND_OUTPUTS.map((k) => [k, UNKNOWN])),
    ...(allTopics && { taskId: UNKNOWN }),
    plan,
  };
}

export class OffsetResetProvider {
  /** Stack configuration, set by Configure. */
  private stack: StackSettings = {};

  constructor(
    private readonly engine: EngineLog,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Runs `op` with a context whose log reaches the engine under `urn`; answers once its messages are sent. */
  private async operation<T>(urn: string, op: (ctx: ProviderContext) => Promise<T>): Promise<T> {
    const log = this.engine.forResource(urn);
    try {
      return await op({ env: this.env, stack: this.stack, log: log.log });
    } finally {
      await log.flush();
    }
  }

  private requireType(type: string): void {
    if (type !== "" && type !== RESOURCE_TYPE) throw new Error(`unknown resource type ${type}: this provider has ${RESOURCE_TYPE}`);
  }

  /** The service's handlers; methods it leaves out answer UNIMPLEMENTED. */
  handlers(): Partial<provrpc.IResourceProviderServer> {
    const unary =
      <Req, Res>(handle: (req: Req) => Promise<Res>): grpcTypes.handleUnaryCall<Req, Res> =>
      (call, callback) => {
        handle(call.request).then(
          (res) => callback(null, res),
          (e: unknown) => {
            const err = grpcError(e);
            callback(err as grpcTypes.ServiceError, null, err.metadata);
          },
        );
      };

    return {
      getPluginInfo: unary(async () => new plugproto.PluginInfo().setVersion(packageVersion())),
      getSchema: unary(async (req: proto.GetSchemaRequest) => {
        if (req.getVersion() !== 0) throw new Error(`unsupported schema version ${req.getVersion()}`);
        return new proto.GetSchemaResponse().setSchema(schemaText());
      }),
      cancel: unary(async () => new Empty()),
      attach: unary(async (req: plugproto.PluginAttach) => {
        this.engine.connect(req.getAddress());
        return new Empty();
      }),

      checkConfig: unary(async (req: proto.CheckRequest) => {
        const { inputs, failures } = checkConfig(fromStruct(req.getNews()));
        return checkResponse(inputs, failures);
      }),
      diffConfig: unary(async (req: proto.DiffRequest) => {
        const olds = unwrapSecrets(fromStruct(req.getOldInputs() ?? req.getOlds()));
        const changes = configChanges(olds, unwrapSecrets(fromStruct(req.getNews())));
        const res = new proto.DiffResponse()
          .setChanges(changes.length > 0 ? proto.DiffResponse.DiffChanges.DIFF_SOME : proto.DiffResponse.DiffChanges.DIFF_NONE)
          .setDiffsList(changes.map((c) => c.key))
          .setHasdetaileddiff(true);
        const kinds = { add: KIND.ADD, delete: KIND.DELETE, update: KIND.UPDATE };
        for (const c of changes) res.getDetaileddiffMap().set(c.key, new proto.PropertyDiff().setKind(kinds[c.kind]).setInputdiff(true));
        return res;
      }),
      configure: unary(async (req: proto.ConfigureRequest) => {
        this.stack = stackSettings(unwrapSecrets(fromStruct(req.getArgs())), new Map(req.getVariablesMap().entries()));
        // No secrets: the engine sends plain values and keeps them secret on its side (same-named outputs).
        return new proto.ConfigureResponse().setAcceptsecrets(false).setAcceptresources(false).setAcceptoutputs(false).setSupportspreview(true);
      }),

      check: unary(async (req: proto.CheckRequest) => {
        this.requireType(req.getType());
        // Validation and normalisation only: no DMS read (Create and Update plan for a preview).
        const outcome = checkInputs(fromStruct(req.getNews()), this.env, this.stack);
        const inputs = { ...outcome.inputs };
        // Credentials are stored encrypted even when the program gave them as plain values.
        for (const key of SECRET_KEYS) if (!isAbsent(inputs[key])) inputs[key] = asSecret(inputs[key]);
        return checkResponse(inputs, outcome.failures);
      }),

      diff: unary(async (req: proto.DiffRequest) => {
        this.requireType(req.getType());
        // The state, as the dynamic provider compares (it holds the normalised inputs, credentials aside).
        const olds = fromStruct(req.getOlds());
        const news = fromStruct(req.getNews());
        const { changes, replaces, triggersChanged, changed } = diffInputs(olds, news);
        const res = new proto.DiffResponse()
          .setChanges(changes ? proto.DiffResponse.DiffChanges.DIFF_SOME : proto.DiffResponse.DiffChanges.DIFF_NONE)
          .setReplacesList(replaces)
          .setDiffsList(changed.map((c) => c.key))
          .setDeletebeforereplace(false)
          .setHasdetaileddiff(true);
        for (const c of changed) res.getDetaileddiffMap().set(c.key, new proto.PropertyDiff().setKind(kindOf(olds, news, c.key, c.onChange === "replace")).setInputdiff(true));
        res.setStablesList(stables(olds, changed, replaces.length > 0, triggersChanged));
        return res;
      }),

      create: unary(async (req: proto.CreateRequest) => {
        this.requireType(req.getType());
        const inputs = fromStruct(req.getProperties()) as CheckedInputs;
        return this.operation(req.getUrn(), async (ctx) => {
          if (req.getPreview()) return new proto.CreateResponse().setProperties(toStruct(previewOutputs(inputs, await planOfPreview(inputs, ctx))));
          const { id, outs } = await createRewind(inputs, ctx, durationOf(req.getTimeout()));
          return new proto.CreateResponse().setId(id).setProperties(toStruct(outs));
        });
      }),

      update: unary(async (req: proto.UpdateRequest) => {
        this.requireType(req.getType());
        const olds = fromStruct(req.getOlds());
        const news = fromStruct(req.getNews());
        const { triggersChanged } = diffInputs(olds, news);
        return this.operation(req.getUrn(), async (ctx) => {
          if (req.getPreview() && triggersChanged) return new proto.UpdateResponse().setProperties(toStruct(previewOutputs(news as CheckedInputs, await planOfPreview(news as CheckedInputs, ctx))));
          // Not rewinding, an update sends nothing, so a preview may run it as is.
          const { outs } = await updateRewind(olds as unknown as Outputs, news as CheckedInputs, triggersChanged && !req.getPreview(), req.getId(), ctx, durationOf(req.getTimeout()));
          return new proto.UpdateResponse().setProperties(toStruct(outs));
        });
      }),

      read: unary(async (req: proto.ReadRequest) => {
        this.requireType(req.getType());
        const state = fromStruct(req.getProperties());
        if (Object.keys(state).length === 0) {
          throw new Error("OffsetReset cannot be imported: it records a rewind this provider ran; declare a new OffsetReset instead");
        }
        return this.operation(req.getUrn(), async (ctx) => {
          const live = await readOffsets(state as unknown as Outputs, ctx);
          const res = new proto.ReadResponse().setId(req.getId()).setProperties(toStruct(live));
          const inputs = req.getInputs();
          if (inputs) res.setInputs(inputs);
          return res;
        });
      }),

      delete: unary(async (req: proto.DeleteRequest) => {
        this.requireType(req.getType());
        const state = fromStruct(req.getProperties()) as unknown as Outputs;
        return this.operation(req.getUrn(), async (ctx) => {
          ctx.log.info(deleteNotice(state));
          return new Empty();
        });
      }),
    };
  }
}

function checkResponse(inputs: Props, failures: { property: string; reason: string }[]): proto.CheckResponse {
  const res = new proto.CheckResponse().setInputs(toStruct(inputs));
  res.setFailuresList(failures.map((f) => new proto.CheckFailure().setProperty(f.property).setReason(f.reason)));
  return res;
}

/**
 * Outputs an update leaves as they are: none for a replacement (a new resource); otherwise every output but the
 * changed inputs and, when the update rewinds again, what the rewind produces.
 */
function stables(olds: Props, changed: InputChange[], replaces: boolean, rewinds: boolean): string[] {
  if (replaces) return [];
  const moving = new Set<string>(changed.map((c) => c.key));
  if (rewinds) for (const k of [...REWIND_OUTPUTS, "taskId", "plan"]) moving.add(k);
  return Object.keys(olds).filter((k) => !moving.has(k));
}

/** Serves the provider on 127.0.0.1 and returns the port (what the plugin prints for the engine). */
export async function serve(engineAddress: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ port: number; server: grpcTypes.Server; engine: EngineLog }> {
  const engine = new EngineLog(engineAddress);
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(provrpc.ResourceProviderService, new OffsetResetProvider(engine, env).handlers() as provrpc.IResourceProviderServer);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, server, engine };
}
