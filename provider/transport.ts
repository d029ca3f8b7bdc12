// HTTP to one DMS endpoint: a keep-alive connection pool (through HTTP(S)_PROXY unless NO_PROXY says
// otherwise), timeouts, and retries with exponential backoff and jitter inside one overall deadline.
// TLS is always verified; extra CAs come from NODE_EXTRA_CA_CERTS, which Node applies itself.
import { setTimeout as sleep } from "node:timers/promises";
import { EnvHttpProxyAgent, interceptors, type Dispatcher } from "undici";
import { DmsUnreachableError } from "./errors";
import { parseJson } from "./json";
import { canonicalQuery, type Query } from "./signing/encoding";
import { ErrorBody } from "./wire";

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
 * The connection layer for DMS: undici's EnvHttpProxyAgent keeps one keep-alive pool per origin, so one
 * endpoint gets one pool, reached directly or through the proxy the environment names.
 */
export function createDispatcher(options: ConnectionOptions = {}): Dispatcher {
  const env = options.env ?? process.env;
  // Passing "" (not undefined) stops undici from falling back to process.env behind the caller's back.
  return new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? "",
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? "",
    noProxy: env.no_proxy ?? env.NO_PROXY ?? "",
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
  });
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
export type Signer = (request: OutgoingRequest & { host: string }) => Record<string, string>;

interface RetryableError extends Error {
  statusCode?: number;
  code?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * Sends signed requests to one endpoint and returns whatever final answer DMS gives (error statuses
 * included: turning them into errors is the caller's job, because only it knows the operation).
 */
export class Transport {
  readonly #endpoint: URL;
  readonly #base: Dispatcher;
  readonly #ownsBase: boolean;
  readonly #policy: RetryPolicy;

  /** `dispatcher`: a connection layer the caller owns (and closes); by default one from createDispatcher(). */
  constructor(endpoint: URL, options: { policy?: Partial<RetryPolicy>; dispatcher?: Dispatcher } = {}) {
    this.#endpoint = endpoint;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
    this.#ownsBase = options.dispatcher === undefined;
    this.#base = options.dispatcher ?? createDispatcher();
  }

  async send(request: OutgoingRequest, sign: Signer): Promise<IncomingResponse> {
    const deadline = Date.now() + this.#policy.deadlineMs;
    const query = canonicalQuery(request.query);
    const path = query ? `${request.encodedPath}?${query}` : request.encodedPath;
    // undici's retry interceptor covers statuses and connection errors and resends the identical signed
    // bytes: X-Sdk-Date stays valid for 15 minutes, far beyond any deadline here. throwOnError: false
    // hands the last answer through with its body, so a final 503 still reports DMS's error_code.
    // Composed per call because the retry callback carries this call's deadline (composing is cheap).
    const dispatcher = this.#base.compose(
      interceptors.retry({
        throwOnError: false,
        methods: ["GET", "PUT", "POST"],
        statusCodes: [...RETRY_STATUSES],
        errorCodes: [...RETRY_ERROR_CODES],
        retry: this.#retryUntil(deadline),
      }),
    );
    // DMS.00400026 arrives as a 400 whose meaning is in the body, which undici's retry handler decides
    // on before reading; so this one case is retried here, re-signed, sharing the same deadline.
    for (let inProgress = 1; ; inProgress++) {
      const response = await this.#attempt(dispatcher, request, path, sign, deadline);
      if (response.status !== 400 || !isOperationInProgress(response.body)) return response;
      const delay = backoffMs(inProgress, this.#policy);
      if (Date.now() + delay >= deadline) return response;
      await sleep(delay);
    }
  }

  async #attempt(dispatcher: Dispatcher, request: OutgoingRequest, path: string, sign: Signer, deadline: number): Promise<IncomingResponse> {
    const headers = sign({ ...request, host: this.#endpoint.host });
    const remaining = deadline - Date.now();
    const fail = (code: string | undefined, reason: string) => new DmsUnreachableError({ method: request.method, path, code, reason });
    if (remaining <= 0) throw fail(undefined, `no answer within the ${this.#policy.deadlineMs} ms deadline`);
    try {
      const res = await dispatcher.request({
        origin: this.#endpoint.origin,
        method: request.method,
        path,
        headers,
        body: request.method === "GET" ? undefined : request.body,
        // The retry callback never waits past the deadline; the signal ends an attempt still in flight there.
        signal: AbortSignal.timeout(remaining),
      });
      const requestId = res.headers["x-request-id"];
      return { status: res.statusCode, requestId: Array.isArray(requestId) ? requestId[0] : requestId, body: await res.body.text() };
    } catch (err) {
      const e = err as RetryableError;
      if (e.name === "TimeoutError" || e.name === "AbortError") throw fail(e.code, `no answer within the ${this.#policy.deadlineMs} ms deadline`);
      throw fail(e.code, `${e.code ? `${e.code}: ` : ""}${e.message}`);
    }
  }

  /** undici's retry callback: which failures to retry, and how long to wait, bounded by this call's deadline. */
  #retryUntil(deadline: number) {
    return (err: Error, context: { state: { counter: number } }, done: (stop?: Error | null) => void): void => {
      const e = err as RetryableError;
      const retryable = e.statusCode !== undefined ? RETRY_STATUSES.includes(e.statusCode) : e.code !== undefined && RETRY_ERROR_CODES.includes(e.code);
      if (!retryable) return done(err);
      const delay = retryAfterMs(e.headers?.["retry-after"]) ?? backoffMs(context.state.counter, this.#policy);
      if (Date.now() + delay >= deadline) return done(err);
      setTimeout(() => done(null), delay);
    };
  }

  /** Closes the connection pool if this transport created it. */
  async close(): Promise<void> {
    if (this.#ownsBase) await this.#base.close();
  }
}

function isOperationInProgress(body: string): boolean {
  try {
    const parsed = ErrorBody.safeParse(parseJson(body));
    return parsed.success && parsed.data.error_code === OPERATION_IN_PROGRESS;
  } catch {
    return false;
  }
}
