/**
 * Task.Supervisor and Task (Elixir 1.14 `task/supervisor.ex`, `task/supervised.ex`), R75–R77.
 *
 * A Task.Supervisor is a DynamicSupervisor (defaults 3 / 5) whose children are task processes, `:temporary`
 * with shutdown 5000 unless told otherwise. `asyncNolink` starts a temporary child, monitors it, then sends it
 * the work: the caller is not linked, and receives `[ref, result]` and then the `DOWN` (same sender, so in that
 * order). `async` also links the caller. `await`, `yield` and `shutdown` are Elixir's `Task` functions, and
 * `Task.async(fun)` starts a task with no supervisor, linked to and monitored by the caller, as Elixir's does.
 */

import type { Dest } from "./via.js";
import { Pid, Ref, TIMEOUT, type Blocking } from "./process.js";
import { DynamicSupervisor, startDynamic, type DynamicOptions } from "./dynamic_supervisor.js";
import { activeRuntime } from "./processes.js";
import { Op } from "./op.js";
import { ExitSignal, RuntimeError, formatTerm, list, reasonFromThrow, type Term } from "./terms.js";
import { START_CALL, logTaskTerminate } from "./logger.js";
import type { StartResult } from "./gen_server.js";
import type { RestartType } from "./observe.js";
import type { Shutdown } from "./child_spec.js";

/** A running task, as Elixir's `%Task{}`. */
export interface Task<T = Term> {
  pid: Pid;
  ref: Ref;
  owner: Pid;
  /** What the task runs, as Elixir 1.14 records a function: `{:erlang, :apply, 2}`. */
  mfa: [string, string, number];
  /** Phantom: the result type. */
  readonly __result?: T;
}

const GO = "$task_go";

/**
 * The task process: waits for the work, runs it, sends `[ref, result]` to the owner (if any), exits normal. A
 * function that raises or exits abnormally is reported (`Task #PID<...> started from #PID<...> terminating`).
 */
function* taskBody(fun: () => Term | Blocking<Term>, starter: Pid | null): Blocking<void> {
  const go = (yield { match: (m: Term) => Array.isArray(m) && m[0] === GO, timeout: Infinity }) as [string, Ref | null, Pid | null];
  const [, ref, owner] = go;
  let r: Term;
  try {
    r = fun();
    if (r && typeof (r as Generator).next === "function" && typeof (r as Generator).throw === "function") r = yield* r as Blocking<Term>;
  } catch (err) {
    const reason = reasonFromThrow(err);
    const self = activeRuntime().current;
    if (self) logTaskTerminate(self, owner ?? starter, fun, reason, err instanceof Error ? (err.stack ?? "") : "");
    throw err instanceof ExitSignal ? err : new ExitSignal(reason); // reported here, not again as a plain process's crash
  }
  if (ref && owner && owner.alive) owner.rt.deliver(owner, [ref, r]);
}

/** What a task child's `Start Call` shows, as in Elixir. */
const TASK_START = "Task.Supervised.start_link/?";

function taskSpec(fun: () => Term, restart: RestartType, shutdown: Shutdown, autoGo: boolean, starter: Pid | null) {
  const start = () => {
    const rt = activeRuntime();
    const sup = rt.self();
    const p = rt.spawnProcess({
      link: sup,
      parent: sup,
      behaviourName: "task",
      body: taskBody(fun, starter),
    });
    if (autoGo) rt.deliver(p, [GO, null, null]);
    return ["ok", p];
  };
  (start as unknown as Record<symbol, unknown>)[START_CALL] = TASK_START;
  return { id: "Task.Supervised", restart, shutdown, start };
}

export interface TaskOptions {
  restart?: RestartType;
  shutdown?: Shutdown;
}

function* startAsync(sup: Dest, fun: () => Term, link: boolean, shutdown: Shutdown): Blocking<Task> {
  const rt = activeRuntime();
  const owner = rt.caller();
  const r = (yield* DynamicSupervisor.startChild(sup, taskSpec(fun, "temporary", shutdown, false, owner))) as Term;
  if (Array.isArray(r) && r[0] === "error" && r[1] === "max_children") {
    throw new RuntimeError("reached the maximum number of tasks for this task supervisor. The maximum number of tasks that are allowed to run at the same time under this supervisor can be configured with the :max_children option passed to Task.Supervisor.start_link/1");
  }
  if (!(Array.isArray(r) && r[0] === "ok" && r[1] instanceof Pid)) throw new ExitSignal(r);
  const pid = r[1];
  if (link) rt.link(owner, pid);
  const ref = rt.monitor(owner, pid);
  rt.send(pid, [GO, ref, owner]);
  return { pid, ref, owner, mfa: APPLY };
}

const APPLY: [string, string, number] = ["erlang", "apply", 2];

/** Elixir raises this ArgumentError when a task is awaited by a process other than the one that started it. */
function checkOwner(task: Task, self: Pid, what: string): void {
  if (task.owner !== self) {
    const err = new Error(`task ${formatTerm(task)} must be queried from the owner but was queried from ${self} (in ${what}: only the process that started a task can await, yield or shut it down)`);
    err.name = "ArgumentError";
    throw err;
  }
}

export const TaskSupervisor = {
  /** Starts a Task.Supervisor (a DynamicSupervisor with Elixir's 3 / 5 defaults). */
  startLink(opts: DynamicOptions = {}): Op<StartResult> {
    return startDynamic(opts, "Task.Supervisor");
  },
  /** Starts a task that nobody awaits; `restart: "permanent"` tasks are restarted (R75). */
  startChild(sup: Dest, fun: () => Term, opts: TaskOptions = {}): Op<Term> {
    return DynamicSupervisor.startChild(sup, taskSpec(fun, opts.restart ?? "temporary", opts.shutdown ?? 5000, true, activeRuntime().caller()));
  },
  /** A task linked to the caller: a crash in it kills a non-trapping caller (R77). */
  async(sup: Dest, fun: () => Term, opts: { shutdown?: Shutdown } = {}): Op<Task> {
    return new Op(activeRuntime(), () => startAsync(sup, fun, true, opts.shutdown ?? 5000), "TaskSupervisor.async");
  },
  /** A task not linked to the caller: failures arrive only as the DOWN (R76). */
  asyncNolink(sup: Dest, fun: () => Term, opts: { shutdown?: Shutdown } = {}): Op<Task> {
    return new Op(activeRuntime(), () => startAsync(sup, fun, false, opts.shutdown ?? 5000), "TaskSupervisor.asyncNolink");
  },
  terminateChild: (sup: Dest, pid: Pid) => DynamicSupervisor.terminateChild(sup, pid),
  children: (sup: Dest) => DynamicSupervisor.whichChildren(sup),
};

function* awaitTask<T>(task: Task<T>, timeout: number, onTimeout: "exit" | "nil", alsoDown?: Ref): Blocking<["ok", T] | ["exit", Term] | null> {
  const rt = task.pid.rt;
  const self = rt.self();
  const m = yield {
    match: (x: Term) => Array.isArray(x) && (x[0] === task.ref || (x[0] === "DOWN" && (x[1] === task.ref || (alsoDown !== undefined && x[1] === alsoDown)))),
    timeout,
  };
  if (m === TIMEOUT) {
    if (onTimeout === "nil") return null;
    // Elixir's await stops monitoring before it exits: a reply that comes later is never seen.
    rt.demonitor(self, task.ref, true);
    throw new ExitSignal(["timeout", ["Elixir.Task", "await", list<Term>(task, timeout === Infinity ? "infinity" : timeout)]]);
  }
  const msg = m as Term[];
  if (msg[0] === "DOWN") return ["exit", msg[4]];
  rt.demonitor(self, task.ref, true);
  return ["ok", msg[1] as T];
}

export const Task = {
  /**
   * `Task.async(fun)` without a supervisor: runs `fun` (a function, or a generator function when it blocks) in a
   * new process linked to the caller and monitored by it, as Elixir does. A task that fails takes a non-trapping
   * caller down with it (the link); await its result with `Task.await(task)`.
   * @example const t = Task.async(() => 6 * 7); await Task.await(t)   // 42
   */
  async<T>(fun: () => T | Blocking<T>): Task<T> {
    if (typeof fun !== "function") throw new TypeError("Task.async expects a function (or a generator function when the task blocks).");
    const rt = activeRuntime();
    const owner = rt.caller();
    const pid = rt.spawnProcess({ link: owner, parent: owner, behaviourName: "task", body: taskBody(fun as () => Term, owner) });
    const ref = rt.monitor(owner, pid);
    rt.deliver(pid, [GO, ref, owner]);
    return { pid, ref, owner, mfa: APPLY };
  },

  /**
   * The task's result. The caller exits if the task failed, with `{reason, {Task, :await, [task, timeout]}}`, or
   * on timeout (default 5000 ms) with `{:timeout, {Task, :await, [task, timeout]}}`, which also ends a task
   * linked to it. Only the process that started the task may await it.
   */
  await<T>(task: Task<T>, timeout = 5000): Op<T> {
    return new Op(
      task.pid.rt,
      function* () {
        checkOwner(task as Task, task.pid.rt.caller(), "Task.await");
        const r = yield* awaitTask(task, timeout, "exit");
        if (r && r[0] === "ok") return r[1];
        throw new ExitSignal([r![1], ["Elixir.Task", "await", list<Term>(task, timeout)]]);
      },
      "Task.await",
    );
  },
  /** `["ok", v]`, `["exit", reason]`, or null when the task is still running after `timeout`. */
  yield<T>(task: Task<T>, timeout = 5000): Op<["ok", T] | ["exit", Term] | null> {
    return new Op(
      task.pid.rt,
      function* () {
        checkOwner(task as Task, task.pid.rt.caller(), "Task.yield");
        return yield* awaitTask(task, timeout, "nil");
      },
      "Task.yield",
    );
  },
  /** Stops the task (exit shutdown, then kill after `shutdown` ms); returns its result if it had one. */
  shutdown<T>(task: Task<T>, shutdown: number | "brutal_kill" = 5000): Op<["ok", T] | ["exit", Term] | null> {
    return new Op(
      task.pid.rt,
      function* () {
        checkOwner(task as Task, task.pid.rt.caller(), "Task.shutdown");
        const rt = task.pid.rt;
        const self = rt.self();
        rt.unlink(self, task.pid);
        // A monitor of its own, as Elixir's shutdown makes: the task's monitor may be gone already (a Task.await
        // that timed out and was caught drops it), and its DOWN would never come.
        const mon = rt.monitor(self, task.pid);
        const done = (r: ["ok", T] | ["exit", Term] | null) => {
          rt.demonitor(self, mon, true);
          rt.demonitor(self, task.ref, true);
          return r;
        };
        rt.signal(task.pid, self, shutdown === "brutal_kill" ? "kill" : "shutdown", "exit");
        const r = yield* awaitTask(task, shutdown === "brutal_kill" ? Infinity : shutdown, "nil", mon);
        if (r === null) {
          rt.signal(task.pid, self, "kill", "exit");
          const k = yield* awaitTask(task, Infinity, "nil", mon);
          return done(k && k[0] === "exit" && (k[1] === "killed" || k[1] === "shutdown") ? null : k);
        }
        // A task already gone whose DOWN was taken from the mailbox answers our own monitor with noproc: Elixir
        // 1.14 returns {:exit, :noproc} then, not nil (fuzz seed 38, scenario 255).
        if (r[0] === "exit" && (r[1] === "shutdown" || r[1] === "killed")) return done(null);
        return done(r);
      },
      "Task.shutdown",
    );
  },
};

export { reasonFromThrow };
