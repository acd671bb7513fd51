/**
 * What a button or a remote request does to a running tree, for `widgets/` (the control panels) and `kernel/`
 * (the control channel): find a process by pid text or name, kill or crash it, and restart, terminate or delete
 * a supervisor's child, with OTP's results.
 *
 * Blocking operations finish synchronously with the virtual clock (the caller then settles the runtime before
 * it answers, as the kernel does after a cell), and return a promise with the real clock.
 */
import { Pid } from "./process.js";
import type { Runtime } from "./runtime.js";
import type { Op } from "./op.js";
import { Supervisor, supervisorState } from "./supervisor.js";
import { DynamicSupervisor } from "./dynamic_supervisor.js";
import { Crash, RuntimeError, termEquals, type Term } from "./terms.js";

/** A value now (virtual clock) or later (real clock). */
export type Eventually<T> = T | Promise<T>;

/** Runs `op` to completion: at once with the virtual clock, as a promise with the real one. */
export function runOp<T>(rt: Runtime, op: Op<T>): Eventually<T> {
  return rt.clock.kind === "virtual" ? op.sync() : Promise.resolve(op);
}

/** `then` for a value that may or may not be a promise, staying synchronous when it is not. */
export function andThen<T, U>(v: Eventually<T>, fn: (x: T) => Eventually<U>): Eventually<U> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}

/** The live or dead process a pid text ("<0.82.0>", "#PID<0.82.0>") names, or the live process registered as `name`. */
export function findPid(rt: Runtime, target: unknown): Pid | undefined {
  if (target instanceof Pid) return target;
  if (typeof target !== "string") return undefined;
  const m = /^(?:#PID)?<0\.(\d+)\.0>$/.exec(target.trim());
  if (m) return rt.procs.get(Number(m[1]));
  return rt.whereis(target);
}

/** The exit reasons offered for a crash, by name: `normal`, `shutdown`, `kill`, `error` (a RuntimeError). */
export const CRASH_REASONS = ["error", "normal", "shutdown", "kill"] as const;
export type CrashReasonName = (typeof CRASH_REASONS)[number];

/** The term for a reason name; `error` is a RuntimeError raised in the process, `message` its text. */
export function crashReason(name: string, message = "crashed on request"): Term {
  if (name === "error") return new Crash(new RuntimeError(message), "");
  return name;
}

/**
 * The child id of `sup` that `id` names: snapshots, buttons and remote requests carry ids as text
 * (`String(id)`), while a spec's id may be any term (`1`, `["pool", 2]`).
 */
export function childIdOf(sup: Pid, id: Term): Term {
  const children = supervisorState(sup)?.children ?? [];
  return children.find((c) => c.id === id)?.id ?? children.find((c) => String(c.id) === String(id))?.id ?? id;
}

function isRunning(rt: Runtime, sup: Pid, id: Term): Eventually<boolean> {
  return andThen(runOp(rt, Supervisor.whichChildren(sup)), (children) => children.some((c) => termEquals(c.id, id) && c.child instanceof Pid));
}

/**
 * Restarts child `id` of `sup` now: terminated first if it runs (OTP's `restart_child` only restarts a stopped
 * child), then `restart_child`. Returns OTP's result (`["ok", pid]`, `["error", reason]`).
 */
export function restartChildNow(rt: Runtime, sup: Pid, childId: Term): Eventually<Term> {
  const id = childIdOf(sup, childId);
  return andThen(isRunning(rt, sup, id), (running) =>
    andThen(running ? runOp(rt, Supervisor.terminateChild(sup, id)) : "ok", () => runOp(rt, Supervisor.restartChild(sup, id))),
  );
}

/** Terminates child `id` of `sup` (a static supervisor), or the child process `id` of a DynamicSupervisor. */
export function terminateChildNow(rt: Runtime, sup: Pid, id: Term, dynamic: boolean): Eventually<Term> {
  if (dynamic) {
    const pid = findPid(rt, id);
    if (!pid) return ["error", "not_found"];
    return runOp(rt, DynamicSupervisor.terminateChild(sup, pid));
  }
  return runOp(rt, Supervisor.terminateChild(sup, childIdOf(sup, id)));
}

/** Deletes child `id` of `sup`, terminating it first if it runs (OTP's `delete_child` refuses a running child). */
export function deleteChildNow(rt: Runtime, sup: Pid, childId: Term): Eventually<Term> {
  const id = childIdOf(sup, childId);
  return andThen(isRunning(rt, sup, id), (running) =>
    andThen(running ? runOp(rt, Supervisor.terminateChild(sup, id)) : "ok", () => runOp(rt, Supervisor.deleteChild(sup, id))),
  );
}
