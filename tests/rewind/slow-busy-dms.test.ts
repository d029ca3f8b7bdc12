// A rewind against a DMS that is slow, busy with other groups, or dates its records far out: cases whose
// fix lay in the DMS client (found while testing the rewind).
import { DmsClient } from "../../provider/dms/client";
import { rewind } from "../../provider/rewind/rewind";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { CREDENTIALS, INSTANCE_ID, PROJECT_ID, testSeed } from "../dms-local/helpers";
import { startFaultProxy, type FaultProxy } from "../faults/fault-proxy";
import { BYSTANDERS, clientFor, committed, GatedWorld, rewindOf, rewindSeed, startLocal } from "./helpers";

let dms: DmsLocal | undefined;
let proxy: FaultProxy | undefined;
const clients: DmsClient[] = [];
const worlds: GatedWorld[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await proxy?.close();
  await dms?.close();
  for (const w of worlds.splice(0)) await w.close();
  proxy = undefined;
  dms = undefined;
});

function client(url: string, deadlineMs = 20_000): DmsClient {
  const c = clientFor(url, deadlineMs);
  clients.push(c);
  return c;
}

const applications = (group: string) => (dms as DmsLocal).applications(INSTANCE_ID, group).count;

test("DMS slow to apply: a resend answered DMS.00400026 is not retried blind; the rewind reads back until the first attempt shows, and DMS applies the reset once", async () => {
  // The client hands a resend's DMS.00400026 back to the rewind (RESEND_RULE) instead of retrying it until the
  // first attempt is done and then applying it a second time.
  const world = new GatedWorld(rewindSeed());
  worlds.push(world);
  dms = await startLocal({ world });
  proxy = await startFaultProxy(dms.url);
  const p = proxy;
  let entered: Promise<void> | undefined;
  const done = rewind(client(p.url, 3000), rewindOf({ group: "g-idle", topic: "orders", messageOffset: 5 }), { pollIntervalMs: 5, beforeSend: () => void (entered = world.hold()) });
  // The first PUT's commit is held; its answer times out; the read-back finds nothing applied; the resend is refused "in progress".
  await p.until((r) => r.some((x) => x.method === "PUT" && x.answered === 400));
  await entered;
  world.release();
  await done;
  expect(await committed(dms, "g-idle")).toEqual({ "orders/0": 5n, "orders/1": 100n, "orders/2": 5n });
  expect(applications("g-idle")).toBe(1);
});

test("all topics: ten tasks of other groups started between the reset and its read-back do not hide its task: sent once, run once", async () => {
  // listTasks reads every page of the tasks created since just before the reset (begin_time), not DMS's first ten.
  dms = await startLocal({ taskDelayMs: 20 });
  proxy = await startFaultProxy(dms.url);
  const p = proxy;
  const direct = client(dms.url);
  const done = rewind(client(p.url), rewindOf({ group: "billing", messageOffset: 5 }), {
    pollIntervalMs: 5,
    beforeSend: () => {
      p.add({ count: 1, match: { method: "PUT" }, action: { kind: "forward-then-drop" } });
      // The task list read before the reset passes; the one that decides is held while the other groups reset.
      p.add({ count: 1, skip: 1, match: { method: "GET", pathIncludes: "/tasks" }, action: { kind: "hold-then-forward" } });
    },
  });
  const held = await p.nextHeld();
  for (const group of BYSTANDERS.slice(0, 10)) await direct.resetMessageOffset({ instanceId: INSTANCE_ID, group, partition: -1, position: { messageOffset: 0n } });
  held.release();
  await done;
  // The rewind waited for the task it took for its own, the resend's; the first one had run before it.
  expect(applications("billing")).toBe(1);
  expect(p.requests.filter((r) => r.method === "PUT")).toHaveLength(1);
});

test("a topic whose last record is dated past 2^53 ms can be planned: ShowInstanceTopicDetail's last_update_timestamp is read as an int64", async () => {
  dms = await startDmsLocal({ seed: testSeed() });
  const c = new DmsClient({ endpoint: new URL(dms.url), projectId: PROJECT_ID, credentials: CREDENTIALS });
  clients.push(c);
  await expect(c.showTopic(INSTANCE_ID, "huge")).resolves.toMatchObject({ topic: "huge" });
});
