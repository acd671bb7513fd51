/**
 * What Supervisor and DynamicSupervisor share: calling a start function, the restart-intensity algorithm,
 * the shutdown protocol for one child, and supervisor reports.
 */

import { Pid, TIMEOUT, type Blocking } from "./process.js";
import { Module, getModule } from "./code.js";
import { Runtime } from "./runtime.js";
import { Op } from "./op.js";
import { ExitSignal, reasonFromThrow, isTuple, type Term } from "./terms.js";
import type { Child, StartFn } from "./child_spec.js";
import type { ReportContext } from "./observe.js";
import { formatTerm } from "./terms.js";
import { logChildStarted, logSupervisorReport, type ChildDescription } from "./logger.js";

export type StartOutcome = ["ok", Pid] | ["ok", Pid, Term] | ["ok", null] | ["error", Term];

function isGen(x: unknown): x is Blocking<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function" && typeof (x as Generator).throw === "function";
}

/**
 * `do_start_child_i/3`: runs the start function inside the supervisor and maps its result (R36):
 * `{ok,Pid}` / `{ok,Pid,Info}` started, `ignore` → `{ok, undefined}`, `{error,E}` and any other value → error.
 * An exception is caught like Erlang's `catch`: `{'EXIT', Reason}`. A started process is marked with its
 * supervisor and child id (`Pid.supervisedBy`, for snapshots, process info and metrics) here rather than in a
 * wrapper generator of each supervisor: every generator level costs each restart a generator object and a
 * resume on each step.
 */
export function* startChildI(start: StartFn, extra: Term[], sup: Pid, id: Term): Blocking<StartOutcome> {
  let r: Term;
  try {
    r = callStart(start, extra);
    if (r instanceof Op || isGen(r)) r = yield* r as Blocking<Term>;
  } catch (err) {
    r = ["EXIT", reasonFromThrow(err)];
  }
  if (isTuple(r) && r[0] === "ok" && r[1] instanceof Pid && (r.length === 2 || r.length === 3)) {
    r[1].supervisedBy = { sup, id };
    return r as StartOutcome;
  }
  if (r === "ignore") return ["ok", null];
  if (isTuple(r) && r[0] === "error" && r.length === 2) return r as StartOutcome;
  return ["error", r];
}

function callStart(start: StartFn, extra: Term[]): Term {
  if (typeof start === "function") return start(...extra);
  const [mod, fn, args] = start;
  // A module given by name is looked up when the start runs, so the current version is used (R84).
  const resolved = mod instanceof Module ? mod : Runtime.active ? getModule(Runtime.active, mod) : undefined;
  const callbacks = resolved?.current.callbacks;
  const f = callbacks?.[fn];
  if (typeof f !== "function") {
    throw new ExitSignal(["undef", [mod instanceof Module ? mod.name : mod, fn, [...extra, ...args]]]);
  }
  return f.call(callbacks, ...extra, ...args);
}

/**
 * `add_restart/1` (R43): one list of restart times per supervisor, in whole seconds of monotonic time:
 * Now = floor(ms / 1000); keep R >= Now - Period; add Now; ok while length <= Intensity.
 * Updates `restarts` in place and returns whether the restart is allowed. The list is kept oldest first (OTP
 * keeps it newest first; only its length is ever read): the times never decrease, so the expired ones are at
 * the front, and the new one is pushed at the end, with no copy of the list on each restart.
 */
export function addRestart(restarts: number[], nowMs: number, intensity: number, period: number): boolean {
  const now = Math.floor(nowMs / 1000);
  let expired = 0;
  while (expired < restarts.length && restarts[expired] < now - period) expired++;
  if (expired > 0) restarts.splice(0, expired);
  restarts.push(now);
  return restarts.length <= intensity;
}

/** Records a `restart` event (observe.ts): `oldPid` when it was a pid, `newPid` when the start gave one. */
export function recordRestart(rt: Runtime, sup: Pid, id: Term, oldPid: unknown, newPid: Pid | null | undefined, reaction: number): void {
  rt.events.pushRestart(rt.now(), sup.id, String(id), oldPid instanceof Pid ? oldPid.id : -1, newPid ? newPid.id : -1, reaction);
}

/** A supervisor report (R91) with raw terms, for listeners that need them (the conformance tracer). */
export interface SupervisorReport {
  sup: Pid;
  context: ReportContext;
  reason: Term;
  /** The offender's pid as OTP reports it: a Pid, `Restarting`, null (undefined) or a list of pids. */
  child: Term;
  id: Term;
}

const listeners = new WeakMap<Runtime, Array<(r: SupervisorReport) => void>>();

export function onSupervisorReport(rt: Runtime, fn: (r: SupervisorReport) => void): () => void {
  const l = listeners.get(rt) ?? [];
  l.push(fn);
  listeners.set(rt, l);
  return () => {
    const cur = listeners.get(rt) ?? [];
    listeners.set(rt, cur.filter((x) => x !== fn));
  };
}

/**
 * A supervisor report: a `report` event, the raw report to listeners, and the Logger's `Child ... of Supervisor
 * ...` report (`spec`: the child's spec, for its `Start Call`, `Restart`, `Shutdown` and `Type` lines; `supModule`:
 * the supervisor's module, when it has one of its own).
 */
export function report(rt: Runtime, sup: Pid, context: ReportContext, reason: Term, child: Term, id: Term, spec?: ChildDescription, supModule?: string): void {
  const t = rt.now();
  const reasonText = formatTerm(reason);
  const idText = id !== undefined ? String(id) : undefined;
  if (child instanceof Pid || child === null || child === undefined) {
    rt.events.pushReport(t, sup.id, context, child instanceof Pid ? child.id : -1, idText, reasonText);
  } else {
    // An offender that is not one pid (`{restarting, Pid}`, a list of pids) is kept as text, in an object.
    const childText = formatTerm(child);
    if (idText !== undefined) rt.emit({ type: "report", t, sup: sup.label, context, child: childText, id: idText, reason: reasonText });
    else rt.emit({ type: "report", t, sup: sup.label, context, child: childText, reason: reasonText });
  }
  const ls = listeners.get(rt);
  if (ls) for (const l of ls) l({ sup, context, reason, child, id });
  logSupervisorReport(rt, sup, context, reason, child, id, spec, supModule);
}

/** The Logger's progress report of a child started by supervisor `sup` (a restart, or a first start). */
export function reportStarted(rt: Runtime, sup: Pid, id: Term, pid: Pid, spec: ChildDescription, restart: boolean, supModule?: string): void {
  logChildStarted(rt, sup, id, pid, spec, restart, supModule);
}

/**
 * `shutdown/1` for one child (R59–R61): monitor, `exit(shutdown)`, wait for the DOWN up to the shutdown time,
 * then `exit(kill)`; brutal_kill kills at once. `unlink_flush` drops a pending EXIT whose reason wins (R60).
 * Returns "ok" or `["error", Reason]` for an unexpected exit reason (reported as shutdown_error).
 */
export function* shutdownChild(rt: Runtime, self: Pid, child: Child, pid: Pid): Blocking<"ok" | ["error", Term]> {
  const mon = rt.monitor(self, pid);
  const isDown = (m: Term) => Array.isArray(m) && m[0] === "DOWN" && m[1] === mon;
  let reason: Term;
  if (child.shutdown === "brutal_kill") {
    rt.signal(pid, self, "kill", "exit");
    const m = (yield { match: isDown, timeout: Infinity }) as Term[];
    reason = unlinkFlush(rt, self, pid, m[4]);
    if (reason === "killed") return "ok";
  } else {
    rt.signal(pid, self, "shutdown", "exit");
    const timeout = child.shutdown === "infinity" ? Infinity : child.shutdown;
    let m = yield { match: isDown, timeout };
    if (m === TIMEOUT) {
      rt.signal(pid, self, "kill", "exit");
      m = yield { match: isDown, timeout: Infinity };
    }
    reason = unlinkFlush(rt, self, pid, (m as Term[])[4]);
    if (reason === "shutdown") return "ok";
  }
  if (child.restart !== "permanent" && (reason === "shutdown" || reason === "normal" || (isTuple(reason) && reason[0] === "shutdown" && reason.length === 2))) return "ok";
  return ["error", reason];
}

/** `unlink_flush/2`: unlink, and take the reason of a pending `{'EXIT', Pid, R}` if there is one. */
export function unlinkFlush(rt: Runtime, self: Pid, pid: Pid, fallback: Term): Term {
  rt.unlink(self, pid);
  const mb = self.mailbox;
  if (mb) {
    const i = mb.find((m) => Array.isArray(m) && m[0] === "EXIT" && m[1] === pid);
    if (i >= 0) return (mb.removeAt(i) as Term[])[2];
  }
  return fallback;
}
