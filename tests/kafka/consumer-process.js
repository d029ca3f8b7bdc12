// One consumer of a group in a process of its own, for the rehearsal (rehearsal.test.ts). SIGKILL
// plays a consumer that died without leaving its group: the broker keeps it a member until its
// session times out. SIGTERM stops it cleanly (LeaveGroup). One JSON line per event on stdout:
// {"event":"joined","memberId"} once in the group, {"event":"record",partition,offset,timestamp,value}
// per record read (offsets are committed after each batch, kafkajs' default).
//
//   node consumer-process.js BOOTSTRAP GROUP TOPIC CLIENT_ID SESSION_TIMEOUT_MS earliest|latest
"use strict";
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, groupId, topic, clientId, sessionTimeout, from] = process.argv.slice(2);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main() {
  const kafka = new Kafka({ clientId, brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });
  // Heartbeats ride on the fetch loop: a short fetch wait keeps them on time and makes SIGTERM quick.
  const consumer = kafka.consumer({ groupId, sessionTimeout: Number(sessionTimeout), heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.GROUP_JOIN, (e) => emit({ event: "joined", memberId: e.payload.memberId }));
  process.once("SIGTERM", () => {
    consumer.disconnect().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  await consumer.connect();
  // Only for partitions without a committed offset.
  await consumer.subscribe({ topics: [topic], fromBeginning: from === "earliest" });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      emit({ event: "record", partition, offset: message.offset, timestamp: message.timestamp, value: message.value?.toString() ?? null });
    },
  });
}

main().catch((e) => {
  process.stderr.write(`consumer-process: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
