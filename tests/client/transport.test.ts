import { RateLimiter } from "../../dms-local/rate-limit";
import { DmsClient } from "../../provider/dms/client";
import { DmsError, DmsUnreachableError } from "../../provider/dms/errors";
import { backoffMs, createDispatcher, retryAfterMs } from "../../provider/dms/transport";
import { errorBody, fakeServerWithClientPerTest, startFakeServer, verifiesSignature, type Reply } from "./fake-server";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET", securityToken: "TOKEN-TEST-777" };
const reset = { instanceId: "inst-1", group: "g1", topic: "orders", partition: 0, position: { messageOffset: 5n } };

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

describe("retries", () => {
  test("429 is retried after the Retry-After the server asked for", async () => {
    const { server, client } = await setup((i) => (i === 0 ? { status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "2" } } : ok));
    await expect(client.resetMessageOffset(reset)).resolves.toEqual({ requestId: "req-2" });
    expect(server.received).toHaveLength(2);
    const waited = (server.received[1]?.at ?? 0) - (server.received[0]?.at ?? 0);
    // Without Retry-After the retry would wait one turn of the endpoint's pace, a second at most (MIN_RATE);
    // two seconds can only come from Retry-After. (The deadline, 10 s, bounds it from above.)
    expect(waited).toBeGreaterThanOrEqual(1950);
  });

  test.each([500, 502, 503, 504])("%d is retried: the same request, signed again", async (status) => {
    const { server, client } = await setup((i) => (i === 0 ? { status, body: errorBody("DMS.00500000", "oops") } : ok));
    await client.resetMessageOffset(reset);
    expect(server.received).toHaveLength(2);
    const [first, second] = server.received;
    expect(`${second?.method} ${second?.url}`).toBe(`${first?.method} ${first?.url}`);
    expect(second?.body.equals(first?.body ?? Buffer.alloc(0))).toBe(true);
    expect(verifiesSignature(second!, credentials.secretKey)).toBe(true);
  });

  test("a dropped connection is retried", async () => {
    const { server, client } = await setup((i) => (i === 0 ? { drop: true } : ok));
    await expect(client.resetMessageOffset(reset)).resolves.toEqual({ requestId: "req-2" });
    expect(server.received).toHaveLength(2);
  });

  test("a refused connection is retried until the deadline, then reported without a status", async () => {
    const { server } = await setup(() => ok);
    const url = server.url;
    await server.close();
    const started = Date.now();
    const c = new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, deadlineMs: 600, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
    try {
      const err = await c.resetMessageOffset(reset).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect((err as DmsUnreachableError).code).toBe("ECONNREFUSED");
      expect((err as Error).message).toMatch(/^DMS PUT \/v2\/kafka\/p\/instances\/inst-1\/groups\/g1\/reset-message-offset failed: ECONNREFUSED/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await c.close();
    }
  });

  test("DMS.00400026 (operation in progress) is retried, each attempt signed again", async () => {
    let tick = Date.UTC(2026, 0, 1);
    const { server, client } = await startWithClient((_r, i) => (i < 2 ? { status: 400, body: errorBody("DMS.00400026", "Another operation is in progress") } : ok), {
      credentials,
      retry: { baseDelayMs: 20, maxDelayMs: 50 },
      clock: () => new Date((tick += 1000)),
    });
    await expect(client.resetMessageOffset(reset)).resolves.toEqual({ requestId: "req-3" });
    expect(server.received).toHaveLength(3);
    const dates = server.received.map((r) => r.headers["x-sdk-date"]);
    expect(new Set(dates).size).toBe(3);
    expect(server.received.every((r) => verifiesSignature(r, credentials.secretKey))).toBe(true);
  });

  test.each([
    [400, "DMS.00400003", "Consumer group is not empty"],
    [401, "APIG.0301", "Incorrect IAM authentication information"],
    [403, "DMS.00403000", "Forbidden"],
    [404, "DMS.00404022", "The group does not exist"],
    [409, "DMS.00409000", "Conflict"],
  ])("%d %s is not retried: exactly one request, a DmsError with every field", async (status, code, msg) => {
    const { server, client } = await setup(() => ({ status, body: errorBody(code, msg) }));
    const err = (await client.resetMessageOffset(reset).catch((e: unknown) => e)) as DmsError;
    expect(server.received).toHaveLength(1);
    expect(err).toBeInstanceOf(DmsError);
    expect(err).toMatchObject({ status, errorCode: code, errorMsg: msg, requestId: "req-1", method: "PUT", path: "/v2/kafka/proj-1/instances/inst-1/groups/g1/reset-message-offset" });
    expect(err.message).toBe(`DMS PUT /v2/kafka/proj-1/instances/inst-1/groups/g1/reset-message-offset failed: ${status} ${code} ${JSON.stringify(msg)} (request id req-1)`);
  });

  test("retries stop at the deadline and report the last answer's error_code", async () => {
    const { server, client } = await setup(() => ({ status: 503, body: errorBody("DMS.00503000", "busy") }), { deadlineMs: 800, baseDelayMs: 50 });
    const started = Date.now();
    const err = (await client.resetMessageOffset(reset).catch((e: unknown) => e)) as DmsError;
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(DmsError);
    expect(err).toMatchObject({ status: 503, errorCode: "DMS.00503000", errorMsg: "busy" });
    expect(server.received.length).toBeGreaterThan(2);
    // Retried until less than one backoff (200 ms at most here) was left; then no more. The upper bound is
    // generous (a loaded machine runs late), but retries that went on would last until the test times out.
    expect(took).toBeGreaterThanOrEqual(800 - 200);
    expect(took).toBeLessThan(800 + 5000);
  });

  test("a Retry-After beyond the deadline is not waited for, by this client or any other of the endpoint", async () => {
    const { server, client } = await setup(() => ({ status: 429, body: errorBody("APIG.0308", "throttled"), headers: { "retry-after": "60" } }), { deadlineMs: 20_000 });
    const started = Date.now();
    await expect(client.resetMessageOffset(reset)).rejects.toMatchObject({ status: 429, errorCode: "APIG.0308" });
    expect(server.received).toHaveLength(1);
    // Waiting for the Retry-After (60 s) or until the deadline (20 s) would take far longer than this generous bound.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Another client of the same endpoint gets no turn before the Retry-After either: it fails without sending.
    const other = new DmsClient({ endpoint: new URL(server.url), projectId: "proj-1", credentials, deadlineMs: 20_000 });
    try {
      const err = (await other.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err.message).toBe("DMS GET /v2/proj-1/instances/inst-1/groups/g1 failed: the endpoint is throttling and has no free turn within the 20000 ms deadline");
      expect(server.received).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await other.close();
    }
  });

  test("DMS.00400026 that never clears ends at the deadline with its own error", async () => {
    const { server, client } = await setup(() => ({ status: 400, body: errorBody("DMS.00400026", "in progress") }), { deadlineMs: 500, baseDelayMs: 40 });
    await expect(client.resetMessageOffset(reset)).rejects.toMatchObject({ status: 400, errorCode: "DMS.00400026" });
    expect(server.received.length).toBeGreaterThan(1);
  });
});

describe("throttling", () => {
  test("the clients of an endpoint that throttles take turns: every request answered, few refused", async () => {
    // The gateway's limit and what it answers beyond it (APIG.0308, no Retry-After), as dms-local does.
    const limit = 20;
    const gateway = new RateLimiter(limit);
    const server = await startFakeServer(() =>
      gateway.admit(Date.now())
        ? { status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY" } }) }
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

describe("timeouts", () => {
  test("a server that never answers hits the headers timeout, retried within the deadline", async () => {
    // undici checks headers timeouts on a coarse clock (about once a second), so the deadline leaves room for two.
    const dispatcher = createDispatcher({ headersTimeoutMs: 150, env: {} });
    try {
      const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 3500, dispatcher });
      const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
      expect(err).toBeInstanceOf(DmsUnreachableError);
      expect(err.message).toMatch(/^DMS GET \/v2\/proj-1\/instances\/inst-1\/groups\/g1 failed: /);
      expect(server.received.length).toBeGreaterThan(1);
    } finally {
      await dispatcher.close();
    }
  });

  test("the overall deadline ends an attempt still waiting for an answer", async () => {
    const { server, client } = await setup(() => ({ hang: true }), { deadlineMs: 400 });
    const started = Date.now();
    const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.message).toMatch(/no answer within the 400 ms deadline/);
    expect(server.received).toHaveLength(1);
    // Generous: left to itself, the attempt would wait for the 30 s headers timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
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
