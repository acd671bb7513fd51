/**
 * Modules and hot code loading (otp-semantics.md §1.R).
 *
 * A module is a named set of callbacks with versions. At most two versions exist at once, current and old
 * (R84): loading a new version makes current become old. Behaviours call their callbacks through the module
 * (`mod.current.callbacks.handleCall(...)`, an "external call"), so after a load the *next* callback runs the
 * new code (R85), while state is migrated only through `sys.changeCode` (R28). A plain process spawned from a
 * module function stays in the version it started in (a local loop, R84) and is killed when that version is
 * purged (R87).
 *
 * `defmodule` behaves like Elixir's `defmodule` in IEx: it purges the old version first (killing processes still
 * running it), then loads (R86). `loadModule` behaves like `code:load_file`: `{error, not_purged}` while old
 * code exists.
 */

import type { Runtime } from "./runtime.js";
import type { Pid } from "./process.js";
import type { Term } from "./terms.js";

export class ModuleVersion<C = any> {
  constructor(
    readonly module: Module<C>,
    readonly version: number,
    readonly callbacks: C,
    /** The module's declared `vsn` (what `code_change` receives as OldVsn); defaults to the version number. */
    readonly vsn: Term,
  ) {}
}

export class Module<C = any> {
  current: ModuleVersion<C>;
  old: ModuleVersion<C> | null = null;
  constructor(
    readonly rt: Runtime,
    readonly name: string,
    callbacks: C,
    vsn?: Term,
  ) {
    this.current = new ModuleVersion(this, 1, callbacks, vsn ?? 1);
  }

  get version(): number {
    return this.current.version;
  }

  get callbacks(): C {
    return this.current.callbacks;
  }

  toString(): string {
    return this.name;
  }
}

/** Per-runtime code table; kept off the Runtime class so the core stays free of code-loading concerns. */
const tables = new WeakMap<Runtime, Map<string, Module>>();

export function codeTable(rt: Runtime): Map<string, Module> {
  let t = tables.get(rt);
  if (!t) tables.set(rt, (t = new Map()));
  return t;
}

/** Processes whose running code belongs to a module version: set by behaviours and module-spawned processes. */
export interface CodeUser {
  /** The module version the process is executing right now (a plain process body, or a callback in progress). */
  runningCode?: ModuleVersion | null;
}

export function getModule(rt: Runtime, name: string): Module | undefined {
  return codeTable(rt).get(name);
}

/**
 * Loads `callbacks` as the new current version of `name` (creating the module on first load) after purging
 * the old version, like Elixir's `defmodule` / IEx `r/1` (R86). Returns the module (stable across versions).
 */
export function defineModule<C>(rt: Runtime, name: string, callbacks: C, vsn?: Term): Module<C> {
  const table = codeTable(rt);
  const existing = table.get(name) as Module<C> | undefined;
  if (!existing) {
    const m = new Module<C>(rt, name, callbacks, vsn);
    table.set(name, m);
    rt.emit({ type: "code_load", t: rt.now(), module: name, version: 1 });
    return m;
  }
  purge(rt, existing);
  loadNew(rt, existing, callbacks, vsn);
  return existing;
}

/** `code:load_file/1`: fails with `{error, not_purged}` while an old version still exists (R86). */
export function loadModule<C>(rt: Runtime, mod: Module<C>, callbacks: C, vsn?: Term): ["module", string] | ["error", "not_purged"] {
  if (mod.old) return ["error", "not_purged"];
  loadNew(rt, mod, callbacks, vsn);
  return ["module", mod.name];
}

function loadNew<C>(rt: Runtime, mod: Module<C>, callbacks: C, vsn?: Term): void {
  const version = mod.current.version + 1;
  mod.old = mod.current;
  mod.current = new ModuleVersion(mod, version, callbacks, vsn ?? version);
  rt.emit({ type: "code_load", t: rt.now(), module: mod.name, version });
}

/** Processes executing `v` right now (`erlang:check_process_code`). */
export function processesIn(rt: Runtime, v: ModuleVersion): Pid[] {
  return rt.processes().filter((p) => (p.data as CodeUser | null)?.runningCode === v);
}

/**
 * `code:purge/1`: kills (`exit(P, kill)`, reason `killed`) every process still in the old version, then removes
 * it. Returns true iff a process was killed (R87).
 */
export function purge(rt: Runtime, mod: Module): boolean {
  const old = mod.old;
  if (!old) return false;
  const victims = processesIn(rt, old);
  // As code:purge waits for its victims' DOWNs: each has handled the kill (R92) when purge returns.
  for (const p of victims) {
    rt.signal(p, null, "kill", "exit");
    rt.handlePending(p);
  }
  mod.old = null;
  rt.emit({ type: "code_purge", t: rt.now(), module: mod.name, version: old.version, killed: victims.map((p) => p.label) });
  return victims.length > 0;
}

/** `code:soft_purge/1`: false (and nothing done) while a process lingers in old code (R88). */
export function softPurge(rt: Runtime, mod: Module): boolean {
  const old = mod.old;
  if (!old) return true;
  if (processesIn(rt, old).length > 0) return false;
  mod.old = null;
  rt.emit({ type: "code_purge", t: rt.now(), module: mod.name, version: old.version, killed: [] });
  return true;
}
