// dms-offsets as a runbook uses it, against dms-local in memory: plan sends no write; reset asks (or takes
// --yes) and applies; several groups are all planned before any is sent; --save-before is on disk before
// DMS acts, and applying it puts every partition back; --export and --from-file carry a plan exactly;
// --json is one parseable object per line, the plan first; messages name flags; --help is USAGE.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPTIONS } from "../../provider/cli/args";
import { USAGE } from "../../provider/cli/main";
import { BASE_MS, INSTANCE, jsonLines, PROJECT, runCli, START, startLocalDms, type LocalDms } from "./harness";

let local: LocalDms;
let dir: string;

beforeEach(async () => {
  local = await startLocalDms();
  dir = mkdtempSync(join(tmpdir(), "dms-offsets-cli-"));
});

afterEach(async () => {
  await local.close();
  rmSync(dir, { recursive: true, force: true });
});

const where = () => ["--project-id", PROJECT, "--instance-id", INSTANCE, "--endpoint", local.url];
const writes = async () => (await local.requests()).filter((r) => r.method !== "GET");

describe("plan", () => {
  test("prints every partition's move and sends no write", async () => {
    const r = await runCli(["plan", ...where(), "--group", "billing", "--topic", "orders", "--to-earliest"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`plan for group billing on instance ${INSTANCE}: to the earliest retained offset on orders (1 reset request)\n`);
    expect(r.stdout).toMatch(/^TOPIC +PARTITION +COMMITTED +TARGET +LOG-START +LOG-END +MOVE +FLAGS$/m);
    expect(r.stdout).toMatch(/^orders +0 +900 +0 +0 +1000 +re-reads 900 +-$/m);
    expect(r.stdout).toMatch(/^orders +1 +950 +100 +100 +1000 +re-reads 850 +-$/m);
    expect(r.stdout).toMatch(/^orders +2 +450 +0 +0 +500 +re-reads 450 +-$/m);
    expect(r.stdout).toContain("undo record (the offsets before): orders/0=900, orders/1=950, orders/2=450\n");
    const requests = await local.requests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((q) => q.method !== "GET")).toEqual([]);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });

  test("a busy group is planned with a warning, still without a write", async () => {
    const r = await runCli(["plan", ...where(), "--group", "g-busy", "--topic", "orders", "--to-latest"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^dms-offsets: warning: group g-busy is STABLE: its consumers still commit offsets/m);
    expect(r.stdout).toMatch(/^orders +0 +10 +1000 +0 +1000 +SKIPS 990 +FORWARD$/m);
    expect(await writes()).toEqual([]);
  });
});

describe("reset: asked, or --yes", () => {
  const args = () => ["reset", ...where(), "--group", "billing", "--topic", "orders", "--to-earliest"];

  test("without --yes and without a terminal: exit 4, the plan printed, nothing sent", async () => {
    const r = await runCli(args());
    expect(r.code).toBe(4);
    expect(r.stdout).toContain("plan for group billing");
    expect(r.stderr).toBe("dms-offsets: not applied: pass --yes to apply this plan without a terminal (nothing was sent to group billing)\n");
    expect(await writes()).toEqual([]);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });

  test("on a terminal, answered yes: asked once, then applied", async () => {
    const r = await runCli(args(), { terminal: true });
    expect(r.asked).toEqual(["Apply this plan to group billing? [y/N] "]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(await local.offsets("billing")).toEqual({ ...START.billing, "orders/0": 0, "orders/1": 100, "orders/2": 0 });
    expect((await writes()).map((q) => `${q.method} ${q.path}`)).toEqual([`PUT /v2/kafka/${PROJECT}/instances/${INSTANCE}/groups/billing/reset-message-offset`]);
  });

  test("on a terminal, answered no: exit 4, nothing sent", async () => {
    const r = await runCli(args(), { terminal: false });
    expect(r.asked).toHaveLength(1);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("dms-offsets: not applied: declined; nothing was sent\n");
    expect(await writes()).toEqual([]);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });

  test("on a terminal, the group moved while the person read the plan: nothing sent, plan again", async () => {
    const r = await runCli(args(), {
      terminal: async () => {
        await local.world.commitOffsets(INSTANCE, "billing", [{ topic: "orders", partition: 0, offset: 901n }]);
        return true;
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^dms-offsets: group billing's offsets changed since the plan was made \(.*orders\/0=900.* → .*orders\/0=901.*\): nothing was sent; plan again$/m);
    expect(await writes()).toEqual([]);
  });

  test("--yes applies without asking and prints before, after and the undo command", async () => {
    const r = await runCli([...args(), "--yes"], { terminal: true });
    expect(r.asked).toEqual([]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^offsets of group billing before and after the reset at \d{4}-\d\d-\d\dT[\d:.]+Z:$/m);
    expect(r.stdout).toMatch(/^orders +0 +900 +0 +0 +1000 +1000$/m);
    expect(r.stdout).toContain(`to undo: dms-offsets reset --project-id ${PROJECT} --instance-id ${INSTANCE} --group billing --from-file BEFORE.csv --yes --endpoint ${local.url}`);
    const [put] = await writes();
    expect(JSON.parse(put?.body ?? "")).toEqual({ partition: -1, topic: "orders", message_offset: 0 });
    expect(await local.offsets("billing")).toEqual({ ...START.billing, "orders/0": 0, "orders/1": 100, "orders/2": 0 });
  });
});

describe("several groups", () => {
  test("one of them busy: every group is planned before any is sent, so nothing is sent to any (exit 1)", async () => {
    // billing comes first and is idle: it is planned, but neither shown nor saved (no undo file for a reset
    // that never happens), and not sent.
    const undo = join(dir, "undo.csv");
    const r = await runCli(["reset", ...where(), "--group", "billing", "--group", "g-busy", "--topic", "orders", "--to-earliest", "--yes", "--save-before", undo]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(existsSync(undo.replace(/\.csv$/, "-billing.csv"))).toBe(false);
    expect(r.stderr).toMatch(/^dms-offsets: consumer group "g-busy" is STABLE, not EMPTY; still connected: consumer-1-aaaa \(client billing-worker-1 on \/10\.0\.0\.11\)\. Nothing was sent\. .*--wait-inactive/m);
    expect(r.stderr).not.toMatch(/waitForInactiveGroupSeconds/);
    expect(await writes()).toEqual([]);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });

  test("two idle groups: one confirmation, both applied one after the other, each reported", async () => {
    const r = await runCli(["reset", ...where(), "--group", "billing", "--group", "audit", "--topic", "orders", "--shift-by", "-100", "--save-before", join(dir, "undo.csv")], { terminal: true });
    expect(r.asked).toEqual(["Apply this plan to groups billing, audit? [y/N] "]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.match(/^plan for group (\S+)/gm)).toEqual(["plan for group billing", "plan for group audit"]);
    expect(r.stdout.match(/^offsets of group (\S+) before and after/gm)).toEqual(["offsets of group billing before and after", "offsets of group audit before and after"]);
    expect(await local.offsets("billing")).toEqual({ ...START.billing, "orders/0": 800, "orders/1": 850, "orders/2": 350 });
    expect(await local.offsets("audit")).toEqual({ "orders/0": 200, "orders/1": 300, "orders/2": 100 });
    // A shift goes as one absolute offset per partition: 3 calls per group, billing's first.
    const puts = await writes();
    expect(puts.map((q) => q.path.split("/")[7])).toEqual(["billing", "billing", "billing", "audit", "audit", "audit"]);
    // One undo file per group, each named after it.
    expect(readFileSync(join(dir, "undo-billing.csv"), "utf8")).toBe("orders,0,900\norders,1,950\norders,2,450\n");
    expect(readFileSync(join(dir, "undo-audit.csv"), "utf8")).toBe("orders,0,300\norders,1,400\norders,2,200\n");
  });
});

describe("--save-before and --from-file: the undo round trip", () => {
  test("several groups get one undo file each, even when their names differ only in characters a file name cannot keep", async () => {
    const r = await runCli(["reset", ...where(), "--group", "订单组", "--group", "账单组", "--group", "a b", "--group", "a_b", "--topic", "orders", "--to-earliest", "--save-before", join(dir, "undo.csv"), "--yes"]);
    expect(r.code).toBe(0);
    // One "undo record saved to FILE" line per plan, in the order of the groups.
    const files = [...r.stdout.matchAll(/^undo record saved to (.*)$/gm)].map((m) => m[1] as string);
    expect(files).toHaveLength(4);
    expect(new Set(files).size).toBe(4);
    expect(files.map((f) => readFileSync(f, "utf8"))).toEqual([
      "orders,0,500\norders,1,600\norders,2,400\n",
      "orders,0,700\norders,1,800\norders,2,300\n",
      "orders,0,11\norders,1,111\norders,2,11\n",
      "orders,0,22\norders,1,122\norders,2,22\n",
    ]);
  });


  test("the undo record is on disk before DMS acts on the reset, and applying it puts every partition back exactly", async () => {
    const file = join(dir, "before.csv");
    const seenAtCommit: (string | undefined)[] = [];
    local.world.onCommit = () => {
      let text: string | undefined;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        text = undefined;
      }
      seenAtCommit.push(text);
    };
    const r = await runCli(["reset", ...where(), "--group", "billing", "--topic", "orders", "--topic", "payments", "--to-earliest", "--save-before", file, "--yes"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const undo = "orders,0,900\norders,1,950\norders,2,450\npayments,0,780\npayments,1,690\n";
    // Two topics, two resets: at each, the whole undo record was already there.
    expect(seenAtCommit).toEqual([undo, undo]);
    expect(readFileSync(file, "utf8")).toBe(undo);
    expect(r.stdout).toContain(`undo record saved to ${file}`);
    expect(r.stdout).toContain(`to undo: dms-offsets reset --project-id ${PROJECT} --instance-id ${INSTANCE} --group billing --from-file ${file} --yes --endpoint ${local.url}\n`);
    expect(await local.offsets("billing")).toEqual({ "orders/0": 0, "orders/1": 100, "orders/2": 0, "payments/0": 0, "payments/1": 50 });

    local.world.onCommit = undefined;
    const back = await runCli(["reset", ...where(), "--group", "billing", "--from-file", file, "--yes"]);
    expect(back.code).toBe(0);
    // Going back over records already read is a forward move, and says so.
    expect(back.stderr.trimEnd().split("\n")).toEqual([
      "dms-offsets: warning: group billing: orders/0 moves FORWARD 0 → 900: 900 records will be skipped",
      "dms-offsets: warning: group billing: orders/1 moves FORWARD 100 → 950: 850 records will be skipped",
      "dms-offsets: warning: group billing: orders/2 moves FORWARD 0 → 450: 450 records will be skipped",
      "dms-offsets: warning: group billing: payments/0 moves FORWARD 0 → 780: 780 records will be skipped",
      "dms-offsets: warning: group billing: payments/1 moves FORWARD 50 → 690: 640 records will be skipped",
    ]);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });
});

describe("--export and --from-file: a plan carried exactly", () => {
  test("plan --export writes the targets; reset --from-file applies exactly those", async () => {
    const file = join(dir, "plan.csv");
    const at = new Date(BASE_MS + 600_000).toISOString();
    const planned = await runCli(["plan", ...where(), "--group", "billing", "--topic", "orders", "--to-datetime", at, "--export", file, "--json"]);
    expect(planned.code).toBe(0);
    const [plan] = jsonLines(planned.stdout).filter((l) => l.type === "plan");
    const targets = (plan?.partitions as { topic: string; partition: number; target: string; clamped: boolean }[]).map((p) => `${p.topic},${p.partition},${p.target}\n`).join("");
    // Partition 2 holds nothing that recent: its log end (500) is the target.
    expect(targets).toBe("orders,0,600\norders,1,600\norders,2,500\n");
    expect(plan?.exported).toBe(file);
    expect(readFileSync(file, "utf8")).toBe(targets);
    expect(await writes()).toEqual([]);

    const r = await runCli(["reset", ...where(), "--group", "billing", "--from-file", file, "--yes", "--json"]);
    expect(r.code).toBe(0);
    const puts = await writes();
    expect(puts.map((q) => JSON.parse(q.body ?? ""))).toEqual([
      { partition: 0, topic: "orders", message_offset: 600 },
      { partition: 1, topic: "orders", message_offset: 600 },
      { partition: 2, topic: "orders", message_offset: 500 },
    ]);
    expect(await local.offsets("billing")).toEqual({ ...START.billing, "orders/0": 600, "orders/1": 600, "orders/2": 500 });
  });
});

describe("--json", () => {
  test("every line parses; the plan comes before the result; the result carries DMS's request id", async () => {
    const r = await runCli(["reset", ...where(), "--group", "replica", "--topic", "orders", "--to-latest", "--yes", "--json"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = jsonLines(r.stdout);
    const types = lines.map((l) => l.type);
    expect(types.filter((t) => t === "plan" || t === "result")).toEqual(["plan", "result"]);
    expect(types.every((t) => ["log", "warning", "plan", "result"].includes(t as string))).toBe(true);
    const result = lines.find((l) => l.type === "result");
    const [put] = await writes();
    expect(result).toMatchObject({ group: "replica", instanceId: INSTANCE, requestId: put?.requestId });
    expect(result?.previousOffsets).toEqual([
      { topic: "orders", partition: 0, messageCurrentOffset: "10", messageLogStartOffset: "0", messageLogEndOffset: "1000", lag: "990" },
      { topic: "orders", partition: 1, messageCurrentOffset: "200", messageLogStartOffset: "100", messageLogEndOffset: "1000", lag: "800" },
      { topic: "orders", partition: 2, messageCurrentOffset: "20", messageLogStartOffset: "0", messageLogEndOffset: "500", lag: "480" },
    ]);
    // Forward moves are warned about, as JSON lines too.
    expect(lines.filter((l) => l.type === "warning").map((l) => l.message)).toContain("group replica: orders/0 moves FORWARD 10 → 1000: 990 records will be skipped");
  });

  test("DMS refuses: an error line with code, message, exitStatus and the refused request's id (exit 1)", async () => {
    await local.fault({ count: 1, status: 400, errorCode: "DMS.00400062", errorMsg: "refused by the test", match: { method: "PUT" } });
    const r = await runCli(["reset", ...where(), "--group", "billing", "--topic", "orders", "--to-earliest", "--yes", "--json"]);
    expect(r).toMatchObject({ code: 1, stderr: "" });
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.type).filter((t) => t !== "log" && t !== "warning")).toEqual(["plan", "error"]);
    const [put] = await writes();
    expect(lines.at(-1)).toMatchObject({ type: "error", code: "dms-refused", exitStatus: 1, group: "billing", status: 400, errorCode: "DMS.00400062", requestId: put?.requestId });
    expect(lines.at(-1)?.message).toMatch(/400 DMS\.00400062 "refused by the test"/);
    expect(await local.offsets("billing")).toEqual(START.billing);
  });

  test("refused after a first reset applied: exit 3, the error line carries the undo record and the refused request's id", async () => {
    let commits = 0;
    local.world.onCommit = async () => {
      // The first topic's reset applies; DMS refuses the next one.
      if (commits++ === 0) await local.fault({ count: 1, status: 400, errorCode: "DMS.00400062", errorMsg: "refused by the test", match: { method: "PUT" } });
    };
    const r = await runCli(["reset", ...where(), "--group", "billing", "--topic", "orders", "--topic", "payments", "--to-earliest", "--yes", "--json"]);
    expect(r).toMatchObject({ code: 3, stderr: "" });
    const lines = jsonLines(r.stdout);
    const error = lines.at(-1) as Record<string, unknown>;
    const puts = await writes();
    expect(puts.map((q) => q.status)).toEqual([204, 400]);
    expect(error).toMatchObject({ type: "error", code: "applied-in-part", exitStatus: 3, group: "billing", requestId: puts[1]?.requestId });
    expect(error.undo).toEqual([
      { topic: "orders", partition: 0, offset: "900" },
      { topic: "orders", partition: 1, offset: "950" },
      { topic: "orders", partition: 2, offset: "450" },
      { topic: "payments", partition: 0, offset: "780" },
      { topic: "payments", partition: 1, offset: "690" },
    ]);
    expect(error.message).toMatch(/^APPLIED IN PART: .*Offsets before the reset \(to undo, rewind to these\): orders\/0=900, orders\/1=950, orders\/2=450, payments\/0=780, payments\/1=690$/);
  });

  test("a bad argument: one error line (exit 2), nothing on stderr, nothing sent", async () => {
    const r = await runCli(["reset", ...where(), "--group", "billing", "--to-offset", "-1", "--json"]);
    expect(r).toMatchObject({ code: 2, stderr: "" });
    const lines = jsonLines(r.stdout);
    expect(lines).toEqual([{ type: "error", code: "usage", message: expect.stringMatching(/^--to-offset must be >= 0, got -1/), exitStatus: 2 }]);
    expect(await local.requests()).toEqual([]);
  });

  test("--json never asks, even on a terminal: exit 4 saying why, nothing sent", async () => {
    const r = await runCli(["reset", ...where(), "--group", "billing", "--topic", "orders", "--to-earliest", "--json"], { terminal: true });
    expect(r.asked).toEqual([]);
    expect(r.code).toBe(4);
    const error = jsonLines(r.stdout).at(-1);
    expect(error).toMatchObject({ type: "error", code: "not-confirmed-by-user", exitStatus: 4 });
    expect(error?.message).toMatch(/--json.*--yes/);
    expect(error?.message).not.toMatch(/without a terminal/);
    expect(await writes()).toEqual([]);
  });
});

describe("messages name flags, not the resource's inputs", () => {
  test("--forbid-forward refuses a forward move: exit 4, nothing sent", async () => {
    const r = await runCli(["reset", ...where(), "--group", "replica", "--topic", "orders", "--to-latest", "--forbid-forward", "--yes"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^dms-offsets: the plan moves group "replica" FORWARD, skipping records, on orders\/0 10 → 1000 \(skips 990\).*; --forbid-forward forbids that: nothing was sent$/m);
    expect(r.stderr).not.toMatch(/forbidForward/);
    expect(await writes()).toEqual([]);
  });

  test.each([
    [["--to-offset", "-5"], /^dms-offsets: --to-offset must be >= 0/, /messageOffset|--offset\b/],
    [["--to-datetime", "2026-02-30T00:00:00Z"], /^dms-offsets: --to-datetime "2026-02-30T00:00:00Z" is not a date that exists/, /timestamp\b|--timestamp/],
    [["--to-offset", "1", "--to-latest"], /--to-offset and --to-latest are both set/, /messageOffset|--offset\b/],
    [["--to-datetime", "2026-01-01T00:00:00Z", "--by-duration", "PT1H"], /^dms-offsets: --to-datetime and --by-duration are both targets: give one/, /--timestamp/],
    [["--by-duration", "P20000W"], /^dms-offsets: --by-duration P20000W reaches back before/, /--timestamp/],
  ])("%j names the flag as typed", async (extra, named, notNamed) => {
    const r = await runCli(["reset", ...where(), "--group", "billing", ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(named);
    expect(r.stderr).not.toMatch(notNamed);
    expect(await local.requests()).toEqual([]);
  });
});

describe("--wait-inactive", () => {
  test("waits while the group's consumers leave, then applies", async () => {
    let stopped = false;
    const r = await runCli(["reset", ...where(), "--group", "g-busy", "--topic", "orders", "--to-earliest", "--wait-inactive", "60", "--yes"], {
      // The consumers stop once the CLI says it is waiting for them.
      onStdout: (t) => {
        if (!stopped && /waiting for group g-busy to empty/.test(t)) {
          stopped = true;
          void local.world.stopConsumers?.(INSTANCE, "g-busy");
        }
      },
    });
    const { code, stdout } = r;
    expect(code).toBe(0);
    expect(stdout).toMatch(/^waiting for group g-busy to empty: STABLE, 1 member still connected \(billing-worker-1 on \/10\.0\.0\.11\); \d+s left$/m);
    expect(stdout).toMatch(/^group g-busy is EMPTY after \d+s$/m);
    expect(await local.offsets("g-busy")).toEqual({ "orders/0": 0, "orders/1": 100, "orders/2": 0 });
  });
});

describe("show", () => {
  test("state, members and offsets; no write", async () => {
    const r = await runCli(["show", ...where(), "--group", "g-busy"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe(
      [
        `group g-busy on instance ${INSTANCE}: STABLE`,
        "members (1, stop them before a reset):",
        "MEMBER           CLIENT            HOST        ASSIGNMENT",
        "consumer-1-aaaa  billing-worker-1  /10.0.0.11  orders[0,1,2]",
        "",
        "TOPIC   PARTITION  CURRENT  LOG-START  LOG-END  LAG",
        "orders          0       10          0     1000  990",
        "orders          1      110        100     1000  890",
        "orders          2       20          0      500  480",
        "",
      ].join("\n"),
    );
    expect(await writes()).toEqual([]);
  });

  test("--json: one group line per group", async () => {
    const r = await runCli(["show", ...where(), "--group", "audit", "--group", "replica", "--json"]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => [l.type, l.group, l.state])).toEqual([
      ["group", "audit", "EMPTY"],
      ["group", "replica", "EMPTY"],
    ]);
  });
});

describe("--help", () => {
  test.each([[["--help"]], [["-h"]], [["help"]], [["reset", "--help"]], [["plan", "-h"]]])("%j prints USAGE and exits 0, sending nothing", async (args) => {
    const r = await runCli(args);
    expect(r).toEqual({ code: 0, stdout: USAGE, stderr: "", asked: [] });
    expect(await local.requests()).toEqual([]);
  });

  test("USAGE documents every flag the parser takes, and takes every flag it documents", () => {
    const documented = new Set(USAGE.match(/--[a-z][a-z-]*/g));
    const taken = new Set(Object.keys(OPTIONS).map((f) => `--${f}`));
    expect([...taken].filter((f) => !documented.has(f) && f !== "--help")).toEqual([]);
    expect([...documented].filter((f) => !taken.has(f))).toEqual([]);
  });

  test("USAGE states the exit statuses", () => {
    expect(USAGE).toMatch(/Exit status: 0 done; 1 DMS refused or could not be reached, nothing applied; 2 bad arguments or\s+configuration, nothing sent; 3 /);
    expect(USAGE).toMatch(/4 not applied by choice/);
  });
});
