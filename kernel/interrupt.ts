/**
 * Interrupting user code: busy loops, and pending awaits.
 *
 * How it works. User code runs on the main thread inside `guard()`, a `vm` script run with
 * `breakOnSigint: true`: while it runs, Node's SIGINT watchdog turns a SIGINT into a catchable
 * `ERR_SCRIPT_EXECUTION_INTERRUPTED` error, which we report as `KeyboardInterrupt`. Another thread (the protocol
 * thread, which stays responsive while the main thread loops) calls `requestInterrupt()`, which sends SIGINT to
 * the process. A pending `await` in a cell is raced against the interrupt notification instead (the main thread
 * is free then and receives a message).
 *
 * Why the handshake. Outside a guarded run, SIGINT does not stop the main thread, and while no run at all holds
 * the watchdog (before the holder thread below runs, or if it cannot) Node swaps its SIGINT handlers around each
 * run, microseconds in which the signal's disposition is the default one, which would kill the kernel. So the
 * interrupting thread only sends SIGINT when a shared word says the main thread is inside a guarded run *and* an
 * interrupt is pending, claiming the word atomically; the main thread cannot leave the guarded run while a signal
 * is in flight (it spins, and the watchdog stops the spin). Interrupts requested while the main thread is outside
 * a guarded run are retried until it enters one or acknowledges them.
 *
 * Cost: Node starts its watchdog (a helper thread and a signal handler) when the first guarded run in the process
 * begins and stops it when the last one ends: 0.1 to 0.5 ms per outermost run, and a cell makes two or more (its
 * steps, the runtime's settle). So `holdWatchdog()` starts a thread (`sigint-holder.ts`) that stays inside a
 * guarded run of its own; the watchdog then never stops and a guarded run costs a few microseconds. Node gives a
 * SIGINT to the newest guarded run only, so a signal during the main thread's run still stops it, and one that
 * arrives while no cell code runs ends the holder's run, which reports it here instead of a `process.on("SIGINT")`
 * listener (a listener would make Node remove and restore it around every guarded run, resetting the signal's
 * disposition under the watchdog). Nested guards are plain calls.
 */
import vm from "node:vm";
import { Worker } from "node:worker_threads";

/** Word layout of the shared state (Int32Array over a SharedArrayBuffer); `sigint-holder.ts` reads it too. */
export const STATE = 0; // bit flags below
const SEQ = 1; // interrupt request counter, bumped by the requester
export const IN_GUARD = 1;
const PENDING = 2;
export const SIGNALLING = 4;
/** Set by the requesting thread when it had V8 terminate main-thread code that ran outside every guard. */
const TERMINATED = 8;

/** The holder thread's control word (see `sigint-holder.ts`). */
export const HOLDER_WAIT = 0;
export const HOLDER_HOLD = 1;
export const HOLDER_STOP = 2;

/** Raised in user code when an interrupt stops it. */
export class KeyboardInterrupt extends Error {
  override name = "KeyboardInterrupt";
  constructor(message = "Execution interrupted") {
    super(message);
  }
}

export function isInterruptError(err: unknown): boolean {
  return (
    err instanceof KeyboardInterrupt ||
    (typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ERR_SCRIPT_EXECUTION_INTERRUPTED")
  );
}

/** Shared memory both threads use; pass `buffer` to the other thread. */
export function createInterruptBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

type Listener = () => void;

/**
 * The main thread's side: guarded runs, and notification of interrupts to whoever is awaiting.
 */
export class InterruptController {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private depth = 0;
  private handledSeq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly script: vm.Script;
  private slot: (() => unknown) | null = null;

  constructor(buffer: SharedArrayBuffer = createInterruptBuffer()) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    // The script enters and leaves the shared "in guard" state itself, so that the state is only ever set while
    // Node's watchdog is active (see the module comment).
    const hooks = {
      enter: () => {
        Atomics.or(this.words, STATE, IN_GUARD);
      },
      leave: () => this.leaveGuard(),
      run: () => {
        const fn = this.slot!;
        this.slot = null;
        return fn();
      },
    };
    Object.defineProperty(globalThis, GUARD_HOOKS, { value: hooks, configurable: true });
    this.script = new vm.Script(
      `(function (h) { h.enter(); try { return h.run(); } finally { h.leave(); } })(globalThis[Symbol.for("otp-lab.guard")])`,
      { filename: "otp-lab:guard" },
    );
    if (!sigintListener) {
      // A SIGINT that arrives outside a guarded run (an external `kill -INT`, or the jupyter "signal" interrupt
      // mode) interrupts whatever is awaited. Without a listener Node would exit on SIGINT. The holder thread
      // takes this over once it runs (`holdWatchdog`).
      sigintListener = () => current?.notify(undefined);
      process.on("SIGINT", sigintListener);
    }
    current = this;
  }

  /**
   * Keeps Node's SIGINT watchdog running on a thread of its own, so that guarded runs stop costing a thread start
   * each (see the module comment). Once per process; where workers are not allowed, guarded runs work as before.
   */
  holdWatchdog(): void {
    if (holder !== null) return;
    const control = new Int32Array(new SharedArrayBuffer(4));
    try {
      holder = new Worker(new URL("./sigint-holder.js", import.meta.url), { workerData: { state: this.buffer, control: control.buffer } });
    } catch {
      holder = false;
      return;
    }
    let handedOver = false;
    holder.on("error", () => {});
    holder.on("message", (m: unknown) => {
      if (m === "sigint") {
        current?.notify(undefined);
        return;
      }
      // "ready": hand SIGINT over to the holder. Our listener goes first: removing the last listener resets the
      // signal's disposition, which must not happen after the holder's run has installed the watchdog's handler.
      // With any other SIGINT listener in the process, guarded runs keep starting the watchdog themselves.
      handedOver = process.listenerCount("SIGINT") === 1 && process.listeners("SIGINT")[0] === sigintListener;
      if (handedOver) process.removeListener("SIGINT", sigintListener!);
      Atomics.store(control, 0, handedOver ? HOLDER_HOLD : HOLDER_STOP);
      Atomics.notify(control, 0);
    });
    // Should the thread ever end before the process, SIGINT outside guarded runs goes back to our listener.
    holder.on("exit", () => {
      if (handedOver && sigintListener) process.on("SIGINT", sigintListener);
      handedOver = false;
    });
    // The thread must never keep the process alive (a script using the executor ends when it is done). After
    // the listeners: adding a message listener refs the thread's port again.
    holder.unref();
  }

  /**
   * Runs `run` so that an interrupt can stop it even in a busy loop. Errors propagate; an interrupt surfaces as a
   * `KeyboardInterrupt`. Nested calls are plain calls (the outermost guard covers them).
   */
  guard = <T>(run: () => T): T => {
    if (this.depth > 0) return run();
    this.depth++;
    try {
      this.slot = run;
      return this.script.runInThisContext({ breakOnSigint: true }) as T;
    } catch (err) {
      if (isInterruptError(err) && !(err instanceof KeyboardInterrupt)) {
        // The watchdog stopped the run; this interrupt is consumed. (The holder thread may be waiting for the
        // run to end, see `sigint-holder.ts`.)
        Atomics.store(this.words, STATE, 0);
        Atomics.notify(this.words, STATE);
        this.handledSeq = Atomics.load(this.words, SEQ);
        // Repair first, then wake the awaiting cell: its KeyboardInterrupt carries what the repair did.
        const message = this.recover();
        this.pendingNote = message;
        this.notifyListeners();
        throw new KeyboardInterrupt(message);
      }
      throw err;
    } finally {
      this.depth--;
      this.slot = null;
    }
  };

  private readonly recoveries = new Set<() => string | null | undefined>();

  /**
   * Registers clean-up for after an interrupt stopped a guarded run. The interrupt unwound without running
   * `finally` blocks (it is V8 terminating the script), so code with state to repair (the runtime's scheduler)
   * repairs it here. A returned text is added to the `KeyboardInterrupt`'s message.
   */
  onRecover(recover: () => string | null | undefined): () => void {
    this.recoveries.add(recover);
    return () => this.recoveries.delete(recover);
  }

  private recover(): string {
    const notes: string[] = [];
    for (const r of [...this.recoveries]) {
      try {
        const note = r();
        if (note) notes.push(note);
      } catch {
        // a recovery that fails must not hide the interrupt
      }
    }
    return ["Execution interrupted", ...notes].join("; ");
  }

  /** True while inside a guarded run (so callers know whether a nested call is covered). */
  get guarded(): boolean {
    return this.depth > 0;
  }

  /**
   * The protocol thread's message "interrupt #seq" arrived (or SIGINT outside a guard): wake the awaiters unless
   * this interrupt was already consumed by a guarded run.
   */
  notify(seq: number | undefined): void {
    // Code outside every guard was terminated (see `InterruptRequester.terminateIfStuck`): like a guarded run's
    // interrupt, it unwound without its `finally` blocks, so the same repairs are due.
    const terminated = (Atomics.and(this.words, STATE, ~TERMINATED) & TERMINATED) !== 0;
    const s = seq ?? Atomics.load(this.words, SEQ);
    if (seq !== undefined && s <= this.handledSeq && !terminated) return;
    this.pendingNote = terminated ? this.recover() : null;
    this.handledSeq = Math.max(this.handledSeq, s);
    Atomics.and(this.words, STATE, ~PENDING);
    this.notifyListeners();
  }

  private pendingNote: string | null = null;

  /** The message for the `KeyboardInterrupt` an awaiting cell gets (with what the repairs after it did). */
  takeMessage(): string {
    const m = this.pendingNote ?? "Execution interrupted";
    this.pendingNote = null;
    return m;
  }

  /** Called on every interrupt that reaches this thread; returns an unsubscribe function. */
  onInterrupt(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notifyListeners(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A listener must not stop the others.
      }
    }
  }

  private leaveGuard(): void {
    const deadline = Date.now() + 2000;
    for (;;) {
      const v = Atomics.load(this.words, STATE);
      if (v & SIGNALLING) {
        // A SIGINT is on its way and the watchdog will stop this loop; leaving now could let the signal arrive
        // after the watchdog is gone. The deadline only guards against a signal that never comes.
        if (Date.now() > deadline) {
          Atomics.store(this.words, STATE, v & ~(SIGNALLING | IN_GUARD));
          return;
        }
        continue;
      }
      if (Atomics.compareExchange(this.words, STATE, v, v & ~IN_GUARD) === v) return;
    }
  }
}

const GUARD_HOOKS = Symbol.for("otp-lab.guard");
let sigintListener: (() => void) | null = null;
/** The watchdog holder thread: null before `holdWatchdog`, false where it could not start. */
let holder: Worker | false | null = null;
let current: InterruptController | null = null;

/** The controller of this thread, if one was created. */
export function currentInterruptController(): InterruptController | null {
  return current;
}

/**
 * The other thread's side. `request()` marks an interrupt pending, tells the main thread through `notify`
 * (a message), and sends SIGINT when the main thread is in a guarded run. It retries for `retryMs` so that a busy
 * loop entered just after the request is still stopped; `stillPending()` lets the caller detect a main thread
 * stuck outside any guard.
 */
export class InterruptRequester {
  private readonly words: Int32Array;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly notify: (seq: number) => void,
    private readonly retryMs = 3000,
  ) {
    this.words = new Int32Array(buffer);
  }

  request(): void {
    const seq = Atomics.add(this.words, SEQ, 1) + 1;
    Atomics.or(this.words, STATE, PENDING);
    this.notify(seq);
    this.trySignal();
    if (this.timer) clearInterval(this.timer);
    const until = Date.now() + this.retryMs;
    this.timer = setInterval(() => {
      if (!(Atomics.load(this.words, STATE) & PENDING) || Date.now() > until) {
        clearInterval(this.timer!);
        this.timer = null;
        return;
      }
      this.trySignal();
    }, 10);
    this.timer.unref?.();
  }

  /**
   * The last resort, for code that runs outside every guarded run (an async function's continuation after an
   * `await`, a library's callback), which SIGINT cannot stop: if the interrupt is still not taken after
   * `afterMs`, ask V8, through an inspector session attached to the main thread, to terminate what that thread
   * is running. The main thread then returns to its event loop, takes the interrupt message, and the awaiting
   * cell gets its `KeyboardInterrupt`. Only while the interrupt is pending and the main thread is outside every
   * guard: an idle main thread takes an interrupt message at once, so one still pending after `afterMs` is
   * busy. Returns a promise of whether it terminated anything. No port is opened: the session is in-process.
   */
  async terminateIfStuck(afterMs: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, afterMs));
    const v = Atomics.load(this.words, STATE);
    if (!(v & PENDING) || v & IN_GUARD) return false;
    let session: { connectToMainThread(): void; post(method: string, cb: (err: Error | null) => void): void; disconnect(): void };
    try {
      const inspector = await import("node:inspector");
      session = new inspector.Session() as unknown as typeof session;
      session.connectToMainThread();
    } catch {
      return false; // not on a worker thread, or no inspector in this Node build
    }
    Atomics.or(this.words, STATE, TERMINATED);
    return new Promise<boolean>((resolve) => {
      session.post("Runtime.terminateExecution", (err) => {
        session.disconnect();
        resolve(err === null);
      });
    });
  }

  /** True while an interrupt has been requested and neither a guarded run nor the main thread has taken it. */
  stillPending(): boolean {
    return (Atomics.load(this.words, STATE) & PENDING) !== 0;
  }

  private trySignal(): void {
    const v = Atomics.load(this.words, STATE);
    if ((v & (IN_GUARD | PENDING)) !== (IN_GUARD | PENDING) || v & SIGNALLING) return;
    if (Atomics.compareExchange(this.words, STATE, v, v | SIGNALLING) !== v) return;
    process.kill(process.pid, "SIGINT");
  }
}
