// ShowInstanceTopicDetail and ShowMessages beyond what the SDK test shows: defaults, inclusive time
// bounds, validation, empty and never-written partitions, int64 logs past 2^53, and ranges far too
// long to list, paged by arithmetic. Requests are signed by our own signer and sent with undici.
import { z } from "zod";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { WireInt64 } from "../../provider/dms/wire";
import { BASE_MS, INSTANCE_ID, paths, signedCall, testSeed, type CallResult } from "./helpers";

const Messages = z.object({
  messages: z.array(z.object({ topic: z.string(), partition: z.number(), message_offset: WireInt64, size: z.number().int().positive(), timestamp: WireInt64 })),
  messages_count: WireInt64,
  offsets_count: WireInt64,
  offset: WireInt64,
});
const Detail = z.object({
  topic: z.string(),
  partitions: z.array(
    z.object({
      partition: z.number(),
      leader: z.number(),
      leo: WireInt64,
      hw: WireInt64,
      lso: WireInt64,
      last_update_timestamp: WireInt64.optional(),
      replicas: z.array(z.object({ broker: z.number(), leader: z.boolean(), in_sync: z.boolean(), lag: z.number().optional() })),
    }),
  ),
  group_subscribed: z.array(z.string()),
});
const ErrorBody = z.object({ error_code: z.string(), error_msg: z.string() });

/** 9e18 records a millisecond apart: listing them would never end, paging must be arithmetic. */
const VAST_END = 9_000_000_000_000_000_000n;
const INT64_MAX = "9223372036854775807";

let dms: DmsLocal;

beforeAll(async () => {
  const seed = testSeed((s) => {
    const instance = s.instances[0]!;
    instance.topics["sparse"] = {
      partitions: [
        // Retention deleted everything: empty, but written once (its last record was 499).
        { logStartOffset: 500, logEndOffset: 500, timestamps: { base: BASE_MS, stepMs: 1000 } },
        // Never written.
        { logStartOffset: 0, logEndOffset: 0 },
        // Every record in the same millisecond.
        { logStartOffset: 0, logEndOffset: 20, timestamps: { base: BASE_MS, stepMs: 0 } },
      ],
    };
    instance.topics["vast"] = { partitions: [{ logStartOffset: 0, logEndOffset: VAST_END, timestamps: { base: 0, stepMs: 1 } }] };
    instance.topics["future"] = { partitions: [{ logStartOffset: 0, logEndOffset: 10, timestamps: { base: Date.now() + 3_600_000, stepMs: 1000 } }] };
    instance.groups!["g-starting"] = {
      state: "STABLE",
      members: [{ memberId: "m-1", clientId: "c-1", host: "/10.0.0.9", assignment: [{ topic: "payments", partitions: [0] }] }],
    };
  });
  dms = await startDmsLocal({ seed });
});

afterAll(async () => {
  await dms.close();
});

function messages(topic: string, query: Record<string, string> = {}): Promise<CallResult> {
  return signedCall(dms.url, { method: "GET", segments: paths.messages(topic), query });
}

async function page(topic: string, query: Record<string, string> = {}): Promise<z.infer<typeof Messages>> {
  const res = await messages(topic, query);
  expect(res.status).toBe(200);
  return Messages.parse(res.json);
}

async function detail(topic: string): Promise<z.infer<typeof Detail>> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.topic(topic) });
  expect(res.status).toBe(200);
  return Detail.parse(res.json);
}

const offsetsOf = (p: z.infer<typeof Messages>) => p.messages.map((m) => `${m.partition}/${m.message_offset}`);

describe("ShowMessages", () => {
  test("without parameters: every record from epoch 0 to now, 10 a page, from the first partition's log start", async () => {
    const first = await page("orders");
    // orders holds 1000 + 900 + 500 retained records, all written in 2023.
    expect([first.messages_count, first.offsets_count, first.offset]).toEqual([2400n, 240n, 1n]);
    expect(offsetsOf(first)).toEqual(Array.from({ length: 10 }, (_, i) => `0/${i}`));
    expect(first.messages[3]).toMatchObject({ topic: "orders", timestamp: BigInt(BASE_MS + 3000) });
  });

  test("start_time and end_time are inclusive epoch milliseconds; end before start matches nothing", async () => {
    const both = await page("orders", { partition: "0", start_time: String(BASE_MS + 10_000), end_time: String(BASE_MS + 12_000) });
    expect(offsetsOf(both)).toEqual(["0/10", "0/11", "0/12"]);
    const oneMsShort = await page("orders", { partition: "0", start_time: String(BASE_MS + 10_001), end_time: String(BASE_MS + 11_999) });
    expect(offsetsOf(oneMsShort)).toEqual(["0/11"]);
    expect(await page("orders", { start_time: String(BASE_MS + 5000), end_time: String(BASE_MS + 4000) })).toEqual({ messages: [], messages_count: 0n, offsets_count: 0n, offset: 1n });
  });

  test("end_time defaults to now: records written later are not listed until asked for", async () => {
    expect((await page("future")).messages_count).toBe(0n);
    expect((await page("future", { end_time: INT64_MAX })).messages_count).toBe(10n);
  });

  test("an offset past the matches gives an empty page that still counts them all", async () => {
    const past = await page("orders", { partition: "2", offset: "500" });
    expect([past.messages, past.messages_count, past.offsets_count, past.offset]).toEqual([[], 500n, 50n, 51n]);
    expect(offsetsOf(await page("orders", { partition: "2", offset: "499" }))).toEqual(["2/499"]);
  });

  test("a range of 9e18 records is counted and paged by arithmetic, int64 exact (the page at 2^53 − 1)", async () => {
    const res = await messages("vast", { end_time: INT64_MAX, offset: String(Number.MAX_SAFE_INTEGER), limit: "2" });
    expect(res.text).toContain(`"messages_count":${VAST_END}`);
    expect(offsetsOf(Messages.parse(res.json))).toEqual(["0/9007199254740991", "0/9007199254740992"]);
    expect(res.text).toContain('"message_offset":9007199254740992,"size":');
    expect(Messages.parse(res.json).offsets_count).toBe(VAST_END / 2n);
  });

  test("offsets and timestamps past 2^53 are written digit for digit", async () => {
    const res = await messages("huge", { end_time: INT64_MAX, limit: "1" });
    // Record 9007199254740000 was written at BASE_MS + 9007199254740000 s.
    const at = BigInt(BASE_MS) + 9_007_199_254_740_000n * 1000n;
    expect(res.text).toContain(`"message_offset":9007199254740000,`);
    expect(res.text).toContain(`"timestamp":${at}}`);
  });

  test("an emptied partition, a never-written one and one whose records share a millisecond", async () => {
    const all = { end_time: INT64_MAX };
    expect((await page("sparse", { ...all, partition: "0" })).messages_count).toBe(0n);
    expect((await page("sparse", { ...all, partition: "1" })).messages_count).toBe(0n);
    expect((await page("sparse", { partition: "2", start_time: String(BASE_MS) })).messages_count).toBe(20n);
    expect((await page("sparse", { partition: "2", start_time: String(BASE_MS + 1) })).messages_count).toBe(0n);
  });

  test.each([
    ["limit", "0"],
    ["limit", "101"],
    ["limit", "ten"],
    ["offset", "-1"],
    ["offset", "9007199254740992"],
    ["start_time", "1.5"],
    ["start_time", "yesterday"],
    ["end_time", "99999999999999999999"],
    ["partition", "-2"],
    ["partition", "3"],
    ["partition", "2147483648"],
    ["partition", "one"],
  ])("%s=%s → 400 DMS.00400062 naming it", async (name, value) => {
    const res = await messages("orders", { [name]: value });
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(res.json)).toMatchObject({ error_code: "DMS.00400062", error_msg: expect.stringContaining(`Invalid ${name} parameter`) });
  });

  test("limit 100 and partition -1 or empty (every partition) are accepted", async () => {
    expect((await page("orders", { limit: "100" })).messages).toHaveLength(100);
    expect((await page("orders", { partition: "-1" })).messages_count).toBe(2400n);
    expect((await page("orders", { partition: "" })).messages_count).toBe(2400n);
  });
});

describe("ShowInstanceTopicDetail", () => {
  test("lso = log start, hw = leo = log end; last_update_timestamp is the newest record's, absent for a log never written", async () => {
    const sparse = await detail("sparse");
    expect(sparse.partitions).toEqual([
      { partition: 0, leader: 1, lso: 500n, hw: 500n, leo: 500n, last_update_timestamp: BigInt(BASE_MS + 499_000), replicas: [{ broker: 1, leader: true, in_sync: true, lag: 0 }] },
      { partition: 1, leader: 1, lso: 0n, hw: 0n, leo: 0n, replicas: [{ broker: 1, leader: true, in_sync: true, lag: 0 }] },
      { partition: 2, leader: 1, lso: 0n, hw: 20n, leo: 20n, last_update_timestamp: BigInt(BASE_MS), replicas: [{ broker: 1, leader: true, in_sync: true, lag: 0 }] },
    ]);
    expect(sparse.group_subscribed).toEqual([]);
    const res = await signedCall(dms.url, { method: "GET", segments: paths.topic("huge") });
    expect(res.text).toContain('"leo":9007199254741000,"hw":9007199254741000,"lso":9007199254740000,');
  });

  test("group_subscribed: groups with offsets on the topic or a member assigned to it", async () => {
    expect((await detail("payments")).group_subscribed).toEqual(["billing", "g-starting"]);
  });

  test("an unknown topic is 404 with a DMS error naming it; an unknown instance 404 DMS.00404022", async () => {
    for (const segments of [paths.topic("nope"), paths.messages("nope")]) {
      const res = await signedCall(dms.url, { method: "GET", segments });
      expect(res.status).toBe(404);
      expect(ErrorBody.parse(res.json)).toEqual({ error_code: "DMS.00404047", error_msg: "The topic does not exist: nope" });
    }
    for (const segments of [paths.topic("orders", "no-such-instance"), paths.messages("orders", "no-such-instance")]) {
      const res = await signedCall(dms.url, { method: "GET", segments });
      expect([res.status, ErrorBody.parse(res.json).error_code]).toEqual([404, "DMS.00404022"]);
    }
  });
});

test("the world lists records from the log start, never past the log end, at most `limit`", async () => {
  expect(await dms.world.messages(INSTANCE_ID, "orders", 1, 0n, 2)).toEqual([
    { offset: 100n, timestamp: BigInt(BASE_MS + 100_000), size: expect.any(Number) },
    { offset: 101n, timestamp: BigInt(BASE_MS + 101_000), size: expect.any(Number) },
  ]);
  expect((await dms.world.messages(INSTANCE_ID, "orders", 2, 498n, 10)).map((r) => r.offset)).toEqual([498n, 499n]);
  expect(await dms.world.messages(INSTANCE_ID, "orders", 2, 500n, 10)).toEqual([]);
});
