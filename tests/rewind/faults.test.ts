// "Never applied twice, never misreported", through rewind(): dms-local behind the fault proxy, the answer
// to one reset call lost, late, replaced, refused or never delivered, for a rewind of one topic (one call),
// of every topic (one call that DMS runs as a task) and a shiftBy (one call per partition, the fault on the
// second). For each fault: how many times dms-local applied a reset (exactly once per call, or none), the
// outcome reported and how it was confirmed, and the offsets from before (the undo record) in the result
// or in the error.
import { once } from "node:events";
import { Agent } from "undici";
import { DmsClient } from "../../provider/dms/client";
import { DmsError } from "../../provider/dms/errors";
import { PartialResetError, ResetOutcomeUnknownError } from "../../provider/rewind/errors";
import { rewind, type RewindOptions, type RewindResult } from "../../provider/rewind/rewind";
import type { RewindInput } from "../../provider/rewind/target";
import type { DmsLocal } from "../../dms-local/server";
import { firstConnectError } from "../client/fake-server";
import { CREDENTIALS } from "../dms-local/helpers";
import { startFaultProxy, type FaultAction, type FaultProxy } from "../faults/fault-proxy";
import { byKey, clientFor, committed, failure, INSTANCE_ID, PROJECT_ID, rewindOf, startLocal, until } from "./helpers";

let dms: DmsLocal;
let proxy: FaultProxy;
const clients: DmsClient[] = [];
const agents: Agent[] = [];

beforeEach(async () => {
  dms = await startLocal({ taskDelayMs: 20 });
  proxy = await startFaultProxy(dms.url);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const a of agents.splice(0)) await a.close();
  await proxy.close();
  await dms.close();
});

function client(deadlineMs = 20_000): DmsClient {
  const c = clientFor(proxy.url, deadlineMs);
  clients.push(c);
  return c;
}

interface Shape {
  name: string;
  input: Omit<RewindInput, "projectId" | "instanceId">;
  group: string;
  before: Record<string, bigint>;
  after: Record<string, bigint>;
  calls: number;
  /** Which call the fault hits (matching PUTs let through first). */
  faulted: number;
  /** What the rewind reads to decide after a lost answer. */
  readBack: string;
}

const SHAPES: Shape[] = [
  {
    name: "one topic",
    input: { group: "g-idle", topic: "orders", messageOffset: 5 },
    group: "g-idle",
    before: { "orders/0": 900n, "orders/1": 950n, "orders/2": 450n },
    after: { "orders/0": 5n, "orders/1": 100n, "orders/2": 5n },
    calls: 1,
    faulted: 0,
    readBack: "/message-offset",
  },
  {
    name: "all topics",
    input: { group: "billing", messageOffset: 5 },
    group: "billing",
    before: { "orders/0": 990n, "payments/0": 780n, "payments/1": 690n },
    after: { "orders/0": 5n, "payments/0": 5n, "payments/1": 50n },
    calls: 1,
    faulted: 0,
    readBack: "/tasks",
  },
  {
    name: "shiftBy, a call per partition",
    input: { group: "g-idle", topic: "orders", shiftBy: -100 },
    group: "g-idle",
    before: { "orders/0": 900n, "orders/1": 950n, "orders/2": 450n },
    after: { "orders/0": 800n, "orders/1": 850n, "orders/2": 350n },
    calls: 3,
    faulted: 1,
    readBack: "/message-offset",
  },
];

const puts = () => proxy.requests.filter((r) => r.method === "PUT");
const applications = (shape: Shape) => dms.applications(INSTANCE_ID, shape.group).count;
const run = (shape: Shape, c: DmsClient, options: RewindOptions = {}) => rewind(c, rewindOf(shape.input), { pollIntervalMs: 5, ...options });
const gatewayPage = (status: number) => `<html><head><title>${status}</title></head><body><h1>${status}</h1></body></html>`;
const dmsError = (code: string, msg: string) => JSON.stringify({ error_code: code, error_msg: msg });

/** The rewind ended as planned: each call applied once, the faulted one confirmed as said, the undo record kept. */
async function expectDone(shape: Shape, result: RewindResult, faultedConfirmedBy: "answer" | "read-back"): Promise<void> {
  expect(result.calls.map((c) => c.confirmedBy)).toEqual(Array.from({ length: shape.calls }, (_, i) => (i === shape.faulted ? faultedConfirmedBy : "answer")));
  expect(applications(shape)).toBe(shape.calls);
  expect(await committed(dms, shape.group)).toEqual(shape.after);
  expect(byKey(result.appliedOffsets)).toEqual(shape.after);
  expect(byKey(result.previousOffsets)).toEqual(shape.before);
}

describe.each(SHAPES)("$name", (shape) => {
  const rule = (action: FaultAction, count = 1) => ({ count, skip: shape.faulted, match: { method: "PUT" }, action });

  describe("the answer lost after DMS applied the reset: read back, applied once, confirmed by the read-back", () => {
    test.each<[string, FaultAction]>([
      ["connection dropped", { kind: "forward-then-drop" }],
      ["a gateway's 502 instead", { kind: "forward-then-replace", status: 502, body: gatewayPage(502) }],
      ["a gateway's 503 instead", { kind: "forward-then-replace", status: 503, body: gatewayPage(503) }],
      ["a gateway's 504 instead", { kind: "forward-then-replace", status: 504, body: gatewayPage(504) }],
    ])("%s", async (_what, action) => {
      proxy.add(rule(action));
      const result = await run(shape, client());
      expect(puts()).toHaveLength(shape.calls);
      expect(puts()[shape.faulted]).toMatchObject({ fault: action.kind, forwarded: true, upstreamStatus: 204 });
      await expectDone(shape, result, "read-back");
    });

    test("the answer held past the client's deadline", async () => {
      proxy.add(rule({ kind: "forward-then-delay" }));
      const result = await run(shape, client(3000));
      expect(puts()).toHaveLength(shape.calls);
      expect(puts()[shape.faulted]).toMatchObject({ forwarded: true, upstreamStatus: 204, answered: "gone" });
      await expectDone(shape, result, "read-back");
    });
  });

  describe("DMS provably did not act: sent again, applied once, confirmed by the answer", () => {
    test("the connection dropped before the request reached DMS: read back says not applied, sent again", async () => {
      proxy.add(rule({ kind: "drop-before-forward" }));
      const lines: string[] = [];
      const result = await run(shape, client(), { log: (l) => lines.push(l) });
      expect(puts()).toHaveLength(shape.calls + 1);
      expect(puts()[shape.faulted]).toMatchObject({ forwarded: false, answered: "dropped" });
      expect(puts()[shape.faulted + 1]).toMatchObject({ forwarded: true, answered: 204 });
      expect(lines.some((l) => /did not apply .*: sending it again/.test(l))).toBe(true);
      await expectDone(shape, result, "answer");
    });

    test("connections refused, then the endpoint recovers", async () => {
      const agent = new Agent();
      agents.push(agent);
      const c = new DmsClient({ endpoint: new URL(proxy.url), projectId: PROJECT_ID, credentials: CREDENTIALS, dispatcher: agent, deadlineMs: 20_000, retry: { baseDelayMs: 10, maxDelayMs: 100 } });
      clients.push(c);
      let refusedWhileDown = false;
      const result = await run(shape, c, {
        beforeSend: async () => {
          // The plan's reads kept a connection open: once it is gone, the next request is refused, not written into it.
          const disconnected = once(agent, "disconnect");
          await proxy.stop();
          await disconnected;
          void firstConnectError(new URL(proxy.url).port).then(async () => {
            refusedWhileDown = true;
            await proxy.start();
          });
        },
      });
      expect(refusedWhileDown).toBe(true);
      expect(puts()).toHaveLength(shape.calls);
      expect(result.calls.every((call) => call.confirmedBy === "answer")).toBe(true);
      await expectDone(shape, result, "answer");
    });

    test.each<[string, number, string]>([
      ["429 from the gateway", 429, dmsError("APIG.0308", "The throttling threshold has been reached")],
      ["DMS.00400026, another operation in progress", 400, dmsError("DMS.00400026", "Another operation is in progress")],
    ])("%s, twice", async (_what, status, body) => {
      proxy.add(rule({ kind: "answer-instead", status, body }, 2));
      const result = await run(shape, client());
      expect(puts().map((r) => r.answered)).toEqual(Array.from({ length: shape.calls + 2 }, (_, i) => (i === shape.faulted || i === shape.faulted + 1 ? status : 204)));
      await expectDone(shape, result, "answer");
    });
  });

  test("an explicit refusal: nothing of that call applied, DmsError (or, after calls that applied, PartialResetError with the undo record)", async () => {
    proxy.add(rule({ kind: "answer-instead", status: 400, body: dmsError("DMS.00400062", "Invalid parameter: injected refusal") }));
    const err = await failure(run(shape, client()));
    expect(puts()).toHaveLength(shape.faulted + 1);
    expect(applications(shape)).toBe(shape.faulted);
    if (shape.faulted === 0) {
      expect(err).toBeInstanceOf(DmsError);
      expect(err).toMatchObject({ status: 400, errorCode: "DMS.00400062" });
      expect(await committed(dms, shape.group)).toEqual(shape.before);
    } else {
      expect(err).toBeInstanceOf(PartialResetError);
      expect(byKey((err as PartialResetError).undo)).toEqual(shape.before);
      expect((err as PartialResetError).cause).toBeInstanceOf(DmsError);
    }
  });

  test("the answer lost and the read-back failing too: OUTCOME UNKNOWN with the undo record, never sent again", async () => {
    const result = run(shape, client(), {
      beforeSend: () => {
        proxy.add(rule({ kind: "forward-then-drop" }));
        // An all-topics call lists the tasks once before it is sent: that read passes.
        proxy.add({ count: 100, skip: shape.readBack === "/tasks" ? 1 : 0, match: { method: "GET", pathIncludes: shape.readBack }, action: { kind: "answer-instead", status: 403, body: dmsError("APIG.0302", "not authorized to read") } });
      },
    });
    const err = await failure(result);
    expect(err).toBeInstanceOf(ResetOutcomeUnknownError);
    const unknown = err as ResetOutcomeUnknownError;
    expect(byKey(unknown.undo)).toEqual(shape.before);
    expect(unknown.offsetsNow).toBeUndefined();
    expect(unknown.applied).toHaveLength(shape.faulted);
    expect(unknown.message).toMatch(/^OUTCOME UNKNOWN: .*reading the group back failed too: .*APIG\.0302.*Offsets before the reset \(to undo, rewind to these\): /);
    for (const [k, v] of Object.entries(shape.before)) expect(unknown.message).toContain(`${k}=${v}`);
    // Midway through a plan, the message says which calls were applied before the unknown one and which were never sent.
    if (shape.faulted > 0) expect(unknown.message).toMatch(/; applied before it: the reset of group g-idle \(topic orders, partition 0\) to offset 800/);
    if (shape.calls > shape.faulted + 1) expect(unknown.message).toMatch(/; never sent: the reset of group g-idle \(topic orders, partition 2\) to offset 350/);
    expect(unknown.notSent).toHaveLength(shape.calls - shape.faulted - 1);
    expect(puts()).toHaveLength(shape.faulted + 1);
    // DMS did apply it (an all-topics task commits a moment later): once.
    await until(() => applications(shape) === shape.faulted + 1, "the lost reset's application");
    expect(applications(shape)).toBe(shape.faulted + 1);
  });
});
