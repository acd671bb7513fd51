/**
 * The runtime's event stream: every spawn, exit, restart, supervisor report, code load (and, when tracing is
 * on, every message and exit signal), in the order it happened.
 *
 * Visualisations, lessons and the grader read it. It is bounded (oldest events are dropped past `capacity`)
 * so a long-running notebook does not grow without limit; `dropped` says how many went.
 */

import type { RuntimeEvent } from "./observe.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";

export type EventListener = (e: RuntimeEvent) => void;

export class EventLog {
  private buf: RuntimeEvent[] = [];
  private listeners: EventListener[] = [];
  /** Events discarded because the log was full. */
  dropped = 0;
  /** When true, `send` and `signal` events are recorded too (off by default: they cost per message). */
  traceMessages = false;

  constructor(public capacity = 100_000) {}

  push(e: RuntimeEvent): void {
    this.buf.push(e);
    // Trim in batches (at 1.5x capacity) so recording stays O(1) amortised on long runs.
    if (this.buf.length > this.capacity + (this.capacity >> 1)) {
      const extra = this.buf.length - this.capacity;
      this.buf.splice(0, extra);
      this.dropped += extra;
    }
    if (this.listeners.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (e.g. a live view of a closed display) must not break the runtime.
      }
    }
  }

  /** All retained events (a copy), at most `capacity` of them. */
  all(): RuntimeEvent[] {
    return this.buf.length > this.capacity ? this.buf.slice(this.buf.length - this.capacity) : this.buf.slice();
  }

  get length(): number {
    return this.buf.length;
  }


  /** Events with `t` in [from, to]. */
  between(from: number, to = Infinity): RuntimeEvent[] {
    return this.buf.filter((e) => e.t >= from && e.t <= to);
  }

  ofType<K extends RuntimeEvent["type"]>(type: K): Extract<RuntimeEvent, { type: K }>[] {
    return this.buf.filter((e): e is Extract<RuntimeEvent, { type: K }> => e.type === type);
  }

  /** Calls `fn` for every future event; returns the unsubscribe function. */
  subscribe(fn: EventListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  clear(): void {
    this.buf = [];
    this.dropped = 0;
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return renderAs("events", this, () => this.buf.map((e) => JSON.stringify(e)).join("\n"));
  }
}
