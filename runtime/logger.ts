/**
 * The Logger: crash and supervisor reports, worded as Elixir 1.14's Logger prints them.
 *
 * What is reported (the translations of `Logger.Translator`, as Elixir shows them at its default level):
 * - `error` `GenServer #PID<0.84.0> terminating`: a GenServer (an Agent, a supervisor...) stops with an abnormal
 *   reason (not `normal`, `shutdown` or `{shutdown, _}`): the reason or exception with its stack, the last
 *   message (and who sent it, for a call), the state, whether the caller is alive.
 * - `error` `Process #PID<0.90.0> raised an exception`: a plain process (`spawn`) ends with an exception. Ending
 *   with `exit(reason)` is not reported, as on the BEAM.
 * - `error` `Task #PID<0.91.0> started from #PID<0.80.0> terminating`: a task's function raises or exits abnormally.
 * - `error` `Child :a of Supervisor #PID<0.81.0> (Supervisor.Default) terminated` / `failed to start` /
 *   `caused shutdown` (gave up: `reached_max_restart_intensity`) / `shut down abnormally`: supervisor reports.
 * - `info` `Child :a of Supervisor ... started`: a child a supervisor restarted (progress report); a child's
 *   first start is reported at `debug`. (Elixir shows supervisor reports only with `handle_sasl_reports: true`;
 *   here they are on, because watching supervisors is what the lessons are about.) A DynamicSupervisor sends no
 *   progress reports, as in Elixir.
 *
 * Reports are structured (`LogReport`: level, kind, the process, the raw terms) and carry their text. They go to
 * handlers (`Logger.addHandler`): the notebook kernel adds one that shows each report in the output of the cell
 * that is running, with the stack mapped to the cell's lines; a script adds its own (none by default, so the
 * runtime prints nothing unless asked). Each runtime has its level (`Logger.level`, default "info"; a fresh
 * runtime, `resetRuntime()`, starts at the default). Nothing is formatted when no handler is added or the level
 * excludes the report, so reports cost nothing in benchmarks. The text holds no wall-clock time: the same program
 * prints the same reports on every run.
 */

import { Pid } from "./process.js";
import { Runtime } from "./runtime.js";
import { getRuntime } from "./default.js";
import { Crash, ErlList, INSPECT, formatTerm, isCleanExit, isTuple, type Term } from "./terms.js";
import type { ReportContext } from "./observe.js";

/** Elixir's (and syslog's) levels, least severe first. */
export type LogLevel = "debug" | "info" | "notice" | "warning" | "error" | "critical" | "alert" | "emergency";
/** What `Logger.level` accepts: a level (that one and more severe ones are shown), "all" or "none". */
export type LogLevelSetting = LogLevel | "all" | "none";

const RANK: Record<LogLevelSetting, number> = { all: 0, debug: 1, info: 2, notice: 3, warning: 4, error: 5, critical: 6, alert: 7, emergency: 8, none: 9 };
export const DEFAULT_LOG_LEVEL: LogLevelSetting = "info";

export type ReportKind = "gen_server_terminate" | "process_crash" | "task_terminate" | "supervisor_report" | "supervisor_progress";

/**
 * Turns a JavaScript stack (`err.stack`) into the frames a report shows, one line each, without indentation,
 * e.g. `Cell In[5], line 3: handleCall`. The default keeps frames outside the runtime as `file:line: function`.
 */
export type StackFormatter = (stack: string) => string[];

export type LogHandler = (report: LogReport) => void;

/** One report: what happened, as data, and its text (`text`, or `message(frames)` with frames of your own). */
export class LogReport {
  constructor(
    readonly level: LogLevel,
    readonly kind: ReportKind,
    /** Runtime clock (ms) when it happened. */
    readonly t: number,
    /** The process the report is about: the one that crashed, or the supervisor that reports. */
    readonly pid: Pid,
    /** The raw terms: reason, state, last message, child id... (by kind, see the `log*` functions). */
    readonly data: Readonly<Record<string, Term>>,
    private readonly render: (frames: StackFormatter) => string,
  ) {}

  private cached: string | null = null;

  /** The report's message as Elixir's Logger words it, without the level; stack frames through `frames`. */
  message(frames?: StackFormatter): string {
    if (!frames) return (this.cached ??= this.render(defaultFrames));
    return this.render(frames);
  }

  /** `[error] GenServer #PID<0.84.0> terminating\n** (RuntimeError) boom\n...` */
  get text(): string {
    return `[${this.level}] ${this.message()}`;
  }

  toString(): string {
    return this.text;
  }

  [INSPECT](): string {
    return this.text;
  }
}

const handlers: LogHandler[] = [];

function runtimeOfCaller(): Runtime {
  return Runtime.active ?? getRuntime();
}

function checkLevel(v: unknown): LogLevelSetting {
  if (typeof v === "string" && Object.prototype.hasOwnProperty.call(RANK, v)) return v as LogLevelSetting;
  throw new TypeError(`Logger.level must be one of ${Object.keys(RANK).map((k) => JSON.stringify(k)).join(", ")}; got ${typeof v === "string" ? JSON.stringify(v) : formatTerm(v)}`);
}

/**
 * Elixir's Logger for the runtime's crash and supervisor reports.
 * @example Logger.level = "error"     // hide restart (progress) reports, keep crashes
 * @example Logger.level = "none"      // no reports at all; "info" (the default) shows them all again
 * @example const stop = Logger.addHandler((r) => console.error(r.text))   // a script's own handler
 */
export const Logger = {
  /**
   * The least severe level shown, for the current runtime: "debug", "info" (default), "notice", "warning",
   * "error", "critical", "alert", "emergency", or "all" / "none". Crash and supervisor reports are "error",
   * restart reports "info", first starts of children "debug". `resetRuntime()` puts it back to "info".
   */
  get level(): LogLevelSetting {
    return runtimeOfCaller().logLevel;
  },
  set level(v: LogLevelSetting) {
    runtimeOfCaller().logLevel = checkLevel(v);
  },
  /** Calls `handler` with every report shown at the level; returns a function that removes it. */
  addHandler(handler: LogHandler): () => void {
    if (typeof handler !== "function") throw new TypeError("Logger.addHandler expects a function (report) => void");
    handlers.push(handler);
    return () => {
      const i = handlers.indexOf(handler);
      if (i >= 0) handlers.splice(i, 1);
    };
  },
  /** Whether a report of `level` would be shown now (for the current runtime). */
  enabled(level: LogLevel): boolean {
    return wants(runtimeOfCaller(), level);
  },
};

/** Whether anyone would see a report of `level` from runtime `rt`: a handler exists and the level allows it. */
export function wants(rt: Runtime, level: LogLevel): boolean {
  return handlers.length > 0 && RANK[level] >= RANK[rt.logLevel];
}

function emit(report: LogReport): void {
  for (const h of handlers.slice()) {
    try {
      h(report);
    } catch {
      // a broken handler must not break the process that reports
    }
  }
}

/** Builds and sends a report; a report that cannot be formatted (a state whose toString throws) is dropped. */
function send(rt: Runtime, level: LogLevel, kind: ReportKind, pid: Pid, data: Record<string, Term>, render: (frames: StackFormatter) => string): void {
  let report: LogReport;
  try {
    report = new LogReport(level, kind, rt.now(), pid, data, render);
    report.message(); // format now: the terms may change after this
  } catch {
    return;
  }
  emit(report);
}

// ------------------------------------------------------------------ the reports

/** `last` when a GenServer stopped without handling a message (an injected `crash`). */
export const NO_MESSAGE: unique symbol = Symbol("no message");

/**
 * `GenServer #PID<0.84.0> terminating` (Elixir's translation of gen_server's `terminate` report). `last` is the
 * message being handled (a `$gen_call` shows its request and sender), `state` the state given to `terminate`.
 */
export function logGenServerTerminate(p: Pid, reason: Term, last: Term, state: Term): void {
  if (isCleanExit(reason) || !wants(p.rt, "error")) return;
  guarded(() => genServerTerminate(p, reason, last, state));
}

/** Runs a report's construction; a report that cannot be written (a term whose `toString` throws) is dropped. */
function guarded(build: () => void): void {
  try {
    build();
  } catch {
    // never let a report change what the process does
  }
}

function genServerTerminate(p: Pid, reason: Term, last: Term, state: Term): void {
  const rt = p.rt;
  let from: Pid | null = null;
  let message = last;
  if (isTuple(last) && last[0] === "$gen_call" && isTuple(last[1]) && last[1][0] instanceof Pid) {
    from = last[1][0];
    message = last[2];
  }
  const name = p.name ? nameText(p.name) : p.toString();
  const lastText = last === NO_MESSAGE ? null : clip(formatTerm(message));
  const stateText = clip(formatTerm(state));
  const client = from ? `\nClient ${from} is ${from.alive ? "alive" : "dead"}` : "";
  const data: Record<string, Term> = { name: p.name ?? p, reason, state };
  if (last !== NO_MESSAGE) data.lastMessage = message;
  if (from) data.from = from;
  send(rt, "error", "gen_server_terminate", p, data, (frames) => {
    let s = `GenServer ${name} terminating${formatStopReason(reason, frames)}`;
    if (lastText !== null) s += `\nLast message${from ? ` (from ${from})` : ""}: ${lastText}`;
    return `${s}\nState: ${stateText}${client}`;
  });
}

/** `Process #PID<0.90.0> raised an exception`: a plain process ended with an exception (`reason` is its Crash). */
export function logProcessCrash(p: Pid, reason: Term): void {
  const rt = p.rt;
  if (!wants(rt, "error")) return;
  guarded(() => send(rt, "error", "process_crash", p, { reason }, (frames) => `Process ${p} raised an exception${formatStopReason(reason, frames)}`));
}

/**
 * `Task #PID<0.91.0> started from #PID<0.80.0> terminating`: a task's function raised (`reason` a Crash) or
 * exited abnormally (`stack`: where it exited).
 */
export function logTaskTerminate(p: Pid, starter: Pid | null, fun: Term, reason: Term, stack: string): void {
  const rt = p.rt;
  if (isCleanExit(reason) || !wants(rt, "error")) return;
  guarded(() => {
    const funText = formatTerm(fun);
    send(rt, "error", "task_terminate", p, { starter, function: fun, args: new ErlList(), reason }, (frames) => {
      const from = starter ? ` started from ${starter}` : "";
      let body = formatStopReason(reason, frames);
      if (!(reason instanceof Crash)) body += stackLines(stack, frames, "\n    ");
      return `Task ${p}${from} terminating${body}\nFunction: ${funText}\n    Args: []`;
    });
  });
}

/** What a supervisor knows of a child, for the `Start Call`, `Restart`, `Shutdown` and `Type` lines. */
export interface ChildDescription {
  start: unknown;
  restart: string;
  shutdown: number | string;
  type: string;
}

const CONTEXT_TEXT: Record<ReportContext, string> = {
  start_error: "failed to start",
  child_terminated: "terminated",
  shutdown: "caused shutdown",
  shutdown_error: "shut down abnormally",
};

/**
 * A supervisor report (`Child :a of Supervisor #PID<0.81.0> (Supervisor.Default) terminated`): `child` is the
 * offender's pid (or what OTP has instead), `spec` its child spec when known.
 */
export function logSupervisorReport(rt: Runtime, sup: Pid, context: ReportContext, reason: Term, child: Term, id: Term, spec?: ChildDescription, supModule?: string): void {
  if (!wants(rt, "error")) return;
  guarded(() => {
    const head = `Child ${childIdText(sup, id)} of Supervisor ${supervisorName(sup, supModule)} ${CONTEXT_TEXT[context]}`;
    const shown = context === "start_error" && isTuple(reason) && reason.length === 2 && reason[0] === "EXIT" ? reason[1] : reason;
    const pidLine = child instanceof Pid && context !== "shutdown" ? `\nPid: ${child}` : "";
    const info = spec ? childInfo(spec) : "";
    send(rt, "error", "supervisor_report", sup, { supervisor: sup, context, reason, child, id }, (frames) => `${head}\n** (exit) ${formatExit(shown, frames)}${pidLine}${info}`);
  });
}

/** A progress report, `Child :a of Supervisor ... started`: at `info` for a restart, `debug` for a first start. */
export function logChildStarted(rt: Runtime, sup: Pid, id: Term, pid: Pid, spec: ChildDescription, restart: boolean, supModule?: string): void {
  const level: LogLevel = restart ? "info" : "debug";
  if (!wants(rt, level)) return;
  guarded(() => {
    const text = `Child ${childIdText(sup, id)} of Supervisor ${supervisorName(sup, supModule)} started\nPid: ${pid}${childInfo(spec)}`;
    send(rt, level, "supervisor_progress", sup, { supervisor: sup, id, pid, restart }, () => text);
  });
}

// ------------------------------------------------------------------ how things are written

/** Marks a start function with the call to show as its `Start Call` (text, or a function giving it). */
export const START_CALL: unique symbol = Symbol.for("otp-lab.startCall") as never;

/**
 * A registered name or child id as Elixir inspects the atom: `Counter` for a module-like name, `:a`, `:"my-name"`.
 */
export function nameText(name: Term): string {
  if (typeof name === "string" && /^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$/.test(name)) return name;
  return formatTerm(name);
}

function childIdText(sup: Pid, id: Term): string {
  // A DynamicSupervisor ignores ids: Elixir's reports say `Child :undefined`.
  if ((sup.data as { kind?: string } | null)?.kind === "dynamic_supervisor") return ":undefined";
  return nameText(id);
}

/**
 * `MySup` for a registered supervisor, else `#PID<0.81.0> (Supervisor.Default)` with its module (`modName`, from
 * the supervisor's state).
 */
function supervisorName(sup: Pid, modName: string | undefined): string {
  if (sup.name) return nameText(sup.name);
  // The list form's module is named "Supervisor" or "Supervisor(name)": Elixir's `Supervisor.Default`.
  const shown = !modName || modName === "Supervisor" || modName.startsWith("Supervisor(") ? "Supervisor.Default" : nameText(modName);
  return `${sup} (${shown})`;
}

function childInfo(spec: ChildDescription): string {
  const shutdown = typeof spec.shutdown === "number" ? String(spec.shutdown) : formatTerm(spec.shutdown);
  return `\nStart Call: ${startCallText(spec.start)}\nRestart: ${formatTerm(spec.restart)}\nShutdown: ${shutdown}\nType: ${formatTerm(spec.type)}`;
}

/**
 * A child's start as a call: `Counter.start_link(5)` for `[Counter, "start_link", [5]]`; the code of a start
 * function, `GenServer.startLink(Counter, 0)` for `() => GenServer.startLink(Counter, 0)`.
 */
export function startCallText(start: unknown): string {
  if (Array.isArray(start) && start.length === 3 && typeof start[1] === "string" && Array.isArray(start[2])) {
    const [mod, fn, args] = start as [unknown, string, Term[]];
    return `${moduleText(mod)}.${fn}(${args.map((a) => formatTerm(a)).join(", ")})`;
  }
  if (typeof start !== "function") return formatTerm(start);
  const marked = (start as unknown as Record<symbol, unknown>)[START_CALL];
  if (typeof marked === "string") return marked;
  if (typeof marked === "function") return String((marked as () => string)());
  let code: string;
  try {
    code = Function.prototype.toString.call(start);
  } catch {
    return formatTerm(start);
  }
  if (/\{\s*\[native code\]\s*\}$/.test(code)) return formatTerm(start);
  code = code.replace(/\s+/g, " ").trim();
  // `() => expr` is shown as the call it makes.
  const arrow = /^(?:async\s*)?\(\s*\)\s*=>\s*(?!\{)([\s\S]+)$/.exec(code);
  if (arrow) code = arrow[1]!.trim();
  return code.length > 120 ? code.slice(0, 119) + "…" : code;
}

function moduleText(mod: unknown): string {
  if (typeof mod === "string") return mod.startsWith("Elixir.") ? mod.slice(7) : /^[A-Z]/.test(mod) ? mod : `:${mod}`;
  if (mod && typeof mod === "object" && typeof (mod as { name?: unknown }).name === "string") return (mod as { name: string }).name;
  return formatTerm(mod);
}

/** Long states and messages are cut (Elixir's inspect has a limit too). */
function clip(s: string, max = 2000): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Elixir's `format_reason` of a GenServer report: `\n** (RuntimeError) boom` + frames, or `\n** (stop) ...`. */
function formatStopReason(reason: Term, frames: StackFormatter): string {
  if (reason instanceof Crash) return `\n${banner(reason)}${stackLines(reason.stack, frames, "\n    ")}`;
  return `\n** (stop) ${formatExit(reason, frames)}`;
}

/** `** (RuntimeError) boom`, or `** (ErlangError) Erlang error: {:nocatch, :ball}` for a thrown non-error. */
function banner(c: Crash): string {
  const e = c.error;
  if (e instanceof Error) return `** (${e.name || "Error"}) ${e.message}`;
  return `** (ErlangError) Erlang error: ${formatTerm(e)}`;
}

function stackLines(stack: string, frames: StackFormatter, joiner: string): string {
  let lines: string[];
  try {
    lines = stack ? frames(stack) : [];
  } catch {
    lines = [];
  }
  return lines.map((l) => joiner + l).join("");
}

const TEXT: Record<string, string> = {
  normal: "normal",
  shutdown: "shutdown",
  killed: "killed",
  timeout: "time out",
  calling_self: "process attempted to call itself",
  noconnection: "no connection",
  noproc: "no process: the process is not alive or there's no process currently associated with the given name, possibly because its application isn't started",
};

/** Elixir's `Exception.format_exit/1`: how an exit reason reads after `** (exit)` or `** (stop)`. */
export function formatExit(reason: Term, frames: StackFormatter = defaultFrames, joiner = "\n    "): string {
  if (reason instanceof Crash) {
    return `an exception was raised:${joiner}${banner(reason)}${stackLines(reason.stack, frames, `${joiner}    `)}`;
  }
  if (typeof reason === "string" && Object.prototype.hasOwnProperty.call(TEXT, reason)) return TEXT[reason]!;
  if (isTuple(reason) && reason.length === 2) {
    const [tag, x] = reason;
    if (tag === "shutdown" && isTuple(x) && x.length === 3 && x[0] === "failed_to_start_child") {
      const why = isTuple(x[2]) && x[2].length === 2 && x[2][0] === "EXIT" ? x[2][1] : x[2];
      return `shutdown: failed to start child: ${nameText(x[1])}${joiner}** (EXIT) ${formatExit(why, frames, joiner + "    ")}`;
    }
    if (tag === "shutdown") return `shutdown: ${formatTerm(x)}`;
    if (tag === "already_started") return `already started: ${formatTerm(x)}`;
    if (tag === "bad_return_value") return `bad return value: ${formatTerm(x)}`;
    if (tag === "bad_call") return `bad call: ${formatTerm(x)}`;
    if (tag === "bad_cast") return `bad cast: ${formatTerm(x)}`;
    if (tag === "bad_return" && isTuple(x) && x.length === 3 && x[1] === "init") return `${moduleText(x[0])}.init/1 returned a bad value: ${formatTerm(x[2])}`;
    if (tag === "undef" && isTuple(x) && x.length === 3 && typeof x[1] === "string" && Array.isArray(x[2])) {
      return `an exception was raised:${joiner}** (UndefinedFunctionError) function ${moduleText(x[0])}.${x[1]}/${x[2].length} is undefined`;
    }
    // `{Reason, {Module, Function, Args}}`: a call that failed, e.g. GenServer.call to a dead server.
    if (isTuple(x) && x.length === 3 && typeof x[1] === "string" && x[2] instanceof ErlList) {
      const call = `${moduleText(x[0])}.${x[1]}(${x[2].map((a) => formatTerm(a)).join(", ")})`;
      return `exited in: ${call}${joiner}** (EXIT) ${formatExit(tag, frames, joiner + "    ")}`;
    }
  }
  return formatTerm(reason);
}

// ------------------------------------------------------------------ stack frames

// `    at fn (file:1:2)`, `    at file:1:2`, `    at async fn (file:1:2)`
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;
const RUNTIME_DIR = new URL(".", import.meta.url).href;

/** One V8 frame: function name (or ""), file, line, column; null for a line that is not a frame. */
export function parseFrame(line: string): { fn: string; file: string; line: number; column: number } | null {
  const m = FRAME.exec(line);
  if (!m || !m[2]) return null;
  return { fn: m[1] ?? "", file: m[2], line: Number(m[3]), column: Number(m[4]) };
}

/**
 * A frame's function as a report shows it: `handleCall` for V8's `Object.handleCall`; nothing for an anonymous
 * function, which V8 calls `eval` inside evaluated code (the grading kernel's cells).
 */
export function frameFunction(fn: string): string {
  const f = fn.replace(/^(?:async |new )/, "").replace(/^Object\./, "").replace(/^Generator\./, "");
  return f === "eval" ? "" : f;
}

/** Whether a frame's file is inside the runtime itself (or Node): frames a learner has no use for. */
export function isRuntimeFrame(file: string): boolean {
  if (file.startsWith("node:") || file.startsWith("internal/") || file === "<anonymous>") return true;
  const url = file.startsWith("/") ? `file://${file}` : file;
  return url.startsWith(RUNTIME_DIR);
}

/** The scheduler's own frames: below them is whoever drove the runtime (a cell's `await`), not the process. */
const SCHEDULER = /^Runtime\.(?:step|run|loop|drive)$/;

/**
 * The frames of a process's stack that are the process's own code: those above the scheduler (what drove the
 * runtime, e.g. the cell that awaited, is not part of the process's stack), without the runtime's and Node's.
 */
export function processFrames(stack: string): { fn: string; file: string; line: number; column: number }[] {
  const out: { fn: string; file: string; line: number; column: number }[] = [];
  for (const raw of stack.split("\n")) {
    const f = parseFrame(raw);
    if (!f) continue;
    const internal = isRuntimeFrame(f.file);
    if (internal && SCHEDULER.test(f.fn)) break;
    if (!internal) out.push(f);
  }
  return out;
}

/** The default `StackFormatter`: the process's frames outside the runtime, as `file:line: function`. */
export function defaultFrames(stack: string): string[] {
  return processFrames(stack).map((f) => {
    const file = f.file.startsWith("file://") ? f.file.slice(7) : f.file;
    const fn = frameFunction(f.fn);
    return fn ? `${file}:${f.line}: ${fn}` : `${file}:${f.line}`;
  });
}
