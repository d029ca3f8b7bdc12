// Proxies from the environment (loopback never proxied, malformed variables refused before anything is
// sent), the process's shared pools, and TLS. Proxied endpoints use a name that is not loopback and that
// only the test proxy resolves (to this machine): a direct connection to it fails at DNS, so a request
// that reached the server went through the proxy.
import { DmsClient } from "../../provider/dms/client";
import { ConfigurationError, DmsUnreachableError } from "../../provider/dms/errors";
import { createDispatcher, sharedDispatcher } from "../../provider/dms/transport";
import { startFakeServer, verifiesSignature, type FakeServer } from "./fake-server";
import { startProxy, type CountingProxy } from "./proxy";
import { selfSignedCertificate } from "./tls";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET", securityToken: "TOKEN-TEST-777" };
const showGroup = () => ({ status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY" } }) });
/** Not loopback, so proxied; resolved to 127.0.0.1 by the test proxy only. */
const PROXIED_NAME = "dms.proxied.test";

let server: FakeServer | undefined;
let proxy: CountingProxy;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  proxy = await startProxy({ [PROXIED_NAME]: "127.0.0.1" });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await server?.close();
  server = undefined;
  await proxy.close();
});

async function start(tls?: { key: string; cert: string }): Promise<FakeServer> {
  server = await startFakeServer(showGroup, tls);
  return server;
}

/** The server's URL under the proxied name. */
const named = (s: FakeServer) => s.url.replace("127.0.0.1", PROXIED_NAME);

function clientWith(env: Record<string, string>, url: string, deadlineMs = 2000): DmsClient {
  const dispatcher = createDispatcher({ env });
  const client = new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, dispatcher, deadlineMs });
  closers.push(() => dispatcher.close(), () => client.close());
  return client;
}

describe("proxy from the environment", () => {
  test("HTTP_PROXY carries the requests through kept-alive tunnels, still signed for the endpoint's host", async () => {
    const s = await start();
    const client = clientWith({ HTTP_PROXY: proxy.url }, named(s));
    for (let i = 0; i < 6; i++) await client.showGroup("i", "g1");
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(named(s)).host}`]));
    expect(proxy.seen.length).toBeLessThan(6);
    expect(s.received).toHaveLength(6);
    expect(s.received[0]?.headers.host).toBe(new URL(named(s)).host);
    expect(verifiesSignature(s.received[1]!, credentials.secretKey)).toBe(true);
  });

  test("lower-case http_proxy works too", async () => {
    const s = await start();
    await clientWith({ http_proxy: proxy.url }, named(s)).showGroup("i", "g1");
    expect(proxy.seen).toHaveLength(1);
  });

  test.each(["http://127.0.0.1", "http://localhost"])("a loopback endpoint (%s) is never proxied, whatever the environment says", async (host) => {
    const s = await start();
    const url = `${host}:${new URL(s.url).port}`;
    const envs: Record<string, string>[] = [{ HTTP_PROXY: proxy.url }, { http_proxy: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: "other.example" }];
    for (const env of envs) {
      await clientWith(env, url).showGroup("i", "g1");
      // The process's shared pools too: the resource host's clients use those.
      const shared = new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, dispatcher: sharedDispatcher(env), deadlineMs: 20_000 });
      closers.push(() => shared.close());
      await shared.showGroup("i", "g1");
    }
    expect(proxy.seen).toEqual([]);
    expect(s.received).toHaveLength(4);
    // The security token went to the endpoint only.
    expect(s.received.every((r) => r.headers["x-security-token"] === credentials.securityToken)).toBe(true);
  });

  test.each(["http://127.1.2.3:9", "http://[::1]:9"])("every loopback address counts (%s): the request fails on its own, the proxy sees nothing", async (url) => {
    const err = (await clientWith({ HTTP_PROXY: proxy.url }, url, 500).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.delivery).toBe("unsent");
    expect(proxy.seen).toEqual([]);
  });

  test("a client that makes its own connection layer reads the proxy from its env option", async () => {
    const s = await start();
    const own = new DmsClient({ endpoint: new URL(named(s)), projectId: "p", credentials, env: { HTTP_PROXY: proxy.url }, deadlineMs: 20_000 });
    closers.push(() => own.close());
    await own.showGroup("i", "g1");
    expect(proxy.seen).toEqual([`CONNECT ${new URL(named(s)).host}`]);
  });

  test.each([PROXIED_NAME, `localhost,${PROXIED_NAME}`, "*", "proxied.test"])("NO_PROXY=%s bypasses the proxy (and the name does not resolve directly)", async (noProxy) => {
    const s = await start();
    const err = (await clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy }, named(s), 1500).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.delivery).toBe("unsent");
    expect(proxy.seen).toEqual([]);
    expect(s.received).toHaveLength(0);
  });

  test("a NO_PROXY entry for another port does not bypass it", async () => {
    const s = await start();
    await clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: `${PROXIED_NAME}:1` }, named(s)).showGroup("i", "g1");
    expect(proxy.seen).toHaveLength(1);
  });

  test("HTTPS_PROXY tunnels https endpoints, and TLS is still verified end to end", async () => {
    const s = await start(selfSignedCertificate());
    const err = (await clientWith({ HTTPS_PROXY: proxy.url }, named(s)).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(proxy.seen).toEqual([`CONNECT ${new URL(named(s)).host}`]);
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.message).toMatch(/self[- ]signed certificate/i);
    expect(err.delivery).toBe("unsent");
    expect(s.received).toHaveLength(0);
  });
});

describe("a malformed proxy variable", () => {
  test.each([
    ["HTTPS_PROXY", "garbage", `HTTPS_PROXY "garbage" is not a URL: write it as http://host:port, or unset it`],
    ["http_proxy", "://x", `http_proxy "://x" is not a URL: write it as http://host:port, or unset it`],
    ["HTTP_PROXY", "proxy:3128", `HTTP_PROXY "proxy:3128" is not an http:// or https:// URL: write it as http://host:port, or unset it`],
    ["https_proxy", "socks5://proxy:1080", `https_proxy "socks5://proxy:1080" is not an http:// or https:// URL: write it as http://host:port, or unset it`],
  ])("%s=%s is a ConfigurationError naming it and the fix, when the client is made: nothing is sent", async (name, value, message) => {
    const s = await start();
    const env = { [name]: value };
    for (const url of [s.url, named(s)]) {
      expect(() => new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, env })).toThrow(ConfigurationError);
      expect(() => new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, env })).toThrow(message);
    }
    expect(() => createDispatcher({ env })).toThrow(message);
    expect(() => sharedDispatcher(env)).toThrow(message);
    expect(s.received).toHaveLength(0);
    expect(proxy.seen).toEqual([]);
  });

  test("the message never shows a password the value holds", () => {
    for (const value of ["user:hunter2@proxy:3128", "ftp://user:hunter2@proxy:21"]) {
      const err = (() => {
        try {
          createDispatcher({ env: { HTTPS_PROXY: value } });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConfigurationError);
      expect(err?.message).toMatch(/^HTTPS_PROXY ".*\*\*\*@proxy:\d+" is not/);
      expect(err?.message).not.toContain("hunter2");
    }
  });

  test("an empty variable is unset; lower-case wins over upper-case, as curl reads them", async () => {
    const s = await start();
    await clientWith({ HTTP_PROXY: "  " }, named(s), 1500).showGroup("i", "g1").catch(() => undefined);
    expect(proxy.seen).toEqual([]);
    await clientWith({ http_proxy: proxy.url, HTTP_PROXY: "garbage" }, named(s)).showGroup("i", "g1");
    expect(proxy.seen).toHaveLength(1);
  });
});

describe("the process's shared connection pools", () => {
  test("clients reuse the pool of earlier clients that saw the same proxy settings, and only theirs", async () => {
    const s = await start();
    const shared = (env: Record<string, string>, url: string) => {
      const c = new DmsClient({ endpoint: new URL(url), projectId: "p", credentials, dispatcher: sharedDispatcher(env), deadlineMs: 20_000 });
      closers.push(() => c.close());
      return c;
    };
    const viaProxy = { HTTP_PROXY: proxy.url, NO_PROXY: "unrelated.example" };
    for (let i = 0; i < 3; i++) await shared({}, s.url).showGroup("i", "g1");
    const direct = s.connections();
    for (let i = 0; i < 3; i++) await shared(viaProxy, named(s)).showGroup("i", "g1");
    const tunnels = proxy.seen.length;
    expect(tunnels).toBeGreaterThan(0);
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(named(s)).host}`]));
    // The same settings, a loopback endpoint: direct, over a pool of their own.
    for (let i = 0; i < 3; i++) await shared(viaProxy, s.url).showGroup("i", "g1");
    const own = s.connections() - direct - tunnels;
    expect(own).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) await shared({}, s.url).showGroup("i", "g1");
    for (let i = 0; i < 3; i++) await shared(viaProxy, named(s)).showGroup("i", "g1");
    // The later clients went over the connections of the earlier ones: no new tunnel, no new connection.
    expect(proxy.seen).toHaveLength(tunnels);
    expect(s.connections()).toBe(direct + tunnels + own);
    expect(s.received).toHaveLength(15);
  });

  test("given the endpoint, a loopback one shares the direct pool whatever the proxy settings", async () => {
    const s = await start();
    const endpoint = new URL(s.url);
    const viaProxy = { HTTPS_PROXY: proxy.url, NO_PROXY: "yet-another.example" };
    expect(sharedDispatcher(viaProxy, endpoint)).toBe(sharedDispatcher({}, endpoint));
    expect(sharedDispatcher(viaProxy, endpoint)).toBe(sharedDispatcher({ NO_PROXY: "anything" }));
    expect(sharedDispatcher(viaProxy, new URL(named(s)))).toBe(sharedDispatcher(viaProxy));
    expect(sharedDispatcher(viaProxy, new URL(named(s)))).not.toBe(sharedDispatcher({}));
    expect(() => sharedDispatcher({ HTTPS_PROXY: "garbage" }, endpoint)).toThrow(ConfigurationError);
    const c = new DmsClient({ endpoint, projectId: "p", credentials, dispatcher: sharedDispatcher(viaProxy, endpoint), deadlineMs: 20_000 });
    closers.push(() => c.close());
    await c.showGroup("i", "g1");
    expect(proxy.seen).toEqual([]);
    expect(s.received).toHaveLength(1);
  });
});

describe("TLS", () => {
  test("an untrusted certificate is refused at once: one handshake, no request, no retry, delivery unsent", async () => {
    const s = await start(selfSignedCertificate());
    const err = (await clientWith({}, s.url).showGroup("i", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    expect(err).toBeInstanceOf(DmsUnreachableError);
    expect(err.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(err.delivery).toBe("unsent");
    expect(s.connections()).toBe(1);
    expect(s.received).toHaveLength(0);
  });
});
