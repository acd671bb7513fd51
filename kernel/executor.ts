/**
 * Runs cells: the kernel's language half, usable without ZeroMQ.
 *
 * `Executor.create()` preloads the runtime, widgets and display API as globals, routes `console` and
 * `process.stdout/stderr` to the running cell, and starts the TypeScript thread (compile, type check,
 * completion). `execute(code, callbacks)` then runs one cell:
 *
 *   1. `name?` / `?name` is a help request: the docs go to the pager payload, nothing runs.
 *   2. The TypeScript thread compiles the cell (`transform.ts`) and type-checks it; a syntax or type error is
 *      reported at the cell's line and column and the cell does not run (like tslab). The check costs a few ms
 *      per new cell once the language service is warm; the thread warms it up (a second or more) after start-up.
 *      In the kernel, the first cell, if it comes before that, runs at once and is checked after it ran, its type
 *      errors reported then (`ts-client.ts`); later cells wait for the check. A cell run again is not sent to
 *      the thread as long as no cell executed since declared a name it uses: its compiled script and check are
 *      kept here by text.
 *   3. The compiled generator is driven step by step, each step inside the interrupt guard; an `await` in the
 *      cell is raced against interrupts. Guarded steps are cheap once `interrupt.ts`'s holder thread runs.
 *   4. The runtime settles (`getRuntime().settle()`), so what a cell shows does not depend on timing.
 *   5. The last expression's value becomes the result (rich when it implements `Symbol.for("Jupyter.display")`).
 *
 * Errors thrown by timers or left as unhandled rejections are reported in the running cell, or the next one,
 * with where they came from (`late boom (from a timer set in Cell In[4], line 2)`): each timer a cell sets
 * remembers where it was set, and is the origin of what its callback throws or leaves rejected; otherwise the
 * running cell is, or between cells the error's own innermost frame in a cell. (Not `AsyncLocalStorage`: its async
 * hooks make Node abort when an interrupt terminates a loop in an async function's continuation, see
 * `InterruptRequester.terminateIfStuck`.) An `Op` the cell made outside processes and never ran (awaited,
 * `yield*`ed), nor returned as its value or kept in a variable it declared, gets a warning at the end of the
 * cell, with the call and its line.
 * The grader can drive notebooks through this class in a sandboxed child process.
 */
import { Console } from "node:console";
import { EventEmitter } from "node:events";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { toBundle } from "./display.js";
import { ModuleImporter } from "./imports.js";
import { InterruptController, KeyboardInterrupt } from "./interrupt.js";
import { output, type ExecuteCallbacks, type MimeBundle } from "./output.js";
import { preload, type PreloadResult } from "./preload.js";
import { log } from "./log.js";
import type { CellScope, Confinement } from "./confine.js";
import { CellRegistry, locatedError, type ErrorContent } from "./traceback.js";
import { TsClient, lateTypeErrors, type Completions, type QuickInfo } from "./ts-client.js";
import type { Dependencies } from "./language-service.js";
import type { PrepareResult } from "./ts-thread.js";
import type { IsCompleteReply } from "./is-complete.js";

/** The real `process.exit`, for the kernel's own shutdown (cells get a protected one). */
export const exitProcess: (code?: number) => never = process.exit.bind(process);

export type { ExecuteCallbacks, MimeBundle } from "./output.js";
export type { ErrorContent } from "./traceback.js";

export interface ExecutorOptions {
  /** Directory imports and `require` resolve from (the notebook's). Default: `process.cwd()`. */
  cwd?: string;
  /** Type-check cells before running them. Default: true, unless OTP_LAB_TYPECHECK=0. */
  typecheck?: boolean;
  /** Shared interrupt state, when another thread sends interrupts (see `interrupt.ts`). */
  interruptBuffer?: SharedArrayBuffer;
  /** Modules to preload; default: runtime, widgets, kernel cell API. */
  modules?: { label: string; url: URL }[];
  /** Make `process.exit()` in a cell throw instead of ending the process (the kernel sets this). */
  protectProcess?: boolean;
  /**
   * Run cells confined (`confine.ts`): for code the kernel does not trust (the grader's kernel). Needs
   * `lockdownOnce()` to have run before this module was loaded.
   */
  confine?: boolean;
}

export interface ExecuteOptions {
  silent?: boolean;
  /** Count the cell and keep it in history; default `!silent`. */
  storeHistory?: boolean;
  /** Expressions to evaluate after the cell, by name (`user_expressions`). */
  userExpressions?: Record<string, string>;
  /** In a confined executor: whose cell this is (`confine.ts`); default "student". */
  scope?: CellScope;
  /**
   * The cell passed its type check before, after exactly the cells this executor has run (the grader re-running
   * a restarted kernel's cells): it is compiled, and its declarations given to the checker, without checking it
   * again. Checking a notebook's cells again is most of a restart's time, and would come out the same.
   */
  checked?: boolean;
}

export type UserExpressionResult =
  | { status: "ok"; data: MimeBundle; metadata: Record<string, unknown> }
  | ({ status: "error" } & ErrorContent);

export type ExecuteOutcome =
  | { status: "ok"; executionCount: number; payload: Record<string, unknown>[]; userExpressions: Record<string, UserExpressionResult> }
  | ({ status: "error"; executionCount: number } & ErrorContent);

interface CellResult {
  readonly value: unknown;
}
const RESULT = Symbol("otp-lab.result");

/**
 * Where code running now came from: a cell's run, or a timer that code set (the timer's line is read from a stack
 * captured when it was set, only if an error needs it).
 */
interface Origin {
  kind: "cell" | "timeout" | "interval" | "immediate";
  /** The cell whose run this belongs to (the one running when the timer was set); null if none was. */
  cell: string | null;
  /** For a timer: an Error made where it was set. */
  site: Error | null;
}

/** What the kernel reads of the runtime's Ops (`runtime/op.ts`), when that module loads. */
interface OpWatch {
  observeOps(fn: ((op: object) => void) | null): void;
  opRan(op: object): boolean;
  opCall(op: object): string;
}

const HELP = /^\s*(\?{1,2})?\s*([\p{L}_$][\p{L}\p{N}_$]*(?:\s*\.\s*[\p{L}_$][\p{L}\p{N}_$]*)*)\s*(\?{1,2})?\s*$/u;

export class Executor {
  readonly interrupt: InterruptController;
  readonly typecheck: boolean;
  readonly cwd: string;
  private readonly registry = new CellRegistry();
  private readonly importer: ModuleImporter;
  private tsClient: TsClient | null = null;
  private readonly otp: Record<string, unknown>;
  private readonly timers: { setTimeout: unknown; setInterval: unknown; setImmediate: unknown };
  private preloaded: PreloadResult | null = null;
  private count = 0;
  /** The label of the cell running now, null between cells. */
  private running: string | null = null;
  /**
   * The timer whose callback ran last, until the event loop's next check phase: what its callback left rejected
   * is reported (Node reports unhandled rejections after each callback's microtasks) with it as the origin.
   */
  private timerOrigin: Origin | null = null;
  private clearingTimerOrigin = false;
  /** Ops made outside processes by the running cell (null: not watching). */
  private opsMade: MadeOps | null = null;
  private opWatch: OpWatch | null = null;
  /** Set when cells run confined: their scopes and the `__otp` and timers they get instead of the host's. */
  private confined: { confinement: Confinement; otp: Record<string, unknown>; timers: unknown[] } | null = null;

  private constructor(options: ExecutorOptions) {
    this.cwd = options.cwd ?? process.cwd();
    this.typecheck = options.typecheck ?? process.env.OTP_LAB_TYPECHECK !== "0";
    this.interrupt = new InterruptController(options.interruptBuffer);
    this.importer = new ModuleImporter(this.cwd);
    this.otp = {
      import: this.importer.import,
      named: this.importer.named,
      meta: this.importer.meta,
      result: (value: unknown): CellResult => ({ [RESULT]: true, value }) as unknown as CellResult,
    };
    this.timers = guardedTimers(this.interrupt.guard, {
      cell: () => this.timerOrigin?.cell ?? this.running,
      enter: (origin) => this.enterTimer(origin),
      report: (err, origin) => this.reportLate(err, origin, "thrown"),
    });
    installProcessHooks((err, rejection) => this.reportLate(err, this.timerOrigin ?? undefined, rejection ? "rejection" : "thrown"), options.protectProcess === true);
    if (!("require" in globalThis)) {
      Object.defineProperty(globalThis, "require", { value: this.importer.require, writable: true, configurable: true });
    }
  }

  /**
   * Creates the executor and preloads the notebook scope. The TypeScript thread starts now, or with
   * `deferTypeScript` at the first `startTypeScript()` or cell (the kernel defers it until it has answered
   * `kernel_info`, so that start-up does not compete with a second of TypeScript loading).
   */
  static async create(options: ExecutorOptions & { deferTypeScript?: boolean } = {}): Promise<Executor> {
    const ex = new Executor(options);
    log("executor constructed");
    ex.preloaded = await preload({ guard: ex.interrupt.guard, onRecover: ex.interrupt.onRecover.bind(ex.interrupt), modules: options.modules });
    log("preloaded");
    if (options.confine) ex.confined = await confinedScope(ex.preloaded, ex.otp, ex.timers);
    await ex.watchOps();
    if (!options.deferTypeScript) ex.startTypeScript();
    return ex;
  }

  /**
   * Starts the TypeScript thread (compiling, type checking, completion) if it is not running yet, and the thread
   * that keeps the SIGINT watchdog running (so that each guarded step of a cell costs microseconds, see
   * `interrupt.ts`).
   */
  startTypeScript(): void {
    void this.ts;
  }

  /** The TypeScript thread; if it died (it should not), a new one takes over with the cells run so far. */
  private get ts(): TsClient {
    if (!this.tsClient || this.tsClient.isDead) {
      this.interrupt.holdWatchdog();
      const restarted = this.tsClient !== null;
      this.tsClient = new TsClient({ cwd: this.cwd, typecheck: this.typecheck });
      // Not awaited: the thread may still be loading TypeScript; later requests queue behind these.
      const modules = (this.preloaded?.modules ?? []).filter((m) => m.loaded).map((m) => ({ path: m.path, values: m.values }));
      this.tsClient.setPreload(modules).catch(() => {});
      if (restarted) this.tsClient.restore(this.committed).catch(() => {});
    }
    return this.tsClient;
  }

  /** Cells whose declarations the language service knows, in order (to restore a restarted thread). */
  private readonly committed: string[] = [];

  /**
   * Cells prepared before (compiled and checked), by text, with the declaration number of each name they use as
   * it was then. A cell run again is taken from here, without a round trip to the TypeScript thread, as long as
   * no cell executed since has declared a name it uses: its check would come out the same (the thread's own
   * cache has the same rule, see `CellLanguageService.check`).
   */
  private readonly preparedCells = new Map<string, { result: PrepareResult; uses: [string, number][] }>();
  /** For each name an executed cell declared: the number of the last commit that declared it. */
  private readonly declaredAt = new Map<string, number>();

  /** With `checked` (`ExecuteOptions.checked`), the cell is compiled and committed without a check. */
  private async prepare(code: string, store: boolean, checked = false): Promise<PrepareResult> {
    const result = await (checked && store ? this.ts.prepareChecked(code) : this.ts.prepare(code, { typecheck: this.typecheck, commit: store }));
    if (result.ok && store) this.recordCommit(code, result.deps);
    const uses = result.deps.uses;
    if (uses) {
      if (this.preparedCells.size >= 500) this.preparedCells.delete(this.preparedCells.keys().next().value as string);
      this.preparedCells.set(code, { result, uses: uses.map((n) => [n, this.declaredAt.get(n) ?? 0]) });
    }
    return result;
  }

  /** The prepared cell if it can be used again (and then committed here, as `prepare` would have done). */
  private reusable(code: string, store: boolean): PrepareResult | null {
    const entry = this.preparedCells.get(code);
    if (!entry || !entry.uses.every(([n, at]) => (this.declaredAt.get(n) ?? 0) === at)) return null;
    if (entry.result.ok && store) {
      this.ts.commit(code);
      this.recordCommit(code, entry.result.deps);
    }
    return entry.result;
  }

  private recordCommit(code: string, deps: Dependencies): void {
    this.committed.push(code);
    for (const n of deps.declares) this.declaredAt.set(n, this.committed.length);
  }

  get executionCount(): number {
    return this.count;
  }

  /** Text for `kernel_info_reply.banner`: what is in scope, and any module that failed to load. */
  banner(): string {
    const lines = [`OTP Lab — TypeScript on Node ${process.version}, with the OTP runtime preloaded.`];
    for (const m of this.preloaded?.modules ?? []) {
      if (m.loaded) lines.push(`  ${m.label}: ${m.values.length} names in scope`);
    }
    lines.push(...(this.preloaded?.notes ?? []).map((n) => `  ${n}`));
    lines.push(this.typecheck ? "Cells are type-checked before they run." : "Type checking is off (OTP_LAB_TYPECHECK=0).");
    lines.push("Help: name? shows documentation; Tab completes.");
    return lines.join("\n");
  }

  async execute(code: string, callbacks: ExecuteCallbacks = {}, options: ExecuteOptions = {}): Promise<ExecuteOutcome> {
    const silent = options.silent === true;
    const store = options.storeHistory ?? !silent;
    if (store) this.count++;
    const count = this.count;
    const label = store ? `Cell In[${count}]` : "Cell";
    this.running = label;
    output.active = callbacks;
    if (!silent) output.background = callbacks;
    for (const e of output.takePendingErrors()) callbacks.error?.(e);
    const waiter = new InterruptWaiter(this.interrupt);
    try {
      const help = HELP.exec(code);
      if (help && (help[1] || help[3])) {
        const name = help[2]!.replace(/\s+/g, "");
        const info = await waiter.race(this.ts.inspect(name, name.length, (help[1] ?? help[3])!.length - 1));
        if (!info.found) {
          callbacks.stream?.("stdout", `Object \`${name}\` not found.\n`);
          return { status: "ok", executionCount: count, payload: [], userExpressions: {} };
        }
        const payload = [{ source: "page", data: { "text/plain": info.text, "text/markdown": info.markdown }, start: 0 }];
        return { status: "ok", executionCount: count, payload, userExpressions: {} };
      }

      let error: unknown = null;
      let value: unknown;
      const t0 = performance.now();
      const prepared = this.reusable(code, store) ?? (await waiter.race(this.prepare(code, store, options.checked === true)));
      log(`prepared ${label} in ${(performance.now() - t0).toFixed(1)} ms`);
      if (!prepared.ok) {
        const ename = prepared.kind === "syntax" ? "SyntaxError" : "TSError";
        const content = locatedError(ename, label, code, prepared.errors);
        callbacks.error?.(content);
        return { status: "error", executionCount: count, ...content };
      }
      // Run before its type check (the first cell, while the checker warms up: ts-client.ts); errors come later.
      prepared.late?.then((errors) => errors.length > 0 && output.backgroundError(lateTypeErrors(label, code, errors)));
      if (!silent && this.opWatch) this.opsMade = new MadeOps(this.opWatch);
      try {
        const fileName = this.registry.register(label, code, prepared.script.map);
        const fn = this.compile(prepared.script.js, fileName, options.scope ?? "student");
        value = await this.drive(fn, prepared.script.mode, waiter);
      } catch (err) {
        error = err;
      }
      try {
        await this.settle(waiter);
      } catch (err) {
        error ??= err;
      }
      this.confined?.confinement.afterCell(options.scope ?? "student");
      this.warnNotRun(isResult(value) ? value.value : undefined, prepared.script.declared, callbacks);
      if (error === null && isResult(value) && value.value !== undefined && !silent && !isNoResult(value.value)) {
        try {
          const bundle = await waiter.race(Promise.resolve(toBundle(value.value)));
          callbacks.result?.(bundle, {});
        } catch (err) {
          error = err;
        }
      }
      // Let rejections the cell left unhandled surface while it still counts as running.
      await new Promise((r) => setImmediate(r));
      log(`ran ${label} in ${(performance.now() - t0).toFixed(1)} ms`);
      if (error !== null) throw error;
      const userExpressions: Record<string, UserExpressionResult> = {};
      for (const [name, expr] of Object.entries(options.userExpressions ?? {})) {
        userExpressions[name] = await this.evaluateExpression(expr, waiter);
      }
      return { status: "ok", executionCount: count, payload: [], userExpressions };
    } catch (err) {
      const content = this.registry.format(err);
      callbacks.error?.(content);
      return { status: "error", executionCount: count, ...content };
    } finally {
      waiter.dispose();
      output.active = null;
      this.running = null;
      this.opsMade = null;
    }
  }

  /** A guarded timer's callback is about to run: it is the origin of what goes wrong until the next check phase. */
  private enterTimer(origin: Origin): void {
    this.timerOrigin = origin;
    if (this.clearingTimerOrigin) return;
    this.clearingTimerOrigin = true;
    NODE_SET_IMMEDIATE(() => {
      this.clearingTimerOrigin = false;
      this.timerOrigin = null;
    }).unref();
  }

  /**
   * An error raised outside a cell's own steps: thrown by a timer's callback (`origin` says where the timer was
   * set), or an unhandled rejection or uncaught exception (`origin`: the timer whose callback ran last, if it
   * just did). Without a timer, the origin is the running cell, or between cells the error's own innermost frame
   * in a cell.
   * It goes to the running cell, or waits for the next one; either way it says where it came from, and, when the
   * cell it is shown in is not the one it came from, that this cell did not raise it.
   */
  private reportLate(err: unknown, timer: Origin | undefined, how: "thrown" | "rejection"): void {
    let from = how === "rejection" ? "unhandled promise rejection" : "";
    let note: string | undefined;
    let origin = timer;
    if (!origin) {
      const frame = err instanceof Error && typeof err.stack === "string" ? this.registry.site(err.stack) : null;
      const cell = this.running ?? frame?.label ?? null;
      if (cell !== null) origin = { kind: "cell", cell, site: null };
    }
    if (origin) {
      let where: { label: string; line: number } | null = null;
      if (origin.site) where = this.registry.site(origin.site.stack ?? "");
      else if (err instanceof Error && typeof err.stack === "string" && origin.cell !== null) {
        // The error's own frame in that cell, if it has one: the line it was made on.
        const s = this.registry.site(err.stack);
        if (s && s.label === origin.cell) where = s;
      }
      const label = where?.label ?? origin.cell;
      if (label !== null) {
        const at = where ? `${label}, line ${where.line}` : label;
        const source =
          origin.kind === "timeout"
            ? `a timer set in ${at}`
            : origin.kind === "interval"
              ? `an interval set in ${at}`
              : origin.kind === "immediate"
                ? `setImmediate in ${at}`
                : at;
        from = from ? `${from}, from ${source}` : `from ${source}`;
      }
      if (origin.cell !== null && origin.cell !== this.running) {
        note =
          this.running !== null
            ? `${origin.cell} had finished when this error was raised: ${this.running} did not raise it.`
            : `${origin.cell} had finished when this error was raised, before this cell started: this cell did not raise it.`;
      }
    }
    output.backgroundError(from ? this.registry.format(err, { from, note }) : this.registry.format(err));
  }

  /** Watches the Ops cells make outside processes (`runtime/op.ts`), if the runtime is the kernel's own. */
  private async watchOps(): Promise<void> {
    const runtime = this.preloaded?.modules.find((m) => m.label === "runtime" && m.loaded);
    if (!runtime || runtime.path !== fileURLToPath(new URL("../runtime/index.js", import.meta.url))) return;
    try {
      const watch = (await import("../runtime/op.js")) as unknown as OpWatch;
      watch.observeOps((op) => this.opsMade?.add(op));
      this.opWatch = watch;
    } catch {
      // An older runtime without the hook: no warnings.
    }
  }

  /**
   * Ops the cell made outside processes that never ran: each call site once, on stderr, as Python warns of a
   * coroutine never awaited. Not the cell's value (it says "not run: did you forget `await`?" itself), nor an Op
   * kept in a variable the cell declared (or an array there), which a later cell may still await.
   */
  private warnNotRun(result: unknown, declared: readonly string[], callbacks: ExecuteCallbacks): void {
    const made = this.opsMade;
    const watch = this.opWatch;
    this.opsMade = null;
    if (!made || !watch || made.list.length === 0) return;
    const kept = new Set<unknown>();
    const keep = (v: unknown) => (Array.isArray(v) ? v.forEach((x) => kept.add(x)) : kept.add(v));
    keep(result);
    // Confined cells' variables live in their compartment, out of reach here: their Ops are all reported.
    if (!this.confined) for (const name of declared) keep((globalThis as Record<string, unknown>)[name]);
    const sites = new Map<string, { call: string; what: string; where: string; times: number; about: boolean }>();
    const cell = this.running ?? "this cell";
    let where = cell;
    for (const { op, site, burst } of made.list) {
      // Without a stack (see `MadeOps`): where the Op made before it was, if that one had not run either.
      if (site) {
        const s = this.registry.site(site.stack ?? "");
        where = s ? `${s.label}, line ${s.line}` : cell;
      } else if (!burst) where = cell;
      if (kept.has(op) || watch.opRan(op)) continue;
      const what = String((op as { what?: unknown }).what);
      const key = `${where}\u0000${what}`;
      let entry = sites.get(key);
      if (!entry) sites.set(key, (entry = { call: watch.opCall(op), what, where, times: 0, about: false }));
      entry.times++;
      if (!site && burst) entry.about = true;
    }
    for (const { call, what, where, times, about } of sites.values()) {
      const count = times > 1 ? `, ${about ? "about " : ""}${times.toLocaleString("en-US")} times` : "";
      callbacks.stream?.(
        "stderr",
        `Warning: ${call} was never awaited (${where}${count}): nothing ran. Write \`await ${what}(...)\` in a cell, \`yield* ...\` inside a process.\n`,
      );
    }
  }

  complete(code: string, cursor: number): Promise<Completions> {
    return this.ts.complete(code, cursor);
  }

  inspect(code: string, cursor: number, detail: number): Promise<QuickInfo> {
    return this.ts.inspect(code, cursor, detail);
  }

  isComplete(code: string): Promise<IsCompleteReply> {
    return this.ts.isComplete(code);
  }

  /** Stops the TypeScript thread (lets a script using the executor exit). */
  async dispose(): Promise<void> {
    await this.tsClient?.terminate();
    this.tsClient = null;
  }

  /** Runs `code` as a handler body (comm callbacks): guarded, errors reported, never thrown. */
  runGuarded(fn: () => void): void {
    try {
      this.interrupt.guard(fn);
    } catch (err) {
      output.backgroundError(this.registry.format(err));
    }
  }

  /** The cell's function: evaluated in the host's global scope, or in its confined scope. */
  private compile(js: string, fileName: string, scope: CellScope): (...args: unknown[]) => unknown {
    if (this.confined) return this.confined.confinement.evaluate(js, fileName, scope) as (...args: unknown[]) => unknown;
    return new vm.Script(js, { filename: fileName }).runInThisContext() as (...args: unknown[]) => unknown;
  }

  private async drive(fn: (...args: unknown[]) => unknown, mode: "generator" | "async", waiter: InterruptWaiter): Promise<unknown> {
    // If a cell replaced a global timer function with its own, later cells see that one, not the guarded one.
    const g = globalThis as unknown as Record<string, unknown>;
    const pick = (name: "setTimeout" | "setInterval" | "setImmediate") => (g[name] === NODE_TIMERS[name] ? this.timers[name] : g[name]);
    const args = this.confined ? [this.confined.otp, ...this.confined.timers] : [this.otp, pick("setTimeout"), pick("setInterval"), pick("setImmediate")];
    // The cell's own code runs now: what goes wrong comes from the cell, not from the last timer (`reportLate`).
    const guard = <T>(run: () => T): T => {
      this.timerOrigin = null;
      return this.interrupt.guard(run);
    };
    if (mode === "async") {
      const p = guard(() => fn.apply(undefined, args)) as Promise<unknown>;
      return waiter.race(p);
    }
    // Calling a generator function runs none of its code (the cell's parameters have no defaults): no guard needed.
    const gen = fn.apply(undefined, args) as Generator<unknown, unknown, unknown>;
    let next: { ok: boolean; value: unknown } = { ok: true, value: undefined };
    for (;;) {
      if (waiter.takePending()) next = { ok: false, value: new KeyboardInterrupt() };
      const input = next;
      const step = guard(() => (input.ok ? gen.next(input.value) : gen.throw(input.value)));
      if (step.done) return step.value;
      try {
        next = { ok: true, value: await waiter.race(Promise.resolve(step.value)) };
      } catch (err) {
        next = { ok: false, value: err };
      }
    }
  }

  private async settle(waiter: InterruptWaiter): Promise<void> {
    const settle = this.preloaded?.settle;
    if (!settle) return;
    this.timerOrigin = null;
    const r = this.interrupt.guard(() => settle());
    if (r instanceof Promise) await waiter.race(r);
  }

  private async evaluateExpression(expr: string, waiter: InterruptWaiter): Promise<UserExpressionResult> {
    try {
      const prepared = await this.ts.prepare(expr, { typecheck: false, commit: false, expression: true });
      if (!prepared.ok) return { status: "error", ...locatedError("SyntaxError", "user_expressions", expr, prepared.errors) };
      const fileName = this.registry.register("user_expressions", expr, prepared.script.map);
      const fn = this.compile(prepared.script.js, fileName, "student");
      const value = await this.drive(fn, prepared.script.mode, waiter);
      const bundle = await Promise.resolve(toBundle(isResult(value) ? value.value : undefined));
      return { status: "ok", data: bundle, metadata: {} };
    } catch (err) {
      return { status: "error", ...this.registry.format(err) };
    }
  }
}

/**
 * The Ops a cell made outside processes, to warn at its end about those that never ran. Naming an Op's line takes
 * a stack, microseconds each, so not every Op gets one: the first 256 of a cell do; after that, an Op made while
 * the one before it had already run (a loop awaiting each Op it makes) does not, and its warning names the cell
 * without a line; an Op made while the one before it had not run either (a loop that awaits nothing, or builds a
 * list for `Promise.all`) does, for 2,048 Ops a cell, then one in 64, the others counted where the Op before them
 * was made. Ops that ran are dropped as the list grows.
 */
class MadeOps {
  /** In the order made; `burst`: made while the Op before it had not run. */
  readonly list: { op: object; site: Error | null; burst: boolean }[] = [];
  private stacks = 0;
  private skipped = 0;
  private limit = 1024;

  constructor(private readonly watch: OpWatch) {}

  add(op: object): void {
    const list = this.list;
    const before = list.length > 0 ? list[list.length - 1]!.op : null;
    const burst = before !== null && !this.watch.opRan(before);
    const stack = this.stacks < 256 || (burst && (this.stacks < 2048 || ++this.skipped % 64 === 0));
    if (stack) this.stacks++;
    list.push({ op, site: stack ? new Error() : null, burst });
    if (list.length >= this.limit) {
      const kept = list.filter((m) => !this.watch.opRan(m.op));
      list.length = 0;
      for (const m of kept) list.push(m);
      this.limit = Math.max(1024, kept.length * 2);
    }
  }
}

function isNoResult(v: unknown): boolean {
  return (typeof v === "object" || typeof v === "function") && v !== null && (v as Record<symbol, unknown>)[Symbol.for("otp-lab.no-result")] === true;
}

function isResult(v: unknown): v is CellResult {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[RESULT] === true;
}

/**
 * Races the cell's awaits against interrupts. An interrupt that arrives while nothing is awaited (the cell is
 * between steps) is remembered and thrown into the cell at its next step.
 */
class InterruptWaiter {
  private pending = false;
  private reject: ((e: Error) => void) | null = null;
  private readonly unsubscribe: () => void;

  constructor(controller: InterruptController) {
    this.unsubscribe = controller.onInterrupt(() => {
      if (this.reject) {
        const r = this.reject;
        this.reject = null;
        r(new KeyboardInterrupt(controller.takeMessage()));
      } else this.pending = true;
    });
  }

  takePending(): boolean {
    const p = this.pending;
    this.pending = false;
    return p;
  }

  race<T>(p: Promise<T>): Promise<T> {
    if (this.takePending()) {
      p.catch(() => {});
      return Promise.reject(new KeyboardInterrupt());
    }
    return new Promise<T>((resolve, reject) => {
      this.reject = reject;
      p.then(
        (v) => {
          if (this.reject === reject) this.reject = null;
          resolve(v);
        },
        (e: unknown) => {
          if (this.reject === reject) this.reject = null;
          reject(e);
        },
      );
    });
  }

  dispose(): void {
    this.unsubscribe();
  }
}

type Guard = <T>(run: () => T) => T;

const NODE_TIMERS = { setTimeout, setInterval, setImmediate } as Record<string, unknown>;
const NODE_SET_IMMEDIATE = setImmediate;

/**
 * The timers cells see: callbacks run inside the interrupt guard (so a busy loop in a timer can be stopped) and
 * their exceptions become error outputs instead of crashing the kernel. Each timer remembers where it was set (a
 * stack taken then, read only if an error needs it) and the cell whose run set it, for the errors it causes.
 */
function guardedTimers(
  guard: Guard,
  hooks: { cell: () => string | null; enter: (origin: Origin) => void; report: (err: unknown, origin: Origin) => void },
) {
  const wrap = (cb: unknown, kind: Origin["kind"]) => {
    if (typeof cb !== "function") return cb;
    const origin: Origin = { kind, cell: hooks.cell(), site: new Error() };
    return function (this: unknown, ...args: unknown[]) {
      hooks.enter(origin);
      try {
        return guard(() => (cb as (...a: unknown[]) => unknown).apply(this, args));
      } catch (err) {
        hooks.report(err, origin);
        return undefined;
      }
    };
  };
  type AnyFn = (...a: unknown[]) => void;
  const st = (cb: unknown, ms?: number, ...args: unknown[]) => setTimeout(wrap(cb, "timeout") as AnyFn, ms, ...args);
  const si = (cb: unknown, ms?: number, ...args: unknown[]) => setInterval(wrap(cb, "interval") as AnyFn, ms, ...args);
  const sim = (cb: unknown, ...args: unknown[]) => setImmediate(wrap(cb, "immediate") as AnyFn, ...args);
  // util.promisify(setTimeout) keeps working.
  for (const [mine, orig] of [
    [st, setTimeout],
    [sim, setImmediate],
  ] as const) {
    const custom = (orig as unknown as Record<symbol, unknown>)[promisify.custom];
    if (custom) Object.defineProperty(mine, promisify.custom, { value: custom });
  }
  return { setTimeout: st, setInterval: si, setImmediate: sim };
}

let processHooksInstalled = false;

/** Console, stdout/stderr, uncaught errors: all go to the running cell. Installed once per process. */
function installProcessHooks(reportLate: (err: unknown, rejection: boolean) => void, protectProcess: boolean): void {
  if (processHooksInstalled) return;
  processHooksInstalled = true;
  // An EventEmitter with a synchronous write(): all Console needs, and output keeps its order even in a busy loop.
  const writer = (name: "stdout" | "stderr") =>
    Object.assign(new EventEmitter(), {
    write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
      output.stream(name, text);
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") queueMicrotask(() => (done as (e: null) => void)(null));
      return true;
    },
    });
  const out = writer("stdout");
  const err = writer("stderr");
  const console = new Console({ stdout: out as unknown as NodeJS.WritableStream, stderr: err as unknown as NodeJS.WritableStream, colorMode: false });
  Object.defineProperty(globalThis, "console", { value: console, writable: true, configurable: true, enumerable: false });
  process.stdout.write = out.write as typeof process.stdout.write;
  process.stderr.write = err.write as typeof process.stderr.write;
  process.on("uncaughtException", (e) => reportLate(e, false));
  process.on("unhandledRejection", (reason) => reportLate(reason, true));
  if (protectProcess) {
    const message = "process.exit() would stop the kernel; use the notebook's Kernel > Restart instead";
    process.exit = ((code?: number) => {
      throw new Error(`${message} (exit code ${code ?? 0})`);
    }) as typeof process.exit;
  }
}

const CONSOLE_METHODS = ["log", "info", "debug", "warn", "error", "dir", "table", "trace", "assert", "group", "groupEnd", "count", "countReset", "time", "timeEnd", "timeLog"] as const;

/**
 * The scope of confined cells (`confine.ts`): the preloaded names, a console of plain functions (the host's
 * `Console` object, its streams and the `process` they lead to stay out of reach), timers whose handles are
 * opaque (a Node `Timeout` links to every other timer of the process), and an `__otp` whose `import` allows
 * only the modules `confine.ts` lists.
 */
async function confinedScope(
  preloaded: PreloadResult,
  otp: Record<string, unknown>,
  timers: { setTimeout: unknown; setInterval: unknown; setImmediate: unknown },
): Promise<{ confinement: Confinement; otp: Record<string, unknown>; timers: unknown[] }> {
  const { Confinement } = await import("./confine.js");
  const names = new Map<string, unknown>();
  for (const m of preloaded.modules) {
    if (!m.loaded || !m.namespace) continue;
    for (const name of m.values) names.set(name, m.namespace[name]);
  }
  const writer = (name: "stdout" | "stderr") =>
    Object.assign(new EventEmitter(), {
      write(chunk: unknown): boolean {
        output.stream(name, typeof chunk === "string" ? chunk : String(chunk));
        return true;
      },
    });
  const hostConsole = new Console({ stdout: writer("stdout") as unknown as NodeJS.WritableStream, stderr: writer("stderr") as unknown as NodeJS.WritableStream, colorMode: false });
  const console: Record<string, unknown> = {};
  for (const k of CONSOLE_METHODS) {
    const f = (hostConsole as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!;
    console[k] = (...args: unknown[]) => {
      f.apply(hostConsole, args);
    };
  }
  const handles = new WeakMap<object, { t: unknown; kind: "timeout" | "immediate" }>();
  const opaque = (t: unknown, kind: "timeout" | "immediate"): object => {
    const real = t as { ref(): unknown; unref(): unknown; hasRef(): boolean; refresh?: () => unknown };
    const h = Object.freeze({
      ref: () => (real.ref(), h),
      unref: () => (real.unref(), h),
      hasRef: () => real.hasRef(),
      refresh: () => (real.refresh?.(), h),
    });
    handles.set(h, { t, kind });
    return h;
  };
  type AnyFn = (...a: unknown[]) => unknown;
  const st = timers.setTimeout as AnyFn;
  const si = timers.setInterval as AnyFn;
  const sim = timers.setImmediate as AnyFn;
  const clear = (kind: "timeout" | "immediate") => (h: unknown) => {
    const entry = typeof h === "object" && h !== null ? handles.get(h) : undefined;
    if (!entry || entry.kind !== kind) return;
    if (kind === "timeout") clearTimeout(entry.t as NodeJS.Timeout);
    else clearImmediate(entry.t as NodeJS.Immediate);
  };
  const confinement = new Confinement(names, {
    console,
    clearTimeout: clear("timeout"),
    clearInterval: clear("timeout"),
    clearImmediate: clear("immediate"),
    queueMicrotask: (cb: () => void) => queueMicrotask(cb),
    structuredClone: (v: unknown) => structuredClone(v),
    // A compartment's own Date.now() and Math.random() throw (SES keeps them out by default); cells in the
    // ordinary kernel have them, and they give no access to anything.
    Date,
    Math,
  });
  const confinedOtp = Object.freeze({
    import: confinement.import,
    named: Object.freeze((ns: unknown) => ns),
    meta: Object.freeze({ url: "file:///notebook/cell.js", filename: "/notebook/cell.js", dirname: "/notebook", resolve: (s: string) => s }),
    result: Object.freeze(otp.result),
  });
  return {
    confinement,
    otp: confinedOtp,
    timers: [
      Object.freeze((...a: unknown[]) => opaque(st(...a), "timeout")),
      Object.freeze((...a: unknown[]) => opaque(si(...a), "timeout")),
      Object.freeze((...a: unknown[]) => opaque(sim(...a), "immediate")),
    ],
  };
}
