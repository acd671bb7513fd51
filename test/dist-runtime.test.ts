/**
 * Nodes in one runtime (runtime/net.ts, nodes.ts, pg.ts, erpc.ts): what a notebook does with them. The orders
 * and reasons asserted here are the ones real OTP 25 shows (test/conformance/distribution/ records them).
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  Runtime,
  setRuntime,
  Node,
  node,
  nodes,
  startNode,
  stopNode,
  netsplit,
  heal,
  setLatency,
  setLoss,
  netEvents,
  monitorNode,
  monitorNodes,
  spawn,
  spawnLink,
  spawnMonitor,
  send,
  self,
  link,
  monitor,
  trapExit,
  receive,
  Global,
  GenServer,
  pg,
  erpc,
  rpc,
  formatTerm,
  exit,
  clusterOf,
  ErlangError,
  type Pid,
  type Term,
} from "../runtime/index.js";

let rt: Runtime;

/** Everything the shell has received so far, printed. */
function inbox(): string[] {
  const out: string[] = [];
  rt.settle();
  for (let m = rt.shell.mailbox?.shift(); m !== undefined; m = rt.shell.mailbox?.shift()) out.push(formatTerm(m));
  return out;
}

function* forever() {
  for (;;) yield* receive();
}

/** A process that sends back `[self(), msg]` for every `[from, msg]`. */
function* echo() {
  for (;;) {
    const [from, msg] = (yield* receive()) as [Pid, Term];
    send(from, ["echo", msg]);
  }
}

beforeEach(() => {
  rt = setRuntime(new Runtime());
  Node.start("a@lab");
});

describe("nodes and pids", () => {
  it("prints a remote pid with its node's number and a local one with 0, as the shell does", () => {
    startNode("b@lab");
    const w = spawn("b@lab", forever);
    const l = spawn(forever);
    expect(String(l)).toMatch(/^#PID<0\.\d+\.0>$/);
    expect(w.label).toMatch(/^<[1-9]\d*\.\d+\.0>$/);
    expect(node(w)).toBe("b@lab");
    expect(node(l)).toBe("a@lab");
    expect(node()).toBe("a@lab");
    expect(nodes()).toEqual(["b@lab"]);
  });

  it("says how to fix a startNode before Node.start", () => {
    rt = setRuntime(new Runtime());
    expect(() => startNode("b@lab")).toThrow(/Node\.start\("a@lab"\) first/);
    expect(node()).toBe("nonode@nohost");
  });

  it("rejects a node name without a host", () => {
    expect(() => startNode("b")).toThrow(/"name@host"/);
  });

  it("places what a remote process spawns on its own node", () => {
    startNode("b@lab");
    let child: Pid | null = null;
    spawn("b@lab", function* () {
      child = spawn(forever);
    });
    rt.settle();
    expect(node(child!)).toBe("b@lab");
  });

  it("delivers messages across nodes and back, in order", () => {
    startNode("b@lab");
    const w = spawn("b@lab", echo);
    for (const i of [1, 2, 3]) send(w, [self(), i]);
    expect(inbox()).toEqual(["{:echo, 1}", "{:echo, 2}", "{:echo, 3}"]);
  });

  it("connects the mesh when a node joins one node of a group (connect_all)", () => {
    startNode("b@lab");
    startNode("c@lab", { connect: false });
    expect(nodes()).toEqual(["b@lab"]);
    expect(Node.connect("c@lab")).toBe(true);
    let bView: string[] = [];
    spawn("b@lab", function* () {
      bView = nodes();
    });
    rt.settle();
    expect(bView).toEqual(["a@lab", "c@lab"]);
  });
});

describe("a connection goes down", () => {
  it("gives a trapping linker noconnection, then the monitors oldest first, then monitor_nodes' nodedown", () => {
    startNode("b@lab");
    trapExit(true);
    monitorNodes(true);
    const w = spawn("b@lab", forever);
    monitorNode("b@lab");
    link(w);
    monitor(w);
    expect(Node.disconnect("b@lab")).toBe(true);
    const got = inbox();
    expect(got[0]).toMatch(/^\{:EXIT, #PID<\d+\.\d+\.0>, :noconnection\}$/);
    expect(got[1]).toBe("{:nodedown, :b@lab}");
    expect(got[2]).toMatch(/^\{:DOWN, #Reference<\d+>, :process, #PID<\d+\.\d+\.0>, :noconnection\}$/);
    expect(got[3]).toBe("{:nodedown, :b@lab}");
    expect(got).toHaveLength(4);
    expect(nodes()).toEqual([]);
    expect(w.alive).toBe(false); // it was linked to the shell and does not trap: noconnection killed it too
  });

  it("cuts a netsplit's groups apart until heal, and drops what is sent across meanwhile", () => {
    startNode("b@lab");
    startNode("c@lab");
    const w = spawn("b@lab", echo);
    netsplit([["a@lab"], ["b@lab", "c@lab"]]);
    expect(nodes()).toEqual([]);
    expect(Node.connect("b@lab")).toBe(false);
    send(w, [self(), "lost"]);
    expect(inbox()).toEqual([]);
    expect(netEvents().some((e) => e.type === "lost" && e.why === "noconnection")).toBe(true);
    heal();
    expect(nodes()).toEqual(["b@lab", "c@lab"]);
    send(w, [self(), "arrives"]);
    expect(inbox()).toEqual(["{:echo, :arrives}"]);
  });

  it("gives noconnection at once to a link, a monitor or a spawn_link towards a node that cannot be reached", () => {
    startNode("b@lab");
    trapExit(true);
    const w = spawn("b@lab", forever);
    netsplit([["a@lab"], ["b@lab"]]);
    link(w);
    monitor(w);
    const v = spawnLink("b@lab", forever);
    const [u] = spawnMonitor("b@lab", forever);
    expect(inbox()).toEqual([
      `{:EXIT, ${w}, :noconnection}`,
      expect.stringMatching(/^\{:DOWN, #Reference<\d+>, :process, .*:noconnection\}$/),
      `{:EXIT, ${v}, :noconnection}`,
      expect.stringContaining(`${u}, :noconnection}`),
    ]);
    expect(v.alive).toBe(false);
  });

  it("stops a node: its processes die, the others see noconnection; it restarts empty", () => {
    startNode("b@lab");
    trapExit(true);
    const w = spawnLink("b@lab", forever);
    stopNode("b@lab");
    expect(inbox()).toEqual([`{:EXIT, ${w}, :noconnection}`]);
    expect(w.alive).toBe(false);
    expect(rt.processes().filter((p) => node(p) === "b@lab")).toEqual([]);
    startNode("b@lab");
    expect(nodes()).toEqual(["b@lab"]);
    expect(node(spawn("b@lab", forever))).toBe("b@lab");
  });
});

describe("latency and loss", () => {
  it("delays a link's messages by its latency and keeps them in order", () => {
    startNode("b@lab");
    setLatency("a@lab", "b@lab", 100);
    const w = spawn("b@lab", echo);
    send(w, [self(), 1]);
    send(w, [self(), 2]);
    expect(inbox()).toEqual([]);
    rt.advance(150);
    expect(inbox()).toEqual([]); // there and back: 200 ms
    rt.advance(50);
    expect(inbox()).toEqual(["{:echo, 1}", "{:echo, 2}"]);
  });

  it("loses the same messages for the same seed, and others for another seed", () => {
    const run = (seed: number): string[] => {
      rt = setRuntime(new Runtime());
      Node.start("a@lab");
      startNode("b@lab");
      setLoss("a@lab", "b@lab", 0.5, seed);
      const w = spawn("b@lab", echo);
      for (let i = 0; i < 20; i++) send(w, [self(), i]);
      return inbox();
    };
    const one = run(7);
    expect(run(7)).toEqual(one);
    expect(one.length).toBeGreaterThan(0);
    expect(one.length).toBeLessThan(20);
    expect(run(8)).not.toEqual(one);
  });
});

describe("global, pg and erpc across nodes", () => {
  it("resolves a name registered on both sides of a split: the process on the node that sorts first stays", () => {
    startNode("b@lab");
    let onB = "";
    // Started before the split, it registers the name on b's side once the split is there.
    const wb = spawn("b@lab", function* () {
      yield* receive(() => false, 10);
      onB = Global.registerName("g", self());
      yield* receive(() => false);
    });
    netsplit([["a@lab"], ["b@lab"]]);
    const wa = spawn(forever);
    expect(Global.registerName("g", wa)).toBe("yes");
    rt.advance(20);
    expect(onB).toBe("yes");
    heal();
    rt.settle();
    expect(Global.whereisName("g")).toBe(wa);
    expect(wb.alive).toBe(false);
    expect(wb.exitReason).toBe("killed");
  });

  it("starts a GenServer under a global name on another node and calls it from this one", async () => {
    startNode("b@lab");
    const Counter = { init: (n: number) => ["ok", n], handleCall: (_r: Term, _f: unknown, n: number) => ["reply", n, n + 1] };
    let pid: Pid | null = null;
    spawn("b@lab", function* () {
      const r = (yield* GenServer.startLink(Counter, 5, { name: ["global", "counter"] })) as [string, Pid];
      pid = r[1];
      yield* receive(() => false);
    });
    rt.settle();
    expect(node(pid!)).toBe("b@lab");
    expect(await GenServer.call(["global", "counter"], "next")).toBe(5);
    expect(await GenServer.call(["global", "counter"], "next")).toBe(6);
  });

  it("shows pg members of every connected node and tells a monitor who joins and who is cut off", () => {
    startNode("b@lab");
    const [ref, before] = pg.monitor("workers");
    expect(before).toEqual([]);
    const wb = spawn("b@lab", function* () {
      pg.join("workers", self());
      yield* receive(() => false);
    });
    rt.settle();
    expect(pg.getMembers("workers")).toEqual([wb]);
    expect(() => pg.join("workers", wb)).toThrow(ErlangError); // nolocal: only the node's own processes
    netsplit([["a@lab"], ["b@lab"]]);
    expect(pg.getMembers("workers")).toEqual([]);
    expect(inbox()).toEqual([`{${ref}, :join, "workers", [${wb}]}`.replace('"workers"', ":workers"), `{${ref}, :leave, :workers, [${wb}]}`]);
  });

  it("returns erpc results and raises {erpc, noconnection} and {erpc, timeout}", async () => {
    startNode("b@lab");
    expect(await erpc.call("b@lab", () => node())).toBe("b@lab");
    await expect(erpc.call("b@lab", function* () {
      yield* receive(() => false, 1000);
    }, 100)).rejects.toMatchObject({ original: ["erpc", "timeout"] });
    netsplit([["a@lab"], ["b@lab"]]);
    await expect(erpc.call("b@lab", () => 1)).rejects.toMatchObject({ original: ["erpc", "noconnection"] });
    heal();
    startNode("c@lab");
    stopNode("c@lab");
    const [res, bad] = await rpc.multicall(["a@lab", "b@lab", "c@lab"], () => node(), 1000);
    expect(res).toEqual(["a@lab", "b@lab"]);
    expect(bad).toEqual(["c@lab"]);
  });
});

describe("a global singleton kept alive by a watcher on each node (distributed supervision, by hand)", () => {
  /**
   * Each node runs a watcher: it tries to register a new singleton under the global name; when the name is
   * taken it monitors the holder and tries again when the holder goes (its node stopped or cut off).
   */
  function watcher(started: string[]) {
    return function* () {
      for (;;) {
        const worker = spawn(function* () {
          yield* receive(() => false);
        });
        if (Global.registerName("singleton", worker) === "yes") {
          started.push(node());
          monitor(worker);
        } else {
          exit(worker, "kill");
          const holder = Global.whereisName("singleton");
          if (holder === "undefined") continue;
          monitor(holder);
        }
        yield* receive((m) => Array.isArray(m) && m[0] === "DOWN");
      }
    };
  }

  it("moves when its node stops, doubles during a split and is resolved to one on heal", () => {
    startNode("b@lab");
    startNode("c@lab");
    const started: string[] = [];
    spawn("b@lab", watcher(started));
    rt.settle();
    spawn("c@lab", watcher(started));
    rt.settle();
    expect(started).toEqual(["b@lab"]);
    stopNode("b@lab");
    rt.settle();
    expect(started).toEqual(["b@lab", "c@lab"]);
    expect(node(Global.whereisName("singleton") as Pid)).toBe("c@lab");
    startNode("b@lab");
    spawn("b@lab", watcher(started));
    rt.settle();
    netsplit([["a@lab", "c@lab"], ["b@lab"]]);
    rt.settle();
    // Two singletons: c's side keeps its own, b's watcher saw the holder cut off and started another.
    expect(started).toEqual(["b@lab", "c@lab", "b@lab"]);
    const alive = rt.processes().filter((p) => p.alive && clusterOfGlobal(p));
    expect(alive.map((p) => node(p)).sort()).toEqual(["b@lab", "c@lab"]);
    heal();
    rt.settle();
    // global keeps the one on the node that sorts first (b) and kills c's; c's watcher follows b's again.
    expect(node(Global.whereisName("singleton") as Pid)).toBe("b@lab");
    expect(rt.processes().filter((p) => clusterOfGlobal(p)).map((p) => node(p))).toEqual(["b@lab"]);
  });
});

/** Whether `p` is a singleton as some node's global table has it. */
function clusterOfGlobal(p: Pid): boolean {
  for (const n of clusterOf(rt).nodes.values()) for (const [, [name, q]] of n.globalNames) if (name === "singleton" && q === p && p.alive) return true;
  return false;
}

describe("monitor by registered name on a named node", () => {
  it("names the caller's node in the DOWN, as erlang:monitor(process, Name) does", () => {
    const p = spawn(forever);
    rt.register("svc", p);
    const ref = monitor("svc");
    exit(p, "kill");
    expect(inbox()).toEqual([`{:DOWN, ${ref}, :process, {:svc, :a@lab}, :killed}`]);
  });
});

describe("signals in flight when a connection goes down", () => {
  it("a link's exit signal lost in flight reaches the other side as noconnection, a lost DOWN as DOWN noconnection", () => {
    startNode("b@lab");
    startNode("c@lab");
    // p5 on c is linked to p2 on a and to p1 on b; the split cuts a|c first, p5 dies of it, and its exit
    // signal to p1 is in flight on the c->b channel when b|c goes down too.
    const p1 = spawn("b@lab", forever);
    const p5 = spawn("c@lab", function* () {
      link(p1);
      yield* forever();
    });
    const p2 = spawn(function* () {
      link(p5);
      yield* forever();
    });
    const watcherOnB = spawn("b@lab", function* () {
      trapExit(true);
      monitor(p5);
      yield* receive(() => false); // keeps what arrives in its mailbox
    });
    rt.settle();
    netsplit([["a@lab", "b@lab"], ["c@lab"]]);
    rt.settle();
    expect([p1.dead, p2.dead, p5.dead]).toEqual([true, true, true]);
    expect([p1.exitReason, p2.exitReason, p5.exitReason]).toEqual(["noconnection", "noconnection", "noconnection"]);
    // The watcher on b monitors p5: p5's DOWN was in flight on c->b when that connection went down.
    expect(watcherOnB.alive).toBe(true);
    const downs = (watcherOnB.mailbox?.toArray() ?? []).map((m) => formatTerm(m)).filter((m) => m.startsWith("{:DOWN"));
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatch(/:noconnection}$/);
  });
});
