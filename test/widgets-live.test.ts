import { afterEach, describe, expect, it } from "vitest";
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { RuntimeEvent, TreeSnapshot } from "../runtime/observe.js";
import type { DisplayOptions, DisplaySink, MimeBundle } from "../widgets/display-sink.js";
import { live, type LiveSource, type LiveTimer } from "../widgets/live.js";
import { useRuntime, type RuntimeLike } from "../widgets/sources.js";
import { shopAfter, shopBefore } from "./widgets/fixtures.js";

/** Wall clock under the test's control. */
class FakeTimer implements LiveTimer {
  t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Move time forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}

class FakeSource implements LiveSource {
  state: TreeSnapshot = shopBefore();
  listeners = new Set<(e: RuntimeEvent) => void>();
  snapshots = 0;
  snapshot(): TreeSnapshot {
    this.snapshots++;
    return this.state;
  }
  subscribe(fn: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  now(): number {
    return this.state.t;
  }
  emit(t: number): void {
    this.state = { ...this.state, t };
    for (const fn of this.listeners) fn({ type: "send", t, to: "<0.81.0>", msg: "tick" });
  }
}

class RecordingSink implements DisplaySink {
  calls: Array<{ bundle: MimeBundle; options?: DisplayOptions; at: number }> = [];
  constructor(private readonly timer: FakeTimer) {}
  display(bundle: MimeBundle, options?: DisplayOptions): void {
    this.calls.push({ bundle, options, at: this.timer.now() });
  }
  get updates() {
    return this.calls.filter((c) => c.options?.update);
  }
}

const cheap = (s: LiveSource): MimeBundle => ({ "text/plain": `t=${s.snapshot().t}` });

describe("live views", () => {
  afterEach(() => useRuntime(null));

  it("shows one display at once and then updates that same display in place", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    const view = live(source, { timer, sink });
    expect(sink.calls).toHaveLength(1);
    expect(sink.calls[0]!.options).toEqual({ displayId: view.displayId });
    expect(view.displayId).toMatch(/^otp-lab-live-\d+$/);
    expect(sink.calls[0]!.bundle["text/vnd.mermaid"]).toContain("Supervision tree at t=1,000 ms");
    // The cell's own value only points at the display, so the tree is not shown twice.
    expect(view[JUPYTER_DISPLAY]()).toEqual({ "text/plain": `live view ${view.displayId}: updating in place, 0 updates for 0 events; .stop() ends it` });

    source.state = shopAfter();
    source.emit(4250);
    expect(sink.calls).toHaveLength(1); // never drawn inside the runtime's event dispatch
    timer.advance(1000);
    expect(sink.updates).toHaveLength(1);
    expect(sink.updates[0]!.options).toEqual({ displayId: view.displayId, update: true });
    expect(sink.updates[0]!.bundle["text/vnd.mermaid"]).toContain("RuntimeError");
    expect(view.bundle).toBe(sink.updates[0]!.bundle);
    view.stop();
  });

  it("coalesces a burst of events into one redraw, no sooner than 100 ms after the last", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    const view = live(source, { timer, sink, render: cheap, maxBytesPerSecond: 1e12 });
    timer.advance(10);
    for (let i = 0; i < 50; i++) source.emit(2000 + i);
    timer.advance(89);
    expect(sink.updates).toHaveLength(0);
    timer.advance(1);
    expect(sink.updates.map((u) => [u.at, u.bundle["text/plain"]])).toEqual([[100, "t=2049"]]);
    expect(view.events).toBe(50);
    view.stop();
  });

  it("never sends more than 10 updates a second, and the last state always arrives", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    const view = live(source, { timer, sink, render: cheap, maxBytesPerSecond: 1e12 });
    for (let i = 1; i <= 400; i++) {
      timer.advance(5);
      source.emit(i);
    }
    timer.advance(500);
    const times = sink.updates.map((u) => u.at);
    expect(times.length).toBeGreaterThanOrEqual(19);
    expect(times.length).toBeLessThanOrEqual(21);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(sink.updates.at(-1)!.bundle["text/plain"]).toBe("t=400");
    view.stop();
  });

  it("slows down further so large pictures stay under Jupyter's iopub data rate", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    // 100,000 characters a picture at the default 500,000 bytes a second: one picture every 200 ms.
    const big = (s: LiveSource): MimeBundle => ({ "text/plain": `t=${s.snapshot().t}`.padEnd(100_000, ".") });
    const view = live(source, { timer, sink, render: big });
    for (let i = 1; i <= 400; i++) {
      timer.advance(5);
      source.emit(i);
    }
    const times = sink.updates.map((u) => u.at);
    expect(times.length).toBeLessThanOrEqual(10);
    expect(times.length).toBeGreaterThanOrEqual(9);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
    view.stop();
  });

  it("sends nothing when the picture did not change", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    const view = live(source, { timer, sink, render: () => ({ "text/plain": "same" }) });
    source.emit(1);
    timer.advance(1000);
    expect(sink.updates).toHaveLength(0);
    view.stop();
  });

  it("stop() sends the pending change at once and then ignores the runtime", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    const view = live(source, { timer, sink, render: cheap });
    timer.advance(1);
    source.emit(7);
    view.stop();
    expect(sink.updates.map((u) => u.bundle["text/plain"])).toEqual(["t=7"]);
    expect(source.listeners.size).toBe(0);
    expect(view.running).toBe(false);
    source.emit(8);
    timer.advance(1000);
    expect(sink.updates).toHaveLength(1);
    expect(String(view)).toBe(`live view ${view.displayId}: stopped, 1 updates for 1 events`);
  });

  it("shows a failure to draw in place instead of throwing into the runtime", () => {
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const source = new FakeSource();
    let fail = false;
    const view = live(source, { timer, sink, render: (s) => {
      if (fail) throw new Error("no process named Shop.Sup");
      return cheap(s);
    } });
    fail = true;
    expect(() => source.emit(1)).not.toThrow();
    timer.advance(1000);
    expect(sink.updates[0]!.bundle).toEqual({ "text/plain": `live view ${view.displayId}: cannot draw (no process named Shop.Sup)` });
    view.stop();
  });

  it("outside a kernel, keeps its latest picture and displays it as its own value", () => {
    const timer = new FakeTimer();
    const source = new FakeSource();
    const view = live(source, { timer, sink: null, render: cheap });
    expect(view[JUPYTER_DISPLAY]()).toEqual({ "text/plain": "t=1000" });
    source.emit(5);
    timer.advance(1000);
    expect(view[JUPYTER_DISPLAY]()).toEqual({ "text/plain": "t=5" });
    view.stop();
  });

  it("follows a supervisor of the running runtime by name", () => {
    const source = new FakeSource();
    const asked: string[] = [];
    useRuntime({
      snapshot: (name: string) => (asked.push(name), source.snapshot()),
      events: { all: () => [], subscribe: (fn: (e: RuntimeEvent) => void) => source.subscribe(fn) },
      now: () => 0,
    } as unknown as RuntimeLike);
    const timer = new FakeTimer();
    const sink = new RecordingSink(timer);
    const view = live("Shop.Sup", { timer, sink });
    expect(asked).toEqual(["Shop.Sup"]);
    expect(source.listeners.size).toBe(1);
    view.stop();
    expect(() => live(42 as never)).toThrow(/expected a supervisor \(Pid, pid or name\), or a source/);
  });
});
