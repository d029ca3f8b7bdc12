// HTTP to one DMS endpoint: a keep-alive connection pool (through HTTP(S)_PROXY unless NO_PROXY says
// otherwise), timeouts, and retries inside one overall deadline: with exponential backoff and jitter after
// failures, and in turns of the endpoint's shared pace (pace.ts) after throttling.
// TLS is always verified; extra CAs come from NODE_EXTRA_CA_CERTS, which Node applies itself.
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, EnvHttpProxyAgent, type Dispatcher } from "undici";
import { DmsUnreachableError } from "./errors";
import { paceOf, type Pace } from "./pace";
import { canonicalQuery, type Query } from "./signing/encoding";
import { errorBodyOf } from "./wire";

type Env = Readonly<Record<string, string | undefined>>;

export interface ConnectionOptions {
  /** TCP + TLS handshake. */
  connectTimeoutMs?: number;
  /** From the request being sent to the response headers. */
  headersTimeoutMs?: number;
  /** Between two chunks of the response body. */
  bodyTimeoutMs?: number;
  /** Where HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case forms) are read; process.env by default. */
  env?: Env;
}

/**
 * The connection layer for DMS: an undici Agent keeps one keep-alive pool per origin, so one endpoint
 * gets one pool, reached directly or (EnvHttpProxyAgent) through the proxy the environment names.
 */
export function createDispatcher(options: ConnectionOptions = {}): Dispatcher {
  const { httpProxy, httpsProxy, noProxy } = proxySettings(options.env ?? process.env);
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
  };
  // Without any proxy there is nothing for EnvHttpProxyAgent to decide, and it would parse the origin
  // on every request to find that out.
  if (!httpProxy && !httpsProxy) return new Agent(agentOptions);
  // Passing "" (not undefined) stops undici from falling back to process.env behind the caller's back.
  return new EnvHttpProxyAgent({ ...agentOptions, httpProxy, httpsProxy, noProxy });
}

function proxySettings(env: Env): { httpProxy: string; httpsProxy: string; noProxy: string } {
  return {
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? "",
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? "",
    noProxy: env.no_proxy ?? env.NO_PROXY ?? "",
  };
}

/** The process's shared dispatchers, by proxy settings. They hold connections only: requests are signed per client. */
const sharedDispatchers = new Map<string, Dispatcher>();

/**
 * One connection layer for every client of the process that finds the same proxy settings in `env`, for
 * callers that make a client per operation (the resource host makes one per create, update and read): an
 * Agent keeps one keep-alive pool per origin, so each endpoint keeps one pool however many clients come and go.
 *
 * Never closed, and no client closes it: undici unrefs a pool's idle sockets and closes them after their
 * keep-alive timeout, so it holds no process open, and the host process ends when the engine is done with it.
 */
export function sharedDispatcher(env: Env = process.env): Dispatcher {
  const key = JSON.stringify(proxySettings(env));
  let dispatcher = sharedDispatchers.get(key);
  if (dispatcher === undefined) {
    dispatcher = createDispatcher({ env });
    sharedDispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

export interface RetryPolicy {
  /** Everything one call may take, retries and waits included. */
  deadlineMs: number;
  /** First backoff; each further retry doubles it, up to maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { deadlineMs: 60_000, baseDelayMs: 250, maxDelayMs: 8_000 };

/** Statuses that say "try again": throttling and the gateway's or service's transient failures. */
export const RETRY_STATUSES: readonly number[] = [429, 500, 502, 503, 504];

/**
 * Failures before any answer. ENOTFOUND is left out on purpose: a mistyped endpoint should fail at
 * once, not after the whole deadline; EAI_AGAIN is the transient DNS failure.
 */
export const RETRY_ERROR_CODES: readonly string[] = [
  "ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ENETDOWN", "ENETUNREACH", "EHOSTDOWN", "EHOSTUNREACH",
  "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT",
];

/** DMS: "another operation on this instance is in progress"; it comes as a 400 and clears by itself. */
export const OPERATION_IN_PROGRESS = "DMS.00400026";

/** Exponential backoff with "equal jitter": half fixed, half random, so that concurrent callers spread out. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date), or undefined when absent or unusable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface OutgoingRequest {
  method: "GET" | "PUT" | "POST";
  /** Already percent-encoded (encodePath): sent exactly as signed. */
  encodedPath: string;
  query: Query;
  body: string;
}

export interface IncomingResponse {
  status: number;
  requestId: string | undefined;
  body: string;
}

/** Signs one attempt: given the request and the Host it goes to, the headers to send. */
export type Signer = (request: OutgoingRequest, host: string) => Record<string, string>;

/** An answer larger than this is not a DMS answer; reading it whole would only exhaust memory. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface Answer extends IncomingResponse {
  retryAfter: string | string[] | undefined;
}

/**
 * Sends signed requests to one endpoint and returns whatever final answer DMS gives (error statuses
 * included: turning them into errors is the caller's job, because only it knows the operation).
 *
 * Retries live in one loop here rather than in undici's retry interceptor: DMS.00400026 is a 400 whose
 * meaning is in the body, which the interceptor decides on before reading; one loop gives every retry
 * the same deadline and backoff, signs each attempt afresh, and keeps the last answer's error_code for
 * the caller. It also costs less: on loopback the interceptor and an AbortSignal per request measured
 * about a fifth of a reset's round trip (tests/bench/client.js).
 */
export class Transport {
  // The endpoint's origin and Host, read from the URL once: its getters slice them out of the href on every read.
  readonly #origin: string;
  readonly #host: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #policy: RetryPolicy;
  readonly #pace: Pace;

  /** `dispatcher`: a connection layer someone else closes (or the process's shared one); by default one from createDispatcher(). */
  constructor(endpoint: URL, options: { policy?: Partial<RetryPolicy>; dispatcher?: Dispatcher } = {}) {
    this.#origin = endpoint.origin;
    this.#host = endpoint.host;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
    this.#pace = paceOf(this.#origin);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? createDispatcher();
  }

  async send(request: OutgoingRequest, sign: Signer): Promise<IncomingResponse> {
    const deadline = Date.now() + this.#policy.deadlineMs;
    const query = canonicalQuery(request.query);
    const path = query ? `${request.encodedPath}?${query}` : request.encodedPath;
    let lastAnswer: Answer | undefined;
    for (let retry = 1; ; retry++) {
      // While the endpoint throttles, every request waits for its turn in the endpoint's pace.
      const wait = this.#pace.take(Date.now(), deadline);
      if (wait === undefined) {
        if (lastAnswer) return final(lastAnswer);
        throw new DmsUnreachableError({ method: request.method, path, code: undefined, reason: `the endpoint is throttling and has no free turn within the ${this.#policy.deadlineMs} ms deadline`, deadlinePassed: true });
      }
      if (wait > 0) await sleep(wait);
      let outcome: Answer | DmsUnreachableError;
      try {
        outcome = await this.#attempt(request, path, sign, deadline);
      } catch (e) {
        if (!(e instanceof DmsUnreachableError)) throw e;
        // A retry cut short by the deadline says less than the answer that made us retry.
        outcome = e.deadlinePassed && lastAnswer ? lastAnswer : e;
      }
      if (outcome === lastAnswer) return final(outcome);
      if (!(outcome instanceof DmsUnreachableError)) {
        const now = Date.now();
        if (outcome.status === 429) this.#pace.throttled(now, retryAfterMs(outcome.retryAfter, now));
        else this.#pace.answered(now, wait > 0);
      }
      const delay = this.#retryDelay(outcome, retry);
      if (delay === undefined || Date.now() + delay >= deadline) {
        if (outcome instanceof DmsUnreachableError) throw outcome;
        return final(outcome);
      }
      if (!(outcome instanceof DmsUnreachableError)) lastAnswer = outcome;
      if (delay > 0) await sleep(delay);
    }
  }

  /** How long to wait before trying again (besides the pace), or undefined when this outcome is final. */
  #retryDelay(outcome: Answer | DmsUnreachableError, retry: number): number | undefined {
    if (outcome instanceof DmsUnreachableError) {
      return outcome.code !== undefined && RETRY_ERROR_CODES.includes(outcome.code) ? backoffMs(retry, this.#policy) : undefined;
    }
    // A 429 waits for the pace alone, which it has just slowed down and pushed past any Retry-After: a sleep of
    // its own would leave the endpoint's turns unused.
    if (outcome.status === 429) return 0;
    const again = RETRY_STATUSES.includes(outcome.status) || (outcome.status === 400 && isOperationInProgress(outcome.body));
    return again ? backoffMs(retry, this.#policy) : undefined;
  }

  /** One signed request and its whole answer; connection failures and the deadline reject. */
  #attempt(request: OutgoingRequest, path: string, sign: Signer, deadline: number): Promise<Answer> {
    const headers = sign(request, this.#host);
    const fail = (code: string | undefined, reason: string) => new DmsUnreachableError({ method: request.method, path, code, reason });
    // Made only when needed: an Error captures a stack, which costs more than the rest of an attempt's bookkeeping.
    const expired = () =>
      new DmsUnreachableError({ method: request.method, path, code: undefined, reason: `no answer within the ${this.#policy.deadlineMs} ms deadline`, deadlinePassed: true });
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(expired());
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      let status = 0;
      let requestId: string | undefined;
      let retryAfter: string | string[] | undefined;
      let size = 0;
      const chunks: Buffer[] = [];
      const finish = (outcome: Answer | DmsUnreachableError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome instanceof DmsUnreachableError) reject(outcome);
        else resolve(outcome);
      };
      // The deadline bounds an attempt in flight too; aborting before the request reaches a socket
      // (onRequestStart) means it is never sent, so a reset reported as failed was not applied late.
      let timedOut: DmsUnreachableError | undefined;
      const timer = setTimeout(() => {
        timedOut = expired();
        controller?.abort(timedOut);
        finish(timedOut);
      }, remaining);
      this.#dispatcher.dispatch(
        { origin: this.#origin, method: request.method, path, headers, body: request.method === "GET" ? null : request.body },
        {
          onRequestStart(c) {
            if (timedOut) c.abort(timedOut);
            else controller = c;
          },
          onResponseStart(_c, statusCode, responseHeaders) {
            status = statusCode;
            const id = responseHeaders["x-request-id"];
            requestId = Array.isArray(id) ? id[0] : id;
            retryAfter = responseHeaders["retry-after"];
          },
          onResponseData(c, chunk) {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) c.abort(fail(undefined, `answer larger than ${MAX_BODY_BYTES} bytes`));
            else chunks.push(chunk);
          },
          onResponseEnd() {
            finish({ status, requestId, retryAfter, body: Buffer.concat(chunks).toString("utf8") });
          },
          onResponseError(_c, err: Error & { code?: string }) {
            finish(err instanceof DmsUnreachableError ? err : fail(err.code, `${err.code ? `${err.code}: ` : ""}${err.message}`));
          },
        },
      );
    });
  }

  /** Closes the connection pool if this transport created it. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

function final(answer: Answer): IncomingResponse {
  return { status: answer.status, requestId: answer.requestId, body: answer.body };
}

function isOperationInProgress(body: string): boolean {
  // The substring test first: most 400s are something else, and parsing them is wasted work.
  return body.includes(OPERATION_IN_PROGRESS) && errorBodyOf(body)?.error_code === OPERATION_IN_PROGRESS;
}
