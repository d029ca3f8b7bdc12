import { inspect } from "node:util";
import { DmsClient } from "../../provider/dms/client";
import { DmsError, DmsResponseError, DmsUnreachableError } from "../../provider/dms/errors";
import { errorBody, fakeServerWithClientPerTest, verifiesSignature, type Received, type Reply } from "./fake-server";

const credentials = { accessKey: "AK-TEST-0001", secretKey: "SK-TEST-SECRET", securityToken: "TOKEN-TEST-777" };

const startWithClient = fakeServerWithClientPerTest();
const setup = (handler: (r: Received, index: number) => Reply) => startWithClient(handler, { credentials, retry: { baseDelayMs: 10, maxDelayMs: 50 } });

describe("resetMessageOffset", () => {
  test("int64 offsets arrive exact on the wire", async () => {
    const { server, client } = await setup(() => ({ status: 204 }));
    await client.resetMessageOffset({ instanceId: "inst-1", group: "g1", topic: "orders", partition: 3, position: { messageOffset: 2n ** 53n + 1n } });
    expect(server.received[0]?.body.toString("utf8")).toBe('{"partition":3,"topic":"orders","message_offset":9007199254740993}');
    expect(server.received[0]?.body.includes('"message_offset":9007199254740993')).toBe(true);
  });

  test("engine API: PUT with the group percent-encoded once, signed as sent, project and token headers signed", async () => {
    const { server, client } = await setup(() => ({ status: 204 }));
    await expect(client.resetMessageOffset({ instanceId: "inst-1", group: "grp/ä b", partition: -1, position: { timestamp: 1764000000000 } })).resolves.toEqual({ outcome: "applied", requestId: "req-1" });
    const r = server.received[0] as Received;
    expect(r.method).toBe("PUT");
    expect(r.url).toBe("/v2/kafka/proj-1/instances/inst-1/groups/grp%2F%C3%A4%20b/reset-message-offset");
    expect(r.body.toString()).toBe('{"partition":-1,"timestamp":1764000000000}');
    expect(r.headers["x-project-id"]).toBe("proj-1");
    expect(r.headers["x-security-token"]).toBe(credentials.securityToken);
    expect(String(r.headers.authorization)).toMatch(/SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token,/);
    expect(verifiesSignature(r, credentials.secretKey)).toBe(true);
  });

  test("legacy API: POST to the management path, same body", async () => {
    const { server, client } = await setup(() => ({ status: 204 }));
    await client.resetMessageOffset({ instanceId: "inst-1", group: "g1", topic: "t", partition: 0, position: { messageOffset: 0n }, legacyApi: true });
    const r = server.received[0] as Received;
    expect(`${r.method} ${r.url}`).toBe("POST /v2/proj-1/instances/inst-1/management/groups/g1/reset-message-offset");
    expect(r.body.toString()).toBe('{"partition":0,"topic":"t","message_offset":0}');
    expect(verifiesSignature(r, credentials.secretKey)).toBe(true);
  });
});

describe("reads", () => {
  test("showGroup and showGroupDetails", async () => {
    const { client } = await setup((r) =>
      r.url.includes("/management/")
        ? {
            status: 200,
            body: JSON.stringify({
              group: {
                group_id: "g1",
                state: "STABLE",
                members: [{ member_id: "m-1", host: "/10.0.0.7", client_id: "billing-1", assignment: [{ topic: "orders", partitions: [0, 2] }] }],
                group_message_offsets: [],
              },
            }),
          }
        : { status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "STABLE", coordinator_id: 1, lag: 3 } }) },
    );
    await expect(client.showGroup("inst-1", "g1")).resolves.toEqual({ group: "g1", state: "STABLE" });
    await expect(client.showGroupDetails("inst-1", "g1")).resolves.toEqual({
      group: "g1",
      state: "STABLE",
      members: [{ memberId: "m-1", clientId: "billing-1", host: "/10.0.0.7", assignment: [{ topic: "orders", partitions: [0, 2] }] }],
    });
  });

  test("listGroupMessageOffsets walks every page, int64 exact", async () => {
    const rows = Array.from({ length: 120 }, (_, p) => ({
      topic: "orders",
      partition: p,
      message_current_offset: p,
      message_log_start_offset: 0,
      message_log_end_offset: p === 7 ? "9007199254740993" : 200,
      lag: 1,
    }));
    const { server, client } = await setup((r) => {
      const q = new URL(r.url, "http://x").searchParams;
      const offset = Number(q.get("offset"));
      const limit = Number(q.get("limit"));
      // Raw JSON so that the big offset travels as a bare number, as DMS sends it.
      const page = JSON.stringify({ group_message_offsets: rows.slice(offset, offset + limit), total: rows.length }).replace('"9007199254740993"', "9007199254740993");
      return { status: 200, body: page };
    });
    const offsets = await client.listGroupMessageOffsets("inst-1", "g1", "orders");
    expect(offsets).toHaveLength(120);
    expect(offsets.map((o) => o.partition)).toEqual(rows.map((r) => r.partition));
    expect(offsets[7]?.messageLogEndOffset).toBe(9007199254740993n);
    expect(server.received.map((r) => r.url)).toEqual([
      "/v2/kafka/proj-1/instances/inst-1/groups/g1/message-offset?limit=50&offset=0&topic=orders",
      "/v2/kafka/proj-1/instances/inst-1/groups/g1/message-offset?limit=50&offset=50&topic=orders",
      "/v2/kafka/proj-1/instances/inst-1/groups/g1/message-offset?limit=50&offset=100&topic=orders",
    ]);
    expect(server.received.every((r) => verifiesSignature(r, credentials.secretKey))).toBe(true);
  });

  test("without a topic, every topic the group has offsets for", async () => {
    const { server, client } = await setup((r) => {
      if (r.url.includes("/management/")) {
        const o = (topic: string, partition: number) => ({ topic, partition, message_current_offset: 1, message_log_end_offset: 2, lag: 1 });
        return { status: 200, body: JSON.stringify({ group: { group_id: "g1", state: "EMPTY", members: [], group_message_offsets: [o("b", 0), o("a", 1), o("a", 0)] } }) };
      }
      const topic = new URL(r.url, "http://x").searchParams.get("topic") ?? "";
      const row = (partition: number) => ({ topic, partition, message_current_offset: 1, message_log_start_offset: 0, message_log_end_offset: 2, lag: 1 });
      return { status: 200, body: JSON.stringify({ group_message_offsets: topic === "a" ? [row(1), row(0)] : [row(0)], total: topic === "a" ? 2 : 1 }) };
    });
    const offsets = await client.listGroupMessageOffsets("inst-1", "g1");
    expect(offsets.map((o) => `${o.topic}/${o.partition}`)).toEqual(["a/0", "a/1", "b/0"]);
    expect(server.received).toHaveLength(3);
  });

  test("listTasks", async () => {
    const tasks = [{ id: "t1", name: "kafkaResetConsumerOffset", params: '{"group":"g1"}', status: "SUCCESS", created_at: "2026-01-01T00:00:00Z" }];
    const { server, client } = await setup(() => ({ status: 200, body: JSON.stringify({ task_count: 1, tasks }) }));
    await expect(client.listTasks("inst-1")).resolves.toEqual(tasks);
    expect(server.received[0]?.url).toBe("/v2/proj-1/instances/inst-1/tasks");
  });

  test("showTopic: every partition's log start (lso) and log end (hw), by partition, int64 exact", async () => {
    const partition = (p: number, lso: number | string, hw: number | string, leo: number | string) => ({
      partition: p,
      leader: 1,
      lso,
      hw,
      leo,
      last_update_timestamp: 1764000000000,
      replicas: [{ broker: 1, leader: true, in_sync: true, size: 1024, lag: 0 }],
    });
    const { server, client } = await setup(() => ({
      status: 200,
      // Raw JSON so that the big offsets travel as bare numbers, as DMS sends them.
      body: JSON.stringify({ topic: "orders/ä", partitions: [partition(2, 5, 7, 9), partition(0, 0, "9007199254740993", "9007199254740995"), partition(1, 100, 100, 100)], group_subscribed: ["g1"] }).replace(
        /"(9007199254740\d+)"/g,
        "$1",
      ),
    }));
    await expect(client.showTopic("inst-1", "orders/ä")).resolves.toEqual({
      topic: "orders/ä",
      partitions: [
        { partition: 0, logStartOffset: 0n, logEndOffset: 9007199254740993n },
        { partition: 1, logStartOffset: 100n, logEndOffset: 100n },
        { partition: 2, logStartOffset: 5n, logEndOffset: 7n },
      ],
    });
    expect(server.received[0]?.url).toBe("/v2/proj-1/instances/inst-1/management/topics/orders%2F%C3%A4");
    expect(verifiesSignature(server.received[0]!, credentials.secretKey)).toBe(true);
  });

  test("showTopic of an unknown topic is the DmsError of its 404", async () => {
    const { client } = await setup(() => ({ status: 404, body: errorBody("DMS.00404022", "The topic does not exist") }));
    await expect(client.showTopic("inst-1", "nope")).rejects.toMatchObject({ status: 404, errorCode: "DMS.00404022" });
  });

  describe("firstOffsetAtOrAfter", () => {
    const messages = (...rows: { partition: number; message_offset: number | string; timestamp: number }[]) => ({
      status: 200,
      body: JSON.stringify({
        messages: rows.map((r) => ({ topic: "orders", size: 10, ...r })),
        messages_count: rows.length,
        offsets_count: rows.length,
        offset: 0,
      }).replace(/"(9007199254740\d+)"/g, "$1"),
    });

    test("asks ShowMessages for one message of the partition from the timestamp on, and returns its offset exact", async () => {
      const { server, client } = await setup(() => messages({ partition: 2, message_offset: "9007199254740993", timestamp: 1764000000500 }));
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", 2, 1764000000000)).resolves.toBe(9007199254740993n);
      const r = server.received[0] as Received;
      expect(`${r.method} ${r.url}`).toBe(
        "GET /v2/proj-1/instances/inst-1/management/topics/orders/messages?end_time=253402300799999&limit=1&partition=2&start_time=1764000000000",
      );
      expect(verifiesSignature(r, credentials.secretKey)).toBe(true);
    });

    test("no message at or after the timestamp: undefined", async () => {
      const { client } = await setup(() => messages());
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", 0, 1764000000000)).resolves.toBeUndefined();
    });

    test("a message of another partition, or from before the timestamp, is an error, not a position", async () => {
      const { client } = await setup((_r, i) =>
        i === 0 ? messages({ partition: 1, message_offset: 4, timestamp: 1764000000500 }) : messages({ partition: 0, message_offset: 4, timestamp: 1763999999999 }),
      );
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", 0, 1764000000000)).rejects.toThrow(/asked for partition 0, got 1 \(request id req-1\)/);
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", 0, 1764000000000)).rejects.toThrow(/1763999999999 is before start_time 1764000000000/);
    });

    test("a timestamp that is not epoch milliseconds is refused before anything is sent", async () => {
      const { server, client } = await setup(() => messages());
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", 0, 1.5)).rejects.toThrow(RangeError);
      await expect(client.firstOffsetAtOrAfter("inst-1", "orders", -1, 0)).rejects.toThrow(RangeError);
      expect(server.received).toHaveLength(0);
    });
  });

  test("an answer of the wrong shape is an error naming the field", async () => {
    const { client } = await setup(() => ({ status: 200, body: JSON.stringify({ group: { group_id: "g1" } }) }));
    await expect(client.showGroup("inst-1", "g1")).rejects.toThrow(DmsResponseError);
    await expect(client.showGroup("inst-1", "g1")).rejects.toThrow(/group\.state/);
  });
});

describe("no credentials in errors", () => {
  const secrets = [credentials.accessKey, credentials.secretKey, credentials.securityToken];
  const leaks = (text: string) => secrets.filter((s) => text.includes(s));

  test("a gateway echoing the request's Authorization and token cannot put them in the error", async () => {
    const { client } = await setup((r) => ({
      status: 401,
      body: errorBody("APIG.0301", `Incorrect IAM authentication information: ${String(r.headers.authorization)} token=${String(r.headers["x-security-token"])} sk=${credentials.secretKey}`),
    }));
    const err = (await client.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsError;
    expect(err).toBeInstanceOf(DmsError);
    expect(err.errorMsg).toMatch(/\[redacted\]/);
    for (const text of [err.message, String(err.stack), JSON.stringify(err), inspect(err, { depth: 5, showHidden: true })]) {
      expect(leaks(text)).toEqual([]);
    }
    expect(err.message.split("\n")).toHaveLength(1);
  });

  test("connection failures carry no request headers either", async () => {
    const { server, client } = await setup(() => ({ drop: true }));
    const c = new DmsClient({ endpoint: new URL(server.url), projectId: "p", credentials, deadlineMs: 200, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    const err = (await c.showGroup("inst-1", "g1").catch((e: unknown) => e)) as DmsUnreachableError;
    await c.close();
    expect(err).toBeInstanceOf(DmsUnreachableError);
    for (const text of [err.message, String(err.stack), JSON.stringify(err), inspect(err, { depth: 5, showHidden: true })]) {
      expect(leaks(text)).toEqual([]);
    }
    expect(leaks(inspect(client, { depth: 5, showHidden: true }) + JSON.stringify(client))).toEqual([]);
  });
});
