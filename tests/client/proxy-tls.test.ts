import { DmsClient } from "../../provider/dms/client";
import { DmsUnreachableError } from "../../provider/dms/errors";
import { createDispatcher, sharedDispatcher } from "../../provider/dms/transport";
import { startFakeServer, verifiesSignature, type FakeServer } from "./fake-server";
import { startProxy, type CountingProxy } from "./proxy";
import { selfSignedCertificate } from "./tls";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET" };
const showGroup = () => ({ status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY" } }) });

let server: FakeServer;
let proxy: CountingProxy;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  proxy = await startProxy();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await server.close();
  await proxy.close();
});

function clientWith(env: Record<string, string>, url = server.url): DmsClient {
  const dispatcher = createDispatcher({ env });
  const client = new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, dispatcher, deadlineMs: 2000 });
  closers.push(() => dispatcher.close(), () => client.close());
  return client;
}

describe("proxy from the environment", () => {
  test("HTTP_PROXY carries the requests through kept-alive tunnels, still signed for the endpoint's host", async () => {
    server = await startFakeServer(showGroup);
    const client = clientWith({ HTTP_PROXY: proxy.url });
    for (let i = 0; i < 6; i++) await client.showGroup("i", "g1");
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(server.url).host}`]));
    expect(proxy.seen.length).toBeLessThan(6);
    expect(server.received).toHaveLength(6);
    expect(server.received[0]?.headers.host).toBe(new URL(server.url).host);
    expect(verifiesSignature(server.received[1]!, credentials.secretKey)).toBe(true);
  });

  test("lower-case http_proxy works too", async () => {
    server = await startFakeServer(showGroup);
    await clientWith({ http_proxy: proxy.url }).showGroup("i", "g1");
    expect(proxy.seen).toHaveLength(1);
  });

  test.each(["127.0.0.1", "localhost,127.0.0.1", "*"])("NO_PROXY=%s bypasses the proxy", async (noProxy) => {
    server = await startFakeServer(showGroup);
    await clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy }).showGroup("i", "g1");
    expect(proxy.seen).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  test("a NO_PROXY entry for another port does not bypass it", async () => {
    server = await startFakeServer(showGroup);
    await clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1:1" }).showGroup("i", "g1");
    expect(proxy.seen).toHaveLength(1);
  });

  test("HTTPS_PROXY tunnels https endpoints, and TLS is still verified end to end", async () => {
    const tls = selfSignedCertificate();
    server = await startFakeServer(showGroup, tls);
    const err = (await clientWith({ HTTPS_PROXY: proxy.url }).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(proxy.seen).toEqual([`CONNECT ${new URL(server.url).host}`]);
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.message).toMatch(/self[- ]signed certificate/i);
    expect(server.received).toHaveLength(0);
  });
});

describe("the process's shared connection pools", () => {
  test("clients reuse the pool of earlier clients that saw the same proxy settings, and only theirs", async () => {
    server = await startFakeServer(showGroup);
    const shared = (env: Record<string, string>) => new DmsClient({ endpoint: new URL(server.url), projectId: "p", credentials, dispatcher: sharedDispatcher(env), deadlineMs: 2000 });
    for (let i = 0; i < 3; i++) await shared({}).showGroup("i", "g1");
    const direct = server.connections();
    for (let i = 0; i < 3; i++) await shared({ HTTP_PROXY: proxy.url }).showGroup("i", "g1");
    const tunnels = proxy.seen.length;
    expect(tunnels).toBeGreaterThan(0);
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(server.url).host}`]));
    for (let i = 0; i < 3; i++) await shared({}).showGroup("i", "g1");
    // The later direct clients went neither through the proxy nor over a new connection.
    expect(proxy.seen).toHaveLength(tunnels);
    expect(server.connections()).toBe(direct + tunnels);
    expect(server.received).toHaveLength(9);
  });
});

describe("TLS", () => {
  test("an untrusted certificate is refused at once: one handshake, no request, no retry", async () => {
    server = await startFakeServer(showGroup, selfSignedCertificate());
    const err = (await clientWith({}).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(server.connections()).toBe(1);
    expect(server.received).toHaveLength(0);
  });
});
