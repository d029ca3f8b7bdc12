// The fault proxy itself, in front of the scriptable fake server: what it forwards, what the client gets
// for each action, what it records, and that rules match and run out as documented.
import { once } from "node:events";
import { Agent, request } from "undici";
import { DmsClient } from "../../provider/dms/client";
import { firstConnectError, startFakeServer, verifiesSignature, type FakeServer, type Received } from "../client/fake-server";
import { startFaultProxy, type FaultProxy } from "./fault-proxy";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET" };

let upstream: FakeServer;
let proxy: FaultProxy;
let agent: Agent;

beforeEach(async () => {
  upstream = await startFakeServer((r: Received) =>
    r.method === "GET"
      ? { status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY" } }), headers: { "x-upstream": "yes" } }
      : { status: 204 },
  );
  proxy = await startFaultProxy(upstream.url);
  agent = new Agent();
});

afterEach(async () => {
  await agent.close();
  await proxy.close();
  await upstream.close();
});

interface Failed {
  failed: string;
  code: string | undefined;
}

/** One request through the proxy: its status and body, or the error the client got (errors from Node's own realm are no jest-realm Error). */
async function send(method: "GET" | "PUT", path = "/v2/p/instances/i/groups/g1", body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> } | Failed> {
  try {
    const res = await request(`${proxy.url}${path}`, { method, dispatcher: agent, ...(body !== undefined && { body }) });
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
  } catch (e) {
    const err = e as { message?: string; code?: string };
    return { failed: String(err.message), code: err.code };
  }
}

describe("passing through", () => {
  test("method, path, body and Host reach the upstream as sent, so a signature made for the proxy verifies there", async () => {
    const client = new DmsClient({ endpoint: new URL(proxy.url), projectId: "p", credentials, dispatcher: agent });
    await expect(client.showGroup("i", "g1")).resolves.toEqual({ group: "g1", state: "EMPTY" });
    await expect(client.resetMessageOffset({ instanceId: "i", group: "g1", topic: "orders", partition: 0, position: { messageOffset: 5n } })).resolves.toMatchObject({ outcome: "applied" });
    expect(upstream.received.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /v2/p/instances/i/groups/g1", "PUT /v2/kafka/p/instances/i/groups/g1/reset-message-offset"]);
    expect(upstream.received.every((r) => r.headers.host === new URL(proxy.url).host && verifiesSignature(r, credentials.secretKey))).toBe(true);
    expect(upstream.received[1]?.body.toString()).toBe('{"partition":0,"topic":"orders","message_offset":5}');
    expect(proxy.requests).toEqual([
      expect.objectContaining({ method: "GET", fault: undefined, forwarded: true, upstreamStatus: 200, answered: 200 }),
      expect.objectContaining({ method: "PUT", fault: undefined, forwarded: true, upstreamStatus: 204, answered: 204, body: '{"partition":0,"topic":"orders","message_offset":5}' }),
    ]);
  });

  test("the upstream's headers and body come back", async () => {
    const res = await send("GET");
    expect(res).toMatchObject({ status: 200, headers: expect.objectContaining({ "x-upstream": "yes", "x-request-id": "req-1" }) });
    expect(JSON.parse((res as { body: string }).body)).toEqual({ group: { group_id: "g1", state: "EMPTY" } });
  });
});

describe("actions", () => {
  test("forward-then-drop: the upstream received it whole and answered; the client got no answer", async () => {
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "forward-then-drop" } });
    const res = await send("PUT", "/v2/reset", '{"partition":0}');
    expect(res).toMatchObject({ code: "UND_ERR_SOCKET" });
    expect(upstream.received.map((r) => r.body.toString())).toEqual(['{"partition":0}']);
    expect(proxy.requests[0]).toMatchObject({ fault: "forward-then-drop", forwarded: true, upstreamStatus: 204, answered: "dropped" });
    // Used up: the next one passes.
    await expect(send("PUT", "/v2/reset", "{}")).resolves.toMatchObject({ status: 204 });
    expect(proxy.pending()).toEqual([]);
  });

  test("forward-then-replace: a gateway's 504 page instead of the upstream's 204", async () => {
    proxy.add({ count: 1, action: { kind: "forward-then-replace", status: 504, body: "<html><body>504 Gateway Time-out</body></html>" } });
    const res = await send("PUT", "/v2/reset", "{}");
    expect(res).toMatchObject({ status: 504, body: "<html><body>504 Gateway Time-out</body></html>", headers: expect.objectContaining({ "content-type": "text/html" }) });
    expect(upstream.received).toHaveLength(1);
    expect(proxy.requests[0]).toMatchObject({ fault: "forward-then-replace", forwarded: true, upstreamStatus: 204, answered: 504 });
  });

  test("forward-then-delay: the answer is held, after the upstream answered, until the test releases it", async () => {
    proxy.add({ count: 1, action: { kind: "forward-then-delay" } });
    const pending = send("PUT", "/v2/reset", "{}");
    const held = await proxy.nextHeld();
    expect(upstream.received).toHaveLength(1);
    expect(held.request).toMatchObject({ forwarded: true, upstreamStatus: 204, answered: undefined });
    held.release();
    await expect(pending).resolves.toMatchObject({ status: 204 });
    expect(held.request.answered).toBe(204);
  });

  test("forward-then-delay with ms answers by itself, no sooner", async () => {
    proxy.add({ count: 1, action: { kind: "forward-then-delay", ms: 300 } });
    const started = Date.now();
    await expect(send("GET")).resolves.toMatchObject({ status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test("a held answer whose client has left is recorded as gone, when it leaves", async () => {
    proxy.add({ count: 1, action: { kind: "forward-then-delay" } });
    const controller = new AbortController();
    const pending = request(`${proxy.url}/v2/x`, { method: "GET", dispatcher: agent, signal: controller.signal }).catch((e: unknown) => e);
    const held = await proxy.nextHeld();
    controller.abort();
    expect(await pending).toMatchObject({ name: "AbortError" });
    await proxy.until((r) => r[0]?.answered === "gone");
    held.release();
    expect(held.request).toMatchObject({ forwarded: true, upstreamStatus: 200, answered: "gone" });
  });

  test("drop-before-forward: nothing reaches the upstream", async () => {
    proxy.add({ count: 1, action: { kind: "drop-before-forward" } });
    expect(await send("PUT", "/v2/reset", "{}")).toMatchObject({ code: "UND_ERR_SOCKET" });
    expect(upstream.received).toHaveLength(0);
    expect(proxy.requests[0]).toMatchObject({ fault: "drop-before-forward", forwarded: false, upstreamStatus: undefined, answered: "dropped" });
  });
});

describe("actions on the request itself", () => {
  test("hold-then-forward: the upstream sees nothing until the test releases the request, then answers the client", async () => {
    proxy.add({ count: 1, action: { kind: "hold-then-forward" } });
    const pending = send("PUT", "/v2/reset", '{"partition":1}');
    const held = await proxy.nextHeld();
    expect(upstream.received).toHaveLength(0);
    expect(held.request).toMatchObject({ fault: "hold-then-forward", forwarded: false, answered: undefined });
    held.release();
    await expect(pending).resolves.toMatchObject({ status: 204 });
    expect(upstream.received.map((r) => r.body.toString())).toEqual(['{"partition":1}']);
    expect(held.request).toMatchObject({ forwarded: true, upstreamStatus: 204, answered: 204 });
  });

  test("hold-then-forward: released after the client left, the upstream still acts on it (late)", async () => {
    proxy.add({ count: 1, action: { kind: "hold-then-forward" } });
    const controller = new AbortController();
    const pending = request(`${proxy.url}/v2/reset`, { method: "PUT", body: "{}", dispatcher: agent, signal: controller.signal }).catch((e: unknown) => e);
    const held = await proxy.nextHeld();
    controller.abort();
    expect(await pending).toMatchObject({ name: "AbortError" });
    await proxy.until((r) => r[0]?.answered === "gone");
    held.release();
    await proxy.until((r) => r[0]?.forwarded === true);
    expect(upstream.received).toHaveLength(1);
    expect(held.request).toMatchObject({ upstreamStatus: 204, answered: "gone" });
  });

  test("answer-instead: the client gets the refusal, the upstream nothing", async () => {
    proxy.add({ count: 1, action: { kind: "answer-instead", status: 400, body: '{"error_code":"DMS.00400062","error_msg":"no"}' } });
    await expect(send("PUT", "/v2/reset", "{}")).resolves.toMatchObject({ status: 400, body: '{"error_code":"DMS.00400062","error_msg":"no"}' });
    expect(upstream.received).toHaveLength(0);
    expect(proxy.requests[0]).toMatchObject({ fault: "answer-instead", forwarded: false, answered: 400 });
  });
});

describe("rules", () => {
  test("match by method and path (as sent or decoded), oldest rule first, for `count` requests", async () => {
    proxy.add({ count: 2, match: { method: "put", pathIncludes: "/groups/grp ä/" }, action: { kind: "forward-then-replace", status: 503 } });
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "forward-then-replace", status: 502 } });
    const path = "/v2/p/instances/i/groups/grp%20%C3%A4/reset-message-offset";
    const statuses: (number | string)[] = [];
    for (const [method, p] of [["GET", path], ["PUT", path], ["PUT", "/v2/other"], ["PUT", path], ["PUT", path], ["PUT", "/v2/other"]] as const) {
      const res = await send(method, p, method === "PUT" ? "{}" : undefined);
      statuses.push("failed" in res ? res.failed : res.status);
    }
    // GET passes; the first rule takes the two PUTs to the group; the second rule the first other PUT it sees.
    expect(statuses).toEqual([200, 503, 502, 503, 204, 204]);
    expect(upstream.received).toHaveLength(6);
  });

  test("skip: the first matching requests pass untouched, then the rule applies for `count`", async () => {
    proxy.add({ count: 1, skip: 2, match: { method: "PUT" }, action: { kind: "forward-then-replace", status: 502 } });
    const statuses: (number | string)[] = [];
    for (const method of ["PUT", "GET", "PUT", "PUT", "PUT"] as const) {
      const res = await send(method, "/v2/reset", method === "PUT" ? "{}" : undefined);
      statuses.push("failed" in res ? res.failed : res.status);
    }
    expect(statuses).toEqual([204, 200, 204, 502, 204]);
    expect(proxy.requests.map((r) => r.fault)).toEqual([undefined, undefined, undefined, "forward-then-replace", undefined]);
    expect(proxy.pending()).toEqual([]);
    expect(() => proxy.add({ count: 1, skip: -1, action: { kind: "forward-then-drop" } })).toThrow(/skip must be 0 or more/);
  });

  test("a rule without a count of at least 1 is refused", () => {
    expect(() => proxy.add({ count: 0, action: { kind: "forward-then-drop" } })).toThrow(/count of 1 or more/);
  });
});

describe("refusing connections", () => {
  test("stop(): connections are refused until start(), on the same URL", async () => {
    await expect(send("GET")).resolves.toMatchObject({ status: 200 });
    // stop() ends the kept-alive connection too; the next request must not race the client's noticing that.
    const disconnected = once(agent, "disconnect");
    await proxy.stop();
    await disconnected;
    expect(await send("GET")).toMatchObject({ code: "ECONNREFUSED" });
    await proxy.start();
    await expect(send("GET")).resolves.toMatchObject({ status: 200 });
    expect(proxy.requests.map((r) => r.answered)).toEqual([200, 200]);
  });

  test("a client retrying a refused write gets through once the proxy listens again", async () => {
    await proxy.stop();
    const port = new URL(proxy.url).port;
    const client = new DmsClient({ endpoint: new URL(proxy.url), projectId: "p", credentials, dispatcher: agent, deadlineMs: 20_000, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
    const refused = firstConnectError(port);
    const outcome = client.resetMessageOffset({ instanceId: "i", group: "g1", topic: "orders", partition: 0, position: { messageOffset: 5n } });
    await refused;
    await proxy.start();
    await expect(outcome).resolves.toMatchObject({ outcome: "applied" });
    expect(upstream.received).toHaveLength(1);
  });
});
