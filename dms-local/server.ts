// dms-local's HTTP server: every request gets an X-Request-Id; `/__admin/` goes to the admin API
// (only when enabled); everything else passes the gateway's checks (rate limit, body size, path
// canonicalisation), fault injection, routing, SDK-HMAC-SHA256 authentication and its handler, and
// is written to the request log. Memory stays bounded whatever arrives: bodies are held only for
// requests that may authenticate, and the log keeps little of each request (request-log.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { stringifyJson } from "../provider/dms/json";
import { ADMIN_ROUTES } from "./admin";
import { Applications, type Application } from "./applications";
import { authenticate, claimsKnownAccessKey, parseRawQuery, type AuthOutcome } from "./auth";
import { badRequest, bodyTooLarge, DmsError, internalError, noSuchApi, throttled } from "./errors";
import { Faults } from "./faults";
import { pathRefusal } from "./gateway";
import { MemoryWorld } from "./memory-world";
import { RateLimiter } from "./rate-limit";
import { entryOf, RequestLog, type LoggedRequest, type ReceivedRequest } from "./request-log";
import { DMS_ROUTES, matchRoute, type Reply } from "./routes";
import type { Seed } from "./seed";
import { newDmsId, TaskRunner } from "./tasks";
import type { World } from "./world";

export const DEFAULT_TASK_DELAY_MS = 500;
const MAX_BODY_BYTES = 1024 * 1024;
/** Bodies held in memory at once (only of requests naming a known AK); beyond, 429 as the gateway throttles. */
export const BODIES_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/** How long a connection refused with 413 is still read from, so that closing it resets nothing. */
const LINGER_MS = 5000;
/** setTimeout's limit; a longer hang never ends (until the server closes). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DmsLocalOptions {
  seed: Seed;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Serve the unsigned `/__admin/` API (fault injection, request log, applications, stop-consumers). */
  admin?: boolean;
  /** Allow `admin` on a host other than a loopback address (anyone who reaches the port can use it). */
  adminOnNetwork?: boolean;
  /** How long an all-topics reset task stays CREATED before it applies. */
  taskDelayMs?: number;
  /** Serve this world instead of a MemoryWorld built from the seed; the caller closes it. */
  world?: World;
  /** Refuse DMS requests beyond this many per second with 429 APIG.0308, as the API gateway does (default: no limit). */
  rateLimitPerSecond?: number;
  /** The clock (epoch ms) the rate limit counts by, default Date.now: a test holds it still, so that a burst is one burst however slow the machine. */
  rateLimitClock?: () => number;
  /** Bytes of request bodies held at once (default BODIES_IN_FLIGHT_BYTES); a signed request beyond gets 429 APIG.0308. */
  bodiesInFlightBytes?: number;
}

export interface DmsLocal {
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string;
  world: World;
  /** How many resets were applied to the group since start (or the last DELETE /__admin/applications), and the latest. */
  applications(instanceId: string, group: string): { count: number; last?: Application["last"] };
  close(): Promise<void>;
}

type Body = { tooLarge: false; bytes: Buffer | undefined; size: number; overBudget: boolean } | { tooLarge: true };

/** Bytes of request bodies held in memory at once, across requests. */
class BodyBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  release(n: number): void {
    this.used -= n;
  }
}

/**
 * Read the request's body to its end. Only a body worth keeping (`keep`) is held in memory, and only
 * while `budget` allows (`overBudget` otherwise); any other is counted and dropped as it arrives.
 * Over MAX_BODY_BYTES (declared or counted) it stops there: the caller answers 413 and closes.
 * `held` is called with what was taken from the budget, for the caller to give back.
 */
function readBody(req: IncomingMessage, keep: boolean, budget: BodyBudget, held: (n: number) => void): Promise<Body> {
  const declared = Number(req.headers["content-length"]);
  if (declared > MAX_BODY_BYTES) return Promise.resolve({ tooLarge: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let keeping = keep;
    let overBudget = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        req.off("data", onData);
        resolve({ tooLarge: true });
        return;
      }
      if (!keeping) return;
      if (budget.take(chunk.length)) {
        held(chunk.length);
        chunks.push(chunk);
      } else {
        keeping = false;
        overBudget = true;
        chunks.length = 0;
      }
    };
    req.on("data", onData);
    req.on("end", () => resolve({ tooLarge: false, bytes: keeping ? Buffer.concat(chunks) : undefined, size, overBudget }));
    req.on("error", reject);
  });
}

/**
 * Answer 413 and close the connection without a reset. Node ends a `Connection: close` answer with
 * socket.destroySoon(), which closes while the client may still be sending; the kernel then answers
 * with a reset that can reach the client before it reads the 413. Instead: half-close after the
 * answer, keep reading (and dropping) what still arrives, and close once the client has finished or
 * after LINGER_MS.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const socket = req.socket;
  socket.destroySoon = function lingeringClose(this: Socket): void {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
  };
  req.on("data", () => undefined);
  res.shouldKeepAlive = false;
  send(res, requestId, errorReply(bodyTooLarge(MAX_BODY_BYTES)), { Connection: "close" });
}

function errorReply(error: DmsError): Reply {
  return { status: error.status, body: { error_code: error.code, error_msg: error.message } };
}

function send(res: ServerResponse, requestId: string, reply: Reply, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.setHeader("X-Request-Id", requestId);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const text = stringifyJson(reply.body);
  res.writeHead(reply.status, { "Content-Type": "application/json;charset=UTF-8", "Content-Length": Buffer.byteLength(text) }).end(text);
}

/** Single values as strings, repeated keys as arrays: what a test wants to read back. */
function loggableQuery(rawQuery: string): LoggedRequest["query"] {
  try {
    return Object.fromEntries(Object.entries(parseRawQuery(rawQuery)).map(([k, v]) => [k, v.length === 1 ? (v[0] as string) : v]));
  } catch {
    return {};
  }
}

function decodeSegments(rawPath: string): string[] | undefined {
  try {
    return rawPath.slice(1).split("/").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and localhost: addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export async function startDmsLocal(options: DmsLocalOptions): Promise<DmsLocal> {
  const { seed } = options;
  const host = options.host ?? "127.0.0.1";
  if (options.admin === true && !isLoopback(host) && options.adminOnNetwork !== true) {
    throw new Error(`the unsigned admin API would be open to the network on ${host}: bind a loopback address, or set adminOnNetwork`);
  }
  const world = options.world ?? new MemoryWorld(seed);
  const tasks = new TaskRunner(world, options.taskDelayMs ?? DEFAULT_TASK_DELAY_MS);
  const faults = new Faults();
  const log = new RequestLog();
  const applications = new Applications();
  const bodies = new BodyBudget(options.bodiesInFlightBytes ?? BODIES_IN_FLIGHT_BYTES);
  const limiter = options.rateLimitPerSecond === undefined ? undefined : new RateLimiter(options.rateLimitPerSecond);
  const clock = options.rateLimitClock ?? Date.now;
  const timers = new Set<NodeJS.Timeout>();
  const onClose = new Set<() => void>();

  function schedule(afterMs: number, work: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, afterMs);
    timers.add(timer);
  }

  /** True once `ms` has passed; false if the server closed first. */
  function sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const stop = (): void => {
        onClose.delete(stop);
        resolve(false);
      };
      onClose.add(stop);
      if (ms <= MAX_TIMER_MS) {
        schedule(ms, () => {
          onClose.delete(stop);
          resolve(true);
        });
      }
    });
  }

  async function handleAdmin(res: ServerResponse, requestId: string, method: string, segments: string[] | undefined, body: string): Promise<void> {
    const match = segments && matchRoute(ADMIN_ROUTES, method, segments);
    if (!match) {
      send(res, requestId, errorReply(segments ? noSuchApi() : badRequest("the path has malformed percent-escapes")));
      return;
    }
    try {
      send(res, requestId, await match.route.handle({ faults, log, applications, world, schedule, params: match.params, body }));
    } catch (e) {
      send(res, requestId, errorReply(e instanceof DmsError ? e : internalError()));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, held: (n: number) => void): Promise<void> {
    const requestId = newDmsId();
    const at = new Date();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const method = (req.method ?? "GET").toUpperCase();
    const isAdmin = rawPath === "/__admin" || rawPath.startsWith("/__admin/");

    const read = await readBody(req, isAdmin ? options.admin === true : claimsKnownAccessKey(req.headers, seed), bodies, held);
    const received: ReceivedRequest = { method, rawPath, rawQuery, requestId, at, body: read.tooLarge ? undefined : read.bytes, bodyBytes: read.tooLarge ? MAX_BODY_BYTES + 1 : read.size };
    /** Record the request: in full if `credential` verified its signature, else as one short line. */
    const record = (status: number | null, credential: number | null): void => {
      log.record(entryOf(received, status, credential, () => loggableQuery(rawQuery)));
    };
    const bytes = received.body ?? Buffer.alloc(0);
    const segments = decodeSegments(rawPath);

    if (read.tooLarge) {
      if (!isAdmin) record(413, null);
      refuseTooLarge(req, res, requestId);
      return;
    }
    if (isAdmin) {
      if (options.admin !== true) send(res, requestId, errorReply(noSuchApi()));
      else if (read.overBudget) send(res, requestId, errorReply(throttled(bodies.limit, "bytes of request bodies at once")));
      else await handleAdmin(res, requestId, method, segments, bytes.toString("utf8"));
      return;
    }

    // Where the gateway would route it, and (computed once, when asked) whether its signature verifies.
    const match = segments && !pathRefusal(segments) ? matchRoute(DMS_ROUTES, method, segments) : undefined;
    let verified: AuthOutcome | undefined;
    const authOutcome = (): AuthOutcome | undefined =>
      match && (verified ??= authenticate({ method, rawPath, rawQuery, headers: req.headers, body: bytes }, match.params["project_id"] as string, seed, new Date()));
    const finish = (reply: Reply, credential: number | null, headers?: Record<string, string>): void => {
      record(reply.status, credential);
      send(res, requestId, reply, headers);
    };

    // The gateway throttles before anything behind it sees the request (the admin API is not behind it).
    if (limiter && !limiter.admit(clock())) return finish(errorReply(throttled(limiter.limit)), null);
    if (read.overBudget) return finish(errorReply(throttled(bodies.limit, "bytes of request bodies at once")), null);

    /** What DMS answers, and who signed it (null when unauthenticated). */
    const respond = async (): Promise<{ reply: Reply; credential: number | null }> => {
      if (!segments) return { reply: errorReply(badRequest("the path has malformed percent-escapes")), credential: null };
      const refusal = pathRefusal(segments);
      if (refusal) return { reply: errorReply(refusal), credential: null };
      const auth = authOutcome();
      if (!match || !auth) return { reply: errorReply(noSuchApi()), credential: null };
      if (!auth.ok) return { reply: errorReply(auth.error), credential: null };
      const credential = auth.credentialIndex;
      try {
        const reply = await match.route.handle({
          world,
          tasks,
          applications,
          seed,
          credentialIndex: credential,
          params: match.params,
          query: parseRawQuery(rawQuery),
          body: bytes.toString("utf8"),
        });
        return { reply, credential };
      } catch (e) {
        if (e instanceof DmsError) return { reply: errorReply(e), credential };
        process.stderr.write(`dms-local: ${method} ${rawPath} failed: ${e instanceof Error ? e.message : String(e)}\n`);
        return { reply: errorReply(internalError()), credential };
      }
    };

    const fault = faults.take(method, rawPath, segments ? `/${segments.join("/")}` : rawPath);
    if (!fault) {
      const { reply, credential } = await respond();
      return finish(reply, credential);
    }
    // A faulted request is logged in full when it was signed: a test can see what a dropped or
    // refused write carried. With `after`, DMS handles it first (a reset applies) and the fault
    // replaces the answer: the ambiguous outcome a client must resolve by reading back.
    const handled = fault.after ? await respond() : undefined;
    const auth = handled ? undefined : authOutcome();
    const credential = handled ? handled.credential : auth?.ok ? auth.credentialIndex : null;
    if (fault.hangMs !== undefined && !(await sleep(fault.hangMs))) {
      record(null, credential);
      return;
    }
    if (fault.drop) {
      record(null, credential);
      req.socket.destroy();
      return;
    }
    if (fault.error) {
      const { status, code, message, retryAfterSeconds } = fault.error;
      finish({ status, body: { error_code: code, error_msg: message } }, credential, retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) });
      return;
    }
    // Only a delay: then DMS's own answer (handled before the delay with `after`, else now).
    const { reply, credential: signer } = handled ?? (await respond());
    finish(reply, signer);
  }

  const server = createServer((req, res) => {
    let held = 0;
    handle(req, res, (n) => (held += n))
      .catch((e: unknown) => {
        process.stderr.write(`dms-local: ${e instanceof Error ? e.message : String(e)}\n`);
        if (!res.headersSent) send(res, newDmsId(), errorReply(internalError()));
      })
      .finally(() => bodies.release(held));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    if (options.world === undefined) await world.close();
    throw e;
  }
  const { port } = server.address() as AddressInfo;

  return {
    url: formatUrl(host, port),
    world,
    applications: (instanceId, group) => applications.of(instanceId, group),
    async close(): Promise<void> {
      for (const stop of [...onClose]) stop();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      tasks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (options.world === undefined) await world.close();
    },
  };
}
