// dms-local's HTTP server: every request gets an X-Request-Id; `/__admin/` goes to the admin API
// (only when enabled); everything else passes fault injection, routing, SDK-HMAC-SHA256
// authentication and its handler, and is written to the request log.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { stringifyJson } from "../provider/dms/json";
import { ADMIN_ROUTES } from "./admin";
import { authenticate, parseRawQuery } from "./auth";
import { badRequest, DmsError, internalError, noSuchApi, throttled } from "./errors";
import { Faults } from "./faults";
import { MemoryWorld } from "./memory-world";
import { RateLimiter } from "./rate-limit";
import { RequestLog, type LoggedRequest } from "./request-log";
import { DMS_ROUTES, matchRoute, type Reply } from "./routes";
import type { Seed } from "./seed";
import { newDmsId, TaskRunner } from "./tasks";
import type { World } from "./world";

export const DEFAULT_TASK_DELAY_MS = 500;
const MAX_BODY_BYTES = 1024 * 1024;
/** setTimeout's limit; a longer hang never ends (until the server closes). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DmsLocalOptions {
  seed: Seed;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Serve the unsigned `/__admin/` API (fault injection, request log, stop-consumers). */
  admin?: boolean;
  /** How long an all-topics reset task stays CREATED before it applies. */
  taskDelayMs?: number;
  /** Serve this world instead of a MemoryWorld built from the seed; the caller closes it. */
  world?: World;
  /** Refuse DMS requests beyond this many per second with 429 APIG.0308, as the API gateway does (default: no limit). */
  rateLimitPerSecond?: number;
}

export interface DmsLocal {
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string;
  world: World;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
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

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export async function startDmsLocal(options: DmsLocalOptions): Promise<DmsLocal> {
  const { seed } = options;
  const host = options.host ?? "127.0.0.1";
  const world = options.world ?? new MemoryWorld(seed);
  const tasks = new TaskRunner(world, options.taskDelayMs ?? DEFAULT_TASK_DELAY_MS);
  const faults = new Faults();
  const log = new RequestLog();
  const limiter = options.rateLimitPerSecond === undefined ? undefined : new RateLimiter(options.rateLimitPerSecond);
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
      send(res, requestId, await match.route.handle({ faults, log, world, schedule, params: match.params, body }));
    } catch (e) {
      send(res, requestId, errorReply(e instanceof DmsError ? e : internalError()));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newDmsId();
    const at = new Date().toISOString();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const method = (req.method ?? "GET").toUpperCase();

    let bytes: Buffer;
    try {
      bytes = await readBody(req);
    } catch (e) {
      if (e instanceof BodyTooLarge) send(res, requestId, { ...errorReply(badRequest("the body is larger than 1 MiB")), status: 413 });
      return;
    }
    const body = bytes.toString("utf8");
    const segments = decodeSegments(rawPath);

    if (rawPath === "/__admin" || rawPath.startsWith("/__admin/")) {
      if (options.admin === true) await handleAdmin(res, requestId, method, segments, body);
      else send(res, requestId, errorReply(noSuchApi()));
      return;
    }

    const entry: LoggedRequest = { method, path: rawPath, query: loggableQuery(rawQuery), status: null, requestId, at, body: body === "" ? null : body, credential: null };
    const finish = (reply: Reply, headers?: Record<string, string>): void => {
      entry.status = reply.status;
      log.record(entry);
      send(res, requestId, reply, headers);
    };

    // The gateway throttles before anything behind it sees the request (the admin API is not behind it).
    if (limiter && !limiter.admit(Date.now())) return finish(errorReply(throttled(limiter.limit)));

    const fault = faults.take(method, rawPath, segments ? `/${segments.join("/")}` : rawPath);
    if (fault) {
      if (fault.hangMs !== undefined && !(await sleep(fault.hangMs))) {
        log.record(entry);
        return;
      }
      if (fault.drop) {
        log.record(entry);
        req.socket.destroy();
        return;
      }
      if (fault.error) {
        const { status, code, message, retryAfterSeconds } = fault.error;
        finish({ status, body: { error_code: code, error_msg: message } }, retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) });
        return;
      }
    }

    if (!segments) return finish(errorReply(badRequest("the path has malformed percent-escapes")));
    const match = matchRoute(DMS_ROUTES, method, segments);
    if (!match) return finish(errorReply(noSuchApi()));

    const auth = authenticate({ method, rawPath, rawQuery, headers: req.headers, body: bytes }, match.params["project_id"] as string, seed, new Date());
    if (!auth.ok) return finish(errorReply(auth.error));
    entry.credential = auth.credentialIndex;

    try {
      finish(
        await match.route.handle({
          world,
          tasks,
          seed,
          credentialIndex: auth.credentialIndex,
          params: match.params,
          query: parseRawQuery(rawQuery),
          body,
        }),
      );
    } catch (e) {
      if (e instanceof DmsError) return finish(errorReply(e));
      process.stderr.write(`dms-local: ${method} ${rawPath} failed: ${e instanceof Error ? e.message : String(e)}\n`);
      finish(errorReply(internalError()));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      process.stderr.write(`dms-local: ${e instanceof Error ? e.message : String(e)}\n`);
      if (!res.headersSent) send(res, newDmsId(), errorReply(internalError()));
    });
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
