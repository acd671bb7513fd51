/**
 * What widget functions accept, and how it becomes plain JSON.
 *
 * Renderers are pure functions of the JSON shapes in `runtime/observe.ts`. For learners, the exported functions
 * also take what a notebook has at hand: a supervisor's pid or registered name (looked up in the runtime), an
 * object with a `snapshot()` method, an event log with `all()`. The runtime is reached through the functions
 * `runtime/index.ts` exports (`snapshot`, `processInfo`, `processes`, `events`, `now`, which act on the active
 * runtime), or set explicitly with `useRuntime` (tests, other hosts).
 */
import * as runtimeModule from "../runtime/index.js";
import type { MetricSample, ProcessInfo, ProcessInfoJSON, RuntimeEvent, TreeNode, TreeSnapshot } from "../runtime/observe.js";

/** The part of the runtime widgets read. `root`/`pid` are a Pid object, a pid string or a registered name. */
export interface RuntimeLike {
  snapshot(root: unknown): TreeSnapshot;
  processInfo(pid: unknown): ProcessInfo | undefined;
  processes(): ProcessInfo[];
  events: { all(): RuntimeEvent[]; subscribe(fn: (e: RuntimeEvent) => void): () => void };
  now(): number;
}

let explicitRuntime: RuntimeLike | null = null;

/** Use `rt` to resolve names and pids (or `null` to go back to the runtime module's active runtime). */
export function useRuntime(rt: RuntimeLike | null): void {
  explicitRuntime = rt;
}

interface RuntimeFunctions {
  snapshot?: (root: never) => TreeSnapshot;
  processInfo?: (pid: never) => ProcessInfo | undefined;
  processes?: () => ProcessInfo[];
  events?: () => { all(): RuntimeEvent[]; subscribe(fn: (e: RuntimeEvent) => void): () => void };
  now?: () => number;
}

/** The runtime module's functions, wrapped; null if this build has no runtime. */
function moduleRuntime(): RuntimeLike | null {
  const m = runtimeModule as unknown as RuntimeFunctions;
  if (typeof m.snapshot !== "function" || typeof m.processInfo !== "function" || typeof m.processes !== "function" ||
    typeof m.events !== "function" || typeof m.now !== "function") {
    return null;
  }
  const { snapshot, processInfo, processes, events, now } = m as Required<RuntimeFunctions>;
  return {
    snapshot: (root) => snapshot(root as never),
    processInfo: (pid) => processInfo(pid as never),
    processes: () => processes(),
    events: { all: () => events().all(), subscribe: (fn) => events().subscribe(fn) },
    now: () => now(),
  };
}

export function currentRuntime(): RuntimeLike | null {
  return explicitRuntime ?? moduleRuntime();
}

function requireRuntime(what: string): RuntimeLike {
  const rt = currentRuntime();
  if (!rt) {
    throw new Error(`${what}: no runtime is running here to look it up; pass a snapshot (runtime.snapshot(name)) or plain data instead`);
  }
  return rt;
}

/** A runtime Pid object (it prints as "#PID<0.5.0>" and has the short `label` "<0.5.0>"). */
export function isPidObject(v: unknown): v is { label: string } {
  return typeof v === "object" && v !== null && typeof (v as { label?: unknown }).label === "string" &&
    /^<\d+\.\d+\.\d+>$/.test((v as { label: string }).label);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function isTreeNode(v: unknown): v is TreeNode {
  return isObject(v) && typeof v.id === "string" && typeof v.kind === "string" && typeof v.status === "string";
}

export function isSnapshot(v: unknown): v is TreeSnapshot {
  return isObject(v) && typeof v.t === "number" && isTreeNode(v.root);
}

/** Anything that names or is a supervision tree. */
export type TreeInput = TreeSnapshot | TreeNode | string | { snapshot(): TreeSnapshot } | { pid: string } | { label: string };

/** A snapshot from a snapshot, a bare node (time 0), an object with `snapshot()`, a name, a pid or a Pid. */
export function toSnapshot(input: unknown, what = "treeDiagram"): TreeSnapshot {
  if (isSnapshot(input)) return input;
  if (isTreeNode(input)) return { t: 0, root: input };
  if (typeof input === "string") return requireRuntime(`${what}("${input}")`).snapshot(input);
  if (isPidObject(input)) return requireRuntime(what).snapshot(input);
  if (isObject(input)) {
    if (typeof input.snapshot === "function") return toSnapshot((input.snapshot as () => unknown)(), what);
    if (typeof input.pid === "string") return requireRuntime(what).snapshot(input.pid);
  }
  throw new Error(`${what}: expected a supervisor name or pid, a snapshot { t, root } or a tree node; got ${describe(input)}`);
}

/** Events from an array, an event log with `all()`, or (no argument) the runtime's whole log. */
export function toEvents(input: unknown, what = "sequenceDiagram"): RuntimeEvent[] {
  if (input === undefined) return requireRuntime(what).events.all();
  if (Array.isArray(input)) return input as RuntimeEvent[];
  if (isObject(input) && typeof input.all === "function") return toEvents((input.all as () => unknown)(), what);
  if (isObject(input) && isObject(input.events) && typeof input.events.all === "function") {
    return toEvents((input.events.all as () => unknown)(), what);
  }
  throw new Error(`${what}: expected an array of runtime events or an event log with all(); got ${describe(input)}`);
}

/** Metric samples from an array or a metrics recorder exposing `samples` / `samples()` / `all()`. */
export function toSamples(input: unknown, what = "memoryChart"): MetricSample[] {
  if (Array.isArray(input)) return input as MetricSample[];
  if (isObject(input)) {
    if (Array.isArray(input.samples)) return input.samples as MetricSample[];
    for (const method of ["samples", "all"] as const) {
      if (typeof input[method] === "function") return toSamples((input[method] as () => unknown)(), what);
    }
  }
  throw new Error(`${what}: expected an array of metric samples { t, pid, name, memory, mailbox, reductions }; got ${describe(input)}`);
}

function isProcessInfo(v: unknown): v is ProcessInfo | ProcessInfoJSON {
  return isObject(v) && typeof v.pid === "string" && typeof v.status === "string" && typeof v.behaviour === "string";
}

/**
 * Process infos from an array (of infos, pids or Pids), one info, a pid, or (no argument) every live process.
 * A bare `{ pid, status }` (what the runtime shows for a dead pid) becomes a row with empty columns.
 */
export function toProcesses(input: unknown, what = "processTable"): Array<ProcessInfo | ProcessInfoJSON> {
  if (input === undefined) return requireRuntime(what).processes();
  if (isProcessInfo(input)) return [input];
  if (typeof input === "string" || isPidObject(input)) {
    const info = requireRuntime(what).processInfo(input);
    const shown = typeof input === "string" ? input : input.label;
    if (!info) throw new Error(`${what}: no live process ${shown}; processTable() with no argument lists every live process`);
    return [info];
  }
  if (Array.isArray(input)) return input.flatMap((item) => toProcesses(item, what));
  if (isObject(input) && typeof input.pid === "string" && typeof input.status === "string") {
    return [{ behaviour: "process", oldCode: false, mailbox: 0, links: [], monitors: [], monitoredBy: [], trapExit: false, restarts: 0, memory: 0, reductions: 0, ...input } as unknown as ProcessInfoJSON];
  }
  if (isObject(input) && typeof input.pid === "string") return toProcesses(input.pid, what);
  throw new Error(`${what}: expected process infos, pids, or nothing for every process; got ${describe(input)}`);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) return `an object with keys ${Object.keys(v).slice(0, 6).join(", ") || "(none)"}`;
  return typeof v;
}
