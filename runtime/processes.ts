/**
 * Plain processes and the process primitives, Elixir's `Process`/`Kernel` functions, on the default runtime
 * (or the runtime of the running process).
 *
 * A plain process body is a generator function, so it can block:
 * @example
 * const echo = spawn(function* () {
 *   for (;;) {
 *     const [from, msg] = (yield* receive()) as [Pid, unknown];
 *     send(from, msg);
 *   }
 * });
 */

import { Pid, Ref, TIMEOUT, type Blocking } from "./process.js";
import { Runtime, receive as receiveG, sleep as sleepG } from "./runtime.js";
import { getRuntime } from "./default.js";
import { Op } from "./op.js";
import { ErlangError, ExitSignal, formatTerm, type Term } from "./terms.js";
import type { Dest, Name } from "./via.js";
import { Module, ModuleVersion, type CodeUser } from "./code.js";
import { processInfo as info, snapshot as snap, textTree as drawTextTree } from "./introspect.js";
import type { ProcessInfo, TreeNode, TreeSnapshot } from "./observe.js";

/** The runtime of the running process, else the default one. */
export function activeRuntime(): Runtime {
  return Runtime.active ?? getRuntime();
}

function rtOf(p?: Dest): Runtime {
  return p instanceof Pid ? p.rt : activeRuntime();
}

export type ProcessBody = (() => Blocking<unknown> | unknown) | [Module, string, Term[]];

export interface SpawnOpts {
  link?: boolean;
  monitor?: boolean;
  trapExit?: boolean;
  name?: string;
}

/** Spawns on another node (nodes.ts sets it: this module must not import the network). */
let remoteSpawn: ((node: string, body: ProcessBody, opts?: SpawnOpts) => Pid | [Pid, Ref]) | null = null;

/** @internal nodes.ts gives `spawn("b@lab", body)` its meaning. */
export function setRemoteSpawn(f: typeof remoteSpawn): void {
  remoteSpawn = f;
}

function onNode(node: string, body: ProcessBody, opts: SpawnOpts): Pid | [Pid, Ref] {
  if (!remoteSpawn) throw new Error(`spawn("${node}", ...): nodes are not loaded; import the runtime's index (it loads nodes.ts).`);
  return remoteSpawn(node, body, opts);
}

/**
 * Starts a process running `body` (a generator function, or a module function `[Module, "fn", args]`); with a
 * node name first, `spawn("b@lab", body)`, on that node (`spawn(Node, Fun)`, see nodes.ts).
 */
export function spawn(body: ProcessBody, opts?: SpawnOpts): Pid;
export function spawn(node: string, body: ProcessBody, opts?: SpawnOpts): Pid;
export function spawn(body: ProcessBody | string, opts?: SpawnOpts | ProcessBody, more?: SpawnOpts): Pid {
  if (typeof body === "string") return onNode(body, opts as ProcessBody, { ...more, monitor: false }) as Pid;
  return spawnHere(body, opts as SpawnOpts | undefined);
}

function spawnHere(body: ProcessBody, opts?: SpawnOpts): Pid {
  const rt = activeRuntime();
  const caller = rt.caller();
  let version: ModuleVersion | null = null;
  let run: () => unknown;
  if (Array.isArray(body)) {
    const [mod, fn, args] = body;
    version = mod.current; // a local loop stays in this version (R84)
    const f = (version.callbacks as Record<string, unknown>)[fn];
    if (typeof f !== "function") throw new TypeError(`spawn: ${mod.name} has no function '${fn}'.`);
    run = () => (f as (...a: Term[]) => unknown).apply(version!.callbacks, args);
  } else if (typeof body === "function") {
    run = body;
    if (isGeneratorFunction(body)) {
      // Calling a generator function runs none of its code: take its generator directly (one object less).
      // A fresh generator closure would also get its own prototype object, and with it a new hidden class
      // for its generator, which makes the scheduler's resume call megamorphic (3x slower spawns when the
      // body is written inline, as Erlang's `spawn(fun() -> ... end)` is). Sharing one prototype avoids both.
      // Not again for the body spawned last: assigning `prototype` rebuilds the function's initial map, which
      // cost a body spawned in a loop (`spawn(worker)` 100,000 times) about 1 µs per spawn.
      if (body !== lastBody) {
        (body as { prototype: object }).prototype = SHARED_GENERATOR_PROTO;
        lastBody = body;
      }
      // The body is called when the process first runs (see `Start` in process.ts).
      if (opts === undefined) return rt.spawnPlain(body as () => Blocking<unknown>, caller);
      return rt.spawnProcess({ link: opts.link ? caller : null, parent: caller, trapExit: opts.trapExit, name: opts.name, behaviourName: "process", start: body as () => Blocking<unknown> });
    }
  } else {
    throw new TypeError("spawn expects a generator function (function* () { ... }) or [Module, \"function\", args].");
  }
  const p = rt.spawnProcess({
    link: opts?.link ? caller : null,
    parent: caller,
    trapExit: opts?.trapExit,
    name: opts?.name,
    behaviourName: "process",
    ...(version ? { module: version.module.name, version: version.version } : {}),
    body: runBody(run),
  });
  if (version) p.data = { runningCode: version } satisfies CodeUser;
  return p;
}

/**
 * Runs a process body that is not a generator function (a module function that may return a generator).
 * Module-level on purpose: a `(function* () {...})()` written inside `spawn` is a new generator-function
 * closure per process, and V8 gives each its own prototype object and hidden class.
 */
function* runBody(run: () => unknown): Blocking<unknown> {
  const r = run();
  if (isGen(r)) return yield* r;
  return r;
}

/** `spawn_link`; `spawnLink("b@lab", body)` on another node. */
export function spawnLink(body: ProcessBody, opts?: Omit<SpawnOpts, "link">): Pid;
export function spawnLink(node: string, body: ProcessBody, opts?: Omit<SpawnOpts, "link">): Pid;
export function spawnLink(body: ProcessBody | string, opts?: Omit<SpawnOpts, "link"> | ProcessBody, more?: Omit<SpawnOpts, "link">): Pid {
  if (typeof body === "string") return onNode(body, opts as ProcessBody, { ...more, link: true, monitor: false }) as Pid;
  return spawnHere(body, { ...(opts as SpawnOpts | undefined), link: true });
}

/** `spawn_monitor`: the pid and the monitor reference held by the caller; `spawnMonitor("b@lab", body)` on another node. */
export function spawnMonitor(body: ProcessBody): [Pid, Ref];
export function spawnMonitor(node: string, body: ProcessBody): [Pid, Ref];
export function spawnMonitor(body: ProcessBody | string, onBody?: ProcessBody): [Pid, Ref] {
  if (typeof body === "string") return onNode(body, onBody!, { monitor: true }) as [Pid, Ref];
  const p = spawnHere(body);
  return [p, monitor(p)];
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const SHARED_GENERATOR_PROTO: object = Object.create(Object.getPrototypeOf(function* () {}).prototype);
let lastBody: unknown = null;
function isGeneratorFunction(f: unknown): boolean {
  return f instanceof GeneratorFunction;
}

function isGen(x: unknown): x is Blocking<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function" && typeof (x as Generator).throw === "function";
}

/**
 * `send(dest, msg)`; returns msg. Sending to an unregistered name raises `badarg` (R27); so does a via name, as
 * on the BEAM (send through `GenServer.cast`, `Registry.send` or `Global.send` instead).
 */
export function send<T>(dest: Dest, msg: T): T {
  rtOf(dest).send(dest, msg);
  return msg;
}

/** The running process; outside any process (a notebook cell), the runtime's shell, as in the Erlang shell. */
export function self(): Pid {
  return activeRuntime().caller();
}

/**
 * `Process.exit(pid, reason)` — sends an exit signal (R1–R5); with one argument, `exit(reason)`, the running
 * process exits (it throws, and can be caught like Erlang's `catch exit:R`).
 */
export function exit(target: Pid | string | Term, reason?: Term): true {
  if (reason === undefined) throw new ExitSignal(target);
  rtOf(target as Pid).exit(target as Pid | string, reason);
  return true;
}

export function link(p: Pid): true {
  const rt = p.rt;
  rt.link(rt.caller(), p);
  return true;
}

export function unlink(p: Pid): true {
  const rt = p.rt;
  rt.unlink(rt.caller(), p);
  return true;
}

/** The node every process of the runtime is on (it is not distributed): the name `erl` gives a node without one. */
export const NODE = "nonode@nohost";

/**
 * `Process.monitor(pid_or_name)`: the caller will get `["DOWN", ref, "process", pid, reason]`. Monitored by
 * registered name, the `DOWN` names `[name, "nonode@nohost"]` instead of the pid, and a name that nobody has
 * answers at once with reason `noproc`, as `erlang:monitor(process, Name)` does.
 */
export function monitor(p: Pid | string): Ref {
  if (p instanceof Pid) return p.rt.monitor(p.rt.caller(), p);
  if (typeof p !== "string") throw new TypeError(`monitor: expected a pid or a registered name (a string); got ${formatTerm(p)}`);
  const rt = activeRuntime();
  const me = rt.caller();
  return rt.monitor(me, rt.whereis(p), [p, rt.net === null ? NODE : rt.net.nodeName(me)]);
}

export type DemonitorOption = "flush" | "info";

/**
 * `Process.demonitor(ref, options)`: options `flush` (also remove a `DOWN` of this monitor already in the
 * mailbox) and `info` (return whether the monitor was still active: false when its `DOWN` was already sent).
 * Without `info` it returns true, as Erlang does. Options as Elixir's list (`["flush", "info"]`) or an object.
 * @example demonitor(ref, ["flush", "info"])   // false: the process had already died
 */
export function demonitor(ref: Ref, opts: DemonitorOption[] | { flush?: boolean; info?: boolean } = {}): boolean {
  const o = Array.isArray(opts) ? { flush: opts.includes("flush"), info: opts.includes("info") } : opts;
  if (Array.isArray(opts)) {
    const bad = opts.filter((x) => x !== "flush" && x !== "info");
    if (bad.length > 0) throw new ErlangError("badarg");
  }
  const rt = activeRuntime();
  const active = rt.demonitor(rt.caller(), ref, o.flush ?? false);
  return o.info ? active : true;
}

/** `Process.flag(:trap_exit, flag)` for the running process; returns the old value. */
export function trapExit(flag: boolean): boolean {
  const p = self();
  const old = p.trapExit;
  p.trapExit = flag;
  return old;
}

export function register(name: string, p: Pid): true {
  p.rt.register(name, p);
  return true;
}

/** The live process with a name: a local name, or a via / global name (`["via", "Registry", [reg, key]]`). */
export function whereis(name: Name): Pid | undefined {
  return activeRuntime().resolve(name);
}

/**
 * `Process.alive?(pid)`. As `is_process_alive/1` guarantees, the signals already sent to `pid` are handled first,
 * so after `exit(pid, "kill")` it answers false (R92).
 */
export function isAlive(p: Pid): boolean {
  p.rt.handlePending(p);
  return p.alive;
}

/**
 * `receive`: the first message matching `match` (any message when omitted), or `TIMEOUT` after `timeout` ms.
 * Inside a process: `const msg = yield* receive(m => ..., 1000)`. Outside (a cell): `await receive()` takes it
 * from the shell's mailbox, like `receive` typed in the Erlang shell.
 */
export function receive(match: ((msg: Term) => boolean) | null = null, timeout = Infinity): Op<Term> {
  return new Op(activeRuntime(), () => receiveG(match, timeout), "receive", match === null ? [] : timeout === Infinity ? [match] : [match, timeout]);
}
export { TIMEOUT };

/** The shell's pending messages, removed from its mailbox (the Erlang shell's `flush()`). */
export function flush(): Term[] {
  const rt = activeRuntime();
  const mb = rt.shell.mailbox;
  if (!mb) return [];
  const all = mb.toArray();
  mb.clear();
  return all;
}

/**
 * `Process.sleep(ms)`: `yield* sleep(ms)` inside a process; `await sleep(ms)` outside (with the virtual clock it
 * moves time forward by ms, running everything that becomes due).
 */
export function sleep(ms: number): Op<void> {
  const rt = activeRuntime();
  return new Op(rt, () => sleepG(ms), "sleep", [ms]);
}

/** Runs until no process is runnable and no timer is due. */
export function settle(): void {
  activeRuntime().settle();
}

/** Moves the virtual clock forward by `ms`, firing timers in order. */
export function advance(ms: number): void {
  activeRuntime().advance(ms);
}

/** The runtime clock in ms. */
export function now(): number {
  return activeRuntime().now();
}

/**
 * Reads from outside a process first let the runtime finish what is already runnable, so a cell that kills a
 * child and then looks sees what a call to the supervisor would report: the restart already done (messages to
 * one process are handled in order). Inside a process, reads are immediate.
 */
function settledForRead(rt: Runtime): void {
  if (Runtime.active !== rt) rt.settle();
}

/**
 * `Process.info(pid)`: what the runtime knows about a live process (status, mailbox length, links and monitors
 * as `Pid`s, restarts, memory...), or `undefined` when it is dead or no process has that registered name, so
 * read one field with `processInfo(pid)?.mailbox`. `processInfo.of(pid)` is the same for a process that must be
 * alive: it throws a clear error instead of returning `undefined`.
 * @example processInfo(pid)?.status      // "waiting", or undefined once pid is dead
 * @example processInfo.of(sup).links     // [#PID<0.80.0>, #PID<0.82.0>, ...]
 */
export function processInfo(p: Pid | string | undefined): ProcessInfo | undefined {
  if (p === undefined || p === null) return undefined; // `processInfo(whereis("name"))` for a name not registered
  const pid = lookUp(p, "processInfo");
  return pid && pid.alive ? info(pid.rt, pid) : undefined;
}

export namespace processInfo {
  /**
   * The info of a process that must be alive: like `processInfo(p)`, but throws an error saying why (the exit
   * reason of a dead process, or that no process has that name) instead of returning `undefined`.
   * @example processInfo.of(pid).mailbox
   */
  export function of(p: Pid | string): ProcessInfo {
    const pid = p === undefined || p === null ? undefined : lookUp(p, "processInfo.of");
    if (!pid) {
      throw new Error(typeof p === "string" ? `processInfo.of("${p}"): no process is registered as "${p}"` : `processInfo.of(${p}): expected a pid or a registered name`);
    }
    if (!pid.alive) {
      throw new Error(`processInfo.of(${pid}): the process is dead (exit reason ${formatTerm(pid.exitReason)}); processInfo(pid) returns undefined for a dead process instead of throwing`);
    }
    return info(pid.rt, pid);
  }
}

/** `p` resolved on its runtime after letting it settle, or a TypeError naming what was passed instead. */
function lookUp(p: Pid | string, what: string): Pid | undefined {
  if (!(p instanceof Pid) && typeof p !== "string") {
    throw new TypeError(`${what}: expected a pid or a registered name; got ${formatTerm(p)}`);
  }
  const rt = rtOf(p);
  settledForRead(rt);
  return rt.resolve(p);
}

/** All live processes with their info (Observer's process table). */
export function processes(): ProcessInfo[] {
  const rt = activeRuntime();
  settledForRead(rt);
  return rt.processes().filter((p) => p !== rt.shell && !p.driver).map((p) => info(rt, p));
}

/** The supervision tree under `root` as JSON (renders as a diagram in a notebook). */
export function snapshot(root: Pid | string): TreeSnapshot {
  const rt = rtOf(root);
  settledForRead(rt);
  return snap(rt, root);
}

/**
 * The supervision tree as indented text: of a supervisor pid or registered name (its tree now), of a snapshot,
 * or of one node of a snapshot.
 * @example textTree(sup)   // "<0.81.0> <0.81.0> [running, one_for_one]\n└─ a <0.82.0> [running]"
 */
export function textTree(tree: Pid | string | TreeSnapshot | TreeNode): string {
  return drawTextTree(tree instanceof Pid || typeof tree === "string" ? snapshot(tree) : tree);
}

/** The runtime's event log (renders as a sequence diagram in a notebook). */
export function events() {
  return activeRuntime().events;
}
