/**
 * Runs a conformance scenario on the TypeScript runtime and produces the same trace the oracle
 * (`test/conformance/oracle/otp_scenario_runner.exs`) produces on real OTP: same workers, same supervisor
 * modules, same step semantics, same events emitted from the same points (§3.5):
 * - `start` from the new process's init, `terminate` from terminate/2, `start_failed` from the start function;
 * - `exit` when a traced process dies (the oracle's tracer monitor);
 * - `report` wherever a supervisor reports;
 * - `result` after an API call returns.
 * After every step it settles as the oracle does: runs until no process is runnable, letting time move only
 * while a supervisor is still busy (the oracle's `sys:get_state` on every supervisor waits for exactly that).
 */

import { Runtime } from "../runtime.js";
import { Pid, type Blocking } from "../process.js";
import { Module } from "../code.js";
import { GenServer, type GenServerCallbacks } from "../gen_server.js";
import { Supervisor } from "../supervisor.js";
import type { ChildSpec } from "../child_spec.js";
import { DynamicSupervisor } from "../dynamic_supervisor.js";
import { onSupervisorReport } from "../supervisor_common.js";
import { Bin, ExitSignal, RuntimeError, type Term } from "../terms.js";
import { sleep } from "../runtime.js";
import { decode, encode } from "./terms.js";
import { PROCESS_OPS, type Scenario, type ScenarioNode, type Step, type SupervisorStep, type JsonTerm } from "./format.js";
import { makeOps, type OpStep } from "./ops.js";
import type { TraceEvent } from "./match.js";

class Tracer {
  readonly events: TraceEvent[] = [];
  readonly names = new Map<Pid, string>();
  private readonly inc = new Map<string, number>();
  private readonly live = new Map<string, Pid>();
  readonly sups = new Set<Pid>();

  constructor(private readonly rt: Runtime) {}

  started(path: string, pid: Pid, kind: "worker" | "supervisor"): void {
    const n = (this.inc.get(path) ?? 0) + 1;
    this.inc.set(path, n);
    this.names.set(pid, `${path}#${n}`);
    this.live.set(path, pid);
    if (kind === "supervisor") this.sups.add(pid);
    this.add({ ev: "start", path, inc: n });
  }

  exited(pid: Pid, reason: Term): void {
    const name = this.names.get(pid);
    if (!name) return;
    this.sups.delete(pid);
    const [path, n] = name.split("#");
    this.add({ ev: "exit", path, inc: Number(n), reason: this.enc(reason) });
  }

  add(ev: TraceEvent): void {
    this.events.push({ ...ev, t: this.rt.now() });
  }

  enc(t: Term): unknown {
    return encode(t, this.names);
  }

  pidOf(path: string): Pid {
    const p = this.live.get(path);
    if (!p) throw new Error(`no live process at ${path}`);
    return p;
  }
}

export interface RunOutput {
  events: TraceEvent[];
}

/** Runs `scn` on a fresh virtual-clock runtime and returns its trace. */
export function runScenario(scn: Scenario): RunOutput {
  const rt = new Runtime({ clock: "virtual" });
  const tracer = new Tracer(rt);
  const results = new Map<string, JsonTerm[]>(Object.entries(scn.start_results ?? {}));
  const nextResult = (path: string): JsonTerm => {
    const l = results.get(path);
    if (l && l.length > 0) return l.shift();
    return "ok";
  };

  // The tracer's monitor: with one scheduler its DOWN arrives the moment the process dies, before anyone
  // reacts to the death, so the trace takes the exit at that moment, with the raw reason.
  rt.onExit((p, reason) => {
    if (tracer.names.has(p)) tracer.exited(p, reason);
  });

  onSupervisorReport(rt, (r) => {
    tracer.add({ ev: "report", context: r.context, sup: tracer.enc(r.sup), reason: tracer.enc(r.reason), child: tracer.enc(r.child) });
  });

  // ---- the worker (Scn.Worker)
  const Worker = new Module<GenServerCallbacks>(rt, "Scn.Worker", {
    init([path, opts, mode]: [string, ScenarioNode, Term]) {
      if (Array.isArray(mode) && mode[0] === "stop") return ["stop", mode[1]];
      const self = rt.self();
      if (opts.trap_exit) self.trapExit = true;
      started(path, self, "worker");
      return ["ok", { path, opts }];
    },
    handleInfo(msg: Term, s: { path: string }) {
      if (Array.isArray(msg) && msg[0] === "scn_exit") return ["stop", msg[1], s];
      if (msg === "scn_raise") throw new RuntimeError("scenario raise");
      tracer.add({ ev: "recv", path: s.path, msg: tracer.enc(msg) });
      return ["noreply", s];
    },
    *handleCall(req: Term, _from, s): Blocking<Term> {
      if (Array.isArray(req) && req[0] === "echo" && req.length === 2) return ["reply", req[1], s];
      if (req === "whoami") return ["reply", new Bin(s.path), s];
      if (Array.isArray(req) && req[0] === "sleep" && req.length === 2) {
        yield* sleep(req[1] as number);
        return ["reply", "ok", s];
      }
      if (Array.isArray(req) && req[0] === "stop" && req.length === 3) return ["stop", req[1], req[2], s];
      return ["reply", ["unknown_call", req], s];
    },
    handleCast(msg: Term, s: { path: string }) {
      tracer.add({ ev: "cast", path: s.path, msg: tracer.enc(msg) });
      return ["noreply", s];
    },
    *terminate(reason: Term, s: { path: string; opts: ScenarioNode }): Blocking<void> {
      tracer.add({ ev: "terminate", path: s.path, reason: tracer.enc(reason) });
      if (s.opts.terminate_ms) yield* sleep(s.opts.terminate_ms);
    },
  });

  const started = (path: string, pid: Pid, kind: "worker" | "supervisor") => tracer.started(path, pid, kind);

  function* workerStart(path: string, opts: ScenarioNode): Blocking<Term> {
    const r = nextResult(path);
    if (r === "ok") return yield* GenServer.startLink(Worker, [path, opts, "ok"]);
    if (r === "ignore") {
      tracer.add({ ev: "start_failed", path, forced: "ignore" });
      return "ignore";
    }
    const o = r as Record<string, JsonTerm>;
    if ("error" in o) {
      tracer.add({ ev: "start_failed", path, forced: { error: o.error } });
      return ["error", decode(o.error)];
    }
    const res = yield* GenServer.startLink(Worker, [path, opts, ["stop", decode(o.init_stop)]]);
    tracer.add({ ev: "start_failed", path, forced: { init_stop: o.init_stop } });
    return res;
  }

  const supModule = (path: string, node: ScenarioNode) =>
    new Module(rt, "Scn.Sup", {
      init() {
        started(path, rt.self(), "supervisor");
        const flags: Record<string, unknown> = { strategy: node.strategy ?? "one_for_one", intensity: node.intensity ?? 1, period: node.period ?? 5 };
        if (node.auto_shutdown) flags.autoShutdown = node.auto_shutdown;
        return ["ok", [flags, (node.children ?? []).map((c) => childSpec(path, c))]];
      },
    });

  const dynModule = (path: string, node: ScenarioNode) =>
    new Module(rt, "Scn.DynSup", {
      init() {
        started(path, rt.self(), "supervisor");
        return DynamicSupervisor.init({ strategy: "one_for_one", maxRestarts: node.intensity ?? 3, maxSeconds: node.period ?? 5, ...(node.max_children !== undefined ? { maxChildren: node.max_children } : {}) });
      },
    });

  function startNode(path: string, node: ScenarioNode): Blocking<Term> {
    const kind = node.kind ?? node.type ?? "worker";
    if (kind === "worker") return workerStart(path, node);
    if (kind === "supervisor") return Supervisor.startLink(supModule(path, node))[Symbol.iterator]();
    return DynamicSupervisor.startLink(dynModule(path, node))[Symbol.iterator]();
  }

  function childSpec(parent: string, c: ScenarioNode): Record<string, unknown> {
    const path = `${parent}/${c.id}`;
    const kind = c.kind ?? c.type ?? "worker";
    const spec: Record<string, unknown> = {
      id: c.id,
      start: () => startNode(path, c),
      type: kind === "worker" ? "worker" : "supervisor",
      restart: c.restart ?? "permanent",
      modules: [kind === "worker" ? "Scn.Worker" : kind === "supervisor" ? "Scn.Sup" : "Scn.DynSup"],
    };
    if (c.shutdown !== undefined) spec.shutdown = c.shutdown;
    if (c.significant !== undefined) spec.significant = c.significant;
    return spec;
  }

  // ---- the runner (Scn.Runner.main)
  const runner = rt.shell; // traps exits, like the oracle's runner process
  const result = (i: number | undefined, op: string, value: Term, encoded?: unknown) =>
    tracer.add({ ev: "result", ...(i !== undefined ? { step: i } : {}), op, value: encoded ?? tracer.enc(value) });

  const root = scn.tree.id ?? "root";
  const rootKind = scn.tree.kind ?? "supervisor";
  const res = rt.runSync(() => startNode(root, { ...scn.tree, kind: rootKind }), "start_root");
  result(undefined, "start_root", res);
  settle(rt, tracer);

  const ops = makeOps({
    rt,
    pidOf: (path) => tracer.pidOf(path),
    started: (path, pid, kind) => tracer.started(path, pid, kind),
    add: (ev) => tracer.add(ev),
    enc: (t) => encode(t, tracer.names, null),
    nameOf: (pid) => tracer.names.get(pid),
    worker: Worker,
  });

  const awaitDown = (pid: Pid, ms: number) => rt.runUntil(() => pid.dead, ms);

  scn.steps.forEach((st, idx) => {
    const i = idx + 1;
    step(st, i);
    settle(rt, tracer);
  });

  function step(step: Step, i: number): void {
    const ps = step as OpStep;
    if (ps.by !== undefined) {
      // Run by the scripted process at that path: its serve loop runs the step and records the result.
      const { by, ...rest } = ps;
      // The runner waits until the process has run it (or died, or 5 s passed), as the oracle does.
      const pid = tracer.pidOf(by as string);
      const isDone = (m: Term) => Array.isArray(m) && m[0] === "scn_done" && m[1] === i;
      rt.send(pid, ["scn_do", rest as unknown as Term, i, runner]);
      rt.runUntil(() => pid.dead || (runner.mailbox?.find(isDone) ?? -1) >= 0, 5000);
      const at = runner.mailbox?.find(isDone) ?? -1;
      if (at >= 0) runner.mailbox!.removeAt(at);
      return;
    }
    if (PROCESS_OPS[ps.op] && !RUNNER_STEP_OPS.has(ps.op)) {
      rt.runSync(() => ops.runOp(ps, i, undefined), ps.op);
      return;
    }
    const st = step as SupervisorStep;
    switch (st.op) {
      case "kill": {
        const pid = tracer.pidOf(st.target);
        rt.signal(pid, runner, decode(st.reason ?? "kill"), "exit");
        awaitDown(pid, 100);
        return;
      }
      case "crash": {
        const pid = tracer.pidOf(st.target);
        rt.send(pid, ["scn_exit", decode(st.reason ?? "boom")]);
        awaitDown(pid, 1000);
        return;
      }
      case "raise": {
        const pid = tracer.pidOf(st.target);
        rt.send(pid, "scn_raise");
        awaitDown(pid, 1000);
        return;
      }
      case "stop": {
        const pid = tracer.pidOf(st.target);
        rt.signal(pid, runner, decode(st.reason ?? "shutdown"), "exit");
        awaitDown(pid, st.timeout ?? 30_000);
        return;
      }
      case "wait":
        rt.advance(st.ms);
        return;
      case "set_start_results":
        results.set(st.path, [...st.results]);
        return;
      case "start_child": {
        const sup = tracer.pidOf(st.sup);
        const spec = childSpec(st.sup, st.spec);
        const op = st.spec.kind_of_sup === "dynamic" ? DynamicSupervisor.startChild(sup, spec) : Supervisor.startChild(sup, spec as unknown as ChildSpec);
        result(i, "start_child", rt.runSync(() => op[Symbol.iterator](), "start_child"));
        return;
      }
      case "terminate_child":
      case "restart_child":
      case "delete_child": {
        const sup = tracer.pidOf(st.sup);
        const target: Term = st.id.includes("#") || st.id.startsWith("/") ? tracer.pidOf(st.id) : st.id;
        const fn = st.op === "terminate_child" ? Supervisor.terminateChild : st.op === "restart_child" ? Supervisor.restartChild : Supervisor.deleteChild;
        result(i, st.op, rt.runSync(() => fn(sup, target)[Symbol.iterator](), st.op));
        return;
      }
      case "terminate_child_pid": {
        const sup = tracer.pidOf(st.sup);
        const target = tracer.pidOf(st.target);
        result(i, "terminate_child", rt.runSync(() => Supervisor.terminateChild(sup, target)[Symbol.iterator](), "terminate_child"));
        return;
      }
      case "which_children": {
        const sup = tracer.pidOf(st.sup);
        const list = rt.runSync(() => Supervisor.whichChildren(sup)[Symbol.iterator](), "which_children");
        result(i, "which_children", null, list.map((c) => ({ id: tracer.enc(c.id), type: c.type, child: c.child instanceof Pid ? tracer.enc(c.child) : c.child })));
        return;
      }
      case "count_children": {
        const sup = tracer.pidOf(st.sup);
        const c = rt.runSync(() => Supervisor.countChildren(sup)[Symbol.iterator](), "count_children");
        result(i, "count_children", null, { active: c.active, specs: c.specs, supervisors: c.supervisors, workers: c.workers });
        return;
      }
      case "send":
        rt.send(tracer.pidOf(st.target), decode(st.msg));
        return;
      case "cast":
        GenServer.cast(tracer.pidOf(st.target), decode(st.msg));
        return;
      case "call": {
        const pid = tracer.pidOf(st.target);
        const timeout = st.timeout ?? 5000;
        let value: Term;
        try {
          value = ["reply", rt.runSync(() => GenServer.call(pid, decode(st.request), timeout)[Symbol.iterator](), "call")];
        } catch (e) {
          if (!(e instanceof ExitSignal)) throw e;
          value = ["exit", e.reason];
        }
        result(i, "call", value);
        return;
      }
    }
  }

  return { events: tracer.events };
}

/** Ops the runner itself implements below (the supervisor-level format); every other op is in ops.ts. */
const RUNNER_STEP_OPS = new Set(["kill", "crash", "raise", "stop", "wait", "set_start_results", "start_child", "terminate_child", "restart_child", "delete_child", "terminate_child_pid", "which_children", "count_children", "send", "cast", "call"]);

/** Settles like the oracle: run until quiescent, moving time only while a supervisor is mid-operation. */
function settle(rt: Runtime, tracer: Tracer): void {
  for (let guard = 0; guard < 100_000; guard++) {
    rt.drive();
    const busy = [...tracer.sups].some((s) => s.alive && (s.cont !== null || (s.mailbox?.length ?? 0) > 0));
    if (!busy) return;
    const next = rt.nextTimerAt();
    if (next === undefined) return;
    rt.advanceTo(next);
  }
}

