import { describe, expect, it } from "vitest";
import type { MetricSample, RuntimeEvent } from "../runtime/observe.js";
import { mailboxChart, memoryChart, metricsChart, restartsChart, sparkline } from "../widgets/charts.js";
import { vegaLiteToSvg } from "../widgets/vega-render.js";
import { shopBefore, shopEvents, shopSamples } from "./widgets/fixtures.js";
import { expectGolden } from "./widgets/golden.js";
import { parseXml, pngSize, texts } from "./widgets/xml.js";

type Layer = { data: { values: Array<Record<string, unknown>> }; mark: { type: string }; encoding: Record<string, unknown> };

describe("restartsChart", () => {
  const chart = restartsChart(shopEvents(), { limits: shopBefore() });
  const layers = chart.spec.layer as Layer[];

  it("is a Vega-Lite v5 bundle with SVG, PNG and text", () => {
    expect(Object.keys(chart.bundle)).toEqual(["application/vnd.vegalite.v5+json", "image/svg+xml", "image/png", "text/plain"]);
    expect(chart.bundle["application/vnd.vegalite.v5+json"]).toBe(chart.spec);
    expect(chart.spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(layers.map((l) => l.mark.type)).toEqual(["line", "rule", "text", "point", "text", "text"]);
    expect(layers[0]!.encoding.x).toMatchObject({ field: "t", title: "runtime clock (ms)" });
  });

  it("counts restarts inside each supervisor's period, on the runtime clock", () => {
    const points = (sup: string) => layers[0]!.data.values.filter((v) => v.supervisor === sup).map((v) => [v.t, v.restarts]);
    // Shop.Sup (limit 3 in 5 s) restarted cache at 200, payments at 3,000, cache at 3,200: at the limit, not over.
    expect(points("Shop.Sup <0.80.0>")).toEqual([[0, 0], [200, 1], [3000, 2], [3200, 3], [4200, 3]]);
    // Payments (limit 1 in 5 s) restarted gateway at 1,500; the next crash at 3,000 was one too many.
    expect(points("Shop.Payments <0.82.0>")).toEqual([[0, 0], [1500, 1], [3000, 1], [3000, 2]]);
  });

  it("draws each intensity limit as a line and marks where the supervisor gave up", () => {
    expect(layers[1]!.data.values).toEqual([
      { supervisor: "Shop.Sup <0.80.0>", intensity: 3, label: "limit: 3 in 5s" },
      { supervisor: "Shop.Payments <0.82.0>", intensity: 1, label: "limit: 1 in 5s" },
    ]);
    expect(layers[3]!.data.values).toEqual([
      { supervisor: "Shop.Payments <0.82.0>", t: 3000, restarts: 2, label: "Shop.Payments <0.82.0> gave up" },
    ]);
    expect(chart.text).toBe([
      "Restarts per supervisor (runtime clock)",
      "  Shop.Sup <0.80.0>: 3 restarts at 200, 3,000, 3,200 ms; limit 3 in 5s",
      "  Shop.Payments <0.82.0>: 1 restart at 1,500 ms; limit 1 in 5s; GAVE UP at 3,000 ms (reached_max_restart_intensity)",
    ].join("\n"));
  });

  it("renders the same spec to the same valid SVG every time, with the labels in it", () => {
    const svg = parseXml(chart.svg);
    expect(svg.name).toBe("svg");
    const all = texts(svg);
    expect(all).toEqual(expect.arrayContaining(["Restarts per supervisor", "Shop.Payments <0.82.0> gave up", "limit: 3 in 5s", "Shop.Sup <0.80.0>", "runtime clock (ms)"]));
    expect(vegaLiteToSvg(chart.spec)).toBe(chart.svg);
    expectGolden("shop-restarts.svg", chart.svg);
    const png = pngSize(Buffer.from(chart.png, "base64"));
    expect(png).toEqual({ width: Number(svg.attrs.width), height: Number(svg.attrs.height) });
  });

  it("lets restarts leave the window after `period` seconds", () => {
    const events: RuntimeEvent[] = [0, 1000, 7000].map((t) => ({ type: "restart", t, sup: "<0.5.0>", id: "w", newPid: `<0.${t}.1>` }));
    const c = restartsChart(events, { limits: { "<0.5.0>": { intensity: 5, period: 5 } } });
    expect((c.spec.layer as Layer[])[0]!.data.values.map((v) => [v.t, v.restarts])).toEqual([[0, 1], [1000, 2], [5000, 1], [6000, 0], [7000, 1]]);
  });

  it("gives a restarted supervisor the limits of its child id, and shares one mark between simultaneous give-ups", () => {
    const events: RuntimeEvent[] = [
      { type: "restart", t: 0, sup: "<0.2.0>", id: "db", newPid: "<0.5.0>" },
      { type: "report", t: 0, sup: "<0.2.0>", context: "shutdown", id: "db", reason: ":reached_max_restart_intensity" },
      { type: "restart", t: 0, sup: "<0.1.0>", id: "inner", oldPid: "<0.2.0>", newPid: "<0.3.0>" },
      { type: "restart", t: 0, sup: "<0.3.0>", id: "db", newPid: "<0.6.0>" },
      { type: "report", t: 0, sup: "<0.3.0>", context: "shutdown", id: "db", reason: ":reached_max_restart_intensity" },
    ];
    const tree = { t: 0, root: { id: "Root", pid: "<0.1.0>", kind: "supervisor" as const, behaviour: "supervisor", intensity: 1, period: 5, status: "running" as const, restarts: 0, children: [
      { id: "inner", pid: "<0.2.0>", kind: "supervisor" as const, behaviour: "supervisor", intensity: 1, period: 5, status: "running" as const, restarts: 0 },
    ] } };
    const c = restartsChart(events, { limits: tree });
    const layers = c.spec.layer as Layer[];
    expect(layers[1]!.data.values.map((v) => v.supervisor)).toEqual(["inner <0.2.0>", "Root <0.1.0>", "inner <0.3.0>"]);
    expect(layers[3]!.data.values).toEqual([{ supervisor: "inner <0.2.0>", t: 0, restarts: 2, label: "inner <0.2.0>, inner <0.3.0> gave up" }]);
    expect(c.text).not.toContain("limit unknown");
  });

  it("falls back to cumulative counts when the limits are unknown, and says so", () => {
    const c = restartsChart(shopEvents());
    expect(((c.spec.title as { subtitle: string }).subtitle)).toContain("cumulative where the limit is unknown");
    expect((c.spec.layer as Layer[])[1]!.data.values).toEqual([]);
    expect(c.text).toContain("limit unknown");
  });

  it("reports an input it cannot read", () => {
    expect(() => restartsChart(7 as never)).toThrow(/expected an array of runtime events or an event log with all\(\)/);
  });
});

describe("memory and mailbox charts", () => {
  it("draw one line per process over the runtime clock", () => {
    const chart = memoryChart(shopSamples());
    expect(chart.spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    const values = (chart.spec.data as { values: Array<Record<string, unknown>> }).values;
    expect(values.filter((v) => v.process === "cache <0.81.0>").map((v) => v.memory)).toEqual([2000, 2500, 3000, 3500, 4000, 4500, 5000]);
    expect(chart.spec.encoding).toMatchObject({ y: { field: "memory", title: "memory (bytes)" }, color: { field: "process" } });
    expect(chart.text.split("\n")[1]).toBe("  cache <0.81.0>: ▁▂▃▅▆▇█  min 2.0 KB, max 4.9 KB, last 4.9 KB (0 ms to 3,000 ms)");
    expect(texts(parseXml(chart.svg))).toEqual(expect.arrayContaining(["Memory per process", "cache <0.81.0>", "gateway <0.83.0>"]));
  });

  it("shows the processes with the highest peaks when there are many", () => {
    const samples: MetricSample[] = [];
    for (let p = 0; p < 50; p++) for (let t = 0; t < 3; t++) samples.push({ t: t * 10, pid: `<0.${p}.0>`, name: `p${p}`, memory: 100, mailbox: p, reductions: 0 });
    const chart = mailboxChart(samples, { top: 3 });
    const shown = new Set((chart.spec.data as { values: Array<{ process: string }> }).values.map((v) => v.process));
    expect([...shown]).toEqual(["p47 <0.47.0>", "p48 <0.48.0>", "p49 <0.49.0>"]);
    expect((chart.spec.title as { subtitle: string }).subtitle).toBe("top 3 of 50 processes by peak");
  });

  it("combine into one metrics chart, memory above mailbox", () => {
    const chart = metricsChart({ samples: () => shopSamples() });
    expect((chart.spec.vconcat as Array<{ encoding: { y: { field: string } } }>).map((v) => v.encoding.y.field)).toEqual(["memory", "mailbox"]);
    expect(chart.text).toContain("Mailbox length per process (runtime clock)\n  cache <0.81.0>: ▁▃▆█▆▃▁  min 0, max 15, last 0");
    parseXml(chart.svg);
  });

  it("sparklines scale between min and max", () => {
    expect(sparkline([0, 7, 14])).toBe("▁▅█");
    expect(sparkline([3, 3])).toBe("▁▁");
    expect(sparkline(Array.from({ length: 100 }, (_, i) => i), 10)).toHaveLength(10);
  });
});

describe("restartsChart on real runtime events", () => {
  it("counts one restart per supervisor reaction, as OTP's intensity does (R43)", async () => {
    const rt = await import("../runtime/index.js");
    rt.setRuntime(new rt.Runtime({ clock: "virtual" }));
    const d = rt.demoOneForAll();
    const { restartsChart } = await import("../widgets/index.js");
    const text = String(restartsChart(d.events, { limits: d.before }).bundle["text/plain"]);
    expect(text).toMatch(/: 1 restart at 0 ms; limit 3 in 5s/);
  });
});

describe("restartsChart with the snapshot of a supervisor that gave up", () => {
  it("takes the limits from the dead supervisor's snapshot instead of saying 'limit unknown'", async () => {
    const rt = await import("../runtime/index.js");
    rt.setRuntime(new rt.Runtime({ clock: "virtual" }));
    const d = rt.demoIntensity();
    expect(d.sup.alive).toBe(false);
    const snap = rt.snapshot(d.sup);
    expect(snap.root).toMatchObject({ status: "dead", kind: "supervisor", strategy: "one_for_one", intensity: 3, period: 5 });
    const { restartsChart } = await import("../widgets/index.js");
    const text = String(restartsChart(d.events, { limits: snap }).bundle["text/plain"]);
    expect(text).not.toContain("limit unknown");
    expect(text).toMatch(new RegExp(`${d.sup.label.replace(/[.<>]/g, "\\$&")}: 3 restarts at .*; limit 3 in 5s; GAVE UP at 300 ms`));
  });
});
