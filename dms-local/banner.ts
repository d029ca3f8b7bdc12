// What `dms-local` prints once it accepts requests: everything a user needs to point the CLI or a
// stack at it. The first line always starts `dms-local listening on http://HOST:PORT` (with --json,
// the one JSON line carries the URL first), since scripts take the first URL printed. Secret keys
// are printed only when they are the demo seed's published ones; for any other seed, the AK and
// where its SK is.
import { isLoopback } from "./server";
import type { Seed } from "./seed";

export interface StartFacts {
  url: string;
  seed: Seed;
  /** Absolute path of the seed file served. */
  seedPath: string;
  /** The demo seed's credentials (published, demo-only), to tell them from a user's. */
  demoCredentials: readonly { ak: string; sk: string }[];
  admin: boolean;
  /** The bootstrap of `--kafka`: topics and groups are the broker's, not the seed's. */
  kafka?: string;
  host: string;
}

interface InstanceFacts {
  id: string;
  name?: string;
  /** null with --kafka: the broker's, which change while dms-local runs. */
  topics: { name: string; partitions: number }[] | null;
  groups: { name: string; state: string; emptyAfterMs?: number; emptyAfterReads?: number }[] | null;
}

function instancesOf(facts: StartFacts): InstanceFacts[] {
  return facts.seed.instances.map((i) => ({
    id: i.id,
    ...(i.name !== undefined && { name: i.name }),
    topics: facts.kafka ? null : Object.entries(i.topics).map(([name, t]) => ({ name, partitions: t.partitions.length })),
    groups: facts.kafka
      ? null
      : Object.entries(i.groups).map(([name, g]) => ({
          name,
          state: g.state,
          ...(g.emptyAfterMs !== undefined && { emptyAfterMs: g.emptyAfterMs }),
          ...(g.emptyAfterReads !== undefined && { emptyAfterReads: g.emptyAfterReads }),
        })),
  }));
}

/** When a group with stopped consumers turns EMPTY, as the banner says it. */
function emptyNote(g: { emptyAfterMs?: number; emptyAfterReads?: number }): string {
  if (g.emptyAfterMs !== undefined) return ` (EMPTY ${g.emptyAfterMs / 1000} s after start)`;
  if (g.emptyAfterReads !== undefined) return ` (EMPTY after its state is read ${g.emptyAfterReads} time${g.emptyAfterReads === 1 ? "" : "s"})`;
  return "";
}

function isDemo(facts: StartFacts, c: Seed["credentials"][number]): boolean {
  return c.securityToken === undefined && facts.demoCredentials.some((d) => d.ak === c.ak && d.sk === c.sk);
}

/** The endpoint to give the CLI: a wildcard bind is reached through loopback. */
function endpointFor(facts: StartFacts): string {
  const port = new URL(facts.url).port;
  if (facts.host === "0.0.0.0") return `http://127.0.0.1:${port}`;
  if (facts.host === "::" || facts.host === "[::]") return `http://[::1]:${port}`;
  return facts.url;
}

function exampleCommand(facts: StartFacts): string {
  const instance = facts.seed.instances[0];
  const groups = Object.entries(instance?.groups ?? {});
  const group = facts.kafka ? "GROUP" : (groups.find(([, g]) => g.state === "EMPTY") ?? groups[0])?.[0] ?? "GROUP";
  const endpoint = endpointFor(facts);
  const insecure = isLoopback(new URL(endpoint).hostname) ? "" : " --allow-insecure-http";
  return `dms-offsets show --endpoint ${endpoint}${insecure} --project-id ${facts.seed.projectId} --instance-id ${instance?.id ?? "INSTANCE"} --group ${group}`;
}

/** Several lines, the first one `dms-local listening on URL [(notes)]`. */
export function startText(facts: StartFacts): string {
  const notes = [...(facts.kafka ? [`Kafka at ${facts.kafka} as instance ${facts.seed.instances[0]?.id}`] : []), ...(facts.admin ? ["admin API on"] : [])];
  const lines = [`dms-local listening on ${facts.url}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`];
  lines.push(`  project id   ${facts.seed.projectId}`);
  for (const i of instancesOf(facts)) {
    lines.push(`  instance     ${i.id}${i.name ? ` (${i.name})` : ""}`);
    if (!i.topics || !i.groups) {
      lines.push(`    topics and groups: the broker's at ${facts.kafka}`);
      continue;
    }
    lines.push(`    topics     ${i.topics.length === 0 ? "(none)" : i.topics.map((t) => `${t.name} (${t.partitions} partition${t.partitions === 1 ? "" : "s"})`).join(", ")}`);
    lines.push(
      `    groups     ${
        i.groups.length === 0
          ? "(none)"
          : i.groups.map((g) => `${g.name} ${g.state}${emptyNote(g)}`).join(", ")
      }`,
    );
  }
  facts.seed.credentials.forEach((c, index) => {
    if (isDemo(facts, c)) {
      lines.push(`  credentials  the demo seed's key pair: published in this repository, demo-only, never a real key:`);
      lines.push(`    export CLOUD_SDK_AK=${c.ak} CLOUD_SDK_SK=${c.sk}`);
    } else {
      lines.push(`  credentials  AK ${c.ak}; its SK is credentials[${index}].sk in ${facts.seedPath} (not printed)`);
    }
  });
  lines.push(`  try          ${exampleCommand(facts)}`);
  return `${lines.join("\n")}\n`;
}

/** Exactly one line of JSON with the same facts, the URL first. */
export function startJson(facts: StartFacts): string {
  return `${JSON.stringify({
    url: facts.url,
    projectId: facts.seed.projectId,
    admin: facts.admin,
    ...(facts.kafka !== undefined && { kafka: facts.kafka }),
    seed: facts.seedPath,
    instances: instancesOf(facts),
    credentials: facts.seed.credentials.map((c, index) => (isDemo(facts, c) ? { ak: c.ak, sk: c.sk, demo: true } : { ak: c.ak, demo: false, sk: null, skIn: `${facts.seedPath}#credentials[${index}].sk` })),
    example: exampleCommand(facts),
  })}\n`;
}
