/**
 * The live runtime for the interactive panels, which act on processes (the pictures only read JSON, see
 * `sources.ts`): the runtime a process is running in, else the default one (the kernel's).
 */
import type { Pid } from "../runtime/process.js";
import type { Runtime } from "../runtime/runtime.js";
import { activeRuntime } from "../runtime/processes.js";

/** A process as a cell has it: its Pid, or its registered name. */
export type PidInput = Pid | string;

export function currentRuntimeObject(what: string): Runtime {
  const rt = activeRuntime();
  if (!rt) throw new Error(`${what}: no runtime is running here; start one with resetRuntime()`);
  return rt;
}
