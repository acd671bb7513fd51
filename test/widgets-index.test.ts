import { describe, expect, it } from "vitest";
import { JUPYTER_DISPLAY, renderAs } from "../runtime/display-hook.js";
import * as widgets from "../widgets/index.js";
import { bigTree, shopAfter, shopBefore, shopEvents, shopProcesses, shopSamples } from "./widgets/fixtures.js";

describe("widgets/index.ts", () => {
  it("exports the learner-facing functions, and only values a notebook should see as globals", () => {
    expect(Object.keys(widgets).sort()).toEqual([
      "clusterDiagram", "control", "live", "mailboxChart", "memoryChart", "metricsChart", "processTable", "restartsChart", "sequenceDiagram", "strategyLab", "treeDiagram", "treeDiff",
    ]);
  });

  it("every widget renders through Jupyter.display with its native type, SVG, PNG and text", () => {
    const made = [
      widgets.treeDiagram(shopAfter()),
      widgets.treeDiff(shopBefore(), shopAfter()),
      widgets.sequenceDiagram(shopEvents()),
      widgets.processTable(shopProcesses()),
      widgets.restartsChart(shopEvents(), { limits: shopBefore() }),
      widgets.memoryChart(shopSamples()),
      widgets.mailboxChart(shopSamples()),
    ];
    const natives = made.map((w) => {
      const bundle = w[JUPYTER_DISPLAY]();
      expect(bundle).toBe(w.bundle);
      expect(typeof bundle["image/svg+xml"]).toBe("string");
      expect(Buffer.from(String(bundle["image/png"]), "base64").subarray(1, 4).toString()).toBe("PNG");
      expect(String(bundle["text/plain"]).length).toBeGreaterThan(0);
      return Object.keys(bundle)[0];
    });
    expect(natives).toEqual([
      "text/vnd.mermaid", "text/vnd.mermaid", "text/vnd.mermaid", "text/html",
      "application/vnd.vegalite.v5+json", "application/vnd.vegalite.v5+json", "application/vnd.vegalite.v5+json",
    ]);
  });

  it("registers renderers so runtime objects draw themselves", () => {
    const plain = () => "fallback";
    expect(Object.keys(renderAs("snapshot", bigTree(), plain))[0]).toBe("text/vnd.mermaid");
    expect(String(renderAs("supervisor", { snapshot: () => shopAfter() }, plain)["text/plain"])).toContain("Supervision tree at t=4,250 ms");
    expect(String(renderAs("process", shopProcesses()[1], plain)["text/html"])).toContain("&lt;0.95.0&gt;");
    expect(String(renderAs("events", { all: () => shopEvents() }, plain)["text/vnd.mermaid"])).toContain("sequenceDiagram");
    const metrics = renderAs("metrics", shopSamples(), plain)["application/vnd.vegalite.v5+json"] as { vconcat: unknown[] };
    expect(metrics.vconcat).toHaveLength(2);
    // A value the renderer cannot read falls back to text with the reason (display-hook catches it).
    expect(renderAs("snapshot", { nonsense: true }, plain)["text/plain"]).toMatch(/^fallback\n\(rendering failed: treeDiagram: expected/);
  });
});
