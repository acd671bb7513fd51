/**
 * clusterDiagram (widgets/cluster-diagram.ts): nodes with their processes, connections, cut links drawn cut,
 * stopped nodes and global names, in Mermaid, SVG and text; and sequenceDiagram's lanes grouped by node, with the
 * messages the network lost.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, Node, startNode, stopNode, spawn, spawnLink, send, self, trapExit, setLoss, netsplit, heal, Global, receive, type Pid, type Term } from "../runtime/index.js";
import { clusterDiagram, sequenceDiagram, treeDiagram, live } from "../widgets/index.js";
import { Supervisor, GenServer, defmodule } from "../runtime/index.js";

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

describe("sequenceDiagram with nodes", () => {
  function* echo() {
    for (;;) {
      const [from, msg] = (yield* receive()) as [Pid, Term];
      send(from, ["echo", msg]);
    }
  }

  it("groups the lifelines by node and draws a message lost in a netsplit instead of its send", () => {
    rt.events.traceMessages = true;
    Node.start("a@lab");
    startNode("b@lab");
    trapExit(true);
    const w = spawnLink("b@lab", echo);
    send(w, [self(), "hi"]);
    rt.settle();
    netsplit([["a@lab"], ["b@lab"]]);
    send(w, [self(), "gone"]);
    rt.settle();
    const d = sequenceDiagram();
    expect(d.text).toContain(`b@lab: ${w.label}`);
    expect(d.text).toMatch(/lost +<0\.80\.0> -\/ <\d+\.\d+\.0> +✗ lost \(noconnection\) \{#PID<0\.80\.0>, :gone\}/);
    expect(d.text).not.toMatch(/send .*:gone/);
    expect(d.text).toMatch(/signal +<\d+\.\d+\.0> -x <0\.80\.0> +EXIT :noconnection/);
    expect(d.mermaid).toContain("box rgba(33,150,243,0.08) b@lab");
    expect(d.mermaid).toMatch(/p0--\)p1: 0 ms · ✗ lost/);
    expect(d.svg).toContain('class="node"');
    expect(sequenceDiagram(undefined, { nodes: false }).mermaid).not.toContain("box");
  });

  it("marks the messages a lossy link drops", () => {
    rt.events.traceMessages = true;
    Node.start("a@lab");
    startNode("b@lab");
    setLoss("a@lab", "b@lab", 0.5, 3);
    const w = spawn("b@lab", echo);
    for (let i = 0; i < 10; i++) send(w, [self(), i]);
    rt.settle();
    const d = sequenceDiagram();
    expect(d.text).toContain("✗ lost (loss)");
  });
});

describe("treeDiagram and live name the node of each process once there are nodes", () => {
  it("a tree started on b@lab shows its processes on b@lab; a tree on one node shows no node", async () => {
    const W = defmodule("NodeW", { init: (a: Term) => ["ok", a] });
    const children = [{ id: "w", start: () => GenServer.startLink(W, null) }];
    const [, local] = (await Supervisor.startLink(children)) as [string, Pid];
    expect(treeDiagram(local).text).not.toMatch(/ on \S+@\S+ ·/);
    Node.start("a@lab");
    startNode("b@lab");
    let sup: Pid | undefined;
    spawn("b@lab", function* () {
      sup = ((yield* Supervisor.startLink(children)) as [string, Pid])[1];
      yield* forever();
    });
    rt.settle();
    const text = treeDiagram(sup!).text;
    expect(text).toContain(`${sup!.label} on b@lab · running`);
    expect(text.match(/ on b@lab · running/g)).toHaveLength(2);
    expect(treeDiagram(local).text).toContain(`${local.label} on a@lab · running`);
    const view = live(sup!);
    expect(String(view.bundle["text/plain"])).toContain("on b@lab");
    view.stop();
  });
});
