/**
 * The network between simulated nodes: connections, what crosses them, and what a lost connection does.
 *
 * All nodes live in one runtime (one scheduler, one virtual clock); a process knows its node (`Pid.node`, null
 * for the runtime's own node, the shell's). What crosses nodes goes through a per-direction channel, checked
 * against real distributed Erlang (OTP 25, test/conformance/distribution/):
 * - Messages, exit signals and `DOWN`s from node X to node Y travel in one ordered channel X→Y: each arrives
 *   `latency` ms after it was sent and never before one sent earlier on the same channel (the TCP connection
 *   of distributed Erlang). With latency 0 they arrive at the same virtual instant, after the processes
 *   runnable now have run, as a remote message is never delivered inside the `send` call.
 * - A message to a node that is not connected connects first when the network allows (auto-connect);
 *   otherwise it is dropped, as erts drops it. A seeded `loss` rate drops messages (not signals) on a link.
 * - `connect` makes the mesh full, as `global`'s `connect_all` does: a node that connects to one node of a
 *   group connects to all of it.
 * - When a connection goes down (`disconnect`, `netsplit`, `stopNode`), what was in flight on it is lost, and
 *   each side sees, in this order (as erts 25 delivers them): exit signals `noconnection` from the linked
 *   processes of the other side; then `DOWN ... noconnection` of process monitors and `{nodedown, N}` of
 *   `monitor_node`, oldest monitor first; last `{nodedown, N}` of `net_kernel:monitor_nodes`. `global` forgets the names of the other side's
 *   processes and `pg` their group memberships.
 * - `disconnect` of X from Y also disconnects every node connected to both from both (global's
 *   `prevent_overlapping_partitions`, on by default in OTP 25: X asks them to drop Y, Y to drop X). On real
 *   nodes the two requests race, and a node may keep one of the two (scenario d27 records the usual outcome).
 *
 * Simplifications (see README, Distribution): registered (local) names are shared by all nodes of a runtime; a
 * remote spawn creates the process at once (no spawn request in flight); `heal()` reconnects what the split cut.
 */

import { Pid, Ref, removeLink, removeRef, linkedPids, refsOf, type DistNode } from "./process.js";
import type { CrossNode, Runtime, SignalKind } from "./runtime.js";
import { ErlangError, formatTerm, list, type Term } from "./terms.js";
import { seededRandom } from "./faults.js";
import { atomHash } from "./phash2.js";

/** A node: its name (`b@lab`), the tag its pids print with, and its per-node tables. */
export class NodeRecord implements DistNode {
  up = true;
  /** `global`'s name table as this node sees it: key (printed name) → [name, pid]. */
  globalNames = new Map<string, [Term, Pid]>();
  /** `pg` groups joined by this node's processes (only local members, as pg's scope process keeps them). */
  pgLocal = new Map<string, { group: Term; members: Pid[] }>();
  constructor(
    public name: string,
    readonly tag: number,
  ) {}
}

/** What the network did, for pictures (clusterDiagram, sequence diagrams). */
export type NetEvent =
  | { type: "nodeup" | "nodedown"; t: number; node: string; peer: string }
  | { type: "lost"; t: number; from: string; to: string; msg: string; why: "loss" | "noconnection"; fromPid?: string; toPid?: string }
  | { type: "netsplit"; t: number; groups: string[][] }
  | { type: "heal"; t: number }
  | { type: "node_started" | "node_stopped"; t: number; node: string }
  | { type: "global_conflict"; t: number; name: string; kept: string; killed: string };

/** Erlang's node name syntax: `name@host`. */
const NODE_NAME = /^[A-Za-z0-9_\-.]+@[A-Za-z0-9_\-.]+$/;

export function checkNodeName(name: unknown, where: string): string {
  if (typeof name !== "string" || !NODE_NAME.test(name)) {
    throw new TypeError(`${where}: a node name is "name@host" (e.g. "b@lab"); got ${formatTerm(name as Term)}.`);
  }
  return name;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

interface Channel {
  /** Bumped when the connection goes down: what was sent before is lost. */
  gen: number;
  /** Arrival time of the last thing sent: nothing overtakes it. */
  last: number;
}

export class Cluster implements CrossNode {
  readonly nodes = new Map<string, NodeRecord>();
  /** The runtime's own node: the shell's; `nonode@nohost` until `Node.start`. */
  readonly local: NodeRecord;
  readonly events: NetEvent[] = [];
  private readonly connected = new Set<string>();
  /** Pairs the network cannot connect (a netsplit), and the connections it cut, to restore on heal. */
  private readonly blocked = new Set<string>();
  private cutByNetsplit: Array<[string, string]> = [];
  /**
   * global's `prevent_overlapping_partitions` (kernel parameter, true by default in OTP 25): see `disconnect`.
   * A netsplit is a clean cut either way; on real nodes with the default, global may also cut connections inside
   * a group while the split happens, depending on a race.
   */
  preventOverlappingPartitions = true;
  private readonly latency = new Map<string, number>();
  private readonly loss = new Map<string, number>();
  private random = seededRandom(1);
  private readonly channels = new Map<string, Channel>();
  /** `monitor_node(N, true)` calls not answered yet: holder and node name, in call order. */
  private nodeMonitors: Array<{ pid: Pid; node: string; seq: number }> = [];
  /** `net_kernel:monitor_nodes(true)` subscribers. */
  private readonly nodeSubscribers = new Set<Pid>();
  /** `pg:monitor(Group)` subscriptions. */
  pgMonitors: Array<{ pid: Pid; ref: Ref; key: string }> = [];
  /** Keeps a `global` name until its holder dies, on every node (global monitors the holder). */
  private readonly exitHook: () => void;

  constructor(readonly rt: Runtime) {
    this.local = new NodeRecord("nonode@nohost", 0);
    this.nodes.set(this.local.name, this.local);
    rt.net = this;
    this.exitHook = rt.onExit((p) => this.processExited(p));
  }

  /** The node of a process. */
  nodeOf(p: Pid): NodeRecord {
    return (p.node as NodeRecord | null) ?? this.local;
  }

  get alive(): boolean {
    return this.local.name !== "nonode@nohost";
  }

  /** The node named `name`, up or not; throws with the fix when there is none. */
  get(name: string, where: string): NodeRecord {
    const n = this.nodes.get(checkNodeName(name, where));
    if (!n) throw new ErlangError(["badarg", name]);
    return n;
  }

  // ------------------------------------------------------------------ nodes

  /** `net_kernel:start([Name])` for the runtime's own node. */
  startLocal(name: string): string {
    checkNodeName(name, "Node.start");
    if (this.alive) {
      if (this.local.name === name) return name;
      throw new ErlangError(["already_started", this.local.name]);
    }
    this.nodes.delete(this.local.name);
    this.local.name = name;
    this.nodes.set(name, this.local);
    return name;
  }

  /** Starts node `name` (or restarts it after `stopNode`), connected to this node unless `connect` is false. */
  startNode(name: string, connect = true): string {
    checkNodeName(name, "startNode");
    if (!this.alive) {
      throw new Error(`startNode("${name}"): this node is not distributed (node() is nonode@nohost). Call Node.start("a@lab") first, as net_kernel:start/1 does before peer:start/1.`);
    }
    let n = this.nodes.get(name);
    if (n && n.up) throw new ErlangError(["already_started", name]);
    if (!n) {
      let tag = 1000 + (atomHash(name) % 30000);
      const used = new Set([...this.nodes.values()].map((x) => x.tag));
      while (used.has(tag)) tag++;
      n = new NodeRecord(name, tag);
      this.nodes.set(name, n);
    }
    n.up = true;
    n.globalNames = new Map();
    n.pgLocal = new Map();
    this.events.push({ type: "node_started", t: this.rt.now(), node: name });
    if (connect) this.connect(this.local, n);
    return name;
  }

  /** Stops node `name`: its connections go down (the others see `noconnection`), then all its processes die. */
  stopNode(name: string): "ok" {
    const n = this.get(name, "stopNode");
    if (n === this.local) throw new Error(`stopNode("${name}"): that is the shell's own node; stop another node.`);
    if (!n.up) return "ok";
    for (const other of this.peersOf(n)) this.breakConnection(n, other);
    for (const p of this.rt.processes()) {
      if (p.node === n) this.rt.signal(p, null, "kill", "exit", true);
    }
    n.up = false;
    n.globalNames = new Map();
    n.pgLocal = new Map();
    this.nodeMonitors = this.nodeMonitors.filter((m) => !m.pid.dead);
    this.events.push({ type: "node_stopped", t: this.rt.now(), node: name });
    return "ok";
  }

  /** Nodes `n` is connected to, in the order they were started. */
  peersOf(n: NodeRecord): NodeRecord[] {
    const out: NodeRecord[] = [];
    for (const m of this.nodes.values()) if (m !== n && this.connected.has(pairKey(n.name, m.name))) out.push(m);
    return out;
  }

  isConnected(a: NodeRecord, b: NodeRecord): boolean {
    return a === b || this.connected.has(pairKey(a.name, b.name));
  }

  // ------------------------------------------------------------------ connections

  /**
   * `net_kernel:connect_node`: connects `a` and `b` when both are up and the network lets them, then connects
   * every other pair of the group they now form (connect_all). Returns whether they are connected.
   */
  connect(a: NodeRecord, b: NodeRecord): boolean {
    if (a === b) return a.up;
    if (!a.up || !b.up || !this.alive || this.blocked.has(pairKey(a.name, b.name))) return false;
    if (this.isConnected(a, b)) return true;
    const pending: Array<[NodeRecord, NodeRecord]> = [[a, b]];
    while (pending.length > 0) {
      const [x, y] = pending.shift()!;
      if (this.isConnected(x, y) || this.blocked.has(pairKey(x.name, y.name))) continue;
      const xs = [x, ...this.peersOf(x)];
      const ys = [y, ...this.peersOf(y)];
      this.connected.add(pairKey(x.name, y.name));
      this.channels.delete(`${x.name}>${y.name}`);
      this.channels.delete(`${y.name}>${x.name}`);
      const t = this.rt.now();
      this.events.push({ type: "nodeup", t, node: x.name, peer: y.name });
      this.notifySubscribers(x, ["nodeup", y.name]);
      this.notifySubscribers(y, ["nodeup", x.name]);
      this.syncGlobal(x, y);
      this.syncPg(x, y);
      for (const p of xs) for (const q of ys) if (p !== q && !this.isConnected(p, q)) pending.push([p, q]);
    }
    return true;
  }

  /** `erlang:disconnect_node(B)` called on `a`; false when they were not connected. */
  disconnect(a: NodeRecord, b: NodeRecord): boolean {
    if (a === b || !this.isConnected(a, b)) return false;
    const third = this.peersOf(a).filter((c) => c !== b && this.isConnected(c, b));
    this.breakConnection(a, b);
    // prevent_overlapping_partitions: a asks the nodes connected to both to drop b, and b asks them to drop a.
    for (const c of this.preventOverlappingPartitions ? third : []) {
      this.breakConnection(c, b);
      this.breakConnection(c, a);
    }
    return true;
  }

  /** Cuts the network between the groups (nodes not named form one more group), then what it cut stays cut. */
  netsplit(groups: string[][]): "ok" {
    if (!Array.isArray(groups) || groups.some((g) => !Array.isArray(g))) {
      throw new TypeError(`netsplit: expected groups of node names, e.g. netsplit([["a@lab"], ["b@lab", "c@lab"]]); got ${formatTerm(groups as Term)}.`);
    }
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((name) => {
      this.get(name, "netsplit");
      if (groupOf.has(name)) throw new TypeError(`netsplit: ${name} is in two groups.`);
      groupOf.set(name, i);
    }));
    const all = [...this.nodes.keys()];
    for (const name of all) if (!groupOf.has(name)) groupOf.set(name, groups.length);
    this.events.push({ type: "netsplit", t: this.rt.now(), groups: groups.map((g) => [...g]) });
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const [x, y] = [all[i], all[j]];
        if (groupOf.get(x) === groupOf.get(y)) continue;
        const k = pairKey(x, y);
        if (this.blocked.has(k)) continue;
        this.blocked.add(k);
        if (this.connected.has(k)) {
          this.cutByNetsplit.push([x, y]);
          this.breakConnection(this.nodes.get(x)!, this.nodes.get(y)!);
        }
      }
    }
    return "ok";
  }

  /** Ends every netsplit and reconnects the connections they cut (names clash here: `global` resolves them). */
  heal(): "ok" {
    this.blocked.clear();
    this.events.push({ type: "heal", t: this.rt.now() });
    const cut = this.cutByNetsplit;
    this.cutByNetsplit = [];
    for (const [x, y] of cut) this.connect(this.nodes.get(x)!, this.nodes.get(y)!);
    return "ok";
  }

  /** Latency (ms) of the link between two nodes, both directions. */
  setLatency(a: string, b: string, ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`setLatency: ms must be a number >= 0; got ${ms}.`);
    this.latency.set(pairKey(checkNodeName(a, "setLatency"), checkNodeName(b, "setLatency")), ms);
  }

  /** Share of messages lost on the link between two nodes (0..1), drawn from a generator seeded with `seed`. */
  setLoss(a: string, b: string, rate: number, seed = 1): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`setLoss: rate is a share between 0 and 1; got ${rate}.`);
    this.loss.set(pairKey(checkNodeName(a, "setLoss"), checkNodeName(b, "setLoss")), rate);
    this.random = seededRandom(seed);
  }

  /** Connected pairs, each once. */
  connections(): Array<[string, string]> {
    return [...this.connected].map((k) => k.split(" ") as [string, string]);
  }

  /** Pairs currently cut by a netsplit. */
  cutPairs(): Array<[string, string]> {
    return [...this.blocked].map((k) => k.split(" ") as [string, string]);
  }

  // ------------------------------------------------------------------ CrossNode

  nodeName(p: Pid): string {
    return this.nodeOf(p).name;
  }

  reach(a: Pid, b: Pid): boolean {
    return this.connect(this.nodeOf(a), this.nodeOf(b));
  }

  send(from: Pid, to: Pid, msg: Term): void {
    // A DOWN arrives as the signal it is: dropped if the watcher demonitored meanwhile, its ref taken off then. One
    // lost in flight needs nothing here: the watcher still holds the monitor, so breakConnection fires it with
    // noconnection (as it does a link whose exit signal was lost).
    const down = Array.isArray(msg) && msg[0] === "DOWN" && msg[1] instanceof Ref ? (msg[1] as Ref) : undefined;
    const arrive = down ? () => this.rt.deliverSignal(from, to, { kind: "down", ref: down, reason: (msg as Term[])[4] }) : () => this.rt.deliver(to, msg);
    this.post(this.nodeOf(from), this.nodeOf(to), arrive, msg, [from.label, to.label]);
  }

  signal(from: Pid, to: Pid, reason: Term, kind: SignalKind): void {
    this.post(this.nodeOf(from), this.nodeOf(to), () => this.rt.signal(to, from, reason, kind, true), undefined);
  }

  /**
   * Sends `arrive` over the channel from `x` to `y` (connecting first if it may). `msg` is set for a message,
   * which the link's loss rate may drop; signals are never dropped by loss.
   */
  post(x: NodeRecord, y: NodeRecord, arrive: () => void, msg: Term | undefined, pids?: [string, string]): void {
    if (x === y) return arrive();
    const now = this.rt.now();
    const lost = (why: "loss" | "noconnection"): void => {
      if (msg === undefined) return;
      const e: NetEvent = { type: "lost", t: this.rt.now(), from: x.name, to: y.name, msg: formatTerm(msg), why };
      if (pids) [e.fromPid, e.toPid] = pids;
      this.events.push(e);
    };
    if (!this.connect(x, y)) return lost("noconnection");
    const k = pairKey(x.name, y.name);
    const rate = this.loss.get(k) ?? 0;
    if (msg !== undefined && rate > 0 && this.random() < rate) return lost("loss");
    const ck = `${x.name}>${y.name}`;
    let ch = this.channels.get(ck);
    if (!ch) this.channels.set(ck, (ch = { gen: 0, last: 0 }));
    const at = Math.max(now + (this.latency.get(k) ?? 0), ch.last);
    ch.last = at;
    const gen = ch.gen;
    const channel = ch;
    this.rt.after(at - now, () => {
      if (channel.gen === gen && this.channels.get(ck) === channel) arrive();
      else lost("noconnection"); // in flight when the connection went down
    });
  }

  // ------------------------------------------------------------------ a connection goes down

  /** The connection between `x` and `y` goes down: in flight is lost; both sides learn it, in erts' order. */
  breakConnection(x: NodeRecord, y: NodeRecord): void {
    const k = pairKey(x.name, y.name);
    if (!this.connected.has(k)) return;
    this.connected.delete(k);
    for (const ck of [`${x.name}>${y.name}`, `${y.name}>${x.name}`]) {
      const ch = this.channels.get(ck);
      if (ch) ch.gen++;
      this.channels.delete(ck);
    }
    const rt = this.rt;
    this.events.push({ type: "nodedown", t: rt.now(), node: x.name, peer: y.name });
    // Everything that crossed the connection is detached first, so that a process dying of `noconnection`
    // below sends nothing over it.
    const links: Array<[Pid, Pid]> = [];
    const monitors: Array<[Ref, Pid]> = [];
    for (const p of rt.processes()) {
      const n = this.nodeOf(p);
      if (n !== x && n !== y) continue;
      const other = n === x ? y : x;
      for (const q of linkedPids(p)) {
        if (this.nodeOf(q) === other) links.push([p, q]);
      }
      for (const ref of refsOf(p.monitors)) {
        if (ref.target && this.nodeOf(ref.target) === other) monitors.push([ref, ref.target]);
      }
    }
    for (const [p, q] of links) removeLink(p, q);
    for (const [ref, target] of monitors) {
      ref.watcher!.monitors = removeRef(ref.watcher!.monitors, ref);
      target.monitoredBy = removeRef(target.monitoredBy, ref);
    }
    for (const side of [x, y]) {
      const other = side === x ? y : x;
      // Sent as a plain exit signal: the links were taken down just above (a link's exit counts only while the
      // link stands), and with the reason noconnection the two kinds act alike.
      for (const [p, q] of links) if (this.nodeOf(p) === side) rt.signal(p, q, "noconnection", "exit", true);
      // Process monitors and monitor_node calls fire together, oldest first (erts keeps one list per connection).
      const fired = this.nodeMonitors.filter((m) => m.node === other.name && this.nodeOf(m.pid) === side);
      this.nodeMonitors = this.nodeMonitors.filter((m) => !fired.includes(m));
      const downs: Array<{ seq: number; to: Pid; msg: Term }> = fired.map((m) => ({ seq: m.seq, to: m.pid, msg: ["nodedown", other.name] }));
      for (const [ref, target] of monitors) {
        if (this.nodeOf(ref.watcher!) === side) downs.push({ seq: ref.id, to: ref.watcher!, msg: ["DOWN", ref, "process", ref.object ?? target, "noconnection"] });
      }
      downs.sort((p, q) => p.seq - q.seq);
      for (const d of downs) rt.deliver(d.to, d.msg);
      this.notifySubscribers(side, ["nodedown", other.name]);
    }
    this.forgetOtherSide(x, y);
    this.forgetOtherSide(y, x);
  }

  // ------------------------------------------------------------------ node monitors

  /** `erlang:monitor_node(Node, Flag)` for `p`: a node that cannot be reached answers `{nodedown, Node}` at once. */
  monitorNode(p: Pid, name: string, flag: boolean): true {
    const target = this.get(name, "monitorNode");
    if (!flag) {
      this.nodeMonitors = this.nodeMonitors.filter((m) => !(m.pid === p && m.node === name));
      return true;
    }
    if (!this.connect(this.nodeOf(p), target)) {
      this.rt.deliver(p, ["nodedown", name]);
      return true;
    }
    this.nodeMonitors.push({ pid: p, node: name, seq: new Ref().id }); // ordered with process monitors
    return true;
  }

  /** `net_kernel:monitor_nodes(Flag)` for `p`. */
  monitorNodes(p: Pid, flag: boolean): "ok" {
    if (flag) this.nodeSubscribers.add(p);
    else this.nodeSubscribers.delete(p);
    return "ok";
  }

  private notifySubscribers(n: NodeRecord, msg: Term): void {
    for (const p of this.nodeSubscribers) {
      if (p.dead) this.nodeSubscribers.delete(p);
      else if (this.nodeOf(p) === n) this.rt.deliver(p, msg);
    }
  }

  // ------------------------------------------------------------------ global and pg tables

  /**
   * `global` on `n` registers `name` for `pid` on every node connected to `n`: "no" when a live process has the
   * name, or when `pid` already has another global name (global.erl's `check_dupname`: one name per process).
   */
  globalRegister(n: NodeRecord, name: Term, pid: Pid): "yes" | "no" {
    const k = formatTerm(name);
    const held = n.globalNames.get(k);
    if (held && held[1].alive) return "no";
    for (const [other, [, q]] of n.globalNames) if (q === pid && other !== k && q.alive) return "no";
    if (pid.dead) return "yes"; // global registers, then its monitor frees the name at once
    for (const m of [n, ...this.peersOf(n)]) m.globalNames.set(k, [name, pid]);
    return "yes";
  }

  globalUnregister(n: NodeRecord, name: Term): "ok" {
    const k = formatTerm(name);
    for (const m of [n, ...this.peersOf(n)]) m.globalNames.delete(k);
    return "ok";
  }

  globalWhereis(n: NodeRecord, name: Term): Pid | "undefined" {
    const held = n.globalNames.get(formatTerm(name));
    return held && held[1].alive ? held[1] : "undefined";
  }

  /**
   * When `x` and `y` connect, their global tables merge. A name both sides hold for different processes is a
   * clash; the default resolver (`global:random_exit_name/3`) keeps the process on the node whose name sorts
   * first and kills the other (exit reason `kill`). OTP also logs "global: Name conflict terminating {Name, Pid}"
 * at info level; here the conflict is a `global_conflict` event of the cluster.
   */
  private syncGlobal(x: NodeRecord, y: NodeRecord): void {
    const merged = new Map(x.globalNames);
    for (const [k, [name, py]] of y.globalNames) {
      const mine = merged.get(k);
      if (!mine || mine[1] === py || mine[1].dead) {
        merged.set(k, [name, py]);
        continue;
      }
      const px = mine[1];
      const [keep, kill] = this.nodeOf(px).name < this.nodeOf(py).name ? [px, py] : [py, px];
      merged.set(k, [name, keep]);
      this.events.push({ type: "global_conflict", t: this.rt.now(), name: formatTerm(name), kept: keep.label, killed: kill.label });
      this.rt.signal(kill, null, "kill", "exit", true);
    }
    for (const m of new Set([x, ...this.peersOf(x), y, ...this.peersOf(y)])) m.globalNames = new Map(merged);
  }

  /** The members of `group` as node `n` sees them: its own, then those of each connected node. */
  pgMembers(n: NodeRecord, group: Term): Pid[] {
    const k = formatTerm(group);
    const out: Pid[] = [];
    for (const m of [n, ...this.peersOf(n)]) out.push(...(m.pgLocal.get(k)?.members ?? []));
    return out;
  }

  pgJoin(n: NodeRecord, group: Term, pids: Pid[]): "ok" {
    for (const p of pids) {
      if (this.nodeOf(p) !== n) throw new ErlangError(["nolocal", p]);
    }
    const k = formatTerm(group);
    let g = n.pgLocal.get(k);
    if (!g) n.pgLocal.set(k, (g = { group, members: [] }));
    g.members.unshift(...pids);
    this.pgNotify(n, k, group, "join", pids);
    return "ok";
  }

  pgLeave(n: NodeRecord, group: Term, pids: Pid[]): "ok" | "not_joined" {
    const k = formatTerm(group);
    const g = n.pgLocal.get(k);
    const left: Pid[] = [];
    for (const p of pids) {
      const i = g ? g.members.indexOf(p) : -1;
      if (i >= 0) {
        g!.members.splice(i, 1);
        left.push(p);
      }
    }
    if (g && g.members.length === 0) n.pgLocal.delete(k);
    if (left.length === 0) return "not_joined";
    this.pgNotify(n, k, group, "leave", left);
    return "ok";
  }

  /** Tells `pg` monitors of `group` on `n` (at once) and on connected nodes (over the network) of a change. */
  private pgNotify(n: NodeRecord, k: string, group: Term, what: "join" | "leave", pids: Pid[]): void {
    for (const m of this.pgMonitors) {
      if (m.key !== k || m.pid.dead) continue;
      const mn = this.nodeOf(m.pid);
      const msg: Term = [m.ref, what, group, list(...pids)];
      if (mn === n) this.rt.deliver(m.pid, msg);
      else if (this.isConnected(n, mn)) this.post(n, mn, () => this.rt.deliver(m.pid, msg), undefined);
    }
  }

  /** pg's scopes exchange their members when nodes connect: each side's monitors learn the other's joins. */
  private syncPg(x: NodeRecord, y: NodeRecord): void {
    for (const [from, to] of [[x, y], [y, x]] as const) {
      for (const [k, g] of from.pgLocal) {
        for (const m of this.pgMonitors) {
          if (m.key === k && !m.pid.dead && this.nodeOf(m.pid) === to) this.rt.deliver(m.pid, [m.ref, "join", g.group, list(...g.members)]);
        }
      }
    }
  }

  /** After `x` loses `y`: x's global table drops the names of y's processes, x's pg monitors see y's members leave. */
  private forgetOtherSide(x: NodeRecord, y: NodeRecord): void {
    for (const [k, [, p]] of x.globalNames) if (this.nodeOf(p) === y) x.globalNames.delete(k);
    for (const [k, g] of y.pgLocal) {
      for (const m of this.pgMonitors) {
        if (m.key === k && !m.pid.dead && this.nodeOf(m.pid) === x) this.rt.deliver(m.pid, [m.ref, "leave", g.group, list(...g.members)]);
      }
    }
  }

  /** A process died: global frees its names everywhere, pg removes it from its groups. */
  private processExited(p: Pid): void {
    for (const n of this.nodes.values()) {
      for (const [k, [, q]] of n.globalNames) if (q === p) n.globalNames.delete(k);
    }
    const n = this.nodeOf(p);
    for (const [k, g] of [...n.pgLocal]) if (g.members.includes(p)) {
      g.members = g.members.filter((q) => q !== p);
      if (g.members.length === 0) n.pgLocal.delete(k);
      this.pgNotify(n, k, g.group, "leave", [p]);
    }
    this.nodeSubscribers.delete(p);
    if (this.pgMonitors.some((m) => m.pid === p)) this.pgMonitors = this.pgMonitors.filter((m) => m.pid !== p);
  }

  /** Detaches the cluster from its runtime (the runtime then has one node again). */
  dispose(): void {
    if (this.rt.net === this) this.rt.net = null;
    this.exitHook();
  }
}
