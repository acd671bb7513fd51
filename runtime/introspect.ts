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
import { JUPYTER_DISPLAY, renderAs } from "./display-hook.js";

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
    links: linkedPids(pid).map((p) => p.label),
    monitors: refsOf(pid.monitors).map((r) => r.target!.label),
    monitoredBy: refsOf(pid.monitoredBy).map((r) => r.watcher!.label),
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
    restarts: info.restarts,
    ...(info.module ? { module: info.module } : {}),
    ...(info.version !== undefined ? { version: info.version } : {}),
    ...(info.oldCode ? { oldCode: true } : {}),
    mailbox: info.mailbox,
    memory: info.memory,
  };
  const st = supervisorState(p);
  if (st && !p.dead) {
    Object.assign(node, { kind: "supervisor", strategy: st.strategy, intensity: st.intensity, period: st.period });
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
  if (dyn && !p.dead) {
    Object.assign(node, { kind: "supervisor", strategy: "one_for_one", intensity: dyn.intensity, period: dyn.period, maxChildren: dyn.maxChildren === Infinity ? null : dyn.maxChildren });
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
  const p = typeof root === "string" ? rt.whereis(root) : root;
  if (!p) throw new Error(`snapshot: no live process named '${String(root)}'. Pass a supervisor pid or a registered name.`);
  const snap: TreeSnapshot = { t: rt.now(), root: nodeForProcess(rt, p, p.name ?? p.label, supervisorState(p) || dynamicState(p) ? "supervisor" : "worker") };
  Object.defineProperty(snap, JUPYTER_DISPLAY, { value: () => renderAs("snapshot", snap, () => textTree(snap.root)), enumerable: false });
  return snap;
}

/** An ASCII tree, the text fallback of every tree picture. */
export function textTree(n: TreeNode, prefix = "", last = true, top = true): string {
  const label = `${n.id} ${n.pid ?? "undefined"} [${n.status}${n.strategy ? ", " + n.strategy : ""}${n.restarts ? `, restarts ${n.restarts}` : ""}]`;
  const line = top ? label : `${prefix}${last ? "└─ " : "├─ "}${label}`;
  const kids = n.children ?? [];
  const childPrefix = top ? "" : prefix + (last ? "   " : "│  ");
  return [line, ...kids.map((k, i) => textTree(k, childPrefix, i === kids.length - 1, false))].join("\n");
}

/** Rich display of a pid: the tree for a supervisor, the process info otherwise (Deno's convention). */
(Pid.prototype as unknown as Record<symbol, unknown>)[JUPYTER_DISPLAY] = function (this: Pid) {
  if (!this.dead && (supervisorState(this) || dynamicState(this))) {
    const snap = snapshot(this.rt, this);
    return renderAs("supervisor", snap, () => textTree(snap.root));
  }
  const info = this.dead ? null : processInfo(this.rt, this);
  return renderAs("process", info ?? { pid: this.label, status: "dead" }, () =>
    info ? `${this.toString()} ${info.behaviour}${info.module ? " " + info.module : ""} ${info.status}, mailbox ${info.mailbox}` : `${this.toString()} (dead: ${formatTerm(this.exitReason as Term)})`,
  );
};
