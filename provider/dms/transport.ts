// HTTP to one DMS endpoint: a keep-alive connection pool (loopback always direct; anything else through
// HTTP(S)_PROXY unless NO_PROXY says otherwise), timeouts, and retries inside one overall deadline: with
// exponential backoff and jitter after failures, and in turns of the endpoint's shared pace (pace.ts) after
// throttling. Whether an attempt may be sent again is the caller's rule: the transport knows HTTP, never what
// an operation or DMS's error codes mean, and reports each attempt as an answer, as never sent, or as sent
// (or perhaps sent) without an answer.
// TLS is always verified; extra CAs come from NODE_EXTRA_CA_CERTS, which Node applies itself.
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, Dispatcher, EnvHttpProxyAgent } from "undici";
import { isLoopbackHost } from "./endpoints";
import { ConfigurationError, DmsUnreachableError } from "./errors";
import { paceOf, type Pace } from "./pace";
import { canonicalQuery, type Query } from "./signing/encoding";

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
 * The connection layer for DMS: an undici Agent keeps one keep-alive pool per origin, so one endpoint gets
 * one pool, reached directly or (EnvHttpProxyAgent) through the proxy the environment names. Loopback
 * endpoints are always reached directly: a proxy has no business seeing signed requests (and their security
 * token) meant for this machine, and could not reach its loopback anyway.
 *
 * Throws ConfigurationError, before anything is sent, when a proxy variable is not an http(s) URL.
 */
export function createDispatcher(options: ConnectionOptions = {}): Dispatcher {
  const { httpProxy, httpsProxy, noProxy } = proxySettings(options.env ?? process.env);
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
  };
  // Without any proxy there is nothing to decide, and deciding costs a parse of the origin per request.
  if (!httpProxy && !httpsProxy) return new Agent(agentOptions);
  // Passing "" (not undefined) stops undici from falling back to process.env behind the caller's back.
  return new LoopbackDirect(new Agent(agentOptions), new EnvHttpProxyAgent({ ...agentOptions, httpProxy, httpsProxy, noProxy }));
}

/** Loopback origins to `direct`, every other origin to `proxied` (which applies NO_PROXY itself). */
class LoopbackDirect extends Dispatcher {
  readonly #direct: Dispatcher;
  readonly #proxied: Dispatcher;
  /** Per origin: whether it is loopback (a client talks to one origin, a process to a handful). */
  readonly #loopback = new Map<string, boolean>();

  constructor(direct: Dispatcher, proxied: Dispatcher) {
    super();
    this.#direct = direct;
    this.#proxied = proxied;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = String(options.origin ?? "");
    let loopback = this.#loopback.get(origin);
    if (loopback === undefined) {
      loopback = URL.canParse(origin) && isLoopbackHost(new URL(origin).hostname);
      this.#loopback.set(origin, loopback);
    }
    return (loopback ? this.#direct : this.#proxied).dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all([this.#direct.close(), this.#proxied.close()]).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === "function" ? null : (a ?? null);
    const callback = typeof a === "function" ? a : b;
    const done = Promise.all([this.#direct.destroy(err), this.#proxied.destroy(err)]).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }
}

/** The proxy settings of `env`, lower-case names first as curl reads them; a malformed proxy URL is a ConfigurationError. */
function proxySettings(env: Env): { httpProxy: string; httpsProxy: string; noProxy: string } {
  const pick = (names: readonly string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value) return { name, value };
    }
    return undefined;
  };
  return {
    httpProxy: proxyUrl(pick(["http_proxy", "HTTP_PROXY"])),
    httpsProxy: proxyUrl(pick(["https_proxy", "HTTPS_PROXY"])),
    noProxy: pick(["no_proxy", "NO_PROXY"])?.value ?? "",
  };
}

/** Checked here because undici would only fail later, with a bare "Invalid URL" that names no variable. */
function proxyUrl(setting: { name: string; value: string } | undefined): string {
  if (setting === undefined) return "";
  const fix = "write it as http://host:port, or unset it";
  // A proxy URL may carry a password; a value that is not a URL may still hold one before an "@".
  const shown = JSON.stringify(setting.value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, "$1***@"));
  if (!URL.canParse(setting.value)) throw new ConfigurationError(`${setting.name} ${shown} is not a URL: ${fix}`);
  const url = new URL(setting.value);
  // "proxy:3128" parses, as a URL of scheme "proxy:".
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    throw new ConfigurationError(`${setting.name} ${shown} is not an http:// or https:// URL: ${fix}`);
  }
  return setting.value;
}

/** The process's shared dispatchers, by proxy settings. They hold connections only: requests are signed per client. */
const sharedDispatchers = new Map<string, Dispatcher>();

/**
 * One connection layer for every client of the process that finds the same proxy settings in `env`, for
 * callers that make a client per operation (the resource host makes one per create, update and read): each
 * endpoint keeps one pool (direct for loopback, else as the proxy settings say) however many clients come and go.
 * Given the client's `endpoint`, a loopback one gets the direct layer whatever the proxy settings (which are
 * still checked: a malformed one is a ConfigurationError here too).
 *
 * Never closed, and no client closes it: undici unrefs a pool's idle sockets and closes them after their
 * keep-alive timeout, so it holds no process open, and the host process ends when the engine is done with it.
 */
export function sharedDispatcher(env: Env = process.env, endpoint?: URL): Dispatcher {
  const settings = proxySettings(env);
  const direct = (!settings.httpProxy && !settings.httpsProxy) || (endpoint !== undefined && isLoopbackHost(endpoint.hostname));
  // Without a proxy NO_PROXY means nothing: every direct client shares one layer.
  const key = direct ? "direct" : JSON.stringify(settings);
  let dispatcher = sharedDispatchers.get(key);
  if (dispatcher === undefined) {
    dispatcher = createDispatcher({ env: direct ? {} : env });
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

/**
 * Network failures that may be gone on the next try. ENOTFOUND is left out on purpose: a mistyped endpoint
 * should fail at once, not after the whole deadline; EAI_AGAIN is the transient DNS failure. Certificate
 * errors are left out too: they do not heal within a deadline.
 */
export const TRANSIENT_ERROR_CODES: readonly string[] = [
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ENETDOWN", "ENETUNREACH", "EHOSTDOWN", "EHOSTUNREACH",
  "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT",
];

/**
 * One attempt at a request, as the caller's RetryRule sees it.
 * - "answer": a complete HTTP answer, whatever its status.
 * - "unsent": provably never reached the server: the request was never handed to a connected socket
 *   (connection refused, DNS, connect timeout, TLS handshake or proxy tunnel failure, or the deadline passed
 *   while it waited for a connection). The server cannot have acted on it.
 * - "unanswered": handed to a connected socket, so written or perhaps written, and no complete answer came
 *   (reset or closed after the write, headers or body timeout, the deadline while in flight). The server
 *   may have acted on it.
 */
export type Attempt =
  | { kind: "answer"; status: number; body: string; requestId?: string; retryAfterMs?: number }
  | { kind: "unsent"; code?: string; reason: string }
  | { kind: "unanswered"; code?: string; reason: string };

/**
 * Whether to send a request again after this attempt (within the deadline; the transport decides when).
 * A rule that answers true after "unanswered" accepts that the server may see the request twice, and that
 * a later answer may be to a repeat of a request it already acted on.
 */
export type RetryRule = (attempt: Attempt) => boolean;

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

type Answer = Extract<Attempt, { kind: "answer" }>;
type Failure = Exclude<Attempt, Answer>;

/** An attempt, and whether the deadline ended it (then nothing is sent again, whatever the rule says). */
interface Tried {
  attempt: Attempt;
  deadlinePassed: boolean;
}

/**
 * Sends signed requests to one endpoint and returns whatever final answer it gives (error statuses
 * included: turning them into errors is the caller's job, because only it knows the operation). Failures
 * without an answer throw DmsUnreachableError, whose `delivery` says whether the server may have acted.
 *
 * Retries live in one loop here rather than in undici's retry interceptor: a rule may need the answer's body
 * (DMS says "operation in progress" in a 400's body), which the interceptor decides on before reading; one loop
 * gives every retry the same deadline, backoff and the endpoint's shared pace, and signs each attempt afresh.
 * It also costs less: on loopback the interceptor and an AbortSignal per request measured about a fifth of a
 * reset's round trip (tests/bench/client.js).
 */
export class Transport {
  // The endpoint's origin and Host, read from the URL once: its getters slice them out of the href on every read.
  readonly #origin: string;
  readonly #host: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #policy: RetryPolicy;
  readonly #pace: Pace;

  /**
   * `dispatcher`: a connection layer someone else closes (or the process's shared one); by default one from
   * createDispatcher() with the proxy settings of `env` (process.env by default).
   */
  constructor(endpoint: URL, options: { policy?: Partial<RetryPolicy>; dispatcher?: Dispatcher; env?: Env } = {}) {
    this.#origin = endpoint.origin;
    this.#host = endpoint.host;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
    this.#pace = paceOf(this.#origin);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? createDispatcher(options.env ? { env: options.env } : {});
  }

  async send(request: OutgoingRequest, sign: Signer, retry: RetryRule): Promise<IncomingResponse> {
    const deadline = Date.now() + this.#policy.deadlineMs;
    const query = canonicalQuery(request.query);
    const path = query ? `${request.encodedPath}?${query}` : request.encodedPath;
    /** The last attempt that was followed by another. */
    let retried: Attempt | undefined;
    /** Some attempt may have reached the server without an answer: the server may have acted. */
    let unanswered = false;
    for (let n = 1; ; n++) {
      // While the endpoint throttles, every request waits for its turn in the endpoint's pace.
      const wait = this.#pace.take(Date.now(), deadline);
      let tried: Tried;
      if (wait === undefined) {
        tried = { attempt: { kind: "unsent", reason: `the endpoint is throttling and has no free turn within the ${this.#policy.deadlineMs} ms deadline` }, deadlinePassed: true };
      } else {
        if (wait > 0) await sleep(wait);
        tried = await this.#attempt(request, path, sign, deadline);
        const { attempt } = tried;
        if (attempt.kind === "answer") {
          const now = Date.now();
          if (attempt.status === 429) this.#pace.throttled(now, attempt.retryAfterMs);
          else this.#pace.answered(now, wait > 0);
        } else if (attempt.kind === "unanswered") {
          unanswered = true;
        }
        if (!tried.deadlinePassed && retry(attempt)) {
          // A 429 waits for the pace alone, which it has just slowed down and pushed past any Retry-After: a
          // sleep of its own would leave the endpoint's turns unused.
          const delay = attempt.kind === "answer" && attempt.status === 429 ? 0 : backoffMs(n, this.#policy);
          if (Date.now() + delay < deadline) {
            retried = attempt;
            if (delay > 0) await sleep(delay);
            continue;
          }
          tried = { attempt, deadlinePassed: true };
        }
      }
      const { deadlinePassed } = tried;
      let { attempt } = tried;
      if (attempt.kind === "answer") return { status: attempt.status, requestId: attempt.requestId, body: attempt.body };
      // A retry that never left says less than the answer that made us retry it (and changes nothing it said);
      // one that the deadline cut short, less than the failure that made us retry it.
      if (attempt.kind === "unsent" && retried !== undefined) {
        if (retried.kind === "answer") {
          if (!unanswered) return { status: retried.status, requestId: retried.requestId, body: retried.body };
        } else if (deadlinePassed) {
          attempt = retried;
        }
      }
      throw new DmsUnreachableError({ method: request.method, path, code: attempt.code, reason: attempt.reason, deadlinePassed, delivery: unanswered ? "unknown" : "unsent" });
    }
  }

  /**
   * One signed request and its whole answer, or how it failed. Whether it is "unsent" is decided by where it
   * got to, not by the error's code: undici calls a handler's onRequestStart from the function that writes the
   * request onto a connected socket (client-h1 writeH1, client-h2 writeH2), just before the first byte, and
   * from nowhere else; a request it was never called for never had a byte written anywhere. Once it has been
   * called, any failure is "unanswered", however it looks (an EPIPE on a kept-alive socket the server had
   * already closed may mean the server never read it, but nothing proves that).
   */
  #attempt(request: OutgoingRequest, path: string, sign: Signer, deadline: number): Promise<Tried> {
    const remaining = deadline - Date.now();
    const expired = (reason: string) => `no answer within the ${this.#policy.deadlineMs} ms deadline${reason}`;
    if (remaining <= 0) return Promise.resolve({ attempt: { kind: "unsent", reason: expired("") }, deadlinePassed: true });
    const headers = sign(request, this.#host);
    return new Promise<Tried>((resolve) => {
      let settled = false;
      /** Set once undici hands the request to a connected socket: from then on it may have been sent. */
      let controller: Dispatcher.DispatchController | undefined;
      let deadlinePassed = false;
      let status = 0;
      let requestId: string | undefined;
      let retryAfter: string | string[] | undefined;
      let size = 0;
      const chunks: Buffer[] = [];
      const finish = (tried: Tried) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(tried);
      };
      const failed = (code: string | undefined, reason: string): Failure =>
        controller === undefined ? { kind: "unsent", code, reason } : { kind: "unanswered", code, reason };
      // The deadline bounds an attempt in flight too. Aborting one that no socket has taken yet (see
      // onRequestStart) keeps it from ever being sent, so it stays "unsent" for good.
      const timer = setTimeout(() => {
        deadlinePassed = true;
        const attempt = failed(undefined, expired(controller === undefined ? " (no connection took the request)" : ""));
        // Settled first: the abort reports back to onResponseError at once, as a failure of its own.
        finish({ attempt, deadlinePassed: true });
        controller?.abort(new Error(attempt.reason));
      }, remaining);
      this.#dispatcher.dispatch(
        { origin: this.#origin, method: request.method, path, headers, body: request.method === "GET" ? null : request.body },
        {
          onRequestStart(c) {
            // Aborted here, undici returns before writing anything.
            if (deadlinePassed) c.abort(new Error("deadline passed before a connection took the request"));
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
            if (size > MAX_BODY_BYTES) {
              c.abort(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
            } else {
              chunks.push(chunk);
            }
          },
          onResponseEnd() {
            const body = Buffer.concat(chunks).toString("utf8");
            const answer: Answer = { kind: "answer", status, body };
            if (requestId !== undefined) answer.requestId = requestId;
            const after = retryAfterMs(retryAfter);
            if (after !== undefined) answer.retryAfterMs = after;
            finish({ attempt: answer, deadlinePassed: false });
          },
          onResponseError(_c, err: Error & { code?: string; errors?: (Error & { code?: string })[] }) {
            // Node reports a connection to a name with several addresses that all failed as an AggregateError.
            const code = err.code ?? err.errors?.find((e) => e.code)?.code;
            const message = err.message || err.errors?.map((e) => e.message).join("; ") || err.name;
            finish({ attempt: failed(code, `${code && !message.startsWith(code) ? `${code}: ` : ""}${message}`), deadlinePassed: false });
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
