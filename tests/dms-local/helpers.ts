// Shared by the dms-local tests: a small world to serve, and requests signed with our own signer
// sent through undici exactly as built (path segments encoded once, the same string signed and sent).
import { request } from "undici";
import { parseJson } from "../../provider/dms/json";
import { encodePath, percentEncode } from "../../provider/dms/signing/encoding";
import { signRequest, type Credentials } from "../../provider/dms/signing/signer";
import { Seed, type SeedInput } from "../../dms-local/seed";

export const PROJECT_ID = "7c0e4a1f9d2b4c6e8a0f2d4b6c8e0a1f";
export const INSTANCE_ID = "3a5c7e9f-1b2d-4f6a-8c0e-2d4f6a8c0e1b";
export const UNICODE_GROUP = "订单消费组-α";
export const CREDENTIALS: Credentials = { accessKey: "TESTAKDMSLOCAL000001", secretKey: "test-only-secret-key-for-dms-local-00001" };
export const BASE_MS = 1_700_000_000_000;
/** An offset past 2^53: a double would round it to ...992. */
export const BEYOND_DOUBLE = 9_007_199_254_740_993n;

const timestamps = { base: BASE_MS, stepMs: 1000 };

export function testSeedInput(): SeedInput {
  return {
    projectId: PROJECT_ID,
    credentials: [{ ak: CREDENTIALS.accessKey, sk: CREDENTIALS.secretKey, userName: "rehearsal-bot", userId: "0f1e2d3c4b5a69788796a5b4c3d2e1f0" }],
    instances: [
      {
        id: INSTANCE_ID,
        topics: {
          orders: {
            partitions: [
              { logStartOffset: 0, logEndOffset: 1000, timestamps },
              { logStartOffset: 100, logEndOffset: 1000, timestamps },
              { logStartOffset: 0, logEndOffset: 500, timestamps },
            ],
          },
          payments: { partitions: [{ logStartOffset: 0, logEndOffset: 800, timestamps }, { logStartOffset: 50, logEndOffset: 700, timestamps }] },
          huge: { partitions: [{ logStartOffset: 9_007_199_254_740_000n, logEndOffset: 9_007_199_254_741_000n, timestamps }] },
        },
        groups: {
          "g-idle": { state: "EMPTY", offsets: { "orders/0": 900, "orders/1": 950, "orders/2": 450 } },
          [UNICODE_GROUP]: { state: "EMPTY", offsets: { "orders/0": 990 } },
          billing: { state: "EMPTY", offsets: { "payments/0": 780, "payments/1": 690, "orders/0": 990 } },
          "g-huge": { state: "EMPTY", offsets: { "huge/0": 9_007_199_254_740_100n } },
          "g-busy": {
            state: "STABLE",
            members: [
              { memberId: "consumer-1-aaaa", clientId: "consumer-1", host: "/10.0.0.11", assignment: [{ topic: "orders", partitions: [0, 1] }] },
              { memberId: "consumer-2-bbbb", clientId: "consumer-2", host: "/10.0.0.12", assignment: [{ topic: "orders", partitions: [2] }] },
            ],
            offsets: { "orders/0": 10, "orders/1": 110, "orders/2": 20 },
          },
        },
      },
    ],
  };
}

export function testSeed(edit?: (seed: SeedInput) => void): Seed {
  const input = testSeedInput();
  edit?.(input);
  return Seed.parse(input);
}

export interface SignedCall {
  method: string;
  /** Raw (unencoded) path segments. */
  segments: readonly string[];
  query?: Record<string, string | string[]>;
  body?: string;
  credentials?: Credentials;
  date?: Date;
  /** X-Project-Id header; PROJECT_ID unless given (undefined here still means the default). */
  projectIdHeader?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

function queryString(query: Record<string, string | string[]>): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (typeof v === "string" ? [v] : v).map((value) => `${percentEncode(k)}=${percentEncode(value)}`))
    .join("&");
}

/** One request signed by provider/signing and sent by undici. */
export async function signedCall(baseUrl: string, call: SignedCall): Promise<CallResult> {
  const url = new URL(baseUrl);
  const encodedPath = encodePath(call.segments);
  const query = call.query ?? {};
  const body = call.body ?? "";
  const headers = signRequest(
    { method: call.method, host: url.host, encodedPath, query, body, projectId: call.projectIdHeader ?? PROJECT_ID },
    call.credentials ?? CREDENTIALS,
    call.date ?? new Date(),
  );
  const qs = queryString(query);
  const res = await request(`${url.origin}${encodedPath}${qs ? `?${qs}` : ""}`, {
    method: call.method as "GET",
    headers,
    body: body === "" ? null : body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text === "" ? undefined : parseJson(text) };
}

/** Unsigned admin call. */
export async function adminCall(baseUrl: string, method: string, path: string, body?: unknown): Promise<CallResult> {
  const res = await request(`${baseUrl}${path}`, {
    method: method as "GET",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text === "" ? undefined : parseJson(text) };
}

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Path segments of the DMS routes, from raw names. */
export const paths = {
  engineReset: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", "kafka", project, "instances", instance, "groups", group, "reset-message-offset"],
  legacyReset: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "management", "groups", group, "reset-message-offset"],
  showGroup: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "groups", group],
  showGroups: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "management", "groups", group],
  messageOffsets: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", "kafka", project, "instances", instance, "groups", group, "message-offset"],
  members: (group: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", "kafka", project, "instances", instance, "groups", group, "members"],
  tasks: (instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "tasks"],
  topic: (topic: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "management", "topics", topic],
  messages: (topic: string, instance = INSTANCE_ID, project = PROJECT_ID) => ["v2", project, "instances", instance, "management", "topics", topic, "messages"],
};
