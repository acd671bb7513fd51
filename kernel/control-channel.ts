/**
 * The control channel: comm target `otp-lab.control`, the notebook's equivalent of a REST/WebSocket API. A front
 * end or a script opens a comm to it on a running kernel and drives the kernel's runtime with requests
 * `{ id, op, ... }`; each gets one reply `{ id, ok: true, result }` or `{ id, ok: false, error: { message } }`.
 * After `subscribe`, the kernel pushes `{ event, subscription, ... }` messages on the same comm.
 *
 * Requests are checked before anything is done, so a bad one changes nothing in the runtime, and its error says
 * how to fix it. With the virtual clock, an operation completes at once and the runtime is then settled (run
 * until quiescent, as the kernel does after a cell) before the reply, so remote control stays deterministic.
 * With the real clock, blocking operations are awaited.
 *
 * Values in replies are JSON: pids as "<0.82.0>", other OTP terms as plain JSON where they are (arrays, strings,
 * numbers, objects), else as their Elixir-style text.
 */
import { getRuntime } from "../runtime/default.js";
import { Pid } from "../runtime/process.js";
import type { Runtime } from "../runtime/runtime.js";
import { Module, getModule } from "../runtime/code.js";
import { GenServer, type GenServerData } from "../runtime/gen_server.js";
import { Supervisor } from "../runtime/supervisor.js";
import type { ChildSpec } from "../runtime/child_spec.js";
import { DynamicSupervisor } from "../runtime/dynamic_supervisor.js";
import { hotSwap } from "../runtime/hot_swap.js";
import { crash, injectDelay, kill } from "../runtime/faults.js";
import { processInfo as introspectInfo, snapshot as introspectSnapshot } from "../runtime/introspect.js";
import { formatTerm, type Term } from "../runtime/terms.js";
import type { RuntimeEvent, Strategy } from "../runtime/observe.js";
import { andThen, crashReason, deleteChildNow, findPid, restartChildNow, runOp, type Eventually } from "../runtime/child-actions.js";
import { registerCommTarget, type Comm } from "./comm.js";

export const CONTROL_TARGET = "otp-lab.control";

export const OPS = [
  "list_supervisors",
  "start_supervisor",
  "tree",
  "add_child",
  "remove_child",
  "restart_child",
  "kill",
  "crash",
  "inject_delay",
  "process_info",
  "state",
  "reload",
  "subscribe",
  "unsubscribe",
] as const;
export type OpName = (typeof OPS)[number];

export const TOPICS = ["supervisor", "process", "code"] as const;

const STRATEGIES: Strategy[] = ["one_for_one", "one_for_all", "rest_for_one"];
const RESTARTS = ["permanent", "transient", "temporary"];

/** How often a `process` subscription looks at its process's state (wall-clock ms). */
const STATE_POLL_MS = 200;

/** A request that cannot be carried out; `message` says how to fix it. */
class BadRequest extends Error {}

type Request = Record<string, unknown> & { op: OpName };

interface Subscription {
  id: string;
  topic: (typeof TOPICS)[number];
  rt: Runtime;
  unsubscribe: () => void;
  /** For `process`: the pid and the last state sent (JSON text). */
  pid?: Pid;
  last?: string;
}

/** Registers the target; returns a function that unregisters it. */
export function installControlChannel(): () => void {
  return registerCommTarget(CONTROL_TARGET, (comm) => new ControlSession(comm));
}

/** One opened comm: its subscriptions, and the events waiting to be pushed. */
class ControlSession {
  private readonly subs = new Map<string, Subscription>();
  private nextSub = 1;
  private pending: Record<string, unknown>[] = [];
  private flushScheduled = false;
  private poller: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly comm: Comm) {
    comm.onMessage((data) => this.receive(data));
    comm.onClose(() => this.closeAll());
  }

  private receive(data: unknown): void {
    const id = isRecord(data) && (typeof data.id === "number" || typeof data.id === "string") ? data.id : null;
    let result: Eventually<unknown>;
    try {
      result = this.perform(checkRequest(data));
    } catch (err) {
      return this.reply(id, err);
    }
    if (result instanceof Promise) {
      result.then((r) => this.reply(id, null, r), (err: unknown) => this.reply(id, err));
    } else this.reply(id, null, result);
  }

  private reply(id: unknown, err: unknown, result?: unknown): void {
    // What the operation started runs to quiescence first, as after a cell (virtual clock: deterministic).
    let settleError: unknown = null;
    try {
      const rt = getRuntime();
      if (!rt.current) rt.settle();
    } catch (e) {
      settleError = e;
    }
    if (this.comm.closed) return;
    if (err !== null && err !== undefined) {
      this.comm.send({ id, ok: false, error: errorContent(err) });
    } else if (settleError !== null) {
      this.comm.send({ id, ok: false, error: errorContent(settleError) });
    } else {
      this.comm.send({ id, ok: true, result: toJson(result) });
    }
    this.pollStates();
    this.flush();
  }

  private perform(req: Request): Eventually<unknown> {
    const rt = getRuntime();
    switch (req.op) {
      case "list_supervisors":
        return rt
          .processes()
          .filter((p) => isSupervisor(p))
          .map((p) => {
            const info = introspectInfo(rt, p);
            const snap = introspectSnapshot(rt, p);
            return {
              pid: p.label,
              ...(p.name ? { name: p.name } : {}),
              behaviour: info.behaviour,
              ...(snap.root.strategy ? { strategy: snap.root.strategy } : {}),
              children: snap.root.children?.length ?? 0,
              ...(p.supervisedBy ? { supervisor: p.supervisedBy.sup.label } : {}),
            };
          });
      case "start_supervisor": {
        const flags = supervisorFlags(req);
        const children = childList(rt, req.children, "children");
        const r = runOp(rt, Supervisor.start(children, { ...flags, name: optionalString(req, "name") }));
        return andThen(r, (res) => {
          const [tag, pid] = res as [string, unknown];
          if (tag !== "ok" || !(pid instanceof Pid)) throw new BadRequest(`start_supervisor: the supervisor did not start: ${formatTerm(res)}; check the child specs`);
          return { pid: pid.label, tree: introspectSnapshot(rt, pid) };
        });
      }
      case "tree":
        return introspectSnapshot(rt, supervisorArg(rt, req));
      case "add_child": {
        const sup = supervisorArg(rt, req);
        const spec = childSpec(rt, req.spec, "add_child: spec") as ChildSpec;
        const op = isDynamic(sup) ? DynamicSupervisor.startChild(sup, spec) : Supervisor.startChild(sup, spec);
        return andThen(runOp(rt, op), (r) => otpResult("add_child", r));
      }
      case "remove_child": {
        const sup = supervisorArg(rt, req);
        if (isDynamic(sup)) {
          const pid = pidArg(rt, req, "id");
          return andThen(runOp(rt, DynamicSupervisor.terminateChild(sup, pid)), (r) => otpResult("remove_child", r));
        }
        return andThen(deleteChildNow(rt, sup, childIdArg(req)), (r) => otpResult("remove_child", r));
      }
      case "restart_child": {
        const sup = supervisorArg(rt, req);
        if (isDynamic(sup)) throw new BadRequest("restart_child: a DynamicSupervisor restarts its children itself; use kill to see it, or remove_child and add_child");
        return andThen(restartChildNow(rt, sup, childIdArg(req)), (r) => otpResult("restart_child", r));
      }
      case "kill": {
        const pid = livePidArg(rt, req);
        kill(pid, req.reason === undefined ? "kill" : termArg(req.reason, "reason"));
        return { pid: pid.label };
      }
      case "crash": {
        const pid = livePidArg(rt, req);
        const reason = req.reason === undefined ? "error" : req.reason;
        crash(pid, typeof reason === "string" ? crashReason(reason, String(req.message ?? "crashed through otp-lab.control")) : termArg(reason, "reason"));
        return { pid: pid.label };
      }
      case "inject_delay": {
        const pid = livePidArg(rt, req);
        const ms = req.ms;
        if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) throw new BadRequest("inject_delay: ms must be a number of milliseconds ≥ 0 (0 removes the delay)");
        if (!gsData(pid)) throw new BadRequest(`inject_delay: ${pid.label} is not a GenServer-based process; delays apply to GenServer message handling`);
        injectDelay(pid, ms);
        return { pid: pid.label, ms };
      }
      case "process_info":
        return introspectInfo(rt, livePidArg(rt, req));
      case "state": {
        const pid = livePidArg(rt, req);
        const d = gsData(pid);
        if (!d) throw new BadRequest(`state: ${pid.label} is not a GenServer-based process (GenServer, Agent, Supervisor); a plain process has no state to read`);
        // Read directly, without a system message: reading must not change what the runtime does.
        return d.state;
      }
      case "reload": {
        const name = req.module;
        if (typeof name !== "string" || !name) throw new BadRequest('reload: give the module\'s name, e.g. { "op": "reload", "module": "Counter" }');
        const mod = getModule(rt, name);
        if (!mod) throw new BadRequest(`reload: no module named ${JSON.stringify(name)}; define it in a cell with defmodule(${JSON.stringify(name)}, {...})`);
        return andThen(runOp(rt, hotSwap(mod, mod.callbacks)), (results) => ({
          module: name,
          version: mod.version,
          servers: results.map((r) => ({ pid: r.pid.label, result: toJson(r.result) })),
        }));
      }
      case "subscribe":
        return this.subscribe(rt, req);
      case "unsubscribe": {
        const id = req.subscription;
        const sub = typeof id === "string" ? this.subs.get(id) : undefined;
        if (!sub) throw new BadRequest(`unsubscribe: no subscription ${JSON.stringify(id)}; subscribe returned { subscription: "s1" }, pass that`);
        sub.unsubscribe();
        this.subs.delete(sub.id);
        this.updatePoller();
        return { subscription: sub.id };
      }
    }
  }

  private subscribe(rt: Runtime, req: Request): { subscription: string; topic: string } {
    const topic = req.topic as (typeof TOPICS)[number];
    if (!TOPICS.includes(topic)) throw new BadRequest(`subscribe: topic must be one of ${TOPICS.join(", ")}; got ${JSON.stringify(topic)}`);
    const id = `s${this.nextSub++}`;
    let sub: Subscription;
    if (topic === "process") {
      const pid = livePidArg(rt, req);
      if (!gsData(pid)) throw new BadRequest(`subscribe: ${pid.label} is not a GenServer-based process; only their state can be followed`);
      sub = { id, topic, rt, pid, unsubscribe: () => {}, last: undefined };
    } else {
      const sup = req.sup === undefined ? null : supervisorArg(rt, req);
      const supLabel = sup?.label;
      const wanted =
        topic === "code"
          ? (e: RuntimeEvent) => e.type === "code_load" || e.type === "code_purge" || e.type === "code_change"
          : (e: RuntimeEvent) => (e.type === "restart" || e.type === "report") && (supLabel === undefined || e.sup === supLabel || underSupervisor(rt, e.sup, sup!));
      const unsubscribe = rt.events.subscribe((e) => {
        if (wanted(e)) this.push({ event: topic, subscription: id, data: e });
      });
      sub = { id, topic, rt, unsubscribe };
    }
    this.subs.set(id, sub);
    this.updatePoller();
    return { subscription: id, topic: String(topic) };
  }

  /** Queues a push; sent after the reply being prepared, or on the next turn of the event loop. */
  private push(msg: Record<string, unknown>): void {
    this.pending.push(msg);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const msgs = this.pending.splice(0);
    if (this.comm.closed) return;
    for (const m of msgs) this.comm.send(toJson(m));
  }

  /** Pushes the state of followed processes that changed (and their exit). */
  private pollStates(): void {
    for (const sub of this.subs.values()) {
      if (sub.topic !== "process" || !sub.pid) continue;
      const pid = sub.pid;
      if (!pid.alive) {
        this.pending.push({ event: "process", subscription: sub.id, pid: pid.label, alive: false, reason: formatTerm(pid.exitReason) });
        sub.unsubscribe();
        this.subs.delete(sub.id);
        continue;
      }
      const state = toJson(gsData(pid)?.state);
      const text = JSON.stringify(state);
      if (text === sub.last) continue;
      sub.last = text;
      this.pending.push({ event: "process", subscription: sub.id, pid: pid.label, alive: true, state });
    }
    this.updatePoller();
  }

  private updatePoller(): void {
    const needed = [...this.subs.values()].some((s) => s.topic === "process");
    if (needed && !this.poller) {
      this.poller = setInterval(() => {
        this.pollStates();
        this.flush();
      }, STATE_POLL_MS);
      this.poller.unref?.();
    } else if (!needed && this.poller) {
      clearInterval(this.poller);
      this.poller = null;
    }
  }

  private closeAll(): void {
    for (const s of this.subs.values()) s.unsubscribe();
    this.subs.clear();
    this.pending = [];
    this.updatePoller();
  }
}

// ------------------------------------------------------------------ checking requests

function checkRequest(data: unknown): Request {
  if (!isRecord(data)) throw new BadRequest('a request is a JSON object such as { "id": 1, "op": "list_supervisors" }');
  if (!(typeof data.id === "number" || typeof data.id === "string")) throw new BadRequest('every request needs an "id" (a number or string) that its reply repeats');
  if (typeof data.op !== "string" || !OPS.includes(data.op as OpName)) {
    throw new BadRequest(`unknown op ${JSON.stringify(data.op)}; use one of ${OPS.join(", ")}`);
  }
  return data as Request;
}

function optionalString(req: Request, key: string): string | undefined {
  const v = req[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new BadRequest(`${req.op}: ${key} must be a string`);
  return v;
}

function pidArg(rt: Runtime, req: Request, key = "pid"): Pid {
  const v = req[key];
  if (typeof v !== "string") throw new BadRequest(`${req.op}: give "${key}" as a pid such as "<0.82.0>" or a registered name`);
  const pid = findPid(rt, v);
  if (!pid) throw new BadRequest(`${req.op}: no live process ${JSON.stringify(v)} (it exited, or never existed); list_supervisors and tree give the pids running now`);
  return pid;
}

function livePidArg(rt: Runtime, req: Request): Pid {
  const pid = pidArg(rt, req);
  if (!pid.alive) throw new BadRequest(`${req.op}: ${pid.label} is dead (exit reason ${formatTerm(pid.exitReason)}); tree gives the pids running now`);
  return pid;
}

function supervisorArg(rt: Runtime, req: Request): Pid {
  const v = req.sup;
  if (typeof v !== "string") throw new BadRequest(`${req.op}: give "sup" as a supervisor's pid such as "<0.81.0>" or its registered name; list_supervisors lists them`);
  const pid = findPid(rt, v);
  if (!pid || !pid.alive) throw new BadRequest(`${req.op}: no live process ${JSON.stringify(v)}; list_supervisors lists the supervisors`);
  if (!isSupervisor(pid)) throw new BadRequest(`${req.op}: ${pid.label} is not a supervisor; list_supervisors lists the supervisors`);
  return pid;
}

function childIdArg(req: Request): Term {
  const v = req.child;
  if (typeof v !== "string" && typeof v !== "number") throw new BadRequest(`${req.op}: give the child's id as "child", e.g. { "op": "${req.op}", "sup": "<0.81.0>", "child": "a" }`);
  return v;
}

function termArg(v: unknown, what: string): Term {
  if (v === null || typeof v === "function") throw new BadRequest(`${what} must be a JSON value such as "shutdown" or ["shutdown", "x"]`);
  return v as Term;
}

function supervisorFlags(req: Record<string, unknown>, where = "start_supervisor"): { strategy: Strategy; intensity?: number; period?: number } {
  const strategy = (req.strategy ?? "one_for_one") as Strategy;
  if (!STRATEGIES.includes(strategy)) throw new BadRequest(`${where}: strategy must be one of ${STRATEGIES.join(", ")}; got ${JSON.stringify(req.strategy)}`);
  for (const k of ["intensity", "period"] as const) {
    if (req[k] !== undefined && (typeof req[k] !== "number" || (req[k] as number) < 0)) throw new BadRequest(`${where}: ${k} must be a number ≥ 0`);
  }
  return { strategy, intensity: req.intensity as number | undefined, period: req.period as number | undefined };
}

/** The generic worker of child specs given as data without a module: a GenServer holding its argument. */
const workers = new WeakMap<Runtime, Module>();
function genericWorker(rt: Runtime): Module {
  let m = workers.get(rt);
  if (!m) {
    m = new Module(rt, "Worker", {
      init: (arg: Term) => ["ok", arg ?? null],
      handleCall: (req: Term, _from: unknown, state: Term) => (req === "get" ? ["reply", state, state] : ["reply", "ok", req]),
      handleCast: (msg: Term) => ["noreply", msg],
    });
    workers.set(rt, m);
  }
  return m;
}

function childList(rt: Runtime, v: unknown, where: string): object[] {
  if (!Array.isArray(v)) throw new BadRequest(`start_supervisor: ${where} must be a list of child specs such as [{ "id": "a" }, { "id": "b", "module": "Counter", "arg": 0 }]`);
  const ids = new Set<unknown>();
  return v.map((c, i) => {
    const spec = childSpec(rt, c, `${where}[${i}]`);
    if (ids.has(spec.id)) throw new BadRequest(`start_supervisor: ${where} has the id ${JSON.stringify(spec.id)} twice; child ids must be unique`);
    ids.add(spec.id);
    return spec;
  });
}

/**
 * A child spec as data: `{ id, module?, arg?, restart?, shutdown?, type? }` (a GenServer of the module defined
 * with `defmodule(module, ...)`, else a generic worker holding `arg`), or `{ id, type: "supervisor", strategy?,
 * children: [...] }` for a nested supervisor.
 */
function childSpec(rt: Runtime, v: unknown, where: string): { id: Term; start: () => unknown; restart?: string; shutdown?: number | "brutal_kill" | "infinity"; type?: "worker" | "supervisor" } {
  if (!isRecord(v)) throw new BadRequest(`${where}: a child spec is an object such as { "id": "a", "module": "Counter", "arg": 0 }`);
  const id = v.id;
  if (typeof id !== "string" && typeof id !== "number") throw new BadRequest(`${where}: the child spec needs an "id" (string or number)`);
  const restart = v.restart;
  if (restart !== undefined && !RESTARTS.includes(restart as string)) throw new BadRequest(`${where}: restart must be one of ${RESTARTS.join(", ")}`);
  const shutdown = v.shutdown;
  if (shutdown !== undefined && !(typeof shutdown === "number" && shutdown >= 0) && shutdown !== "brutal_kill" && shutdown !== "infinity") {
    throw new BadRequest(`${where}: shutdown must be milliseconds, "brutal_kill" or "infinity"`);
  }
  const base = { id, ...(restart ? { restart: restart as string } : {}), ...(shutdown !== undefined ? { shutdown: shutdown as number } : {}) };
  if (v.type === "supervisor") {
    const flags = supervisorFlags(v, where);
    const children = childList(rt, v.children ?? [], `${where}.children`);
    return { ...base, type: "supervisor", start: () => Supervisor.startLink(children, flags) };
  }
  if (v.type !== undefined && v.type !== "worker") throw new BadRequest(`${where}: type must be "worker" or "supervisor"`);
  let mod: Module;
  if (v.module === undefined) mod = genericWorker(rt);
  else {
    if (typeof v.module !== "string") throw new BadRequest(`${where}: module must be the name of a module defined with defmodule, e.g. "Counter"`);
    const found = getModule(rt, v.module);
    if (!found) throw new BadRequest(`${where}: no module named ${JSON.stringify(v.module)}; define it in a cell with defmodule(${JSON.stringify(v.module)}, {...}) first`);
    mod = found;
  }
  const arg = v.arg as Term;
  return { ...base, type: "worker", start: () => GenServer.startLink(mod, arg) };
}

// ------------------------------------------------------------------ results

function isSupervisor(p: Pid): boolean {
  const d = p.data as { kind?: string } | null;
  return !!d && (d.kind === "supervisor" || d.kind === "dynamic_supervisor");
}

function isDynamic(p: Pid): boolean {
  return (p.data as { kind?: string } | null)?.kind === "dynamic_supervisor";
}

function gsData(p: Pid): GenServerData | null {
  const d = p.data as GenServerData | null;
  return d && typeof d === "object" && "mod" in d ? d : null;
}

/** Whether the supervisor `label` is `sup` or below it. */
function underSupervisor(rt: Runtime, label: string, sup: Pid): boolean {
  for (let p = findPid(rt, label); p; p = p.supervisedBy?.sup) if (p === sup) return true;
  return false;
}

/** OTP's `["error", reason]` is a failed request: its message names the result. */
function otpResult(op: string, r: unknown): unknown {
  if (Array.isArray(r) && r[0] === "error") {
    throw Object.assign(new BadRequest(`${op}: the supervisor answered ${formatTerm(r as Term)}`), { reason: toJson(r[1]) });
  }
  return r;
}

function errorContent(err: unknown): Record<string, unknown> {
  const message = err instanceof Error ? err.message : String(err);
  const out: Record<string, unknown> = { message };
  if (!(err instanceof BadRequest) && err instanceof Error) out.type = err.name;
  const reason = (err as { reason?: unknown } | null)?.reason;
  if (reason !== undefined) out.reason = toJson(reason);
  return out;
}

/** Terms as JSON: pids as their text, other objects without a JSON form as their OTP text. */
export function toJson(v: unknown, depth = 0): unknown {
  if (v instanceof Pid) return v.label;
  if (v === undefined) return null;
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "function" || typeof v === "symbol") return String(v);
  if (depth > 50) return "…";
  if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJson(x, depth + 1)]));
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJson(x, depth + 1)]));
  }
  return formatTerm(v as Term);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
