/**
 * Nodes as a notebook uses them: Erlang's `net_kernel`/`erlang` node functions and Elixir's `Node` module,
 * over the network model of net.ts (one runtime, many simulated nodes, one virtual clock).
 *
 * @example
 * Node.start("a@lab");                 // net_kernel:start: the shell's node gets a name
 * startNode("b@lab");                  // peer:start_link(#{name => b}): a node, connected to this one
 * const w = spawn("b@lab", function* () { yield* receive(); });
 * node(w);                             // "b@lab"; w prints as <1234.81.0>, as a remote pid does in the shell
 * netsplit([["a@lab"], ["b@lab"]]);    // links to w see `noconnection`, monitors `DOWN ... noconnection`
 * heal();
 */

import { Pid, Ref } from "./process.js";
import type { Runtime } from "./runtime.js";
import { activeRuntime, setRemoteSpawn, spawn, type ProcessBody, type SpawnOpts } from "./processes.js";
import { Cluster, checkNodeName, type NetEvent, type NodeRecord } from "./net.js";
import { useGlobalModule } from "./via.js";
import { ExitSignal, formatTerm, type Term } from "./terms.js";

const clusters = new WeakMap<Runtime, Cluster>();

/** The network of `rt`, made on first use (a runtime starts as one node, `nonode@nohost`). */
export function clusterOf(rt: Runtime = activeRuntime()): Cluster {
  let c = clusters.get(rt);
  if (!c) {
    const made = (c = new Cluster(rt));
    clusters.set(rt, made);
    useGlobalModule(rt, {
      registerName: (name, pid, r) => made.globalRegister(made.nodeOf(r.caller()), name, pid),
      unregisterName: (name, r) => made.globalUnregister(made.nodeOf(r.caller()), name),
      whereisName: (name, r) => made.globalWhereis(made.nodeOf(r.caller()), name),
      send: (name, msg, r) => {
        const p = made.globalWhereis(made.nodeOf(r.caller()), name);
        if (p === "undefined") throw new ExitSignal(["badarg", [name, msg]]);
        r.send(p, msg);
        return p;
      },
    });
  }
  return c;
}

/** The network of `rt` if it has one (no side effect). */
export function existingCluster(rt: Runtime): Cluster | undefined {
  return clusters.get(rt);
}

function here(c: Cluster): NodeRecord {
  return c.nodeOf(c.rt.caller());
}

/**
 * `node()`: the name of the node the caller runs on (`nonode@nohost` before `Node.start`); `node(pid)`: the node
 * of a process.
 */
export function node(pid?: Pid): string {
  if (pid !== undefined && !(pid instanceof Pid)) throw new TypeError(`node(pid): expected a pid; got ${String(pid)}. node() without argument names the caller's node.`);
  const rt = pid ? pid.rt : activeRuntime();
  const c = clusters.get(rt);
  if (!c) return "nonode@nohost";
  return pid ? c.nodeOf(pid).name : here(c).name;
}

/** `nodes()`: the nodes the caller's node is connected to, in the order they were started. */
export function nodes(): string[] {
  const c = clusters.get(activeRuntime());
  if (!c) return [];
  return c.peersOf(here(c)).map((n) => n.name);
}

/**
 * Starts a node (as `peer:start_link(#{name => ...})`), connected to this one unless `{ connect: false }`; after
 * `stopNode` it starts again under the same name, with no processes. Needs `Node.start` first.
 */
export function startNode(name: string, opts: { connect?: boolean } = {}): string {
  return clusterOf().startNode(name, opts.connect ?? true);
}

/** Stops a node: the others see its connections go down (`noconnection`), then all its processes die. */
export function stopNode(name: string): "ok" {
  return clusterOf().stopNode(name);
}

/**
 * Cuts the network between groups of nodes: `netsplit([["a@lab"], ["b@lab", "c@lab"]])`. Connections across
 * groups go down; nothing can connect across until `heal()`. Nodes not named form one more group.
 */
export function netsplit(groups: string[][]): "ok" {
  return clusterOf().netsplit(groups);
}

/** Ends the netsplits and reconnects what they cut; `global` then resolves names registered on both sides. */
export function heal(): "ok" {
  return clusterOf().heal();
}

/** Latency in ms of the link between two nodes (both directions; default 0). */
export function setLatency(a: string, b: string, ms: number): void {
  clusterOf().setLatency(a, b, ms);
}

/** Seeded share of messages lost between two nodes (0..1); signals (links, monitors) are never lost. */
export function setLoss(a: string, b: string, rate: number, seed = 1): void {
  clusterOf().setLoss(a, b, rate, seed);
}

/** What the network did (connections up and down, lost messages, splits), oldest first. */
export function netEvents(): NetEvent[] {
  return [...(clusters.get(activeRuntime())?.events ?? [])];
}

/** `erlang:monitor_node(Node, Flag)`: the caller gets `["nodedown", Node]` once when the connection goes down. */
export function monitorNode(name: string, flag = true): true {
  const c = clusterOf();
  return c.monitorNode(c.rt.caller(), name, flag);
}

/** `net_kernel:monitor_nodes(Flag)`: the caller gets `["nodeup", N]` and `["nodedown", N]` for every node. */
export function monitorNodes(flag = true): "ok" {
  const c = clusterOf();
  return c.monitorNodes(c.rt.caller(), flag);
}

/** Elixir's `Node` module (and `net_kernel`), for the caller's node. */
export const Node = {
  /** `Node.start(name)` / `net_kernel:start([Name])`: gives the shell's node its name. */
  start(name: string): string {
    return clusterOf().startLocal(name);
  },
  /** `Node.self()`. */
  self(): string {
    return node();
  },
  /** `Node.list()`. */
  list(): string[] {
    return nodes();
  },
  /** `Node.alive?()`. */
  isAlive(): boolean {
    return clusters.get(activeRuntime())?.alive ?? false;
  },
  /** `Node.connect(node)`: true when connected, false when the node is down or cut off. */
  connect(name: string): boolean {
    const c = clusterOf();
    const target = c.nodes.get(checkNodeName(name, "Node.connect"));
    return target ? c.connect(here(c), target) : false;
  },
  /** `Node.disconnect(node)`: true when they were connected. */
  disconnect(name: string): boolean {
    const c = clusterOf();
    const target = c.nodes.get(checkNodeName(name, "Node.disconnect"));
    return target ? c.disconnect(here(c), target) : false;
  },
  /** `Node.ping(node)`: "pong" when connected (connecting if it may), else "pang". */
  ping(name: string): "pong" | "pang" {
    return Node.connect(name) ? "pong" : "pang";
  },
  /** `Node.monitor(node, flag)`: as `monitorNode`. */
  monitor(name: string, flag = true): true {
    return monitorNode(name, flag);
  },
};

/**
 * `spawn(Node, Fun)` and its link/monitor variants, reached through `spawn("b@lab", body)` (processes.ts).
 * To a node that cannot be reached it returns the pid of a process of the caller's own node that never runs the
 * body (erts returns its local helper, which logs "Can not start ..."); with `link` the caller gets the exit
 * signal `noconnection` from it, with `monitor` a `DOWN ... noconnection`.
 */
function spawnOnNode(name: string, body: ProcessBody, opts: SpawnOpts = {}): Pid | [Pid, Ref] {
  const c = clusterOf();
  const rt = c.rt;
  const target = c.get(name, "spawn");
  const caller = rt.caller();
  const reachable = c.connect(c.nodeOf(caller), target);
  const old = rt.spawnNode;
  const here = caller.node;
  rt.spawnNode = !reachable ? here : target === c.local ? null : target;
  let p: Pid;
  try {
    p = spawn(body, reachable ? { ...opts, monitor: false } : { trapExit: opts.trapExit });
  } finally {
    rt.spawnNode = old;
  }
  if (!reachable) {
    rt.signal(p, null, "kill", "exit", true);
    if (opts.link) rt.signal(caller, p, "noconnection", "exit", true); // no link was made: a plain exit signal
    if (opts.monitor) {
      const ref = new Ref();
      rt.deliver(caller, ["DOWN", ref, "process", p, "noconnection"]);
      return [p, ref];
    }
    return p;
  }
  if (opts.monitor) return [p, rt.monitor(caller, p)];
  return p;
}

setRemoteSpawn(spawnOnNode);

export type { Term };

/** What a picture of the cluster shows (widgets' `clusterDiagram`, `demoNetsplit`): plain data, taken at one time. */
export interface ClusterView {
  t: number;
  nodes: Array<{ name: string; up: boolean; local: boolean; processes: string[]; more: number }>;
  connections: Array<[string, string]>;
  cut: Array<[string, string]>;
  globals: Array<{ name: string; pid: string; node: string; seenBy: string[] }>;
}

function processLabel(p: Pid): string {
  const what = p.name ?? (p.behaviour?.name && p.behaviour.name !== "process" ? p.behaviour.name : null);
  return what ? `${p.label} ${what}` : p.label;
}

/** The nodes of `rt` now: processes per node (the first `maxProcesses`), connections, cuts, global names. */
export function clusterSnapshot(rt: Runtime = activeRuntime(), maxProcesses = 8): ClusterView {
  const max = maxProcesses;
  const c = clusters.get(rt);
  const procs = rt.processes().filter((p) => !p.driver);
  if (!c) {
    const names = procs.map(processLabel);
    return { t: rt.now(), nodes: [{ name: "nonode@nohost", up: true, local: true, processes: names.slice(0, max), more: Math.max(0, names.length - max) }], connections: [], cut: [], globals: [] };
  }
  const nodes = [...c.nodes.values()].map((n) => {
    const mine = procs.filter((p) => c.nodeOf(p) === n).map((p) => (p === rt.shell ? `${p.label} shell` : processLabel(p)));
    return { name: n.name, up: n.up, local: n === c.local, processes: mine.slice(0, max), more: Math.max(0, mine.length - max) };
  });
  const globals: ClusterView["globals"] = [];
  for (const n of c.nodes.values()) {
    if (!n.up) continue;
    for (const [, [name, pid]] of n.globalNames) {
      if (pid.dead) continue;
      const shown = formatTerm(name);
      const g = globals.find((x) => x.name === shown && x.pid === pid.label);
      if (g) g.seenBy.push(n.name);
      else globals.push({ name: shown, pid: pid.label, node: c.nodeOf(pid).name, seenBy: [n.name] });
    }
  }
  return { t: rt.now(), nodes, connections: c.connections(), cut: c.cutPairs(), globals };
}
