/**
 * Introspection: process info (Observer's columns) and supervision-tree snapshots as plain JSON.
 *
 * Snapshots read the supervisors' own state directly (no messages), so taking one never changes what the
 * runtime does, and works from any cell at any moment.
 */

import { Pid, linkedPids, refsOf } from "./process.js";
import type { Runtime } from "./runtime.js";
import { formatTerm, type Term } from "./terms.js";
import type { GenServerData } from "./gen_server.js";
import type { CodeUser } from "./code.js";
import { childMeta, supervisorState } from "./supervisor.js";
import { dynamicState } from "./dynamic_supervisor.js";
import { Restarting } from "./child_spec.js";
import type { ProcessInfo, TreeNode, TreeSnapshot } from "./observe.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";

/** Bytes of a process record with empty mailbox and no links (measured: see bench/). */
const BASE_BYTES = 180;

/** A rough size in bytes of a JS value, walking at most `budget` nodes (enough to compare processes). */
export function approxSize(v: unknown, budget = { n: 2000 }, seen = new Set<object>()): number {
  if (budget.n-- <= 0) return 0;
  switch (typeof v) {
    case "number":
      return 8;
    case "boolean":
      return 4;
    case "string":
      return 12 + v.length * 2;
    case "undefined":
      return 0;
    case "function":
      return 32;
    case "object": {
      if (v === null) return 0;
      if (seen.has(v)) return 0;
      seen.add(v);
      if (v instanceof Pid) return 8;
      if (Array.isArray(v)) return 16 + v.reduce((s: number, x) => s + 8 + approxSize(x, budget, seen), 0);
      if (v instanceof Map) {
        let s = 32;
        for (const [k, x] of v) s += 16 + approxSize(k, budget, seen) + approxSize(x, budget, seen);
        return s;
      }
      if (v instanceof Set) {
        let s = 32;
        for (const x of v) s += 8 + approxSize(x, budget, seen);
        return s;
      }
      let s = 24;
      for (const k of Object.keys(v)) s += 8 + approxSize((v as Record<string, unknown>)[k], budget, seen);
      return s;
    }
    default:
      return 8;
  }
}

function gsData(p: Pid): GenServerData | null {
  const d = p.data as GenServerData | null;
  return d && typeof d === "object" && "mod" in d && "parent" in d ? d : null;
}

/** The supervisor child record behind `p`, if a supervisor started it. */
function childRecordOf(p: Pid): { restarts: number } | undefined {
  const meta = childMeta.get(p);
  if (!meta) return undefined;
  const st = supervisorState(meta.sup);
  if (st) return st.children.find((c) => c.pid === p);
  const dyn = dynamicState(meta.sup);
  const e = dyn?.children.get(p);
  return e ? ("restarting" in e ? e.restarting : e) : undefined;
}

export function processInfo(rt: Runtime, pid: Pid): ProcessInfo {
  const d = gsData(pid);
  const mod = d?.mod;
  const status = pid.dead ? "dead" : rt.current === pid ? "running" : d?.suspended ? "suspended" : pid.queued ? "runnable" : "waiting";
  const mailbox = pid.mailbox?.length ?? 0;
  const sup = supervisorState(pid);
  const dyn = sup ? undefined : dynamicState(pid);
  // A supervisor's state holds its specs (functions, modules): count per child instead of walking it.
  const stateBytes = sup ? 96 * sup.children.length : dyn ? 96 * dyn.children.size : d ? approxSize(d.state) : 0;
  const memory = pid.dead ? 0 : BASE_BYTES + mailbox * 48 + (pid.mailbox ? approxSize(pid.mailbox.toArray()) : 0) + stateBytes;
  // A plain process spawned from a module function runs the version it started in (R84).
  const running = !d ? (pid.data as CodeUser | null)?.runningCode ?? null : null;
  const moduleName = sup ? sup.mod.name : mod?.name ?? running?.module.name;
  return {
    pid: pid.label,
    ...(pid.name ? { name: pid.name } : {}),
    status,
    behaviour: d?.kind ?? (d ? "gen_server" : pid.behaviour?.name ?? "process"),
    ...(moduleName && !moduleName.startsWith("anonymous#") && !dyn ? { module: moduleName } : {}),
    ...(d ? { version: d.version } : running ? { version: running.version } : {}),
    oldCode: !!((d && mod && d.version < mod.current.version) || (running && running !== running.module.current)),
    mailbox,
    links: linkedPids(pid),
    monitors: refsOf(pid.monitors).map((r) => r.target!),
    monitoredBy: refsOf(pid.monitoredBy).map((r) => r.watcher!),
    trapExit: pid.trapExit,
    restarts: childRecordOf(pid)?.restarts ?? 0,
    memory,
    reductions: pid.reductions,
  };
}

function nodeForProcess(rt: Runtime, p: Pid | null, id: string, kind: "worker" | "supervisor"): TreeNode {
  if (!p) return { id, pid: null, kind, behaviour: kind === "supervisor" ? "supervisor" : "gen_server", status: "undefined", restarts: 0 };
  const info = processInfo(rt, p);
  const node: TreeNode = {
    id,
    pid: p.label,
    kind,
    behaviour: info.behaviour,
    status: p.dead ? "dead" : "running",
    ...(rt.net !== null ? { node: rt.net.nodeName(p) } : {}),
    restarts: info.restarts,
    ...(info.module ? { module: info.module } : {}),
    ...(info.version !== undefined ? { version: info.version } : {}),
    ...(info.oldCode ? { oldCode: true } : {}),
    mailbox: info.mailbox,
    memory: info.memory,
  };
  const st = supervisorState(p);
  // A dead supervisor (one that gave up, say) keeps its strategy and limits in its snapshot: restartsChart
  // draws them from it. It has no children any more.
  if (st) Object.assign(node, { kind: "supervisor", strategy: st.strategy, intensity: st.intensity, period: st.period });
  if (st && !p.dead) {
    node.children = st.children
      .slice()
      .reverse()
      .map((c) => {
        const child = c.pid instanceof Pid ? c.pid : null;
        const n = nodeForProcess(rt, child, String(c.id), c.type);
        n.restart = c.restart;
        n.shutdown = c.shutdown;
        n.significant = c.significant;
        n.restarts = c.restarts;
        if (c.lastExit !== undefined) n.lastExitReason = formatTerm(c.lastExit);
        if (c.pid instanceof Restarting) n.status = "restarting";
        else if (c.pid === null) n.status = "undefined";
        return n;
      });
    return node;
  }
  const dyn = dynamicState(p);
  if (dyn) Object.assign(node, { kind: "supervisor", strategy: "one_for_one", intensity: dyn.intensity, period: dyn.period, maxChildren: dyn.maxChildren === Infinity ? null : dyn.maxChildren });
  if (dyn && !p.dead) {
    node.children = [...dyn.children].map(([pid, e]) => {
      const c = "restarting" in e ? e.restarting : e;
      const n = nodeForProcess(rt, "restarting" in e ? null : pid, String(c.id), c.type);
      n.restart = c.restart;
      n.shutdown = c.shutdown;
      n.restarts = c.restarts;
      if ("restarting" in e) n.status = "restarting";
      return n;
    });
  }
  return node;
}

/** A JSON snapshot of the tree under `root` (a supervisor pid or registered name). */
export function snapshot(rt: Runtime, root: Pid | string): TreeSnapshot {
  if (!(root instanceof Pid) && typeof root !== "string") {
    throw new TypeError(`snapshot: expected a supervisor pid or a registered name; got ${formatTerm(root)}`);
  }
  const p = typeof root === "string" ? rt.whereis(root) : root;
  if (!p) throw new Error(`snapshot: no live process named '${String(root)}'. Pass a supervisor pid or a registered name.`);
  const snap: TreeSnapshot = { t: rt.now(), root: nodeForProcess(rt, p, p.name ?? p.label, supervisorState(p) || dynamicState(p) ? "supervisor" : "worker") };
  Object.defineProperty(snap, JUPYTER_DISPLAY, { value: () => renderAs("snapshot", snap, () => textTree(snap.root)), enumerable: false });
  return snap;
}

/**
 * An ASCII tree of a snapshot (or of one of its nodes), the runtime's own text of every tree picture, e.g.
 * `<0.81.0> <0.81.0> [running, one_for_one]` then `└─ a (no pid) [kept, not running]` for a child whose spec
 * the supervisor keeps without a process (OTP's `undefined`). `textTree(pid)` of `runtime/index.ts` takes a
 * supervisor pid or name too.
 */
export function textTree(tree: TreeSnapshot | TreeNode): string {
  const root = isSnapshotLike(tree) ? tree.root : tree;
  if (!isTreeNodeLike(root)) {
    throw new TypeError(`textTree: expected a supervisor pid or name, a snapshot or a tree node; got ${formatTerm(tree)}`);
  }
  return textTreeLines(root, "", true, true);
}

function isTreeNodeLike(v: unknown): v is TreeNode {
  const n = v as TreeNode | null;
  return typeof n === "object" && n !== null && !(n instanceof Pid) && typeof n.id === "string" && typeof n.status === "string";
}

function isSnapshotLike(v: unknown): v is TreeSnapshot {
  return typeof v === "object" && v !== null && !(v instanceof Pid) && typeof (v as TreeSnapshot).t === "number" && isTreeNodeLike((v as TreeSnapshot).root);
}

/** How a node's status reads: OTP's `undefined` (spec kept, no pid) is "kept, not running". */
function statusText(status: TreeNode["status"]): string {
  return status === "undefined" ? "kept, not running" : status;
}

function textTreeLines(n: TreeNode, prefix: string, last: boolean, top: boolean): string {
  const label = `${n.id} ${n.pid ?? "(no pid)"} [${statusText(n.status)}${n.strategy ? ", " + n.strategy : ""}${n.restarts ? `, restarts ${n.restarts}` : ""}]`;
  const line = top ? label : `${prefix}${last ? "└─ " : "├─ "}${label}`;
  const kids = n.children ?? [];
  const childPrefix = top ? "" : prefix + (last ? "   " : "│  ");
  return [line, ...kids.map((k, i) => textTreeLines(k, childPrefix, i === kids.length - 1, false))].join("\n");
}

/**
 * Rich display of a pid: the tree for a supervisor, the process info otherwise (Deno's convention). The text
 * starts with the pid itself, `#PID<0.84.0>`, as `console.log(pid)` prints it; a dead pid's text is that and
 * its exit reason.
 */
(Pid.prototype as unknown as Record<symbol, unknown>)[JUPYTER_DISPLAY] = function (this: Pid): MimeBundle {
  if (!this.dead && (supervisorState(this) || dynamicState(this))) {
    const snap = snapshot(this.rt, this);
    return pidFirst(this, renderAs("supervisor", snap, () => textTree(snap.root)));
  }
  if (this.dead) {
    const text = `${this.toString()} (dead: ${formatTerm(this.exitReason as Term)})`;
    return { ...renderAs("process", { pid: this.label, status: "dead" }, () => text), "text/plain": text };
  }
  const info = processInfo(this.rt, this);
  return pidFirst(this, renderAs("process", info, () => `${this.toString()} ${info.behaviour}${info.module ? " " + info.module : ""} ${info.status}, mailbox ${info.mailbox}`));
};

/** The bundle with `#PID<0.84.0>` as the first line of its text. */
function pidFirst(pid: Pid, bundle: MimeBundle): MimeBundle {
  const text = bundle["text/plain"];
  if (typeof text === "string" && text.startsWith(pid.toString())) return bundle;
  return { ...bundle, "text/plain": typeof text === "string" && text !== "" ? `${pid.toString()}\n${text}` : pid.toString() };
}
