// Shared by the tests that run dms-local over the test broker (tests/kafka/broker.sh): the
// bootstrap from KAFKA_BOOTSTRAP (a missing broker fails, never skips), kafkajs clients, records
// with chosen timestamps, and a dms-local served from a KafkaWorld with a DmsClient signed for it.
import { randomBytes } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { KafkaWorld } from "../../dms-local/kafka-world";
import { Seed, type SeedInput } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { DmsClient } from "../../provider/dms/client";
import type { Credentials } from "../../provider/dms/signing/signer";

// kafkajs 2.x warns once per process about its changed default partitioner; every send here names
// its partition, so the warning is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

export const PROJECT_ID = "5b7d9f1a3c5e4a6b8d0f2a4c6e8b0d2f";
export const INSTANCE_ID = "c4e6a8b0-2d4f-4a6c-8e0b-1d3f5a7c9e2b";
export const CREDENTIALS: Credentials = { accessKey: "TESTAKKAFKAREHEARSAL", secretKey: "test-only-secret-for-the-kafka-rehearsal-01" };

/** KAFKA_BOOTSTRAP split into brokers; throws with the command to start one when it is unset. */
export function bootstrap(): string[] {
  const value = process.env.KAFKA_BOOTSTRAP;
  if (!value || value.trim() === "") {
    throw new Error(
      "KAFKA_BOOTSTRAP is not set. These tests need a real Kafka broker: run\n" +
        '  eval "$(tests/kafka/broker.sh start)"; export KAFKA_BOOTSTRAP\n' +
        "(or `npm test`, which does that) and run jest again.",
    );
  }
  return value.split(",").map((b) => b.trim());
}

export function kafkaClient(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: bootstrap(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    // A few quick retries: enough for the group coordinator to come up on a fresh broker, few
    // enough that an unreachable broker fails the test in seconds instead of minutes.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** Unique per run, so topics and groups of earlier (or concurrent) runs never interfere. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString("hex")}`;
}

/** Whole seconds, an hour back: clear of "now" and of any broker limit on timestamp skew. */
export function pastBase(): number {
  return Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
}

export interface TimedRecord {
  partition: number;
  timestamp: number;
  value: string;
}

/** One send: the records of a partition get consecutive offsets in the order given. */
export async function produce(kafka: Kafka, topic: string, records: readonly TimedRecord[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: records.map((r) => ({ partition: r.partition, value: r.value, timestamp: String(r.timestamp) })) });
  } finally {
    await producer.disconnect();
  }
}

/** The seed dms-local --kafka needs: credentials, project and the instance id the broker is served as. */
export function kafkaSeedInput(): SeedInput {
  return {
    projectId: PROJECT_ID,
    credentials: [{ ak: CREDENTIALS.accessKey, sk: CREDENTIALS.secretKey, userName: "rehearsal-operator" }],
    instances: [{ id: INSTANCE_ID, topics: {} }],
  };
}

export interface KafkaDmsLocal {
  dms: DmsLocal;
  world: KafkaWorld;
  client: DmsClient;
  close(): Promise<void>;
}

/** dms-local over the test broker, as `dms-local --kafka` serves it, and a signed client for it. */
export async function startKafkaDmsLocal(taskDelayMs = 50): Promise<KafkaDmsLocal> {
  const world = await KafkaWorld.connect({ brokers: bootstrap(), instanceId: INSTANCE_ID, clientId: "dms-local-test" });
  const dms = await startDmsLocal({ seed: Seed.parse(kafkaSeedInput()), world, taskDelayMs });
  const client = new DmsClient({ endpoint: new URL(dms.url), projectId: PROJECT_ID, credentials: CREDENTIALS });
  return {
    dms,
    world,
    client,
    async close() {
      await client.close();
      await dms.close();
      await world.close();
    },
  };
}
