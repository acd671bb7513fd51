/**
 * clusterDiagram (widgets/cluster-diagram.ts): nodes with their processes, connections, cut links drawn cut,
 * stopped nodes and global names, in Mermaid, SVG and text.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, Node, startNode, stopNode, spawn, netsplit, heal, Global, receive } from "../runtime/index.js";
import { clusterDiagram } from "../widgets/index.js";

let rt: Runtime;

function* forever() {
  yield* receive(() => false);
}

beforeEach(() => {
  rt = setRuntime(new Runtime());
});

describe("clusterDiagram", () => {
  it("draws one node when the runtime is not distributed", () => {
    spawn(forever);
    const d = clusterDiagram();
    expect(d.view.nodes.map((n) => n.name)).toEqual(["nonode@nohost"]);
    expect(d.text).toContain("nonode@nohost (this node): 2 processes");
  });

  it("shows the processes of each node, its connections, a netsplit's cuts, a stopped node and global names", () => {
    Node.start("a@lab");
    startNode("b@lab");
    startNode("c@lab");
    startNode("d@lab");
    const w = spawn("b@lab", forever);
    Global.registerName("counter", w);
    netsplit([["a@lab", "d@lab"], ["b@lab", "c@lab"]]);
    stopNode("d@lab");
    rt.settle();
    const d = clusterDiagram();
    expect(d.view.nodes.map((n) => [n.name, n.up, n.processes.length])).toEqual([["a@lab", true, 1], ["b@lab", true, 1], ["c@lab", true, 0], ["d@lab", false, 0]]);
    expect(d.view.connections).toEqual([["b@lab", "c@lab"]]);
    expect(d.view.cut).toContainEqual(["a@lab", "b@lab"]);
    expect(d.view.globals).toEqual([{ name: ":counter", pid: w.label, node: "b@lab", seenBy: ["b@lab", "c@lab"] }]);
    expect(d.mermaid).toContain('subgraph n_b_lab["b@lab"]');
    expect(d.mermaid).toContain("n_b_lab <--> n_c_lab");
    expect(d.mermaid).toContain("n_a_lab x-. cut .-x n_b_lab");
    expect(d.mermaid).toContain('subgraph n_d_lab["d@lab (stopped)"]');
    expect(d.mermaid).toMatch(/global :counter → #lt;\d+\.\d+\.0#gt; \(seen by b@lab, c@lab\)/);
    expect(d.svg).toContain("✂ cut");
    expect(d.svg).toContain('stroke-dasharray="6 4"');
    expect(d.bundle["image/png"]).toBeTruthy();
    expect(d.text).toContain("cut: a@lab x b@lab");
    heal();
    const healed = clusterDiagram();
    expect(healed.view.cut).toEqual([]);
    expect(healed.view.connections).toContainEqual(["a@lab", "b@lab"]);
    expect(healed.mermaid).not.toContain("cut");
  });

  it("folds the processes of a busy node", () => {
    Node.start("a@lab");
    startNode("b@lab");
    for (let i = 0; i < 12; i++) spawn("b@lab", forever);
    const d = clusterDiagram({ maxProcesses: 5 });
    const b = d.view.nodes.find((n) => n.name === "b@lab")!;
    expect(b.processes).toHaveLength(5);
    expect(b.more).toBe(7);
    expect(d.mermaid).toContain("… 7 more");
  });
});
