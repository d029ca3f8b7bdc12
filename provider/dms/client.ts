// The DMS consumer-group operations a rewind needs, as typed calls: paths built from raw segments
// (the string sent is the string signed), int64-exact JSON both ways, every answer checked against
// its wire schema, every failure a DmsError naming status, error_code, error_msg and request id.
// Each call says when it may be sent again: a read after anything that may pass; the reset only when DMS
// provably did not act on it, so that one reset is never applied twice (and an all-topics reset never
// starts two tasks); when that cannot be known its outcome is "unknown", for the caller to find out by reading.
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { DmsError, DmsResponseError, DmsUnreachableError } from "./errors";
import { parseJson, stringifyJson } from "./json";
import { encodePath, type Query } from "./signing/encoding";
import { RequestSigner, type Credentials } from "./signing/signer";
import {
  TRANSIENT_ERROR_CODES,
  Transport,
  type Attempt,
  type IncomingResponse,
  type OutgoingRequest,
  type RetryPolicy,
  type RetryRule,
  type Signer,
} from "./transport";
import {
  errorBodyOf,
  GroupMessageOffsetsPage,
  ShowGroupResponse,
  ShowGroupsResponse,
  ShowInstanceTopicDetailResponse,
  ShowMessagesResponse,
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

/** A topic's partitions with their log start (lso) and log end (hw: where a consumer reset "to latest" lands). */
export interface TopicOffsets {
  topic: string;
  partitions: { partition: number; logStartOffset: bigint; logEndOffset: bigint }[];
}

/**
 * What became of a reset. "applied": DMS answered 2xx. "unknown": DMS may or may not have applied it (the
 * answer was lost, or a gateway answered 5xx after passing it on); the caller finds out by reading the
 * group's offsets (or the task list), never by sending it again blindly.
 */
export type ResetOutcome =
  | { outcome: "applied"; requestId: string }
  | { outcome: "unknown"; requestId?: string; status?: number; reason: string };

/** DMS: "another operation on this instance is in progress"; a 400 refusal that clears by itself. */
export const OPERATION_IN_PROGRESS = "DMS.00400026";

/** Server errors worth another try; 501 and 505 say the request will never work. */
const SERVER_ERRORS: readonly number[] = [500, 502, 503, 504];

function isOperationInProgress(attempt: Extract<Attempt, { kind: "answer" }>): boolean {
  // The substring test first: most 400s are something else, and parsing them is wasted work.
  return attempt.status === 400 && attempt.body.includes(OPERATION_IN_PROGRESS) && errorBodyOf(attempt.body)?.error_code === OPERATION_IN_PROGRESS;
}

const isTransient = (attempt: Exclude<Attempt, { kind: "answer" }>) => attempt.code !== undefined && TRANSIENT_ERROR_CODES.includes(attempt.code);

/** A read changes nothing: sent again after a transient network failure, throttling, a server error or "in progress". */
export const READ_RULE: RetryRule = (attempt) =>
  attempt.kind === "answer" ? attempt.status === 429 || SERVER_ERRORS.includes(attempt.status) || isOperationInProgress(attempt) : isTransient(attempt);

/**
 * A write is sent again only when DMS provably did not act on it: it never left (a transient failure before
 * any byte was written), the gateway throttled it (429), or DMS refused it as "operation in progress".
 * Never after a 5xx (a gateway's 502/504 may come after DMS applied it) or a request without an answer.
 */
export const WRITE_RULE: RetryRule = (attempt) =>
  attempt.kind === "answer" ? attempt.status === 429 || isOperationInProgress(attempt) : attempt.kind === "unsent" && isTransient(attempt);

/**
 * A write sent again after an earlier attempt's answer was lost: "operation in progress" may be that attempt,
 * still being applied, so it is not retried here but handed back to the caller, who reads before deciding.
 */
export const RESEND_RULE: RetryRule = (attempt) => (attempt.kind === "answer" ? attempt.status === 429 : attempt.kind === "unsent" && isTransient(attempt));

/** Tasks per page when listing every task since a time. */
const TASK_PAGE_LIMIT = 50;

/** ListBackgroundTasks' begin_time: `yyyyMMddHHmmss`, UTC. */
function taskTime(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** ShowMessages' end_time for "no end": 9999-12-31T23:59:59.999Z, far inside int64 and inside any date parser's range. */
const END_OF_TIME_MS = "253402300799999";

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
  /** Where the client's own connection layer reads HTTP(S)_PROXY and NO_PROXY (process.env by default); unused with `dispatcher`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The signing date (X-Sdk-Date); the gateway refuses dates more than 15 minutes off. */
  clock?: () => Date;
}

/** Where a reset moves the group, as the reset API takes it: exactly one of an offset and a time (epoch ms). */
export type Position = { messageOffset: bigint } | { timestamp: number };

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
    // A malformed proxy variable throws ConfigurationError here, before anything is sent.
    this.#transport = new Transport(options.endpoint, {
      policy,
      ...(options.dispatcher && { dispatcher: options.dispatcher }),
      ...(options.env && { env: options.env }),
    });
  }

  /**
   * Rewind a group's committed offsets (204). The group must have no connected consumers.
   * Throws DmsError when DMS refused it (not applied), DmsUnreachableError with delivery "unsent" when it
   * never reached DMS; otherwise the outcome, "unknown" when DMS may or may not have applied it.
   */
  /** `resend`: an earlier attempt's answer was lost; DMS.00400026 then comes back as a DmsError (RESEND_RULE). */
  async resetMessageOffset(args: ResetArgs, options: { resend?: boolean } = {}): Promise<ResetOutcome> {
    const body: z.input<typeof ResetMessageOffsetBody> = { partition: args.partition };
    if (args.topic !== undefined) body.topic = args.topic;
    if ("messageOffset" in args.position) body.message_offset = args.position.messageOffset;
    else body.timestamp = args.position.timestamp;
    const request: OutgoingRequest = args.legacyApi
      ? { method: "POST", encodedPath: encodePath(["v2", this.projectId, "instances", args.instanceId, "management", "groups", args.group, "reset-message-offset"]), query: {}, body: stringifyJson(body) }
      : { method: "PUT", encodedPath: encodePath(["v2", "kafka", this.projectId, "instances", args.instanceId, "groups", args.group, "reset-message-offset"]), query: {}, body: stringifyJson(body) };
    let response: IncomingResponse;
    try {
      response = await this.#transport.send(request, this.#sign, options.resend ? RESEND_RULE : WRITE_RULE);
    } catch (e) {
      if (e instanceof DmsUnreachableError && e.delivery === "unknown") return { outcome: "unknown", reason: e.message };
      throw e;
    }
    if (response.status >= 200 && response.status < 300) return { outcome: "applied", requestId: response.requestId ?? "" };
    const error = this.#error(request, response);
    // A 4xx is a refusal: nothing was applied. Anything else (5xx above all) may come from a gateway after DMS acted.
    if (response.status >= 400 && response.status < 500) throw error;
    const unknown: ResetOutcome = { outcome: "unknown", status: response.status, reason: error.message };
    if (response.requestId !== undefined) unknown.requestId = response.requestId;
    return unknown;
  }

  /** ShowInstanceTopicDetail: every partition of the topic with its log start and log end, by partition. */
  async showTopic(instanceId: string, topic: string): Promise<TopicOffsets> {
    const request = this.#get(["v2", this.projectId, "instances", instanceId, "management", "topics", topic]);
    const parsed = await this.#callFor(request, ShowInstanceTopicDetailResponse);
    return {
      topic: parsed.topic,
      partitions: parsed.partitions
        .map((p) => ({ partition: p.partition, logStartOffset: p.lso, logEndOffset: p.hw }))
        .sort((a, b) => a.partition - b.partition),
    };
  }

  /**
   * ShowMessages, one message: the offset of the partition's first message whose timestamp is at or after
   * `timestampMs` (epoch milliseconds), or undefined when there is none (the position is the log end).
   */
  async firstOffsetAtOrAfter(instanceId: string, topic: string, partition: number, timestampMs: number): Promise<bigint | undefined> {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new RangeError(`timestamp must be epoch milliseconds, not ${timestampMs}`);
    if (!Number.isSafeInteger(partition) || partition < 0) throw new RangeError(`partition must be a partition number, not ${partition}`);
    const request = this.#get(["v2", this.projectId, "instances", instanceId, "management", "topics", topic, "messages"], {
      start_time: String(timestampMs),
      end_time: END_OF_TIME_MS,
      partition: String(partition),
      // No `offset`: DMS's documents read it both as rows to skip and as a 1-based page; left out, it is the first either way.
      limit: "1",
    });
    const { data: parsed, requestId } = await this.#answerFor(request, ShowMessagesResponse);
    const first = parsed.messages[0];
    if (first === undefined) return undefined;
    // Taking another partition's message, or an earlier one, would rewind to the wrong place without a word.
    if (first.partition !== partition) {
      throw new DmsResponseError(request.method, request.encodedPath, `messages.0.partition: asked for partition ${partition}, got ${first.partition}`, requestId);
    }
    if (first.timestamp !== undefined && first.timestamp < BigInt(timestampMs)) {
      throw new DmsResponseError(request.method, request.encodedPath, `messages.0.timestamp: ${first.timestamp} is before start_time ${timestampMs}`, requestId);
    }
    return first.message_offset;
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
  /**
   * The instance's background tasks, newest first. Without `since`, DMS's first page (its default ten);
   * with it, every task created since then (begin_time), page by page: a rewind looks for the task its
   * own reset started, which other groups' tasks must not push off the first page.
   */
  async listTasks(instanceId: string, since?: Date): Promise<Task[]> {
    const path = ["v2", this.projectId, "instances", instanceId, "tasks"];
    if (since === undefined) return (await this.#callFor(this.#get(path), TasksResponse)).tasks;
    const tasks: Task[] = [];
    for (;;) {
      const page = await this.#callFor(this.#get(path, { begin_time: taskTime(since), start: String(tasks.length), limit: String(TASK_PAGE_LIMIT) }), TasksResponse);
      tasks.push(...page.tasks);
      // An empty page ends the walk even if task_count promised more: a list shrinking under us must not loop.
      if (page.tasks.length === 0 || tasks.length >= page.task_count) return tasks;
    }
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
    return (await this.#answerFor(request, schema)).data;
  }

  /** A read's answer checked against its schema, with the request id for errors about its content. */
  async #answerFor<S extends z.ZodType>(request: OutgoingRequest, schema: S): Promise<{ data: z.output<S>; requestId: string | undefined }> {
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
    return { data: parsed.data, requestId: response.requestId };
  }

  /** A read: retried by READ_RULE; any final answer but 2xx is a DmsError. */
  async #call(request: OutgoingRequest): Promise<IncomingResponse> {
    const response = await this.#transport.send(request, this.#sign, READ_RULE);
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
