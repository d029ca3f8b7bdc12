// The path we sign must be the path that arrives: a request for a tricky group name goes through
// undici to a node:http server, which checks the bytes it received and verifies the signature the
// way the gateway does (decode and re-encode each path segment, then the same stages).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { canonicalQuery, canonicalUri, canonicalUriFromReceived, encodePath, type Query } from "../../provider/dms/signing/encoding";
import { stringifyJson } from "../../provider/dms/json";
import { canonicalRequest, signRequest, signature, stringToSign, type Credentials } from "../../provider/dms/signing/signer";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

const credentials: Credentials = {
  accessKey: "WIREACCESSKEY0000001",
  secretKey: "wire-secret-key-000000000000000000000000",
  securityToken: "wire-security-token",
};
const projectId = "0123456789abcdef0123456789abcdef";
const instanceId = "3b2c6f4e-1a7d-4c1e-9a55-6f1b2d3c4e5f";

let server: Server;
let origin: string;
let received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

beforeEach(() => {
  received = [];
});

/** Send a signed reset request for `group` and return what the server received. */
async function send(group: string, query: Query): Promise<{ sentPath: string; got: Received }> {
  const sentPath = encodePath(["v2", projectId, "instances", instanceId, "groups", group, "reset-message-offset"]);
  const body = stringifyJson({ topic: group, partition: -1, message_offset: 9007199254740993n });
  const headers = signRequest(
    { method: "POST", host: "dms.cn-north-4.myhuaweicloud.com", encodedPath: sentPath, query, body, projectId },
    credentials,
    new Date(),
  );
  const queryString = canonicalQuery(query);
  const res = await request(`${origin}${sentPath}${queryString === "" ? "" : `?${queryString}`}`, { method: "POST", headers, body });
  await res.body.dump();
  expect(res.statusCode).toBe(204);
  expect(received).toHaveLength(1);
  return { sentPath, got: received[0] as Received };
}

/** The query as a gateway reads it back: each key and value decoded, repeated keys gathered. */
function receivedQuery(search: string): Query {
  const query: Record<string, string[]> = {};
  for (const pair of search === "" ? [] : search.split("&")) {
    const [k = "", v = ""] = pair.split("=");
    (query[decodeURIComponent(k)] ??= []).push(decodeURIComponent(v));
  }
  return query;
}

/** The signature a gateway computes over the request it received. */
function gatewaySignature(got: Received): string {
  const [path = "", search = ""] = got.url.split("?");
  const names = /SignedHeaders=([^,]*),/.exec(String(got.headers.authorization))?.[1]?.split(";") ?? [];
  const headers = Object.fromEntries(names.map((n) => [n, String(got.headers[n])]));
  const canonical = canonicalRequest({
    method: got.method,
    encodedPath: canonicalUriFromReceived(path),
    query: receivedQuery(search),
    headers,
    body: got.body,
  });
  return signature(credentials.secretKey, stringToSign(String(got.headers["x-sdk-date"]), canonical));
}

test.each([
  "订单-消费组",
  "😀-astral",
  "a+b",
  "50%off",
  "%41",
  "ns:group",
  "user@team",
  "k=v",
  "wow!",
  "glob*",
  "it's",
  "(x)",
  "+%:@=!*'()",
  "a b",
  "a/b",
  "~tilde.dot_under-score",
])("group %j: the path received is the path signed, and the gateway's signature matches", async (group) => {
  const { sentPath, got } = await send(group, { topic: group, limit: ["10", "2"] });
  const [receivedPath = "", receivedSearch = ""] = got.url.split("?");
  // Printable ASCII only, so that equal strings are equal bytes.
  expect(sentPath).toMatch(/^[!-~]+$/);
  expect(receivedPath).toBe(sentPath);
  expect(canonicalUriFromReceived(receivedPath)).toBe(canonicalUri(sentPath));
  expect(receivedQuery(receivedSearch)).toEqual({ topic: [group], limit: ["10", "2"] });
  expect(got.headers.authorization?.split("Signature=")[1]).toBe(gatewaySignature(got));
});

// The URL parser (WHATWG, in undici as in browsers and gateways) resolves dot segments, encoded or
// not, so a group named "." or ".." cannot be addressed in a path at all.
test.each([".", ".."])("group %j does not arrive as sent", async (group) => {
  const { sentPath, got } = await send(group, {});
  expect(got.url).not.toBe(sentPath);
});
