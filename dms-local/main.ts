#!/usr/bin/env node
// The `dms-local` command: serve a DMS-compatible endpoint over a seed's in-memory world, or with
// --kafka over a real broker, until SIGINT/SIGTERM. Once it accepts requests it prints what a user
// needs to talk to it (banner.ts), the first line holding its URL; with --json, one JSON line.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startJson, startText } from "./banner";
import { KafkaWorld } from "./kafka-world";
import { loadSeed, type Seed } from "./seed";
import { DEFAULT_TASK_DELAY_MS, isLoopback, startDmsLocal } from "./server";
import type { World } from "./world";

const USAGE = `usage: dms-local [--port N] [--host 127.0.0.1] [--seed FILE] [--kafka BOOTSTRAP] [--admin [--admin-on-network]]
                 [--task-delay-ms N] [--json]

  --port N            port to listen on (default 18080; 0 picks a free one)
  --host HOST         address to bind (default 127.0.0.1)
  --seed FILE         world to serve (default: the demo seed, dms-local/seed.default.json)
  --kafka BOOTSTRAP   serve a real Kafka broker (HOST:PORT[,HOST:PORT...], PLAINTEXT) as the seed's
                      one instance: topics, groups and offsets come from the broker, credentials,
                      project and instance id from the seed
  --admin             serve the unsigned /__admin/ API (fault injection, request log, applied-reset
                      counts, stop-consumers); refused on a non-loopback --host unless
  --admin-on-network  is given too: then anyone who reaches the port can use it (a warning is printed)
  --task-delay-ms N   how long an all-topics reset task stays CREATED (default ${DEFAULT_TASK_DELAY_MS})
  --json              print the start facts (URL, project, instances, groups, credentials) as one JSON line

Once ready it prints its URL on the first line, then the project id, instances with their topics and
groups, the credentials to use (export lines only for the demo seed's published key pair; for any
other seed the AK and where its SK is) and a dms-offsets command to try.`;

const DEFAULT_PORT = 18080;

/** The demo seed sits beside this file in the sources, and two levels up from dist/dms-local/. */
function defaultSeedPath(): string {
  const candidates = [resolve(__dirname, "seed.default.json"), resolve(__dirname, "../../dms-local/seed.default.json")];
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string);
}

/** The demo seed's key pairs (published, demo-only): the only secret keys dms-local prints. */
async function demoCredentials(): Promise<{ ak: string; sk: string }[]> {
  try {
    return (await loadSeed(defaultSeedPath())).credentials.map(({ ak, sk }) => ({ ak, sk }));
  } catch {
    return [];
  }
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
        "admin-on-network": { type: "boolean" },
        "task-delay-ms": { type: "string" },
        json: { type: "boolean" },
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
  const host = values.host ?? "127.0.0.1";
  const admin = values.admin === true;
  const adminOnNetwork = values["admin-on-network"] === true;
  if (adminOnNetwork && !admin) throw new UsageError("--admin-on-network only goes with --admin");
  if (admin && !isLoopback(host) && !adminOnNetwork) {
    throw new UsageError(
      `--admin on --host ${host} would let anyone who reaches the port inject faults, read the request log and change groups, unsigned: ` +
        "bind a loopback address (127.0.0.1), or add --admin-on-network if that is really meant",
    );
  }
  const seedPath = resolve(values.seed ?? defaultSeedPath());
  const seed = await loadSeed(seedPath);
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
  try {
    const server = await startDmsLocal({ seed, host, port, admin, adminOnNetwork, taskDelayMs, ...(world && { world }) });
    if (admin && !isLoopback(host)) {
      process.stderr.write(`dms-local: WARNING: the unsigned admin API is open to the network at ${server.url}/__admin/ (--admin-on-network)\n`);
    }
    const facts = { url: server.url, seed, seedPath, demoCredentials: await demoCredentials(), admin, host, ...(kafka && { kafka: kafka.brokers.join(",") }) };
    // Listening for the stop signals before saying ready: whoever reads the banner may stop it at once.
    const stopped = new Promise<void>((done) => {
      const stop = (): void => done();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    // One write: a reader that matches the first line never sees half of it.
    process.stdout.write(values.json ? startJson(facts) : startText(facts));
    await stopped;
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
