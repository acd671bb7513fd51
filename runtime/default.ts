/**
 * The default runtime: one per kernel (or per script), used by API functions that have no pid to tell them
 * which runtime they belong to (`spawn`, `defmodule`, starting a supervisor).
 */

import { Runtime, type RuntimeOptions } from "./runtime.js";
import { Ref } from "./process.js";

let current: Runtime | null = null;

/** The default runtime, created on first use with the virtual clock. */
export function getRuntime(): Runtime {
  return (current ??= new Runtime({ clock: "virtual" }));
}

export function setRuntime(rt: Runtime): Runtime {
  current = rt;
  return rt;
}

/**
 * Replaces the default runtime with a fresh one (a lesson's "start over"): all processes of the old one are
 * stopped. Options default to those of the old runtime (clock kind, autoDrive, guard).
 */
export function resetRuntime(opts?: RuntimeOptions): Runtime {
  const old = current;
  const next = new Runtime({
    clock: opts?.clock ?? old?.clock.kind ?? "virtual",
    autoDrive: opts?.autoDrive ?? old?.autoDrive ?? false,
    guard: opts?.guard ?? old?.guard ?? undefined,
    eventCapacity: opts?.eventCapacity,
  });
  try {
    old?.reset();
  } catch {
    // An old runtime in any state (an interrupt, a throwing clean-up hook) must not keep the new one out.
  }
  Ref.resetNumbering();
  current = next;
  return next;
}

/**
 * The runtime of the running process, else the default one: what an API call made inside a process (e.g. a
 * Task.Supervisor started from a process of a runtime that is not the default) must use.
 */
export function activeOrDefault(): Runtime {
  return Runtime.active ?? getRuntime();
}
