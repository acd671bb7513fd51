import { afterEach, describe, expect, it } from "vitest";
import type { TreeNode, TreeSnapshot } from "../runtime/observe.js";
import { useRuntime, type RuntimeLike } from "../widgets/sources.js";
import { MERMAID_MAX_EDGES, MERMAID_MAX_TEXT, MERMAID_TEXT_BUDGET } from "../widgets/tree-draw.js";
import { treeDiagram } from "../widgets/tree-diagram.js";
import { countNodes, countRepresented, walk, type ViewNode } from "../widgets/tree-view.js";
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import { bigTree, countProcesses, shopAfter } from "./widgets/fixtures.js";
import { expectGolden } from "./widgets/golden.js";
import { findAll, parseXml, pngSize, texts } from "./widgets/xml.js";

function edges(mermaid: string): string[] {
  return mermaid.split("\n").filter((l) => /^\s+n\d+ -(->|\.->) n\d+$/.test(l));
}

function nodeLines(mermaid: string): string[] {
  return mermaid.split("\n").filter((l) => /^\s+n\d+[[(]/.test(l));
}

function views(root: ViewNode): ViewNode[] {
  const out: ViewNode[] = [];
  walk(root, (v) => out.push(v));
  return out;
}

describe("treeDiagram of a small tree", () => {
  const tree = treeDiagram(shopAfter());

  it("renders through Jupyter.display with the Mermaid source first, then SVG, PNG and text", () => {
    const bundle = tree[JUPYTER_DISPLAY]();
    expect(Object.keys(bundle)).toEqual(["text/vnd.mermaid", "image/svg+xml", "image/png", "text/plain"]);
    expect(bundle).toBe(tree.bundle);
  });

  it("labels every node with id, kind, strategy, restart type, status, restarts, last exit and code version", () => {
    const m = tree.mermaid!;
    expect(m).toMatch(/^---\ntitle: Supervision tree at t=4,250 ms\nconfig:\n  flowchart:\n    wrappingWidth: 480\n---\nflowchart TD\n/);
    expect(m).toContain(`n0["<b>Shop.Sup</b><br/>supervisor · one_for_one · limit 3 in 5s<br/>#lt;0.80.0#gt; · running<br/>restarts 0<br/>Shop.Sup v1"]`);
    expect(m).toContain(`n3("<b>gateway</b><br/>worker · gen_server · permanent<br/>no pid · restarting<br/>restarts 1 · last exit {:shutdown, :timeout}<br/>Shop.Gateway v1")`);
    expect(m).toContain("supervisor · rest_for_one · limit 1 in 5s · permanent");
    expect(m).toContain("Shop.Cache v2 · old code");
    expect(edges(m)).toEqual(["  n0 --> n1", "  n0 --> n2", "  n2 --> n3", "  n2 --> n4", "  n0 --> n5"]);
  });

  it("styles nodes by status, with old code as an extra border", () => {
    const m = tree.mermaid!;
    expect(m).toContain("  class n0,n1,n2,n5 running");
    expect(m).toContain("  class n3 restarting");
    expect(m).toContain("  class n4 nopid");
    expect(m).toContain("  class n1 oldcode");
    expect(m.indexOf("classDef oldcode")).toBeGreaterThan(m.indexOf("classDef nopid"));
  });

  it("escapes user text in labels: no raw quote, angle bracket or semicolon inside a label", () => {
    for (const line of nodeLines(tree.mermaid!)) {
      const label = line.replace(/^\s+n\d+[[(]+"/, "").replace(/"[\])]+$/, "");
      const plain = label.replace(/<\/?b>|<br\/>/g, "").replace(/#\w+;/g, "");
      expect(plain, line).not.toMatch(/["<>;#]/);
    }
    expect(tree.mermaid).toContain("%RuntimeError{message: #quot;#lt;boom#gt; #amp; \\#quot;…");
  });

  it("draws valid SVG with one group per node, the labels, and a legend of the styles used", () => {
    const svg = parseXml(tree.svg);
    expect(svg.name).toBe("svg");
    expect(svg.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    const nodes = findAll(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node "));
    expect(nodes.map((n) => n.attrs["data-key"])).toEqual(["n0", "n1", "n2", "n3", "n4", "n5"]);
    expect(nodes.map((n) => n.attrs.class)).toEqual(["node running", "node running oldcode", "node running", "node restarting", "node nopid", "node running"]);
    const all = texts(svg);
    expect(all).toContain("cache\nworker · gen_server · permanent\n<0.95.0> · running\nrestarts 2 · last exit %RuntimeError{message: \"<boom> & \\\"…\nShop.Cache v2 · old code");
    expect(all).toEqual(expect.arrayContaining(["Supervision tree at t=4,250 ms", "running", "restarting (retry pending)", "kept, not running (no pid)", "runs old code"]));
    // No stylesheet or ids: inlined SVG must not leak styles into the notebook page.
    expect(findAll(svg, (e) => e.name === "style" || "id" in e.attrs)).toEqual([]);
  });

  it("is byte-stable for a fixed snapshot", () => {
    expectGolden("shop-tree.mmd", tree.mermaid!);
    expectGolden("shop-tree.svg", tree.svg);
    expectGolden("shop-tree.txt", tree.text);
    const again = treeDiagram(shopAfter());
    expect(again.bundle).toEqual(tree.bundle);
  });

  it("has a PNG of the SVG's size", () => {
    const svg = parseXml(tree.svg);
    const png = pngSize(Buffer.from(tree.png, "base64"));
    expect(png).toEqual({ width: Number(svg.attrs.width), height: Number(svg.attrs.height) });
  });

  it("has an ASCII tree fallback", () => {
    expect(tree.text.split("\n")).toEqual([
      "Supervision tree at t=4,250 ms",
      "Shop.Sup  [supervisor · one_for_one · limit 3 in 5s | <0.80.0> · running | restarts 0 | Shop.Sup v1]",
      `├─ cache  [worker · gen_server · permanent | <0.95.0> · running | restarts 2 · last exit %RuntimeError{message: "<boom> & \\"… | Shop.Cache v2 · old code]`,
      "├─ payments  [supervisor · rest_for_one · limit 1 in 5s · permanent | <0.82.0> · running | restarts 0 | Shop.Payments v1]",
      "│  ├─ gateway  [worker · gen_server · permanent | no pid · restarting | restarts 1 · last exit {:shutdown, :timeout} | Shop.Gateway v1]",
      "│  └─ ledger  [worker · agent · transient | no pid · kept, not running | restarts 0 · last exit normal | Shop.Ledger v1]",
      "└─ audit  [worker · task · temporary | <0.97.0> · running | restarts 0 | Shop.Audit v1]",
    ]);
    expect(String(tree)).toBe(tree.text);
  });

  it("collapses subtrees on request, by id or pid, or below a depth", () => {
    const byId = treeDiagram(shopAfter(), { collapse: ["payments"] });
    expect(byId.text).toContain("payments  [supervisor · rest_for_one · limit 1 in 5s · permanent | <0.82.0> · running | restarts 0 | Shop.Payments v1 | ▸ 2 processes below (collapsed)]");
    expect(byId.text).not.toContain("gateway");
    expect(countRepresented(byId.view)).toBe(6);
    const byPid = treeDiagram(shopAfter(), { collapse: ["<0.82.0>"] });
    expect(byPid.mermaid).toBe(byId.mermaid);
    const byDepth = treeDiagram(shopAfter(), { depth: 0 });
    expect(countNodes(byDepth.view)).toBe(1);
    expect(byDepth.text).toContain("▸ 5 processes below (collapsed)");
  });
});

describe("treeDiagram of large trees stays within Mermaid's limits", () => {
  it("renders a 10,000-process tree, grouping identical workers but keeping restarted ones", () => {
    const snapshot = bigTree();
    expect(countProcesses(snapshot.root)).toBe(10_000);
    const started = performance.now();
    const tree = treeDiagram(snapshot);
    const elapsed = performance.now() - started;
    const m = tree.mermaid!;
    expect(m.length).toBeLessThan(MERMAID_TEXT_BUDGET);
    expect(edges(m).length).toBeLessThan(MERMAID_MAX_EDGES);
    expect(countRepresented(tree.view)).toBe(10_000);
    // 9,994 workers: the first 3 and the 4 that restarted (worker_7, 3007, 6007, 9007) stay visible.
    expect(m).toContain(`n6[["<b>× 9,987 more workers</b><br/>worker · gen_server · temporary<br/>all running<br/>Pool.Worker v1"]]`);
    const pool = views(tree.view).find((v) => v.title === "pool")!;
    expect(pool.children.map((c) => c.title)).toEqual(["worker_0", "worker_1", "worker_2", "× 9,987 more workers", "worker_7", "worker_3007", "worker_6007", "worker_9007"]);
    expect(m).toContain("class n6 group");
    const svg = parseXml(tree.svg);
    expect(texts(svg).some((t) => t.startsWith("× 9,987 more workers\n"))).toBe(true);
    const png = pngSize(Buffer.from(tree.png, "base64"));
    expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(4096);
    expect(elapsed).toBeLessThan(5000);
  });

  it("keeps at most maxNodes nodes when siblings all differ, counting the rest in one node", () => {
    const children: TreeNode[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `svc_${i}`, pid: `<0.${i + 10}.0>`, kind: "worker", behaviour: "gen_server", restart: "permanent",
      status: "running", restarts: 0, module: `Svc${i}`, version: 1,
    }));
    const snapshot: TreeSnapshot = { t: 5, root: { id: "Wide.Sup", pid: "<0.1.0>", kind: "supervisor", behaviour: "supervisor", strategy: "one_for_one", status: "running", restarts: 0, children } };
    const tree = treeDiagram(snapshot, { maxNodes: 50 });
    expect(countNodes(tree.view)).toBe(50);
    expect(countRepresented(tree.view)).toBe(1001);
    const more = tree.view.children[tree.view.children.length - 1]!;
    expect(more.title).toBe("… 952 more children");
    expect(more.lines[0]).toBe("952 processes not drawn");
    expect(edges(tree.mermaid!).length).toBe(49);
  });

  it("collapses the deepest levels of a deep tree first", () => {
    // A chain of 300 supervisors, each with two workers: 900 processes, 300 levels.
    let node: TreeNode = { id: "leaf", pid: "<0.9999.0>", kind: "worker", behaviour: "gen_server", status: "running", restarts: 0 };
    for (let i = 299; i >= 0; i--) {
      node = {
        id: `level_${i}`, pid: `<0.${i + 1}.0>`, kind: "supervisor", behaviour: "supervisor", strategy: "one_for_one", status: "running", restarts: 0,
        children: [node, { id: `w${i}a`, pid: `<1.${i}.1>`, kind: "worker", behaviour: "gen_server", status: "running", restarts: 0 }, { id: `w${i}b`, pid: `<1.${i}.2>`, kind: "worker", behaviour: "agent", status: "running", restarts: 0 }],
      };
    }
    const tree = treeDiagram({ t: 0, root: node });
    const all = views(tree.view);
    expect(all.length).toBeLessThanOrEqual(120);
    expect(countRepresented(tree.view)).toBe(countProcesses(node));
    const collapsed = all.filter((v) => v.collapsed);
    expect(collapsed.length).toBe(1);
    expect(collapsed[0]!.lines[collapsed[0]!.lines.length - 1]).toMatch(/^▸ [\d,]+ processes below \(collapsed\)$/);
    expect(edges(tree.mermaid!).length).toBe(all.length - 1);
  });

  it("shrinks the node budget until long labels fit Mermaid's text limit", () => {
    const children: TreeNode[] = Array.from({ length: 399 }, (_, i) => ({
      id: `a_rather_long_child_identifier_number_${i}`, pid: `<0.${i + 10}.0>`, kind: "worker", behaviour: "gen_server", restart: "transient",
      status: "dead", restarts: 7, lastExitReason: `{:badmatch, {:error, :econnrefused, ${i}}} and then some more text`, module: `Some.Long.Module.Name${i}`, version: 12,
    }));
    const tree = treeDiagram({ t: 0, root: { id: "Long.Sup", pid: "<0.1.0>", kind: "supervisor", behaviour: "supervisor", status: "running", restarts: 0, children } }, { maxNodes: 400 });
    expect(tree.mermaid!.length).toBeLessThanOrEqual(MERMAID_TEXT_BUDGET);
    expect(tree.mermaid!.length).toBeLessThan(MERMAID_MAX_TEXT);
    expect(countNodes(tree.view)).toBeGreaterThan(100);
    expect(countRepresented(tree.view)).toBe(400);
  });
});

describe("treeDiagram inputs", () => {
  afterEach(() => useRuntime(null));

  it("takes a bare node, an object with snapshot(), or a name looked up in the runtime", () => {
    const root = shopAfter().root;
    expect(treeDiagram(root).text.split("\n")[0]).toBe("Supervision tree at t=0 ms");
    expect(treeDiagram({ snapshot: () => shopAfter() }).mermaid).toBe(treeDiagram(shopAfter()).mermaid);
    const asked: string[] = [];
    useRuntime({ snapshot: (name: string) => (asked.push(name), shopAfter()) } as unknown as RuntimeLike);
    expect(treeDiagram("Shop.Sup").mermaid).toBe(treeDiagram(shopAfter()).mermaid);
    expect(asked).toEqual(["Shop.Sup"]);
  });

  it("says what it expected when given something else", () => {
    expect(() => treeDiagram(42 as never)).toThrow(/expected a supervisor name or pid, a snapshot \{ t, root \} or a tree node; got number/);
  });
});
