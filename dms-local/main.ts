#!/usr/bin/env node
// The `dms-local` command: serve a DMS-compatible endpoint over a seed's in-memory world, or with
// --kafka over a real broker, until SIGINT/SIGTERM. Prints exactly one line with its URL once it
// accepts requests.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { KafkaWorld } from "./kafka-world";
import { loadSeed, type Seed } from "./seed";
import { DEFAULT_TASK_DELAY_MS, startDmsLocal } from "./server";
import type { World } from "./world";

const USAGE = `usage: dms-local [--port N] [--host 127.0.0.1] [--seed FILE] [--kafka BOOTSTRAP] [--admin] [--task-delay-ms N]

  --port N            port to listen on (default 18080; 0 picks a free one)
  --host HOST         address to bind (default 127.0.0.1)
  --seed FILE         world to serve (default: the demo seed, dms-local/seed.default.json)
  --kafka BOOTSTRAP   serve a real Kafka broker (HOST:PORT[,HOST:PORT...], PLAINTEXT) as the seed's
                      one instance: topics, groups and offsets come from the broker, credentials,
                      project and instance id from the seed
  --admin             serve the unsigned /__admin/ API (fault injection, request log, stop-consumers)
  --task-delay-ms N   how long an all-topics reset task stays CREATED (default ${DEFAULT_TASK_DELAY_MS})`;

const DEFAULT_PORT = 18080;

/** The demo seed sits beside this file in the sources, and two levels up from dist/dms-local/. */
function defaultSeedPath(): string {
  const candidates = [resolve(__dirname, "seed.default.json"), resolve(__dirname, "../../dms-local/seed.default.json")];
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string);
}

/** A mistake in the command line: exit status 2, as for parseArgs' own complaints. */
class UsageError extends Error {}

/** `HOST:PORT[,HOST:PORT...]`. kafkajs splits each on its first `:`, so IPv6 literals cannot be given. */
function parseBootstrap(value: string): string[] {
  const brokers = value.split(",").map((b) => b.trim());
  const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  if (bad !== undefined) throw new UsageError(`--kafka takes HOST:PORT[,HOST:PORT...], got "${bad}"`);
  return brokers;
}

/** The instance the broker is served as: the seed's only one (its topics and groups are not used). */
function kafkaInstanceId(seed: Seed): string {
  const [instance, ...others] = seed.instances;
  if (!instance || others.length > 0) {
    throw new UsageError(`--kafka serves one instance, but the seed lists ${seed.instances.length}: keep only the one to serve the broker as`);
  }
  if (Object.keys(instance.topics).length > 0 || Object.keys(instance.groups).length > 0) {
    process.stderr.write(`dms-local: --kafka: the seed's topics and groups of instance ${instance.id} are ignored; the broker's are served\n`);
  }
  return instance.id;
}

function nonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        seed: { type: "string" },
        kafka: { type: "string" },
        admin: { type: "boolean" },
        "task-delay-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`dms-local: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = nonNegativeInt("port", values.port, DEFAULT_PORT);
  const taskDelayMs = nonNegativeInt("task-delay-ms", values["task-delay-ms"], DEFAULT_TASK_DELAY_MS);
  const seed = await loadSeed(values.seed ?? defaultSeedPath());
  const kafka = values.kafka === undefined ? undefined : { brokers: parseBootstrap(values.kafka), instanceId: kafkaInstanceId(seed) };

  let world: World | undefined;
  if (kafka) {
    try {
      world = await KafkaWorld.connect(kafka);
    } catch (e) {
      process.stderr.write(`dms-local: no Kafka broker answers at ${kafka.brokers.join(",")}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  const notes = [...(kafka ? [`Kafka at ${kafka.brokers.join(",")} as instance ${kafka.instanceId}`] : []), ...(values.admin ? ["admin API on"] : [])];
  try {
    const server = await startDmsLocal({ seed, host: values.host ?? "127.0.0.1", port, admin: values.admin === true, taskDelayMs, ...(world && { world }) });
    process.stdout.write(`dms-local listening on ${server.url}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}\n`);
    await new Promise<void>((done) => {
      const stop = (): void => done();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await server.close();
  } finally {
    // startDmsLocal leaves a world it was given to its caller.
    await world?.close();
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`dms-local: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
