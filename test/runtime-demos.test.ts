/** The one-call demos do what their lesson sentence claims (the text is a claim a test checks). */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, demoOneForOne, demoOneForAll, demoRestForOne, demoRestartTypes, demoIntensity, demoCascade, demoDynamic, demoPartitionSupervisor, demoTaskSupervisor, demoNetsplit, node, getRuntime, JUPYTER_DISPLAY, type DemoResult } from "../runtime/index.js";
import { registerWidgetRenderers } from "../widgets/renderers.js";

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
  it("PartitionSupervisor: keys routed as the BEAM routes them, and a crash restarts one partition only", () => {
    const d = demoPartitionSupervisor();
    // Printed by OTP 25 (JS strings are atoms in the runtime):
    //   erl -noshell -eval 'io:format("~p~n",[[erlang:phash2(K,4)||K<-[alice,bob,carol,dave,erin,frank]]]), halt().'
    //   [1,2,0,1,2,3]
    expect(d.lesson).toContain("(alice→1, bob→2, carol→0, dave→1, erin→2, frank→3)");
    expect(restarted(d)).toEqual(["1"]); // the child id, partition 1, as the event log writes ids
    const [before, after] = [pids(d, "before"), pids(d, "after")];
    expect(Object.keys(before)).toEqual(["0", "1", "2", "3"]);
    for (const p of [0, 2, 3]) expect(after[p]).toBe(before[p]);
    expect(after[1]).not.toBe(before[1]);
    // Run again in the same runtime: a second supervisor under a free name, not an already_started error.
    expect(demoPartitionSupervisor({ partitions: 2 }).title).toMatch(/^PartitionSupervisor DemoPartitions2 with 2 partitions/);
  });
  it("Task.Supervisor: an answer, a crash as a DOWN, a timeout shut down; nothing restarted, the caller alive", () => {
    const d = demoTaskSupervisor();
    expect(d.lesson).toMatch(/^Task\.yield gives \{:ok, 42\}, then \{:exit, \{%Error\{message: "boom"\}, .*\}\} .* then nil for the task still running/);
    expect(restarted(d)).toEqual([]);
    const exits = d.events.filter((e) => e.type === "exit").map((e) => (e as { reason: string }).reason);
    expect(exits).toHaveLength(3);
    expect(exits[0]).toBe(":normal");
    expect(exits[2]).toBe(":killed");
    expect(d.after!.root.children ?? []).toEqual([]);
    expect(getRuntime().shell.alive).toBe(true);
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

describe("demoNetsplit", () => {
  it("one singleton, two during the split, one again after the heal; drawn as three stages", () => {
    const d = demoNetsplit();
    expect(node()).toBe("a@lab");                                   // it named this node
    expect(d.stages).toHaveLength(3);
    const holders = d.stages.map((s) => new Set(s.view.globals.filter((g) => g.name === ":demo_singleton").map((g) => g.pid)).size);
    expect(holders).toEqual([1, 2, 1]);
    // during the split each side sees its own holder: b's on b only, c's on a and c
    const during = d.stages[1]!.view.globals;
    expect(during.map((g) => g.seenBy.length).sort()).toEqual([1, 2]);
    expect(d.events.filter((e) => e.includes(":global name clash"))).toHaveLength(1);
    expect(d.events.filter((e) => e.startsWith("singleton started"))).toHaveLength(2);
    expect(d.lesson).toMatch(/2 were started/);
    // The killed one is dead, the kept one alive.
    const clash = d.events.find((e) => e.includes("clash"))!;
    const [, kept, killed] = /kept (\S+), killed (\S+)/.exec(clash)!;
    const byLabel = new Map(getRuntime().processes().map((p) => [p.label, p]));
    expect(byLabel.get(kept!)?.alive).toBe(true);
    expect(byLabel.has(killed!)).toBe(false);
    // A second run uses fresh nodes and a fresh name, in the same cluster.
    const again = demoNetsplit();
    expect(again.stages[0]!.view.nodes.map((n) => n.name)).toContain("demo_b2@lab");
    expect(again.stages[0]!.view.globals.some((g) => g.name === ":demo_singleton2")).toBe(true);
  });

  it("renders the three stages in one Mermaid chart and one SVG, with the account as text", () => {
    registerWidgetRenderers();
    const bundle = demoNetsplit()[JUPYTER_DISPLAY]();
    const mermaid = bundle["text/vnd.mermaid"] as string;
    expect(mermaid.match(/subgraph stage_\d/g)).toEqual(["subgraph stage_0", "subgraph stage_1", "subgraph stage_2"]);
    expect(mermaid).toContain("x-. cut .-x");
    expect((bundle["image/svg+xml"] as string).match(/<svg x="0"/g)).toHaveLength(3);
    expect(bundle["text/plain"]).toMatch(/^A global singleton in a net split: during the split/);
  });
});
