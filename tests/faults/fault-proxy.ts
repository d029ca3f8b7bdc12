// A reverse proxy on 127.0.0.1 in front of an upstream (dms-local, or any HTTP server) that loses answers
// the way networks and gateways do: the next matching requests are forwarded and the upstream acts on them,
// and then the client gets no answer (dropped), a late one (held until the test releases it), or a gateway's
// error instead of the upstream's. It can also drop a request before forwarding it, hold a request before
// forwarding it (the upstream sees it late, after the client gave up), answer in the upstream's place
// without forwarding (a refusal), and stop listening so that connections are refused. Every request is
// recorded with what became of it, and tests wait on those records (until) or on held requests and answers
// (nextHeld), never on timers.
// Requests are forwarded byte for byte with their Host header, so signatures made for the proxy's address
// still verify upstream.
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type FaultAction =
  /** Forward, wait for the upstream's complete answer, then destroy the client's connection without answering. */
  | { kind: "forward-then-drop" }
  /** Forward, then hold the upstream's answer until the test releases it (nextHeld), or for `ms` if given. */
  | { kind: "forward-then-delay"; ms?: number }
  /** Forward, then answer with this instead of the upstream's answer (a gateway's 502 or 504, say). */
  | { kind: "forward-then-replace"; status: number; body?: string; headers?: Record<string, string> }
  /** Destroy the client's connection without forwarding anything. */
  | { kind: "drop-before-forward" }
  /** Hold the request until the test releases it (nextHeld), then forward it and pass the answer on: the upstream sees it late. */
  | { kind: "hold-then-forward" }
  /** Answer with this without forwarding anything: a refusal the upstream never saw. */
  | { kind: "answer-instead"; status: number; body?: string; headers?: Record<string, string> };

export interface FaultRule {
  /** How many matching requests it applies to, the oldest armed rule first. */
  count: number;
  /** Let this many matching requests pass untouched first (default 0). */
  skip?: number;
  match?: { method?: string; pathIncludes?: string };
  action: FaultAction;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as on the request line. */
  url: string;
  body: string;
  /** The fault applied to it; undefined when it was passed through. */
  fault: FaultAction["kind"] | undefined;
  forwarded: boolean;
  /** The upstream's status, once it answered. */
  upstreamStatus: number | undefined;
  /** Why forwarding failed, if it did. */
  upstreamError: string | undefined;
  /** What the client got: a status, "dropped" (connection destroyed), "gone" (the client left first); undefined while pending. */
  answered: number | "dropped" | "gone" | undefined;
}

/** An answer held by forward-then-delay, or a request held by hold-then-forward. */
export interface HeldAnswer {
  request: ProxiedRequest;
  /** Sends the upstream's answer now, or forwards the held request now (no-op once done). */
  release(): void;
}

export interface FaultProxy {
  /** http://127.0.0.1:port: the endpoint to give the client. */
  url: string;
  requests: ProxiedRequest[];
  add(rule: FaultRule): void;
  /** Rules still armed, with how many requests each will still hit. */
  pending(): (FaultRule & { left: number })[];
  /** The next answer (or request) held by forward-then-delay or hold-then-forward (one held before the call first), in the order they were held. */
  nextHeld(): Promise<HeldAnswer>;
  /** Resolves once `predicate(requests)` holds; checked now and after every change to a record. */
  until(predicate: (requests: readonly ProxiedRequest[]) => boolean): Promise<void>;
  /** Stops listening and ends every open connection: until start(), connections to `url` are refused. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Headers of one hop only (RFC 9110 7.6.1): never passed on. content-length is recomputed from the buffered body. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

interface UpstreamAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const upstreamAgent = new HttpAgent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  let rules: (FaultRule & { left: number; skipLeft: number })[] = [];
  const sockets = new Set<Socket>();
  const waiters: { predicate: (r: readonly ProxiedRequest[]) => boolean; resolve: () => void }[] = [];
  const held: HeldAnswer[] = [];
  const heldWaiters: ((h: HeldAnswer) => void)[] = [];
  const releases = new Set<() => void>();
  let closing = false;

  const changed = () => {
    for (const w of [...waiters]) {
      if (w.predicate(requests)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const take = (method: string, url: string): FaultAction | undefined => {
    const rawPath = url.split("?")[0] ?? "";
    let decodedPath = rawPath;
    try {
      decodedPath = decodeURIComponent(rawPath);
    } catch {
      // Not valid percent-encoding: matched as received only.
    }
    const rule = rules.find(
      (r) =>
        (r.match?.method === undefined || r.match.method.toUpperCase() === method.toUpperCase()) &&
        (r.match?.pathIncludes === undefined || rawPath.includes(r.match.pathIncludes) || decodedPath.includes(r.match.pathIncludes)),
    );
    if (!rule) return undefined;
    if (rule.skipLeft > 0) {
      rule.skipLeft -= 1;
      return undefined;
    }
    rule.left -= 1;
    if (rule.left <= 0) rules = rules.filter((r) => r !== rule);
    return rule.action;
  };

  const forward = (method: string, url: string, headers: IncomingHttpHeaders, body: Buffer) =>
    new Promise<UpstreamAnswer>((resolve, reject) => {
      const req = httpRequest(
        { agent: upstreamAgent, protocol: target.protocol, hostname: target.hostname, port: target.port, method, path: url, headers: { ...endToEnd(headers), "content-length": body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: endToEnd(res.headers), body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  /** Waits until the test releases the answer (or `ms` passes, if given). */
  const hold = (entry: ProxiedRequest, ms: number | undefined) =>
    new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const release = () => {
        if (timer) clearTimeout(timer);
        releases.delete(release);
        resolve();
      };
      releases.add(release);
      if (ms !== undefined) timer = setTimeout(release, ms);
      const h: HeldAnswer = { request: entry, release };
      const waiter = heldWaiters.shift();
      if (waiter) waiter(h);
      else held.push(h);
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const method = req.method ?? "GET";
        const url = req.url ?? "/";
        const action = take(method, url);
        const entry: ProxiedRequest = { method, url, body: body.toString("utf8"), fault: action?.kind, forwarded: false, upstreamStatus: undefined, upstreamError: undefined, answered: undefined };
        requests.push(entry);
        // The client may leave while its request is forwarded or held: that is recorded when it happens.
        res.on("close", () => {
          if (!res.writableFinished && entry.answered === undefined) {
            entry.answered = "gone";
            changed();
          }
        });
        const drop = () => {
          if (entry.answered !== undefined) return;
          entry.answered = "dropped";
          req.socket.destroy();
          changed();
        };
        const answer = (a: UpstreamAnswer) => {
          if (entry.answered !== undefined) return;
          if (res.destroyed || req.socket.destroyed) {
            entry.answered = "gone";
          } else {
            res.writeHead(a.status, { ...a.headers, "content-length": a.body.length });
            res.end(a.body);
            entry.answered = a.status;
          }
          changed();
        };
        changed();
        if (action?.kind === "drop-before-forward") return drop();
        if (action?.kind === "answer-instead") {
          return answer({ status: action.status, headers: { "content-type": "application/json", ...action.headers }, body: Buffer.from(action.body ?? "") });
        }
        // Forwarded when released even if the client has left meanwhile: the upstream acts on it late.
        if (action?.kind === "hold-then-forward") {
          await hold(entry, undefined);
          // Released by close(): the upstream is going away too.
          if (closing) return drop();
        }
        let up: UpstreamAnswer;
        try {
          up = await forward(method, url, req.headers, body);
        } catch (e) {
          entry.upstreamError = e instanceof Error ? e.message : String(e);
          return answer({ status: 502, headers: { "content-type": "text/plain" }, body: Buffer.from(`fault proxy: upstream failed: ${entry.upstreamError}`) });
        }
        entry.forwarded = true;
        entry.upstreamStatus = up.status;
        changed();
        switch (action?.kind) {
          case "forward-then-drop":
            return drop();
          case "forward-then-delay":
            await hold(entry, action.ms);
            return answer(up);
          case "forward-then-replace":
            return answer({ status: action.status, headers: { "content-type": "text/html", ...action.headers }, body: Buffer.from(action.body ?? "") });
          default:
            return answer(up);
        }
      })();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add(rule) {
      if (!Number.isInteger(rule.count) || rule.count < 1) throw new Error(`a fault rule needs a count of 1 or more, not ${rule.count}`);
      const skip = rule.skip ?? 0;
      if (!Number.isInteger(skip) || skip < 0) throw new Error(`a fault rule's skip must be 0 or more, not ${skip}`);
      rules.push({ ...rule, left: rule.count, skipLeft: skip });
    },
    pending: () => rules.map(({ skipLeft: _skipLeft, ...r }) => ({ ...r })),
    nextHeld: () => {
      const h = held.shift();
      return h ? Promise.resolve(h) : new Promise<HeldAnswer>((resolve) => heldWaiters.push(resolve));
    },
    until: (predicate) =>
      new Promise<void>((resolve) => {
        if (predicate(requests)) return resolve();
        waiters.push({ predicate, resolve });
      }),
    stop,
    start: () => listen(port),
    close: async () => {
      closing = true;
      for (const release of [...releases]) release();
      await stop();
      upstreamAgent.destroy();
    },
  };
}
