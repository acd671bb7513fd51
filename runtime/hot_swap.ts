/**
 * Hot code swap as a notebook user does it: `defmodule` a new version in a later cell, then migrate running
 * servers with `hotSwap`, which does what a release upgrade does for each server of the module:
 * `sys:suspend`, `sys:change_code` (calls `codeChange(oldVsn, state, extra)`), `sys:resume` (R28, R85).
 */

import { Pid, type Blocking } from "./process.js";
import { Module, defineModule, purge, softPurge, loadModule } from "./code.js";
import { Op } from "./op.js";
import { sys, type GenServerData } from "./gen_server.js";
import { activeRuntime } from "./processes.js";
import { supervisorState } from "./supervisor.js";
import { ExitSignal, type Term } from "./terms.js";

/**
 * Defines (or redefines) a module. Redefining loads a new version: the next callback of every running server
 * uses it; state is migrated only by `hotSwap`/`sys.changeCode`. Like Elixir's `defmodule`, the version before
 * the previous one is purged first, killing processes still running it (R86).
 * @example const Counter = defmodule("Counter", { init: (n) => ["ok", n], handleCall: ... })
 */
export function defmodule<C extends object>(name: string, callbacks: C, opts: { vsn?: Term } = {}): Module<C> {
  if (typeof name !== "string" || name === "") throw new TypeError("defmodule(name, callbacks): name must be a non-empty string such as \"Counter\".");
  if (!callbacks || typeof callbacks !== "object") throw new TypeError(`defmodule("${name}", callbacks): callbacks must be an object of functions.`);
  return defineModule(activeRuntime(), name, callbacks, opts.vsn);
}

export interface SwapResult {
  pid: Pid;
  /** "ok", or the error `sys:change_code` returned (the server keeps its old state and runs on). */
  result: Term;
}

/** Servers (GenServer-based processes) running `mod` whose state belongs to an older version. */
export function serversOf(mod: Module): Pid[] {
  return mod.rt.processes().filter((p) => {
    const d = p.data as GenServerData | null;
    return !!d && typeof d === "object" && (d.mod === mod || supervisorState(p)?.mod === mod);
  });
}

/**
 * Loads `callbacks` as the new version of `mod` (if given) and migrates every running server of it:
 * suspend, change_code(oldVsn, state, extra), resume. Resolves to one result per server.
 */
export function hotSwap(mod: Module, callbacks?: object, opts: { extra?: Term } = {}): Op<SwapResult[]> {
  const rt = mod.rt;
  if (callbacks) defineModule(rt, mod.name, callbacks);
  const oldVsn = mod.old?.vsn ?? mod.current.vsn;
  return new Op(
    rt,
    function* (): Blocking<SwapResult[]> {
      const out: SwapResult[] = [];
      for (const p of serversOf(mod)) {
        const d = p.data as GenServerData;
        if (d.mod === mod && d.version === mod.current.version) continue; // already on this version
        try {
          yield* sys.suspend(p);
          const result = yield* sys.changeCode(p, mod, oldVsn, opts.extra ?? []);
          yield* sys.resume(p);
          out.push({ pid: p, result });
        } catch (e) {
          if (!(e instanceof ExitSignal)) throw e;
          out.push({ pid: p, result: ["error", e.reason] }); // the server died meanwhile
        }
      }
      return out;
    },
    "hotSwap",
  );
}

/** `code:purge/1`: kills processes still in the old version; true if any was killed (R87). */
export function purgeModule(mod: Module): boolean {
  return purge(mod.rt, mod);
}

/** `code:soft_purge/1`: false while a process lingers in old code (R88). */
export function softPurgeModule(mod: Module): boolean {
  return softPurge(mod.rt, mod);
}

/** `code:load_file/1`-style load: `["error", "not_purged"]` while old code exists (R86). */
export function loadNewVersion(mod: Module, callbacks: object, vsn?: Term) {
  return loadModule(mod.rt, mod, callbacks, vsn);
}
