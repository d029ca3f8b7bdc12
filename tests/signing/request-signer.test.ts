// A RequestSigner is kept for all of a client's requests and reuses its keyed HMAC and the X-Sdk-Date
// of the current second: a run of different requests through one signer must still sign each exactly
// as Huawei's SDK does. Reproduce a failure with `REQUEST_SIGNER_SEED=<seed printed> npx jest tests/signing/request-signer.test.ts`.
import { inspect } from "node:util";
import { encodePath, type Query } from "../../provider/dms/signing/encoding";
import { formatSdkDate, RequestSigner, type Credentials } from "../../provider/dms/signing/signer";
import { prng, seedFrom, type Prng } from "./prng";
import { sdkSign } from "./sdk-signer";

const seed = seedFrom("REQUEST_SIGNER_SEED");
const REQUESTS = 300;
const host = "dms.cn-north-4.myhuaweicloud.com";
const projectId = "0123456789abcdef0123456789abcdef";
const instanceId = "3b2c6f4e-1a7d-4c1e-9a55-6f1b2d3c4e5f";

function groupName(r: Prng): string {
  const chars = [..."abcxyz-_.019", "订", "单", "é", "😀", "%", "+", "~"];
  let name = "";
  for (let n = 1 + r.int(12); n > 0; n--) name += r.pick(chars);
  return name;
}

/** Consecutive dates: often in the same second (the signer formats each second once), sometimes later or earlier. */
function nextDate(r: Prng, previous: Date): Date {
  const step = r.pick([0, 1, 250, 999, 1000, 61_000, -1000, -3_600_000]);
  return new Date(previous.getTime() + step);
}

function signsLikeTheSdk(credentials: Credentials): void {
  const r = prng(seed);
  const signer = new RequestSigner(credentials);
  let date = new Date(Date.UTC(2026, 10, 24, 2, 0, 0, 500));
  const differences: unknown[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    date = nextDate(r, date);
    const method = r.pick(["GET", "PUT", "POST"]);
    const segments = ["v2", projectId, "instances", instanceId, "groups", groupName(r), r.pick(["reset-message-offset", "message-offset"])];
    const query: Query = r.chance(0.4) ? { topic: groupName(r), offset: String(r.int(500)), limit: "50" } : {};
    const data = method === "GET" ? undefined : { topic: groupName(r), partition: r.int(4) - 1, message_offset: r.int(2 ** 31) };
    const body = data === undefined ? "" : JSON.stringify(data);
    const ours = signer.sign({ method, host, encodedPath: encodePath(segments), query, body, projectId }, date);
    const sdk = sdkSign(
      { method, endpoint: `https://${host}`, rawPath: `/${segments.join("/")}`, query, data, projectId, sdkDate: formatSdkDate(date) },
      credentials,
    );
    const sdkLowerCased = Object.fromEntries(Object.entries(sdk).map(([k, v]) => [k.toLowerCase(), v]));
    if (JSON.stringify(Object.entries(ours).sort()) !== JSON.stringify(Object.entries(sdkLowerCased).sort())) {
      differences.push({ request: i, method, segments, query, data, sdkDate: formatSdkDate(date), ours: ours["authorization"], sdk: sdk["Authorization"] });
    }
  }
  const failure = differences.length === 0 ? undefined : `${differences.length} of ${REQUESTS} differ (REQUEST_SIGNER_SEED=${seed}): ${JSON.stringify(differences.slice(0, 3), null, 2)}`;
  expect(failure).toBeUndefined();
}

test("one signer signs a run of different requests and dates exactly as the SDK signs each", () => {
  signsLikeTheSdk({ accessKey: "HPUAEXAMPLEACCESSKEY", secretKey: "ExampleSecretKey0123456789abcdefghijklmn" });
});

test("with temporary credentials, every request of the run carries and signs the security token", () => {
  signsLikeTheSdk({ accessKey: "HPUATEMPACCESSKEY001", secretKey: "TempSecretKey0123456789abcdefghijklmnopq", securityToken: "gQpjbi1ub3J0aC00Token+/=" });
});

test("a signer shows no key when logged or serialized", () => {
  const credentials = { accessKey: "HPUAEXAMPLEACCESSKEY", secretKey: "ExampleSecretKey0123456789abcdefghijklmn", securityToken: "SECRET-TOKEN-777" };
  const signer = new RequestSigner(credentials);
  for (const shown of [inspect(signer, { depth: 10, showHidden: true }), JSON.stringify(signer), String(signer)]) {
    expect(shown).not.toContain(credentials.accessKey);
    expect(shown).not.toContain(credentials.secretKey);
    expect(shown).not.toContain(credentials.securityToken);
  }
});
