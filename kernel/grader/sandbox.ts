/**
 * A kernel in a child Node process, for code the grader does not trust.
 *
 * When grading (`isolate`, the default with `grading`), the child runs in the OS sandbox of `isolation.ts`:
 * bwrap's namespaces (no network, no other processes, a read-only view of only the files below, uid 65534
 * without capabilities) and a cgroup that caps all its memory and its processes. Without bwrap it refuses to
 * start, unless `allowUnsandboxed`; `protections` says what is in force, with warnings for what is not.
 * `otp-lab run` (trusted notebooks) does not isolate: the child is forked directly, as before.
 *
 * In both cases the child also runs under Node's permission model, a second layer (not a security boundary on
 * its own):
 *   - it may read only its working directory (a fresh temporary copy of the submission when grading), the
 *     project's build (`dist/`) and its dependencies (`node_modules/`), and the system fonts the widgets draw
 *     with; the source notebook and its hidden tests are never under any of these;
 *   - it may write nowhere, and start no child process (no `--allow-child-process`);
 *   - `--allow-worker`: the executor type-checks cells on a worker thread (workers inherit the same limits);
 *   - `--allow-addons`: the widgets render their PNG fallback with resvg's prebuilt addon. Addons load from
 *     readable files only, and since the child can write nothing it cannot bring one of its own;
 *   - `--max-old-space-size` caps its JS heap (when isolated, the cgroup caps all of its memory to the same
 *     figure); `--no-warnings` keeps Node's notice about the experimental permission model off stderr;
 *   - V8 flags (`KERNEL_V8_FLAGS`): the learner's kernel's, and a higher optimisation budget;
 *   - a minimal environment: the grader's variables (tokens a CI job may hold) are not passed on.
 *
 * `execute()` runs one cell with a time limit. A cell that overruns, or a process that dies (out of memory,
 * `process.abort()`), settles that call as "timeout" or "crashed" and leaves the sandbox dead; the caller
 * starts a new one (`execute-notebook.ts` rebuilds the state by re-running the cells that succeeded).
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { IsolationUnavailableError, UNPROTECTED, spawnIsolatedNode, systemReadPaths, type IsolatedProcess, type Protections } from "./isolation.js";
import { NODE_FLAGS } from "../../runtime/node-flags.js";
import { EXIT_DISCONNECTED, type CellEvent, type ChildMessage, type ParentMessage } from "./protocol.js";

export interface SandboxOptions {
  /** The notebook's folder: the child's working directory, and the only user folder it can read. */
  cwd: string;
  /** Memory limit of the child, in MB: its JS heap; when isolated, all of its memory. */
  memoryMb: number;
  /** How long the kernel may take to start (load the runtime, warm up TypeScript). */
  startupTimeoutMs?: number;
  /**
   * Grading mode: student code is untrusted. The kernel freezes the JavaScript intrinsics and runs cells in a
   * confined scope with no Node APIs (`confine.ts`); set by `otp-lab grade`, not by `otp-lab run`.
   */
  grading?: boolean;
  /**
   * Run the child in the OS sandbox (`isolation.ts`). Defaults to `grading`: `otp-lab run` executes trusted
   * notebooks without it.
   */
  isolate?: boolean;
  /**
   * When isolating but bwrap is missing or cannot create namespaces: run without the OS sandbox, with a
   * warning in `protections`, instead of refusing to start (the CLI's `--allow-unsandboxed`).
   */
  allowUnsandboxed?: boolean;
}

export const DEFAULT_MEMORY_MB = 1024;
const DEFAULT_STARTUP_MS = 120_000;

export type CellOutcome =
  | { status: "ok"; executionCount: number }
  | { status: "error"; executionCount: number }
  | { status: "timeout" }
  | { status: "crashed"; reason: string };

export class SandboxStartError extends Error {
  override name = "SandboxStartError";
}

/** The OS sandbox is required and not available: nothing was started (the message says how to fix it). */
export class SandboxUnavailableError extends SandboxStartError {
  override name = "SandboxUnavailableError";
}

/** Folders the child may read besides its working directory: the project's code and what it imports. */
export function projectReadPaths(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <root>/dist/kernel/grader
  const root = path.resolve(here, "../../..");
  const paths = [path.join(root, "dist")];
  const nodeModules = path.join(root, "node_modules");
  if (existsSync(nodeModules)) paths.push(nodeModules);
  // Installed as a dependency, the packages sit in the node_modules folder that holds this package.
  try {
    const ts = createRequire(import.meta.url).resolve("typescript");
    const i = ts.lastIndexOf(`${path.sep}node_modules${path.sep}`);
    if (i >= 0) paths.push(ts.slice(0, i + "/node_modules".length));
  } catch {
    // The child reports the missing dependency itself.
  }
  const fonts = "/usr/share/fonts";
  if (existsSync(fonts)) paths.push(fonts);
  return [...new Set(paths.map((p) => realpath(p)))];
}

/** What the OS sandbox binds read-only besides the working folder: the project's code and its package.json. */
function isolatedReadPaths(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <root>/dist/kernel/grader
  // package.json says the build is ES modules ("type": "module"); Node reads it for every module it loads.
  const manifest = path.resolve(here, "../../../package.json");
  return [...projectReadPaths(), ...(existsSync(manifest) ? [realpath(manifest)] : [])];
}

/**
 * True when `file` is inside one of the folders the child can read: those of the permission model and those
 * the OS sandbox binds (`/usr` among them). Both count: the permission model alone is no boundary, and the
 * sandbox may be off.
 */
export function readableBySandbox(file: string, cwd: string): boolean {
  const f = realpath(file);
  return [realpath(cwd), ...isolatedReadPaths(), ...systemReadPaths()].some((dir) => f === dir || f.startsWith(dir === "/" ? dir : dir + path.sep));
}

function permissionFlags(cwd: string, memoryMb: number): string[] {
  // Node 22.13+ calls it --permission; 20 only knows --experimental-permission.
  const permission = process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";
  return [
    permission,
    // One flag per folder: Node 20 no longer splits the value on commas.
    ...[realpath(cwd), ...projectReadPaths()].map((p) => `--allow-fs-read=${p}`),
    "--allow-worker",
    "--allow-addons",
    `--max-old-space-size=${memoryMb}`,
    ...KERNEL_V8_FLAGS,
    "--no-warnings",
  ];
}

/**
 * V8 flags of every kernel `sandbox.ts` starts (`otp-lab grade`, `run`, the autograder): those the learner's
 * kernel runs with (`NODE_FLAGS`: a graded solution must not run slower, and time out, where the learner's ran
 * in time), and a higher optimisation budget. A graded kernel lives for a few seconds and spends most of them in
 * TypeScript's checker, a few large functions called a great many times: with V8's default budget its optimising
 * compiler starts on many of them, on other threads, and the kernel is gone before most of that code pays off
 * (a lesson's kernel kept 1.4 cores busy). The higher budget keeps optimisation for code that stays hot, such
 * as a cell's long loop; a kernel then uses about a fifth less CPU time and is done sooner, and a batch that
 * grades as many notebooks at once as there are cores competes less with its own compiler threads
 * (`npm run bench -- --only batch`).
 */
export const KERNEL_V8_FLAGS: readonly string[] = [...NODE_FLAGS, "--interrupt-budget=1000000"];

function childEnv(grading: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: process.env.LANG ?? "C.UTF-8", TZ: "UTC" };
  if (grading) env.OTP_LAB_GRADING = "1";
  if (process.env.OTP_LAB_TYPECHECK !== undefined) env.OTP_LAB_TYPECHECK = process.env.OTP_LAB_TYPECHECK;
  return env;
}

export class Sandbox {
  readonly banner: string;
  private dead: string | null = null;
  private nextId = 0;
  private current: { id: number; settle: (o: CellOutcome) => void } | null = null;
  private stderrTail = "";
  /** Receives the outputs of the running cell, and late outputs of earlier ones (timers), by cell request id. */
  onEvent: (id: number, event: CellEvent) => void = () => {};

  /** What protects the machine from this kernel (the OS sandbox, the limits), with warnings for what is missing. */
  readonly protections: Protections;

  private constructor(
    private readonly child: ChildProcess,
    private readonly jail: IsolatedProcess | null,
    banner: string,
    private readonly memoryMb: number,
  ) {
    this.banner = banner;
    this.protections = jail?.protections ?? UNPROTECTED;
  }

  /** Starts a kernel and waits until it is ready to run cells. */
  static async start(options: SandboxOptions): Promise<Sandbox> {
    const script = fileURLToPath(new URL("./sandbox-child.js", import.meta.url));
    const grading = options.grading === true;
    let child: ChildProcess;
    let jail: IsolatedProcess | null = null;
    if (options.isolate ?? grading) {
      try {
        jail = spawnIsolatedNode({
          script,
          execArgv: permissionFlags(options.cwd, options.memoryMb),
          cwd: options.cwd,
          env: childEnv(grading),
          stdio: ["ignore", "ignore", "pipe", "ipc"],
          serialization: "json",
          readPaths: isolatedReadPaths(),
          memoryMb: options.memoryMb,
          allowUnsandboxed: options.allowUnsandboxed === true,
        });
      } catch (err) {
        if (err instanceof IsolationUnavailableError) throw new SandboxUnavailableError(err.message, { cause: err });
        throw new SandboxStartError(`cannot start the kernel process: ${(err as Error).message}`, { cause: err });
      }
      child = jail.child;
    } else {
      child = fork(script, [], {
        cwd: options.cwd,
        execPath: process.execPath,
        execArgv: permissionFlags(options.cwd, options.memoryMb),
        env: childEnv(grading),
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        serialization: "json",
      });
    }
    const killChild = () => (jail ? jail.kill() : child.kill("SIGKILL"));
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    const collect = (s: string) => (stderr = (stderr + s).slice(-4000));
    child.stderr!.on("data", collect);
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        killChild();
        reject(new SandboxStartError(`the kernel did not start within ${(options.startupTimeoutMs ?? DEFAULT_STARTUP_MS) / 1000} s`));
      }, options.startupTimeoutMs ?? DEFAULT_STARTUP_MS);
      const done = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("close", onExit);
      };
      const onMessage = (m: ChildMessage) => {
        if (m.type === "ready") {
          done();
          resolve(m.banner);
        } else if (m.type === "startup-failed") {
          done();
          killChild();
          reject(new SandboxStartError(`the kernel could not start: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done();
        const exit = exitOf(jail, code, signal);
        const why = describeExit(exit, stderr, options.memoryMb);
        const tail = exit.outOfMemory || OUT_OF_MEMORY.test(stderr) ? "" : lastLines(stderr, 6);
        reject(new SandboxStartError(`${why} while starting${tail ? `:\n${tail}` : ""}`));
      };
      child.on("message", onMessage);
      // "close": after the process ended and its stderr was read to the end.
      child.on("close", onExit);
      child.on("error", (err) => {
        done();
        killChild();
        reject(new SandboxStartError(`cannot start the kernel process: ${err.message}`));
      });
    });
    child.stderr!.off("data", collect);
    const sandbox = new Sandbox(child, jail, banner, options.memoryMb);
    sandbox.stderrTail = stderr;
    sandbox.watch();
    return sandbox;
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Runs one cell. Never rejects: failures of the process are outcomes. */
  execute(code: string, options: { silent?: boolean; timeoutMs: number; locked?: boolean; test?: boolean; checked?: boolean }): Promise<CellOutcome> {
    if (this.dead !== null) return Promise.resolve({ status: "crashed", reason: this.dead });
    if (this.current) throw new Error("Sandbox.execute: one cell at a time");
    const id = ++this.nextId;
    // A cell that fills the memory limit does not always end in an OOM kill: with no swap, the kernel reclaims the
    // process's own code pages at the limit and it thrashes, alive but stuck, until the timeout. Such a cell ran
    // out of memory, and the report says so rather than "endless loop".
    const limitHitsBefore = this.jail?.counters().memoryLimitHits ?? 0;
    return new Promise<CellOutcome>((resolve) => {
      const timer = setTimeout(() => {
        const limitHits = this.jail?.counters().memoryLimitHits ?? 0;
        if (limitHits > limitHitsBefore) {
          const reason = `${describeExit({ code: null, signal: null, outOfMemory: true }, "", this.memoryMb)}: the cell was stuck at that limit when its ${options.timeoutMs / 1000} s ran out`;
          this.kill(reason);
          settle({ status: "crashed", reason });
          return;
        }
        this.kill("timeout");
        settle({ status: "timeout" });
      }, options.timeoutMs);
      const settle = (o: CellOutcome) => {
        clearTimeout(timer);
        if (this.current?.id === id) this.current = null;
        resolve(o);
      };
      this.current = { id, settle };
      const msg: ParentMessage = { type: "execute", id, code, silent: options.silent === true, locked: options.locked === true, test: options.test === true, checked: options.checked === true };
      try {
        this.child.send(msg);
      } catch (err) {
        this.markDead(`cannot reach the kernel: ${(err as Error).message}`);
      }
    });
  }

  /** Ids handed to `onEvent` are those of `execute` calls, in order: the next one is returned here. */
  get nextRequestId(): number {
    return this.nextId + 1;
  }

  /** Stops the process, and when isolated everything in its sandbox (idempotent). */
  kill(why = "stopped"): void {
    if (this.dead === null) this.dead = why;
    if (this.jail) this.jail.kill();
    else if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private watch(): void {
    this.child.on("message", (m: ChildMessage) => {
      if (m.type === "event") this.onEvent(m.id, m.event);
      else if (m.type === "done" && this.current?.id === m.id) this.current.settle({ status: m.status, executionCount: m.executionCount });
    });
    this.child.stderr!.on("data", (s: string) => (this.stderrTail = (this.stderrTail + s).slice(-4000)));
    // "close" comes after the process ended and its stderr was read to the end (V8's out-of-memory report).
    this.child.on("close", (code, signal) => {
      this.markDead(describeExit(exitOf(this.jail, code, signal), this.stderrTail, this.memoryMb));
    });
    // The IPC channel also closes when the process dies, just before "close"; give that a moment to say why.
    // A live child that closed it (a cell called process.disconnect()) cannot be driven any more.
    this.child.on("disconnect", () => {
      setTimeout(() => {
        if (this.dead === null) {
          this.markDead("the kernel closed its connection to the grader");
          this.kill();
        }
      }, 2000).unref();
    });
    this.child.on("error", (err) => this.markDead(`kernel process error: ${err.message}`));
  }

  private markDead(reason: string): void {
    if (this.dead === null) this.dead = reason;
    const c = this.current;
    if (c) {
      this.current = null;
      c.settle({ status: "crashed", reason: this.dead });
    }
  }
}

/** V8's reports of running out of memory (its heap limit, or an allocation refused under RLIMIT_DATA). */
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed|Fatal process out of memory/i;

/** How the kernel process ended; `outOfMemory`: its cgroup's OOM killer ended it. */
interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  outOfMemory: boolean;
}

/** The kernel's own exit status (bwrap reports a signal as 128+N) and whether its memory limit ended it. */
function exitOf(jail: IsolatedProcess | null, code: number | null, signal: NodeJS.Signals | null): Exit {
  return jail ? { ...jail.exitStatus(code, signal), outOfMemory: jail.outOfMemory() } : { code, signal, outOfMemory: false };
}

function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n")
    .slice(-1000);
}

function describeExit({ code, signal, outOfMemory }: Exit, stderr: string, memoryMb: number): string {
  if (outOfMemory || OUT_OF_MEMORY.test(stderr)) {
    return `the kernel ran out of memory (the grader allows ${memoryMb} MB)`;
  }
  if (signal === "SIGABRT") return "the kernel aborted (SIGABRT)";
  if (code === EXIT_DISCONNECTED) return "the kernel closed its connection to the grader (did a cell call process.disconnect()?)";
  if (signal) return `the kernel was killed by ${signal}`;
  return `the kernel exited with code ${code}`;
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
