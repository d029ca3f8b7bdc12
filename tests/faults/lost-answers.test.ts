// "Never applied twice, never misreported": the client against dms-local behind the fault proxy, with the
// answer to a reset lost after DMS applied it. The client sends the reset once and reports its outcome as
// unknown; dms-local counts how many times it was applied (once), whatever the client saw.
import { DmsClient } from "../../provider/dms/client";
import { RESET_TASK_NAME } from "../../provider/dms/wire";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { firstConnectError } from "../client/fake-server";
import { CREDENTIALS, INSTANCE_ID, PROJECT_ID, testSeed } from "../dms-local/helpers";
import { startFaultProxy, type FaultAction, type FaultProxy } from "./fault-proxy";

let dms: DmsLocal;
let proxy: FaultProxy;
const clients: DmsClient[] = [];

function client(deadlineMs = 20_000): DmsClient {
  const c = new DmsClient({ endpoint: new URL(proxy.url), projectId: PROJECT_ID, credentials: CREDENTIALS, deadlineMs, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  dms = await startDmsLocal({ seed: testSeed(), taskDelayMs: 100 });
  proxy = await startFaultProxy(dms.url);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await proxy.close();
  await dms.close();
});

const oneTopic = { instanceId: INSTANCE_ID, group: "g-idle", topic: "orders", partition: 0, position: { messageOffset: 5n } };
const puts = () => proxy.requests.filter((r) => r.method === "PUT");
const gatewayPage = (status: number) => `<html><head><title>${status}</title></head><body><center><h1>${status} Gateway Error</h1></center></body></html>`;

describe("a reset whose answer is lost after DMS applied it", () => {
  test.each<[string, FaultAction]>([
    ["the connection is dropped", { kind: "forward-then-drop" }],
    ["a gateway answers 502 instead", { kind: "forward-then-replace", status: 502, body: gatewayPage(502) }],
    ["a gateway answers 504 instead", { kind: "forward-then-replace", status: 504, body: gatewayPage(504) }],
  ])("%s: sent once, outcome unknown, applied exactly once", async (_what, action) => {
    proxy.add({ count: 1, match: { method: "PUT" }, action });
    const c = client();
    const outcome = await c.resetMessageOffset(oneTopic);
    expect(outcome).toMatchObject({ outcome: "unknown" });
    expect(puts()).toEqual([expect.objectContaining({ forwarded: true, upstreamStatus: 204, fault: action.kind })]);
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);
    // What the caller does next to decide: read the group back.
    const offsets = await c.listGroupMessageOffsets(INSTANCE_ID, "g-idle", "orders");
    expect(offsets.find((o) => o.partition === 0)?.messageCurrentOffset).toBe(5n);
  });

  test("the answer comes after the client's deadline: outcome unknown, nothing sent again", async () => {
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "forward-then-delay" } });
    const outcome = client(500).resetMessageOffset(oneTopic);
    const held = await proxy.nextHeld();
    await expect(outcome).resolves.toMatchObject({ outcome: "unknown", reason: expect.stringMatching(/deadline/) });
    held.release();
    await proxy.until((r) => r[0]?.answered !== undefined);
    expect(puts()).toHaveLength(1);
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);
  });

  test("an all-topics reset starts exactly one task", async () => {
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "forward-then-drop" } });
    const c = client();
    const before = (await c.listTasks(INSTANCE_ID)).filter((t) => t.name === RESET_TASK_NAME);
    const outcome = await c.resetMessageOffset({ instanceId: INSTANCE_ID, group: "billing", partition: -1, position: { messageOffset: 0n } });
    expect(outcome).toMatchObject({ outcome: "unknown" });
    const after = (await c.listTasks(INSTANCE_ID)).filter((t) => t.name === RESET_TASK_NAME);
    expect(after.length - before.length).toBe(1);
    expect(puts()).toHaveLength(1);
  });
});

describe("a reset that provably never reached DMS", () => {
  test("connections refused: sent again until the endpoint listens, then applied once", async () => {
    await proxy.stop();
    const refused = firstConnectError(new URL(proxy.url).port);
    const outcome = client().resetMessageOffset(oneTopic);
    await refused;
    await proxy.start();
    await expect(outcome).resolves.toMatchObject({ outcome: "applied" });
    expect(puts()).toHaveLength(1);
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(1);
  });
});

describe("what the client cannot tell apart", () => {
  test("a connection dropped before forwarding looks like one dropped after: unknown, though DMS saw nothing", async () => {
    // The request was written before the drop: nothing on the client's side proves that DMS never read it.
    proxy.add({ count: 1, match: { method: "PUT" }, action: { kind: "drop-before-forward" } });
    await expect(client().resetMessageOffset(oneTopic)).resolves.toMatchObject({ outcome: "unknown" });
    expect(puts()).toEqual([expect.objectContaining({ forwarded: false, answered: "dropped" })]);
    expect(dms.applications(INSTANCE_ID, "g-idle").count).toBe(0);
  });
});
