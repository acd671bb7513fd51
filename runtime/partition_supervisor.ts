/**
 * PartitionSupervisor (Elixir 1.14 `partition_supervisor.ex`), R78–R79.
 *
 * An ordinary supervisor with one child per partition: ids `0..N-1`, each started from the same child spec
 * with `withArguments(args, partition)`. Routing by key, as Elixir's `partition/2`: an integer key goes to
 * partition `rem(abs(key), N)`; any other key to `:erlang.phash2(key, N)` (R79), computed bit for bit as the BEAM
 * does (phash2.ts), so a key lands in the same partition here as on the BEAM (atoms are strings, binaries `Bin`).
 * Defaults: partitions = 2 (our "schedulers online"), strategy one_for_one, max_restarts 3, max_seconds 5.
 */

import { Pid } from "./process.js";
import { Module } from "./code.js";
import { Supervisor } from "./supervisor.js";
import { supervisorState } from "./supervisor.js";
import type { Op } from "./op.js";
import { GenServer, type StartResult, type StartOptions } from "./gen_server.js";
import { DynamicSupervisor, type DynamicOptions } from "./dynamic_supervisor.js";
import { activeRuntime } from "./processes.js";

import { phash2 } from "./phash2.js";
import { defineViaModule } from "./via.js";
import { formatTerm, type Term } from "./terms.js";
import type { Strategy } from "./observe.js";

export interface PartitionOptions {
  name: string;
  /**
   * What each partition runs: a GenServer module (started with `GenServer.startLink(module, args)`) or
   * `[module, args]`; or `DynamicSupervisor` / `[DynamicSupervisor, options]`, Elixir's usual
   * `child_spec: DynamicSupervisor`, which spreads the starting of children over N supervisors.
   */
  childSpec: Module | [Module, Term] | typeof DynamicSupervisor | [typeof DynamicSupervisor, DynamicOptions];
  partitions?: number;
  withArguments?: (args: Term, partition: number) => Term;
  strategy?: Strategy;
  maxRestarts?: number;
  maxSeconds?: number;
}

const partitionCount = new Map<string, number>();

export const PartitionSupervisor = {
  startLink(opts: PartitionOptions, startOpts: StartOptions = {}): Op<StartResult> {
    if (!opts || typeof opts.name !== "string") throw new TypeError("PartitionSupervisor.startLink: the :name option is required (ArgumentError in Elixir).");
    if (!opts.childSpec) throw new TypeError("PartitionSupervisor.startLink: the :child_spec option is required (ArgumentError in Elixir).");
    const n = opts.partitions ?? 2;
    if (!Number.isInteger(n) || n < 1) throw new TypeError(`PartitionSupervisor.startLink: :partitions must be a positive integer, got ${String(n)}.`);
    const spec = opts.childSpec;
    const [mod, args]: [Module | typeof DynamicSupervisor, Term] = Array.isArray(spec) ? spec : [spec, undefined];
    const withArgs = opts.withArguments ?? ((a: Term) => a);
    const children = Array.from({ length: n }, (_, p) =>
      mod === DynamicSupervisor
        ? // DynamicSupervisor.child_spec/1: a supervisor child that is given all the time it needs to stop.
          { id: p, type: "supervisor" as const, shutdown: "infinity" as const, start: () => DynamicSupervisor.startLink((withArgs(args as Term, p) ?? {}) as DynamicOptions) }
        : { id: p, start: () => GenServer.startLink(mod as Module, withArgs(args as Term, p)) },
    );
    partitionCount.set(opts.name, n);
    return Supervisor.startLink(children, { strategy: opts.strategy ?? "one_for_one", maxRestarts: opts.maxRestarts ?? 3, maxSeconds: opts.maxSeconds ?? 5, name: opts.name, ...startOpts });
  },

  /** The partition a key routes to. */
  partitionOf(name: string, key: Term): number {
    const n = partitionCount.get(name);
    if (!n) throw new Error(`PartitionSupervisor '${name}' is not running.`);
    if (typeof key === "number" && Number.isInteger(key)) return Math.abs(key) % n;
    return phash2(key, n);
  },

  /** The pid serving `key` (`{:via, PartitionSupervisor, {name, key}}`); the dead pid until a restart (R78). */
  whereisName(name: string, key: Term): Pid | undefined {
    const rt = activeRuntime();
    const sup = rt.whereis(name);
    const st = sup && supervisorState(sup);
    if (!st) return undefined;
    const p = PartitionSupervisor.partitionOf(name, key);
    const c = st.children.find((x) => x.id === p);
    return c && c.pid instanceof Pid ? c.pid : undefined;
  },

  partitions(name: string): number {
    const n = partitionCount.get(name);
    if (!n) throw new Error(`PartitionSupervisor '${name}' is not running.`);
    return n;
  },
};

/** `{:via, PartitionSupervisor, {name, key}}`: the name inside is `[name, key]`; only lookups and sends. */
function nameKey(name: Term): [string, Term] {
  if (!Array.isArray(name) || name.length !== 2 || typeof name[0] !== "string") {
    throw new TypeError(`["via", "PartitionSupervisor", name]: the name must be [partitionSupervisorName, key]; got ${formatTerm(name)}.`);
  }
  return name as [string, Term];
}

defineViaModule("PartitionSupervisor", {
  registerName(name) {
    // Elixir: PartitionSupervisor.register_name/2 raises, its children are started by the partition supervisor.
    throw new TypeError(`${formatTerm(name)}: a PartitionSupervisor name cannot be registered; its partitions are started by PartitionSupervisor.startLink.`);
  },
  unregisterName(name) {
    throw new TypeError(`${formatTerm(name)}: a PartitionSupervisor name cannot be unregistered.`);
  },
  whereisName: (name) => PartitionSupervisor.whereisName(...nameKey(name)),
  send(name, msg) {
    const p = PartitionSupervisor.whereisName(...nameKey(name));
    if (p) p.rt.deliver(p, msg);
    return msg;
  },
});
