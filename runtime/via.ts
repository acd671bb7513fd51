/**
 * Names registered through a module: `{via, Module, Name}` and `{global, Name}` (gen.erl's `where/1`,
 * `register_name/1`; Elixir's `GenServer` name option). A via module keeps its own table and answers four
 * functions, as Erlang's `global` and Elixir's `Registry` do:
 *
 *   registerName(name, pid) → "yes" | "no"      unregisterName(name) → "ok"
 *   whereisName(name) → pid | "undefined"        send(name, msg) → pid (exits, or raises, when nobody has it)
 *
 * Written `["via", "Registry", ["reg", key]]`, `["via", "global", name]` (or `["global", name]`),
 * `["via", "PartitionSupervisor", [name, key]]`, or `["via", myModule, name]` with an object of your own that
 * has those four functions. Such a name works wherever a name does: the `name` start option (a second start
 * answers `["error", ["already_started", pid]]`), `GenServer.call` / `cast` / `stop`, `sys.*`, `whereis`,
 * `GenServer.whereis`. As on the BEAM, `send(via, msg)` is an error ("invalid destination"): messages to a
 * via name go through its module's `send` (`Registry.send`, `global.send`) or `GenServer.cast`.
 */

import type { Pid } from "./process.js";
import type { Runtime } from "./runtime.js";
import { ExitSignal, ErlList, formatTerm, type Term } from "./terms.js";

/** `{via, Module, Name}`: Module a built-in's name ("Registry", "global", "PartitionSupervisor") or an object. */
export type ViaName = ["via", string | ViaModule, Term];
/** `{global, Name}`, the same as `["via", "global", name]`. */
export type GlobalName = ["global", Term];
/** What the `name` option and every server argument accept besides a pid: a local name, or one of the above. */
export type Name = string | ViaName | GlobalName;
/** A process: its pid or a name. */
export type Dest = Pid | Name;

/** The four functions of a via module (the runtime is passed last, for modules that keep a table per runtime). */
export interface ViaModule {
  registerName(name: Term, pid: Pid, rt: Runtime): "yes" | "no";
  unregisterName(name: Term, rt: Runtime): Term;
  whereisName(name: Term, rt: Runtime): Pid | "undefined" | undefined;
  send(name: Term, msg: Term, rt: Runtime): Term;
}

const builtins = new Map<string, ViaModule>();

/** Makes a via module known by name (the runtime's own: Registry, global, PartitionSupervisor). */
export function defineViaModule(name: string, mod: ViaModule): void {
  builtins.set(name, mod);
  // On the BEAM an Elixir module's atom is Elixir.Name: {:via, Registry, n} is {via, 'Elixir.Registry', n}.
  if (/^[A-Z]/.test(name)) builtins.set(`Elixir.${name}`, mod);
}

/** Whether `t` is a `["via", Module, Name]` or `["global", Name]` name. */
export function isVia(t: unknown): t is ViaName | GlobalName {
  if (!Array.isArray(t) || t instanceof ErlList) return false;
  return (t.length === 3 && t[0] === "via") || (t.length === 2 && t[0] === "global");
}

/** The module and the name inside a via name; a TypeError that says what a via module needs, otherwise. */
export function viaParts(t: ViaName | GlobalName): [ViaModule, Term] {
  if (t[0] === "global") return [builtins.get("global")!, t[1]];
  const m = t[1];
  if (typeof m === "string") {
    const mod = builtins.get(m);
    if (!mod) throw new TypeError(`${formatTerm(t)}: no via module named "${m}". Use one of ${[...builtins.keys()].map((k) => `"${k}"`).join(", ")}, or pass an object with registerName, unregisterName, whereisName and send.`);
    return [mod, t[2]];
  }
  if (m && typeof m === "object" && ["registerName", "unregisterName", "whereisName", "send"].every((f) => typeof (m as unknown as Record<string, unknown>)[f] === "function")) {
    return [m, t[2]];
  }
  throw new TypeError(`${formatTerm(t)}: a via module must be a built-in's name ("Registry", "global", "PartitionSupervisor") or an object with registerName, unregisterName, whereisName and send.`);
}

/** `whereis_name` through the module: the live pid, or undefined. */
export function whereisVia(rt: Runtime, t: ViaName | GlobalName): Pid | undefined {
  const [mod, name] = viaParts(t);
  const p = mod.whereisName(name, rt);
  return p && p !== "undefined" && p.alive ? p : undefined;
}

/** `register_name` through the module: whether the name was free and is now `pid`'s. */
export function registerVia(rt: Runtime, t: ViaName | GlobalName, pid: Pid): boolean {
  const [mod, name] = viaParts(t);
  return mod.registerName(name, pid, rt) === "yes";
}

// ------------------------------------------------------------------ :global, for one (not distributed) node

const globalTables = new WeakMap<Runtime, Map<string, [Term, Pid]>>();
/** A runtime with several nodes (net.ts) answers `global` per node, through this module instead. */
const distributedGlobal = new WeakMap<Runtime, ViaModule>();

/** Makes `rt`'s `global` names (and `["global", name]` via names) go through `mod` (nodes.ts does, per node). */
export function useGlobalModule(rt: Runtime, mod: ViaModule): void {
  distributedGlobal.set(rt, mod);
}

function globalTable(rt: Runtime): Map<string, [Term, Pid]> {
  let t = globalTables.get(rt);
  if (!t) globalTables.set(rt, (t = new Map()));
  return t;
}

/** Names are terms: keyed by their printed form, which tells atoms, binaries, numbers and tuples apart. */
function key(name: Term): string {
  return formatTerm(name);
}

/**
 * Erlang's `global` name server, on this one node: a name is held until its process dies (global monitors the
 * holder; here a dead holder's name is simply free, which is what every later call observes).
 */
export const globalVia: ViaModule = {
  registerName(name: Term, pid: Pid, rt: Runtime): "yes" | "no" {
    const d = distributedGlobal.get(rt);
    if (d) return d.registerName(name, pid, rt);
    const t = globalTable(rt);
    const held = t.get(key(name));
    if (held && held[1].alive) return "no";
    t.set(key(name), [name, pid]);
    return "yes";
  },
  unregisterName(name: Term, rt: Runtime): "ok" {
    const d = distributedGlobal.get(rt);
    if (d) return d.unregisterName(name, rt) as "ok";
    globalTable(rt).delete(key(name));
    return "ok";
  },
  whereisName(name: Term, rt: Runtime): Pid | "undefined" {
    const d = distributedGlobal.get(rt);
    if (d) return d.whereisName(name, rt) ?? "undefined";
    const held = globalTable(rt).get(key(name));
    return held && held[1].alive ? held[1] : "undefined";
  },
  /** `global:send/2`: the pid it sent to; exits with `{badarg, {Name, Msg}}` when nobody has the name. */
  send(name: Term, msg: Term, rt: Runtime): Pid {
    const p = globalVia.whereisName(name, rt);
    if (!p || p === "undefined") throw new ExitSignal(["badarg", [name, msg]]);
    if (rt.net !== null) rt.send(p, msg); // across nodes, through the network
    else rt.deliver(p, msg);
    return p;
  },
};

defineViaModule("global", globalVia);
