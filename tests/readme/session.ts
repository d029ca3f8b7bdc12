// A bash session that a test types commands into, one at a time, as a user types them into a terminal: state
// (the directory, exports, background jobs) carries from one command to the next. Each command's output and
// exit status are read between markers the session prints after it; nothing waits on a clock except the
// bounds that turn a hang into a failure.
//
// bash reads its commands as a script from a FIFO, so that the commands themselves get /dev/null as stdin
// (nothing they might read swallows the next command) and no terminal: `dms-offsets reset` needs its `--yes`,
// and pulumi runs non-interactively. (A FIFO, since Node's stdio pipes are sockets, which /dev/fd cannot open.) The session is the leader of its own process group; closing it signals the
// whole group, which takes the README's background jobs (`npx dms-local … &`) with it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Writable } from "node:stream";

export interface CommandResult {
  command: string;
  status: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The environment of a user's fresh shell: no DMS credentials, no Pulumi or npm settings inherited from the test run. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([k]) => !/^(CLOUD_SDK_|HW_|PULUMI_|npm_|DMS_|JEST_)/i.test(k) && !["NODE_ENV", "INIT_CWD", "NODE_OPTIONS", "DMS_LOCAL_PORT"].includes(k),
  );
  return { ...Object.fromEntries(inherited), ...extra };
}

export class Session {
  private out = "";
  private err = "";
  private readonly listeners = new Set<() => void>();
  private readonly exited: Promise<void>;
  private exitCode: number | null | undefined;
  private count = 0;
  /** Every command and what it printed, for a failure's message. */
  readonly transcript: string[] = [];
  private readonly emergencyKill = (): void => {
    try {
      process.kill(-(this.child.pid as number), "SIGKILL");
    } catch {
      // already gone
    }
  };

  private constructor(
    private readonly child: ChildProcess,
    private readonly script: Writable,
    private readonly fifoDir: string,
    readonly name: string,
  ) {
    child.stdout?.on("data", (c: Buffer) => {
      this.out += c.toString();
      this.notify();
    });
    child.stderr?.on("data", (c: Buffer) => {
      this.err += c.toString();
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.exitCode = code;
        this.notify();
        resolve();
      }),
    );
    // If jest dies before afterAll, the session's group (and its dms-local) must not outlive it.
    process.once("exit", this.emergencyKill);
  }

  static start(name: string, cwd: string, env: NodeJS.ProcessEnv): Session {
    const fifoDir = mkdtempSync(path.join(os.tmpdir(), "readme-session-"));
    const fifo = path.join(fifoDir, "commands");
    execFileSync("mkfifo", [fifo]);
    const child = spawn("bash", ["--noprofile", "--norc", fifo], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    // Opening the FIFO for writing completes once bash has opened it for reading; writes wait for that.
    const script = createWriteStream(fifo);
    script.on("error", () => undefined); // bash gone: the waits report it
    return new Session(child, script, fifoDir, name);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Resolves with `test`'s first non-undefined value, evaluated whenever the session prints or exits; rejects
   * after `timeoutMs` or when bash exits first.
   */
  private until<T>(test: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined;
        try {
          value = test();
        } catch (e) {
          done();
          reject(e as Error);
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (this.exitCode !== undefined) {
          done();
          reject(new Error(`${this.name}: bash exited (${this.exitCode}) while waiting for ${what}\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private tail(): string {
    return `--- stdout (end) ---\n${this.out.slice(-6000)}\n--- stderr (end) ---\n${this.err.slice(-6000)}`;
  }

  /** Offsets into what the session printed so far, for `waitFor`. */
  mark(): { out: number; err: number } {
    return { out: this.out.length, err: this.err.length };
  }

  /** Waits until stdout after `since` matches `pattern` (stderr matching `failure` first fails). */
  waitFor(pattern: RegExp, since: { out: number; err: number }, what: string, options: { failure?: RegExp; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    return this.until(
      () => {
        const failed = options.failure?.exec(this.err.slice(since.err));
        if (failed) throw new Error(`${this.name}: waiting for ${what}, got: ${failed[0]}\n${this.tail()}`);
        return pattern.exec(this.out.slice(since.out)) ?? undefined;
      },
      options.timeoutMs ?? 60_000,
      what,
    );
  }

  /** Types `command` (one logical line, continuations allowed) and waits for it to finish. */
  async run(command: string, timeoutMs = 600_000): Promise<CommandResult> {
    const id = `__README_SESSION_${++this.count}_DONE__`;
    const since = this.mark();
    const started = process.hrtime.bigint();
    this.script.write(`${command}\n__readme_status=$?; printf '\\n%s %s\\n' ${id} "$__readme_status"; printf '\\n%s\\n' ${id} >&2\n`);
    const status = await this.until(
      () => {
        const out = new RegExp(`\\n${id} (\\d+)\\n`).exec(this.out.slice(since.out));
        if (!out || !this.err.slice(since.err).includes(`\n${id}\n`)) return undefined;
        return Number(out[1]);
      },
      timeoutMs,
      `end of \`${command}\``,
    );
    const stdout = this.out.slice(since.out, this.out.indexOf(`\n${id} `, since.out));
    const stderr = this.err.slice(since.err, this.err.indexOf(`\n${id}\n`, since.err));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.transcript.push(`$ ${command}\n${stdout}${stderr === "" ? "" : `\n[stderr]\n${stderr}`}\n[exit ${status}, ${seconds.toFixed(1)} s]`);
    console.log(`${this.name}: \`${command.split("\n")[0]}${command.includes("\n") ? " …" : ""}\`: exit ${status}, ${seconds.toFixed(1)} s`);
    return { command, status, stdout, stderr, seconds };
  }

  /** Like run, but a non-zero exit status fails with the command's output. */
  async ok(command: string, timeoutMs?: number): Promise<CommandResult> {
    const result = await this.run(command, timeoutMs);
    if (result.status !== 0) throw new Error(`${this.name}: \`${command}\` exited ${result.status}\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  /** Ends the session and everything it started (its process group), and waits for bash to exit. */
  async close(): Promise<void> {
    try {
      process.kill(-(this.child.pid as number), "SIGTERM");
    } catch {
      // the group is already gone
    }
    await this.exited;
    this.script.destroy();
    process.off("exit", this.emergencyKill);
    rmSync(this.fifoDir, { recursive: true, force: true });
  }
}

/** True when nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Waits (up to `timeoutMs`) until nothing listens on `port`: a server stopped by a signal releases its port
 * when its process has closed it, which no event of ours reports.
 */
export async function portReleased(port: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await portFree(port)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { timed } from "../support/processes";
