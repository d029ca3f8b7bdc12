import { checkInputs } from "../../provider/resource/check";
import { CONFIG_KEYS, settingsFromConfig } from "../../provider/resource/connection";
import { UNKNOWN } from "../../provider/resource/properties";

const AK = "AKCHECK000000000001";
const SK = "sk-check-secret-000000000000000001";
const creds = { accessKey: AK, secretKey: SK };
const base = { projectId: "p", instanceId: "i", group: "billing", endpoint: "http://127.0.0.1:8080", ...creds };
const noEnv = {};

function failuresOf(news: Record<string, unknown>, env: NodeJS.ProcessEnv = noEnv, stack = {}) {
  return checkInputs(news, env, stack).failures;
}

describe("check normalises what is stored", () => {
  test("ISO timestamp to epoch ms, defaults filled, credentials kept for create", () => {
    const { inputs, failures } = checkInputs({ ...base, timestamp: "2026-11-24T02:00:00Z" }, noEnv, {});
    expect(failures).toEqual([]);
    expect(inputs).toEqual({
      ...base,
      timestamp: Date.UTC(2026, 10, 24, 2),
      partition: -1,
      legacyApi: false,
      waitForInactiveGroupSeconds: 0,
    });
  });
  test("partition -1 is stored with one topic, as with every topic; never beside a list that names its own partitions", () => {
    expect(checkInputs({ ...base, topic: "orders", messageOffset: 5 }, noEnv, {}).inputs.partition).toBe(-1);
    expect(checkInputs({ ...base, messageOffset: 5 }, noEnv, {}).inputs.partition).toBe(-1);
    expect(checkInputs({ ...base, topics: ["orders"], messageOffset: 5 }, noEnv, {}).inputs).not.toHaveProperty("partition");
    expect(checkInputs({ ...base, offsets: [{ topic: "orders", partition: 0, offset: 1 }] }, noEnv, {}).inputs).not.toHaveProperty("partition");
  });
  test.each([[10, "10"], ["10", "10"], [" 9007199254740993", "9007199254740993"], ["0", "0"]])(
    "messageOffset %j is stored as the decimal string %j",
    (given, stored) => {
      expect(checkInputs({ ...base, messageOffset: given }, noEnv, {}).inputs.messageOffset).toBe(stored);
    },
  );
  test.each<[Record<string, unknown>, Record<string, unknown>]>([
    [{ shiftBy: -100 }, { shiftBy: "-100" }],
    [{ earliest: true, topics: ["orders:1,0", "payments"] }, { earliest: true, topics: [{ topic: "orders", partitions: [0, 1] }, { topic: "payments" }] }],
    [{ offsets: [{ topic: "orders", partition: 0, messageCurrentOffset: "900", lag: "100" }] }, { offsets: [{ topic: "orders", partition: 0, offset: "900" }] }],
    [{ toGroup: "billing-replica", forbidForward: true }, { toGroup: "billing-replica", forbidForward: true }],
  ])("the target %j is stored as %j", (given, stored) => {
    const { inputs, failures } = checkInputs({ ...base, ...given }, noEnv, {});
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject(stored);
  });
  test("keeps triggers, topic, partition and forwarded timeouts as given", () => {
    const { inputs } = checkInputs(
      { ...base, topic: "orders", partition: 2, messageOffset: 5, triggers: { incident: "INC-7", n: [1] }, customTimeouts: { create: "5m" } },
      noEnv,
      {},
    );
    expect(inputs).toMatchObject({ topic: "orders", partition: 2, triggers: { incident: "INC-7", n: [1] }, customTimeouts: { create: "5m" } });
  });
});

describe("check names the property at fault", () => {
  test.each<[string, Record<string, unknown>, string, RegExp]>([
    ["both positions", { messageOffset: 1, timestamp: 1_700_000_000_000 }, "timestamp", /both/],
    ["no target", {}, "messageOffset", /exactly one target.*none is set/],
    ["two targets", { latest: true, toGroup: "other" }, "toGroup", /latest and toGroup are both set/],
    ["an impossible date", { timestamp: "2026-02-30T02:00:00Z" }, "timestamp", /not a date that exists/],
    ["a negative time", { timestamp: -1 }, "timestamp", /before 1970/],
    ["a partition beyond int32", { messageOffset: 1, topic: "orders", partition: 2147483648 }, "partition", /int32/],
    ["a topic with a path", { messageOffset: 1, topic: "orders/../x" }, "topic", /not a Kafka topic name/],
    ["a dot-segment project", { projectId: "..", messageOffset: 1 }, "projectId", /dot segment/],
    ["a group with a slash", { group: "bill/ing", messageOffset: 1 }, "group", /"\/"/],
    ["a number for projectId", { projectId: 123, messageOffset: 1 }, "projectId", /string, got the number 123/],
    ["a misspelt input", { messageOfset: 1 }, "messageOfset", /unknown input "messageOfset": did you mean "messageOffset"\?/],
    ["a zero shift", { shiftBy: 0 }, "shiftBy", /moves nothing/],
    ["a forbidForward string", { messageOffset: 1, forbidForward: "yes" }, "forbidForward", /true or false/],
    ["partition below -1", { messageOffset: 1, partition: -2 }, "partition", /-1/],
    ["fractional partition", { messageOffset: 1, partition: 1.5 }, "partition", /integer/],
    ["seconds-looking timestamp", { timestamp: 1_700_000_000 }, "timestamp", /seconds.*1700000000000/],
    ["timestamp without zone", { timestamp: "2026-11-24T02:00:00" }, "timestamp", /zone/],
    ["negative offset", { messageOffset: -5 }, "messageOffset", />= 0/],
    ["fractional offset", { messageOffset: 2.5 }, "messageOffset", /whole/],
    ["empty group", { group: "", messageOffset: 1 }, "group", /empty/],
    ["empty instance", { instanceId: "", messageOffset: 1 }, "instanceId", /empty/],
    ["empty topic", { topic: "", messageOffset: 1 }, "topic", /omit it/],
    ["endpoint and region", { region: "cn-north-4", messageOffset: 1 }, "region", /not both/],
    ["plain http off the machine", { endpoint: "http://dms.example.com", messageOffset: 1 }, "endpoint", /plain http/],
    ["endpoint with a path", { endpoint: "https://dms.example.com/v2", messageOffset: 1 }, "endpoint", /without a path/],
    ["wait in milliseconds", { messageOffset: 1, waitForInactiveGroupSeconds: 120_000 }, "waitForInactiveGroupSeconds", /seconds, not milliseconds/],
    ["negative wait", { messageOffset: 1, waitForInactiveGroupSeconds: -1 }, "waitForInactiveGroupSeconds", />= 0/],
    ["legacyApi as a string", { messageOffset: 1, legacyApi: "yes" }, "legacyApi", /true or false/],
    ["bad custom timeout", { messageOffset: 1, customTimeouts: { create: "5 minutes" } }, "customTimeouts.create", /duration/],
    ["secret key without access key", { messageOffset: 1, accessKey: undefined }, "accessKey", /required when secretKey/],
    ["token without keys", { messageOffset: 1, accessKey: undefined, secretKey: undefined, securityToken: "t" }, "securityToken", /accessKey and secretKey/],
  ])("%s", (_what, change, property, reason) => {
    const news: Record<string, unknown> = { ...base, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete news[k];
    const failure = failuresOf(news).find((f) => f.property === property);
    expect(failure?.reason).toMatch(reason);
  });

  test("an unknown region names the region", () => {
    const { endpoint: _e, ...rest } = base;
    expect(failuresOf({ ...rest, region: "xx-nowhere-1", messageOffset: 1 })).toEqual([
      { property: "region", reason: expect.stringMatching(/unknown DMS region "xx-nowhere-1"/) },
    ]);
  });

  test("reports every field problem at once, and never echoes a credential", () => {
    const failures = failuresOf({ ...base, group: "", partition: -3, timestamp: 1_700_000_000, secretKey: undefined });
    expect(failures.map((f) => f.property).sort()).toEqual(["group", "partition", "timestamp"]);
    const withHalfPair = failuresOf({ ...base, messageOffset: 1, secretKey: undefined });
    expect(withHalfPair.map((f) => f.property)).toEqual(["secretKey"]);
    expect(JSON.stringify(withHalfPair)).not.toContain(AK);
  });
});

describe("endpoint and credentials fall back to the environment, then stack configuration", () => {
  const bare = { projectId: "p", instanceId: "i", group: "g", messageOffset: 1 };

  test("without any, check fails on endpoint and accessKey and says where to set them", () => {
    const failures = failuresOf(bare);
    expect(failures).toEqual([
      { property: "endpoint", reason: expect.stringMatching(/dms-offset-reset:endpoint.*HW_REGION_NAME/) },
      { property: "accessKey", reason: expect.stringMatching(/CLOUD_SDK_AK.*dms-offset-reset:accessKey/) },
    ]);
  });
  test("the environment: CLOUD_SDK_AK/SK and HW_REGION_NAME", () => {
    expect(failuresOf(bare, { CLOUD_SDK_AK: AK, CLOUD_SDK_SK: SK, HW_REGION_NAME: "cn-north-4" })).toEqual([]);
    expect(failuresOf(bare, { HW_ACCESS_KEY: AK, HW_SECRET_KEY: SK, HW_REGION_NAME: "cn-north-4" })).toEqual([]);
  });
  test("stack configuration, read through the host's Config in configure", () => {
    const config: Record<string, string> = {
      [CONFIG_KEYS.accessKey]: AK,
      [CONFIG_KEYS.secretKey]: SK,
      [CONFIG_KEYS.endpoint]: "http://127.0.0.1:1234",
    };
    const stack = settingsFromConfig({ get: (key) => config[key] });
    expect(failuresOf(bare, noEnv, stack)).toEqual([]);
    // Stored inputs do not absorb the fallbacks: they stay what the program declared.
    const { inputs } = checkInputs(bare, noEnv, stack);
    expect(inputs).not.toHaveProperty("endpoint");
    expect(inputs).not.toHaveProperty("accessKey");
  });
  test("a Config that throws (no Configure from the engine) reads as empty", () => {
    const stack = settingsFromConfig({
      get: () => {
        throw new TypeError("Cannot read properties of undefined");
      },
    });
    expect(stack).toEqual({});
  });
});

describe("check during preview tolerates unknown values", () => {
  test("unknown names and positions pass and stay unknown", () => {
    const { inputs, failures } = checkInputs({ ...base, projectId: UNKNOWN, group: UNKNOWN, timestamp: UNKNOWN }, noEnv, {});
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({ projectId: UNKNOWN, group: UNKNOWN, timestamp: UNKNOWN, partition: -1, instanceId: "i" });
    expect(inputs).not.toHaveProperty("messageOffset");
  });
  test("one position unknown: the known one is still validated, both/neither is not judged yet", () => {
    expect(failuresOf({ ...base, messageOffset: UNKNOWN, timestamp: "2026-11-24T02:00:00Z" })).toEqual([]);
    expect(failuresOf({ ...base, messageOffset: UNKNOWN })).toEqual([]);
    expect(failuresOf({ ...base, messageOffset: UNKNOWN, timestamp: 1_700_000_000 }).map((f) => f.property)).toEqual(["timestamp"]);
  });
  test("known mistakes are reported next to unknown values", () => {
    expect(failuresOf({ ...base, instanceId: UNKNOWN, group: "", messageOffset: 1 }).map((f) => f.property)).toEqual(["group"]);
  });
  test("unknown credentials or endpoint: resolution waits for up", () => {
    const { endpoint: _e, accessKey: _a, ...rest } = base;
    expect(failuresOf({ ...rest, endpoint: UNKNOWN, accessKey: UNKNOWN, messageOffset: 1 })).toEqual([]);
  });
});
