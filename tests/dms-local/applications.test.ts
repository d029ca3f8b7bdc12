// The application counter: how many resets dms-local actually applied per instance and group, which
// is what fault tests compare with how many were sent. Read through the admin API and from code.
import { z } from "zod";
import { MemoryWorld } from "../../dms-local/memory-world";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import type { CommittedOffset } from "../../dms-local/world";
import { TasksResponse, WireInt64 } from "../../provider/dms/wire";
import { adminCall, eventually, INSTANCE_ID, paths, signedCall, testSeed } from "./helpers";

const Applications = z.object({
  applications: z.array(
    z.object({
      instanceId: z.string(),
      group: z.string(),
      count: z.number(),
      last: z.object({ at: z.string(), offsets: z.array(z.object({ topic: z.string(), partition: z.number(), offset: WireInt64 })) }),
    }),
  ),
});

const servers: DmsLocal[] = [];
async function serve(options: Partial<Parameters<typeof startDmsLocal>[0]> = {}): Promise<DmsLocal> {
  const dms = await startDmsLocal({ seed: testSeed(), admin: true, taskDelayMs: 100, ...options });
  servers.push(dms);
  return dms;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const reset = (dms: DmsLocal, group: string, body: unknown) => signedCall(dms.url, { method: "PUT", segments: paths.engineReset(group), body: JSON.stringify(body) });

async function listed(dms: DmsLocal): Promise<z.infer<typeof Applications>["applications"]> {
  return Applications.parse((await adminCall(dms.url, "GET", "/__admin/applications")).json).applications;
}

async function taskStatus(dms: DmsLocal): Promise<string | undefined> {
  const res = await signedCall(dms.url, { method: "GET", segments: paths.tasks() });
  return TasksResponse.parse(res.json).tasks[0]?.status;
}

test("each applied topic reset counts once, with its offsets; refused ones and ones a fault answered first do not count", async () => {
  const dms = await serve();
  const before = Date.now();
  expect((await reset(dms, "g-idle", { topic: "orders", partition: -1, message_offset: 5 })).status).toBe(204);
  expect(dms.applications(INSTANCE_ID, "g-idle")).toEqual({
    count: 1,
    last: { at: expect.any(Date), offsets: [{ topic: "orders", partition: 0, offset: 5n }, { topic: "orders", partition: 1, offset: 100n }, { topic: "orders", partition: 2, offset: 5n }] },
  });
  expect(dms.applications(INSTANCE_ID, "g-idle").last!.at.getTime()).toBeGreaterThanOrEqual(before);

  // Refused by DMS: live consumers, a bad body, an unknown topic.
  expect((await reset(dms, "g-busy", { topic: "orders", partition: 0, message_offset: 1 })).status).toBe(400);
  expect((await reset(dms, "g-idle", { topic: "orders", partition: 0 })).status).toBe(400);
  expect((await reset(dms, "g-idle", { topic: "nope", partition: 0, message_offset: 1 })).status).toBe(400);
  // Answered by a fault before DMS saw it.
  await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, status: 503 });
  expect((await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 1 })).status).toBe(503);
  expect(dms.applications(INSTANCE_ID, "g-busy")).toEqual({ count: 0 });
  expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);

  expect((await reset(dms, "g-idle", { topic: "orders", partition: 2, message_offset: 7 })).status).toBe(204);
  expect(dms.applications(INSTANCE_ID, "g-idle")).toMatchObject({ count: 2, last: { offsets: [{ topic: "orders", partition: 2, offset: 7n }] } });
});

test("an `after` fault applies the reset, then loses the answer: the counter shows it applied", async () => {
  const dms = await serve();
  await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, drop: true, after: true, match: { method: "PUT" } });
  await expect(reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 42 })).rejects.toThrow();
  expect(dms.applications(INSTANCE_ID, "g-idle")).toMatchObject({ count: 1, last: { offsets: [{ topic: "orders", partition: 0, offset: 42n }] } });
  expect(await dms.world.committedOffsets(INSTANCE_ID, "g-idle")).toContainEqual({ topic: "orders", partition: 0, offset: 42n });

  await adminCall(dms.url, "POST", "/__admin/faults", { count: 1, status: 500, after: true });
  expect((await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 43 })).status).toBe(500);
  expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(2);
});

test("an all-topics task counts once when it applies, not when it is created", async () => {
  const dms = await serve({ taskDelayMs: 300 });
  expect((await reset(dms, "billing", { partition: -1, message_offset: 0 })).status).toBe(204);
  expect(await taskStatus(dms)).toBe("CREATED");
  expect(dms.applications(INSTANCE_ID, "billing")).toEqual({ count: 0 });
  await eventually(async () => ((await taskStatus(dms)) === "SUCCESS" ? true : undefined));
  expect(dms.applications(INSTANCE_ID, "billing")).toMatchObject({
    count: 1,
    last: { offsets: [{ topic: "orders", partition: 0, offset: 0n }, { topic: "payments", partition: 0, offset: 0n }, { topic: "payments", partition: 1, offset: 50n }] },
  });
});

test("a task whose commit fails (FAILED) is not counted", async () => {
  class RefusingWorld extends MemoryWorld {
    override async commitOffsets(_instanceId: string, _group: string, _offsets: readonly CommittedOffset[]): Promise<void> {
      throw new Error("coordinator unavailable");
    }
  }
  const world = new RefusingWorld(testSeed());
  try {
    const dms = await serve({ world });
    expect((await reset(dms, "billing", { partition: -1, message_offset: 0 })).status).toBe(204);
    await eventually(async () => ((await taskStatus(dms)) === "FAILED" ? true : undefined));
    expect(dms.applications(INSTANCE_ID, "billing")).toEqual({ count: 0 });
  } finally {
    await world.close();
  }
});

test("GET /__admin/applications lists every group applied to; DELETE starts the count again", async () => {
  const dms = await serve();
  await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 3 });
  await reset(dms, "g-idle", { topic: "orders", partition: 0, message_offset: 4 });
  await reset(dms, "g-huge", { topic: "huge", partition: 0, message_offset: "9007199254740993" });
  const res = await adminCall(dms.url, "GET", "/__admin/applications");
  // int64 exact on the wire.
  expect(res.text).toContain('"offset":9007199254740993');
  expect(await listed(dms)).toEqual([
    { instanceId: INSTANCE_ID, group: "g-idle", count: 2, last: { at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), offsets: [{ topic: "orders", partition: 0, offset: 4n }] } },
    { instanceId: INSTANCE_ID, group: "g-huge", count: 1, last: { at: expect.any(String), offsets: [{ topic: "huge", partition: 0, offset: 9_007_199_254_740_993n }] } },
  ]);
  expect((await adminCall(dms.url, "DELETE", "/__admin/applications")).status).toBe(204);
  expect(await listed(dms)).toEqual([]);
  expect(dms.applications(INSTANCE_ID, "g-idle")).toEqual({ count: 0 });
  // Without --admin the counter is still there from code, and the route is not.
  const quiet = await serve({ admin: false });
  await reset(quiet, "g-idle", { topic: "orders", partition: 0, message_offset: 3 });
  expect(quiet.applications(INSTANCE_ID, "g-idle").count).toBe(1);
  expect((await adminCall(quiet.url, "GET", "/__admin/applications")).status).toBe(404);
});
