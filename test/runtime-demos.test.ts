/** The one-call demos do what their lesson sentence claims (the text is a claim a test checks). */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, demoOneForOne, demoOneForAll, demoRestForOne, demoRestartTypes, demoIntensity, demoCascade, demoDynamic, type DemoResult } from "../runtime/index.js";

beforeEach(() => {
  setRuntime(new Runtime({ clock: "virtual" }));
});

const pids = (d: DemoResult, which: "before" | "after") => Object.fromEntries((d[which]?.root.children ?? []).map((c) => [c.id, c.pid]));
const restarted = (d: DemoResult) => d.events.filter((e) => e.type === "restart").map((e) => (e as { id: string }).id);

describe("strategy demos", () => {
  it("one_for_one restarts only b", () => {
    const d = demoOneForOne();
    expect(restarted(d)).toEqual(["b"]);
    expect(pids(d, "after").a).toBe(pids(d, "before").a);
  });
  it("one_for_all restarts a, b, c in start order", () => {
    expect(restarted(demoOneForAll())).toEqual(["a", "b", "c"]);
  });
  it("rest_for_one restarts b and c, keeps a", () => {
    const d = demoRestForOne();
    expect(restarted(d)).toEqual(["b", "c"]);
    expect(pids(d, "after").a).toBe(pids(d, "before").a);
  });
});

describe("other demos", () => {
  it("restart types", () => {
    const d = demoRestartTypes();
    expect(restarted(d)).toEqual(["permanent", "permanent"]);
    expect(d.after!.root.children!.map((c) => [c.id, c.status])).toEqual([["permanent", "running"], ["transient", "undefined"]]);
  });
  it("intensity: the 4th crash with intensity 3 stops the supervisor", () => {
    const d = demoIntensity({ intensity: 3, crashes: 4 });
    expect(restarted(d)).toHaveLength(3);
    expect(d.after).toBeNull();
    expect(d.events.some((e) => e.type === "report" && e.context === "shutdown")).toBe(true);
  });
  it("cascade climbs to the root", () => {
    const d = demoCascade();
    expect(d.after).toBeNull();
    expect(d.events.filter((e) => e.type === "report" && e.context === "shutdown")).toHaveLength(3);
  });
  it("dynamic: max_children, restart, terminate", () => {
    const d = demoDynamic();
    expect(restarted(d)).toEqual(["w1"]);
    expect(d.after!.root.children).toHaveLength(2);
    expect(d.summary()).toContain("DynamicSupervisor");
  });
});

describe("metrics", () => {
  it("samples the tree on the runtime clock, identically on every run", async () => {
    const run = async () => {
      setRuntime(new Runtime({ clock: "virtual" }));
      const { metrics, demoOneForOne, advance, send } = await import("../runtime/index.js");
      const d = demoOneForOne();
      const m = metrics({ root: d.sup, everyMs: 100 });
      const b = d.after!.root.children![1].pid!;
      const proc = d.sup.rt.processes().find((p) => p.label === b)!;
      for (let i = 0; i < 5; i++) send(proc, "junk"); // an unhandled message stays... or is dropped by handleInfo
      advance(1000);
      m.stop();
      return m.samples;
    };
    const a = await run();
    expect(a.length).toBe(11 * 4); // t = 0..1000 every 100 ms, supervisor + 3 workers
    expect(new Set(a.map((s) => s.name))).toEqual(new Set(["a", "b", "c", a[0].name]));
    expect(await run()).toEqual(a);
  });
});

describe("restart events", () => {
  it("number the supervisor's reactions: one per restart counted toward the intensity (R43)", () => {
    setRuntime(new Runtime({ clock: "virtual" }));
    const d = demoOneForAll();
    const restarts = d.events.filter((e) => e.type === "restart") as Array<{ reaction?: number; id: string }>;
    expect(restarts.map((e) => e.id)).toEqual(["a", "b", "c"]);
    expect(new Set(restarts.map((e) => e.reaction))).toEqual(new Set([1]));
  });
});
