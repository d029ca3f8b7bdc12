// A scriptable HTTP server for the transport tests: it records every request as received (raw body
// bytes, headers, arrival time) and answers with whatever the test's handler decides, including
// dropping the connection or never answering.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { DmsClient, type DmsClientOptions } from "../../provider/dms/client";
import { canonicalUriFromReceived } from "../../provider/dms/signing/encoding";
import { authorizationHeader, canonicalRequest, signature, signedHeaderNames, stringToSign } from "../../provider/dms/signing/signer";

export interface Received {
  method: string;
  /** Path and query exactly as on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export type Reply =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { drop: true }
  | { hang: true };

export interface FakeServer {
  url: string;
  received: Received[];
  /** TCP connections accepted so far (with TLS: handshakes attempted). */
  connections(): number;
  close(): Promise<void>;
}

/** `tls`: serve https with this key and certificate instead of plain http. `port`: listen there (0: any free port). */
export async function startFakeServer(handler: (req: Received, index: number) => Reply, tls?: { key: string; cert: string }, port = 0): Promise<FakeServer> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      received.push(r);
      const reply = handler(r, received.length - 1);
      if ("drop" in reply) {
        req.socket.destroy();
        return;
      }
      if ("hang" in reply) return;
      res.writeHead(reply.status, { "x-request-id": `req-${received.length}`, "content-type": "application/json", ...reply.headers });
      res.end(reply.body ?? "");
    });
  };
  const server: Server = tls ? createTlsServer(tls, onRequest) : createServer(onRequest);
  server.on("connection", (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${address.port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * For a test file whose tests each talk to their own fake server through a DmsClient (project "proj-1"):
 * returns the function that starts both; whatever it started is closed after each test.
 */
export function fakeServerWithClientPerTest(): (
  handler: (req: Received, index: number) => Reply,
  options: Omit<DmsClientOptions, "endpoint" | "projectId">,
) => Promise<{ server: FakeServer; client: DmsClient }> {
  let server: FakeServer | undefined;
  let client: DmsClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });
  return async (handler, options) => {
    server = await startFakeServer(handler);
    client = new DmsClient({ ...options, endpoint: new URL(server.url), projectId: "proj-1" });
    return { server, client };
  };
}

/** What a gateway does with a received request: rebuild the canonical request and compare Authorization. */
export function verifiesSignature(r: Received, secretKey: string): boolean {
  const auth = String(r.headers.authorization ?? "");
  const m = /^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(auth);
  if (!m) return false;
  const names = (m[2] as string).split(";");
  const headers: Record<string, string> = {};
  for (const n of names) headers[n] = String(r.headers[n] ?? "");
  const [rawPath, rawQuery = ""] = r.url.split("?");
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) (query[k] ??= []).push(v);
  const canonical = canonicalRequest({ method: r.method, encodedPath: canonicalUriFromReceived(rawPath as string), query, headers, body: r.body });
  const expected = authorizationHeader(m[1] as string, signedHeaderNames(headers), signature(secretKey, stringToSign(headers["x-sdk-date"] ?? "", canonical)));
  return expected === auth;
}

export const errorBody = (code: string, msg: string) => JSON.stringify({ error_code: code, error_msg: msg });

/**
 * Resolves on the first failed connection attempt to `port`, as undici reports it on its diagnostics channel:
 * the event a test waits for before it starts listening there (a refused connection reaches no server to tell).
 */
export function firstConnectError(port: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (String((message as { connectParams: { port: string | number } }).connectParams.port) !== port) return;
      unsubscribe("undici:client:connectError", onMessage);
      resolve();
    };
    subscribe("undici:client:connectError", onMessage);
  });
}
