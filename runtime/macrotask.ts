/**
 * "Run this after the current synchronous code and the promise jobs it queued": the runtime's auto-drive hook.
 *
 * Node has `setImmediate`; a browser (or a Web Worker) does not, and the runtime runs unchanged in both (it has no
 * other Node dependency). There a `MessageChannel` message is the same kind of macrotask without `setTimeout`'s
 * clamping to 4 ms after nested calls; `setTimeout(0)` is the last resort.
 */
export const runSoon: (f: () => void) => void = pickRunSoon();

function pickRunSoon(): (f: () => void) => void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === "function") {
    const setImmediate = g.setImmediate;
    return (f) => void setImmediate(f);
  }
  if (typeof MessageChannel === "function") {
    // Typed structurally: Node's and the DOM's MessagePort types differ, and only the DOM's is used here.
    type Port = { onmessage: (() => void) | null; postMessage(m: null): void };
    const channel = new MessageChannel() as unknown as { port1: Port; port2: Port };
    const pending: Array<() => void> = [];
    channel.port1.onmessage = () => pending.shift()?.();
    return (f) => {
      pending.push(f);
      channel.port2.postMessage(null);
    };
  }
  return (f) => void setTimeout(f, 0);
}

/** A timer handle as `setTimeout` returns it, in Node (`Timeout`) and in browsers (`number`). */
export type TimerHandle = ReturnType<typeof setTimeout>;
