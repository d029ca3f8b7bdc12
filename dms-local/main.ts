#!/usr/bin/env node
// The `dms-local` command: serve a DMS-compatible endpoint over a seed's in-memory world until
// SIGINT/SIGTERM. Prints exactly one line with its URL once it accepts requests.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadSeed } from "./seed";
import { DEFAULT_TASK_DELAY_MS, startDmsLocal } from "./server";

const USAGE = `usage: dms-local [--port N] [--host 127.0.0.1] [--seed FILE] [--kafka BOOTSTRAP] [--admin] [--task-delay-ms N]

  --port N            port to listen on (default 18080; 0 picks a free one)
  --host HOST         address to bind (default 127.0.0.1)
  --seed FILE         world to serve (default: the demo seed, dms-local/seed.default.json)
  --kafka BOOTSTRAP   serve a real Kafka broker's groups instead of the seed's (not implemented yet)
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
  if (values.kafka !== undefined) {
    process.stderr.write("dms-local: --kafka is not implemented yet\n");
    return 2;
  }
  const port = nonNegativeInt("port", values.port, DEFAULT_PORT);
  const taskDelayMs = nonNegativeInt("task-delay-ms", values["task-delay-ms"], DEFAULT_TASK_DELAY_MS);
  const seed = await loadSeed(values.seed ?? defaultSeedPath());
  const server = await startDmsLocal({ seed, host: values.host ?? "127.0.0.1", port, admin: values.admin === true, taskDelayMs });
  process.stdout.write(`dms-local listening on ${server.url}${values.admin ? " (admin API on)" : ""}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
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
