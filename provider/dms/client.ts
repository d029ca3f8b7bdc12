// The DMS consumer-group operations a rewind needs, as typed calls: paths built from raw segments
// (the string sent is the string signed), int64-exact JSON both ways, every answer checked against
// its wire schema, every failure a DmsError naming status, error_code, error_msg and request id.
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { DmsError, DmsResponseError } from "./errors";
import type { Position } from "../rewind/target";
import { parseJson, stringifyJson } from "./json";
import { encodePath, type Query } from "./signing/encoding";
import { RequestSigner, type Credentials } from "./signing/signer";
import { Transport, type IncomingResponse, type OutgoingRequest, type RetryPolicy, type Signer } from "./transport";
import {
  errorBodyOf,
  GroupMessageOffsetsPage,
  ShowGroupResponse,
  ShowGroupsResponse,
  TasksResponse,
  type ResetMessageOffsetBody,
  type Task,
} from "./wire";

export type { Task } from "./wire";

export interface PartitionOffset {
  topic: string;
  partition: number;
  messageCurrentOffset: bigint;
  messageLogStartOffset: bigint;
  messageLogEndOffset: bigint;
  lag: bigint;
}

export interface Member {
  memberId: string;
  clientId: string;
  host: string;
  assignment: { topic: string; partitions: number[] }[];
}

export interface DmsClientOptions {
  endpoint: URL;
  projectId: string;
  credentials: Credentials;
  /** Time one call may take, retries included (default 60 s). */
  deadlineMs?: number;
  /** Backoff between retries (defaults 250 ms doubling up to 8 s). */
  retry?: Partial<Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">>;
  /**
   * A connection layer the client does not close: the caller's own (createDispatcher) or the process's
   * (sharedDispatcher). By default the client makes its own and closes it in close().
   */
  dispatcher?: Dispatcher;
  /** The signing date (X-Sdk-Date); the gateway refuses dates more than 15 minutes off. */
  clock?: () => Date;
}

export interface ResetArgs {
  instanceId: string;
  group: string;
  /** Omitted: every topic the group has offsets for (DMS runs that as an asynchronous task). */
  topic?: string;
  /** -1: every partition. */
  partition: number;
  position: Position;
  /** The older `.../management/groups/{group}/reset-message-offset` (POST) instead of the engine PUT. */
  legacyApi?: boolean;
}

/** DMS's page size limit for message-offset listings. */
const PAGE_LIMIT = 50;

export class DmsClient {
  readonly endpoint: URL;
  readonly projectId: string;
  // Private fields: console.log, util.inspect and JSON.stringify of a client never show the keys.
  readonly #credentials: Credentials;
  readonly #transport: Transport;
  /** Signs each attempt (retries are signed afresh, with the date of the moment they are sent). */
  readonly #sign: Signer;

  constructor(options: DmsClientOptions) {
    this.endpoint = options.endpoint;
    this.projectId = options.projectId;
    this.#credentials = options.credentials;
    const signer = new RequestSigner(options.credentials);
    const clock = options.clock ?? (() => new Date());
    const projectId = options.projectId;
    this.#sign = (r, host) => signer.sign({ method: r.method, host, encodedPath: r.encodedPath, query: r.query, body: r.body, projectId }, clock());
    const policy: Partial<RetryPolicy> = { ...options.retry };
    if (options.deadlineMs !== undefined) policy.deadlineMs = options.deadlineMs;
    this.#transport = new Transport(options.endpoint, options.dispatcher ? { policy, dispatcher: options.dispatcher } : { policy });
  }

  /** Rewind a group's committed offsets (204). The group must have no connected consumers. */
  async resetMessageOffset(args: ResetArgs): Promise<{ requestId: string }> {
    const body: z.input<typeof ResetMessageOffsetBody> = { partition: args.partition };
    if (args.topic !== undefined) body.topic = args.topic;
    if ("messageOffset" in args.position) body.message_offset = args.position.messageOffset;
    else body.timestamp = args.position.timestamp;
    const request: OutgoingRequest = args.legacyApi
      ? { method: "POST", encodedPath: encodePath(["v2", this.projectId, "instances", args.instanceId, "management", "groups", args.group, "reset-message-offset"]), query: {}, body: stringifyJson(body) }
      : { method: "PUT", encodedPath: encodePath(["v2", "kafka", this.projectId, "instances", args.instanceId, "groups", args.group, "reset-message-offset"]), query: {}, body: stringifyJson(body) };
    const response = await this.#call(request);
    return { requestId: response.requestId ?? "" };
  }

  /** ShowGroup: the group's state (EMPTY, STABLE, PREPARING_REBALANCE, COMPLETING_REBALANCE, DEAD). */
  async showGroup(instanceId: string, group: string): Promise<{ group: string; state: string }> {
    const request = this.#get(["v2", this.projectId, "instances", instanceId, "groups", group]);
    const parsed = await this.#callFor(request, ShowGroupResponse);
    return { group: parsed.group.group_id, state: parsed.group.state };
  }

  /** ShowGroups (management): the state and every connected member with its assignment. */
  async showGroupDetails(instanceId: string, group: string): Promise<{ group: string; state: string; members: Member[] }> {
    const parsed = await this.#callFor(this.#details(instanceId, group), ShowGroupsResponse);
    return {
      group: parsed.group.group_id,
      state: parsed.group.state,
      members: parsed.group.members.map((m) => ({
        memberId: m.member_id,
        clientId: m.client_id,
        host: m.host,
        assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })),
      })),
    };
  }

  /**
   * Every partition offset of the group (all pages), for one topic or, without a topic, for each topic
   * the group has offsets for: the message-offset listing requires a topic, so those come from ShowGroups.
   */
  async listGroupMessageOffsets(instanceId: string, group: string, topic?: string): Promise<PartitionOffset[]> {
    const topics =
      topic !== undefined
        ? [topic]
        : [...new Set((await this.#callFor(this.#details(instanceId, group), ShowGroupsResponse)).group.group_message_offsets.map((o) => o.topic))];
    const rows: PartitionOffset[] = [];
    for (const t of topics) rows.push(...(await this.#topicOffsets(instanceId, group, t)));
    return rows.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** The instance's background tasks, among them the `kafkaResetConsumerOffset` of all-topics resets. */
  async listTasks(instanceId: string): Promise<Task[]> {
    const parsed = await this.#callFor(this.#get(["v2", this.projectId, "instances", instanceId, "tasks"]), TasksResponse);
    return parsed.tasks;
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #topicOffsets(instanceId: string, group: string, topic: string): Promise<PartitionOffset[]> {
    const path = ["v2", "kafka", this.projectId, "instances", instanceId, "groups", group, "message-offset"];
    const rows: PartitionOffset[] = [];
    for (let offset = 0; ; ) {
      const page = await this.#callFor(this.#get(path, { topic, offset: String(offset), limit: String(PAGE_LIMIT) }), GroupMessageOffsetsPage);
      for (const o of page.group_message_offsets) {
        rows.push({
          topic: o.topic,
          partition: o.partition,
          messageCurrentOffset: o.message_current_offset,
          messageLogStartOffset: o.message_log_start_offset,
          messageLogEndOffset: o.message_log_end_offset,
          lag: o.lag,
        });
      }
      offset += page.group_message_offsets.length;
      // An empty page ends the walk even if `total` promised more: a listing shrinking under us must not loop.
      if (page.group_message_offsets.length === 0 || offset >= page.total) return rows;
    }
  }

  #details(instanceId: string, group: string): OutgoingRequest {
    return this.#get(["v2", this.projectId, "instances", instanceId, "management", "groups", group]);
  }

  #get(segments: string[], query: Query = {}): OutgoingRequest {
    return { method: "GET", encodedPath: encodePath(segments), query, body: "" };
  }

  async #callFor<S extends z.ZodType>(request: OutgoingRequest, schema: S): Promise<z.output<S>> {
    const response = await this.#call(request);
    let json: unknown;
    try {
      json = parseJson(response.body);
    } catch {
      throw new DmsResponseError(request.method, request.encodedPath, "not JSON", response.requestId);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new DmsResponseError(request.method, request.encodedPath, `${first?.path.join(".") || "(body)"}: ${first?.message ?? "invalid"}`, response.requestId);
    }
    return parsed.data;
  }

  async #call(request: OutgoingRequest): Promise<IncomingResponse> {
    const response = await this.#transport.send(request, this.#sign);
    if (response.status >= 200 && response.status < 300) return response;
    throw this.#error(request, response);
  }

  #error(request: OutgoingRequest, response: IncomingResponse): DmsError {
    const parsed = errorBodyOf(response.body);
    // Not DMS's error shape (a proxy's HTML page, an empty body): the start of the text is the best description.
    const errorCode = parsed?.error_code ?? "";
    const errorMsg = parsed?.error_msg ?? response.body.slice(0, 300);
    return new DmsError({
      status: response.status,
      errorCode: this.#redact(errorCode),
      errorMsg: this.#redact(errorMsg),
      requestId: response.requestId,
      method: request.method,
      path: request.encodedPath,
    });
  }

  /** Gateways sometimes echo what they were sent; keys must not reach an error message through that. */
  #redact(text: string): string {
    let out = text;
    for (const secret of [this.#credentials.accessKey, this.#credentials.secretKey, this.#credentials.securityToken]) {
      if (secret) out = out.split(secret).join("[redacted]");
    }
    return out;
  }
}
