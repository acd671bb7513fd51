/**
 * The browser kernel's Web Worker: OTP Lab's kernel for the static site (`npm run build:site`).
 *
 * It runs the same pieces as the Node kernel: the cell compiler (`transform.ts`, TypeScript in this worker), the
 * notebook scope (`preload.ts`'s `installScope`: the runtime with the virtual clock, the widgets, the display
 * API of `cell-api.ts`, crash reports), comms and the control channel, tracebacks mapped to the cells' lines.
 * What differs is only what a browser forces:
 *   - a cell is evaluated by an indirect `eval` with a `sourceURL` (the Node kernel uses `vm.Script`): same
 *     global scope semantics, same V8 stack frames;
 *   - `import` in a cell loads only the modules bundled here (`node:assert`, `node:assert/strict`, `assert`);
 *     there is no file system or npm to load from;
 *   - no type check before a cell runs (the compiler strips types); completion and help come from the same
 *     TypeScript language service as in the Node kernel (`language-service.ts`), over a virtual file system of
 *     TypeScript's libraries and the runtime's declarations that the site serves (`otp-lab-types.json`), fetched
 *     when completion or help is first asked for, so that it costs nothing to a learner who never asks;
 *   - interrupt: when the page is cross-origin isolated, the main thread sets a flag in a `SharedArrayBuffer` and
 *     the cell stops at its next step (an `await`, or a process step of the runtime); otherwise, and for a loop
 *     that never yields, the page restarts this worker (`lab/site/kernel.js`).
 *
 * Messages: the page posts `{ id, type, ... }` requests; the worker answers each with `{ id, type: "reply",
 * content }` and sends what cells produce as `{ type: "output", parent, kind, ... }`, `parent` being the request
 * id the output belongs to (a timer's output goes to the last cell, as in the Node kernel).
 */
import * as TS from "typescript";
import * as runtime from "../../runtime/index.js";
import * as widgets from "../../widgets/index.js";
import * as cellApi from "../cell-api.js";
import * as assertModule from "node:assert";
import * as assertStrictModule from "node:assert/strict";
import { inspect } from "node:util";
import { toBundle } from "../display.js";
import { output, type ExecuteCallbacks, type MimeBundle } from "../output.js";
import { installScope, type PreloadResult } from "../preload.js";
import { CellRegistry, locatedError, type ErrorContent } from "../traceback.js";
import { compileCell } from "../transform.js";
import { isComplete } from "../is-complete.js";
import { commInfo, receiveCommClose, receiveCommMsg, receiveCommOpen } from "../comm.js";
import { installControlChannel } from "../control-channel.js";
import { CellLanguageService } from "../language-service.js";

// The namespace, whether the bundle gives it as the module or as its default export.
const ts = ((TS as unknown as { default?: typeof TS }).default ?? TS) as typeof TS;

interface WorkerScope {
  postMessage(message: unknown, transfer?: unknown[]): void;
  onmessage: ((event: { data: Request }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

type Request =
  | { id: number; type: "init"; interrupt?: SharedArrayBuffer; typesUrl?: string }
  | { id: number; type: "execute"; code: string; silent?: boolean; storeHistory?: boolean }
  | { id: number; type: "complete"; code: string; cursor: number }
  | { id: number; type: "inspect"; code: string; cursor: number; detail?: number }
  | { id: number; type: "is_complete"; code: string }
  | { id: number; type: "comm_info"; target?: string }
  | { id: number; type: "comm"; msgType: "comm_open" | "comm_msg" | "comm_close"; content: Record<string, unknown>; metadata: Record<string, unknown>; buffers: Uint8Array[]; header: Record<string, unknown> };

class KeyboardInterrupt extends Error {
  override name = "KeyboardInterrupt";
}

/** The modules a cell may import here, as `__otp.import` gives them (namespaces). */
const BUILTINS: Record<string, unknown> = {
  "node:assert": assertModule,
  assert: assertModule,
  "node:assert/strict": assertStrictModule,
  "assert/strict": assertStrictModule,
};

const RESULT = Symbol("otp-lab.result");
/** `name?` / `?name`: help, as in the Node kernel (executor.ts). */
const HELP = /^\s*(\?{1,2})?\s*([\p{L}_$][\p{L}\p{N}_$]*(?:\s*\.\s*[\p{L}_$][\p{L}\p{N}_$]*)*)\s*(\?{1,2})?\s*$/u;
const NO_RESULT = Symbol.for("otp-lab.no-result");

let interruptFlag: Int32Array | null = null;
/** True once an interrupt was requested and not yet delivered to a cell. */
function takeInterrupt(): boolean {
  if (!interruptFlag || Atomics.load(interruptFlag, 0) === 0) return false;
  Atomics.store(interruptFlag, 0, 0);
  return true;
}
/** Repairs registered by the scope (the runtime's scheduler, when a process step is refused): see interrupt.ts. */
const recoveries: (() => string | null | undefined)[] = [];
/**
 * Every step of a cell and of the runtime's processes runs through here: an interrupt refuses the next step. The
 * step does not start, so no `finally` is skipped (unlike the Node kernel, which stops a step midway), but the
 * runtime may have chosen the process whose step is refused: its repair runs, as in the Node kernel.
 */
const guard = <T>(run: () => T): T => {
  if (takeInterrupt()) {
    const notes: string[] = [];
    for (const r of recoveries) {
      try {
        const note = r();
        if (note) notes.push(note);
      } catch {
        // a repair that fails must not hide the interrupt
      }
    }
    throw new KeyboardInterrupt(["Execution interrupted", ...notes].join("; "));
  }
  return run();
};

const registry = new CellRegistry();
let scopeResult: PreloadResult | null = null;
let count = 0;

const otp = {
  import: (specifier: unknown): Promise<unknown> => {
    const spec = String(specifier);
    if (spec in BUILTINS) return Promise.resolve(BUILTINS[spec]);
    return Promise.reject(
      new Error(
        `Cannot import "${spec}" in the browser kernel: only ${Object.keys(BUILTINS).filter((k) => k.startsWith("node:")).join(", ")} ` +
          `are bundled here (no file system, no npm). Run the notebook with the Node kernel (\`npm start\`) to import other modules.`,
      ),
    );
  },
  named: (ns: unknown): unknown => {
    if (!ns || typeof ns !== "object") return ns;
    const d = (ns as { default?: unknown }).default;
    if (!d || (typeof d !== "object" && typeof d !== "function")) return ns;
    return new Proxy(ns as object, { get: (t, k) => (k in t ? Reflect.get(t, k) : Reflect.get(d as object, k)) });
  },
  meta: { url: "otp-lab-cell:", filename: "cell.ts", dirname: "/", resolve: (s: string) => s },
  result: (value: unknown) => ({ [RESULT]: true, value }),
};

function isResult(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && RESULT in v;
}

/** Node's console formatting (`util.format`), to the running cell's stdout/stderr. */
function installConsole(): void {
  const fmt = (args: unknown[]) =>
    args.map((a) => (typeof a === "string" ? a : inspect(a, { colors: false, depth: 2 }))).join(" ") + "\n";
  const c = globalThis.console as unknown as Record<string, unknown>;
  for (const name of ["log", "info", "debug"]) c[name] = (...args: unknown[]) => output.stream("stdout", fmt(args));
  for (const name of ["error", "warn", "trace"]) c[name] = (...args: unknown[]) => output.stream("stderr", fmt(args));
}

function post(message: unknown): void {
  scope.postMessage(message);
}

function callbacksFor(parent: number): ExecuteCallbacks {
  return {
    stream: (name, text) => post({ type: "output", parent, kind: "stream", name, text }),
    display: (data, metadata, transient, update) => post({ type: "output", parent, kind: update ? "update_display_data" : "display_data", data: plain(data), metadata, transient }),
    clearOutput: (wait) => post({ type: "output", parent, kind: "clear_output", wait }),
    result: (data, metadata) => post({ type: "output", parent, kind: "execute_result", data: plain(data), metadata }),
    error: (content) => post({ type: "output", parent, kind: "error", content }),
    comm: (msgType, content, metadata, buffers) => post({ type: "output", parent, kind: "comm", msgType, content: plain(content), metadata, buffers }),
  };
}

/** Bundles go through structured clone: JSON-shaped data only. */
function plain<T>(data: T): T {
  return JSON.parse(JSON.stringify(data)) as T;
}

async function settle(): Promise<void> {
  const s = scopeResult?.settle;
  if (!s) return;
  const r = guard(() => s());
  if (r instanceof Promise) await r;
}

async function drive(fn: (...args: unknown[]) => unknown, mode: "generator" | "async"): Promise<unknown> {
  const args = [otp, setTimeout, setInterval, runtimeSetImmediate];
  if (mode === "async") return guard(() => fn.apply(undefined, args)) as Promise<unknown>;
  const gen = fn.apply(undefined, args) as Generator<unknown, unknown, unknown>;
  let next: { ok: boolean; value: unknown } = { ok: true, value: undefined };
  for (;;) {
    const input = next;
    const step = guard(() => (input.ok ? gen.next(input.value) : gen.throw(input.value)));
    if (step.done) return step.value;
    try {
      next = { ok: true, value: await step.value };
    } catch (err) {
      next = { ok: false, value: err };
    }
  }
}

/** `setImmediate` for cells: a macrotask after the current one (the runtime's own choice in a browser). */
function runtimeSetImmediate(fn: (...a: unknown[]) => void, ...a: unknown[]): unknown {
  return setTimeout(() => fn(...a), 0);
}

async function execute(req: Extract<Request, { type: "execute" }>): Promise<Record<string, unknown>> {
  const silent = req.silent === true;
  const store = req.storeHistory ?? !silent;
  if (store) count++;
  const label = store ? `Cell In[${count}]` : "Cell";
  const callbacks = callbacksFor(req.id);
  output.active = callbacks;
  if (!silent) output.background = callbacks;
  for (const e of output.takePendingErrors()) callbacks.error?.(e);
  takeInterrupt(); // an interrupt sent while idle is not for this cell
  try {
    const help = HELP.exec(req.code);
    if (help && (help[1] || help[3])) {
      const name = help[2]!.replace(/\s+/g, "");
      const s = await languageService();
      const info = s ? s.quickInfo(name, name.length, (help[1] ?? help[3])!.length - 1) : { found: false, text: "", markdown: "" };
      if (!info.found) {
        callbacks.stream?.("stdout", `Object \`${name}\` not found.\n`);
        return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
      }
      const payload = [{ source: "page", data: { "text/plain": info.text, "text/markdown": info.markdown }, start: 0 }];
      return { status: "ok", execution_count: count, payload, user_expressions: {} };
    }
    const compiled = compileCell(ts, req.code, { fileName: "cell.ts" });
    if (!compiled.ok) {
      const content = locatedError("SyntaxError", label, req.code, compiled.errors);
      callbacks.error?.(content);
      return { status: "error", execution_count: count, ...content };
    }
    if (store) commit(req.code);
    let error: unknown = null;
    let value: unknown;
    try {
      const fileName = registry.register(label, req.code, compiled.script.map);
      // Indirect eval: the global scope, as vm.Script#runInThisContext; the sourceURL names the frames.
      const fn = (0, eval)(`${compiled.script.js}\n//# sourceURL=${fileName}`) as (...args: unknown[]) => unknown;
      value = await drive(fn, compiled.script.mode);
    } catch (err) {
      error = err;
    }
    try {
      await settle();
    } catch (err) {
      error ??= err;
    }
    if (error === null && isResult(value) && value.value !== undefined && !silent && !isNoResult(value.value)) {
      try {
        callbacks.result?.(await Promise.resolve(toBundle(value.value)), {});
      } catch (err) {
        error = err;
      }
    }
    // Rejections the cell left unhandled surface while it still counts as running.
    await new Promise((r) => setTimeout(r, 0));
    if (error !== null) throw error;
    return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
  } catch (err) {
    const content: ErrorContent = registry.format(err);
    callbacks.error?.(content);
    return { status: "error", execution_count: count, ...content };
  } finally {
    output.active = null;
  }
}

function isNoResult(v: unknown): boolean {
  return typeof v === "object" && v !== null && NO_RESULT in v;
}

/** Where the worker's language service finds its files: fetched once (see init's `typesUrl`). */
let typesUrl: string | null = null;
/** Cells that compiled, in order: what the language service must know (as `commit` in the Node kernel). */
const committed: string[] = [];
let service: CellLanguageService | null = null;
let serviceLoading: Promise<CellLanguageService | null> | null = null;
const PRELOADED = [
  { path: "/otp-lab/dist/runtime/index.js", label: "runtime" },
  { path: "/otp-lab/dist/widgets/index.js", label: "widgets" },
  { path: "/otp-lab/dist/kernel/cell-api.js", label: "kernel" },
];

/** A read-only `ts.sys` over the fetched files: all the language service reads from. */
function virtualSys(files: Map<string, string>): TS.System {
  const dirs = new Set<string>();
  for (const f of files.keys()) for (let d = f.slice(0, f.lastIndexOf("/")); d; d = d.slice(0, d.lastIndexOf("/"))) dirs.add(d);
  dirs.add("/");
  const base = ts.sys as TS.System | undefined;
  return {
    ...(base ?? ({} as TS.System)),
    args: [],
    newLine: "\n",
    useCaseSensitiveFileNames: true,
    write: () => {},
    writeFile: () => {},
    readFile: (p) => files.get(p),
    fileExists: (p) => files.has(p),
    directoryExists: (d) => dirs.has(d.replace(/\/$/, "") || "/"),
    getDirectories: (d) => [...dirs].filter((x) => x.startsWith(d.replace(/\/$/, "") + "/") && !x.slice(d.length + 1).includes("/")).map((x) => x.slice(x.lastIndexOf("/") + 1)),
    readDirectory: () => [],
    realpath: (p) => p,
    resolvePath: (p) => p,
    createDirectory: () => {},
    getExecutingFilePath: () => "/otp-lab/node_modules/typescript/lib/typescript.js",
    getCurrentDirectory: () => "/notebook",
    exit: () => {},
  };
}

/** The language service, loaded on first use; null (with completion by names in scope) if it cannot load. */
function languageService(): Promise<CellLanguageService | null> {
  serviceLoading ??= (async () => {
    if (!typesUrl) return null;
    try {
      const files = new Map(Object.entries((await (await fetch(typesUrl)).json()) as Record<string, string>));
      (globalThis as { __otpLabFiles?: Map<string, string> }).__otpLabFiles = files;
      (ts as unknown as { setSys(s: TS.System): void }).setSys(virtualSys(files));
      const s = new CellLanguageService(ts, "/notebook");
      s.warmUp();
      s.setPreload(PRELOADED.map((m) => ({ path: m.path, values: scopeResult?.modules.find((x) => x.label === m.label)?.values ?? [] })));
      for (const code of committed) s.commit(code);
      service = s;
      return s;
    } catch (err) {
      console.warn("OTP Lab: the language service could not load; completion offers the names in scope", err);
      return null;
    }
  })();
  return serviceLoading;
}

function commit(code: string): void {
  committed.push(code);
  service?.commit(code);
}

async function completeRequest(code: string, cursor: number): Promise<Record<string, unknown>> {
  const s = await languageService();
  if (!s) return complete(code, cursor);
  const r = s.completions(code, cursor);
  return { status: "ok", matches: r.matches, cursor_start: r.start, cursor_end: r.end, metadata: {} };
}

async function inspectWithService(code: string, cursor: number, detail: number): Promise<Record<string, unknown>> {
  const s = await languageService();
  if (!s) return inspectRequest(code, cursor);
  const r = s.quickInfo(code, cursor, detail);
  return { status: "ok", found: r.found, data: r.found ? { "text/plain": r.text, "text/markdown": r.markdown } : {}, metadata: {} };
}

/** Completion without a language service: the names in scope and the members of the object before a dot. */
function complete(code: string, cursor: number): Record<string, unknown> {
  const before = code.slice(0, cursor);
  const m = /([\p{L}_$][\p{L}\p{N}_$]*(?:\s*\.\s*[\p{L}_$][\p{L}\p{N}_$]*)*)?\s*(\.)?\s*([\p{L}_$][\p{L}\p{N}_$]*)?$/u.exec(before);
  const prefix = m?.[3] ?? "";
  let names: string[] = [];
  if (m?.[2] && m[1]) {
    let target: unknown;
    try {
      target = m[1].split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k.trim()], globalThis);
    } catch {
      target = undefined;
    }
    for (let o = target; o !== null && o !== undefined && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      names.push(...Object.getOwnPropertyNames(o));
    }
  } else {
    names = Object.getOwnPropertyNames(globalThis);
  }
  const matches = [...new Set(names)].filter((n) => n.startsWith(prefix) && /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(n) && n !== "constructor").sort();
  return { status: "ok", matches, cursor_start: cursor - prefix.length, cursor_end: cursor, metadata: {} };
}

function inspectRequest(code: string, cursor: number): Record<string, unknown> {
  const m = /[\p{L}_$][\p{L}\p{N}_$]*$/u.exec(code.slice(0, cursor) + (/^[\p{L}\p{N}_$]*/u.exec(code.slice(cursor))?.[0] ?? ""));
  const name = m?.[0];
  if (!name || !(name in globalThis)) return { status: "ok", found: false, data: {}, metadata: {} };
  const value = (globalThis as Record<string, unknown>)[name];
  const text = typeof value === "function" ? `${name}: ${String(value).split("\n")[0]!.slice(0, 200)}` : `${name}: ${inspect(value, { depth: 1 })}`;
  return { status: "ok", found: true, data: { "text/plain": text }, metadata: {} };
}

function banner(): string {
  const lines = ["OTP Lab — TypeScript in your browser (a Web Worker), with the OTP runtime preloaded."];
  for (const m of scopeResult?.modules ?? []) if (m.loaded) lines.push(`  ${m.label}: ${m.values.length} names in scope`);
  lines.push(...(scopeResult?.notes ?? []).map((n) => `  ${n}`));
  lines.push("Cells are compiled, not type-checked, in the browser; the Node kernel (`npm start`) checks types.");
  lines.push("Help: name? shows documentation; Tab completes.");
  return lines.join("\n");
}

async function init(req: Extract<Request, { type: "init" }>): Promise<Record<string, unknown>> {
  if (req.interrupt) interruptFlag = new Int32Array(req.interrupt);
  typesUrl = req.typesUrl ?? null;
  installConsole();
  scopeResult = await installScope(
    [
      { label: "runtime", path: "runtime/index.js", ns: runtime as unknown as Record<string, unknown> },
      { label: "widgets", path: "widgets/index.js", ns: widgets as unknown as Record<string, unknown> },
      { label: "kernel", path: "kernel/cell-api.js", ns: cellApi as unknown as Record<string, unknown> },
    ],
    { guard: (run) => guard(run), onRecover: (r) => recoveries.push(r) },
  );
  installControlChannel();
  // Errors thrown by timers or left unhandled after a cell: shown in the running cell, or the next one.
  const late = (err: unknown) => output.backgroundError(registry.format(err));
  (globalThis as unknown as { addEventListener(t: string, f: (e: { reason?: unknown; error?: unknown; preventDefault(): void }) => void): void }).addEventListener(
    "unhandledrejection",
    (e) => {
      e.preventDefault();
      late(e.reason);
    },
  );
  (globalThis as unknown as { addEventListener(t: string, f: (e: { error?: unknown; preventDefault(): void }) => void): void }).addEventListener("error", (e) => {
    e.preventDefault();
    late(e.error);
  });
  return { banner: banner(), interruptible: interruptFlag !== null };
}

function comm(req: Extract<Request, { type: "comm" }>): Record<string, unknown> {
  const message = { content: req.content, metadata: req.metadata, buffers: req.buffers, header: req.header } as unknown as Parameters<typeof receiveCommMsg>[1];
  const callbacks = output.background ?? callbacksFor(req.id);
  const previous = output.active;
  output.active = callbacks;
  const run = (fn: () => void) => {
    try {
      guard(fn);
    } catch (err) {
      output.backgroundError(registry.format(err));
    }
  };
  try {
    if (req.msgType === "comm_open") {
      if (!receiveCommOpen(req.content, message, run)) {
        callbacks.comm?.("comm_close", { comm_id: req.content.comm_id, data: {} }, {}, []);
      }
    } else if (req.msgType === "comm_msg") receiveCommMsg(req.content, message, run);
    else receiveCommClose(req.content, message, run);
  } finally {
    output.active = previous;
  }
  return {};
}

let queue: Promise<unknown> = Promise.resolve();
scope.onmessage = (event) => {
  const req = event.data;
  // One request at a time, in order, as the Node kernel's shell channel.
  queue = queue.then(async () => {
    let content: Record<string, unknown>;
    try {
      switch (req.type) {
        case "init":
          content = await init(req);
          break;
        case "execute":
          content = await execute(req);
          break;
        case "complete":
          content = await completeRequest(req.code, req.cursor);
          break;
        case "inspect":
          content = await inspectWithService(req.code, req.cursor, req.detail ?? 0);
          break;
        case "is_complete":
          content = { ...isComplete(ts, req.code) };
          break;
        case "comm_info":
          content = { status: "ok", comms: commInfo(req.target) };
          break;
        case "comm":
          content = comm(req);
          break;
        default:
          content = { status: "error", ename: "UnknownRequest", evalue: String((req as { type: unknown }).type), traceback: [] };
      }
    } catch (err) {
      content = { status: "error", ename: "KernelError", evalue: err instanceof Error ? err.message : String(err), traceback: [] };
    }
    post({ id: req.id, type: "reply", content });
  });
};

export type { MimeBundle };
