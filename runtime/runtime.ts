/**
 * The runtime: processes, signals, the scheduler and the clock.
 *
 * Semantics follow ERTS (otp-semantics.md §1.A):
 * - exit signals: `normal` is ignored by non-trapping targets (R1), trapped as `{'EXIT', From, R}` (R2, R5),
 *   `exit(P, kill)` is untrappable and becomes `killed` (R4), a dying process sends its reason to its links (R6–R8);
 * - monitors deliver exactly one `{'DOWN', Ref, process, Pid, Reason}` (R10, R11);
 * - messages between one pair of processes arrive in send order (R13).
 *
 * Signals (R92): messages, exit signals, links, unlinks, monitors, demonitors and `DOWN`s are signals, delivered
 * to each receiver in send order (so in order between every pair of processes, as OTP guarantees; one queue
 * per receiver makes the order total, which keeps runs deterministic). A receiver acts on a signal when it
 * handles it: a signal that would end the receiver waits in the receiver's signal queue (`Pid.sigq`) until the
 * scheduler runs it, never inside the sender's call, and every later signal to it waits behind that one.
 * A signal that cannot end the receiver (a message, a trapped exit, a link) is handled on arrival when nothing
 * waits before it: the receiver is not running, so that is the same as handling it when it is next scheduled.
 * `deliverSignal` is the one entry point for a signal of any kind.
 *
 * Scheduling: a FIFO run queue; each turn a process first handles its pending signals, then handles at most
 * `BUDGET` messages and goes to the back, so one busy process cannot starve the others.
 *
 * Determinism: with the virtual clock nothing depends on wall time, and the run queue, timer heap and
 * link/monitor sets are all insertion-ordered, so the same program gives the same event order on every run.
 */

import { runSoon, type TimerHandle } from "./macrotask.js";
import { Pid, type DistNode, linkExitOrder, addLink, removeLink, hasLink, addRef, hasRef, removeRef, Ref, TIMEOUT, type Behaviour, type Blocking, type Receive, type Start } from "./process.js";
import { ProcessTable } from "./process-table.js";
import { Mailbox } from "./mailbox.js";
import { RealClock, TimerHeap, VirtualClock, type Clock, type ClockKind, type Timer } from "./clock.js";
import { EventLog } from "./event-log.js";
import { ErlangError, ExitSignal, formatTerm, reasonFromThrow, setPidFormatter, type Term } from "./terms.js";
import type { RuntimeEvent } from "./observe.js";
import { DEFAULT_LOG_LEVEL, logProcessCrash, type LogLevelSetting } from "./logger.js";
import { isVia, whereisVia, type Dest } from "./via.js";

setPidFormatter((p) => p.toString());

/** Messages a process handles per turn before yielding the scheduler to others. */
const BUDGET = 200;

export interface RuntimeOptions {
  /** "virtual" (default): time moves only through `advance`/`sleep`; "real": wall-clock milliseconds. */
  clock?: ClockKind;
  /**
   * Run processes by themselves whenever work appears (after the current synchronous code, via setImmediate in Node: `macrotask.ts`).
   * Off by default so that tests and scenarios drive the scheduler explicitly (`settle`, `advance`).
   */
  autoDrive?: boolean;
  /** Wraps every scheduler run; the kernel uses it to make runaway process code interruptible. */
  guard?: (run: () => void) => void;
  /** Events kept in `events` (older ones are dropped). Default 100,000. */
  eventCapacity?: number;
  /** The least severe report shown (`Logger.level`, see logger.ts). Default "info". */
  logLevel?: LogLevelSetting;
}

export interface SpawnOptions {
  behaviour?: Behaviour | null;
  data?: unknown;
  /** A generator to run (plain process, or a behaviour's start-up). */
  body?: Blocking<unknown> | null;
  /** A generator function to call when the process first runs (instead of `body`; see `Start`). */
  start?: Start | null;
  link?: Pid | null;
  trapExit?: boolean;
  name?: string;
  parent?: Pid | null;
  /** For the spawn event and introspection. */
  behaviourName?: string;
  module?: string;
  version?: number;
  driver?: boolean;
}

export type SignalKind = "exit" | "link";

/**
 * How signals cross between nodes (net.ts implements it). The runtime asks it only for a signal whose sender
 * and receiver are on different nodes; it delivers later, in order per connection, through `deliver`
 * (messages, `DOWN`s) and `signal(..., arrived = true)` (exit signals), or drops what a cut connection loses.
 */
export interface CrossNode {
  /** A message (or a `DOWN`) from `from`'s node to `to`'s. */
  send(from: Pid, to: Pid, msg: Term): void;
  /** An exit signal (`exit/2`, or a link's) from `from`'s node to `to`'s. */
  signal(from: Pid, to: Pid, reason: Term, kind: SignalKind): void;
  /** Whether `a`'s node is connected to `b`'s, connecting them first when the network allows (auto-connect). */
  reach(a: Pid, b: Pid): boolean;
  /** The name of `p`'s node (`b@lab`). */
  nodeName(p: Pid): string;
}

/**
 * A signal from one process to another (R92). `exit` is `exit(Pid, Reason)`; `link-exit` is what a dying process
 * sends its links (acted on only while the receiver is still linked to the sender, so an `unlink` wins over an
 * exit signal it overtook); `down` is a monitor's notification, dropped if the receiver demonitored first.
 */
export type Signal =
  | { kind: "message"; msg: Term }
  | { kind: "exit"; reason: Term }
  | { kind: "link-exit"; reason: Term }
  | { kind: "link" }
  | { kind: "unlink" }
  | { kind: "monitor"; ref: Ref }
  | { kind: "demonitor"; ref: Ref }
  | { kind: "down"; ref: Ref; reason: Term };

// Signal kinds in a process's signal queue (`Pid.sigq`: three flat fields per signal, kind, sender, payload).
const S_MSG = 0;
const S_EXIT = 1;
const S_LINK_EXIT = 2;
const S_LINK = 3;
const S_UNLINK = 4;
const S_MONITOR = 5;
const S_DEMONITOR = 6;
const S_DOWN = 7;

/** Raised by `runSync` when nothing can ever complete the operation. */
export class DeadlockError extends Error {
  constructor(what: string) {
    super(
      `${what} can never complete: no process is runnable and no timer is pending. ` +
        `Check that the server you wait for is alive and replies (or use a timeout).`,
    );
    this.name = "DeadlockError";
  }
}

export class Runtime {
  /** The runtime whose scheduler is running right now (for API functions called from process code). */
  static active: Runtime | null = null;
  readonly clock: Clock;
  readonly events: EventLog;
  /** Live processes, oldest first. */
  readonly procs = new ProcessTable();
  readonly names = new Map<string, Pid>();
  /**
   * The runtime's "shell", like the Erlang shell: code outside any process (a notebook cell, a test) acts as
   * this process. Operations awaited from outside run on it, so it is the parent of what they start, and
   * messages sent to it wait in its mailbox until outside code receives them. It traps exits, so a crash
   * of something it started is a message, not the end of the shell; if it is killed anyway, a new one
   * takes its place.
   */
  shell: Pid;
  current: Pid | null = null;
  autoDrive: boolean;
  guard: ((run: () => void) => void) | null;
  /** This runtime's `Logger.level` (crash and supervisor reports, logger.ts). */
  logLevel: LogLevelSetting;
  /** Set once a second node is started (net.ts): carries what crosses nodes. */
  net: CrossNode | null = null;
  /** Where the next process is placed, while a remote spawn runs (net.ts); else on its spawner's node. */
  spawnNode: DistNode | null | undefined = undefined;

  private nextId = 80;
  private runQueue: Pid[] = [];
  private runHead = 0;
  private timers = new TimerHeap();
  private driving = false;
  private driveScheduled = false;
  private realTimer: TimerHandle | null = null;
  private exitHooks: Array<(p: Pid, reason: Term) => void> = [];

  constructor(opts: RuntimeOptions = {}) {
    this.clock = opts.clock === "real" ? new RealClock() : new VirtualClock();
    this.autoDrive = opts.autoDrive ?? false;
    this.guard = opts.guard ?? null;
    this.events = new EventLog(opts.eventCapacity);
    this.logLevel = opts.logLevel ?? DEFAULT_LOG_LEVEL;
    this.shell = this.newShell();
  }

  now(): number {
    return this.clock.now();
  }

  private newShell(): Pid {
    return this.spawnProcess({ behaviour: shellBehaviour, trapExit: true, behaviourName: "shell" });
  }

  emit(e: RuntimeEvent): void {
    this.events.push(e);
  }

  // ---------------------------------------------------------------- processes

  /**
   * `spawn(Fun)` with no options: a plain process running generator function `start` (called when it first
   * runs), started by `parent`. The common case of `spawnProcess` without its options object, which V8 did
   * not optimise away and which was a fifth of what a spawn allocated.
   */
  spawnPlain(start: Start, parent: Pid): Pid {
    const p = new Pid(this, this.nextId++);
    this.procs.add(p);
    this.events.pushSpawn(this.now(), p.id, parent.id, "process");
    p.cont = start;
    this.enqueue(p);
    return p;
  }

  spawnProcess(o: SpawnOptions): Pid {
    const p = new Pid(this, this.nextId++);
    p.behaviour = o.behaviour ?? null;
    p.data = o.data ?? null;
    if (o.trapExit) p.trapExit = true;
    if (o.driver) p.driver = true;
    this.procs.add(p);
    if (!o.name && (o.module ? o.version !== undefined : o.version === undefined)) {
      this.events.pushSpawn(this.now(), p.id, o.parent ? o.parent.id : -1, o.behaviourName || undefined, o.module, o.version);
    } else {
      this.emit(spawnEvent(this.now(), p.label, o));
    }
    if (o.name) this.register(o.name, p);
    if (o.link) this.link(p, o.link);
    const body = o.body ?? o.start;
    if (body) {
      p.cont = body;
      this.enqueue(p);
    }
    return p;
  }

  /** Gives a process spawned without a body its generator and makes it runnable. */
  startBody(p: Pid, body: Blocking<unknown>): void {
    p.cont = body;
    this.enqueue(p);
  }

  /** The running process. Throws outside a process, with the fix. */
  self(): Pid {
    if (!this.current) {
      throw new Error("self() was called outside a process. Call it inside a process body or a GenServer callback.");
    }
    return this.current;
  }

  /** The process to attribute an outside action to: the running process, or the shell. */
  caller(): Pid {
    const c = this.current;
    if (!c) return this.shell;
    return c.driver ? this.shell : c;
  }

  register(name: string, p: Pid): void {
    const existing = this.names.get(name);
    if (existing && existing.alive && existing !== p) {
      throw new ExitSignal(["badarg", ["already_registered", name, existing]]);
    }
    if (p.name && p.name !== name) this.names.delete(p.name);
    p.name = name;
    this.names.set(name, p);
  }

  unregister(name: string): void {
    const p = this.names.get(name);
    if (p) p.name = null;
    this.names.delete(name);
  }

  whereis(name: string): Pid | undefined {
    const p = this.names.get(name);
    return p && p.alive ? p : undefined;
  }

  /** A pid, or the live process registered under a name (local, or via a module); undefined when there is none. */
  resolve(target: Dest): Pid | undefined {
    if (typeof target === "string") return this.whereis(target);
    if (isVia(target)) return whereisVia(this, target);
    return target;
  }

  /** All live processes, oldest first. */
  processes(): Pid[] {
    return [...this.procs.values()];
  }

  // ---------------------------------------------------------------- messages and signals

  /** `send(Dest, Msg)`: to a dead pid it is a silent no-op; to an unregistered name it raises badarg (R27). */
  send(to: Dest, msg: Term): void {
    if (isVia(to)) {
      // As erlang:send/2: a via name is no destination. Its module's send (or GenServer.cast) delivers to it.
      const err = new ErlangError("badarg");
      err.message = `send: ${formatTerm(to)} is an invalid destination (erlang:send/2 takes a pid or a local name). Use GenServer.cast(name, msg), or the module's send: Registry.send([registry, key], msg), global.send(name, msg).`;
      throw err;
    }
    const p = this.resolve(to);
    if (!p) {
      throw new ExitSignal(["badarg", ["send", to, msg]]);
    }
    if (this.events.traceMessages) {
      this.emit({ type: "send", t: this.now(), from: this.caller().label, to: p.label, msg: formatTerm(msg) });
    }
    if (this.net !== null) {
      const from = this.caller();
      if (from.node !== p.node) return this.net.send(from, p, msg);
    }
    this.deliver(p, msg);
  }

  /**
   * A message to `p` from the running process (or from the runtime itself: replies, timeouts): appended to its
   * mailbox, waking it if it can use the message, or queued behind signals `p` has not handled yet (R92).
   */
  deliver(p: Pid, msg: Term): void {
    if (p.dead) return;
    if (p.sigq !== null) {
      p.sigq.push(S_MSG, null, msg);
      return;
    }
    this.push(p, msg);
  }

  /** Appends to the mailbox and wakes the process when it can use the message. */
  private push(p: Pid, msg: Term): void {
    (p.mailbox ??= new Mailbox()).push(msg);
    if (p.cont) {
      const r = p.recv;
      if (r && (r.match === null || r.match(msg))) this.enqueue(p);
      else if (!r) this.enqueue(p);
    } else if (p.behaviour && !p.behaviour.passive) {
      this.enqueue(p);
    }
  }

  /** `exit(Pid, Reason)` from the running process (or from outside, e.g. a notebook cell). */
  exit(target: Dest, reason: Term): void {
    const p = this.resolve(target);
    if (!p) {
      throw new ExitSignal(["badarg", ["exit", target, reason]]);
    }
    this.signal(p, this.caller(), reason, "exit"); // through the network when p is on another node
  }

  /**
   * An exit signal: `exit(Pid, Reason)` ("exit"), or the exit of a linked process ("link"). It takes effect when
   * `to` handles it (R92), not inside this call.
   */
  signal(to: Pid, from: Pid | null, reason: Term, kind: SignalKind, arrived = false): void {
    // Between nodes, the network carries it (net.ts) and hands it back with `arrived` set.
    if (!arrived && this.net !== null && from !== null && from.node !== to.node) return this.net.signal(from, to, reason, kind);
    this.post(to, kind === "exit" ? S_EXIT : S_LINK_EXIT, from, reason);
  }

  /**
   * Sends `signal` from `from` to `to` (R92): it reaches `to` after every signal sent to `to` before it, and takes
   * effect when `to` handles it. The one entry point for signals of every kind (a message, `exit/2`, a link's
   * exit, link, unlink, monitor, demonitor, `DOWN`): code that routes signals from elsewhere (another node)
   * calls this. Only the receiver's side of a link or monitor is done here; the sender's side is done by
   * `link` / `unlink` / `monitor` / `demonitor`, which then send the signal. `from` is a process of this
   * runtime (for a remote sender, the local process that stands for it): a `monitor` counts only while `from`
   * holds the ref in its `monitors`, and a link or monitor reaching an exited `to` is answered to `from`.
   */
  deliverSignal(from: Pid | null, to: Pid, signal: Signal): void {
    switch (signal.kind) {
      case "message":
        return this.post(to, S_MSG, from, signal.msg);
      case "exit":
        return this.post(to, S_EXIT, from, signal.reason);
      case "link-exit":
        return this.post(to, S_LINK_EXIT, from, signal.reason);
      case "link":
        return this.post(to, S_LINK, from, null);
      case "unlink":
        return this.post(to, S_UNLINK, from, null);
      case "monitor":
        return this.post(to, S_MONITOR, from, signal.ref);
      case "demonitor":
        return this.post(to, S_DEMONITOR, from, signal.ref);
      case "down": {
        const ref = signal.ref;
        return this.post(to, S_DOWN, from, ["DOWN", ref, "process", ref.object ?? from, signal.reason]);
      }
    }
  }

  /**
   * Puts a signal in `to`'s queue and makes `to` runnable, or handles it now when that is indistinguishable
   * from handling it later: nothing waits before it and it cannot end `to` (a process that is not running
   * cannot change its `trap_exit` flag, its links or its monitors before it handles its signals). A signal to
   * the running process itself is handled at once, as `exit(self(), R)` is on the BEAM; if it ends the process,
   * the process dies when it next yields.
   */
  private post(to: Pid, kind: number, from: Pid | null, payload: Term): void {
    if (to.dead) return this.handleExiting(to, kind, from, payload);
    const q = to.sigq;
    if (q === null) {
      if (to === this.current || !this.ends(to, kind, from, payload)) {
        this.handleSignal(to, kind, from, payload, true);
        return;
      }
      to.sigq = [kind, from, payload];
    } else {
      q.push(kind, from, payload);
    }
    this.enqueue(to);
  }

  /** Whether handling this signal now would end `to` (decided from `to`'s state, which only `to` changes). */
  private ends(to: Pid, kind: number, from: Pid | null, reason: Term): boolean {
    if (kind === S_EXIT) {
      if (reason === "kill") return true;
      if (to.trapExit) return false;
      return reason !== "normal" || from === to;
    }
    if (kind === S_LINK_EXIT) return !to.trapExit && reason !== "normal" && from !== null && hasLink(to, from);
    return false;
  }

  /**
   * Handles one signal to the live process `to`. An exit that ends `to` sets its `pendingExit`; whoever called
   * this terminates it (the scheduler, when `to` is running; `handlePending` otherwise). `wake`: the process is
   * not the one running, so a message it can use makes it runnable.
   */
  private handleSignal(to: Pid, kind: number, from: Pid | null, payload: Term, wake: boolean): void {
    switch (kind) {
      case S_MSG:
        if (wake) this.push(to, payload);
        else (to.mailbox ??= new Mailbox()).push(payload);
        return;
      case S_EXIT:
      case S_LINK_EXIT: {
        if (kind === S_LINK_EXIT) {
          // A link's exit counts only while the link stands: after `unlink` it has no effect (OTP 23+).
          if (from === null || !hasLink(to, from)) return;
          removeLink(to, from);
        }
        const reason = payload;
        if (this.events.traceMessages) {
          this.emit({ type: "signal", t: this.now(), ...(from ? { from: from.label } : {}), to: to.label, reason: formatTerm(reason) });
        }
        if (kind === S_EXIT && reason === "kill") return this.endWith(to, "killed"); // R4: untrappable
        if (kind === S_EXIT && from === to && reason === "normal" && !to.trapExit) return this.endWith(to, "normal"); // R3
        if (to.trapExit) return this.handleSignal(to, S_MSG, from, ["EXIT", from, reason], wake); // R2, R5, R7, R8
        if (reason === "normal") return; // R1, R6
        return this.endWith(to, reason);
      }
      case S_LINK:
        addLink(to, from!);
        return;
      case S_UNLINK:
        removeLink(to, from!);
        return;
      case S_MONITOR: {
        const ref = payload as Ref;
        // Not if the watcher demonitored (or died) before this arrived.
        if (hasRef(from!.monitors, ref)) to.monitoredBy = addRef(to.monitoredBy, ref);
        return;
      }
      case S_DEMONITOR:
        to.monitoredBy = removeRef(to.monitoredBy, payload as Ref);
        return;
      case S_DOWN: {
        const ref = (payload as Term[])[1] as Ref;
        if (!hasRef(to.monitors, ref)) return; // demonitored before the DOWN arrived: dropped
        to.monitors = removeRef(to.monitors, ref);
        return this.handleSignal(to, S_MSG, from, payload, wake);
      }
    }
  }

  private endWith(p: Pid, reason: Term): void {
    if (p.pendingExit === undefined) p.pendingExit = reason;
  }

  /**
   * A signal that reaches a process that has exited (or is exiting, with signals still queued): a link is
   * answered with an exit signal `noproc`, a monitor with `DOWN` `noproc` (as erts does); the rest is dropped.
   */
  private handleExiting(to: Pid, kind: number, from: Pid | null, payload: Term): void {
    if (from === null || from.dead) return;
    if (kind === S_LINK) this.post(from, S_LINK_EXIT, to, "noproc");
    else if (kind === S_MONITOR) {
      const ref = payload as Ref;
      this.post(from, S_DOWN, to, ["DOWN", ref, "process", ref.object ?? to, "noproc"]);
    }
  }

  /** Handles `p`'s queued signals in order, stopping at one that ends it (the rest stay for `terminate`). */
  private handleSignals(p: Pid): void {
    const q = p.sigq!;
    let i = 0;
    while (i < q.length) {
      const kind = q[i] as number;
      const from = q[i + 1] as Pid | null;
      const payload = q[i + 2];
      i += 3;
      this.handleSignal(p, kind, from, payload, false);
      if (p.pendingExit !== undefined) break;
    }
    p.sigq = i < q.length ? q.slice(i) : null;
  }

  /**
   * Makes `p` handle the signals already sent to it, now (for a process that is not running). What
   * `is_process_alive/1` guarantees: signals the caller sent before the call have been handled.
   */
  handlePending(p: Pid): void {
    if (p.dead || p.sigq === null || p === this.current) return;
    this.handleSignals(p);
    if (p.pendingExit !== undefined) this.terminate(p, p.pendingExit);
  }

  /**
   * Terminates `p` with `reason` now, or when it next yields if it is the running process. Not a signal: for the
   * runtime's own kills (a code purge, which returns only when its victims are dead; fault injection).
   */
  die(p: Pid, reason: Term): void {
    if (p.dead) return;
    if (p === this.current) {
      if (p.pendingExit === undefined) p.pendingExit = reason;
      return;
    }
    this.terminate(p, reason);
  }

  private terminate(p: Pid, reason: Term): void {
    if (p.dead) return;
    p.dead = true;
    p.exitReason = reason;
    p.queued = false;
    this.procs.delete(p);
    if (p.name && this.names.get(p.name) === p) this.names.delete(p.name);
    if (p.recvTimer) p.recvTimer.cancelled = true;
    p.recvTimer = null;
    p.recv = null;
    p.cont = null;
    p.mailbox = null;
    try {
      p.behaviour?.onExit?.(p, reason);
    } catch {
      // clean-up hooks must not stop the exit
    }
    const reasonText = reason === "normal" ? ":normal" : formatTerm(reason);
    if (p.name) this.emit({ type: "exit", t: this.now(), pid: p.label, reason: reasonText, name: p.name });
    else this.events.pushExit(this.now(), p.id, reasonText);
    for (const h of this.exitHooks) h(p, reason);
    if (p === this.shell) this.shell = this.newShell();
    const held = p.monitors;
    p.monitors = null;
    if (held instanceof Set) {
      for (const ref of held) ref.target!.monitoredBy = removeRef(ref.target!.monitoredBy, ref);
    } else if (held) {
      held.target!.monitoredBy = removeRef(held.target!.monitoredBy, held);
    }
    const links = p.links;
    p.links = null;
    const watchers = p.monitoredBy;
    p.monitoredBy = null;
    // Exit signals to the links, then DOWNs to the watchers; each takes effect when its receiver handles it. The
    // links in erts' order (linkExitOrder); to another node, through the network.
    if (links instanceof Set) {
      for (const q of linkExitOrder(links)) this.signal(q, p, reason, "link");
    } else if (links) {
      this.signal(links, p, reason, "link");
    }
    if (watchers instanceof Set) {
      for (const ref of watchers) this.down(ref, p, reason);
    } else if (watchers) {
      this.down(watchers, p, reason);
    }
    // Signals that were still queued: a link or a monitor is answered with noproc, the rest is dropped.
    const rest = p.sigq;
    p.sigq = null;
    if (rest) for (let i = 0; i < rest.length; i += 3) this.handleExiting(p, rest[i] as number, rest[i + 1] as Pid | null, rest[i + 2]);
  }

  /** Sends the `DOWN` of monitor `ref` on `p`, which died with `reason` (R10, R11). */
  private down(ref: Ref, p: Pid, reason: Term): void {
    const msg: Term = ["DOWN", ref, "process", ref.object ?? p, reason];
    // Between nodes, the network carries it and hands it back through deliverSignal (net.ts).
    if (this.net !== null && ref.watcher!.node !== p.node) return this.net.send(p, ref.watcher!, msg);
    this.post(ref.watcher!, S_DOWN, p, msg);
  }

  /** Calls `fn` with the raw exit reason whenever a process dies (the event log has it only as text). */
  onExit(fn: (p: Pid, reason: Term) => void): () => void {
    this.exitHooks.push(fn);
    return () => {
      this.exitHooks = this.exitHooks.filter((h) => h !== fn);
    };
  }

  /**
   * `link/1` between two processes. Linking to a dead process (R9): a caller trapping exits gets
   * `{'EXIT', Pid, noproc}` and `link` returns; any other caller gets the error exception `noproc` (Elixir's
   * `%ErlangError{original: :noproc}`), which, uncaught, exits it with `{noproc, Stack}`, as erts does.
   */
  link(a: Pid, b: Pid): void {
    if (a === b || a.dead) return;
    // A node that cannot be reached: the caller gets the exit signal `noconnection` at once, as from erts (which
    // tries the connection before it can learn whether the process lives).
    if (this.net !== null && a.node !== b.node && !this.net.reach(a, b)) return this.signal(a, b, "noconnection", "exit", true); // no link stands to carry a link exit
    if (b.dead) {
      if (a.trapExit) this.deliver(a, ["EXIT", b, "noproc"]);
      else throw new ErlangError("noproc");
      return;
    }
    // The caller's side now, the other side when `b` handles the link signal (R92): if `b` exits first, it
    // answers with an exit signal `noproc`.
    if (hasLink(a, b)) return;
    addLink(a, b);
    this.post(b, S_LINK, a, null);
  }

  /** `unlink/1`: from now on the link has no effect on `a`, even for an exit signal `b` already sent (R92). */
  unlink(a: Pid, b: Pid): void {
    if (!hasLink(a, b)) return;
    removeLink(a, b);
    this.post(b, S_UNLINK, a, null);
  }

  /**
   * `monitor(process, Target)` held by `watcher`; a dead or missing target answers `noproc` at once (R10).
   * `object` is what the `DOWN` names instead of the pid (`{Name, Node}` for a monitor made by name).
   */
  monitor(watcher: Pid, target: Pid | undefined, object: Term = null): Ref {
    const ref = new Ref();
    if (object !== null) ref.object = object;
    if (target && this.net !== null && watcher.node !== target.node && !this.net.reach(watcher, target)) {
      this.deliver(watcher, ["DOWN", ref, "process", object ?? target, "noconnection"]);
      return ref;
    }
    if (!target || target.dead) {
      this.deliver(watcher, ["DOWN", ref, "process", object ?? target, "noproc"]);
      return ref;
    }
    ref.watcher = watcher;
    ref.target = target;
    watcher.monitors = addRef(watcher.monitors, ref);
    // The target's side when it handles the monitor signal (R92): one that exits first answers DOWN noproc.
    this.post(target, S_MONITOR, watcher, ref);
    return ref;
  }

  /**
   * `demonitor(Ref, [flush])`; returns whether the monitor was still active and is now removed (what the
   * `info` option reports: false when the `DOWN` was already sent, or the ref was not a monitor of `watcher`).
   */
  demonitor(watcher: Pid, ref: Ref, flush = false): boolean {
    let active = false;
    if (hasRef(watcher.monitors, ref)) {
      watcher.monitors = removeRef(watcher.monitors, ref);
      this.post(ref.target!, S_DEMONITOR, watcher, ref);
      active = true;
    }
    if (flush && watcher.mailbox && watcher.mailbox.length > 0) {
      const i = watcher.mailbox.find((m) => Array.isArray(m) && m[0] === "DOWN" && m[1] === ref);
      if (i >= 0) watcher.mailbox.removeAt(i);
    }
    return active;
  }

  // ---------------------------------------------------------------- timers

  /** Calls `fire` after `ms` of runtime time. */
  after(ms: number, fire: () => void): Timer {
    const t = this.timers.add(this.now() + Math.max(0, ms), fire);
    if (this.clock.kind === "real") this.armRealTimer();
    return t;
  }

  /** Time of the next pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.timers.peek()?.at;
  }

  // ---------------------------------------------------------------- scheduler

  enqueue(p: Pid): void {
    if (p.queued || p.dead) return;
    p.queued = true;
    this.runQueue.push(p);
    if (this.autoDrive && !this.driving && !this.driveScheduled) {
      this.driveScheduled = true;
      runSoon(() => {
        this.driveScheduled = false;
        this.drive();
      });
    }
  }

  /** Runs processes and fires due timers until nothing is runnable; time does not move. */
  drive(): void {
    if (this.driving) return;
    this.driving = true;
    const outer = Runtime.active;
    Runtime.active = this;
    try {
      if (this.guard) this.guard(() => this.loop());
      else this.loop();
    } catch (err) {
      // Only an interrupt can get here (everything a process throws is caught below): the process that was
      // running is stopped, like a process killed from outside, and the runtime stays usable.
      const p = this.current;
      this.current = null;
      if (p && !p.dead) this.terminate(p, ["interrupted", String((err as Error)?.message ?? err)]);
      throw err;
    } finally {
      Runtime.active = outer;
      this.current = null;
      this.driving = false;
      if (this.clock.kind === "real") this.armRealTimer();
    }
  }

  private loop(): void {
    for (;;) {
      while (this.runHead < this.runQueue.length) {
        const p = this.runQueue[this.runHead];
        this.runQueue[this.runHead++] = undefined as unknown as Pid;
        if (this.runHead > 1024 && this.runHead * 2 > this.runQueue.length) {
          this.runQueue = this.runQueue.slice(this.runHead);
          this.runHead = 0;
        }
        p.queued = false;
        if (!p.dead) this.run(p);
      }
      if (!this.fireDue()) break;
    }
    this.runQueue.length = 0;
    this.runHead = 0;
  }

  private fireDue(): boolean {
    const now = this.now();
    let fired = false;
    for (let t = this.timers.peek(); t && t.at <= now; t = this.timers.peek()) {
      this.timers.pop();
      fired = true;
      t.fire();
    }
    return fired;
  }

  private run(p: Pid): void {
    this.current = p;
    let budget = BUDGET;
    try {
      while (budget-- > 0 && !p.dead) {
        if (p.sigq !== null) {
          this.handleSignals(p);
          if (p.pendingExit !== undefined) {
            const reason = p.pendingExit;
            this.current = null;
            this.terminate(p, reason);
            return;
          }
        }
        if (p.cont) {
          let value: Term = undefined;
          const r = p.recv;
          if (r) {
            const mb = p.mailbox;
            const i = mb && mb.length > 0 ? (r.match ? mb.find(r.match) : 0) : -1;
            if (i >= 0) {
              value = mb!.removeAt(i);
            } else if (p.timedOut || r.timeout <= 0) {
              value = TIMEOUT;
            } else {
              if (!p.recvTimer && r.timeout !== Infinity) {
                const timer = this.after(r.timeout, () => {
                  if (p.recv === r && !p.dead) {
                    p.timedOut = true;
                    this.enqueue(p);
                  }
                });
                p.recvTimer = timer;
              }
              break; // blocked
            }
            p.recv = null;
            p.timedOut = false;
            if (p.recvTimer) {
              p.recvTimer.cancelled = true;
              p.recvTimer = null;
            }
          }
          this.step(p, p.cont, value);
        } else if (p.behaviour && !p.behaviour.passive && p.mailbox && p.mailbox.length > 0) {
          const msg = p.mailbox.shift();
          p.reductions++;
          let g: Blocking<void> | void;
          try {
            g = p.behaviour.handle(p, msg);
          } catch (err) {
            this.current = null;
            this.terminate(p, reasonFromThrow(err));
            return;
          }
          if (g) {
            p.cont = g;
            this.step(p, g, undefined);
          }
        } else {
          break;
        }
        if (p.pendingExit !== undefined && !p.dead) {
          const reason = p.pendingExit;
          this.current = null;
          this.terminate(p, reason);
          return;
        }
      }
    } finally {
      this.current = null;
    }
    if (!p.dead && budget < 0) this.enqueue(p); // used its whole turn: more work may be waiting
  }

  private step(p: Pid, cont: Blocking<unknown> | Start, value: Term): void {
    let r: IteratorResult<Receive, unknown>;
    try {
      // A body not started yet (see `Start`): a generator function, whose call runs none of its code.
      const g = typeof cont === "function" ? (p.cont = cont()) : cont;
      r = g.next(value);
    } catch (err) {
      p.cont = null;
      p.recv = null;
      if (p.pendingExit === undefined) {
        const reason = reasonFromThrow(err);
        p.pendingExit = reason;
        // An exception nothing caught (not an `exit`): Elixir's "Process #PID<...> raised an exception".
        if (!(err instanceof ExitSignal) && !p.driver && p !== this.shell) logProcessCrash(p, reason);
      }
      return;
    }
    if (r.done) {
      p.cont = null;
      p.recv = null;
      if (!p.behaviour && p.pendingExit === undefined) p.pendingExit = "normal"; // a plain process returned
      return;
    }
    p.recv = r.value;
  }

  /** Runs until no process is runnable and no timer is due (time does not move). */
  settle(): void {
    this.drive();
  }

  /** Moves virtual time forward by `ms`, firing timers in order and running processes between them. */
  advance(ms: number): void {
    this.advanceTo(this.now() + ms);
  }

  advanceTo(target: number): void {
    const clock = this.clock;
    if (!(clock instanceof VirtualClock)) {
      throw new Error("advance() needs the virtual clock; with the real clock time moves by itself (use await sleep(ms)).");
    }
    this.drive();
    for (let next = this.nextTimerAt(); next !== undefined && next <= target; next = this.nextTimerAt()) {
      clock.set(next);
      this.drive();
    }
    clock.set(target);
    this.drive();
  }

  /**
   * Runs until `done()` holds, moving virtual time to the next timer whenever nothing is runnable, for at most
   * `maxMs` of runtime time. Returns whether `done()` became true.
   */
  runUntil(done: () => boolean, maxMs = Infinity): boolean {
    const clock = this.clock;
    const limit = this.now() + maxMs;
    this.drive();
    while (!done()) {
      if (!(clock instanceof VirtualClock)) return false;
      const next = this.nextTimerAt();
      if (next === undefined || next > limit) {
        if (limit !== Infinity && next !== undefined) {
          clock.set(limit);
          this.drive();
        }
        return done();
      }
      clock.set(next);
      this.drive();
    }
    return true;
  }

  /**
   * Runs a blocking operation to completion from outside any process and returns its value (virtual clock:
   * time moves as the operation needs). The operation runs in a temporary driver process; what it starts with
   * a link is linked to the shell instead, so it outlives the driver as it would outlive an Erlang shell call.
   */
  runSync<T>(body: () => Blocking<T>, what = "this operation"): T {
    if (this.driving) {
      throw new Error(
        `${what} was awaited or run synchronously inside a process. Inside a process body or callback, ` +
          `write \`yield* ${what.replace(/\(.*$/, "")}(...)\` in a generator function instead.`,
      );
    }
    if (this.clock.kind === "real") {
      throw new Error(`${what} cannot finish synchronously with the real clock; use \`await\` instead.`);
    }
    const state: { done: boolean; value?: T; error?: unknown } = { done: false };
    const p = this.runOutside(body, state);
    const finished = this.runUntil(() => state.done || p.dead);
    if (!state.done) {
      if (p.dead) throw new ExitSignal(p.exitReason);
      this.abandon(p);
      if (!finished) throw new DeadlockError(what);
    }
    if ("error" in state) throw state.error;
    return state.value as T;
  }

  /** Like `runSync` but returns a promise; with the real clock it resolves when the operation completes. */
  runAsync<T>(body: () => Blocking<T>, what = "this operation"): Promise<T> {
    if (this.clock.kind === "virtual") {
      try {
        return Promise.resolve(this.runSync(body, what));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const state: { done: boolean; value?: T; error?: unknown; settle?: () => void } = { done: false };
      state.settle = () => ("error" in state ? reject(state.error) : resolve(state.value as T));
      this.runOutside(body, state);
      if (!this.driving) this.drive();
    });
  }

  /**
   * Runs an outside operation on the shell when it is free (so outside code has one identity and mailbox),
   * else on a temporary driver process (e.g. two operations awaited at once).
   */
  private runOutside<T>(body: () => Blocking<T>, state: { done: boolean; value?: T; error?: unknown; settle?: () => void }): Pid {
    const gen = runOutsideBody(body, state);
    const shell = this.shell;
    if (!shell.cont && !shell.dead) {
      shell.cont = gen;
      shell.recv = null;
      this.enqueue(shell);
      return shell;
    }
    return this.spawnProcess({ body: gen, driver: true, behaviourName: "driver" });
  }

  /** Gives up an outside operation that can never finish, so the shell is free again. */
  private abandon(p: Pid): void {
    if (p.recvTimer) p.recvTimer.cancelled = true;
    p.recvTimer = null;
    p.recv = null;
    p.cont = null;
    if (p !== this.shell) this.terminate(p, "kill");
  }

  private armRealTimer(): void {
    const next = this.timers.peek();
    if (this.realTimer) {
      clearTimeout(this.realTimer);
      this.realTimer = null;
    }
    if (!next) return;
    const delay = Math.max(0, next.at - this.now());
    this.realTimer = setTimeout(() => {
      this.realTimer = null;
      this.drive();
    }, delay);
    // In Node, a wall-clock runtime's timer alone does not keep the process alive (browsers have no unref).
    (this.realTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Puts the runtime back in order after an interrupt stopped user code in the middle of a step, and kills the
   * process that was running. An interrupt is V8 terminating the script (Node's `breakOnSigint`): it unwinds
   * without running `catch` or `finally` blocks, so the scheduler's own clean-up (`driving`, `current`, the
   * active runtime, a signal flush) did not run, and every later blocking call would think it runs inside a
   * process. The running process is killed with reason `killed`, as `exit(pid, "kill")` would, so its links,
   * monitors and supervisor react as in OTP; outside operations that were in flight (the awaited call the
   * interrupt cut short) are abandoned. Returns the killed process, if one was running. Safe to call any time.
   */
  recoverFromInterrupt(): Pid | null {
    const p = this.current;
    this.current = null;
    this.driving = false;
    if (Runtime.active === this) Runtime.active = null;
    // The outside operation of the interrupted cell can never be read now: free the shell, end the drivers.
    if (this.shell.cont && this.shell !== p) this.abandon(this.shell);
    for (const q of [...this.procs.values()]) if (q.driver && q !== p) this.abandon(q);
    if (p && !p.dead) {
      if (p === this.shell) this.abandon(p);
      else this.terminate(p, "killed");
    }
    if (this.autoDrive && this.runHead < this.runQueue.length && !this.driveScheduled) {
      this.driveScheduled = true;
      runSoon(() => {
        this.driveScheduled = false;
        this.drive();
      });
    }
    return p && p !== this.shell ? p : null;
  }

  /** Stops every process and timer (a lesson's "reset"); the runtime stays usable. */
  reset(): void {
    // Whatever state an interrupt left behind, a reset starts from a runtime that is not "running" anything.
    this.current = null;
    this.driving = false;
    if (Runtime.active === this) Runtime.active = null;
    for (const p of [...this.procs.values()]) {
      if (p !== this.shell) {
        p.links = null;
        p.monitoredBy = null;
        this.terminate(p, "kill");
      }
    }
    this.shell.mailbox = null;
    this.shell.sigq = null;
    this.timers.clear();
    this.runQueue = [];
    this.runHead = 0;
  }
}

/** The body of `runOutside`, module-level so that an outside operation does not create a generator function. */
function* runOutsideBody<T>(body: () => Blocking<T>, state: { done: boolean; value?: T; error?: unknown; settle?: () => void }): Blocking<void> {
  try {
    state.value = yield* body();
  } catch (err) {
    state.error = err instanceof Error ? err : new ExitSignal(reasonFromThrow(err));
  }
  state.done = true;
  state.settle?.();
}

/** The spawn event of a named process (the others are stored compactly, see `EventLog.pushSpawn`). */
function spawnEvent(t: number, pid: string, o: SpawnOptions): RuntimeEvent & { type: "spawn" } {
  const e: RuntimeEvent & { type: "spawn" } = { type: "spawn", t, pid };
  if (o.parent) e.parent = o.parent.label;
  if (o.name) e.name = o.name;
  if (o.behaviourName) e.behaviour = o.behaviourName;
  if (o.module) e.module = o.module;
  if (o.version !== undefined) e.version = o.version;
  return e;
}

/** The shell only runs what outside code awaits; its messages wait for an outside `receive`. */
const shellBehaviour: Behaviour = {
  name: "shell",
  passive: true,
  handle() {},
};

// ------------------------------------------------------------------ blocking helpers for process code

/** `receive`: waits for the first message matching `match` (any when omitted) or `timeout` ms. */
export function* receive(match: ((msg: Term) => boolean) | null = null, timeout = Infinity): Blocking<Term> {
  return yield { match, timeout };
}

const NEVER = (): boolean => false;

/** `Process.sleep(ms)` inside a process. */
export function* sleep(ms: number): Blocking<void> {
  yield { match: NEVER, timeout: ms };
}

export { TIMEOUT };
