/**
 * A thread that keeps Node's SIGINT watchdog running, so that the main thread's guarded runs are cheap.
 *
 * Node starts its watchdog (a helper thread plus a SIGINT handler) when the first `vm` run with
 * `breakOnSigint` begins and stops it (joining the thread) when the last one ends, anywhere in the process. A cell
 * makes at least two guarded runs (its steps, the runtime's settle), and starting and stopping the watchdog for
 * each cost 0.1 ms on an idle machine and up to 0.5 ms on a busy one: a third of a trivial cell's time in the
 * kernel. This thread stays inside one such run, blocked in `Atomics.wait`, so the watchdog never stops and
 * a guarded run on the main thread only registers with it.
 *
 * Node hands a SIGINT to the newest registered run only. This thread registers first, so an interrupt during a
 * guarded run reaches the main thread, and a SIGINT while no guarded run is active ends this thread's run
 * instead: it tells the main thread (which then interrupts a pending `await`, as a `process.on("SIGINT")`
 * listener would) and registers again. See `interrupt.ts` for the handshake both sides follow.
 */
import { parentPort, workerData } from "node:worker_threads";
import vm from "node:vm";
import { HOLDER_HOLD, HOLDER_WAIT, IN_GUARD, SIGNALLING, STATE } from "./interrupt.js";

interface HolderData {
  /** The interrupt state words of the main thread's controller. */
  state: SharedArrayBuffer;
  /** One word: HOLDER_WAIT until the main thread says HOLDER_HOLD (its own SIGINT listener is gone) or HOLDER_STOP. */
  control: SharedArrayBuffer;
}

if (parentPort) {
  const data = workerData as HolderData;
  const state = new Int32Array(data.state);
  const control = new Int32Array(data.control);
  // The run blocks until the main thread writes HOLDER_STOP; only a SIGINT ends it sooner.
  Object.defineProperty(globalThis, "__otpLabHolderControl", { value: control });
  const hold = new vm.Script(`while (Atomics.load(__otpLabHolderControl, 0) === ${HOLDER_HOLD}) Atomics.wait(__otpLabHolderControl, 0, ${HOLDER_HOLD});`, {
    filename: "otp-lab:sigint-holder",
  });
  parentPort.postMessage("ready");
  while (Atomics.load(control, 0) === HOLDER_WAIT) Atomics.wait(control, 0, HOLDER_WAIT);
  while (Atomics.load(control, 0) === HOLDER_HOLD) {
    try {
      hold.runInThisContext({ breakOnSigint: true });
    } catch {
      sigintReceived(state);
    }
  }
}

/**
 * Our run was interrupted. Normally no guarded run is active then and this was an external SIGINT. But if we
 * registered again while the main thread was already in a guarded run (after an earlier SIGINT), we are the newest
 * run and took a signal meant for it: raise it again now that we are not registered, and register only after
 * that run is over.
 */
function sigintReceived(state: Int32Array): void {
  for (;;) {
    const v = Atomics.load(state, STATE);
    if (!(v & IN_GUARD)) {
      parentPort!.postMessage("sigint");
      return;
    }
    // Claim the signal as the requester does, so that the main thread cannot leave its run before the signal
    // lands (a signal arriving after every run has ended would kill the process).
    if (v & SIGNALLING || Atomics.compareExchange(state, STATE, v, v | SIGNALLING) === v) break;
  }
  process.kill(process.pid, "SIGINT");
  while (Atomics.load(state, STATE) & IN_GUARD) Atomics.wait(state, STATE, Atomics.load(state, STATE), 1);
}
