/**
 * What the runtime tells the outside world: the event stream and tree snapshots.
 *
 * Everything here is plain JSON (pids are strings such as "<0.12.0>", times are the runtime clock's
 * milliseconds) so that widgets, lessons and the grader can consume it without touching live processes.
 * One exception: `ProcessInfo` lists links and monitors as live `Pid`s, so a cell can act on them
 * (`kill(processInfo.of(p).links[0])`); a Pid serializes as its string (`JSON.stringify` gives `ProcessInfoJSON`).
 * Widgets depend on these shapes; change them only together with `widgets/`.
 */

import type { Pid } from "./process.js";

/** A pid as it appears in events and snapshots, e.g. "<0.12.0>". */
export type PidString = string;

/** Exit reasons and messages rendered as Elixir-like text, e.g. "shutdown", "{:shutdown, :x}", "%RuntimeError{}". */
export type TermText = string;

export type ChildKind = "worker" | "supervisor";
export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";
export type RestartType = "permanent" | "transient" | "temporary";
export type ReportContext = "child_terminated" | "start_error" | "shutdown_error" | "shutdown";

/** One thing that happened in the runtime, in the order it happened. `t` is the runtime clock in ms. */
export type RuntimeEvent =
  | { type: "spawn"; t: number; pid: PidString; parent?: PidString; name?: string; behaviour?: string; module?: string; version?: number }
  | { type: "exit"; t: number; pid: PidString; reason: TermText; name?: string }
  | { type: "send"; t: number; from?: PidString; to: PidString; msg: TermText }
  | { type: "signal"; t: number; from?: PidString; to: PidString; reason: TermText }
  /**
   * A child restarted by its supervisor (no newPid: the attempt failed and will be retried). `reaction` numbers
   * the supervisor's reactions: OTP counts one restart per reaction toward the intensity (R43), however many
   * children a one_for_all or rest_for_one reaction restarts.
   */
  | { type: "restart"; t: number; sup: PidString; id: string; oldPid?: PidString; newPid?: PidString; reaction?: number }
  | { type: "report"; t: number; sup: PidString; context: ReportContext; child?: PidString; id?: string; reason: TermText }
  | { type: "code_load"; t: number; module: string; version: number }
  | { type: "code_purge"; t: number; module: string; version: number; killed: PidString[] }
  | { type: "code_change"; t: number; pid: PidString; module: string; from: number; to: number; ok: boolean };

export type RuntimeEventType = RuntimeEvent["type"];

/** Process status as Observer would show it. */
export type ProcessStatus = "running" | "runnable" | "waiting" | "suspended" | "exiting" | "dead";

/**
 * A live process, as seen by `processInfo(pid)` (Elixir's `Process.info/1`): Observer's columns, with the
 * processes it is linked to and monitors as `Pid`s.
 */
export interface ProcessInfo {
  /** The process itself as text, e.g. "<0.84.0>" (the row key of `processTable`). */
  pid: PidString;
  name?: string;
  status: ProcessStatus;
  /** "gen_server", "supervisor", "dynamic_supervisor", "agent", "task" or "process". */
  behaviour: string;
  module?: string;
  /** Version of the module's code the process runs (1 for the first load). */
  version?: number;
  /** True when the process still runs a module version that is no longer current (R84). */
  oldCode: boolean;
  /** Messages waiting in its mailbox. */
  mailbox: number;
  /** The processes it is linked to, in link order. */
  links: Pid[];
  /** The processes it monitors (`monitor(pid)` it called, or a `GenServer.call` waiting for a reply). */
  monitors: Pid[];
  /** The processes that monitor it. */
  monitoredBy: Pid[];
  trapExit: boolean;
  /** How many times the supervisor restarted the child behind this process (same id). */
  restarts: number;
  /** Estimated bytes held by this process (structure + mailbox + state), like `process_info(P, memory)`. */
  memory: number;
  /** Work counter, like reductions: one per message handled and callback run. */
  reductions: number;
}

/** `ProcessInfo` as plain JSON (what `JSON.stringify(processInfo(p))` gives): pids as strings. Widgets take both. */
export type ProcessInfoJSON = Omit<ProcessInfo, "links" | "monitors" | "monitoredBy"> & {
  links: PidString[];
  monitors: PidString[];
  monitoredBy: PidString[];
};

/** A node of a supervision-tree snapshot. */
export interface TreeNode {
  /** Child id under its supervisor; the registered name or pid for the root. */
  id: string;
  pid: PidString | null;
  /** The node the process runs on (`b@lab`), once the runtime has nodes (net.ts); absent on a single node. */
  node?: string;
  kind: ChildKind;
  behaviour: string;
  /** Present on supervisor nodes. */
  strategy?: Strategy;
  intensity?: number;
  period?: number;
  maxChildren?: number | null;
  /** Present on children of a supervisor. */
  restart?: RestartType;
  shutdown?: number | "infinity" | "brutal_kill";
  significant?: boolean;
  /** running = has a live pid; restarting = failed restart pending retry; undefined = spec kept, no pid (R41, R53). */
  status: "running" | "restarting" | "undefined" | "dead";
  restarts: number;
  lastExitReason?: TermText;
  module?: string;
  version?: number;
  oldCode?: boolean;
  mailbox?: number;
  memory?: number;
  children?: TreeNode[];
}

export interface TreeSnapshot {
  /** Runtime clock (ms) when the snapshot was taken. */
  t: number;
  root: TreeNode;
}

/** One sample of per-process metrics, taken by `Metrics`. */
export interface MetricSample {
  t: number;
  pid: PidString;
  name: string;
  memory: number;
  mailbox: number;
  reductions: number;
}
