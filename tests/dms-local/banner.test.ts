// The start banner's cases the bin tests do not start a process for: --kafka (topics and groups are the
// broker's), a seed without groups, a specific non-loopback address, secrets never printed but the demo's,
// groups that empty after a timer or after N reads.
import { startJson, startText, type StartFacts } from "../../dms-local/banner";
import { CREDENTIALS, INSTANCE_ID, PROJECT_ID, testSeed } from "./helpers";

function facts(over: Partial<StartFacts> = {}): StartFacts {
  return { url: "http://127.0.0.1:18080", seed: testSeed(), seedPath: "/tmp/seed.json", demoCredentials: [], admin: false, host: "127.0.0.1", ...over };
}

test("--kafka: the first line names the broker; topics and groups are the broker's (null in JSON)", () => {
  const kafka = facts({ kafka: "127.0.0.1:19092", seed: testSeed((s) => ((s.instances[0]!.topics = {}), (s.instances[0]!.groups = {}))) });
  const text = startText(kafka);
  expect(text.split("\n")[0]).toBe(`dms-local listening on http://127.0.0.1:18080 (Kafka at 127.0.0.1:19092 as instance ${INSTANCE_ID})`);
  expect(text).toContain("    topics and groups: the broker's at 127.0.0.1:19092\n");
  expect(text).toContain(`--group GROUP\n`);
  const json = JSON.parse(startJson(kafka)) as { kafka: string; instances: { topics: unknown; groups: unknown }[] };
  expect(json.kafka).toBe("127.0.0.1:19092");
  expect(json.instances[0]).toMatchObject({ topics: null, groups: null });
});

test("a seed's own key pair is never printed, the demo's only when it is exactly the demo's", () => {
  const own = startText(facts());
  expect(own).toContain(`credentials  AK ${CREDENTIALS.accessKey}; its SK is credentials[0].sk in /tmp/seed.json (not printed)`);
  expect(own).not.toContain(CREDENTIALS.secretKey);
  // Same AK as the demo, another SK: not the demo's.
  const lookalike = startJson(facts({ demoCredentials: [{ ak: CREDENTIALS.accessKey, sk: "the-demo-sk" }] }));
  expect(lookalike).not.toContain(CREDENTIALS.secretKey);
  const demo = startText(facts({ demoCredentials: [{ ak: CREDENTIALS.accessKey, sk: CREDENTIALS.secretKey }] }));
  expect(demo).toContain(`export CLOUD_SDK_AK=${CREDENTIALS.accessKey} CLOUD_SDK_SK=${CREDENTIALS.secretKey}\n`);
});

test("the command to try: the first EMPTY group; through loopback for a wildcard bind; --allow-insecure-http for a network address", () => {
  expect(startText(facts())).toContain(`  try          dms-offsets show --endpoint http://127.0.0.1:18080 --project-id ${PROJECT_ID} --instance-id ${INSTANCE_ID} --group g-idle\n`);
  expect(startText(facts({ host: "::", url: "http://[::]:18080" }))).toContain("--endpoint http://[::1]:18080 --project-id");
  expect(startText(facts({ host: "10.0.0.5", url: "http://10.0.0.5:18080" }))).toContain("--endpoint http://10.0.0.5:18080 --allow-insecure-http --project-id");
  const noGroups = facts({ seed: testSeed((s) => (s.instances[0]!.groups = {})) });
  expect(startText(noGroups)).toContain("    groups     (none)\n");
  expect(startText(noGroups)).toMatch(/--group GROUP\n$/);
});

test("a group that empties says when: after a timer, or after its state has been read N times (also in JSON)", () => {
  const seed = testSeed((s) => {
    const busy = s.instances[0]!.groups!["g-busy"]!;
    s.instances[0]!.groups!["g-later"] = { ...busy, emptyAfterMs: 30_000 };
    busy.emptyAfterReads = 2;
  });
  const text = startText(facts({ seed }));
  expect(text).toContain("g-busy STABLE (EMPTY after its state is read 2 times), g-later STABLE (EMPTY 30 s after start)\n");
  const json = JSON.parse(startJson(facts({ seed }))) as { instances: { groups: unknown[] }[] };
  expect(json.instances[0]!.groups).toEqual(
    expect.arrayContaining([
      { name: "g-busy", state: "STABLE", emptyAfterReads: 2 },
      { name: "g-later", state: "STABLE", emptyAfterMs: 30_000 },
    ]),
  );
});
