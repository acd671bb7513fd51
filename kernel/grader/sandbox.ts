/**
 * A kernel in a child Node process, for code the grader does not trust.
 *
 * The child runs under Node's permission model:
 *   - it may read only its working directory (a fresh temporary copy of the submission when grading), the
 *     project's build (`dist/`) and its dependencies (`node_modules/`), and the system fonts the widgets draw
 *     with; the source notebook and its hidden tests are never under any of these;
 *   - it may write nowhere, and start no child process (no `--allow-child-process`);
 *   - `--allow-worker`: the executor type-checks cells on a worker thread (workers inherit the same limits);
 *   - `--allow-addons`: the widgets render their PNG fallback with resvg's prebuilt addon. Addons load from
 *     readable files only, and since the child can write nothing it cannot bring one of its own;
 *   - `--max-old-space-size` caps its memory; `--no-warnings` keeps Node's notice about the experimental
 *     permission model off stderr;
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
import { EXIT_DISCONNECTED, type CellEvent, type ChildMessage, type ParentMessage } from "./protocol.js";

export interface SandboxOptions {
  /** The notebook's folder: the child's working directory, and the only user folder it can read. */
  cwd: string;
  /** Heap limit of the child, in MB. */
  memoryMb: number;
  /** How long the kernel may take to start (load the runtime, warm up TypeScript). */
  startupTimeoutMs?: number;
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

/** True when `file` is inside one of the folders the child can read. */
export function readableBySandbox(file: string, cwd: string): boolean {
  const f = realpath(file);
  return [realpath(cwd), ...projectReadPaths()].some((dir) => f === dir || f.startsWith(dir + path.sep));
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
    "--no-warnings",
  ];
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: process.env.LANG ?? "C.UTF-8", TZ: "UTC" };
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

  private constructor(
    private readonly child: ChildProcess,
    banner: string,
    private readonly memoryMb: number,
  ) {
    this.banner = banner;
  }

  /** Starts a kernel and waits until it is ready to run cells. */
  static async start(options: SandboxOptions): Promise<Sandbox> {
    const script = fileURLToPath(new URL("./sandbox-child.js", import.meta.url));
    const child = fork(script, [], {
      cwd: options.cwd,
      execPath: process.execPath,
      execArgv: permissionFlags(options.cwd, options.memoryMb),
      env: childEnv(),
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    const collect = (s: string) => (stderr = (stderr + s).slice(-4000));
    child.stderr!.on("data", collect);
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
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
          child.kill("SIGKILL");
          reject(new SandboxStartError(`the kernel could not start: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        const why = describeExit(code, signal, stderr, options.memoryMb);
        const tail = OUT_OF_MEMORY.test(stderr) ? "" : lastLines(stderr, 6);
        reject(new SandboxStartError(`${why} while starting${tail ? `:\n${tail}` : ""}`));
      };
      child.on("message", onMessage);
      // "close": after the process ended and its stderr was read to the end.
      child.on("close", onExit);
      child.on("error", (err) => {
        done();
        reject(new SandboxStartError(`cannot start the kernel process: ${err.message}`));
      });
    });
    child.stderr!.off("data", collect);
    const sandbox = new Sandbox(child, banner, options.memoryMb);
    sandbox.stderrTail = stderr;
    sandbox.watch();
    return sandbox;
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Runs one cell. Never rejects: failures of the process are outcomes. */
  execute(code: string, options: { silent?: boolean; timeoutMs: number }): Promise<CellOutcome> {
    if (this.dead !== null) return Promise.resolve({ status: "crashed", reason: this.dead });
    if (this.current) throw new Error("Sandbox.execute: one cell at a time");
    const id = ++this.nextId;
    return new Promise<CellOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.kill("timeout");
        settle({ status: "timeout" });
      }, options.timeoutMs);
      const settle = (o: CellOutcome) => {
        clearTimeout(timer);
        if (this.current?.id === id) this.current = null;
        resolve(o);
      };
      this.current = { id, settle };
      const msg: ParentMessage = { type: "execute", id, code, silent: options.silent === true };
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

  /** Stops the process (idempotent). */
  kill(why = "stopped"): void {
    if (this.dead === null) this.dead = why;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private watch(): void {
    this.child.on("message", (m: ChildMessage) => {
      if (m.type === "event") this.onEvent(m.id, m.event);
      else if (m.type === "done" && this.current?.id === m.id) this.current.settle({ status: m.status, executionCount: m.executionCount });
    });
    this.child.stderr!.on("data", (s: string) => (this.stderrTail = (this.stderrTail + s).slice(-4000)));
    // "close" comes after the process ended and its stderr was read to the end (V8's out-of-memory report).
    this.child.on("close", (code, signal) => this.markDead(describeExit(code, signal, this.stderrTail, this.memoryMb)));
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

const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed/i;

function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n")
    .slice(-1000);
}

function describeExit(code: number | null, signal: string | null, stderr: string, memoryMb: number): string {
  if (OUT_OF_MEMORY.test(stderr)) {
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
