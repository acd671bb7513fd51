/**
 * Registry (Elixir 1.14 `registry.ex`), R80–R81, one partition.
 *
 * `register(reg, key, value)` registers the *calling* process and links it to the registry; unique keys held
 * by a live process answer `["error", ["already_registered", pid]]` (also for the owner itself); a stale entry
 * of a dead owner is replaced. Clean-up is asynchronous: the registry process removes a dead owner's entries
 * when it handles the EXIT, so `lookup` (which does not check liveness, like the ETS read it models) may
 * briefly return a dead pid, while `whereisName` does check `Process.alive?`.
 */

import { Pid, type Blocking } from "./process.js";
import type { Runtime } from "./runtime.js";
import { Module } from "./code.js";
import { GenServer, type GenServerCallbacks, type StartResult } from "./gen_server.js";
import { activeRuntime } from "./processes.js";
import { Op } from "./op.js";
import { ErlangError, formatTerm, termEquals, type Term } from "./terms.js";
import { defineViaModule } from "./via.js";

export type Keys = "unique" | "duplicate";

interface RegState {
  keys: Keys;
  /** key → entries, in registration order (the ETS table). */
  table: Map<Term, Array<[Pid, Term]>>;
}

const registries = new WeakMap<Pid, RegState>();

function regCallbacks(): GenServerCallbacks<RegState> {
  return {
    init(st: RegState) {
      const rt = activeRuntime();
      rt.self().trapExit = true;
      registries.set(rt.self(), st);
      return ["ok", st];
    },
    handleInfo(msg: Term, st: RegState) {
      if (Array.isArray(msg) && msg[0] === "EXIT" && msg[1] instanceof Pid) {
        const dead = msg[1];
        for (const [k, entries] of st.table) {
          const left = entries.filter(([p]) => p !== dead);
          if (left.length === 0) st.table.delete(k);
          else st.table.set(k, left);
        }
      }
      return ["noreply", st];
    },
  };
}

function stateOf(reg: Pid | string): { rt: Runtime; pid: Pid; st: RegState } {
  const rt = reg instanceof Pid ? reg.rt : activeRuntime();
  const pid = rt.resolve(reg);
  const st = pid && registries.get(pid);
  if (!pid || !st || pid.dead) throw new Error(`Registry '${String(reg)}' is not running. Start it with Registry.startLink({ keys: "unique", name }).`);
  return { rt, pid, st };
}

function findKey(table: Map<Term, Array<[Pid, Term]>>, key: Term): Term | undefined {
  if (table.has(key)) return key;
  for (const k of table.keys()) if (termEquals(k, key)) return k;
  return undefined;
}

export const Registry = {
  /** @example await Registry.startLink({ keys: "unique", name: "names" }) */
  startLink(opts: { keys: Keys; name: string }): Op<StartResult> {
    if (opts.keys !== "unique" && opts.keys !== "duplicate") throw new TypeError(`Registry.startLink: keys must be "unique" or "duplicate", got ${String(opts.keys)}.`);
    const rt = activeRuntime();
    const m = new Module(rt, "Registry", regCallbacks());
    return GenServer.startLink(m, { keys: opts.keys, table: new Map() } satisfies RegState, { name: opts.name });
  },

  /** Registers the calling process under `key` (R80). */
  register(reg: Pid | string, key: Term, value: Term = null): ["ok", Pid] | ["error", ["already_registered", Pid]] {
    const { rt } = stateOf(reg);
    return registerPid(reg, key, value, rt.caller());
  },

  /**
   * `Registry.register_name({reg, key}, pid)`, the via-name entry point (`["via", "Registry", [reg, key]]`):
   * "yes", or "no" when a live process holds the key.
   */
  registerName([reg, key]: [Pid | string, Term], pid: Pid): "yes" | "no" {
    return registerPid(reg, key, null, pid)[0] === "ok" ? "yes" : "no";
  },

  /** `Registry.unregister_name({reg, key})`. */
  unregisterName([reg, key]: [Pid | string, Term]): "ok" {
    const { st } = stateOf(reg);
    const k = findKey(st.table, key);
    if (k !== undefined) st.table.delete(k);
    return "ok";
  },

  /**
   * `Registry.send({reg, key}, msg)`: to the owner of a unique key; raises `badarg` (ArgumentError) when nobody
   * has it, as Elixir 1.14 does.
   */
  send([reg, key]: [Pid | string, Term], msg: Term): Term {
    const p = Registry.whereisName(reg, key);
    if (!p) {
      const err = new ErlangError("badarg");
      err.message = `Registry.send: no process is registered under ${formatTerm(key)} in ${formatTerm(reg)} (Elixir raises ArgumentError).`;
      throw err;
    }
    p.rt.deliver(p, msg);
    return msg;
  },

  unregister(reg: Pid | string, key: Term): "ok" {
    const { rt, st } = stateOf(reg);
    const self = rt.caller();
    const k = findKey(st.table, key);
    if (k !== undefined) {
      const left = st.table.get(k)!.filter(([p]) => p !== self);
      if (left.length === 0) st.table.delete(k);
      else st.table.set(k, left);
    }
    return "ok";
  },

  /** `[pid, value]` entries for `key`; may include a pid that just died (R81). */
  lookup(reg: Pid | string, key: Term): Array<[Pid, Term]> {
    const { st } = stateOf(reg);
    const k = findKey(st.table, key);
    return k === undefined ? [] : st.table.get(k)!.slice();
  },

  /**
   * The live owner of a unique key (the `{:via, Registry, {reg, key}}` path checks liveness): `whereisName(reg,
   * key)`, or `whereisName([reg, key])` as Elixir's `Registry.whereis_name({reg, key})`.
   */
  whereisName(reg: Pid | string | [Pid | string, Term], key?: Term): Pid | undefined {
    if (Array.isArray(reg) && key === undefined) [reg, key] = reg;
    const [entry] = Registry.lookup(reg as Pid | string, key);
    return entry && entry[0].alive ? entry[0] : undefined;
  },

  keys(reg: Pid | string, pid: Pid): Term[] {
    const { st } = stateOf(reg);
    return [...st.table].filter(([, es]) => es.some(([p]) => p === pid)).map(([k]) => k);
  },

  count(reg: Pid | string): number {
    const { st } = stateOf(reg);
    let n = 0;
    for (const es of st.table.values()) n += es.length;
    return n;
  },

  /** Calls `fn` with the entries of a duplicate key (Registry.dispatch). */
  dispatch(reg: Pid | string, key: Term, fn: (entries: Array<[Pid, Term]>) => void): "ok" {
    fn(Registry.lookup(reg, key));
    return "ok";
  },
};

/** Registers `self` under `key` in `reg` and links it to the registry (R80). */
function registerPid(reg: Pid | string, key: Term, value: Term, self: Pid): ["ok", Pid] | ["error", ["already_registered", Pid]] {
  const { rt, pid, st } = stateOf(reg);
  const k = findKey(st.table, key) ?? key;
  const entries = st.table.get(k) ?? [];
  if (st.keys === "unique" && entries.length > 0) {
    const [owner] = entries[0];
    if (owner.alive) return ["error", ["already_registered", owner]];
    entries.length = 0; // a stale entry of a dead owner is replaced
  }
  entries.push([self, value]);
  st.table.set(k, entries);
  rt.link(self, pid);
  return ["ok", pid];
}

/** `{:via, Registry, {reg, key}}`: the name inside is the `[reg, key]` pair. */
function regKey(name: Term): [Pid | string, Term] {
  if (!Array.isArray(name) || name.length !== 2) {
    throw new TypeError(`["via", "Registry", name]: the name must be [registry, key], e.g. ["via", "Registry", ["names", "alice"]]; got ${formatTerm(name)}.`);
  }
  return name as [Pid | string, Term];
}

defineViaModule("Registry", {
  registerName: (name, pid) => Registry.registerName(regKey(name), pid),
  unregisterName: (name) => Registry.unregisterName(regKey(name)),
  whereisName: (name) => Registry.whereisName(regKey(name)),
  send: (name, msg) => Registry.send(regKey(name), msg),
});

export type { Blocking };
