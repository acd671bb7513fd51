import { describe, expect, it } from "vitest";
import type { RuntimeEvent } from "../runtime/observe.js";
import { sequenceDiagram } from "../widgets/sequence-diagram.js";
import { shopEvents } from "./widgets/fixtures.js";
import { expectGolden } from "./widgets/golden.js";
import { findAll, parseXml, pngSize, texts } from "./widgets/xml.js";

function body(mermaid: string): string[] {
  return mermaid.split("\n").filter((l) => l.startsWith("  "));
}

describe("sequenceDiagram of the shop's events", () => {
  const seq = sequenceDiagram(shopEvents());

  it("declares lifelines in order of appearance, the outside caller first and the code server last", () => {
    const participants = body(seq.mermaid!).filter((l) => l.startsWith("  participant"));
    expect(participants).toEqual([
      "  participant p0 as outside",
      "  participant p1 as Shop.Sup #lt;0.80.0#gt;",
      "  participant p2 as cache #lt;0.81.0#gt;",
      "  participant p3 as Shop.Payments #lt;0.82.0#gt;",
      "  participant p4 as gateway #lt;0.83.0#gt;",
      "  participant p5 as cache #lt;0.95.0#gt;",
      "  participant p6 as gateway #lt;0.96.0#gt;",
      "  participant p7 as payments #lt;0.99.0#gt;",
      "  participant p8 as cache #lt;0.98.0#gt;",
      "  participant p9 as code server",
    ]);
  });

  it("draws messages, exit signals, exits, restarts, reports, spawns and code events", () => {
    const steps = body(seq.mermaid!).filter((l) => !l.startsWith("  participant"));
    expect(steps).toContain("  p1-)p2: 0 ms · spawn gen_server Shop.Cache v1");
    expect(steps).toContain("  p0->>p2: 100 ms · {:put, :apple, 3}");
    // User text with ; # < > & " is entity-encoded, so it cannot end the statement or become HTML.
    expect(steps).toContain("  p2->>p4: 120 ms · {:charge, #quot;#lt;card#gt;#quot;#59; 42 #amp; more #35;tag}");
    expect(steps).toContain("  Note over p2: 200 ms · exit %RuntimeError{message: #quot;boom#quot;}");
    expect(steps).toContain("  p2--xp1: 200 ms · EXIT %RuntimeError{message: #quot;boom#quot;}");
    expect(steps).toContain("  Note over p1: 200 ms · SUPERVISOR REPORT child_terminated cache %RuntimeError{message: #quot;boom#quot;}");
    expect(steps).toContain("  p1->>p5: 200 ms · restart cache (was #lt;0.81.0#gt;)");
    expect(steps).toContain("  Note over p3: 3,000 ms · SUPERVISOR REPORT shutdown gateway reached_max_restart_intensity");
    expect(steps).toContain("  Note over p9: 150 ms · load Shop.Cache v2");
    expect(steps).toContain("  Note over p8: 4,100 ms · code_change Shop.Cache v1 → v2");
    expect(steps.length).toBe(shopEvents().length);
    for (const line of steps) expect(line.split(": ").slice(1).join(": ").replace(/#\w+;/g, ""), line).not.toMatch(/[;#<>"]/);
  });

  it("has a text log and valid, byte-stable SVG with one row per event", () => {
    const lines = seq.text.split("\n");
    expect(lines[0]).toBe("Sequence of 22 events from t=0 ms to t=4,200 ms");
    expect(lines).toContain("     200 ms  signal  cache <0.81.0> -x Shop.Sup <0.80.0>  EXIT %RuntimeError{message: \"boom\"}");
    expect(lines).toContain("   3,000 ms  report  Shop.Payments <0.82.0>  SUPERVISOR REPORT shutdown gateway reached_max_restart_intensity");
    const svg = parseXml(seq.svg);
    expect(findAll(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("step ")).length).toBe(22);
    expect(findAll(svg, (e) => e.attrs.class === "participant").length).toBe(10);
    expect(texts(svg)).toEqual(expect.arrayContaining(["outside", "Shop.Sup <0.80.0>", "{:charge, \"<card>\"; 42 & more #tag}", "restart cache (was <0.81.0>)"]));
    expect(pngSize(Buffer.from(seq.png, "base64")).height).toBe(Number(svg.attrs.height));
    expectGolden("shop-sequence.mmd", seq.mermaid!);
    expectGolden("shop-sequence.svg", seq.svg);
  });
});

describe("sequenceDiagram windows", () => {
  it("keeps only events in [from, to] involving the given processes", () => {
    const seq = sequenceDiagram(shopEvents(), { from: 1000, to: 3500, pids: ["gateway"] });
    expect(seq.events).toBe(5);
    expect(seq.text.split("\n").slice(1).map((l) => l.trim().split(/\s+/).slice(0, 3).join(" "))).toEqual([
      "1,500 ms exit", "1,500 ms signal", "1,500 ms restart", "3,000 ms exit", "3,000 ms report",
    ]);
  });

  it("draws the last N and says how many earlier events are not shown", () => {
    const seq = sequenceDiagram(shopEvents(), { last: 3 });
    expect(seq.events).toBe(3);
    expect(seq.mermaid).toContain("title: Sequence of 3 events from t=3,200 ms to t=4,200 ms - 19 earlier not shown");
    expect(seq.mermaid).toMatch(/Note over p0,p\d: … 19 earlier events not shown/);
    expect(seq.text).toContain("  … 19 earlier events not shown");
  });

  it("folds the least active processes into one lifeline beyond maxParticipants", () => {
    const events: RuntimeEvent[] = [];
    for (let i = 0; i < 30; i++) events.push({ type: "send", t: i, from: "<0.1.0>", to: `<0.${10 + i}.0>`, msg: `m${i}` });
    for (let i = 0; i < 5; i++) events.push({ type: "send", t: 100 + i, from: "<0.1.0>", to: "<0.10.0>", msg: "again" });
    const seq = sequenceDiagram(events, { maxParticipants: 4 });
    const participants = seq.mermaid!.split("\n").filter((l) => l.includes("participant"));
    expect(participants).toEqual([
      "  participant p0 as #lt;0.1.0#gt;",
      "  participant p1 as #lt;0.10.0#gt;",
      "  participant p2 as #lt;0.11.0#gt;",
      "  participant p3 as … 28 other processes",
    ]);
    expect(seq.mermaid).toContain("  p0->>p3: 29 ms · m29");
  });

  it("draws an empty window without failing", () => {
    const seq = sequenceDiagram([]);
    expect(seq.events).toBe(0);
    expect(seq.text).toBe("Sequence of 0 events (no events in the window)");
    parseXml(seq.svg);
  });
});
