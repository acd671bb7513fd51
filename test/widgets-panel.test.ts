/**
 * The control panels' actions on a live runtime, in process and without a front end (the models live
 * "offline"): what each button does, ids that are not strings, a tree changed behind the panel's back, time, and
 * re-running `control` / `strategyLab`. The widgets protocol itself is tested in widgets-protocol.test.ts and on a
 * kernel in widgets-interactive.test.ts.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { defmodule, GenServer, kill, Runtime, setRuntime, snapshot, Supervisor, Node, startNode, nodes, spawnLink, receive, type Pid } from "../runtime/index.js";
import { control } from "../widgets/control.js";
import { strategyLab } from "../widgets/strategy-lab.js";
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";

let Counter: ReturnType<typeof defmodule>;

beforeEach(() => {
  setRuntime(new Runtime({ clock: "virtual" }));
  Counter = defmodule("Counter", { init: (n: number) => ["ok", n], handleCall: (_r: unknown, _f: unknown, n: number) => ["reply", n, n] });
});

function start(children: object[], strategy: "one_for_one" | "one_for_all" | "rest_for_one" = "one_for_one"): Pid {
  const r = Supervisor.startLink(children, { strategy }).sync() as [string, Pid];
  return r[1];
}

const pids = (sup: Pid) => Object.fromEntries(snapshot(sup).root.children!.map((c) => [c.id, c.pid]));

describe("control(sup)", () => {
  it("has no network buttons on one node; on several, splits, stops, starts and heals, and a worker linked across the split is restarted", () => {
    const plain = control(start([{ id: "a", start: () => GenServer.startLink(Counter, 0) }]), { key: "one-node" });
    expect(plain.network).toBeNull();
    Node.start("a@lab");
    startNode("b@lab");
    startNode("c@lab");
    // A supervisor here whose child is linked to a process on b@lab: cutting b@lab off kills the child (noconnection).
    const sup = start([
      {
        id: "w",
        start: () =>
          GenServer.startLink(
            defmodule("Bridge", {
              init: () => {
                // Only while b@lab can be reached: restarted during the split, it runs alone.
                if (nodes().includes("b@lab")) {
                  spawnLink("b@lab", function* () {
                    yield* receive(() => false);
                  });
                }
                return ["ok", null];
              },
            }),
            null,
          ),
      },
    ]);
    const panel = control(sup, { key: "net" });
    const tips = collectTooltips(panel.root);
    for (const t of ["cut b@lab off from the other nodes", "stop node b@lab", "cut c@lab off from the other nodes", "end the net splits"]) expect(tips).toContain(t);
    const before = pids(sup).w;
    panel.networkAct("split b@lab");
    expect(nodes()).toEqual(["c@lab"]);
    expect(pids(sup).w).not.toBe(before); // its link to b@lab broke (noconnection) and its supervisor restarted it
    panel.networkAct("heal");
    expect(nodes()).toEqual(["b@lab", "c@lab"]);
    panel.networkAct("stop c@lab");
    expect(nodes()).toEqual(["b@lab"]);
    expect(panel.network!.stops.get("c@lab")!.get("description")).toBe("start c@lab");
    panel.networkAct("start c@lab");
    expect(nodes()).toEqual(["b@lab", "c@lab"]);
    expect(panel.network!.stops.get("c@lab")!.get("description")).toBe("stop c@lab");
    panel.networkAct("split nowhere@lab");
    const log = panel.panel.log.value;
    for (const line of ["split b@lab", "heal", "stop c@lab", "start c@lab", "split nowhere@lab failed"]) expect(log).toContain(line);
  });

  it("kills, crashes with the chosen reason, terminates, restarts and deletes, with every action in the log", () => {
    const sup = start([
      { id: "a", start: () => GenServer.startLink(Counter, 0) },
      { id: "t", restart: "transient", start: () => GenServer.startLink(Counter, 0) },
    ]);
    const panel = control(sup, { key: "k1" });
    const before = pids(sup);
    panel.act("kill", "a");
    expect(pids(sup).a).not.toBe(before.a);
    panel.panel.reason.value = "normal";
    panel.act("crash", "t");
    // A transient child that exits normally stays down.
    expect(pids(sup).t).toBeNull();
    panel.act("restart", "t");
    expect(pids(sup).t).toMatch(/^<0\.\d+\.0>$/);
    panel.act("terminate", "a");
    expect(pids(sup).a).toBeNull();
    panel.act("delete", "a");
    expect(Object.keys(pids(sup))).toEqual(["t"]);
    const log = panel.panel.log.value;
    for (const line of ["kill a", "crash t", "(normal)", "restart t: [&quot;ok&quot;, &lt;0.", "terminate a: &quot;ok&quot;", "delete a: &quot;ok&quot;"]) {
      expect(log).toContain(line);
    }
    // The buttons of a deleted child are gone; the picture shows the tree as it is.
    const tooltips = collectTooltips(panel.root);
    expect(tooltips).not.toContain("kill a");
    expect(tooltips).toContain("kill t");
    expect(panel.panel.picture.value).toContain(escape(pids(sup).t!));
  });

  it("acts on the process a label has now, even when a cell changed the tree since the last redraw", () => {
    const sup = start([{ id: "a", start: () => GenServer.startLink(Counter, 0) }]);
    const panel = control(sup, { key: "k2" });
    kill(Supervisor.whichChildren(sup).sync()[0]!.child as Pid);
    const restarted = (Supervisor.whichChildren(sup).sync()[0]!.child as Pid).label;
    panel.act("kill", "a");
    expect(pids(sup).a).not.toBe(restarted);
    expect(panel.panel.log.value).toContain(`kill a ${escape(restarted)}`);
  });

  it("restarts and deletes children whose ids are not strings", () => {
    const sup = start([{ id: 1, start: () => GenServer.startLink(Counter, 0) }, { id: 2, start: () => GenServer.startLink(Counter, 0) }]);
    const panel = control(sup, { key: "k3" });
    const before = pids(sup);
    panel.act("restart", "1");
    expect(pids(sup)["1"]).not.toBe(before["1"]);
    panel.act("delete", "2");
    expect(Object.keys(pids(sup))).toEqual(["1"]);
  });

  it("moves virtual time, and re-running keeps the panel and its reason", () => {
    const sup = start([{ id: "a", start: () => GenServer.startLink(Counter, 0) }]);
    const panel = control(sup);
    const t0 = sup.rt.now();
    panel.advance(1000);
    expect(sup.rt.now()).toBe(t0 + 1000);
    expect(panel.clock.value).toContain("1,000 ms");
    panel.panel.reason.value = "shutdown";
    const again = control(sup);
    expect(again).toBe(panel);
    panel.close();
    const reopened = control(sup);
    expect(reopened).not.toBe(panel);
    expect(reopened.panel.reason.value).toBe("shutdown");
    const bundle = reopened[JUPYTER_DISPLAY]();
    expect(Object.keys(bundle)).toEqual(["application/vnd.jupyter.widget-view+json", "image/svg+xml", "image/png", "text/plain"]);
    expect(bundle["application/vnd.jupyter.widget-view+json"]).toEqual({ model_id: reopened.root.modelId, version_major: 2, version_minor: 0 });
  });

  it("play moves virtual time with the wall clock until pause", async () => {
    const sup = start([{ id: "a", start: () => GenServer.startLink(Counter, 0) }]);
    const panel = control(sup, { key: "play" });
    panel.play.set({ value: true });
    expect(panel.play.get("tooltip")).toBe("pause real time");
    const deadline = Date.now() + 5000;
    while (sup.rt.now() < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sup.rt.now()).toBeGreaterThanOrEqual(200);
    panel.play.set({ value: false });
    const stopped = sup.rt.now();
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.rt.now()).toBe(stopped);
    expect(panel.play.get("tooltip")).toBe("play real time");
    panel.close();
  });

  it("gives buttons to the first 40 processes of a big tree and counts the others", () => {
    const sup = start(Array.from({ length: 50 }, (_, i) => ({ id: `w${i}`, start: () => GenServer.startLink(Counter, 0) })));
    const panel = control(sup, { key: "big" });
    const tooltips = collectTooltips(panel.root).filter((t) => t.startsWith("kill "));
    expect(tooltips).toHaveLength(40);
    expect(tooltips).toContain("kill w38");
    expect(tooltips).not.toContain("kill w39");
    expect(collectValues(panel.root).join("")).toContain("… and 11 more processes without buttons");
  });

  it("says how to fix a call on something that is not a live process", () => {
    expect(() => control("NoSuchSup")).toThrow(/is not a live process; pass a supervisor's Pid or registered name/);
  });
});

describe("strategyLab(children)", () => {
  it("starts the children under each chosen strategy, stopping the previous supervisor, and keeps the choice on re-run", () => {
    const children = ["a", "b", "c"].map((id) => ({ id, start: () => GenServer.startLink(Counter, 0) }));
    const lab = strategyLab(children, { key: "lab1" });
    const first = lab.supervisor;
    expect(snapshot(first).root.strategy).toBe("one_for_one");
    lab.strategy.value = "one_for_all";
    expect(first.alive).toBe(false);
    expect(snapshot(lab.supervisor).root.strategy).toBe("one_for_all");
    const before = pids(lab.supervisor);
    lab.act("kill", "b");
    const after = pids(lab.supervisor);
    for (const id of ["a", "b", "c"]) expect(after[id]).not.toBe(before[id]);
    const again = strategyLab(children, { key: "lab1" });
    expect(lab.supervisor.alive).toBe(false);
    expect(snapshot(again.supervisor).root.strategy).toBe("one_for_all");
    expect(() => again.choose("one_for_none" as never)).toThrow(/unknown strategy/);
  });
});

function collectTooltips(root: { get(k: string): unknown }): string[] {
  const out: string[] = [];
  const walk = (m: { get(k: string): unknown }) => {
    const t = m.get("tooltip");
    if (typeof t === "string") out.push(t);
    const children = m.get("children");
    if (Array.isArray(children)) children.forEach(walk);
  };
  walk(root);
  return out;
}

function collectValues(root: { get(k: string): unknown }): string[] {
  const out: string[] = [];
  const walk = (m: { get(k: string): unknown }) => {
    const v = m.get("value");
    if (typeof v === "string") out.push(v);
    const children = m.get("children");
    if (Array.isArray(children)) children.forEach(walk);
  };
  walk(root);
  return out;
}

function escape(pid: string): string {
  return pid.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
