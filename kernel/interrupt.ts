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
 * Why the handshake. Outside a guarded run, SIGINT is not caught by the watchdog, and in the microseconds in
 * which Node swaps its SIGINT handlers around a guarded run the signal's disposition is the default one, which
 * would kill the kernel. So the interrupting thread only sends SIGINT when a shared word says the main thread is
 * inside a guarded run *and* an interrupt is pending, claiming the word atomically; the main thread cannot leave
 * the guarded run while a signal is in flight (it spins, and the watchdog stops the spin). Interrupts requested
 * while the main thread is outside a guarded run are retried until it enters one or acknowledges them.
 *
 * Cost: Node starts a watchdog thread for every outermost guarded run (about 0.1 ms). Nested guards are plain
 * calls, so a scheduler should call `guard` once per batch of work, not once per message.
 */
import vm from "node:vm";

/** Word layout of the shared state (Int32Array over a SharedArrayBuffer). */
const STATE = 0; // bit flags below
const SEQ = 1; // interrupt request counter, bumped by the requester
const IN_GUARD = 1;
const PENDING = 2;
const SIGNALLING = 4;

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
    if (!installedSigint) {
      installedSigint = true;
      // A SIGINT that arrives outside a guarded run (an external `kill -INT`, or the jupyter "signal" interrupt
      // mode) interrupts whatever is awaited. Without a listener Node would exit on SIGINT.
      process.on("SIGINT", () => current?.notify(undefined));
    }
    current = this;
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
        // The watchdog stopped the run; this interrupt is consumed.
        Atomics.store(this.words, STATE, 0);
        this.handledSeq = Atomics.load(this.words, SEQ);
        this.notifyListeners();
        throw new KeyboardInterrupt();
      }
      throw err;
    } finally {
      this.depth--;
      this.slot = null;
    }
  };

  /** True while inside a guarded run (so callers know whether a nested call is covered). */
  get guarded(): boolean {
    return this.depth > 0;
  }

  /**
   * The protocol thread's message "interrupt #seq" arrived (or SIGINT outside a guard): wake the awaiters unless
   * this interrupt was already consumed by a guarded run.
   */
  notify(seq: number | undefined): void {
    const s = seq ?? Atomics.load(this.words, SEQ);
    if (seq !== undefined && s <= this.handledSeq) return;
    this.handledSeq = Math.max(this.handledSeq, s);
    Atomics.and(this.words, STATE, ~PENDING);
    this.notifyListeners();
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
let installedSigint = false;
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
