/**
 * OTP Lab's runtime: Erlang/OTP supervision semantics in TypeScript (see otp-semantics.md).
 *
 * Everything a notebook cell or a script needs is exported by name here; the kernel makes each export a global.
 * Blocking operations return an `Op`: `await` it outside processes, `yield*` it inside them.
 */

export { Runtime, DeadlockError, type RuntimeOptions, type Signal } from "./runtime.js";
export { getRuntime, setRuntime, resetRuntime } from "./default.js";
export { Pid, Ref, type Blocking } from "./process.js";
export { Op } from "./op.js";
export { EventLog } from "./event-log.js";
export { Module } from "./code.js";
export { GenServer, sys, okPid, type GenServerCallbacks, type From, type StartResult, type StartOptions } from "./gen_server.js";
export { Supervisor, ELIXIR_DEFAULTS, type ChildInfo, type ChildCounts, type SupervisorOptions } from "./supervisor.js";
export { DynamicSupervisor, type DynamicOptions } from "./dynamic_supervisor.js";
export { DEFAULT_FLAGS, Restarting, ChildRecord, type ChildSpec, type SupFlags, type Shutdown, type AutoShutdown } from "./child_spec.js";
export {
  spawn,
  spawnLink,
  spawnMonitor,
  send,
  self,
  exit,
  link,
  unlink,
  monitor,
  demonitor,
  trapExit,
  register,
  whereis,
  isAlive,
  receive,
  flush,
  TIMEOUT,
  sleep,
  settle,
  advance,
  now,
  processInfo,
  processes,
  snapshot,
  textTree,
  events,
  activeRuntime,
} from "./processes.js";
export { Agent } from "./agent.js";
export { TaskSupervisor, Task, type TaskOptions } from "./task_supervisor.js";
export { Registry, type Keys } from "./registry.js";
export { PartitionSupervisor, type PartitionOptions } from "./partition_supervisor.js";
export { kill, crash, injectDelay, chaos, ChaosMonkey, seededRandom, type ChaosOptions } from "./faults.js";
export { defmodule, hotSwap, purgeModule, softPurgeModule, loadNewVersion, serversOf, type SwapResult } from "./hot_swap.js";
export { list, ErlList, Bin, Crash, ExitSignal, ErlangError, RuntimeError, formatTerm, termEquals, isCleanExit, type Term } from "./terms.js";
export { phash2 } from "./phash2.js";
export { Global } from "./global.js";
export type { Name, Dest, ViaName, GlobalName, ViaModule } from "./via.js";
export type { TraceOptions } from "./sys_trace.js";
export { Metrics, metrics, type MetricsOptions } from "./metrics.js";
export { Logger, LogReport, type LogLevel, type LogLevelSetting, type LogHandler, type ReportKind, type StackFormatter } from "./logger.js";
export { DemoResult, demoOneForOne, demoOneForAll, demoRestForOne, demoRestartTypes, demoIntensity, demoCascade, demoDynamic, demoPartitionSupervisor, demoTaskSupervisor, demoNetsplit, NetsplitDemo } from "./demos.js";
export { registerRenderer, JUPYTER_DISPLAY, type MimeBundle, type RenderableKind } from "./display-hook.js";
export type * from "./observe.js";
export { Node, node, nodes, startNode, stopNode, netsplit, heal, setLatency, setLoss, netEvents, monitorNode, monitorNodes, clusterOf } from "./nodes.js";
export type { NetEvent } from "./net.js";
export { pg } from "./pg.js";
export { erpc, rpc, erpcFailure, type RemoteFun } from "./erpc.js";
