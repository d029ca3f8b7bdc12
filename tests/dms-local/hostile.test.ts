// dms-local under hostile or malformed traffic: memory stays bounded whatever arrives (the request
// log keeps one short line of an unsigned request and a capped body of a signed one, bodies are held
// only for requests that may authenticate), an oversized body gets a 413 the client can read, values a
// Java long or int cannot hold are refused, and paths the API gateway would canonicalise are refused
// before routing, as the gateway does.
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { z } from "zod";
import { entryOf, KEPT_BODY_BYTES, LOG_LIMITS, RequestLog, sizeOf, UNAUTHENTICATED_PATH_CHARS } from "../../dms-local/request-log";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { ErrorBody, GroupMessageOffsetsPage } from "../../provider/dms/wire";
import { adminCall, INSTANCE_ID, paths, PROJECT_ID, signedCall, testSeed } from "./helpers";

const MIB = 1024 * 1024;

const Logged = z.object({
  requests: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      query: z.record(z.string(), z.unknown()),
      status: z.number().nullable(),
      requestId: z.string(),
      at: z.string(),
      body: z.string().nullable(),
      bodyBytes: z.number(),
      credential: z.number().nullable(),
    }),
  ),
  bytes: z.number(),
  limits: z.object({ entries: z.number(), bytes: z.number() }),
});

const servers: DmsLocal[] = [];
async function serve(options: Partial<Parameters<typeof startDmsLocal>[0]> = {}): Promise<DmsLocal> {
  const dms = await startDmsLocal({ seed: testSeed(), admin: true, ...options });
  servers.push(dms);
  return dms;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function logged(dms: DmsLocal): Promise<z.infer<typeof Logged>> {
  return Logged.parse((await adminCall(dms.url, "GET", "/__admin/requests")).json);
}

async function offsets(dms: DmsLocal, group: string): Promise<Map<number, bigint>> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.messageOffsets(group), query: { topic: "orders" } });
  return new Map(GroupMessageOffsetsPage.parse(res.json).group_message_offsets.map((r) => [r.partition, r.message_current_offset]));
}

/** One request exactly as written, on a connection of its own; resolves with everything the server sent back. */
function raw(url: string, head: string, body: Buffer | string = ""): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.write(head);
    socket.end(body);
  });
}

/** A path sent as given (node:http does not resolve dot segments), unsigned. */
function sendPath(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port: Number(port), path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("request log", () => {
  test("an unsigned request leaves one short line: method, path cut short, status, time; no query, no body", async () => {
    const dms = await serve();
    const longPath = `/v2/${"x".repeat(4000)}`;
    const res = await request(`${dms.url}${longPath}?${"q=" + "y".repeat(4000)}`, { method: "POST", body: Buffer.alloc(MIB, 0x61) });
    expect(res.statusCode).toBe(404);
    await res.body.text();
    const unsignedReset = await request(`${dms.url}/${paths.engineReset("g-idle").join("/")}`, { method: "PUT", body: '{"topic":"orders","partition":0,"message_offset":1}' });
    expect(unsignedReset.statusCode).toBe(401);
    await unsignedReset.body.text();

    const { requests } = await logged(dms);
    expect(requests).toEqual([
      { method: "POST", path: longPath.slice(0, UNAUTHENTICATED_PATH_CHARS), query: {}, status: 404, body: null, bodyBytes: MIB, credential: null, requestId: expect.any(String), at: expect.any(String) },
      expect.objectContaining({ method: "PUT", status: 401, body: null, query: {}, credential: null }),
    ]);
  });

  test("its memory is bounded by construction: many 1 MiB unsigned requests add a few hundred bytes each", async () => {
    const dms = await serve();
    const body = Buffer.alloc(MIB, 0x62);
    for (let i = 0; i < 24; i += 4) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const res = await request(`${dms.url}/v2/${PROJECT_ID}/anything?page=${"z".repeat(1000)}`, { method: "POST", body });
          await res.body.text();
        }),
      );
    }
    const log = await logged(dms);
    expect(log.requests).toHaveLength(24);
    expect(log.requests.every((r) => r.body === null && r.bodyBytes === MIB)).toBe(true);
    // What the log holds, as it counts it, and as it serves it.
    expect(log.bytes).toBeLessThan(24 * 1024);
    expect(JSON.stringify(log.requests).length).toBeLessThan(24 * 400);
  });

  test("one entry costs at most a fixed size whatever an unsigned request carries; the whole log stays under its byte limit", () => {
    const at = new Date();
    const huge = { method: "X".repeat(10_000), rawPath: `/${"p".repeat(MIB)}`, rawQuery: "q=".repeat(MIB), requestId: "0".repeat(32), at, body: Buffer.alloc(MIB), bodyBytes: MIB };
    const unsigned = entryOf(huge, 404, null, () => ({ q: "never read" }));
    expect(unsigned).toMatchObject({ body: null, query: {}, credential: null });
    const bound = 256 + 2 * (16 + UNAUTHENTICATED_PATH_CHARS + 32 + at.toISOString().length);
    expect(sizeOf(unsigned)).toBeLessThanOrEqual(bound);

    // Signed: the body is cut to KEPT_BODY_BYTES; the byte limit evicts the oldest entries.
    const signed = entryOf({ ...huge, method: "PUT", rawPath: `/${"p".repeat(16 * 1024)}` }, 204, 0, () => ({ topic: "t".repeat(8 * 1024) }));
    expect(signed.body).toHaveLength(KEPT_BODY_BYTES);
    const log = new RequestLog();
    for (let i = 0; i < 2_000; i++) log.record(signed);
    expect(log.bytes()).toBeLessThanOrEqual(LOG_LIMITS.bytes);
    expect(log.size()).toBe(Math.floor(LOG_LIMITS.bytes / sizeOf(signed)));
    for (let i = 0; i < LOG_LIMITS.entries + 10; i++) log.record(unsigned);
    const kept = Math.min(LOG_LIMITS.entries, Math.floor(LOG_LIMITS.bytes / sizeOf(unsigned)));
    expect(log.size()).toBe(kept);
    expect(log.bytes()).toBe(kept * sizeOf(unsigned));
    expect(log.list()[0]).toEqual(unsigned);
    // A short unsigned line, the common case, fits the entry limit.
    const typical = entryOf({ ...huge, method: "GET", rawPath: `/v2/${PROJECT_ID}/instances/${INSTANCE_ID}/groups/g-idle` }, 401, null, () => ({}));
    expect(LOG_LIMITS.entries * sizeOf(typical)).toBeLessThanOrEqual(LOG_LIMITS.bytes);
  });

  test("a signed request is logged with the first 4 KiB of its body and the body's full size", async () => {
    const dms = await serve();
    const body = `{"topic":"orders","partition":0,"message_offset":7}${" ".repeat(100_000)}`;
    const res = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body });
    expect(res.status).toBe(204);
    const entry = (await logged(dms)).requests.at(-1);
    expect(entry).toMatchObject({ status: 204, credential: 0, bodyBytes: body.length, body: body.slice(0, KEPT_BODY_BYTES) });
  });

  test("a signed request that a fault answers is logged in full (what a dropped write carried)", async () => {
    const dms = await serve();
    await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, status: 503 });
    const body = '{"topic":"orders","partition":0,"message_offset":9}';
    expect((await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body })).status).toBe(503);
    expect((await logged(dms)).requests.at(-1)).toMatchObject({ status: 503, credential: 0, body });
  });

  test("bodies held at once are capped: a signed request beyond the cap gets 429 APIG.0308; unsigned bodies are never held", async () => {
    const dms = await serve({ bodiesInFlightBytes: 64 });
    const big = `{"topic":"orders","partition":0,"message_offset":7}${" ".repeat(100)}`;
    const refused = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body: big });
    expect([refused.status, ErrorBody.parse(refused.json).error_code]).toEqual([429, "APIG.0308"]);
    const unsigned = await request(`${dms.url}/${paths.engineReset("g-idle").join("/")}`, { method: "PUT", body: big });
    expect(unsigned.statusCode).toBe(401);
    await unsigned.body.text();
    // The budget was given back: a small body passes.
    expect((await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body: '{"topic":"orders","partition":0,"message_offset":7}' })).status).toBe(204);
    expect((await offsets(dms, "g-idle")).get(0)).toBe(7n);
  });
});

describe("a body over 1 MiB", () => {
  const tooLarge = { error_code: "APIG.0201", error_msg: "API request error: the body is larger than 1 MiB" };

  test("declared by Content-Length: 413 with the gateway's error body and Connection: close, nothing read", async () => {
    const dms = await serve();
    const res = await request(`${dms.url}/${paths.engineReset("g-idle").join("/")}`, { method: "PUT", body: Buffer.alloc(2 * MIB) });
    expect(res.statusCode).toBe(413);
    expect(res.headers["connection"]).toBe("close");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    expect(await res.body.json()).toEqual(tooLarge);
    expect((await logged(dms)).requests).toEqual([expect.objectContaining({ status: 413, body: null, credential: null })]);
  });

  test("sent chunked, without a length: 413 once past 1 MiB", async () => {
    const dms = await serve();
    const chunks = Readable.from((function* () {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(MIB);
    })());
    const res = await request(`${dms.url}/v2/x`, { method: "POST", body: chunks });
    expect(res.statusCode).toBe(413);
    expect(await res.body.json()).toEqual(tooLarge);
  });

  test("a client that sends everything before it reads still reads the 413 (no reset); the server serves on", async () => {
    const dms = await serve();
    const head = `POST /v2/x HTTP/1.1\r\nHost: dms\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const body = Buffer.concat([...Array.from({ length: 3 }, () => Buffer.concat([Buffer.from(`${MIB.toString(16)}\r\n`), Buffer.alloc(MIB, 0x63), Buffer.from("\r\n")])), Buffer.from("0\r\n\r\n")]);
    const answer = await raw(dms.url, head, body);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(answer.slice(answer.indexOf("\r\n\r\n") + 4)).toBe(JSON.stringify(tooLarge));
    expect((await signedCall(dms.url, { method: "GET", segments: paths.showGroup("g-idle") })).status).toBe(200);
  });

  test("exactly 1 MiB is still read (and answered as any request)", async () => {
    const dms = await serve();
    const res = await request(`${dms.url}/v2/x`, { method: "POST", body: Buffer.alloc(MIB) });
    expect(res.statusCode).toBe(404);
    await res.body.text();
  });
});

describe("values a Java long or int cannot hold", () => {
  test.each([
    ['"message_offset":99999999999999999999999', "message_offset"],
    ['"message_offset":-9223372036854775809', "message_offset"],
    ['"message_offset":"9223372036854775808"', "message_offset"],
    ['"timestamp":9223372036854775808', "timestamp"],
    ['"timestamp":-99999999999999999999', "timestamp"],
  ])("%s → 400 DMS.00400062 naming %s, nothing applied", async (field, name) => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body: `{"topic":"orders","partition":0,${field}}` });
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.json)).toMatchObject({ error_code: "DMS.00400062", error_msg: expect.stringContaining(`Invalid ${name} parameter`) });
    expect(ErrorBody.parse(res.json).error_msg).toContain("64-bit");
    expect(await offsets(dms, "g-idle")).toEqual(new Map([[0, 900n], [1, 950n], [2, 450n]]));
  });

  test.each(["2147483648", "-2147483649", "99999999999"])("partition %s → 400 naming partition", async (partition) => {
    const dms = await serve();
    const res = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body: `{"topic":"orders","partition":${partition},"message_offset":1}` });
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.json)).toMatchObject({ error_code: "DMS.00400062", error_msg: expect.stringContaining("Invalid partition parameter") });
  });

  test("the int64 extremes themselves are accepted and clamped to the log", async () => {
    const dms = await serve();
    const reset = (field: string) => signedCall(dms.url, { method: "PUT", segments: paths.engineReset("g-idle"), body: `{"topic":"orders","partition":1,${field}}` });
    expect((await reset('"message_offset":-9223372036854775808')).status).toBe(204);
    expect((await offsets(dms, "g-idle")).get(1)).toBe(100n);
    expect((await reset('"timestamp":9223372036854775807')).status).toBe(204);
    expect((await offsets(dms, "g-idle")).get(1)).toBe(1000n);
  });
});

describe("paths the API gateway canonicalises", () => {
  test("a group name holding '/' (sent as %2F), correctly signed: 401 APIG.0301 before routing, nothing applied", async () => {
    const dms = await serve({ seed: testSeed((s) => (s.instances[0]!.groups!["team/billing"] = { state: "EMPTY", offsets: { "orders/0": 5 } })) });
    const reset = await signedCall(dms.url, { method: "PUT", segments: paths.engineReset("team/billing"), body: '{"topic":"orders","partition":0,"message_offset":1}' });
    expect(reset.status).toBe(401);
    expect(ErrorBody.parse(reset.json)).toMatchObject({ error_code: "APIG.0301", error_msg: expect.stringContaining("%2F") });
    // Also where no route would match: the gateway refuses before routing.
    const nowhere = await sendPath(dms.url, "/v2/a%2Fb/nothing");
    expect([nowhere.status, ErrorBody.parse(JSON.parse(nowhere.body)).error_code]).toEqual([401, "APIG.0301"]);
    expect(await dms.world.committedOffsets(INSTANCE_ID, "team/billing")).toEqual([{ topic: "orders", partition: 0, offset: 5n }]);
    expect((await logged(dms)).requests.map((r) => [r.status, r.credential])).toEqual([
      [401, null],
      [401, null],
    ]);
  });

  test.each(["/./", "/../groups/", "/%2e/", "/%2E%2E/groups/", "/.%2e/groups/"])("a dot segment (%s) → 401 APIG.0301", async (dots) => {
    const dms = await serve();
    const res = await sendPath(dms.url, `/v2/${PROJECT_ID}/instances/${INSTANCE_ID}/groups${dots}g-idle`);
    expect(res.status).toBe(401);
    expect(ErrorBody.parse(JSON.parse(res.body))).toMatchObject({ error_code: "APIG.0301", error_msg: expect.stringContaining("'..'") });
  });

  test("names that only contain dots are names: '...' and 'g.idle' are routed", async () => {
    const dms = await serve();
    for (const group of ["...", "g.idle"]) {
      const res = await signedCall(dms.url, { method: "GET", segments: paths.showGroup(group) });
      expect([res.status, ErrorBody.parse(res.json).error_code]).toEqual([404, "DMS.00404046"]);
    }
  });
});

test("the admin API is refused on a non-loopback address unless adminOnNetwork says so", async () => {
  await expect(startDmsLocal({ seed: testSeed(), admin: true, host: "0.0.0.0" })).rejects.toThrow(/admin API would be open to the network on 0\.0\.0\.0/);
  const open = await serve({ host: "0.0.0.0", adminOnNetwork: true });
  expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  // Loopback addresses need nothing more.
  await serve({ host: "localhost" });
});
