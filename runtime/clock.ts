/**
 * Time for the runtime, injected (as xstate's SimulatedClock): a virtual clock for lessons, grading and
 * conformance, where time moves only when the program asks, and a real clock for live demos.
 *
 * Timers live in one min-heap ordered by (due time, creation order), so timers due at the same moment fire in
 * the order they were set: the same inputs always give the same event order.
 */

export interface Timer {
  readonly at: number;
  readonly seq: number;
  cancelled: boolean;
  readonly fire: () => void;
}

export type ClockKind = "virtual" | "real";

export interface Clock {
  readonly kind: ClockKind;
  /** Milliseconds since the runtime started. */
  now(): number;
}

export class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  private t = 0;
  now(): number {
    return this.t;
  }
  /** Moves time forward; only the runtime calls this, while firing timers in order. */
  set(t: number): void {
    if (t > this.t) this.t = t;
  }
}

export class RealClock implements Clock {
  readonly kind = "real" as const;
  private readonly t0 = performance.now();
  now(): number {
    return Math.floor(performance.now() - this.t0);
  }
}

/** Binary min-heap of timers. */
export class TimerHeap {
  private heap: Timer[] = [];
  private seq = 0;
  private addsSinceCompact = 0;

  get size(): number {
    return this.heap.length;
  }

  add(at: number, fire: () => void): Timer {
    // Cancelled timers stay in the heap until they reach the top; a call with a timeout that returns at once
    // leaves one behind each time. Dropping them every so often keeps the heap the size of the live timers.
    if (++this.addsSinceCompact >= Math.max(4096, this.heap.length)) this.compact();
    const t: Timer = { at, seq: this.seq++, cancelled: false, fire };
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      // A temporary, not `[a, b] = [b, a]`: that allocates an array per step, and every receive with a
      // timeout (each GenServer.call) adds a timer and later drops it.
      const tmp = h[i];
      h[i] = h[p];
      h[p] = tmp;
      i = p;
    }
    return t;
  }

  /** Earliest live timer, dropping cancelled ones on the way. */
  peek(): Timer | undefined {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
    return this.heap[0];
  }

  pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        const tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.heap = [];
  }

  private compact(): void {
    this.addsSinceCompact = 0;
    const live = this.heap.filter((t) => !t.cancelled);
    if (live.length === this.heap.length) return;
    live.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0)); // a sorted array is a valid min-heap
    this.heap = live;
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
