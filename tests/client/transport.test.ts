// When a request is sent again, and what a caller learns when it is not: a read after anything that may
// pass; a write (the reset) only when DMS provably did not act on it, else its outcome is "unknown" and the
// server saw it exactly once. Tests wait on events (what the server received, undici's connect errors), not clocks.
import { Agent } from "undici";
import { RateLimiter } from "../../dms-local/rate-limit";
import { DmsClient, READ_RULE, WRITE_RULE } from "../../provider/dms/client";
import { DmsError, DmsUnreachableError } from "../../provider/dms/errors";
import { backoffMs, createDispatcher, retryAfterMs, type Attempt } from "../../provider/dms/transport";
import { errorBody, fakeServerWithClientPerTest, firstConnectError, startFakeServer, verifiesSignature, type FakeServer, type Reply } from "./fake-server";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET", securityToken: "TOKEN-TEST-777" };
const reset = { instanceId: "inst-1", group: "g1", topic: "orders", partition: 0, position: { messageOffset: 5n } };
const RESET_PATH = "/v2/kafka/proj-1/instances/inst-1/groups/g1/reset-message-offset";

const startWithClient = fakeServerWithClientPerTest();

function setup(handler: (index: number) => Reply, options: { deadlineMs?: number; baseDelayMs?: number; dispatcher?: ReturnType<typeof createDispatcher> } = {}) {
  return startWithClient((_r, i) => handler(i), {
    credentials,
    deadlineMs: options.deadlineMs ?? 10_000,
    retry: { baseDelayMs: options.baseDelayMs ?? 20, maxDelayMs: 200 },
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
}

const ok: Reply = { status: 204 };
const group: Reply = { status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY" } }) };
const inProgress: Reply = { status: 400, body: errorBody("DMS.00400026", "Another operation is in progress") };
/** What an API gateway in front of DMS answers when DMS is slow or gone: HTML, not DMS's JSON. */
const gatewayPage = (status: number): Reply => ({ status, body: `<html><body><h1>${status} Gateway error</h1></body></html>`, headers: { "content-type": "text/html" } });

/** A port nothing listens on (until a test starts something there). */
async function freePort(): Promise<string> {
  const s = await startFakeServer(() => ok);
  await s.close();
  return new URL(s.url).port;
}

describe("the rules", () => {
  const answer = (status: number, body = ""): Attempt => ({ kind: "answer", status, body });
  const cases: [string, Attempt, boolean, boolean][] = [
    // what happened, read sent again, write sent again
    ["connection refused", { kind: "unsent", code: "ECONNREFUSED", reason: "" }, true, true],
    ["connect timeout", { kind: "unsent", code: "UND_ERR_CONNECT_TIMEOUT", reason: "" }, true, true],
    ["transient DNS failure", { kind: "unsent", code: "EAI_AGAIN", reason: "" }, true, true],
    ["unknown host", { kind: "unsent", code: "ENOTFOUND", reason: "" }, false, false],
    ["untrusted certificate", { kind: "unsent", code: "DEPTH_ZERO_SELF_SIGNED_CERT", reason: "" }, false, false],
    ["closed after the write", { kind: "unanswered", code: "UND_ERR_SOCKET", reason: "" }, true, false],
    ["reset after the write", { kind: "unanswered", code: "ECONNRESET", reason: "" }, true, false],
    ["headers timeout", { kind: "unanswered", code: "UND_ERR_HEADERS_TIMEOUT", reason: "" }, true, false],
    ["429", answer(429, errorBody("APIG.0308", "throttled")), true, true],
    ["DMS.00400026", answer(400, errorBody("DMS.00400026", "in progress")), true, true],
    ["another 400", answer(400, errorBody("DMS.00400003", "not empty")), false, false],
    ["a 400 that only mentions DMS.00400026", answer(400, errorBody("DMS.00400062", "not DMS.00400026")), false, false],
    ["500", answer(500), true, false],
    ["502", answer(502), true, false],
    ["503", answer(503), true, false],
    ["504", answer(504), true, false],
    ["501", answer(501), false, false],
    ["204", answer(204), false, false],
  ];
  test.each(cases)("%s: read %p, write %p", (_what, attempt, read, write) => {
    expect(READ_RULE(attempt)).toBe(read);
    expect(WRITE_RULE(attempt)).toBe(write);
  });
});

describe("a read is sent again after anything that may pass", () => {
  test.each([
    ["a dropped connection", { drop: true } as Reply],
    ["500", { status: 500, body: errorBody("DMS.00500000", "oops") } as Reply],
    ["502 from a gateway", gatewayPage(502)],
    ["503", { status: 503, body: errorBody("DMS.00503000", "busy") } as Reply],
    ["504 from a gateway", gatewayPage(504)],
    ["429", { status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "0" } } as Reply],
    ["DMS.00400026", inProgress],
  ])("%s: the same request, signed again", async (_what, first) => {
    const { server, client } = await setup((i) => (i === 0 ? first : group));
    await expect(client.showGroup("inst-1", "g1")).resolves.toEqual({ group: "g1", state: "EMPTY" });
    expect(server.received).toHaveLength(2);
    const [a, b] = server.received;
    expect(`${b?.method} ${b?.url}`).toBe(`${a?.method} ${a?.url}`);
    expect(verifiesSignature(b!, credentials.secretKey)).toBe(true);
  });

  test("a server that never answers hits the headers timeout, retried within the deadline", async () => {
    // undici checks headers timeouts on a coarse clock (about once a second), so the deadline leaves room for two.
    const dispatcher = createDispatcher({ headersTimeoutMs: 150, env: {} });
    try {
      const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 10_000, dispatcher });
      const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err.message).toMatch(/^DMS GET \/v2\/proj-1\/instances\/inst-1\/groups\/g1 failed: /);
      expect(err.delivery).toBe("unknown");
      expect(server.received.length).toBeGreaterThan(1);
    } finally {
      await dispatcher.close();
    }
  });
});

describe("a write is sent again only when DMS provably did not act on it", () => {
  test("connection refused: sent again, and applied once the endpoint listens", async () => {
    const port = await freePort();
    const client = new DmsClient({ endpoint: new URL(`http://127.0.0.1:${port}`), projectId: "proj-1", credentials, deadlineMs: 20_000, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
    let server: FakeServer | undefined;
    try {
      const refused = firstConnectError(port);
      const outcome = client.resetMessageOffset(reset);
      await refused;
      server = await startFakeServer(() => ok, undefined, Number(port));
      await expect(outcome).resolves.toEqual({ outcome: "applied", requestId: "req-1" });
      expect(server.received.map((r) => `${r.method} ${r.url}`)).toEqual([`PUT ${RESET_PATH}`]);
    } finally {
      await client.close();
      await server?.close();
    }
  });

  test("refused until the deadline: DmsUnreachableError, delivery unsent, the code named", async () => {
    const port = await freePort();
    const c = new DmsClient({ endpoint: new URL(`http://127.0.0.1:${port}`), projectId: "p", credentials, deadlineMs: 600, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
    const started = Date.now();
    const refusals = firstConnectError(port);
    try {
      const err = (await c.resetMessageOffset(reset).catch((e: unknown) => e)) as DmsUnreachableError;
      await refusals;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err).toMatchObject({ code: "ECONNREFUSED", delivery: "unsent", deadlinePassed: true });
      expect(err.message).toMatch(/^DMS PUT \/v2\/kafka\/p\/instances\/inst-1\/groups\/g1\/reset-message-offset failed: ECONNREFUSED/);
      // Retried, not given up at the first refusal: it took most of the deadline.
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await c.close();
    }
  });

  test("an unresolvable host: never sent, delivery unsent", async () => {
    const c = new DmsClient({ endpoint: new URL("http://dms.invalid"), projectId: "p", credentials, deadlineMs: 3000, retry: { baseDelayMs: 50, maxDelayMs: 200 } });
    try {
      const err = (await c.resetMessageOffset(reset).catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err.delivery).toBe("unsent");
    } finally {
      await c.close();
    }
  });

  test("429 is sent again after the Retry-After the server asked for", async () => {
    const { server, client } = await setup((i) => (i === 0 ? { status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "2" } } : ok));
    await expect(client.resetMessageOffset(reset)).resolves.toEqual({ outcome: "applied", requestId: "req-2" });
    expect(server.received).toHaveLength(2);
    const waited = (server.received[1]?.at ?? 0) - (server.received[0]?.at ?? 0);
    // Without Retry-After the retry would wait one turn of the endpoint's pace, a second at most (MIN_RATE);
    // two seconds can only come from Retry-After. (The deadline, 10 s, bounds it from above.)
    expect(waited).toBeGreaterThanOrEqual(1950);
  });

  test("DMS.00400026 (operation in progress) is sent again, each attempt signed again", async () => {
    let tick = Date.UTC(2026, 0, 1);
    const { server, client } = await startWithClient((_r, i) => (i < 2 ? inProgress : ok), {
      credentials,
      retry: { baseDelayMs: 20, maxDelayMs: 50 },
      clock: () => new Date((tick += 1000)),
    });
    await expect(client.resetMessageOffset(reset)).resolves.toEqual({ outcome: "applied", requestId: "req-3" });
    expect(server.received).toHaveLength(3);
    expect(new Set(server.received.map((r) => r.headers["x-sdk-date"])).size).toBe(3);
    expect(server.received.every((r) => verifiesSignature(r, credentials.secretKey))).toBe(true);
  });

  test("a connection dropped after the request was sent: not sent again, outcome unknown", async () => {
    const { server, client } = await setup(() => ({ drop: true }));
    const outcome = await client.resetMessageOffset(reset);
    expect(outcome).toEqual({ outcome: "unknown", reason: expect.stringMatching(/^DMS PUT \/v2\/kafka\/proj-1\/.*\/reset-message-offset failed: /) });
    expect(server.received.map((r) => r.method)).toEqual(["PUT"]);
  });

  test.each([
    [500, { status: 500, body: errorBody("DMS.00500000", "Internal service error") } as Reply],
    [502, gatewayPage(502)],
    [503, { status: 503, body: errorBody("DMS.00503000", "busy") } as Reply],
    [504, gatewayPage(504)],
  ])("%d: not sent again (it may come after DMS applied it), outcome unknown with the status", async (status, reply) => {
    const { server, client } = await setup(() => reply);
    const outcome = await client.resetMessageOffset(reset);
    expect(outcome).toEqual({ outcome: "unknown", status, requestId: "req-1", reason: expect.stringContaining(`failed: ${status} `) });
    expect(server.received).toHaveLength(1);
  });

  test("the headers timeout: not sent again, outcome unknown", async () => {
    const dispatcher = createDispatcher({ headersTimeoutMs: 150, env: {} });
    try {
      const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 20_000, dispatcher });
      const outcome = await client.resetMessageOffset(reset);
      expect(outcome).toEqual({ outcome: "unknown", reason: expect.stringMatching(/UND_ERR_HEADERS_TIMEOUT/) });
      expect(server.received).toHaveLength(1);
    } finally {
      await dispatcher.close();
    }
  });

  test("the deadline while the request is in flight: outcome unknown", async () => {
    const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 400 });
    const outcome = await client.resetMessageOffset(reset);
    expect(outcome).toEqual({ outcome: "unknown", reason: expect.stringMatching(/no answer within the 400 ms deadline$/) });
    expect(server.received).toHaveLength(1);
  });

  test("a 429 and then a lost answer: unknown, not the 429's refusal", async () => {
    const { server, client } = await setup((i) => (i === 0 ? { status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "0" } } : { drop: true }));
    await expect(client.resetMessageOffset(reset)).resolves.toMatchObject({ outcome: "unknown" });
    expect(server.received).toHaveLength(2);
  });

  test("the deadline before any connection took the request: never sent, delivery unsent", async () => {
    // One connection, held by a read that hangs: the reset waits in the pool's queue past its deadline.
    const dispatcher = new Agent({ connections: 1 });
    const server = await startFakeServer((r, i) => (r.method === "GET" && i === 0 ? { hang: true } : r.method === "GET" ? group : ok));
    const client = (deadlineMs: number) => new DmsClient({ endpoint: new URL(server.url), projectId: "proj-1", credentials, dispatcher, deadlineMs });
    try {
      const hanging = client(1500).showGroup("inst-1", "g1").catch((e: unknown) => e);
      const err = (await client(300).resetMessageOffset(reset).catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err).toMatchObject({ delivery: "unsent", deadlinePassed: true });
      expect(err.message).toMatch(/no connection took the request/);
      // The read's own deadline frees the connection; the queued reset gets its turn first and is dropped
      // there unsent, then a later read goes through: by then the server has seen no PUT.
      expect(await hanging).toMatchObject({ delivery: "unknown", deadlinePassed: true });
      await expect(client(10_000).showGroup("inst-1", "g1")).resolves.toEqual({ group: "g1", state: "EMPTY" });
      expect(server.received.map((r) => r.method)).toEqual(["GET", "GET"]);
    } finally {
      await server.close();
      await dispatcher.close();
    }
  });

  test.each([
    [400, "DMS.00400003", "Consumer group is not empty"],
    [401, "APIG.0301", "Incorrect IAM authentication information"],
    [403, "DMS.00403000", "Forbidden"],
    [404, "DMS.00404022", "The group does not exist"],
    [409, "DMS.00409000", "Conflict"],
  ])("%d %s is a refusal: exactly one request, a DmsError with every field", async (status, code, msg) => {
    const { server, client } = await setup(() => ({ status, body: errorBody(code, msg) }));
    const err = (await client.resetMessageOffset(reset).catch((e: unknown) => e)) as DmsError;
    expect(server.received).toHaveLength(1);
    expect(err).toBeInstanceOf(DmsError);
    expect(err).toMatchObject({ status, errorCode: code, errorMsg: msg, requestId: "req-1", method: "PUT", path: RESET_PATH });
    expect(err.message).toBe(`DMS PUT ${RESET_PATH} failed: ${status} ${code} ${JSON.stringify(msg)} (request id req-1)`);
  });
});

describe("the deadline bounds everything", () => {
  test("a read's retries stop at the deadline and report the last answer's error_code", async () => {
    const { server, client } = await setup(() => ({ status: 503, body: errorBody("DMS.00503000", "busy") }), { deadlineMs: 3000, baseDelayMs: 50 });
    const started = Date.now();
    const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsError;
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(DmsError);
    expect(err).toMatchObject({ status: 503, errorCode: "DMS.00503000", errorMsg: "busy" });
    expect(server.received.length).toBeGreaterThan(2);
    // Retried until less than one backoff (200 ms at most here) was left. No upper bound: retries that went
    // on would run into the test's timeout.
    expect(took).toBeGreaterThanOrEqual(3000 - 200);
  });

  test("a Retry-After beyond the deadline is not waited for, by this client or any other of the endpoint", async () => {
    const { server, client } = await setup(() => ({ status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "60" } }), { deadlineMs: 20_000 });
    // A write refused by throttling until the deadline is a refusal: nothing was applied.
    await expect(client.resetMessageOffset(reset)).rejects.toMatchObject({ status: 429, errorCode: "APIG.0308" });
    expect(server.received).toHaveLength(1);
    // Another client of the same endpoint gets no turn before the Retry-After either: it fails without sending.
    const other = new DmsClient({ endpoint: new URL(server.url), projectId: "proj-1", credentials, deadlineMs: 20_000 });
    try {
      const err = (await other.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err.message).toBe("DMS GET /v2/proj-1/instances/inst-1/groups/g1 failed: the endpoint is throttling and has no free turn within the 20000 ms deadline");
      expect(err).toMatchObject({ delivery: "unsent", deadlinePassed: true });
      expect(server.received).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  test("DMS.00400026 that never clears ends at the deadline as a refusal", async () => {
    const { server, client } = await setup(() => inProgress, { deadlineMs: 3000, baseDelayMs: 40 });
    await expect(client.resetMessageOffset(reset)).rejects.toMatchObject({ status: 400, errorCode: "DMS.00400026" });
    expect(server.received.length).toBeGreaterThan(1);
  });

  test("a read still waiting for an answer at the deadline ends there", async () => {
    const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 400 });
    const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.message).toMatch(/no answer within the 400 ms deadline/);
    expect(err).toMatchObject({ delivery: "unknown", deadlinePassed: true });
    expect(server.received).toHaveLength(1);
  });
});

describe("throttling", () => {
  test("the clients of an endpoint that throttles take turns: every request answered, few refused", async () => {
    // The gateway's limit and what it answers beyond it (APIG.0308, no Retry-After), as dms-local does.
    const limit = 20;
    const gateway = new RateLimiter(limit);
    // The first 30 requests count as arriving at one instant, so the first burst is over the limit even on a
    // machine too loaded to send 20 requests in a real second; after them, the gateway counts real time.
    const t0 = Date.now();
    let arrived = 0;
    const server = await startFakeServer(() =>
      gateway.admit(arrived++ < 30 ? t0 : Date.now())
        ? group
        : { status: 429, body: errorBody("APIG.0308", `The throttling threshold has been reached: policy user over ratelimit,limit:${limit},time:1 second`) },
    );
    // Three clients (as the resource host makes one per operation), four callers each, five requests in a row per caller.
    const clients = [1, 2, 3].map(() => new DmsClient({ endpoint: new URL(server.url), projectId: "proj-1", credentials, deadlineMs: 30_000 }));
    try {
      const callers = clients.flatMap((c) => [1, 2, 3, 4].map(async () => {
        for (let i = 0; i < 5; i++) await c.showGroup("inst-1", "g1");
      }));
      await Promise.all(callers);
      const refused = server.received.length - 60;
      // The first burst beyond the limit is refused (nobody knows the limit yet: about one request per caller);
      // after that the callers wait for turns that the gateway admits, instead of each coming back on its own
      // backoff to be refused again (that refused about 40 requests here).
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(25);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    }
  });
});

describe("backoff and Retry-After", () => {
  const policy = { deadlineMs: 60_000, baseDelayMs: 100, maxDelayMs: 1000 };

  test("doubles per retry up to the cap, jittered within the upper half", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1000].map((v) => expect.closeTo(v, 2)));
  });

  test("Retry-After in seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-24T02:00:00Z");
    expect(retryAfterMs("2", now)).toBe(2000);
    expect(retryAfterMs("Tue, 24 Nov 2026 02:00:03 GMT", now)).toBe(3000);
    expect(retryAfterMs("Tue, 24 Nov 2026 01:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
  });
});
