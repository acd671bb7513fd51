/**
 * `live`: one display that redraws in place as the runtime changes.
 *
 * The first picture goes out as `display_data` with a display id; each redraw is an `update_display_data`
 * for the same id, through the display sink the kernel installs (widgets/display-sink.ts). Redraws are
 * coalesced: events only mark the view dirty, and a timer draws the latest state at most every 100 ms.
 * The interval also stretches so that the bytes sent stay under Jupyter's iopub data-rate limit (1 MB/s by
 * default; we budget half) and so that drawing never takes more than half the time.
 *
 * The throttle runs on wall-clock time from an injected timer, not on the runtime clock: in a virtual-time
 * lesson the runtime clock can jump an hour in a millisecond, and the rate limits it protects are real-time.
 * What is drawn, though, is the runtime's state, so the pictures themselves stay deterministic.
 */
import type { RuntimeEvent, TreeSnapshot } from "../runtime/observe.js";
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import { getDisplaySink, type DisplaySink, type MimeBundle } from "./display-sink.js";
import { currentRuntime, isPidObject } from "./sources.js";
import { formatCount } from "./text.js";
import { treeDiagram, type TreeDiagramOptions } from "./tree-diagram.js";
import { MIME, Widget } from "./widget.js";

/** What a live view watches. The runtime (or a test double) provides it. */
export interface LiveSource {
  snapshot(): TreeSnapshot;
  subscribe(fn: (e: RuntimeEvent) => void): () => void;
  now(): number;
}

/** Wall-clock timer; injected in tests. */
export interface LiveTimer {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimer: LiveTimer = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // A forgotten live view must not keep a script from exiting.
    h.unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface LiveOptions {
  /** What to draw from the source; default the supervision tree (`treeDiagram(source.snapshot())`). */
  render?: (source: LiveSource) => Widget | MimeBundle;
  /** Options for the default tree drawing. */
  tree?: TreeDiagramOptions;
  /** Shortest time between two redraws, ms. Default 100 (10 updates a second). */
  minIntervalMs?: number;
  /** Bytes a second the view may send. Default 500,000: half of Jupyter's default iopub_data_rate_limit. */
  maxBytesPerSecond?: number;
  timer?: LiveTimer;
  /** Where to send displays; default the sink the kernel installed. */
  sink?: DisplaySink | null;
}

export const MIN_INTERVAL_MS = 100;
export const MAX_BYTES_PER_SECOND = 500_000;

let nextDisplay = 1;

function bytesOf(bundle: MimeBundle): number {
  let n = 0;
  for (const v of Object.values(bundle)) n += typeof v === "string" ? v.length : JSON.stringify(v).length;
  return n;
}

/** Bundles equal for display purposes: the same text and picture means nothing to send. */
function sameBundle(a: MimeBundle | null, b: MimeBundle): boolean {
  if (!a) return false;
  const keys = Object.keys(b);
  if (keys.length !== Object.keys(a).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    return typeof x === "string" || typeof y === "string" ? x === y : JSON.stringify(x) === JSON.stringify(y);
  });
}

export class LiveView {
  /** The Jupyter display id shared by the first display and every update. */
  readonly displayId: string;
  /** Redraws sent so far (not counting the first display). */
  updates = 0;
  /** Events seen. */
  events = 0;
  private current: MimeBundle;
  private readonly source: LiveSource;
  private readonly render: (source: LiveSource) => MimeBundle;
  private readonly timer: LiveTimer;
  private readonly sink: DisplaySink | null;
  private readonly minInterval: number;
  private readonly maxBytesPerSecond: number;
  private unsubscribe: (() => void) | null;
  private pending: unknown = null;
  private dirty = false;
  private nextAllowed = 0;
  private shown = false;

  constructor(source: LiveSource, options: LiveOptions = {}) {
    this.source = source;
    const draw = options.render ?? ((s: LiveSource) => treeDiagram(s.snapshot(), options.tree));
    this.render = (s) => {
      const out = draw(s);
      return out instanceof Widget ? out.bundle : out;
    };
    this.timer = options.timer ?? realTimer;
    this.sink = options.sink === undefined ? getDisplaySink() : options.sink;
    this.minInterval = options.minIntervalMs ?? MIN_INTERVAL_MS;
    this.maxBytesPerSecond = options.maxBytesPerSecond ?? MAX_BYTES_PER_SECOND;
    this.displayId = `otp-lab-live-${nextDisplay++}`;
    const started = this.timer.now();
    this.current = this.safeRender();
    this.schedule(started, this.current);
    if (this.sink) {
      this.sink.display(this.current, { displayId: this.displayId });
      this.shown = true;
    }
    this.unsubscribe = source.subscribe(() => this.onEvent());
  }

  /** The latest picture. */
  get bundle(): MimeBundle {
    return this.current;
  }

  /** False once `stop()` was called. */
  get running(): boolean {
    return this.unsubscribe !== null;
  }

  /**
   * In a kernel the picture was already displayed (with its display id) when the view was made, so the cell's
   * value is only a note about it; elsewhere it is the picture itself.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    if (!this.shown) return this.current;
    return { [MIME.text]: this.describe() };
  }

  toString(): string {
    return this.describe();
  }

  /** Display the view again (e.g. in a later cell); all copies update together. */
  show(): void {
    const sink = this.sink ?? getDisplaySink();
    if (!sink) return;
    sink.display(this.current, { displayId: this.displayId });
    this.shown = true;
  }

  /** Draw now if anything changed since the last redraw. */
  flush(): void {
    if (this.pending !== null) {
      this.timer.clearTimeout(this.pending);
      this.pending = null;
    }
    if (!this.dirty) return;
    this.dirty = false;
    const started = this.timer.now();
    const bundle = this.safeRender();
    if (sameBundle(this.current, bundle)) {
      this.nextAllowed = started + this.minInterval;
      return;
    }
    this.current = bundle;
    this.schedule(started, bundle);
    this.updates++;
    this.sink?.display(bundle, { displayId: this.displayId, update: true });
  }

  /** Stop following the runtime, after one last redraw if something changed. */
  stop(): void {
    this.flush();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private describe(): string {
    return `live view ${this.displayId}: ${this.running ? "updating in place" : "stopped"}, ${formatCount(this.updates)} updates for ${formatCount(this.events)} events${this.running ? "; .stop() ends it" : ""}`;
  }

  private onEvent(): void {
    this.events++;
    this.dirty = true;
    if (this.pending !== null || !this.running) return;
    // Never draw inside the runtime's event dispatch: the runtime may be halfway through a step.
    const delay = Math.max(0, this.nextAllowed - this.timer.now());
    this.pending = this.timer.setTimeout(() => {
      this.pending = null;
      this.flush();
    }, delay);
  }

  /** Earliest next redraw: the rate limit, the data-rate budget, and twice the cost of drawing. */
  private schedule(started: number, bundle: MimeBundle): void {
    const cost = this.timer.now() - started;
    const forBytes = (bytesOf(bundle) / this.maxBytesPerSecond) * 1000;
    this.nextAllowed = started + Math.max(this.minInterval, forBytes, 2 * cost);
  }

  private safeRender(): MimeBundle {
    try {
      return this.render(this.source);
    } catch (err) {
      // The watched supervisor may be gone; say so in place rather than breaking the runtime's dispatch.
      const message = err instanceof Error ? err.message : String(err);
      return { [MIME.text]: `live view ${this.displayId}: cannot draw (${message})` };
    }
  }
}

/** A source for a supervisor of the running runtime, by Pid, pid or registered name. */
function runtimeSource(root: string | { label: string }): LiveSource {
  const rt = currentRuntime();
  const shown = typeof root === "string" ? root : root.label;
  if (!rt) throw new Error(`live("${shown}"): no runtime is running here; pass a source { snapshot(), subscribe(fn), now() }`);
  return { snapshot: () => rt.snapshot(root), subscribe: (fn) => rt.events.subscribe(fn), now: () => rt.now() };
}

/**
 * Show a supervision tree that redraws itself as things happen (at most 10 times a second).
 *
 * `source` is a supervisor (its Pid, pid or registered name), or any `{ snapshot(), subscribe(fn), now() }`.
 * Pass `render` to draw something else live, e.g.
 * `live(sup, { render: () => sequenceDiagram(undefined, { last: 20 }) })`. Call `.stop()` when done.
 *
 * @example const view = live(sup)
 */
export function live(source: string | { label: string } | LiveSource, options: LiveOptions = {}): LiveView {
  const src = typeof source === "string" || isPidObject(source) ? runtimeSource(source) : source;
  if (!src || typeof (src as LiveSource).snapshot !== "function" || typeof (src as LiveSource).subscribe !== "function") {
    throw new Error("live: expected a supervisor (Pid, pid or name), or a source with snapshot() and subscribe(fn)");
  }
  return new LiveView(src as LiveSource, options);
}
