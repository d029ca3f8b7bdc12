// The shared rewind schema: what every front door accepts, how it normalises, and what each refusal says.
import { parseJson, stringifyJson } from "../../provider/dms/json";
import { describeIssues, idShapeWarnings, REWIND_KEYS, rewindSchema, type Naming } from "../../provider/rewind/target";

const base = { projectId: "p", instanceId: "i", group: "g" };
const schema = rewindSchema();

function refusal(input: Record<string, unknown>, naming?: Naming): { property: string; reason: string }[] {
  const r = (naming ? rewindSchema(naming) : schema).safeParse(input);
  if (r.success) throw new Error(`accepted ${JSON.stringify(input, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  return describeIssues(r.error, REWIND_KEYS);
}

describe("targets", () => {
  test("an offset is normalised to bigint and keeps its int64 digits; scope defaults to every topic", () => {
    const t = schema.parse({ ...base, messageOffset: "9007199254740993" });
    expect(t.target).toEqual({ kind: "offset", offset: 9007199254740993n });
    expect(t.scope).toEqual({ kind: "all-topics", partition: -1 });
  });
  test("ISO timestamps with a zone become epoch ms", () => {
    expect(schema.parse({ ...base, timestamp: "2026-11-24T02:00:00Z" }).target).toEqual({ kind: "timestamp", timestamp: Date.UTC(2026, 10, 24, 2) });
    expect(schema.parse({ ...base, timestamp: "2026-11-24T03:00:00+01:00" }).target).toEqual({ kind: "timestamp", timestamp: Date.UTC(2026, 10, 24, 2) });
    expect(schema.parse({ ...base, timestamp: "2026-11-24T02:00:00.57Z" }).target).toEqual({ kind: "timestamp", timestamp: Date.UTC(2026, 10, 24, 2, 0, 0, 570) });
  });
  test.each([
    [{ earliest: true }, { kind: "earliest" }],
    [{ latest: true }, { kind: "latest" }],
    [{ shiftBy: "-100" }, { kind: "shiftBy", shift: -100n }],
    [{ toGroup: "other" }, { kind: "toGroup", group: "other" }],
    [{ offsets: [{ topic: "b", partition: 1, offset: 5 }, { topic: "a", partition: 0, messageCurrentOffset: "7" }] }, { kind: "offsets", offsets: [{ topic: "a", partition: 0, offset: 7n }, { topic: "b", partition: 1, offset: 5n }] }],
  ])("%j is the target %j", (fields, target) => {
    expect(schema.parse({ ...base, ...fields }).target).toEqual(target);
  });
  test("explicit offsets name their own scope", () => {
    expect(schema.parse({ ...base, offsets: [{ topic: "a", partition: 2, offset: 1 }, { topic: "a", partition: 0, offset: 1 }] }).scope).toEqual({
      kind: "topics",
      topics: [{ topic: "a", partitions: [0, 2] }],
    });
  });
  test("topics in kafka-consumer-groups' spelling and as objects merge per topic", () => {
    expect(schema.parse({ ...base, latest: true, topics: ["a:1,0", { topic: "a", partitions: [3] }, "b", "b:2"] }).scope).toEqual({
      kind: "topics",
      topics: [{ topic: "a", partitions: [0, 1, 3] }, { topic: "b" }],
    });
  });
});

describe("refusals name the field and the fix", () => {
  test.each<[Record<string, unknown>, string, RegExp]>([
    [{}, "messageOffset", /exactly one target.*none/],
    [{ messageOffset: 1, timestamp: 1700000000000 }, "timestamp", /both set/],
    [{ earliest: true, shiftBy: 5 }, "shiftBy", /both set/],
    [{ earliest: false }, "messageOffset", /none is set/],
    [{ timestamp: 1700000000 }, "timestamp", /seconds.*1700000000000/],
    [{ timestamp: -5 }, "timestamp", /before 1970/],
    [{ timestamp: "2026-11-24T02:00:00" }, "timestamp", /zone/],
    [{ timestamp: "yesterday" }, "timestamp", /ISO-8601/],
    [{ timestamp: "2026-02-30T02:00:00Z" }, "timestamp", /not a date that exists/],
    [{ timestamp: "2026-04-31T02:00:00Z" }, "timestamp", /not a date that exists/],
    [{ timestamp: "2026-11-24T24:00:00Z" }, "timestamp", /not a date that exists/],
    [{ timestamp: "2026-11-24T02:60:00Z" }, "timestamp", /not a date that exists/],
    [{ messageOffset: -1 }, "messageOffset", />= 0/],
    [{ messageOffset: 1.5 }, "messageOffset", /whole/],
    [{ messageOffset: 2 ** 60 }, "messageOffset", /decimal string/],
    [{ messageOffset: "99999999999999999999999" }, "messageOffset", /int64/],
    [{ shiftBy: 0 }, "shiftBy", /moves nothing/],
    [{ messageOffset: 0, partition: -2 }, "partition", /-1/],
    [{ messageOffset: 0, partition: 0.5 }, "partition", /integer/],
    [{ messageOffset: 0, partition: 2147483648 }, "partition", /int32/],
    [{ group: "", messageOffset: 0 }, "group", /empty/],
    [{ group: "..", messageOffset: 0 }, "group", /dot segment/],
    [{ group: "a/b", messageOffset: 0 }, "group", /"\/"/],
    [{ group: "a\ud800b", messageOffset: 0 }, "group", /surrogate/],
    [{ group: "a\nb", messageOffset: 0 }, "group", /control character/],
    [{ topic: ".", messageOffset: 0 }, "topic", /dot segment/],
    [{ topic: "orders/../x", messageOffset: 0 }, "topic", /not a Kafka topic name/],
    [{ projectId: "..", messageOffset: 0 }, "projectId", /dot segment/],
    [{ instanceId: "a/b", messageOffset: 0 }, "instanceId", /may only hold/],
    [{ projectId: 123, messageOffset: 0 }, "projectId", /must be a string, got the number 123: quote it/],
    [{ topic: "a", topics: ["b"], messageOffset: 0 }, "topics", /not both/],
    [{ topics: ["b"], partition: 1, messageOffset: 0 }, "partition", /per topic/],
    [{ topic: "a", offsets: [{ topic: "a", partition: 0, offset: 1 }] }, "topic", /names its own/],
    [{ offsets: [{ topic: "a", partition: 0, offset: 1 }, { topic: "a", partition: 0, offset: 2 }] }, "offsets", /twice/],
    [{ offsets: [{ topic: "a", partition: 0 }] }, "offsets", /has no offset/],
    [{ toGroup: "g" }, "toGroup", /the group being reset/],
    [{ topics: ["a:x"], latest: true }, "topics", /partition numbers/],
  ])("%j is refused on %s", (fields, property, reason) => {
    const issues = refusal({ ...base, ...fields });
    const issue = issues.find((i) => i.property === property || i.property.startsWith(`${property}.`));
    expect(issue?.reason).toMatch(reason);
  });

  test("an unknown key names the nearest known one", () => {
    expect(refusal({ ...base, messageOfset: 5 })).toContainEqual({ property: "messageOfset", reason: 'unknown input "messageOfset": did you mean "messageOffset"?' });
  });

  test("a naming makes every message speak in its names", () => {
    const flags: Naming = (k) => (k === "messageOffset" ? "--offset" : k === "timestamp" ? "--timestamp" : `--${k}`);
    expect(refusal({ ...base, messageOffset: -1 }, flags)[0]?.reason).toMatch(/^--offset must be >= 0/);
    expect(refusal({ ...base, messageOffset: 1, timestamp: 1700000000000 }, flags)[0]?.reason).toMatch(/--offset and --timestamp are both set/);
  });
});

test("IDs of another shape than DMS's are warned about, not refused", () => {
  expect(idShapeWarnings({ projectId: "0123456789abcdef0123456789abcdef", instanceId: "e2e0c1d2-3b4a-4c5d-8e6f-7a8b9c0d1e2f" })).toEqual([]);
  const warnings = idShapeWarnings({ projectId: "p", instanceId: "i" });
  expect(warnings[0]).toMatch(/projectId "p" is not 32 hex digits/);
  expect(warnings[1]).toMatch(/instanceId "i" is not a UUID/);
});

describe("int64 JSON", () => {
  test("writes bigint as exact digits", () => {
    expect(stringifyJson({ partition: -1, message_offset: 9007199254740993n })).toBe('{"partition":-1,"message_offset":9007199254740993}');
  });
  test("reads integers past 2^53 as exact decimal strings, leaving strings alone", () => {
    expect(parseJson('{"a":9007199254740993,"b":"9007199254740993x","c":[1,-2.5e3],"d":"q\\"9007199254740993"}')).toEqual({
      a: "9007199254740993",
      b: "9007199254740993x",
      c: [1, -2500],
      d: 'q"9007199254740993',
    });
  });
});
