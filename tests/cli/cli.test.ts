import { main } from "../../provider/cli/main";
import { fakeDmsHandler, type FakeDms } from "../client/fake-dms";
import { errorBody, startFakeServer, type FakeServer } from "../client/fake-server";

const env = { CLOUD_SDK_AK: "AK-CLI-TEST", CLOUD_SDK_SK: "SK-CLI-SECRET" };

let server: FakeServer;
let dms: FakeDms;

beforeEach(async () => {
  dms = {
    states: ["EMPTY"],
    members: [{ member_id: "consumer-1-aaa", host: "/10.0.0.7", client_id: "billing-1", assignment: [{ topic: "orders", partitions: [0, 1] }] }],
    offsets: new Map([["orders", [500n, 600n]]]),
    tasks: [],
  };
  server = await startFakeServer(fakeDmsHandler(dms));
});

afterEach(async () => {
  await server.close();
});

async function run(args: string[], extraEnv: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { ...env, ...extraEnv }, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const base = () => ["--project-id", "proj-1", "--instance-id", "inst-1", "--group", "g1", "--endpoint", server.url];

describe("bad arguments: exit 2, one line naming the flag, nothing sent", () => {
  test.each([
    [["--offset", "5", "--timestamp", "1764000000000"], /--timestamp: set exactly one of --offset and --timestamp: both are set/],
    [[], /--offset: set exactly one of --offset and --timestamp: neither is set/],
    [["--offset", "5", "--partition", "-2"], /--partition: partition must be -1 \(every partition\) or a partition number >= 0/],
    [["--offset", "5", "--partition", "1.5"], /--partition: partition must be an integer/],
    [["--offset", "5", "--partition", "1e3"], /--partition: partition must be an integer/],
    [["--offset", "5", "--partition", "two"], /--partition: partition must be an integer/],
    [["--offset", "-1"], /^dms-offsets: --offset must be >= 0, got -1/],
    [["--offset", "1.5"], /^dms-offsets: --offset must be a whole decimal number, got "1.5"/],
    [["--timestamp", "1764000000"], /^dms-offsets: --timestamp 1764000000 looks like epoch seconds; DMS expects milliseconds: use 1764000000000/],
    [["--timestamp", "yesterday"], /^dms-offsets: --timestamp "yesterday" is not epoch milliseconds or ISO-8601 with a zone/],
    [["--timestamp", "2026-02-30T25:00:00Z"], /^dms-offsets: --timestamp must be a whole number of epoch milliseconds or a valid date/],
    [["--timestamp", "2026-11-24T02:00:00"], /^dms-offsets: --timestamp "2026-11-24T02:00:00" .*with a zone/],
    [["--offset", "5", "--topic", ""], /--topic: topic must not be empty/],
    [["--offset", "5", "--wait-inactive", "soon"], /--wait-inactive: expected seconds/],
    [["--offset", "5", "--bogus"], /Unknown option '--bogus'/],
  ])("reset %j", async (extra, line) => {
    const r = await run(["reset", ...base(), ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(line);
    expect(r.stdout).toBe("");
    expect(server.received).toHaveLength(0);
  });

  test("an empty group", async () => {
    const r = await run(["reset", "--project-id", "p", "--instance-id", "i", "--group", "", "--offset", "1", "--endpoint", server.url]);
    expect(r).toMatchObject({ code: 2, stderr: "dms-offsets: --group: group must not be empty: name the consumer group to rewind\n" });
    expect(server.received).toHaveLength(0);
  });

  test.each([
    [["reset", "--instance-id", "i", "--group", "g", "--offset", "1"], /--project-id is required \(or set HW_PROJECT_ID\)/],
    [["reset", "--project-id", "p", "--group", "g", "--offset", "1"], /--instance-id is required/],
    [["reset", "--project-id", "p", "--instance-id", "i", "--offset", "1"], /--group is required/],
    [["show", "--project-id", "p", "--instance-id", "i", "--group", "g", "--offset", "1"], /--offset is for reset only/],
    [["rewind"], /unknown command "rewind": use reset or show/],
  ])("%j", async (args, line) => {
    const r = await run([...args, "--endpoint", server.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(server.received).toHaveLength(0);
  });

  test("plain http off the machine is refused unless --allow-insecure-http", async () => {
    const r = await run(["show", "--project-id", "p", "--instance-id", "i", "--group", "g", "--endpoint", "http://dms.example.com"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing plain http to dms\.example\.com.*--allow-insecure-http/);
  });

  test("no endpoint and no region names both", async () => {
    const r = await run(["show", "--project-id", "p", "--instance-id", "i", "--group", "g"]);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/set endpoint .* or region/);
  });

  test("missing credentials name the variables", async () => {
    let stderr = "";
    const code = await main(["show", ...base()], {}, { stdout: () => undefined, stderr: (t) => (stderr += t) });
    expect(code).toBe(2);
    expect(stderr).toMatch(/CLOUD_SDK_AK and CLOUD_SDK_SK \(or HW_ACCESS_KEY and HW_SECRET_KEY\)/);
    expect(server.received).toHaveLength(0);
  });
});

describe("reset", () => {
  test("prints the offsets before and after as a table", async () => {
    const r = await run(["reset", ...base(), "--topic", "orders", "--partition", "-1", "--offset", "100"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^DMS accepted the reset of group g1 \(topic orders, every partition\) to offset 100: request id req-\d+\n/);
    expect(r.stdout).toMatch(/\noffsets of group g1 before and after the reset at \d{4}-\d\d-\d\dT[\d:.]+Z:\n/);
    expect(r.stdout).toContain(
      ["TOPIC   PARTITION  BEFORE  AFTER  LOG-START  LOG-END  LAG", "orders          0     500    100          0     1000  900", "orders          1     600    100          0     1000  900"].join("\n"),
    );
    const sent = server.received.filter((q) => q.method === "PUT");
    expect(sent.map((q) => q.body.toString())).toEqual(['{"partition":-1,"topic":"orders","message_offset":100}']);
  });

  test("--json prints one JSON object with offsets as decimal strings, int64 exact", async () => {
    const r = await run(["reset", ...base(), "--topic", "orders", "--partition=0", "--offset", "9007199254740993", "--json"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ group: "g1", instanceId: "inst-1", topic: "orders", partition: 0, messageOffset: "9007199254740993" });
    expect(out.previousOffsets).toEqual([
      { topic: "orders", partition: 0, messageCurrentOffset: "500", messageLogStartOffset: "0", messageLogEndOffset: "1000", lag: "500" },
      { topic: "orders", partition: 1, messageCurrentOffset: "600", messageLogStartOffset: "0", messageLogEndOffset: "1000", lag: "400" },
    ]);
    expect(server.received.find((q) => q.method === "PUT")?.body.toString()).toBe('{"partition":0,"topic":"orders","message_offset":9007199254740993}');
  });

  test("a timestamp as ISO-8601 goes out as epoch milliseconds; --legacy-api uses the management POST", async () => {
    const r = await run(["reset", ...base(), "--topic", "orders", "--timestamp", "2026-11-24T03:00:00+01:00", "--legacy-api", "--json"]);
    expect(r.code).toBe(0);
    const sent = server.received.find((q) => q.method !== "GET");
    expect(`${sent?.method} ${sent?.url}`).toBe("POST /v2/proj-1/instances/inst-1/management/groups/g1/reset-message-offset");
    expect(sent?.body.toString()).toBe(`{"partition":-1,"topic":"orders","timestamp":${Date.UTC(2026, 10, 24, 2)}}`);
  });

  test("HW_PROJECT_ID fills --project-id", async () => {
    const r = await run(["reset", "--instance-id", "inst-1", "--group", "g1", "--endpoint", server.url, "--topic", "orders", "--offset", "1"], { HW_PROJECT_ID: "proj-env" });
    expect(r.code).toBe(0);
    expect(server.received.every((q) => q.headers["x-project-id"] === "proj-env")).toBe(true);
  });

  test("DMS refusing: exit 1, one stderr line with status, error_code, error_msg and request id", async () => {
    dms.resetReply = { status: 400, body: errorBody("DMS.00400003", "The consumer group is not empty."), headers: { "x-request-id": "rid-42" } };
    const r = await run(["reset", ...base(), "--topic", "orders", "--offset", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'dms-offsets: DMS PUT /v2/kafka/proj-1/instances/inst-1/groups/g1/reset-message-offset failed: 400 DMS.00400003 "The consumer group is not empty." (request id rid-42)\n',
    );
    expect(r.stderr).not.toMatch(/AK-CLI-TEST|SK-CLI-SECRET/);
  });

  test("a group with consumers: exit 1 naming them, no reset sent", async () => {
    dms.states = ["STABLE"];
    const r = await run(["reset", ...base(), "--topic", "orders", "--offset", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/"g1" is STABLE, not EMPTY; still connected: consumer-1-aaa \(client billing-1 on \/10\.0\.0\.7\)/);
    expect(server.received.filter((q) => q.method !== "GET")).toHaveLength(0);
  });

  test("--wait-inactive waits for the consumers to leave", async () => {
    dms.states = ["STABLE", "EMPTY"];
    const r = await run(["reset", ...base(), "--topic", "orders", "--offset", "1", "--wait-inactive", "30"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/group g1 is STABLE; waiting up to 30s/);
  });
});

describe("show", () => {
  test("state, members and offsets as text", async () => {
    dms.states = ["STABLE"];
    const r = await run(["show", ...base()]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe(
      [
        "group g1 on instance inst-1: STABLE",
        "members (1, stop them before a reset):",
        "MEMBER          CLIENT     HOST       ASSIGNMENT",
        "consumer-1-aaa  billing-1  /10.0.0.7  orders[0,1]",
        "",
        "TOPIC   PARTITION  CURRENT  LOG-START  LOG-END  LAG",
        "orders          0      500          0     1000  500",
        "orders          1      600          0     1000  400",
        "",
      ].join("\n"),
    );
    expect(server.received.filter((q) => q.method !== "GET")).toHaveLength(0);
  });

  test("--json", async () => {
    const r = await run(["show", ...base(), "--json"]);
    expect(JSON.parse(r.stdout)).toEqual({
      group: "g1",
      instanceId: "inst-1",
      state: "EMPTY",
      members: [],
      offsets: [
        { topic: "orders", partition: 0, messageCurrentOffset: "500", messageLogStartOffset: "0", messageLogEndOffset: "1000", lag: "500" },
        { topic: "orders", partition: 1, messageCurrentOffset: "600", messageLogStartOffset: "0", messageLogEndOffset: "1000", lag: "400" },
      ],
    });
  });

  test("--help prints the usage and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}dms-offsets reset --project-id P/);
  });
});
