/**
 * Tests what happens when the widgets draw the real runtime's objects (not hand-written fixtures): the
 * runtime's snapshots, pids, event log and demos render through `[Symbol.for("Jupyter.display")]()` once
 * widgets/index.ts is loaded, and the pictures say what happened.
 */
import { beforeEach, describe, expect, it } from "vitest";
import * as rt from "../runtime/index.js";
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { RuntimeEvent } from "../runtime/observe.js";
import type { DisplayOptions, MimeBundle } from "../widgets/display-sink.js";
import { live, processTable, restartsChart, sequenceDiagram, treeDiagram, treeDiff } from "../widgets/index.js";
import type { LiveTimer } from "../widgets/live.js";

type Displayable = { [JUPYTER_DISPLAY](): MimeBundle };
const show = (v: unknown) => (v as Displayable)[JUPYTER_DISPLAY]();

function childPid(sup: rt.Pid, id: string): rt.Pid {
  const node = rt.snapshot(sup).root.children!.find((c) => c.id === id)!;
  return rt.getRuntime().processes().find((p) => p.label === node.pid)!;
}

describe("widgets on the real runtime", () => {
  beforeEach(() => {
    rt.resetRuntime();
  });

  it("a supervisor pid, its snapshot and the event log render as pictures", () => {
    const demo = rt.demoOneForOne();
    const tree = show(demo.sup);
    expect(Object.keys(tree)).toEqual(["text/vnd.mermaid", "image/svg+xml", "image/png", "text/plain"]);
    for (const id of ["a", "b", "c"]) expect(String(tree["text/vnd.mermaid"])).toContain(`<b>${id}</b>`);
    expect(show(rt.snapshot(demo.sup))["text/vnd.mermaid"]).toBe(tree["text/vnd.mermaid"]);
    expect(treeDiagram(demo.sup).mermaid).toBe(tree["text/vnd.mermaid"]);
    const log = show(rt.events());
    expect(String(log["text/vnd.mermaid"])).toMatch(/restart b \(was #lt;0\.\d+\.0#gt;\)/);
    expect(String(log["text/plain"])).toContain("SUPERVISOR REPORT child_terminated b");
  });

  it("a demo renders as the diff of its trees: one_for_one restarts only b", () => {
    const demo = rt.demoOneForOne();
    const bundle = show(demo);
    expect(String(bundle["text/plain"])).toContain("only the crashed child (b) is restarted");
    const diff = treeDiff(demo.before, demo.after!);
    expect(diff.changes.map((c) => `${c.kind} ${c.id}`)).toEqual(["restarted b"]);
    expect(bundle["text/vnd.mermaid"]).toContain("class n2 restarted");
  });

  it("one_for_all restarts every child, and the diff says so", () => {
    const demo = rt.demoOneForAll();
    expect(treeDiff(demo.before, demo.after!).changes.map((c) => `${c.kind} ${c.id}`)).toEqual(["restarted a", "restarted b", "restarted c"]);
  });

  it("a supervisor that gave up: the chart marks it over its limit, the demo shows its tree gone", () => {
    const demo = rt.demoIntensity({ intensity: 2, crashes: 3 });
    expect(demo.after).toBeNull();
    const chart = restartsChart(demo.events, { limits: demo.before });
    const layers = chart.spec.layer as Array<{ data: { values: Array<Record<string, unknown>> } }>;
    const gaveUp = layers[3]!.data.values;
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ restarts: 3, label: `${demo.sup.label} gave up` });
    expect(layers[1]!.data.values).toEqual([expect.objectContaining({ intensity: 2, label: "limit: 2 in 5s" })]);
    const restarts = (demo.events as RuntimeEvent[]).filter((e) => e.type === "restart").length;
    expect(chart.text).toContain(`${restarts} restarts`);
    // The runtime writes reasons as Elixir terms.
    expect(chart.text).toMatch(/GAVE UP at 200 ms \(:?reached_max_restart_intensity\)/);
    const bundle = show(demo);
    expect(String(bundle["text/plain"])).toContain("gave up");
    expect(bundle["text/vnd.mermaid"]).toContain("class n1,n2 removed");
  });

  it("pids and the process list render as Observer-style tables", () => {
    const demo = rt.demoOneForOne();
    const table = processTable();
    expect(table.rows.map((r) => r.pid)).toContain(demo.sup.label);
    const one = show(demo.sup.rt.processes().find((p) => p.label === childPid(demo.sup, "a").label));
    expect(String(one["text/html"])).toContain("gen_server");
    // A dead pid still renders, as a row that says so.
    const b = childPid(demo.sup, "b");
    rt.crash(b, "boom");
    rt.getRuntime().settle();
    expect(String(show(b)["text/plain"])).toMatch(/dead/);
  });

  it("the same virtual-time scenario draws the same pictures every run", () => {
    const first = rt.demoRestForOne();
    const a = [show(first), show(first.sup), sequenceDiagram(rt.events()).bundle];
    rt.resetRuntime();
    const second = rt.demoRestForOne();
    const b = [show(second), show(second.sup), sequenceDiagram(rt.events()).bundle];
    expect(b).toEqual(a);
  });

  it("live(sup) redraws in place after a crash", () => {
    const demo = rt.demoOneForOne();
    const calls: Array<{ bundle: MimeBundle; options?: DisplayOptions }> = [];
    let now = 0;
    const timers: Array<() => void> = [];
    const timer: LiveTimer = { now: () => now, setTimeout: (fn) => timers.push(fn), clearTimeout: () => {} };
    const view = live(demo.sup, { timer, sink: { display: (bundle, options) => calls.push({ bundle, options }) } });
    const before = childPid(demo.sup, "c").label;
    rt.crash(childPid(demo.sup, "c"), "boom");
    rt.getRuntime().settle();
    now = 1000;
    timers.splice(0).forEach((fn) => fn());
    view.stop();
    expect(calls.map((c) => c.options?.update ?? false)).toEqual([false, true]);
    const after = childPid(demo.sup, "c").label;
    expect(after).not.toBe(before);
    expect(String(calls[1]!.bundle["text/plain"])).toContain(after);
    expect(String(calls[0]!.bundle["text/plain"])).toContain(before);
  });
});
