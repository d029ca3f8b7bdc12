import { RewindTarget, describeIssues } from "../../provider/rewind/target";
import { parseJson, stringifyJson } from "../../provider/dms/json";

const base = { projectId: "p", instanceId: "i", group: "g" };

describe("RewindTarget", () => {
  test("normalises offsets to bigint and keeps int64 digits", () => {
    const t = RewindTarget.parse({ ...base, messageOffset: "9007199254740993" });
    expect(t.messageOffset).toBe(9007199254740993n);
    expect(t.partition).toBe(-1);
  });
  test("normalises ISO timestamps with a zone to epoch ms", () => {
    expect(RewindTarget.parse({ ...base, timestamp: "2026-11-24T02:00:00Z" }).timestamp).toBe(Date.UTC(2026, 10, 24, 2));
    expect(RewindTarget.parse({ ...base, timestamp: "2026-11-24T03:00:00+01:00" }).timestamp).toBe(Date.UTC(2026, 10, 24, 2));
  });
  test.each([
    [{ ...base }, "messageOffset", /neither/],
    [{ ...base, messageOffset: 1, timestamp: 1700000000000 }, "timestamp", /both/],
    [{ ...base, timestamp: 1700000000 }, "timestamp", /seconds.*1700000000000/],
    [{ ...base, timestamp: "2026-11-24T02:00:00" }, "timestamp", /zone/],
    [{ ...base, timestamp: "yesterday" }, "timestamp", /ISO-8601/],
    [{ ...base, messageOffset: -1 }, "messageOffset", />= 0/],
    [{ ...base, messageOffset: 1.5 }, "messageOffset", /whole/],
    [{ ...base, messageOffset: 2 ** 60 }, "messageOffset", /decimal string/],
    [{ ...base, messageOffset: 0, partition: -2 }, "partition", /-1/],
    [{ ...base, messageOffset: 0, partition: 0.5 }, "partition", /integer/],
    [{ ...base, group: "", messageOffset: 0 }, "group", /empty/],
    [{ ...base, group: "..", messageOffset: 0 }, "group", /segment/],
  ])("refuses %j naming %s", (input, property, reason) => {
    const r = RewindTarget.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) {
      const issue = describeIssues(r.error).find((i) => i.property === property);
      expect(issue?.reason).toMatch(reason);
    }
  });
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
