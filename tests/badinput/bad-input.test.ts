// Bad input, one row per case, at both front doors: dms-offsets' command line and the resource's `check`.
// Every row must be refused with a message that names what the user typed (the flag, the environment
// variable, or the input) and says how to fix it, and nothing may be sent: the CLI runs against a
// dms-local whose request log must stay empty, and every HTTP request undici creates in this process, to
// any host, is counted and must be 0. `check` is pure: it must answer synchronously, and send nothing either.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkInputs } from "../../provider/resource/check";
import { countUndiciRequests, INSTANCE, PROJECT, runCli, startLocalDms, type LocalDms } from "../cli/harness";

let local: LocalDms;
let dir: string;
const undici = countUndiciRequests();

/** --from-file inputs, by name; "@DIR/name" in a row is this file. */
const FILES: Record<string, string> = {
  "two-cells.csv": "orders,0,5\norders,1\n",
  "bad-partition.csv": "orders,0,5\norders,1,6\norders,x,7\n",
  "negative-offset.csv": "orders,0,-1\n",
  "empty.csv": "",
  "header-only.csv": "topic,partition,offset\n",
  "bad-topic.csv": "orders,0,5\na/b,0,5\n",
  "duplicate.csv": "orders,0,5\norders,0,6\n",
  "beyond-int64.csv": "orders,0,9223372036854775808\n",
  "beyond-int32.csv": "orders,2147483648,5\n",
  "good.csv": "orders,0,5\n",
};

beforeAll(async () => {
  local = await startLocalDms();
  dir = mkdtempSync(join(tmpdir(), "dms-offsets-badinput-"));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, "a-directory"));
});

afterAll(async () => {
  undici.stop();
  await local.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// The command line.

const WHERE = { "--project-id": PROJECT, "--instance-id": INSTANCE, "--group": "billing", "--endpoint": "@URL" } as const;
type Where = Partial<Record<keyof typeof WHERE, string | null>>;

/** `dms-offsets <command>` with the usual project, instance, group and endpoint (each replaceable, or dropped with null), then `extra`. */
function cmd(command: string, where: Where, ...extra: string[]): string[] {
  const flags = { ...WHERE, ...where };
  return [command, ...Object.entries(flags).flatMap(([flag, value]) => (value === null || value === undefined ? [] : [flag, value])), ...extra];
}
const reset = (...extra: string[]) => cmd("reset", {}, ...extra);
const resetAt = (where: Where, ...extra: string[]) => cmd("reset", where, ...extra);
const NO_CREDENTIALS = { CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: undefined };

interface CliRow {
  argv: string[];
  /** What the message must name: a flag, an environment variable, or the word the user typed. */
  names: string;
  /** How to fix it. */
  fix: RegExp;
  env?: Record<string, string | undefined>;
  /** What the message must not say. */
  not?: RegExp;
}

const LONG_TOPIC = "t".repeat(250);

const CLI: Record<string, CliRow> = {
  // Partitions.
  "partition 2147483648": { argv: reset("--offset", "1", "--topic", "orders", "--partition", "2147483648"), names: "--partition", fix: /at most 2147483647/ },
  "partition -2": { argv: reset("--offset", "1", "--topic", "orders", "--partition", "-2"), names: "--partition", fix: /-1 \(every partition\) or a partition number/ },
  "partition 1.5": { argv: reset("--offset", "1", "--topic", "orders", "--partition", "1.5"), names: "--partition", fix: /must be an integer: -1 \(every partition\) or a partition number/ },
  'partition "two"': { argv: reset("--offset", "1", "--topic", "orders", "--partition", "two"), names: "--partition", fix: /must be an integer: -1 \(every partition\)/ },
  "partition empty": { argv: reset("--offset", "1", "--topic", "orders", "--partition", ""), names: "--partition", fix: /must be an integer: -1 \(every partition\)/ },
  "partition 1e3": { argv: reset("--offset", "1", "--topic", "orders", "--partition", "1e3"), names: "--partition", fix: /must be an integer: -1 \(every partition\)/ },
  "topic:partition beyond int32": { argv: reset("--offset", "1", "--topic", "orders:2147483648"), names: "--topic", fix: /partition 2147483648 is beyond int32/ },
  "topic:partition 1.5": { argv: reset("--offset", "1", "--topic", "orders:1.5"), names: "--topic", fix: /list partition numbers separated by commas, e\.g\. orders:0,1/ },
  "topic:partition -1": { argv: reset("--offset", "1", "--topic", "orders:-1"), names: "--topic", fix: /list partition numbers separated by commas/ },
  "topic: with no partitions": { argv: reset("--offset", "1", "--topic", "orders:"), names: "--topic", fix: /list partition numbers separated by commas/ },
  "topic:partitions with a trailing comma": { argv: reset("--offset", "1", "--topic", "orders:0,"), names: "--topic", fix: /list partition numbers separated by commas/ },
  "--partition with topic:partitions": { argv: reset("--offset", "1", "--topic", "orders:0", "--partition", "1"), names: "--partition", fix: /list partitions per topic \(e\.g\. payments:0,1\)/ },

  // Topics.
  'topic "."': { argv: reset("--offset", "1", "--topic", "."), names: "--topic", fix: /name a topic|omit it/ },
  'topic ".."': { argv: reset("--offset", "1", "--topic", ".."), names: "--topic", fix: /name a topic|omit it/ },
  'topic "orders/../x"': { argv: reset("--offset", "1", "--topic", "orders/../x"), names: "--topic", fix: /up to 249 of letters, digits, "\.", "_" and "-"/ },
  "topic empty": { argv: reset("--offset", "1", "--topic", ""), names: "--topic", fix: /must not be empty: omit it to reset every topic of the group/ },
  "topic of 250 characters": { argv: reset("--offset", "1", "--topic", LONG_TOPIC), names: "--topic", fix: /up to 249 of letters/ },
  "topic with a space": { argv: reset("--offset", "1", "--topic", "or ders"), names: "--topic", fix: /up to 249 of letters/ },
  "topic empty before :0": { argv: reset("--offset", "1", "--topic", ":0"), names: "--topic", fix: /must not be empty: name a topic/ },
  "second topic bad": { argv: reset("--offset", "1", "--topic", "orders", "--topic", "a b"), names: "--topic", fix: /up to 249 of letters/ },
  "topic with a control character": { argv: reset("--offset", "1", "--topic", "ord\u0007ers"), names: "--topic", fix: /control character.*: remove it/ },
  "topic with a lone surrogate": { argv: reset("--offset", "1", "--topic", "ord\uD800ers"), names: "--topic", fix: /lone UTF-16 surrogate.*fix the string/ },

  // Project and instance ids.
  'project id "."': { argv: resetAt({ "--project-id": "." }, "--offset", "1"), names: "--project-id", fix: /32 hex digits/ },
  'project id ".."': { argv: resetAt({ "--project-id": ".." }, "--offset", "1"), names: "--project-id", fix: /32 hex digits/ },
  'project id "a/b"': { argv: resetAt({ "--project-id": "a/b" }, "--offset", "1"), names: "--project-id", fix: /may only hold letters, digits, "\.", "_" and "-".*32 hex digits/ },
  'project id "x y"': { argv: resetAt({ "--project-id": "x y" }, "--offset", "1"), names: "--project-id", fix: /may only hold letters, digits.*32 hex digits/ },
  "project id empty": { argv: resetAt({ "--project-id": "" }, "--offset", "1"), names: "--project-id", fix: /must not be empty: the Huawei Cloud project ID \(32 hex digits\)/ },
  "project id with a control character": { argv: resetAt({ "--project-id": "p\u0001" }, "--offset", "1"), names: "--project-id", fix: /control character.*: remove it/ },
  'HW_PROJECT_ID "a/b"': { argv: resetAt({ "--project-id": null }, "--offset", "1"), env: { HW_PROJECT_ID: "a/b" }, names: "HW_PROJECT_ID", fix: /32 hex digits/, not: /--project-id/ },
  'HW_PROJECT_ID ".."': { argv: resetAt({ "--project-id": null }, "--offset", "1"), env: { HW_PROJECT_ID: ".." }, names: "HW_PROJECT_ID", fix: /32 hex digits/ },
  'instance id "."': { argv: resetAt({ "--instance-id": "." }, "--offset", "1"), names: "--instance-id", fix: /UUID/ },
  'instance id ".."': { argv: resetAt({ "--instance-id": ".." }, "--offset", "1"), names: "--instance-id", fix: /UUID/ },
  'instance id "a/b"': { argv: resetAt({ "--instance-id": "a/b" }, "--offset", "1"), names: "--instance-id", fix: /may only hold letters, digits.*UUID/ },
  'instance id "x y"': { argv: resetAt({ "--instance-id": "x y" }, "--offset", "1"), names: "--instance-id", fix: /may only hold letters, digits.*UUID/ },
  "instance id empty": { argv: resetAt({ "--instance-id": "" }, "--offset", "1"), names: "--instance-id", fix: /must not be empty: the ID of the Kafka instance \(a UUID\)/ },

  // Groups.
  'group "a/b"': { argv: resetAt({ "--group": "a/b" }, "--offset", "1"), names: "--group", fix: /kafka-consumer-groups|cannot be reset through DMS/ },
  'group ".."': { argv: resetAt({ "--group": ".." }, "--offset", "1"), names: "--group", fix: /name the consumer group/ },
  'group "."': { argv: resetAt({ "--group": "." }, "--offset", "1"), names: "--group", fix: /name the consumer group/ },
  "group with a lone high surrogate": { argv: resetAt({ "--group": "g\uD800" }, "--offset", "1"), names: "--group", fix: /lone UTF-16 surrogate.*fix the string/ },
  "group with a lone low surrogate": { argv: resetAt({ "--group": "\uDC00g" }, "--offset", "1"), names: "--group", fix: /lone UTF-16 surrogate.*fix the string/ },
  "group with U+FFFD (a lone surrogate, as node passes it through argv)": { argv: resetAt({ "--group": "g\uFFFDx" }, "--offset", "1"), names: "--group", fix: /U\+FFFD.*pass the name as UTF-8/ },
  "group with a control character": { argv: resetAt({ "--group": "g\u0001" }, "--offset", "1"), names: "--group", fix: /control character.*: remove it/ },
  "group with a newline": { argv: resetAt({ "--group": "billing\n" }, "--offset", "1"), names: "--group", fix: /control character.*: remove it/ },
  "group empty": { argv: resetAt({ "--group": "" }, "--offset", "1"), names: "--group", fix: /must not be empty: name the consumer group/ },
  "the same group twice": { argv: reset("--group", "billing", "--offset", "1"), names: "--group", fix: /give each group once/ },
  "second group bad": { argv: reset("--group", "a/b", "--offset", "1"), names: "--group", fix: /kafka-consumer-groups|cannot be reset through DMS/ },
  'to-group "a/b"': { argv: reset("--to-group", "a/b"), names: "--to-group", fix: /kafka-consumer-groups|cannot be reset through DMS/ },
  "to-group the group itself": { argv: reset("--to-group", "billing"), names: "--to-group", fix: /name another group to copy offsets from/ },
  'to-group ".."': { argv: reset("--to-group", ".."), names: "--to-group", fix: /name the consumer group/ },
  "to-group with U+FFFD": { argv: reset("--to-group", "x\uFFFD"), names: "--to-group", fix: /U\+FFFD.*pass the name as UTF-8/ },
  "to-group with a control character": { argv: reset("--to-group", "x\u001b[31m"), names: "--to-group", fix: /control character.*: remove it/ },

  // Times.
  "February 30th": { argv: reset("--timestamp", "2026-02-30T00:00:00Z"), names: "--timestamp", fix: /is not a date that exists \(check the day of the month and the time\)/ },
  "April 31st": { argv: reset("--timestamp", "2026-04-31T00:00:00Z"), names: "--timestamp", fix: /not a date that exists/ },
  "24:00": { argv: reset("--timestamp", "2026-11-24T24:00:00Z"), names: "--timestamp", fix: /not a date that exists/ },
  "23:60": { argv: reset("--timestamp", "2026-11-24T23:60:00Z"), names: "--timestamp", fix: /not a date that exists/ },
  "the 13th month": { argv: reset("--timestamp", "2026-13-01T00:00:00Z"), names: "--timestamp", fix: /not a date that exists/ },
  "February 29th of a common year": { argv: reset("--timestamp", "2025-02-29T00:00:00Z"), names: "--timestamp", fix: /not a date that exists/ },
  "a leap second": { argv: reset("--timestamp", "2026-11-24T23:59:60Z"), names: "--timestamp", fix: /not a date that exists/ },
  "a date and time without a zone": { argv: reset("--timestamp", "2026-11-24T02:00:00"), names: "--timestamp", fix: /ISO-8601 with a zone \(e\.g\. 2026-11-24T02:00:00Z\)/ },
  "a date alone": { argv: reset("--timestamp", "2026-11-24"), names: "--timestamp", fix: /ISO-8601 with a zone \(e\.g\./ },
  "zone +24:00": { argv: reset("--timestamp", "2026-11-24T02:00:00+24:00"), names: "--timestamp", fix: /impossible zone offset \+24:00/ },
  "seconds-looking ms": { argv: reset("--timestamp", "1764000000"), names: "--timestamp", fix: /looks like epoch seconds; DMS expects milliseconds: use 1764000000000/ },
  "negative ms": { argv: reset("--timestamp", "-5"), names: "--timestamp", fix: /must not be before 1970 \(epoch milliseconds >= 0\)/, not: /use -\d|epoch seconds/ },
  "negative ms, seconds-sized": { argv: reset("--timestamp", "-1764000000"), names: "--timestamp", fix: /must not be before 1970/, not: /use -\d|epoch seconds/ },
  '"yesterday"': { argv: reset("--timestamp", "yesterday"), names: "--timestamp", fix: /epoch milliseconds or ISO-8601 with a zone/ },
  "ms in exponent notation": { argv: reset("--timestamp", "1.5e12"), names: "--timestamp", fix: /epoch milliseconds or ISO-8601 with a zone/ },
  "ms beyond 2^53": { argv: reset("--timestamp", "99999999999999999999"), names: "--timestamp", fix: /whole number of epoch milliseconds/ },
  "--to-datetime February 30th": { argv: reset("--to-datetime", "2026-02-30T00:00:00Z"), names: "--to-datetime", fix: /not a date that exists/, not: /--timestamp/ },
  "--to-datetime without a zone": { argv: reset("--to-datetime", "2026-11-24T02:00:00"), names: "--to-datetime", fix: /with a zone/, not: /--timestamp/ },

  // Offsets and shifts.
  "offset -1": { argv: reset("--offset", "-1"), names: "--offset", fix: /must be >= 0, got -1: to go back to the start of the log/ },
  "offset 1.5": { argv: reset("--offset", "1.5"), names: "--offset", fix: /must be a whole decimal number/ },
  "offset beyond int64": { argv: reset("--offset", "9223372036854775808"), names: "--offset", fix: /does not fit in int64 \(at most 9223372036854775807\)/ },
  "offset far beyond int64": { argv: reset("--offset", "99999999999999999999999"), names: "--offset", fix: /does not fit in int64/ },
  "offset in hex": { argv: reset("--offset", "0x10"), names: "--offset", fix: /must be a whole decimal number/ },
  "offset empty": { argv: reset("--offset", ""), names: "--offset", fix: /must be a whole decimal number/ },
  "offset 1e3": { argv: reset("--offset", "1e3"), names: "--offset", fix: /must be a whole decimal number/ },
  "--to-offset -1": { argv: reset("--to-offset", "-1"), names: "--to-offset", fix: /must be >= 0/, not: /--offset\b/ },
  "shift 0": { argv: reset("--shift-by", "0"), names: "--shift-by", fix: /moves nothing: give a positive \(forward, skip records\) or negative \(back, re-read\) number/ },
  "shift -0": { argv: reset("--shift-by", "-0"), names: "--shift-by", fix: /moves nothing/ },
  "shift 1.5": { argv: reset("--shift-by", "1.5"), names: "--shift-by", fix: /must be a whole decimal number/ },
  "shift beyond int64": { argv: reset("--shift-by", "9223372036854775808"), names: "--shift-by", fix: /does not fit in int64/ },
  "shift below int64": { argv: reset("--shift-by", "-9223372036854775809"), names: "--shift-by", fix: /does not fit in int64/ },
  'shift "ten"': { argv: reset("--shift-by", "ten"), names: "--shift-by", fix: /must be a whole decimal number/ },

  // Targets: exactly one.
  "offset and to-latest": { argv: reset("--offset", "1", "--to-latest"), names: "--to-latest", fix: /set exactly one target/ },
  "offset and timestamp": { argv: reset("--offset", "1", "--timestamp", "1764000000000"), names: "--timestamp", fix: /set exactly one target/ },
  "to-earliest and to-latest": { argv: reset("--to-earliest", "--to-latest"), names: "--to-latest", fix: /set exactly one target/ },
  "no target": { argv: reset(), names: "--to-earliest", fix: /set exactly one target: .*none is set/ },
  "offset and to-offset": { argv: reset("--offset", "1", "--to-offset", "2"), names: "--to-offset", fix: /are the same target: give one/ },
  "timestamp and to-datetime": { argv: reset("--timestamp", "1764000000000", "--to-datetime", "2026-11-24T02:00:00Z"), names: "--to-datetime", fix: /are the same target: give one/ },
  "by-duration and timestamp": { argv: reset("--by-duration", "PT1H", "--timestamp", "1764000000000"), names: "--by-duration", fix: /are both targets: give one/ },
  "shift and from-file": { argv: reset("--shift-by", "1", "--from-file", "@DIR/good.csv"), names: "--from-file", fix: /set exactly one target/ },
  "to-group and offset": { argv: reset("--to-group", "audit", "--offset", "1"), names: "--to-group", fix: /set exactly one target/ },
  "from-file and topic": { argv: reset("--from-file", "@DIR/good.csv", "--topic", "orders"), names: "--topic", fix: /names its own topics and partitions: drop --topic/ },

  // Durations.
  'by-duration "2h"': { argv: reset("--by-duration", "2h"), names: "--by-duration", fix: /write it like PT2H, PT30M, P1DT6H/ },
  'by-duration "PT"': { argv: reset("--by-duration", "PT"), names: "--by-duration", fix: /write it like PT2H/ },
  "by-duration in months": { argv: reset("--by-duration", "P1M"), names: "--by-duration", fix: /write it like PT2H/ },
  "by-duration in years": { argv: reset("--by-duration", "P1Y"), names: "--by-duration", fix: /write it like PT2H/ },
  "by-duration empty": { argv: reset("--by-duration", ""), names: "--by-duration", fix: /write it like PT2H/ },
  'by-duration "P1DT"': { argv: reset("--by-duration", "P1DT"), names: "--by-duration", fix: /write it like PT2H/ },
  "by-duration negative": { argv: reset("--by-duration", "-PT1H"), names: "--by-duration", fix: /write --by-duration=VALUE/ },
  "by-duration before 1973": { argv: reset("--by-duration", "P20000W"), names: "--by-duration", fix: /give a shorter duration/, not: /--timestamp/ },

  // --wait-inactive.
  "wait 86401 s": { argv: reset("--offset", "1", "--wait-inactive", "86401"), names: "--wait-inactive", fix: /at most 86400 \(a day\); it counts seconds, not milliseconds/ },
  "wait -5 s": { argv: reset("--offset", "1", "--wait-inactive", "-5"), names: "--wait-inactive", fix: /expected seconds \(e\.g\. 60\)/ },
  'wait "soon"': { argv: reset("--offset", "1", "--wait-inactive", "soon"), names: "--wait-inactive", fix: /expected seconds \(e\.g\. 60\)/ },
  "wait 1e3": { argv: reset("--offset", "1", "--wait-inactive", "1e3"), names: "--wait-inactive", fix: /expected seconds \(e\.g\. 60\)/ },
  "wait empty": { argv: reset("--offset", "1", "--wait-inactive", ""), names: "--wait-inactive", fix: /expected seconds \(e\.g\. 60\)/ },
  "wait with plan": { argv: cmd("plan", {}, "--offset", "1", "--wait-inactive", "60"), names: "--wait-inactive", fix: /does not go with plan \(see dms-offsets --help\)/ },

  // Where, and as whom.
  "endpoint and region": { argv: reset("--offset", "1", "--region", "cn-north-4"), names: "--region", fix: /name the same thing: give one/ },
  "HTTPS_PROXY=garbage": { argv: reset("--offset", "1"), env: { HTTPS_PROXY: "garbage" }, names: "HTTPS_PROXY", fix: /write it as http:\/\/host:port, or unset it/ },
  "HTTPS_PROXY=proxy:3128": { argv: reset("--offset", "1"), env: { HTTPS_PROXY: "proxy:3128" }, names: "HTTPS_PROXY", fix: /write it as http:\/\/host:port, or unset it/ },
  "https_proxy with ftp://": { argv: reset("--offset", "1"), env: { https_proxy: "ftp://proxy.example.com:21" }, names: "https_proxy", fix: /not an http:\/\/ or https:\/\/ URL: write it as http:\/\/host:port/ },
  "HTTP_PROXY=garbage": { argv: reset("--offset", "1"), env: { HTTP_PROXY: "::::" }, names: "HTTP_PROXY", fix: /write it as http:\/\/host:port, or unset it/ },
  "a proxy password is never echoed": { argv: reset("--offset", "1"), env: { HTTPS_PROXY: "user:hunter2@bad proxy" }, names: "HTTPS_PROXY", fix: /write it as http:\/\/host:port/, not: /hunter2/ },
  "plain http off the machine": { argv: resetAt({ "--endpoint": "http://dms.example.com" }, "--offset", "1"), names: "--endpoint", fix: /use https:\/\/, or allow plain http explicitly with --allow-insecure-http/ },
  "plain http to a private address": { argv: resetAt({ "--endpoint": "http://10.0.0.5:8080" }, "--offset", "1"), names: "--endpoint", fix: /--allow-insecure-http/ },
  "endpoint ftp://": { argv: resetAt({ "--endpoint": "ftp://dms.example.com" }, "--offset", "1"), names: "--endpoint", fix: /must start with https:\/\// },
  "endpoint not a URL": { argv: resetAt({ "--endpoint": "dms example" }, "--offset", "1"), names: "--endpoint", fix: /write it as https:\/\/host\[:port\]/ },
  "endpoint with a path": { argv: resetAt({ "--endpoint": "https://dms.example.com/v2" }, "--offset", "1"), names: "--endpoint", fix: /without a path: DMS paths start at \/v2/ },
  "endpoint with a password": { argv: resetAt({ "--endpoint": "https://u:hunter2@dms.example.com" }, "--offset", "1"), names: "--endpoint", fix: /must not carry a user or password: DMS requests are signed/, not: /hunter2/ },
  "an unknown region": { argv: resetAt({ "--endpoint": null }, "--offset", "1", "--region", "mars-1"), names: "--region", fix: /use one of .*cn-north-4/ },
  "an unknown HW_REGION_NAME": { argv: resetAt({ "--endpoint": null }, "--offset", "1"), env: { HW_REGION_NAME: "mars-1" }, names: "HW_REGION_NAME", fix: /use one of .*cn-north-4/ },
  "no endpoint, no region": { argv: resetAt({ "--endpoint": null }, "--offset", "1"), names: "--endpoint", fix: /e\.g\. https:\/\/dms\.cn-north-4\.myhuaweicloud\.com\) or --region/ },
  "no credentials": { argv: reset("--offset", "1"), env: NO_CREDENTIALS, names: "CLOUD_SDK_AK", fix: /set CLOUD_SDK_AK and CLOUD_SDK_SK \(or HW_ACCESS_KEY and HW_SECRET_KEY\)/ },
  "half a key pair": { argv: reset("--offset", "1"), env: { CLOUD_SDK_SK: undefined }, names: "CLOUD_SDK_SK", fix: /only CLOUD_SDK_AK is set/, not: /CLITESTAK/ },

  // Unknown options and misplaced arguments.
  "--bogus": { argv: reset("--offset", "1", "--bogus"), names: "--bogus", fix: /see dms-offsets --help/ },
  "--ofset": { argv: reset("--ofset", "1"), names: "--ofset", fix: /did you mean --offset\?/ },
  "--grup": { argv: reset("--offset", "1", "--grup", "g"), names: "--grup", fix: /did you mean --group\?/ },
  "--timestmap": { argv: reset("--timestmap", "1764000000000"), names: "--timestmap", fix: /did you mean --timestamp\?/ },
  "--dry-run": { argv: reset("--offset", "1", "--dry-run"), names: "--dry-run", fix: /for a plan alone, use dms-offsets plan/ },
  "--execute": { argv: reset("--offset", "1", "--execute"), names: "--execute", fix: /use dms-offsets plan/ },
  "-x": { argv: reset("--offset", "1", "-x"), names: "-x", fix: /see dms-offsets --help/ },
  "--yes=true": { argv: reset("--offset", "1", "--yes=true"), names: "--yes", fix: /write --yes alone/ },
  "--offset without a value": { argv: reset("--offset"), names: "--offset", fix: /needs a value/ },
  "a stray positional": { argv: reset("--offset", "1", "now"), names: '"now"', fix: /every value goes after its --flag/ },
  "an unknown command": { argv: ["rewind", "--offset", "1"], names: '"rewind"', fix: /use plan, reset or show/ },
  "no command": { argv: ["--offset", "1"], names: "no command", fix: /use plan, reset or show/ },
  "--save-before with plan": { argv: cmd("plan", {}, "--offset", "1", "--save-before", "@DIR/x.csv"), names: "--save-before", fix: /does not go with plan/ },
  "--yes with plan": { argv: cmd("plan", {}, "--offset", "1", "--yes"), names: "--yes", fix: /does not go with plan/ },
  "--offset with show": { argv: cmd("show", {}, "--offset", "1"), names: "--offset", fix: /does not go with show: show reads the group and sends nothing/ },
  "two topics with show": { argv: cmd("show", {}, "--topic", "orders", "--topic", "payments"), names: "--topic", fix: /show takes one topic/ },

  // --from-file.
  "from-file missing": { argv: reset("--from-file", "@DIR/no-such.csv"), names: "--from-file", fix: /no such file: give a CSV file of topic,partition,offset lines/ },
  "from-file a directory": { argv: reset("--from-file", "@DIR/a-directory"), names: "--from-file", fix: /a directory, not a file: give a CSV file/ },
  "from-file two cells": { argv: reset("--from-file", "@DIR/two-cells.csv"), names: "--from-file", fix: /line 2: expected topic,partition,offset/ },
  "from-file bad partition": { argv: reset("--from-file", "@DIR/bad-partition.csv"), names: "--from-file", fix: /line 3: partition "x" is not a partition number/ },
  "from-file negative offset": { argv: reset("--from-file", "@DIR/negative-offset.csv"), names: "--from-file", fix: /line 1: offset "-1" is not a whole number >= 0/ },
  "from-file empty": { argv: reset("--from-file", "@DIR/empty.csv"), names: "--from-file", fix: /lists no partition \(the format is kafka-consumer-groups' export: topic,partition,offset per line\)/ },
  "from-file header only": { argv: reset("--from-file", "@DIR/header-only.csv"), names: "--from-file", fix: /lists no partition/ },
  "from-file bad topic": { argv: reset("--from-file", "@DIR/bad-topic.csv"), names: "--from-file", fix: /up to 249 of letters/ },
  "from-file a partition twice": { argv: reset("--from-file", "@DIR/duplicate.csv"), names: "--from-file", fix: /lists orders\/0 twice: give each partition once/ },
  "from-file offset beyond int64": { argv: reset("--from-file", "@DIR/beyond-int64.csv"), names: "--from-file", fix: /does not fit in int64/ },
  "from-file partition beyond int32": { argv: reset("--from-file", "@DIR/beyond-int32.csv"), names: "--from-file", fix: /at most 2147483647/ },

  // Files the CLI writes: checked before anything is sent.
  "save-before into a missing directory": { argv: reset("--offset", "1", "--save-before", "@DIR/no-such-dir/before.csv"), names: "--save-before", fix: /does not exist: create it, or write the file elsewhere/ },
  "export into a missing directory": { argv: cmd("plan", {}, "--offset", "1", "--export", "@DIR/no-such-dir/plan.csv"), names: "--export", fix: /does not exist: create it/ },
  "save-before a directory": { argv: reset("--offset", "1", "--save-before", "@DIR/a-directory"), names: "--save-before", fix: /is a directory: name a file in it/ },
  "save-before and export the same file": { argv: reset("--offset", "1", "--save-before", "@DIR/same.csv", "--export", "@DIR/./same.csv"), names: "--save-before", fix: /would overwrite the undo record; give two files/ },

  // Required.
  "no project id": { argv: resetAt({ "--project-id": null }, "--offset", "1"), names: "--project-id", fix: /is required \(or set HW_PROJECT_ID\)/ },
  "no instance id": { argv: resetAt({ "--instance-id": null }, "--offset", "1"), names: "--instance-id", fix: /is required: the ID of the Kafka instance/ },
  "no group": { argv: resetAt({ "--group": null }, "--offset", "1"), names: "--group", fix: /is required: name the consumer group/ },
};

/** Words only the resource uses: the CLI's messages name flags instead. */
const INPUT_NAMES = /\b(projectId|instanceId|messageOffset|shiftBy|toGroup|waitForInactiveGroupSeconds|forbidForward|legacyApi|allowInsecureHttp)\b/;

function balanced(text: string): boolean {
  const count = (c: string) => text.split(c).length - 1;
  return count("(") === count(")") && count("[") === count("]") && count("{") === count("}");
}

const expand = (argv: string[]) => argv.map((a) => a.replace("@URL", local.url).replace("@DIR", dir));

describe("the command line: exit 2, the flag and the fix named, 0 requests sent", () => {
  test.each(Object.entries(CLI))("%s", async (_name, row) => {
    await local.clearRequests();
    undici.reset();
    const text = await runCli(expand(row.argv), { ...(row.env && { env: row.env }) });
    const json = await runCli(["--json", ...expand(row.argv)], { ...(row.env && { env: row.env }) });
    expect(await local.requests()).toEqual([]);
    expect(undici.count()).toBe(0);

    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: "" });
    const message = text.stderr.trimEnd();
    expect(message.split("\n").every((l) => l.startsWith("dms-offsets: "))).toBe(true);
    expect(message).toContain(row.names);
    expect(message).toMatch(row.fix);
    if (row.not) expect(message).not.toMatch(row.not);
    expect(message).not.toMatch(INPUT_NAMES);
    expect(balanced(message)).toBe(true);

    // The same refusal as one JSON line.
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 2, stderr: "" });
    expect(json.stdout.endsWith("\n") && json.stdout.split("\n").length).toBe(2);
    const line = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({ type: "error", code: "usage", exitStatus: 2 });
    expect(line.message).toBe(message.replace(/^dms-offsets: /gm, ""));
  });
});

// ---------------------------------------------------------------------------------------------------------
// The resource's check.

const BASE = {
  projectId: PROJECT,
  instanceId: INSTANCE,
  group: "billing",
  endpoint: "https://dms.example.com",
  accessKey: "AKBADINPUT0000000001",
  secretKey: "badinput-test-secret-key-not-real-0001",
};

interface ResourceRow {
  /** Changes to a valid set of inputs; undefined removes the input. */
  change: Record<string, unknown>;
  property: string;
  fix: RegExp;
  not?: RegExp;
}

const T = { messageOffset: 1 };

const RESOURCE: Record<string, ResourceRow> = {
  "partition 2147483648": { change: { ...T, topic: "orders", partition: 2147483648 }, property: "partition", fix: /at most 2147483647: Kafka partition numbers are int32/ },
  "partition -2": { change: { ...T, topic: "orders", partition: -2 }, property: "partition", fix: /-1 \(every partition\) or a partition number/ },
  "partition 1.5": { change: { ...T, topic: "orders", partition: 1.5 }, property: "partition", fix: /must be an integer/ },
  'partition "two"': { change: { ...T, topic: "orders", partition: "two" }, property: "partition", fix: /must be an integer/ },
  "partition with topics": { change: { ...T, topics: ["orders"], partition: 0 }, property: "partition", fix: /list partitions per topic/ },
  'topic "."': { change: { ...T, topic: "." }, property: "topic", fix: /name a topic|omit it/ },
  'topic ".."': { change: { ...T, topic: ".." }, property: "topic", fix: /name a topic|omit it/ },
  'topic "orders/../x"': { change: { ...T, topic: "orders/../x" }, property: "topic", fix: /up to 249 of letters, digits/ },
  "topic empty": { change: { ...T, topic: "" }, property: "topic", fix: /must not be empty: omit it/ },
  "topic of 250 characters": { change: { ...T, topic: LONG_TOPIC }, property: "topic", fix: /up to 249/ },
  'topics ["orders:x"]': { change: { ...T, topics: ["orders:x"] }, property: "topics", fix: /list partition numbers separated by commas/ },
  'topics [{topic: "a/b"}]': { change: { ...T, topics: [{ topic: "a/b" }] }, property: "topics", fix: /up to 249 of letters/ },
  "topics empty": { change: { ...T, topics: [] }, property: "topics", fix: /must list at least one topic, or be omitted/ },
  'projectId "."': { change: { ...T, projectId: "." }, property: "projectId", fix: /32 hex digits/ },
  'projectId ".."': { change: { ...T, projectId: ".." }, property: "projectId", fix: /32 hex digits/ },
  'projectId "a/b"': { change: { ...T, projectId: "a/b" }, property: "projectId", fix: /32 hex digits/ },
  'projectId "x y"': { change: { ...T, projectId: "x y" }, property: "projectId", fix: /32 hex digits/ },
  "projectId 123": { change: { ...T, projectId: 123 }, property: "projectId", fix: /must be a string, got the number 123: quote it/, not: /required/ },
  'instanceId "."': { change: { ...T, instanceId: "." }, property: "instanceId", fix: /UUID/ },
  'instanceId ".."': { change: { ...T, instanceId: ".." }, property: "instanceId", fix: /UUID/ },
  'instanceId "a/b"': { change: { ...T, instanceId: "a/b" }, property: "instanceId", fix: /UUID/ },
  'instanceId "x y"': { change: { ...T, instanceId: "x y" }, property: "instanceId", fix: /UUID/ },
  'group "a/b"': { change: { ...T, group: "a/b" }, property: "group", fix: /kafka-consumer-groups|cannot be reset through DMS/ },
  'group ".."': { change: { ...T, group: ".." }, property: "group", fix: /name the consumer group/ },
  "group with a lone surrogate": { change: { ...T, group: "g\uD800" }, property: "group", fix: /lone UTF-16 surrogate.*fix the string/ },
  "group with a control character": { change: { ...T, group: "g\u0007" }, property: "group", fix: /control character.*remove it/ },
  "group 123": { change: { ...T, group: 123 }, property: "group", fix: /must be a string, got the number 123/, not: /required/ },
  "toGroup is the group": { change: { toGroup: "billing" }, property: "toGroup", fix: /name another group to copy offsets from/ },
  "February 30th": { change: { timestamp: "2026-02-30T00:00:00Z" }, property: "timestamp", fix: /not a date that exists/ },
  "April 31st": { change: { timestamp: "2026-04-31T00:00:00Z" }, property: "timestamp", fix: /not a date that exists/ },
  "24:00": { change: { timestamp: "2026-11-24T24:00:00Z" }, property: "timestamp", fix: /not a date that exists/ },
  "23:60": { change: { timestamp: "2026-11-24T23:60:00Z" }, property: "timestamp", fix: /not a date that exists/ },
  "the 13th month": { change: { timestamp: "2026-13-01T00:00:00Z" }, property: "timestamp", fix: /not a date that exists/ },
  "a date without a zone": { change: { timestamp: "2026-11-24T02:00:00" }, property: "timestamp", fix: /ISO-8601 with a zone/ },
  "seconds-looking ms": { change: { timestamp: 1764000000 }, property: "timestamp", fix: /use 1764000000000/ },
  "negative ms": { change: { timestamp: -1 }, property: "timestamp", fix: /must not be before 1970/, not: /use -\d|epoch seconds/ },
  "negative, seconds-sized ms": { change: { timestamp: -1764000000 }, property: "timestamp", fix: /must not be before 1970/, not: /use -\d|epoch seconds/ },
  "timestamp true": { change: { timestamp: true }, property: "timestamp", fix: /epoch milliseconds or an ISO-8601 string with a zone/ },
  "messageOffset -1": { change: { messageOffset: -1 }, property: "messageOffset", fix: /must be >= 0/ },
  "messageOffset 1.5": { change: { messageOffset: 1.5 }, property: "messageOffset", fix: /whole number/ },
  "messageOffset beyond int64": { change: { messageOffset: "9223372036854775808" }, property: "messageOffset", fix: /does not fit in int64/ },
  "messageOffset 2^53 + 2 as a number": { change: { messageOffset: 2 ** 53 + 2 }, property: "messageOffset", fix: /beyond 2\^53 .*pass it as a decimal string/ },
  "messageOffset 1e20 as a number": { change: { messageOffset: 1e20 }, property: "messageOffset", fix: /pass it as a decimal string/ },
  "shiftBy 0": { change: { shiftBy: 0 }, property: "shiftBy", fix: /moves nothing: give a positive/ },
  'shiftBy "0"': { change: { shiftBy: "0" }, property: "shiftBy", fix: /moves nothing/ },
  "two targets": { change: { messageOffset: 1, latest: true }, property: "latest", fix: /set exactly one target/ },
  "no target": { change: {}, property: "messageOffset", fix: /set exactly one target: .*none is set/ },
  "offsets without an offset": { change: { offsets: [{ topic: "orders", partition: 0 }] }, property: "offsets", fix: /has no offset: give offset/ },
  "offsets with a partition twice": { change: { offsets: [{ topic: "orders", partition: 0, offset: 1 }, { topic: "orders", partition: 0, offset: 2 }] }, property: "offsets", fix: /twice: give each partition once/ },
  "offsets with partition -1": { change: { offsets: [{ topic: "orders", partition: -1, offset: 1 }] }, property: "offsets", fix: /a partition number/ },
  "endpoint and region": { change: { ...T, region: "cn-north-4" }, property: "region", fix: /set endpoint or region, not both/ },
  "plain http off the machine": { change: { ...T, endpoint: "http://dms.example.com" }, property: "endpoint", fix: /use https:\/\// },
  "wait 86401 s": { change: { ...T, waitForInactiveGroupSeconds: 86401 }, property: "waitForInactiveGroupSeconds", fix: /at most 86400 \(a day\); it counts seconds, not milliseconds/ },
  "wait -1 s": { change: { ...T, waitForInactiveGroupSeconds: -1 }, property: "waitForInactiveGroupSeconds", fix: />= 0/ },
  'wait "soon"': { change: { ...T, waitForInactiveGroupSeconds: "soon" }, property: "waitForInactiveGroupSeconds", fix: /must be a number of seconds/ },
  messageOfset: { change: { messageOfset: 1 }, property: "messageOfset", fix: /did you mean "messageOffset"\?/ },
  regoin: { change: { ...T, regoin: "cn-north-4" }, property: "regoin", fix: /did you mean "region"\?/ },
  'legacyApi "yes"': { change: { ...T, legacyApi: "yes" }, property: "legacyApi", fix: /true or false/ },
  "customTimeouts.create soon": { change: { ...T, customTimeouts: { create: "soon" } }, property: "customTimeouts.create", fix: /duration such as "90s", "5m" or "1h30m"/ },
  "accessKey without secretKey": { change: { ...T, secretKey: undefined }, property: "secretKey", fix: /required when accessKey is set/, not: /AKBADINPUT/ },
};

describe("the resource's check: the input and the fix named, pure", () => {
  test.each(Object.entries(RESOURCE))("%s", (_name, row) => {
    undici.reset();
    const news: Record<string, unknown> = { ...BASE, ...row.change };
    for (const [k, v] of Object.entries(row.change)) if (v === undefined) delete news[k];
    const outcome = checkInputs(news, {}, {});
    expect(outcome).not.toBeInstanceOf(Promise);
    expect(undici.count()).toBe(0);
    const failure = outcome.failures.find((f) => f.property === row.property || f.property.startsWith(`${row.property}.`));
    expect(failure).toBeDefined();
    expect(failure?.reason).toMatch(row.fix);
    if (row.not) expect(failure?.reason).not.toMatch(row.not);
    // The resource's messages name inputs, never the CLI's flags.
    expect(outcome.failures.map((f) => f.reason).join("\n")).not.toMatch(/(^|\s)--[a-z]/);
  });
});

test("the counters see requests: a valid plan is counted by both", async () => {
  await local.clearRequests();
  undici.reset();
  const r = await runCli(expand(cmd("plan", {}, "--topic", "orders", "--to-earliest")));
  expect(r.code).toBe(0);
  expect((await local.requests()).length).toBeGreaterThan(0);
  expect(undici.count()).toBe((await local.requests()).length);
});

test("the table holds at least 100 cases", () => {
  expect(Object.keys(CLI).length + Object.keys(RESOURCE).length).toBeGreaterThanOrEqual(100);
});

// An ISO-8601 time is a date whatever its year: the "looks like epoch seconds" advice is for bare numbers.
// (provider/rewind/target.ts applies the seconds check to every time below 1973, ISO ones included.)
describe("an ISO-8601 time before 1973 is never taken for epoch seconds", () => {
  test("dms-offsets --timestamp 1971-01-01T00:00:00Z", async () => {
    const r = await runCli(expand(cmd("plan", {}, "--topic", "orders", "--timestamp", "1971-01-01T00:00:00Z")));
    expect(r.stderr).not.toMatch(/epoch seconds|use 31536000000000/);
  });
  test('check: timestamp "1971-01-01T00:00:00Z"', () => {
    const { failures } = checkInputs({ ...BASE, timestamp: "1971-01-01T00:00:00Z" }, {}, {});
    expect(failures.map((f) => f.reason).join("\n")).not.toMatch(/epoch seconds|use 31536000000000/);
  });
});
