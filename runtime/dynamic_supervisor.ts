/**
 * DynamicSupervisor (Elixir 1.14 `dynamic_supervisor.ex`), rules R72–R74 of otp-semantics.md.
 *
 * A GenServer (not `:supervisor`) whose children are keyed by pid; strategy one_for_one only; child ids are
 * ignored; `max_children` counts restarting children; a failed restart keeps the child as `{:restarting, child}`
 * under its old pid and retries with a plain `{:"$gen_restart", pid}` message (R73). On exit every child is
 * shut down concurrently, one timer per distinct shutdown value (R65).
 *
 * Defaults (Elixir's `DynamicSupervisor.init/1`): max_restarts 3, max_seconds 5, max_children infinity,
 * extra_arguments []. 1.14 quirk kept on purpose: `shutdown: 0` is rejected as `{:invalid_shutdown, 0}` (R74).
 */

import type { Dest } from "./via.js";
import { Pid, TIMEOUT, Ref, type Blocking } from "./process.js";
import type { Runtime } from "./runtime.js";
import { activeOrDefault } from "./default.js";
import { Op } from "./op.js";
import { Module } from "./code.js";
import { GenServer, startBehaviour, doCall, type GenServerCallbacks, type StartOptions, type StartResult } from "./gen_server.js";
import { isCleanExit, list, type Term } from "./terms.js";
import { defaultModules, modulesOf, normalizeSpec, type ChildType, type Shutdown, type StartFn } from "./child_spec.js";
import { addRestart, report, recordRestart, startChildI, type StartOutcome } from "./supervisor_common.js";
import { startOfModule, type ChildCounts, type ChildInfo } from "./supervisor.js";
import type { RestartType } from "./observe.js";

export interface DynChild {
  start: StartFn;
  restart: RestartType;
  shutdown: Shutdown;
  type: ChildType;
  modules: Term[] | "dynamic" | null;
  /** The spec's id, kept only for pictures (DynamicSupervisor ignores ids). */
  id: Term;
  restarts: number;
}

type Entry = DynChild | { restarting: DynChild };

export interface DynState {
  self: Pid;
  strategy: "one_for_one";
  intensity: number;
  period: number;
  maxChildren: number;
  extraArguments: Term[];
  /** pid → child, in start order (OTP's small maps iterate in pid order, which is the same here). */
  children: Map<Pid, Entry>;
  restarts: number[];
  gaveUp?: { t: number };
  reactions?: number;
  /** The module reports name (`#PID<0.90.0> (Task.Supervisor)`); Elixir's `Supervisor.Default` when absent. */
  mod?: string;
}

export interface DynamicOptions extends StartOptions {
  strategy?: "one_for_one";
  maxRestarts?: number;
  maxSeconds?: number;
  maxChildren?: number | "infinity";
  extraArguments?: Term[];
}

const isRestarting = (e: Entry): e is { restarting: DynChild } => "restarting" in e;
const childOf = (e: Entry): DynChild => (isRestarting(e) ? e.restarting : e);

/** `validate_child/1` (Elixir 1.14): the child tuple or a tagged error. */
export function validateDynChild(spec: unknown): DynChild | { error: Term } {
  const s = normalizeSpec(spec, startOfModule) as Record<string, unknown> | null;
  if (!s || typeof s !== "object" || Array.isArray(s) || !("id" in s) || !("start" in s)) return { error: ["invalid_child_spec", spec] };
  const start = s.start;
  const validMfa = Array.isArray(start) && start.length === 3 && typeof start[1] === "string" && Array.isArray(start[2]);
  if (typeof start !== "function" && !validMfa) return { error: ["invalid_mfa", start] };
  const restart = s.restart ?? "permanent";
  if (restart !== "permanent" && restart !== "transient" && restart !== "temporary") return { error: ["invalid_restart_type", restart] };
  const type = s.type ?? "worker";
  const shutdown = s.shutdown ?? (type === "supervisor" ? "infinity" : 5000);
  if (!(shutdown === "infinity" || shutdown === "brutal_kill" || (Number.isInteger(shutdown) && (shutdown as number) > 0))) return { error: ["invalid_shutdown", shutdown] };
  if (type !== "worker" && type !== "supervisor") return { error: ["invalid_child_type", type] };
  const modules = s.modules ?? defaultModules(start as StartFn);
  if (modules !== null && modules !== "dynamic" && !Array.isArray(modules)) return { error: ["invalid_modules", modules] };
  return { start: start as StartFn, restart, shutdown: shutdown as Shutdown, type, modules: modules as Term[] | "dynamic" | null, id: s.id, restarts: 0 } as DynChild;
}

function dynCallbacks(rt: Runtime): GenServerCallbacks<DynState> {
  function startOne(st: DynState, c: DynChild): Blocking<StartOutcome> {
    return startChildI(c.start, st.extraArguments, st.self, c.id);
  }

  function* restartChild(st: DynState, pid: Pid, c: DynChild): Blocking<"ok" | "shutdown"> {
    if (!addRestart(st.restarts, rt.now(), st.intensity, st.period)) {
      report(rt, st.self, "shutdown", "reached_max_restart_intensity", pid, c.id, c, st.mod);
      st.gaveUp = { t: rt.now() };
      st.children.delete(pid);
      return "shutdown";
    }
    const s = yield* startOne(st, c);
    if (s[0] === "ok" && s[1] instanceof Pid) {
      st.children.delete(pid);
      c.restarts++;
      st.children.set(s[1], c);
      recordRestart(rt, st.self, c.id, pid, s[1], (st.reactions = (st.reactions ?? 0) + 1));
      return "ok";
    }
    if (s[0] === "ok") {
      st.children.delete(pid); // ignore on restart deletes the child (R73)
      return "ok";
    }
    report(rt, st.self, "start_error", s[1], ["restarting", pid], c.id, c, st.mod);
    recordRestart(rt, st.self, c.id, pid, null, (st.reactions = (st.reactions ?? 0) + 1));
    st.children.set(pid, { restarting: c });
    rt.send(st.self, ["$gen_restart", pid]); // a plain message, not a cast (R73)
    return "ok";
  }

  function* maybeRestart(st: DynState, pid: Pid, reason: Term): Blocking<"ok" | "shutdown"> {
    const e = st.children.get(pid);
    if (!e || isRestarting(e)) return "ok";
    if (e.restart === "permanent") {
      report(rt, st.self, "child_terminated", reason, pid, e.id, e, st.mod);
      return yield* restartChild(st, pid, e);
    }
    if (isCleanExit(reason)) {
      st.children.delete(pid);
      return "ok";
    }
    report(rt, st.self, "child_terminated", reason, pid, e.id, e, st.mod);
    if (e.restart === "transient") return yield* restartChild(st, pid, e);
    st.children.delete(pid);
    return "ok";
  }

  /** `terminate_children/2`: all at once, one kill timer per distinct shutdown value (R65). */
  function* terminateChildren(st: DynState, which: Map<Pid, Entry>): Blocking<void> {
    const self = st.self;
    const waiting = new Map<Pid, DynChild>();
    const byTime = new Map<number, Pid[]>();
    const errors: Array<[Term, Pid, DynChild]> = [];
    // monitor_child/1 for every child first: monitor, unlink, and take a pending EXIT (the child already died).
    // Pending EXITs are collected in one pass over the mailbox, not one scan per child: with 100,000 children
    // a per-child scan is quadratic (on the BEAM the mailbox stays short here, as children die later).
    const pendingExit = new Map<Pid, Term>();
    const mb = self.mailbox;
    if (mb && mb.length > 0) {
      const keep: Term[] = [];
      for (const m of mb.toArray()) {
        if (Array.isArray(m) && m[0] === "EXIT" && m[1] instanceof Pid && which.has(m[1]) && !pendingExit.has(m[1])) pendingExit.set(m[1], m[2]);
        else keep.push(m);
      }
      mb.clear();
      for (const m of keep) mb.push(m);
    }
    const toStop: Array<[Pid, DynChild]> = [];
    for (const [pid, e] of which) {
      if (isRestarting(e)) continue;
      const mon = rt.monitor(self, pid);
      rt.unlink(self, pid);
      if (pendingExit.has(pid)) {
        const reason = pendingExit.get(pid);
        rt.demonitor(self, mon, true);
        if (!(reason === "normal" && e.restart !== "permanent")) errors.push([reason, pid, e]);
        continue;
      }
      waiting.set(pid, e);
      toStop.push([pid, e]);
    }
    for (const [pid, e] of toStop) {
      if (e.shutdown === "brutal_kill") rt.signal(pid, self, "kill", "exit");
      else {
        rt.signal(pid, self, "shutdown", "exit");
        if (e.shutdown !== "infinity") {
          const l = byTime.get(e.shutdown) ?? [];
          l.push(pid);
          byTime.set(e.shutdown, l);
        }
      }
    }
    const timers = new Map<Ref, Pid[]>();
    for (const [ms, pids] of byTime) {
      const ref = new Ref();
      timers.set(ref, pids);
      rt.after(ms, () => rt.deliver(self, ["timeout", ref, "kill"]));
    }
    while (waiting.size > 0) {
      const m = (yield {
        match: (x: Term) => Array.isArray(x) && ((x[0] === "DOWN" && x[3] instanceof Pid && waiting.has(x[3])) || (x[0] === "timeout" && timers.has(x[1] as Ref))),
        timeout: Infinity,
      }) as Term[];
      if (m[0] === "timeout") {
        for (const pid of timers.get(m[1] as Ref)!) if (waiting.has(pid)) rt.signal(pid, self, "kill", "exit");
        timers.delete(m[1] as Ref);
        continue;
      }
      const pid = m[3] as Pid;
      const c = waiting.get(pid)!;
      waiting.delete(pid);
      const reason = m[4];
      const expected =
        (c.shutdown === "brutal_kill" && reason === "killed") ||
        reason === "shutdown" ||
        (c.restart !== "permanent" && isCleanExit(reason));
      if (!expected) errors.push([reason, pid, c]);
    }
    for (const [reason, pid, c] of errors) report(rt, self, "shutdown_error", reason, pid, undefined, c, st.mod);
  }

  return {
    init([opts, modInit, modName]: [DynamicOptions, ((arg: Term) => Term) | null, string | undefined]) {
      const self = rt.self();
      self.trapExit = true;
      let flags: Record<string, unknown> = opts as Record<string, unknown>;
      if (modInit) {
        const r = modInit(undefined);
        if (r === "ignore") return "ignore";
        if (!(Array.isArray(r) && r[0] === "ok" && r[1] && typeof r[1] === "object")) return ["stop", ["bad_return", ["DynamicSupervisor", "init", r]]];
        flags = r[1] as Record<string, unknown>;
      }
      const strategy = flags.strategy ?? "one_for_one";
      const intensity = flags.maxRestarts ?? flags.intensity ?? 3;
      const period = flags.maxSeconds ?? flags.period ?? 5;
      const maxChildren = flags.maxChildren ?? "infinity";
      const extra = flags.extraArguments ?? [];
      if (strategy !== "one_for_one") return ["stop", ["supervisor_data", ["invalid_strategy", strategy]]];
      if (!Number.isInteger(intensity) || (intensity as number) < 0) return ["stop", ["supervisor_data", ["invalid_intensity", intensity]]];
      if (!Number.isInteger(period) || (period as number) <= 0) return ["stop", ["supervisor_data", ["invalid_period", period]]];
      if (maxChildren !== "infinity" && !(Number.isInteger(maxChildren) && (maxChildren as number) >= 0)) return ["stop", ["supervisor_data", ["invalid_max_children", maxChildren]]];
      if (!Array.isArray(extra)) return ["stop", ["supervisor_data", ["invalid_extra_arguments", extra]]];
      const st: DynState = {
        self,
        strategy: "one_for_one",
        intensity: intensity as number,
        period: period as number,
        maxChildren: maxChildren === "infinity" ? Infinity : (maxChildren as number),
        extraArguments: extra,
        children: new Map(),
        restarts: [],
      };
      if (modName) st.mod = modName;
      return ["ok", st];
    },

    *handleCall(req: Term, _from, st: DynState): Blocking<Term> {
      const [op, arg] = Array.isArray(req) ? req : [req, undefined];
      switch (op) {
        case "start_child": {
          if (st.children.size >= st.maxChildren) return ["reply", ["error", "max_children"], st];
          const c = arg as DynChild;
          const r = yield* startOne(st, c);
          if (r[0] === "ok" && r[1] instanceof Pid) st.children.set(r[1], c);
          return ["reply", r[0] === "ok" && r[1] === null ? "ignore" : r, st];
        }
        case "terminate_child": {
          const pid = arg as Pid;
          const e = pid instanceof Pid ? st.children.get(pid) : undefined;
          if (!e) return ["reply", ["error", "not_found"], st];
          yield* terminateChildren(st, new Map([[pid, e]]));
          st.children.delete(pid);
          return ["reply", "ok", st];
        }
        case "which_children":
          return ["reply", [...st.children].map(([pid, e]): ChildInfo => ({ id: "undefined", child: isRestarting(e) ? "restarting" : pid, type: childOf(e).type, modules: modulesOf(childOf(e).modules, pid) })), st];
        case "count_children": {
          const n: ChildCounts = { specs: st.children.size, active: 0, supervisors: 0, workers: 0 };
          for (const e of st.children.values()) {
            if (!isRestarting(e)) n.active++;
            if (childOf(e).type === "supervisor") n.supervisors++;
            else n.workers++;
          }
          return ["reply", n, st];
        }
        default:
          return ["reply", ["error", ["unknown_call", req]], st];
      }
    },

    *handleInfo(msg: Term, st: DynState): Blocking<Term> {
      if (Array.isArray(msg) && msg[0] === "EXIT" && msg[1] instanceof Pid) {
        const r = yield* maybeRestart(st, msg[1], msg[2]);
        return r === "ok" ? ["noreply", st] : ["stop", "shutdown", st];
      }
      if (Array.isArray(msg) && msg[0] === "$gen_restart" && msg[1] instanceof Pid) {
        const e = st.children.get(msg[1]);
        if (e && isRestarting(e)) {
          const r = yield* restartChild(st, msg[1], e.restarting);
          return r === "ok" ? ["noreply", st] : ["stop", "shutdown", st];
        }
      }
      return ["noreply", st];
    },

    *terminate(_reason: Term, st: DynState): Blocking<void> {
      yield* terminateChildren(st, st.children);
    },
  };
}

const modules = new WeakMap<Runtime, Module<GenServerCallbacks>>();
function dynModule(rt: Runtime): Module<GenServerCallbacks> {
  let m = modules.get(rt);
  if (!m) modules.set(rt, (m = new Module<GenServerCallbacks>(rt, "DynamicSupervisor", dynCallbacks(rt))));
  return m;
}

type Sup = Dest;
const rtOf = (sup: Sup): Runtime => (sup instanceof Pid ? sup.rt : activeOrDefault());

function dynCall(sup: Sup, req: Term, what: string): Op<any> {
  const rt = rtOf(sup);
  return new Op(rt, () => doCall(rt, sup, "$gen_call", req, Infinity, (r) => [r, ["Elixir.GenServer", "call", list<Term>(sup, req, "infinity")]]), `DynamicSupervisor.${what}`, Array.isArray(req) ? [sup, ...req.slice(1)] : [sup]);
}

function start(rt: Runtime, opts: DynamicOptions, modInit: ((arg: Term) => Term) | null, link: boolean, modName?: string): Op<StartResult> {
  return new Op(rt, () => startBehaviour(rt, dynModule(rt), [opts, modInit, modName], { name: opts.name, timeout: opts.timeout, link, behaviourName: "dynamic_supervisor", kind: "dynamic_supervisor" }), "DynamicSupervisor.startLink");
}

export const DynamicSupervisor = {
  /**
   * Starts a dynamic supervisor linked to the caller.
   * @example const [, dyn] = await DynamicSupervisor.startLink({ maxChildren: 100 })
   */
  startLink(optsOrModule: DynamicOptions | Module = {}, arg?: Term, opts: StartOptions = {}): Op<StartResult> {
    if (optsOrModule instanceof Module) {
      const m = optsOrModule;
      const init = (m.current.callbacks as { init: (a: Term) => Term }).init;
      return start(m.rt, opts, () => init.call(m.current.callbacks, arg), true, m.name);
    }
    return start(activeOrDefault(), optsOrModule, null, true);
  },
  start(opts: DynamicOptions = {}): Op<StartResult> {
    return start(activeOrDefault(), opts, null, false);
  },
  /** `DynamicSupervisor.init/1` for module callbacks. */
  init(opts: Omit<DynamicOptions, "name" | "timeout"> = {}): Term {
    return ["ok", { ...opts }];
  },
  /** Starts a child; resolves to `["ok", pid]`, `["ok", pid, info]`, `"ignore"` or `["error", reason]`. */
  startChild(sup: Sup, spec: unknown): Op<Term> {
    const c = validateDynChild(spec);
    const rt = rtOf(sup);
    if ("error" in c) return new Op(rt, function* () { return ["error", c.error]; }, "DynamicSupervisor.startChild");
    return dynCall(sup, ["start_child", c], "startChild");
  },
  terminateChild: (sup: Sup, pid: Pid): Op<"ok" | ["error", "not_found"]> => dynCall(sup, ["terminate_child", pid], "terminateChild"),
  whichChildren: (sup: Sup): Op<ChildInfo[]> => dynCall(sup, "which_children", "whichChildren"),
  countChildren: (sup: Sup): Op<ChildCounts> => dynCall(sup, "count_children", "countChildren"),
  stop: (sup: Sup, reason: Term = "normal"): Op<"ok"> => GenServer.stop(sup, reason),
};

/** `DynamicSupervisor.startLink(opts)` whose reports name module `modName` (a Task.Supervisor's). */
export function startDynamic(opts: DynamicOptions, modName: string): Op<StartResult> {
  return start(activeOrDefault(), opts, null, true, modName);
}

/** The state of a live DynamicSupervisor process (for snapshots), else undefined. */
export function dynamicState(p: Pid): DynState | undefined {
  const d = p.data as { kind?: string; state?: DynState } | null;
  return d?.kind === "dynamic_supervisor" ? d.state : undefined;
}

export { TIMEOUT };
