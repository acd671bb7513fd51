/**
 * Supervisor (`supervisor.erl`), rules R31–R71 of otp-semantics.md. Like OTP's, it is built on GenServer.
 *
 * Contract — a supervisor module has one callback:
 *   init(arg) → ["ok", [flags, childSpecs]] | "ignore"
 * Or use the Elixir-style list form: `Supervisor.startLink([childSpec, Module, [Module, arg]], { strategy })`.
 *
 * Defaults: the module form follows OTP (intensity 1, period 5); the list form follows Elixir's
 * `Supervisor.init/2` (max_restarts 3, max_seconds 5). Child defaults are in child_spec.ts.
 *
 * Results are OTP's closed set (R68–R71): `["ok", pid]`, `["ok", pid, info]`, `["ok", null]` (ignore),
 * `["error", "already_present" | ["already_started", pid] | "running" | "restarting" | "not_found" | ...]`.
 * `which_children` entries are `{ id, child, type, modules }` with child a pid, "restarting" or "undefined".
 */

import type { Dest } from "./via.js";
import { Pid, type Blocking } from "./process.js";
import type { Runtime } from "./runtime.js";
import { activeOrDefault } from "./default.js";
import { Op } from "./op.js";
import { Module } from "./code.js";
import { GenServer, startBehaviour, doCall, type GenServerCallbacks, type StartResult, type StartOptions } from "./gen_server.js";
import { ExitSignal, formatTerm, isCleanExit, list, termEquals, type Term } from "./terms.js";
import {
  checkChildSpec,
  checkFlags,
  childToSpec,
  modulesOf,
  normalizeSpec,
  ChildRecord,
  Restarting,
  DEFAULT_FLAGS,
  type CheckedFlags,
  type Child,
  type ChildSpec,
  type StartFn,
  type SupFlags,
} from "./child_spec.js";
import { addRestart, report, reportStarted, recordRestart, shutdownChild, startChildI, type StartOutcome } from "./supervisor_common.js";
import { START_CALL } from "./logger.js";

export interface SupState extends CheckedFlags {
  self: Pid;
  mod: Module;
  args: Term;
  /** Children newest first (reverse start order), as OTP keeps them (R48). */
  children: Child[];
  /** Restart times in whole seconds, newest first (R43). */
  restarts: number[];
  /** Time (ms) and child of the restart that exceeded the intensity, for charts. */
  gaveUp?: { t: number; id: Term };
  /** Reactions so far (one per restart counted toward the intensity), numbering restart events. */
  reactions?: number;
}

export interface ChildInfo {
  id: Term;
  child: Pid | "restarting" | "undefined";
  type: "worker" | "supervisor";
  modules: Term[] | "dynamic";
}

export interface ChildCounts {
  specs: number;
  active: number;
  supervisors: number;
  workers: number;
}

type Outcome = ["ok", SupState] | ["shutdown", SupState];

function isOutcome(r: Outcome | Blocking<Outcome>): r is Outcome {
  return Array.isArray(r);
}

// ------------------------------------------------------------------ starting and stopping children

/**
 * `start_children/2`: in start order; on failure report start_error and stop (R36, R37). `restarting`: the
 * children are restarted (a one_for_all or rest_for_one reaction), for the Logger's progress reports.
 */
function* startChildren(rt: Runtime, st: SupState, inStartOrder: Child[], restarting = false): Blocking<{ failed?: { id: Term; reason: Term } }> {
  for (const c of inStartOrder) {
    const r = yield* doStartChild(st, c);
    if (r[0] === "ok") {
      if (r[1] === null && c.restart === "temporary") removeChild(st, c);
      else c.pid = r[1];
      if (r[1] instanceof Pid) reportStarted(rt, st.self, c.id, r[1], c, restarting, st.mod.name);
    } else {
      report(rt, st.self, "start_error", r[1], c.pid, c.id, c, st.mod.name);
      return { failed: { id: c.id, reason: r[1] } };
    }
  }
  return {};
}

/** `do_start_child/2`: runs the child's start function, marking the started process as this supervisor's. */
function doStartChild(st: SupState, c: Child): Blocking<StartOutcome> {
  return startChildI(c.start, NO_EXTRA, st.self, c.id);
}
const NO_EXTRA: Term[] = [];

/**
 * Which supervisor and child id a process belongs to. Kept on the Pid: a WeakMap entry per child ever started
 * made every garbage collection walk an ephemeron table as large as that count.
 */
export const childMeta = {
  get: (p: Pid): { sup: Pid; id: Term } | undefined => p.supervisedBy ?? undefined,
  set: (p: Pid, meta: { sup: Pid; id: Term }): void => {
    p.supervisedBy = meta;
  },
};

/** `terminate_children/2`: newest first; temporary children are removed, the others kept with no pid. */
function* terminateChildren(rt: Runtime, st: SupState, newestFirst: Child[]): Blocking<void> {
  for (const c of newestFirst) {
    yield* doTerminate(rt, st, c);
    if (c.restart === "temporary") removeChild(st, c);
    else c.pid = null;
  }
}

function* doTerminate(rt: Runtime, st: SupState, c: Child): Blocking<void> {
  if (!(c.pid instanceof Pid)) return;
  const pid = c.pid;
  const r = yield* shutdownChild(rt, st.self, c, pid);
  if (r !== "ok") report(rt, st.self, "shutdown_error", r[1], pid, c.id, c, st.mod.name);
}

function removeChild(st: SupState, c: Child): void {
  const i = st.children.indexOf(c);
  if (i >= 0) st.children.splice(i, 1);
}

/** `del_child`: temporary children are forgotten, others keep their spec with no pid. */
function delChild(st: SupState, c: Child): void {
  if (c.restart === "temporary") removeChild(st, c);
  else c.pid = null;
}

function findChild(st: SupState, id: Term): Child | undefined {
  return st.children.find((c) => termEquals(c.id, id));
}

// ------------------------------------------------------------------ restarts (R39–R57)

/**
 * `restart_child/3`, the reaction to a child's exit: the outcome, or the restart to run when the child is
 * restarted. A plain function (not a generator), like `restart` below: these are the levels between the
 * supervisor's `handleInfo` and the child's start, and each generator level cost every restart a generator
 * object and a resume per step (bench row "restart latency").
 */
function restartChild(rt: Runtime, st: SupState, pid: Pid, reason: Term): Outcome | Blocking<Outcome> {
  const c = st.children.find((x) => x.pid === pid);
  if (!c) return ["ok", st]; // R38: not a current child
  c.lastExit = reason;
  if (c.restart === "permanent") {
    report(rt, st.self, "child_terminated", reason, pid, c.id, c, st.mod.name);
    return restart(rt, st, c);
  }
  if (isCleanExit(reason)) {
    delChild(st, c);
    return autoShutdown(st, c);
  }
  report(rt, st.self, "child_terminated", reason, pid, c.id, c, st.mod.name);
  if (c.restart === "transient") return restart(rt, st, c);
  delChild(st, c);
  return autoShutdown(st, c);
}

/** `do_auto_shutdown/2` (R55, R56). */
function autoShutdown(st: SupState, c: Child): Outcome {
  if (st.autoShutdown === "never" || !c.significant) return ["ok", st];
  if (st.autoShutdown === "any_significant") return ["shutdown", st];
  const anyLeft = st.children.some((x) => x.pid !== null && x.significant);
  return anyLeft ? ["ok", st] : ["shutdown", st];
}

/** `restart/3`: counts the restart toward the intensity (R43), then restarts by strategy. */
function restart(rt: Runtime, st: SupState, c: Child): Outcome | Blocking<Outcome> {
  if (!addRestart(st.restarts, rt.now(), st.intensity, st.period)) {
    report(rt, st.self, "shutdown", "reached_max_restart_intensity", c.pid, c.id, c, st.mod.name);
    st.gaveUp = { t: rt.now(), id: c.id };
    delChild(st, c);
    return ["shutdown", st];
  }
  return restartByStrategy(rt, st, c, (st.reactions = (st.reactions ?? 0) + 1));
}

/** A start failed during a restart: try again later, through a cast to itself (R52, R53). */
function tryAgain(rt: Runtime, st: SupState, id: Term, reaction: number): Outcome {
  recordRestart(rt, st.self, id, null, null, reaction);
  GenServer.cast(st.self, ["try_again_restart", id]);
  return ["ok", st];
}

/**
 * Restarts per strategy (R49–R53). one_for_one has a generator function of its own: a generator's frame holds
 * every local of its function, and the group strategies' locals made each one_for_one restart's frame larger.
 */
function restartByStrategy(rt: Runtime, st: SupState, c: Child, reaction: number): Blocking<Outcome> {
  return st.strategy === "one_for_one" ? restartOne(rt, st, c, reaction) : restartGroup(rt, st, c, reaction);
}

/** one_for_one (R49): the child alone. */
function* restartOne(rt: Runtime, st: SupState, c: Child, reaction: number): Blocking<Outcome> {
  const oldPid = c.pid;
  const r = yield* doStartChild(st, c);
  if (r[0] === "ok") {
    c.pid = r[1];
    c.restarts++;
    recordRestart(rt, st.self, c.id, oldPid, r[1], reaction);
    if (r[1] instanceof Pid) reportStarted(rt, st.self, c.id, r[1], c, true, st.mod.name);
    return ["ok", st];
  }
  c.pid = oldPid instanceof Restarting ? oldPid : new Restarting(oldPid);
  report(rt, st.self, "start_error", r[1], oldPid, c.id, c, st.mod.name);
  return tryAgain(rt, st, c.id, reaction);
}

/** one_for_all: every child; rest_for_one: the crashed child and those started after it (R50, R51). */
function* restartGroup(rt: Runtime, st: SupState, c: Child, reaction: number): Blocking<Outcome> {
  const oldPid = c.pid;
  let group: Child[];
  if (st.strategy === "one_for_all") {
    if (c.restart === "temporary") removeChild(st, c);
    else c.pid = null;
    group = st.children.slice();
  } else {
    const i = st.children.indexOf(c);
    group = st.children.slice(0, i + 1);
    c.pid = null;
  }
  const oldPids = new Map(group.map((x) => [x, x.pid] as const));
  oldPids.set(c, oldPid);
  yield* terminateChildren(rt, st, group);
  const survivors = group.filter((x) => st.children.includes(x));
  const res = yield* startChildren(rt, st, survivors.slice().reverse(), true);
  for (const x of survivors.slice().reverse()) {
    if (x.pid instanceof Pid) {
      x.restarts++;
      const before = oldPids.get(x);
      recordRestart(rt, st.self, x.id, before, x.pid, reaction);
    }
  }
  if (!res.failed) return ["ok", st];
  const failed = findChild(st, res.failed.id)!;
  failed.pid = termEquals(res.failed.id, c.id) ? (oldPid instanceof Restarting ? oldPid : new Restarting(oldPid as Pid | null)) : new Restarting(null);
  return tryAgain(rt, st, res.failed.id, reaction);
}

// ------------------------------------------------------------------ the supervisor's GenServer callbacks

interface InitArg {
  mod: Module;
  args: Term;
  defaults: CheckedFlags;
}

/** The supervisor's callbacks, bound to one runtime. */
function supervisorCallbacks(rt: Runtime): GenServerCallbacks<SupState> {
  return {
  *init({ mod, args, defaults }: InitArg): Blocking<Term> {
    const self = rt.self();
    self.trapExit = true; // R35
    const initFn = (mod.current.callbacks as { init?: (a: Term) => Term }).init;
    let r: Term = typeof initFn === "function" ? initFn.call(mod.current.callbacks, args) : undefined;
    if (r instanceof Op || isGen(r)) r = yield* r as Blocking<Term>;
    if (r === "ignore") return "ignore";
    if (!(Array.isArray(r) && r[0] === "ok" && Array.isArray(r[1]) && r[1].length === 2)) return ["stop", ["bad_return", [mod.name, "init", r]]];
    const [flags, specs] = r[1] as [SupFlags, unknown[]];
    const f = checkFlags(flags, defaults);
    if ("error" in f) return ["stop", ["supervisor_data", f.error]];
    if (!Array.isArray(specs)) return ["stop", ["start_spec", ["invalid_child_spec", specs]]];
    const children: Child[] = [];
    for (const raw of specs) {
      const c = checkChildSpec(normalizeSpec(raw, startOfModule), f.autoShutdown);
      if ("error" in c) return ["stop", ["start_spec", c.error]];
      if (children.some((x) => termEquals(x.id, c.id))) return ["stop", ["start_spec", ["duplicate_child_name", c.id]]];
      children.push(c);
    }
    const st: SupState = { ...f, self, mod, args, children: children.slice().reverse(), restarts: [] };
    const res = yield* startChildren(rt, st, children);
    if (res.failed) {
      yield* terminateChildren(rt, st, st.children.slice());
      return ["stop", ["shutdown", ["failed_to_start_child", res.failed.id, res.failed.reason]]];
    }
    return ["ok", st];
  },

  *handleCall(req: Term, _from, st: SupState): Blocking<Term> {
    const [op, arg] = Array.isArray(req) ? req : [req, undefined];
    switch (op) {
      case "start_child": {
        const c = checkChildSpec(normalizeSpec(arg, startOfModule), st.autoShutdown);
        if ("error" in c) return ["reply", ["error", c.error], st];
        const existing = findChild(st, c.id);
        if (existing) {
          if (existing.pid instanceof Pid) return ["reply", ["error", ["already_started", existing.pid]], st];
          return ["reply", ["error", "already_present"], st];
        }
        const r = yield* doStartChild(st, c);
        if (r[0] === "ok") {
          if (r[1] === null && c.restart === "temporary") return ["reply", ["ok", null], st];
          c.pid = r[1];
          st.children.unshift(c);
          if (r[1] instanceof Pid) reportStarted(rt, st.self, c.id, r[1], c, false, st.mod.name);
          return ["reply", r, st];
        }
        const what = r[1];
        if (Array.isArray(what) && what[0] === "already_started") return ["reply", ["error", what], st];
        return ["reply", ["error", [what, new ChildRecord(c)]], st]; // R68: OTP 25 wraps the raw record
      }
      case "terminate_child": {
        // R69: a non-simple supervisor finds children by id only, so a pid is never found.
        const c = arg instanceof Pid ? undefined : findChild(st, arg);
        if (!c) return ["reply", ["error", "not_found"], st];
        yield* doTerminate(rt, st, c);
        delChild(st, c);
        return ["reply", "ok", st];
      }
      case "restart_child": {
        const c = findChild(st, arg);
        if (!c) return ["reply", ["error", "not_found"], st];
        if (c.pid instanceof Restarting) return ["reply", ["error", "restarting"], st];
        if (c.pid !== null) return ["reply", ["error", "running"], st];
        const r = yield* doStartChild(st, c);
        if (r[0] === "ok") {
          c.pid = r[1];
          if (r[1] instanceof Pid) reportStarted(rt, st.self, c.id, r[1], c, false, st.mod.name);
          return ["reply", r, st];
        }
        return ["reply", r, st]; // R70: the raw start error, not counted, not retried
      }
      case "delete_child": {
        const c = findChild(st, arg);
        if (!c) return ["reply", ["error", "not_found"], st];
        if (c.pid instanceof Restarting) return ["reply", ["error", "restarting"], st];
        if (c.pid !== null) return ["reply", ["error", "running"], st];
        removeChild(st, c);
        return ["reply", "ok", st];
      }
      case "get_childspec": {
        const c = arg instanceof Pid ? undefined : findChild(st, arg);
        return ["reply", c ? ["ok", childToSpec(c)] : ["error", "not_found"], st];
      }
      case "which_children":
        return ["reply", st.children.map(childInfo), st];
      case "count_children":
        return ["reply", countChildren(st), st];
      default:
        return ["reply", ["error", ["unknown_call", req]], st];
    }
  },

  *handleCast(msg: Term, st: SupState): Blocking<Term> {
    if (Array.isArray(msg) && msg[0] === "try_again_restart") {
      const c = findChild(st, msg[1]);
      if (c && c.pid instanceof Restarting) {
        const r0 = restart(rt, st, c);
        const r = isOutcome(r0) ? r0 : yield* r0;
        return r[0] === "ok" ? ["noreply", st] : ["stop", "shutdown", st];
      }
    }
    return ["noreply", st];
  },

  *handleInfo(msg: Term, st: SupState): Blocking<Term> {
    if (Array.isArray(msg) && msg[0] === "EXIT" && msg[1] instanceof Pid) {
      const r0 = restartChild(rt, st, msg[1], msg[2]);
      const r = isOutcome(r0) ? r0 : yield* r0;
      return r[0] === "ok" ? ["noreply", st] : ["stop", "shutdown", st];
    }
    return ["noreply", st]; // OTP logs "Supervisor received unexpected message" and carries on
  },

  *terminate(_reason: Term, st: SupState): Blocking<void> {
    yield* terminateChildren(rt, st, st.children.slice());
  },

  /**
   * `sys:change_code` on a supervisor re-reads its module's init/1 (now the current code): new flags, updated
   * specs for known ids (pids kept), new ids added unstarted, removed ids kept. Errors come back as
   * `{error, E}` (so sys answers `{error, {error, E}}`).
   */
  *codeChange(_old: Term, st: SupState): Blocking<Term> {
    const initFn = (st.mod.current.callbacks as { init?: (a: Term) => Term }).init;
    let r: Term = typeof initFn === "function" ? initFn.call(st.mod.current.callbacks, st.args) : undefined;
    if (r instanceof Op || isGen(r)) r = yield* r as Blocking<Term>;
    if (r === "ignore") return ["ok", st];
    if (!(Array.isArray(r) && r[0] === "ok" && Array.isArray(r[1]) && r[1].length === 2)) return r;
    const [flags, specs] = r[1] as [SupFlags, unknown[]];
    const f = checkFlags(flags, DEFAULT_FLAGS);
    if ("error" in f) return ["error", f.error];
    const fresh: Child[] = [];
    for (const raw of Array.isArray(specs) ? specs : []) {
      const c = checkChildSpec(normalizeSpec(raw, startOfModule), f.autoShutdown);
      if ("error" in c) return ["error", c.error];
      if (fresh.some((x) => termEquals(x.id, c.id))) return ["error", ["duplicate_child_name", c.id]];
      fresh.push(c);
    }
    const keptOld: Child[] = [];
    for (const old of st.children) {
      const n = fresh.find((c) => termEquals(c.id, old.id));
      if (n) {
        n.pid = old.pid;
        n.restarts = old.restarts;
      } else keptOld.push(old);
    }
    Object.assign(st, f);
    st.children = [...keptOld, ...fresh.slice().reverse()];
    return ["ok", st];
  },
  };
}

function isGen(x: unknown): x is Blocking<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function" && typeof (x as Generator).throw === "function";
}


function childInfo(c: Child): ChildInfo {
  return {
    id: c.id,
    child: c.pid instanceof Pid ? c.pid : c.pid instanceof Restarting ? "restarting" : "undefined",
    type: c.type,
    modules: modulesOf(c.modules, c.pid),
  };
}

function countChildren(st: SupState): ChildCounts {
  const n: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
  for (const c of st.children) {
    n.specs++;
    if (c.pid instanceof Pid && c.pid.alive) n.active++;
    if (c.type === "supervisor") n.supervisors++;
    else n.workers++;
  }
  return n;
}

/** Elixir's default child start for a GenServer module: `GenServer.startLink(module, arg)`. */
export function startOfModule(m: Module, arg: Term): StartFn {
  const start = () => GenServer.startLink(m as Module<GenServerCallbacks>, arg);
  // Its `Start Call` in reports, written when a report needs it.
  (start as unknown as Record<symbol, unknown>)[START_CALL] = () => `GenServer.startLink(${m.name}${arg === undefined ? "" : `, ${formatTerm(arg)}`})`;
  return start;
}

const supModules = new WeakMap<Runtime, Module<GenServerCallbacks>>();

function supervisorModule(rt: Runtime): Module<GenServerCallbacks> {
  let m = supModules.get(rt);
  if (!m) supModules.set(rt, (m = new Module<GenServerCallbacks>(rt, "supervisor", supervisorCallbacks(rt))));
  return m;
}

// ------------------------------------------------------------------ API

export interface SupervisorOptions extends SupFlags, StartOptions {}

type Sup = Dest;

function rtOf(sup: Sup): Runtime {
  return sup instanceof Pid ? sup.rt : activeOrDefault();
}

function supCall(sup: Sup, req: Term, what: string): Op<any> {
  const rt = rtOf(sup);
  // Named as a cell calls it (`Supervisor.whichChildren(sup)`), not as OTP's call term does (`which_children`).
  const name = what.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return new Op(rt, () => doCall(rt, sup, "$gen_call", req, Infinity, (r) => [r, ["supervisor", what, list(sup, req)]]), `Supervisor.${name}`, Array.isArray(req) ? [sup, ...req.slice(1)] : [sup]);
}

/** Starts a supervisor process for a module whose `init(arg)` returns `["ok", [flags, specs]]`. */
function startSupervisor(rt: Runtime, mod: Module, arg: Term, defaults: CheckedFlags, opts: StartOptions, link: boolean): Op<StartResult> {
  return new Op(rt, () => startBehaviour(rt, supervisorModule(rt), { mod, args: arg, defaults } satisfies InitArg, { ...opts, link, behaviourName: "supervisor" }), "Supervisor.startLink");
}

export const ELIXIR_DEFAULTS: CheckedFlags = { strategy: "one_for_one", intensity: 3, period: 5, autoShutdown: "never" };

export const Supervisor = {
  /**
   * Starts a supervisor linked to the caller.
   * - `Supervisor.startLink(children, { strategy: "one_for_all", intensity: 3, period: 5, name })` (Elixir style;
   *   defaults 3 restarts in 5 s);
   * - `Supervisor.startLink(Module, arg, { name })` where `Module.init(arg)` returns `["ok", [flags, children]]`
   *   (OTP style; defaults intensity 1, period 5).
   * @example const [, sup] = await Supervisor.startLink([{ id: "a", start: () => GenServer.startLink(Worker) }], { strategy: "one_for_one" })
   */
  startLink(childrenOrModule: unknown[] | Module, argOrOpts?: Term, opts?: StartOptions): Op<StartResult> {
    return startAny(childrenOrModule, argOrOpts, opts, true);
  },
  start(childrenOrModule: unknown[] | Module, argOrOpts?: Term, opts?: StartOptions): Op<StartResult> {
    return startAny(childrenOrModule, argOrOpts, opts, false);
  },
  startChild: (sup: Sup, spec: ChildSpec | Module | [Module, Term]): Op<Term> => supCall(sup, ["start_child", spec], "start_child"),
  terminateChild: (sup: Sup, id: Term): Op<Term> => supCall(sup, ["terminate_child", id], "terminate_child"),
  restartChild: (sup: Sup, id: Term): Op<Term> => supCall(sup, ["restart_child", id], "restart_child"),
  deleteChild: (sup: Sup, id: Term): Op<Term> => supCall(sup, ["delete_child", id], "delete_child"),
  getChildspec: (sup: Sup, id: Term): Op<Term> => supCall(sup, ["get_childspec", id], "get_childspec"),
  whichChildren: (sup: Sup): Op<ChildInfo[]> => supCall(sup, "which_children", "which_children"),
  countChildren: (sup: Sup): Op<ChildCounts> => supCall(sup, "count_children", "count_children"),
  /** Stops the supervisor as its parent would (`Supervisor.stop/2`): children are shut down in reverse order. */
  stop: (sup: Sup, reason: Term = "normal"): Op<"ok"> => GenServer.stop(sup, reason),
  /** Elixir's `Supervisor.init/2` for module callbacks: `init(arg) { return Supervisor.init(children, { strategy }) }`. */
  init(children: unknown[], flags: SupFlags = {}): Term {
    return ["ok", [{ ...ELIXIR_DEFAULTS, ...flags }, children]];
  },
};

function startAny(childrenOrModule: unknown[] | Module, argOrOpts: Term, opts: StartOptions | undefined, link: boolean): Op<StartResult> {
  if (childrenOrModule instanceof Module) {
    const rt = childrenOrModule.rt;
    return startSupervisor(rt, childrenOrModule, argOrOpts, DEFAULT_FLAGS, opts ?? {}, link);
  }
  if (!Array.isArray(childrenOrModule)) {
    throw new TypeError("Supervisor.startLink expects a list of child specs (with options) or a module from defmodule(name, { init }).");
  }
  const rt = activeOrDefault();
  const o = (argOrOpts ?? {}) as SupervisorOptions;
  const children = childrenOrModule;
  const mod = new Module(rt, o.name ? `Supervisor(${o.name})` : "Supervisor", {
    init: () => ["ok", [{ strategy: o.strategy, intensity: o.intensity, period: o.period, maxRestarts: o.maxRestarts, maxSeconds: o.maxSeconds, autoShutdown: o.autoShutdown }, children]],
  });
  return startSupervisor(rt, mod, undefined, ELIXIR_DEFAULTS, { name: o.name, timeout: o.timeout }, link);
}

/** The supervisor state of a live supervisor process (for snapshots); undefined for other processes. */
export function supervisorState(p: Pid): SupState | undefined {
  const d = p.data as { kind?: string; state?: SupState } | null;
  return d?.kind === "supervisor" ? d.state : undefined;
}

export { Restarting, ChildRecord, ExitSignal };
