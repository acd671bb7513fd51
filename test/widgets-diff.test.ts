import { describe, expect, it } from "vitest";
import type { TreeNode } from "../runtime/observe.js";
import { diffTrees, treeDiff } from "../widgets/tree-diff.js";
import { MERMAID_MAX_EDGES, MERMAID_TEXT_BUDGET } from "../widgets/tree-draw.js";
import { countRepresented } from "../widgets/tree-view.js";
import { bigTree, shopAfter, shopBefore } from "./widgets/fixtures.js";
import { expectGolden } from "./widgets/golden.js";
import { findAll, parseXml, pngSize, texts } from "./widgets/xml.js";

describe("treeDiff between two snapshots of the shop", () => {
  const diff = treeDiff(shopBefore(), shopAfter());

  it("finds restarted (new pid), stopped, removed and added children", () => {
    expect(diff.changes).toEqual([
      { kind: "restarted", path: "Shop.Sup/cache", id: "cache", before: "<0.81.0>", after: "<0.95.0>", detail: "<0.81.0> → <0.95.0> (restarts 0 → 2)", processes: 1 },
      { kind: "stopped", path: "Shop.Sup/payments/gateway", id: "gateway", before: "<0.83.0>", after: null, detail: "<0.83.0> → restarting", processes: 1 },
      { kind: "stopped", path: "Shop.Sup/payments/ledger", id: "ledger", before: "<0.84.0>", after: null, detail: "<0.84.0> → kept, not running", processes: 1 },
      { kind: "removed", path: "Shop.Sup/mailer", id: "mailer", before: "<0.85.0>", after: null, detail: "was <0.85.0>", processes: 1 },
      { kind: "added", path: "Shop.Sup/audit", id: "audit", before: null, after: "<0.97.0>", detail: "<0.97.0>", processes: 1 },
    ]);
    expect(diff.only("restarted").map((c) => c.id)).toEqual(["cache"]);
  });

  it("draws the second tree with removed children put back, dashed, and each change styled", () => {
    const m = diff.mermaid!;
    expect(m).toContain("title: Tree diff from t=1,000 ms to t=4,250 ms - 1 restarted, 2 stopped, 1 removed, 1 added");
    expect(m).toContain(`n1("<b>cache</b><br/>RESTARTED #lt;0.81.0#gt; → #lt;0.95.0#gt; (restarts 0 → 2)<br/>`);
    expect(m).toContain(`n5("<b>mailer</b><br/>REMOVED (was #lt;0.85.0#gt;)<br/>`);
    expect(m).toContain("  n0 -.-> n5");
    expect(m).toContain("  class n1 restarted");
    expect(m).toContain("  class n3,n4 stopped");
    expect(m).toContain("  class n5 removed");
    expect(m).toContain("  class n6 added");
    expect(m).toContain("  class n0,n2 running");
  });

  it("lists the changes in its text and has valid SVG and PNG", () => {
    expect(diff.text.split("\n").slice(0, 6)).toEqual([
      "Tree diff from t=1,000 ms to t=4,250 ms - 1 restarted, 2 stopped, 1 removed, 1 added",
      "  restarted Shop.Sup/cache  <0.81.0> → <0.95.0> (restarts 0 → 2)",
      "  stopped   Shop.Sup/payments/gateway  <0.83.0> → restarting",
      "  stopped   Shop.Sup/payments/ledger  <0.84.0> → kept, not running",
      "  removed   Shop.Sup/mailer  was <0.85.0>",
      "  added     Shop.Sup/audit  <0.97.0>",
    ]);
    const svg = parseXml(diff.svg);
    const nodes = findAll(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node "));
    expect(nodes.map((n) => n.attrs.class)).toEqual(["node running", "node restarted oldcode", "node running", "node stopped", "node stopped", "node removed", "node added"]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["restarted (new pid)", "removed", "added", "stopped (pid gone)"]));
    expect(pngSize(Buffer.from(diff.png, "base64")).width).toBe(Number(svg.attrs.width));
    expectGolden("shop-diff.mmd", diff.mermaid!);
    expectGolden("shop-diff.svg", diff.svg);
  });
});

describe("diffTrees matching rules", () => {
  const worker = (id: string, pid: string | null, extra: Partial<TreeNode> = {}): TreeNode =>
    ({ id, pid, kind: "worker", behaviour: "gen_server", status: pid ? "running" : "undefined", restarts: 0, ...extra });
  const sup = (children: TreeNode[]): TreeNode => ({ id: "S", pid: "<0.1.0>", kind: "supervisor", behaviour: "supervisor", status: "running", restarts: 0, children });

  it("reports nothing for identical trees", () => {
    const t = sup([worker("a", "<0.2.0>"), worker("b", "<0.3.0>")]);
    expect(diffTrees(t, structuredClone(t)).changes).toEqual([]);
  });

  it("matches duplicate ids (dynamic children) by pid first, so survivors are not reported", () => {
    const before = sup([worker("w", "<0.2.0>"), worker("w", "<0.3.0>"), worker("w", "<0.4.0>")]);
    const after = sup([worker("w", "<0.3.0>"), worker("w", "<0.4.0>")]);
    expect(diffTrees(before, after).changes.map((c) => `${c.kind} ${c.before}`)).toEqual(["removed <0.2.0>"]);
  });

  it("reports code upgrades and status changes of a process that kept its pid", () => {
    const before = sup([worker("a", "<0.2.0>", { version: 1 })]);
    const after = sup([worker("a", "<0.2.0>", { version: 2, oldCode: true, status: "restarting" })]);
    expect(diffTrees(before, after).changes.map((c) => c.detail)).toEqual(["running → restarting, code v1 → v2, now runs old code"]);
  });

  it("puts consecutive removed children back in their original order", () => {
    const before = sup([worker("a", "<0.2.0>"), worker("b", "<0.3.0>"), worker("c", "<0.4.0>"), worker("d", "<0.5.0>")]);
    const after = sup([worker("a", "<0.2.0>"), worker("d", "<0.5.0>")]);
    expect(diffTrees(before, after).merged.children!.map((c) => c.id)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("treeDiff of a 10,000-process tree", () => {
  it("groups unchanged and removed workers separately and keeps changed ones visible", () => {
    const before = bigTree();
    const after = bigTree();
    const pool = after.root.children![1]!;
    pool.children!.splice(500, 2000); // workers 500..2499 gone
    pool.children![3]!.pid = "<0.99999.0>"; // worker_3 restarted
    const diff = treeDiff(before, after);
    expect(diff.only("removed").length).toBe(2000);
    expect(diff.only("restarted").map((c) => c.id)).toEqual(["worker_3"]);
    const m = diff.mermaid!;
    expect(m.length).toBeLessThan(MERMAID_TEXT_BUDGET);
    expect(m.split("\n").filter((l) => / -(->|\.->) /.test(l)).length).toBeLessThan(MERMAID_MAX_EDGES);
    expect(countRepresented(diff.view)).toBe(10_000);
    expect(m).toContain("RESTARTED #lt;0.203.0#gt; → #lt;0.99999.0#gt;");
    expect(m).toContain(`[["<b>× 1,997 more workers</b><br/>all REMOVED<br/>worker · gen_server · temporary<br/>were running<br/>Pool.Worker v1"]]`);
    expect(diff.text).toContain("… and 1,981 more changes (see .changes)");
  });
});

describe("treeDiff of children that stopped on the real runtime", () => {
  it("says 'kept, not running' for a stopped transient child and 'was running' for a removed temporary one, never 'undefined'", async () => {
    const rt = await import("../runtime/index.js");
    rt.setRuntime(new rt.Runtime({ clock: "virtual" }));
    const demo = rt.demoRestartTypes();
    const diff = treeDiff(demo.before, demo.after!);
    const at = (id: string) => diff.changes.find((c) => c.id === id)!;
    expect(at("transient")).toMatchObject({ kind: "stopped", after: null, detail: `${at("transient").before} → kept, not running` });
    expect(at("temporary")).toMatchObject({ kind: "removed", detail: `was ${at("temporary").before}` });
    const lines = diff.text.split("\n");
    expect(lines.find((l) => l.includes("├─ transient"))).toContain("| no pid · kept, not running |");
    expect(lines.find((l) => l.includes("└─ temporary"))).toContain(`| ${at("temporary").before} · was running |`);
    expect(diff.text).not.toContain("undefined");
    expect(diff.mermaid).not.toContain("undefined");
  });

  it("says 'kept, not running' for a child stopped with terminateChild, and 'STARTED' when it is restarted", async () => {
    const rt = await import("../runtime/index.js");
    rt.setRuntime(new rt.Runtime({ clock: "virtual" }));
    const W = rt.defmodule("W", { init: () => ["ok", 0] });
    const [, sup] = (await rt.Supervisor.startLink([{ id: "w", start: () => rt.GenServer.startLink(W) }], { strategy: "one_for_one" })) as [string, rt.Pid];
    const running = rt.snapshot(sup);
    await rt.Supervisor.terminateChild(sup, "w");
    const stopped = rt.snapshot(sup);
    expect(treeDiff(running, stopped).changes.map((c) => c.detail)).toEqual([`${running.root.children![0]!.pid} → kept, not running`]);
    await rt.Supervisor.restartChild(sup, "w");
    const again = rt.snapshot(sup);
    expect(treeDiff(stopped, again).changes.map((c) => c.detail)).toEqual([`kept, not running → ${again.root.children![0]!.pid}`]);
  });
});
