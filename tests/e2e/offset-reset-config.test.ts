// Credentials and endpoint from stack configuration, under the real engine: the program passes neither,
// the environment has none, and the provider reads `dms-offset-reset:*` from what the engine hands the
// dynamic-provider host in Configure (`pulumi config set --secret dms-offset-reset:secretKey …`), for the
// preview's plan as for the rewind itself.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseSeed } from "../../dms-local/seed";
import { startDmsLocal, type DmsLocal } from "../../dms-local/server";
import { createBackend, installPackedProject, openStack, requirePulumiCli } from "./harness/pulumi";

jest.setTimeout(180_000);

const seed = parseSeed(readFileSync(path.resolve(__dirname, "../../dms-local/seed.default.json"), "utf8"));
const demo = seed.credentials[0] as { ak: string; sk: string };
const instanceId = (seed.instances[0] as { id: string }).id;

let project: Awaited<ReturnType<typeof installPackedProject>>;
let backend: Awaited<ReturnType<typeof createBackend>>;
let dms: DmsLocal;

beforeAll(async () => {
  requirePulumiCli();
  for (const name of Object.keys(process.env)) if (/^(CLOUD_SDK_|HW_)/.test(name)) delete process.env[name];
  [project, backend, dms] = await Promise.all([installPackedProject(), createBackend("config-passphrase"), startDmsLocal({ seed, admin: true })]);
}, 300_000);

afterAll(async () => {
  await dms?.close();
  await Promise.all([project?.remove(), backend?.remove()]);
});

interface Logged { method: string; path: string; credential: number | null; status: number | null }
async function requests(): Promise<Logged[]> {
  return ((await (await fetch(`${dms.url}/__admin/requests`)).json()) as { requests: Logged[] }).requests;
}

test("up, refresh and destroy with the key pair and endpoint only in stack configuration", async () => {
  const { OffsetReset } = project.load("pulumi-dms-offset-reset") as typeof import("../../sdk");
  const stack = await openStack(project, backend, {
    projectName: "offset-reset-config",
    stackName: "dev",
    program: async () => {
      const rewind = new OffsetReset("from-config", {
        projectId: seed.projectId,
        instanceId,
        group: "billing",
        topic: "payments",
        timestamp: "2023-11-15T06:00:00Z",
      });
      return { appliedOffsets: rewind.appliedOffsets };
    },
  });
  await stack.setAllConfig({
    "dms-offset-reset:accessKey": { value: demo.ak, secret: true },
    "dms-offset-reset:secretKey": { value: demo.sk, secret: true },
    "dms-offset-reset:endpoint": { value: dms.url },
  });

  const printed: string[] = [];
  // The preview reads the plan with the configured key pair, and writes nothing.
  const events: EngineEvent[] = [];
  await stack.preview({ onOutput: (s) => void printed.push(s), onEvent: (e) => void events.push(e) });
  const step = events.map((e) => e.resourcePreEvent?.metadata).find((m) => m?.type.endsWith(":OffsetReset"));
  expect(step?.new?.inputs.plan).toMatchObject({ partitions: [{ partition: 0, current: "47990", target: "28000" }, { partition: 1, current: "47950", target: "28000" }] });
  const previewed = await requests();
  expect(previewed.length).toBeGreaterThan(0);
  expect(previewed.every((r) => r.method === "GET" && r.credential === 0 && (r.status as number) < 300)).toBe(true);
  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });

  const up = await stack.up({ onOutput: (s) => void printed.push(s) });
  const sent = await requests();
  expect(sent.filter((r) => r.path.endsWith("/reset-message-offset"))).toHaveLength(1);
  expect(sent.every((r) => r.credential === 0 && (r.status as number) < 300)).toBe(true);
  expect((up.outputs.appliedOffsets?.value as { messageCurrentOffset: string }[]).map((o) => o.messageCurrentOffset)).toEqual(["28000", "28000"]);

  await fetch(`${dms.url}/__admin/requests`, { method: "DELETE" });
  await stack.refresh({ onOutput: (s) => void printed.push(s) });
  const refreshed = await requests();
  expect(refreshed.length).toBeGreaterThan(0);
  expect(refreshed.filter((r) => r.path.endsWith("/reset-message-offset"))).toHaveLength(0);
  expect(refreshed.every((r) => r.credential === 0)).toBe(true);
  await stack.preview({ expectNoChanges: true });

  await stack.destroy({ onOutput: (s) => void printed.push(s) });
  const text = printed.join("");
  expect(text).not.toContain(demo.sk);
  expect(text).toMatch(/nothing was sent to DMS/);
});
