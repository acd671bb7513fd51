/**
 * The main thread's handle on the TypeScript thread (`ts-thread.ts`): typed request/response over a worker.
 *
 * The first cell is fast. The type checker needs a second or more after start-up (loading TypeScript, parsing the
 * declarations of the JavaScript library, of @types/node and of the runtime). The kernel starts, with the process,
 * a light thread that only loads TypeScript and compiles (`prestartTypeScript`): it is ready about when the kernel
 * is. The checker starts when the kernel has answered `kernel_info` and the light thread is ready (on two cores,
 * starting it earlier slows both down). The first cell the kernel runs, if it arrives while the checker is still
 * warming up, is compiled by the light thread and runs at once; the checker checks it before any later cell, and
 * its type errors, if any, are reported then: in the cell if it is still running, else at the start of the next
 * cell, as errors raised between cells are (`lateTypeErrors`). Every other cell is checked before it runs, and does
 * not run if it has a type error. Once the checker is warm the light thread ends. Without the prestart (the
 * grader, `otp-lab run`, scripts using the executor) there is only the checker, and every cell, the first
 * included, waits for it.
 */
import { Worker } from "node:worker_threads";
import type { PreloadModule } from "./language-service.js";
import type { CompileError } from "./transform.js";
import type { IsCompleteReply } from "./is-complete.js";
import type { PrepareResult } from "./ts-thread.js";
import { locatedError, type ErrorContent } from "./traceback.js";
import { log } from "./log.js";

export type TsRequest = { id: number } & (
  | { op: "preload"; modules: PreloadModule[] }
  | { op: "restore"; cells: string[] }
  | { op: "commit"; code: string }
  /** `ran`: the cell has run already (checked late): it is committed even if it has type errors. */
  | { op: "prepare"; code: string; typecheck: boolean; commit: boolean; expression?: boolean; ran?: boolean }
  | { op: "complete"; code: string; cursor: number }
  | { op: "inspect"; code: string; cursor: number; detail: number }
  | { op: "isComplete"; code: string }
);

/** Id 0 with `event`: a notification from the thread ("warm": its warm-up is over, the checker's or the compiler's). */
export type TsResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string } | { id: 0; event: "warm" };

export interface Completions {
  matches: string[];
  kinds: string[];
  start: number;
  end: number;
}

export interface QuickInfo {
  found: boolean;
  text: string;
  markdown: string;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

interface ThreadOptions {
  cwd: string;
  typecheck: boolean;
}

/** One TypeScript thread and the answers it owes. Created unstarted (`start: false`), it keeps requests until `start()`. */
class Thread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private backlog: TsRequest[] | null = [];
  dead: Error | null = null;
  /** The thread has warmed up (the compiler, and with type checking the checker). */
  warm = false;
  private readonly onWarm: Array<() => void> = [];
  private readonly onExit: Array<() => void> = [];

  constructor(
    private readonly options: ThreadOptions,
    start = true,
  ) {
    if (start) this.start();
  }

  get started(): boolean {
    return this.worker !== null;
  }

  start(): void {
    if (this.worker || this.dead) return;
    const worker = new Worker(new URL("./ts-thread.js", import.meta.url), {
      workerData: this.options,
      // The thread's console must not reach the kernel's stderr (graders treat stderr as failure).
      stdout: true,
      stderr: true,
    });
    this.worker = worker;
    worker.stdout.resume();
    worker.stderr.resume();
    worker.on("message", (res: TsResponse) => {
      if ("event" in res) {
        this.warm = true;
        for (const f of this.onWarm.splice(0)) f();
        return;
      }
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (this.pending.size === 0) worker.unref();
      if (res.ok) p.resolve(res.value);
      else p.reject(new Error(`TypeScript service failed: ${res.error}`));
    });
    worker.on("error", (err) => this.fail(err));
    worker.on("exit", (code) => this.fail(new Error(`TypeScript service thread exited (code ${code}); restart the kernel`)));
    for (const req of this.backlog!.splice(0)) worker.postMessage(req);
    this.backlog = null;
    // Keep the process alive only while an answer is awaited (a script using the executor can then exit).
    if (this.pending.size === 0) worker.unref();
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const f of this.onExit.splice(0)) f();
  }

  private post(req: TsRequest): void {
    if (this.worker) this.worker.postMessage(req);
    else this.backlog!.push(req);
  }

  call<T>(req: DistributiveOmit<TsRequest, "id">): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker?.ref();
      this.post({ ...req, id } as TsRequest);
    });
  }

  notify(req: DistributiveOmit<TsRequest, "id">): void {
    if (!this.dead) this.post({ ...req, id: 0 } as TsRequest);
  }

  /** `f` once the thread is warm, or has died. */
  whenWarmOrDead(f: () => void): void {
    if (this.warm || this.dead) f();
    else {
      this.onWarm.push(f);
      this.onExit.push(f);
    }
  }

  whenWarm(f: () => void): void {
    if (this.warm) f();
    else this.onWarm.push(f);
  }

  terminate(): Promise<number> {
    if (this.worker) return this.worker.terminate();
    this.fail(new Error("TypeScript service thread stopped"));
    return Promise.resolve(0);
  }
}

/** The compile-only thread started with the process, for the kernel's first TsClient (`prestartTypeScript`). */
let prestarted: { options: ThreadOptions; compiler: Thread } | null = null;

/**
 * Starts the light compile-only thread now (see the top of this file): the kernel calls this first thing, so that
 * it loads TypeScript while the kernel starts. The checker starts later (see `TsClient`'s constructor).
 */
export function prestartTypeScript(options: ThreadOptions): void {
  if (prestarted || !options.typecheck) return;
  prestarted = { options, compiler: new Thread({ ...options, typecheck: false }) };
  log("compile-only TypeScript thread started");
}

export class TsClient {
  private readonly checker: Thread;
  /** The compile-only thread while the checker warms up; null once it has ended (or without a prestart). */
  private compiler: Thread | null = null;
  /** Whether a cell may still run before its check (only the first cell, only before the checker is warm). */
  private early = true;

  constructor(options: ThreadOptions) {
    const p = prestarted;
    prestarted = null;
    if (p && p.options.cwd === options.cwd && p.options.typecheck === options.typecheck) this.compiler = p.compiler;
    else if (p) void p.compiler.terminate();
    this.checker = new Thread(options, this.compiler === null);
    if (this.compiler) {
      // The checker starts once the compile-only thread is ready (at once if it already is): on two cores it would
      // otherwise slow that thread down, and with it the first cell, when the machine is busy.
      const checker = this.checker;
      this.compiler.whenWarmOrDead(() => checker.start());
      setTimeout(() => checker.start(), 10_000).unref(); // in case the light thread hangs (it should not)
      const compiler = this.compiler;
      this.checker.whenWarm(() => {
        // Not needed any more: the checker compiles as fast. (A request it still owes is answered first.)
        this.compiler = null;
        void compiler.call({ op: "isComplete", code: "" }).finally(() => void compiler.terminate());
        log("type checker warm: the compile-only thread ends");
      });
    }
  }

  /** True once the thread has died; the executor then starts a new one. */
  get isDead(): boolean {
    return this.checker.dead !== null;
  }

  /** Cells executed before this thread started (after a restart of the thread). */
  restore(cells: string[]): Promise<void> {
    return this.checker.call({ op: "restore", cells });
  }

  /** Records a cell as executed (prepared earlier, so the thread has nothing to answer). */
  commit(code: string): void {
    this.checker.notify({ op: "commit", code });
  }

  setPreload(modules: PreloadModule[]): Promise<void> {
    return this.checker.call({ op: "preload", modules });
  }

  /**
   * Compiles and (with `typecheck`) checks a cell. The first cell, while the checker is still warming up, is only
   * compiled (by the light thread); its check follows in `late` (see the top of this file).
   */
  prepare(code: string, options: { typecheck: boolean; commit: boolean; expression?: boolean }): Promise<PrepareResult> {
    const compiler = this.usableCompiler();
    if (!compiler) return this.checker.call({ op: "prepare", code, ...options });
    if (!options.typecheck) return compiler.call({ op: "prepare", code, ...options });
    if (!this.early) return this.checker.call({ op: "prepare", code, ...options });
    this.early = false;
    // Queued on the checker now, so that it comes before every later cell's check (and sees the same cells).
    const checked = this.checker.call<PrepareResult>({ op: "prepare", code, ...options, ran: true });
    checked.catch(() => {});
    const quick = compiler.call<PrepareResult>({ op: "prepare", code, typecheck: false, commit: false, expression: options.expression });
    return quick.then(
      (quick) => {
        if (!quick.ok) return quick; // a syntax error: the cell does not run, and the checker does not commit it
        log("first cell runs before the type checker is warm; checked when it is");
        const late = checked.then(
          (r) => (r.ok ? [] : r.errors),
          (err) => {
            log("late check failed", err);
            return [];
          },
        );
        // Not kept for reuse by its text (`uses: null`): when it runs again, it is checked first.
        return { ok: true, script: quick.script, deps: { uses: null, declares: quick.script.declared ?? [] }, late };
      },
      // If the light thread fails (it should not), the cell waits for its check as any other.
      () => checked,
    );
  }

  /**
   * A cell whose check passed before, after the same cells (see `ExecuteOptions.checked`): compiled (by the light
   * thread while the checker warms up), then committed to the checker, queued ahead of any later cell's check.
   * Not kept for reuse by its text (`uses: null`): run again later, it is checked as any other.
   */
  async prepareChecked(code: string): Promise<PrepareResult> {
    const compiled = await (this.usableCompiler() ?? this.checker).call<PrepareResult>({ op: "prepare", code, typecheck: false, commit: false });
    if (!compiled.ok) return compiled;
    this.commit(code);
    return { ok: true, script: compiled.script, deps: { uses: null, declares: compiled.script.declared } };
  }

  complete(code: string, cursor: number): Promise<Completions> {
    return this.checker.call({ op: "complete", code, cursor });
  }

  inspect(code: string, cursor: number, detail: number): Promise<QuickInfo> {
    return this.checker.call({ op: "inspect", code, cursor, detail });
  }

  isComplete(code: string): Promise<IsCompleteReply> {
    return (this.usableCompiler() ?? this.checker).call({ op: "isComplete", code });
  }

  async terminate(): Promise<number> {
    const compiler = this.compiler;
    this.compiler = null;
    if (compiler) await compiler.terminate();
    return this.checker.terminate();
  }

  private usableCompiler(): Thread | null {
    if (this.compiler && (this.compiler.dead || this.checker.warm)) this.compiler = null;
    return this.compiler;
  }
}

/**
 * The error output for a cell that ran before the checker was ready and turned out to have type errors: the
 * usual located error, with a first line saying what happened.
 */
export function lateTypeErrors(label: string, code: string, errors: CompileError[]): ErrorContent {
  const content = locatedError("TSError", label, code, errors);
  const note = `${label} ran before the type checker was ready (it starts with the kernel and takes about a second); checked now, it has type errors:`;
  return { ...content, traceback: [`\x1b[33m${note}\x1b[0m\n${content.traceback.join("\n")}`] };
}
