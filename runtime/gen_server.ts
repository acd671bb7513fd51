/**
 * GenServer (`gen_server.erl`, Elixir `GenServer`), rules R16–R28 of otp-semantics.md.
 *
 * Contract — callbacks (plain functions, or generator functions when they must block, e.g. to call another
 * server or sleep). Results are OTP tuples written as arrays:
 *   init(arg)                        → ["ok", S] | ["ok", S, Timeout | "hibernate" | ["continue", C]]
 *                                      | "ignore" | ["stop", Reason]
 *   handleCall(req, from, S)         → ["reply", R, S] | ["reply", R, S, extra] | ["noreply", S] | ["noreply", S, extra]
 *                                      | ["stop", Reason, Reply, S] | ["stop", Reason, S]
 *   handleCast(msg, S), handleInfo(msg, S), handleContinue(c, S)
 *                                    → ["noreply", S] | ["noreply", S, extra] | ["stop", Reason, S]
 *   terminate(reason, S)             → ignored (optional)
 *   codeChange(oldVsn, S, extra)     → ["ok", S2] | anything else = error (optional)
 * Missing handleCast / handleInfo keep the state (Elixir's defaults); a missing handleCall stops the server with
 * `{bad_call, Req}` like Elixir's default.
 *
 * Defaults: call timeout 5000 ms (R17), like both `gen_server:call/2` and `GenServer.call/2`.
 */

import { Pid, Ref, TIMEOUT, type Behaviour, type Blocking } from "./process.js";
import { sleep, type Runtime } from "./runtime.js";
import { getRuntime, activeOrDefault } from "./default.js";
import { Op } from "./op.js";
import { Module, ModuleVersion, codeTable, type CodeUser } from "./code.js";
import { ExitSignal, formatTerm, list, reasonFromThrow, type Term } from "./terms.js";
import { NO_MESSAGE, logGenServerTerminate } from "./logger.js";
import type { Timer } from "./clock.js";
import { TraceSink, type TraceOptions } from "./sys_trace.js";
import { registerVia, type Dest, type GlobalName, type Name, type ViaName } from "./via.js";

export type From = [Pid, Ref];
type Res<T> = T | Blocking<T>;

export interface GenServerCallbacks<S = any> {
  init(arg: any): Res<Term>;
  handleCall?(request: any, from: From, state: S): Res<Term>;
  handleCast?(msg: any, state: S): Res<Term>;
  handleInfo?(msg: any, state: S): Res<Term>;
  handleContinue?(cont: any, state: S): Res<Term>;
  terminate?(reason: Term, state: S): Res<unknown>;
  codeChange?(oldVsn: Term, state: S, extra: Term): Res<Term>;
}

/**
 * What a start returns. The error reason is typed `any` so that `const [, pid] = await GenServer.startLink(...)`
 * type-checks in a notebook cell; `okPid(result)` is the checked way (Elixir's `{:ok, pid} = ...`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StartResult = ["ok", Pid] | "ignore" | ["error", any];

/**
 * The pid of a successful start, like Elixir's `{:ok, pid} = GenServer.start_link(...)`: anything else throws a
 * MatchError that shows the actual result.
 * @example const counter = okPid(await GenServer.startLink(Counter, 0))
 */
export function okPid(result: unknown): Pid {
  if (Array.isArray(result) && result[0] === "ok" && result[1] instanceof Pid) return result[1];
  const err = new Error(`no match of right hand side value: ${formatTerm(result)} (expected ["ok", pid])`);
  err.name = "MatchError";
  throw err;
}

export interface StartOptions {
  /**
   * Register the process under this name: a string (`{local, Name}`), or `["via", module, name]` /
   * `["global", name]` (via.ts), e.g. `["via", "Registry", ["reg", "alice"]]`.
   */
  name?: Name;
  /** How long the caller waits for init, in ms (default infinity, as `gen_server:start_link`). */
  timeout?: number;
}

/** What a GenServer process keeps (one small record per process). */
export interface GenServerData extends CodeUser {
  mod: Module<GenServerCallbacks>;
  state: any;
  parent: Pid;
  /** Module version whose code the state belongs to (moves on through `code_change`). */
  version: number;
  timer: Timer | null;
  suspended: boolean;
  deferred: Term[] | null;
  /** Set by supervisors for introspection. */
  kind?: string;
  /** Fault injection: virtual ms spent before handling each message (`injectDelay`). */
  delay?: number;
  /** Set while `sys.trace(server, true)` is on: prints each message in and each reply or new state out. */
  trace?: TraceSink;
  /** Who started a server started without a link (its `parent` is itself then), for `$ancestors`. */
  starter?: Pid;
  /** The name inside a via or global name it was started with (gen's `get_proc_name`), for sys reports. */
  viaName?: Term;
}

/** Message that makes a GenServer stop itself with a reason, as if a callback returned `{stop, Reason, S}`. */
export const CRASH = "$otp_lab_crash";

const GS_TIMEOUT = Symbol("gen_server timeout");
let anonymous = 0;

function isGen(x: unknown): x is Blocking<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function" && typeof (x as Generator).throw === "function";
}

/** Runs a callback that may be a plain function or a generator function. */
function* run<T>(r: Res<T>): Blocking<T> {
  return isGen(r) ? ((yield* r) as T) : (r as T);
}

/** A module for `callbacks`: registered modules pass through, plain objects become anonymous modules. */
export function toModule(rt: Runtime, callbacks: Module<GenServerCallbacks> | GenServerCallbacks): Module<GenServerCallbacks> {
  if (callbacks instanceof Module) return callbacks;
  // One anonymous module per callbacks object (and runtime), not one per server started from it: a Module, its
  // ModuleVersion and its name cost about 170 bytes, which every idle server paid.
  const known = anonymousModules.get(callbacks);
  if (known && known.rt === rt) return known;
  const name = `anonymous#${++anonymous}`;
  const m = new Module<GenServerCallbacks>(rt, name, callbacks);
  anonymousModules.set(callbacks, m);
  return m;
}
const anonymousModules = new WeakMap<GenServerCallbacks, Module<GenServerCallbacks>>();

// ------------------------------------------------------------------ the behaviour (server side)

export const genServerBehaviour: Behaviour = {
  name: "gen_server",
  handle(p: Pid, msg: Term) {
    const d = p.data as GenServerData;
    if (d.timer) {
      d.timer.cancelled = true;
      d.timer = null;
    }
    if (Array.isArray(msg) && msg[0] === "$system") return handleSystem(p, d, msg);
    if (Array.isArray(msg) && msg[0] === CRASH && msg.length === 2) return terminateAndExit(p, d, msg[1], undefined, NO_MESSAGE);
    if (d.suspended) {
      (d.deferred ??= []).push(msg);
      return;
    }
    if (d.trace && !isParentExit(p, d, msg)) d.trace.in(msg === GS_TIMEOUT ? "timeout" : msg);
    return fastDispatch(p, d, msg) ?? undefined;
  },
  onExit(p: Pid) {
    const d = p.data as GenServerData;
    if (d?.timer) d.timer.cancelled = true;
  },
  state(p: Pid) {
    return (p.data as GenServerData).state;
  },
};

/**
 * The common case without a generator per message: a plain callback returning a simple reply or noreply is
 * handled synchronously, and a generator callback (a supervisor's) gets one generator, `finishCallback`.
 * Anything else (a delay, a stop, an extra element, a missing callback) takes the general path, `dispatch`
 * or `handleResult`, with the same semantics.
 */
function fastDispatch(p: Pid, d: GenServerData, msg: Term): Blocking<void> | void {
  if (d.delay || !Array.isArray(msg)) return dispatch(p, d, msg);
  if (isParentExit(p, d, msg)) return terminateAndExit(p, d, msg[2], undefined, msg);
  const tag = msg[0];
  const v = d.mod.current;
  const cbs = v.callbacks;
  let result: Term;
  let from: From | null = null;
  d.runningCode = v;
  try {
    if (tag === "$gen_call" && cbs.handleCall) {
      from = msg[1] as From;
      result = cbs.handleCall.call(cbs, msg[2], from, d.state);
    } else if (tag === "$gen_cast" && cbs.handleCast) {
      result = cbs.handleCast.call(cbs, msg[1], d.state);
    } else if (tag !== "$gen_call" && tag !== "$gen_cast" && cbs.handleInfo) {
      result = cbs.handleInfo.call(cbs, msg, d.state);
    } else {
      d.runningCode = null;
      return dispatch(p, d, msg);
    }
  } catch (err) {
    d.runningCode = null;
    return terminateAndExit(p, d, reasonFromThrow(err), undefined, msg); // R25
  }
  if (isGen(result)) return finishCallback(p, d, result, from, msg);
  d.runningCode = null;
  if (simpleResult(d, result, from)) return;
  return handleResult(p.rt, p, d, result, from, msg);
}

/** Applies `{reply, R, S}` / `{noreply, S}` without an extra element; false for any other result. */
function simpleResult(d: GenServerData, result: Term, from: From | null): boolean {
  if (!Array.isArray(result)) return false;
  if (from && result.length === 3 && result[0] === "reply") {
    reply(from, result[1]);
    d.state = result[2];
    if (d.trace) d.trace.out(result[1], from[0], d.state);
    return true;
  }
  if (result.length === 2 && result[0] === "noreply") {
    d.state = result[1];
    if (d.trace) d.trace.noreply(d.state);
    return true;
  }
  return false;
}

/**
 * The rest of `fastDispatch` when the callback is a generator (it may block). Module-level on purpose: a
 * `(function* () {...})()` inside fastDispatch is a new generator function per message, and V8 gives each
 * one its own prototype object and hidden class (every supervisor message paid for one).
 */
function* finishCallback(p: Pid, d: GenServerData, g: Blocking<Term>, from: From | null, msg: Term): Blocking<void> {
  let r: Term;
  try {
    r = yield* g;
  } catch (err) {
    d.runningCode = null;
    return yield* terminateAndExit(p, d, reasonFromThrow(err), undefined, msg); // R25
  }
  d.runningCode = null;
  if (!simpleResult(d, r, from)) yield* handleResult(p.rt, p, d, r, from, msg);
}

/** R23: the parent's exit signal, trapped, stops the server through terminate — even with reason normal. */
function isParentExit(p: Pid, d: GenServerData, msg: Term): msg is [string, Pid, Term] {
  return Array.isArray(msg) && msg[0] === "EXIT" && msg[1] === d.parent && p.trapExit;
}

function* dispatch(p: Pid, d: GenServerData, msg: Term): Blocking<void> {
  const rt = p.rt;
  if (isParentExit(p, d, msg)) return yield* terminateAndExit(p, d, msg[2], undefined, msg);
  if (d.delay) yield* sleep(d.delay);
  const v = d.mod.current;
  const cbs = v.callbacks;
  let result: Term;
  let from: From | null = null;
  d.runningCode = v;
  try {
    if (Array.isArray(msg) && msg[0] === "$gen_call") {
      from = msg[1] as From;
      const req = msg[2];
      if (!cbs.handleCall) result = ["stop", ["bad_call", req], d.state];
      else result = yield* run(cbs.handleCall.call(cbs, req, from, d.state));
    } else if (Array.isArray(msg) && msg[0] === "$gen_cast") {
      result = cbs.handleCast ? yield* run(cbs.handleCast.call(cbs, msg[1], d.state)) : ["noreply", d.state];
    } else {
      const info = msg === GS_TIMEOUT ? "timeout" : msg;
      result = cbs.handleInfo ? yield* run(cbs.handleInfo.call(cbs, info, d.state)) : ["noreply", d.state];
    }
  } catch (err) {
    d.runningCode = null;
    return yield* terminateAndExit(p, d, reasonFromThrow(err), undefined, msg === GS_TIMEOUT ? "timeout" : msg); // R25: a callback exception
  }
  d.runningCode = null;
  yield* handleResult(rt, p, d, result, from, msg === GS_TIMEOUT ? "timeout" : msg);
}

/** Applies a callback's result; `msg` is the message it handled (for the crash report, logger.ts). */
function* handleResult(rt: Runtime, p: Pid, d: GenServerData, result: Term, from: From | null, msg: Term): Blocking<void> {
  for (;;) {
    if (Array.isArray(result)) {
      const tag = result[0];
      if (from && tag === "reply" && (result.length === 3 || result.length === 4)) {
        reply(from, result[1]);
        d.state = result[2];
        if (d.trace) d.trace.out(result[1], from[0], d.state);
        const next = isContinue(result[3]) ? yield* continueWith(p, d, result[3]) : plainExtra(rt, p, d, result[3]);
        if (next === undefined) return;
        if (isContinue(result[3])) msg = result[3];
        result = next;
        from = null;
        continue;
      }
      if (tag === "noreply" && (result.length === 2 || result.length === 3)) {
        d.state = result[1];
        if (d.trace) d.trace.noreply(d.state);
        const next = isContinue(result[2]) ? yield* continueWith(p, d, result[2]) : plainExtra(rt, p, d, result[2]);
        if (next === undefined) return;
        if (isContinue(result[2])) msg = result[2];
        result = next;
        from = null;
        continue;
      }
      if (tag === "stop" && from && result.length === 4) {
        // R21: terminate runs first, the reply is sent just before the process exits.
        d.state = result[3];
        const reason = result[1];
        const replyTo = from;
        const replyValue = result[2];
        if (d.trace) d.trace.out(replyValue, replyTo[0], d.state);
        return yield* terminateAndExit(p, d, reason, () => reply(replyTo, replyValue), msg);
      }
      if (tag === "stop" && result.length === 3) {
        d.state = result[2];
        return yield* terminateAndExit(p, d, result[1], undefined, msg);
      }
    }
    return yield* terminateAndExit(p, d, ["bad_return_value", result], undefined, msg); // R20
  }
}

/** Whether a result's extra element is `{continue, Arg}` (the one extra that runs a callback). */
function isContinue(extra: Term): extra is [string, Term] {
  return Array.isArray(extra) && extra[0] === "continue";
}

/**
 * Applies an extra element other than `{continue, _}` (none, a timeout, hibernate); returns undefined, or the
 * bad return value to stop with. Plain function: most results have no extra, and a generator here cost
 * every message that went through `handleResult` one more generator.
 */
function plainExtra(rt: Runtime, p: Pid, d: GenServerData, extra: Term): Term | undefined {
  if (extra === undefined || extra === "hibernate" || extra === "infinity") return undefined;
  if (typeof extra === "number") {
    armTimeout(rt, p, d, extra);
    return undefined;
  }
  return ["bad_return_value", extra];
}

/** `{continue, Arg}`: runs handleContinue; returns its result to handle next. */
function* continueWith(p: Pid, d: GenServerData, extra: [string, Term]): Blocking<Term | undefined> {
  const v = d.mod.current;
  const cbs = v.callbacks;
  if (!cbs.handleContinue) return ["stop", ["bad_return_value", ["continue", extra[1]]], d.state];
  d.runningCode = v;
  try {
    const r = cbs.handleContinue.call(cbs, extra[1], d.state);
    return isGen(r) ? yield* r : r;
  } catch (err) {
    d.runningCode = null;
    yield* terminateAndExit(p, d, reasonFromThrow(err), undefined, extra);
    return undefined;
  } finally {
    d.runningCode = null;
  }
}

/** R22: wait at most `ms` for any message, then `handleInfo("timeout")`; any message cancels it. */
function armTimeout(rt: Runtime, p: Pid, d: GenServerData, ms: number): void {
  const t = rt.after(ms, () => {
    if (d.timer !== t || p.dead) return;
    d.timer = null;
    if (!p.mailbox || p.mailbox.length === 0) rt.deliver(p, GS_TIMEOUT);
  });
  d.timer = t;
}

/**
 * Calls terminate/2 (R25), then exits with `reason` (or with terminate's own exception). An abnormal exit is
 * reported (`GenServer ... terminating`, logger.ts) with `last`, the message being handled.
 */
function* terminateAndExit(p: Pid, d: GenServerData, reason: Term, beforeExit: (() => void) | undefined, last: Term): Blocking<never> {
  const v = d.mod.current;
  const cbs = v.callbacks;
  let exitReason = reason;
  if (cbs.terminate) {
    d.runningCode = v;
    try {
      yield* run(cbs.terminate.call(cbs, reason, d.state));
    } catch (err) {
      exitReason = reasonFromThrow(err);
    }
    d.runningCode = null;
  }
  logGenServerTerminate(p, exitReason, last, d.state);
  beforeExit?.();
  throw new ExitSignal(exitReason);
}

/** `gen_server:reply/2`: dropped if the caller stopped waiting (timed out or died), R19. */
export function reply(from: From, value: Term): "ok" {
  const [caller, tag] = from;
  if (tag.alias && caller.alive) caller.rt.deliver(caller, [tag, value]);
  return "ok";
}

// ------------------------------------------------------------------ sys messages (sys.erl)

function* handleSystem(p: Pid, d: GenServerData, msg: Term[]): Blocking<void> {
  const from = msg[1] as From;
  const req = msg[2];
  const op = Array.isArray(req) ? req[0] : req;
  switch (op) {
    case "get_state":
      reply(from, d.state);
      return;
    case "replace_state": {
      try {
        d.state = (req as [string, (s: Term) => Term])[1](d.state);
        reply(from, d.state);
      } catch (err) {
        reply(from, ["error", reasonFromThrow(err)]);
      }
      return;
    }
    case "suspend":
      d.suspended = true;
      reply(from, "ok");
      return;
    case "resume": {
      d.suspended = false;
      const deferred = d.deferred;
      d.deferred = null;
      reply(from, "ok");
      if (deferred && deferred.length > 0) {
        // Messages that arrived while suspended are handled first, in arrival order.
        const rest = p.mailbox ? p.mailbox.toArray() : [];
        p.mailbox?.clear();
        for (const m of [...deferred, ...rest]) p.rt.deliver(p, m);
      }
      return;
    }
    case "change_code": {
      // R28: only while suspended; otherwise the request is unknown to a running server.
      if (!d.suspended) {
        reply(from, ["error", ["unknown_system_msg", req]]);
        return;
      }
      const [, , oldVsn, extra] = req as [string, unknown, Term, Term];
      const v = d.mod.current;
      const cbs = v.callbacks;
      let res: Term;
      d.runningCode = v;
      try {
        res = cbs.codeChange ? yield* run(cbs.codeChange.call(cbs, oldVsn, d.state, extra)) : ["ok", d.state];
      } catch (err) {
        res = caught(err);
      }
      d.runningCode = null;
      const fromVersion = d.version;
      const ok = Array.isArray(res) && res[0] === "ok" && res.length === 2;
      if (ok) {
        d.state = (res as Term[])[1];
        d.version = v.version;
        reply(from, "ok");
      } else {
        reply(from, ["error", res]); // sys: `{error, Else}` of whatever `catch Mod:code_change(...)` gave
      }
      p.rt.emit({ type: "code_change", t: p.rt.now(), pid: p.label, module: d.mod.name, from: fromVersion, to: v.version, ok });
      return;
    }
    case "terminate": {
      const reason = (req as [string, Term])[1];
      return yield* terminateAndExit(p, d, reason, () => reply(from, "ok"), list()); // OTP's last message: []
    }
    case "get_status":
      reply(from, status(p, d));
      return;
    case "trace": {
      const [, on, opts] = req as [string, boolean, TraceOptions];
      d.trace = on ? new TraceSink(serverName(p, d), opts ?? {}) : undefined;
      reply(from, "ok");
      return;
    }
    default:
      reply(from, ["error", ["unknown_system_msg", req]]);
  }
}

/**
 * What Erlang's `catch Expr` gives for an exception: `{'EXIT', {Reason, Stack}}` for an error (a JS Error, a
 * `Crash`), `{'EXIT', Reason}` for an exit, the value itself for a throw. sys.erl wraps a failing code_change
 * this way, so `sys:change_code` returns `{error, {'EXIT', {Reason, Stack}}}` for a callback that raised.
 */
function caught(err: unknown): Term {
  if (err instanceof ExitSignal) return ["EXIT", err.reason];
  if (err instanceof Error) return ["EXIT", reasonFromThrow(err)];
  return err;
}

/** What gen_server calls a server (gen's `get_proc_name`): its local name, the name inside its via name, or its pid. */
function serverName(p: Pid, d: GenServerData): Term {
  return p.name ?? d.viaName ?? p;
}

/**
 * `sys:get_status/1` of a gen_server, in OTP 25's shape: `{status, Pid, {module, gen_server}, [PDict, SysState,
 * Parent, Debug, [{header, H}, {data, [{"Status", S}, {"Parent", P}, {"Logged events", []}]}, {data, [{"State",
 * State}]}]]}`. Erlang's charlists (`'Status'`) are JS strings here, and the process dictionary holds only the
 * `$initial_call` and `$ancestors` proc_lib puts there.
 */
function status(p: Pid, d: GenServerData): Term {
  const sysState = d.suspended ? "suspended" : "running";
  const name = serverName(p, d);
  // gen:format_status_header/2: a pid or an atom joins the text, any other name (a via name) makes a pair.
  const header = name instanceof Pid ? `Status for generic server ${name.toString().replace(/^#PID/, "")}` : typeof name === "string" ? `Status for generic server ${name}` : ["Status for generic server", name];
  return [
    "status",
    p,
    ["module", "gen_server"],
    list<Term>(
      list<Term>(["$initial_call", [d.mod.name, "init", 1]], ["$ancestors", list(d.starter ?? d.parent)]),
      sysState,
      d.parent,
      d.trace ? list<Term>(["trace", true]) : list(),
      list<Term>(
        ["header", header],
        ["data", list<Term>(["Status", sysState], ["Parent", d.parent], ["Logged events", list()])],
        ["data", list<Term>(["State", d.state])],
      ),
    ),
  ];
}

// ------------------------------------------------------------------ client side

/**
 * The caller-side half of proc_lib's synchronous start (R15, R16) of a GenServer-based process: spawns it
 * running `genInit` and waits for its acknowledgement. Positional parameters and no callbacks: an options
 * object and the init and ack closures it used to take were allocated on every start and restart.
 */
export function* startProcess(
  rt: Runtime,
  mod: Module<GenServerCallbacks>,
  arg: Term,
  link: boolean,
  name: Name | undefined,
  timeout: number | undefined,
  behaviourName: string,
  kind: string | undefined,
): Blocking<StartResult> {
  const caller = rt.self();
  const parent = caller.driver ? rt.shell : caller;
  if (name) {
    const existing = rt.resolve(name);
    if (existing) return ["error", ["already_started", existing]];
  }
  const tag = new Ref();
  const child = rt.spawnProcess({ link: link ? parent : null, parent, behaviourName, module: mod.name, version: mod.current.version });
  // The body needs the child's pid, so it is given after the spawn. Not a `(function* () {...})()` wrapper:
  // V8 gives every new generator-function closure its own prototype object and hidden class, which made
  // each start pay for a fresh map (and made the scheduler's generator calls megamorphic).
  // gen.erl: a process started without a link is its own parent (`start(..., nolink, ...)` passes `self`), so an
  // EXIT from its starter is an ordinary message to it, not the parent's exit that stops it (R23).
  rt.startBody(child, genInit(rt, mod, arg, child, link ? parent : child, caller, tag, kind, name !== undefined && typeof name !== "string" ? name : undefined));
  if (typeof name === "string") {
    try {
      rt.register(name, child);
    } catch {
      /* lost a race with another start: init will run unregistered */
    }
  } else if (name) {
    registerVia(rt, name, child); // "no" only when another start won a race: init runs unregistered
  }
  const self = caller;
  const started = child;
  const m = yield {
    match: (msg: Term) =>
      Array.isArray(msg) && ((msg[0] === "$ack" && msg[1] === tag) || (msg[0] === "EXIT" && msg[1] === started && self.trapExit)),
    timeout: timeout ?? Infinity,
  };
  if (m === TIMEOUT) {
    rt.unlink(caller, started);
    rt.signal(started, null, "kill", "exit");
    return ["error", "timeout"];
  }
  const msg = m as Term[];
  if (msg[0] === "EXIT") return ["error", msg[2]];
  return msg[2] as StartResult;
}

function* genInit(
  rt: Runtime,
  mod: Module<GenServerCallbacks>,
  arg: Term,
  self: Pid,
  parent: Pid,
  starter: Pid,
  tag: Ref,
  kind: string | undefined,
  via: ViaName | GlobalName | undefined,
): Blocking<void> {
  /** proc_lib:init_ack: the result goes to the process waiting in `startProcess`. */
  const ack = (result: Term): void => rt.deliver(starter, ["$ack", tag, result]);
  const v: ModuleVersion<GenServerCallbacks> = mod.current;
  const d: GenServerData = { mod, state: undefined, parent, version: v.version, timer: null, suspended: false, deferred: null, runningCode: v };
  if (kind) d.kind = kind;
  if (parent === self) d.starter = starter.driver ? rt.shell : starter;
  if (via) d.viaName = via[0] === "global" ? via[1] : via[2];
  self.data = d;
  let result: Term;
  try {
    const r = v.callbacks.init.call(v.callbacks, arg);
    result = isGen(r) ? yield* r : r; // not `run(...)`: one generator less per start
  } catch (err) {
    const reason = reasonFromThrow(err);
    ack(["error", reason]);
    throw new ExitSignal(reason);
  }
  d.runningCode = null;
  if (Array.isArray(result) && result[0] === "ok" && (result.length === 2 || result.length === 3)) {
    d.state = result[1];
    self.behaviour = genServerBehaviour;
    ack(["ok", self]);
    const next = isContinue(result[2]) ? yield* continueWith(self, d, result[2]) : plainExtra(rt, self, d, result[2]);
    if (next !== undefined) yield* handleResult(rt, self, d, next, null, isContinue(result[2]) ? result[2] : NO_MESSAGE);
    return;
  }
  if (result === "ignore") {
    ack("ignore");
    throw new ExitSignal("normal");
  }
  if (Array.isArray(result) && result[0] === "stop" && result.length === 2) {
    ack(["error", result[1]]);
    throw new ExitSignal(result[1]);
  }
  const bad = ["bad_return_value", result];
  ack(["error", bad]);
  throw new ExitSignal(bad);
}

function callTerm(server: Term, request: Term, timeout: number): Term {
  return ["Elixir.GenServer", "call", list(server, request, timeout === Infinity ? "infinity" : timeout)];
}

/** The blocking half of a call, shared by `GenServer.call` and sys requests. */
export function* doCall(rt: Runtime, server: Dest, tagName: string, request: Term, timeout: number, failure: (reason: Term) => Term): Blocking<Term> {
  const self = rt.self();
  const target = rt.resolve(server);
  if (!target || target.dead) throw new ExitSignal(failure("noproc")); // R18
  if (target === self) throw new ExitSignal(failure("calling_self"));
  const ref = rt.monitor(self, target);
  ref.alias = true; // replies to this call are accepted until it ends (R19)
  rt.send(target, [tagName, [self, ref], request]);
  const m = yield {
    match: (msg: Term) => Array.isArray(msg) && (msg[0] === ref || (msg[0] === "DOWN" && msg[1] === ref)),
    timeout,
  };
  ref.alias = false;
  if (m === TIMEOUT) {
    rt.demonitor(self, ref, true);
    throw new ExitSignal(failure("timeout"));
  }
  const msg = m as Term[];
  if (msg[0] === "DOWN") throw new ExitSignal(failure(msg[4]));
  rt.demonitor(self, ref, true);
  return msg[1];
}

function rtFor(target: Dest | Module | GenServerCallbacks | undefined): Runtime {
  if (target instanceof Pid) return target.rt;
  if (target instanceof Module) return target.rt;
  return activeOrDefault();
}

/** The GenServer API, named as in Elixir. */
export const GenServer = {
  /**
   * Starts a server linked to the caller (outside a process: to the runtime's shell). Resolves to
   * `["ok", pid]`, `"ignore"` or `["error", reason]`.
   * @example const [, counter] = await GenServer.startLink(Counter, 0)
   */
  startLink(mod: Module<GenServerCallbacks> | GenServerCallbacks, arg?: Term, opts: StartOptions = {}): Op<StartResult> {
    return start(mod, arg, opts, true);
  },

  /** Like `startLink` without the link. */
  start(mod: Module<GenServerCallbacks> | GenServerCallbacks, arg?: Term, opts: StartOptions = {}): Op<StartResult> {
    return start(mod, arg, opts, false);
  },

  /**
   * Synchronous request; the caller exits with `{Reason, {GenServer, :call, [server, req, timeout]}}` on
   * timeout, `noproc`, or the server's death (R18).
   */
  call(server: Dest, request: Term, timeout = 5000): Op<any> {
    return new CallOp(rtFor(server), server, request, timeout);
  },

  /** Asynchronous request; always "ok", even for a dead or unknown server (R27). */
  cast(server: Dest, msg: Term): "ok" {
    const rt = rtFor(server);
    const p = rt.resolve(server);
    if (p && p.alive) rt.send(p, ["$gen_cast", msg]);
    return "ok";
  },

  reply,

  /** `GenServer.stop/3`: terminate/2 runs even if the server does not trap exits; resolves to "ok" (R26). */
  stop(server: Dest, reason: Term = "normal", timeout = Infinity): Op<"ok"> {
    const rt = rtFor(server);
    return new Op(rt, () => genServerStop(rt, server, reason, timeout), "GenServer.stop", reason === "normal" ? [server] : [server, reason]);
  },

  /** The pid of a name (local, via or global), or undefined (Elixir: nil); a pid is returned as it is, as Elixir does. */
  whereis(name: Dest): Pid | undefined {
    if (name instanceof Pid) return name;
    return rtFor(name).resolve(name);
  },
};

function start(mod: Module<GenServerCallbacks> | GenServerCallbacks, arg: Term, opts: StartOptions, link: boolean): Op<StartResult> {
  const rt = rtFor(mod);
  if (!(mod instanceof Module) && (typeof mod !== "object" || mod === null || typeof (mod as GenServerCallbacks).init !== "function")) {
    throw new TypeError("GenServer.start expects a module from defmodule(name, callbacks) or an object with an init(arg) callback.");
  }
  const m = toModule(rt, mod);
  return new Op(
    rt,
    () => startProcess(rt, m, arg, link, opts.name, opts.timeout, "gen_server", undefined),
    link ? "GenServer.startLink" : "GenServer.start",
    arg === undefined ? [mod] : [mod, arg],
  );
}

/** Starts a GenServer-based behaviour (supervisor, agent, ...) from inside the runtime's own modules. */
export function startBehaviour(
  rt: Runtime,
  m: Module<GenServerCallbacks>,
  arg: Term,
  opts: StartOptions & { link: boolean; behaviourName: string; kind?: string },
): Blocking<StartResult> {
  return startProcess(rt, m, arg, opts.link, opts.name, opts.timeout, opts.behaviourName, opts.kind ?? opts.behaviourName);
}

/** Elixir's GenServer.stop/3 wraps every exit of :proc_lib.stop as `{reason, {GenServer, :stop, [server, reason, timeout]}}`. */
function* genServerStop(rt: Runtime, server: Dest, reason: Term, timeout: number): Blocking<"ok"> {
  try {
    return yield* sysStop(rt, server, reason, timeout);
  } catch (e) {
    if (!(e instanceof ExitSignal)) throw e;
    throw new ExitSignal([e.reason, ["Elixir.GenServer", "stop", list<Term>(server, reason, timeout === Infinity ? "infinity" : timeout)]]);
  }
}

function* sysStop(rt: Runtime, server: Dest, reason: Term, timeout: number): Blocking<"ok"> {
  const self = rt.self();
  const target = rt.resolve(server);
  if (!target || target.dead) throw new ExitSignal("noproc");
  const ref = rt.monitor(self, target);
  rt.send(target, ["$system", [self, new Ref()], ["terminate", reason]]);
  const m = yield { match: (msg: Term) => Array.isArray(msg) && msg[0] === "DOWN" && msg[1] === ref, timeout };
  if (m === TIMEOUT) {
    rt.demonitor(self, ref, true);
    throw new ExitSignal("timeout");
  }
  const r = (m as Term[])[4];
  if (r !== reason && !(reason === "normal" && r === "normal")) {
    // proc_lib:stop exits with the actual reason when it differs (e.g. terminate raised).
    if (r === "noproc") throw new ExitSignal("noproc");
  }
  return "ok";
}

/**
 * `GenServer.call(server, request, timeout)`, the hottest Op: its arguments are fields, so a call allocates no
 * closure (and no array to print them with).
 */
class CallOp extends Op<any> {
  constructor(
    rt: Runtime,
    private readonly server: Dest,
    private readonly request: Term,
    private readonly timeout: number,
  ) {
    super(rt, null, "GenServer.call");
  }

  protected override start(): Blocking<any> {
    const { server, request, timeout } = this;
    return doCall(this.rt, server, "$gen_call", request, timeout, (r) => [r, callTerm(server, request, timeout)]);
  }

  protected override shownArgs(): readonly unknown[] {
    return this.timeout === 5000 ? [this.server, this.request] : [this.server, this.request, this.timeout];
  }
}

/** sys module: introspection and code change of GenServer-based processes. */
export const sys = {
  /** `:sys.get_state/1`. */
  getState(server: Dest, timeout = 5000): Op<any> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", "get_state", timeout, (r) => [r, ["sys", "get_state", list<Term>(server, timeout)]]), "sys.getState", [server]);
  },
  replaceState(server: Dest, fn: (s: any) => any, timeout = 5000): Op<any> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", ["replace_state", fn], timeout, (r) => [r, ["sys", "replace_state", list<Term>(server, timeout)]]), "sys.replaceState", [server, fn]);
  },
  suspend(server: Dest, timeout = 5000): Op<"ok"> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", "suspend", timeout, (r) => [r, ["sys", "suspend", list(server)]]) as Blocking<"ok">, "sys.suspend", [server]);
  },
  resume(server: Dest, timeout = 5000): Op<"ok"> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", "resume", timeout, (r) => [r, ["sys", "resume", list(server)]]) as Blocking<"ok">, "sys.resume", [server]);
  },
  /** `:sys.change_code/4`: the server must be suspended (R28). */
  changeCode(server: Dest, mod: Module | string, oldVsn: Term, extra: Term = [], timeout = 5000): Op<Term> {
    const rt = rtFor(server);
    const name = typeof mod === "string" ? mod : mod.name;
    return new Op(rt, () => doCall(rt, server, "$system", ["change_code", name, oldVsn, extra], timeout, (r) => [r, ["sys", "change_code", list(server)]]), "sys.changeCode", [server, mod, oldVsn]);
  },
  terminate(server: Dest, reason: Term, timeout = Infinity): Op<"ok"> {
    const rt = rtFor(server);
    return new Op(rt, () => sysStop(rt, server, reason, timeout), "sys.terminate", [server, reason]);
  },
  /**
   * `:sys.get_status/1`: `["status", pid, ["module", "gen_server"], [pdict, "running" | "suspended", parent,
   * debug, [["header", ...], ["data", [["Status", ...], ["Parent", ...], ["Logged events", []]]], ["data",
   * [["State", state]]]]]]`, OTP 25's shape.
   */
  getStatus(server: Dest, timeout = 5000): Op<Term> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", "get_status", timeout, (r) => [r, ["sys", "get_status", list<Term>(server, timeout)]]), "sys.getStatus", [server]);
  },
  /**
   * `:sys.trace(server, flag)`: while on, the server prints each message it gets and each reply or new state,
   * as OTP does: `*DBG* counter got call get from <0.96.0>`, `*DBG* counter sent 0 to <0.96.0>, new state 0`.
   * `opts.style: "elixir"` prints terms as Elixir does; `opts.print` receives the lines (default console.log).
   */
  trace(server: Dest, flag: boolean, opts: TraceOptions = {}, timeout = 5000): Op<"ok"> {
    const rt = rtFor(server);
    return new Op(rt, () => doCall(rt, server, "$system", ["trace", flag, opts], timeout, (r) => [r, ["sys", "trace", list<Term>(server, flag)]]) as Blocking<"ok">, "sys.trace", [server, flag]);
  },
};

/** Looks up a registered module of the default runtime (for `sys.changeCode` by name). */
export function moduleNamed(name: string, rt: Runtime = getRuntime()): Module | undefined {
  return codeTable(rt).get(name);
}
