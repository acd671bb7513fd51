/**
 * Child specifications and supervisor flags: defaults and validation, as `supervisor:check_childspec/2` and
 * `check_flags/1` do it (R31–R34). Every failure is a precise tagged reason, e.g. `["invalid_intensity", -1]`.
 *
 * Defaults (R31, R33):
 * - flags, OTP's `?default_flags`: strategy one_for_one, intensity 1, period 5, autoShutdown never. The
 *   Elixir-style list form `Supervisor.startLink(children, opts)` uses Elixir's 3 / 5 instead (see supervisor.ts).
 * - child: restart permanent, type worker, significant false, shutdown 5000 for a worker and infinity for a
 *   supervisor, modules = [the module of `start`] (for a start function, which names no module: the module
 *   of the process it started, see `modulesOf`).
 */

import { Module } from "./code.js";
import type { Pid } from "./process.js";
import type { Op } from "./op.js";
import type { Blocking } from "./process.js";
import { list, type Term } from "./terms.js";
import type { RestartType, Strategy } from "./observe.js";

export type Shutdown = number | "infinity" | "brutal_kill";
export type AutoShutdown = "never" | "any_significant" | "all_significant";
export type ChildType = "worker" | "supervisor";

/** What a start function may return (or resolve to, when it blocks). */
export type StartReturn = ["ok", Pid] | ["ok", Pid, Term] | "ignore" | ["error", Term] | Term;

/** `start`: a function (called inside the supervisor, may return an `Op`), or OTP's `[Module, "function", args]`. */
export type StartFn = ((...extra: any[]) => StartReturn | Op<StartReturn> | Blocking<StartReturn>) | [Module | string, string, Term[]];

export interface ChildSpec {
  id: Term;
  start: StartFn;
  restart?: RestartType;
  shutdown?: Shutdown;
  type?: ChildType;
  significant?: boolean;
  modules?: Term[] | "dynamic";
}

export interface SupFlags {
  strategy?: Strategy;
  intensity?: number;
  period?: number;
  autoShutdown?: AutoShutdown;
  /** Elixir spelling of `intensity`. */
  maxRestarts?: number;
  /** Elixir spelling of `period`. */
  maxSeconds?: number;
}

export interface CheckedFlags {
  strategy: Strategy;
  intensity: number;
  period: number;
  autoShutdown: AutoShutdown;
}

/** A child as the supervisor keeps it (OTP's `#child{}`). `pid` is a Pid, null (undefined) or Restarting. */
export interface Child {
  id: Term;
  start: StartFn;
  restart: RestartType;
  shutdown: Shutdown;
  type: ChildType;
  significant: boolean;
  /** As given, or null: the default, `[Module]` (`modulesOf`). */
  modules: Term[] | "dynamic" | null;
  pid: Pid | null | Restarting;
  /** How often the supervisor restarted this child (for pictures; OTP keeps no such count). */
  restarts: number;
  lastExit?: Term;
}

/** `{restarting, OldPid}`: a child whose restart failed and will be retried (R52). */
export class Restarting {
  constructor(readonly old: Pid | null) {}
  toString(): string {
    return `{:restarting, ${this.old ? this.old.toString() : ":undefined"}}`;
  }
}

/**
 * OTP 25's raw `#child{}` record, which `start_child` returns inside start errors (R68). It is shown as such:
 * the surprise is part of what learners should see.
 */
export class ChildRecord {
  constructor(readonly child: Child) {}
  toString(): string {
    return `#child{id: ${String(this.child.id)}}`;
  }
}

export const DEFAULT_FLAGS: CheckedFlags = { strategy: "one_for_one", intensity: 1, period: 5, autoShutdown: "never" };

class SpecError {
  constructor(readonly reason: Term) {}
}

function fail(reason: Term): never {
  throw new SpecError(reason);
}

/** Validated flags, or `{error-term}` on failure (R32). */
export function checkFlags(flags: unknown, defaults: CheckedFlags = DEFAULT_FLAGS): CheckedFlags | { error: Term } {
  try {
    let f: Record<string, unknown>;
    if (Array.isArray(flags) && flags.length === 3) f = { strategy: flags[0], intensity: flags[1], period: flags[2] };
    else if (flags && typeof flags === "object" && !Array.isArray(flags)) f = flags as Record<string, unknown>;
    else return { error: ["invalid_type", flags] };
    const strategy = f.strategy ?? defaults.strategy;
    const intensity = f.intensity ?? f.maxRestarts ?? defaults.intensity;
    const period = f.period ?? f.maxSeconds ?? defaults.period;
    const autoShutdown = f.autoShutdown ?? f.auto_shutdown ?? defaults.autoShutdown;
    if (strategy !== "one_for_one" && strategy !== "one_for_all" && strategy !== "rest_for_one") fail(["invalid_strategy", strategy]);
    if (!Number.isInteger(intensity) || (intensity as number) < 0) fail(["invalid_intensity", intensity]);
    if (!Number.isInteger(period) || (period as number) <= 0) fail(["invalid_period", period]);
    if (autoShutdown !== "never" && autoShutdown !== "any_significant" && autoShutdown !== "all_significant") fail(["invalid_auto_shutdown", autoShutdown]);
    return { strategy, intensity: intensity as number, period: period as number, autoShutdown } as CheckedFlags;
  } catch (e) {
    if (e instanceof SpecError) return { error: e.reason };
    throw e;
  }
}

/** Turns the Elixir shorthands (a module, `[module, arg]`) into a full spec; other values pass through. */
export function normalizeSpec(spec: unknown, startOf: (m: Module, arg: Term) => StartFn): unknown {
  if (spec instanceof Module) return moduleSpec(spec, undefined, startOf);
  if (Array.isArray(spec) && spec.length === 2 && spec[0] instanceof Module) return moduleSpec(spec[0], spec[1], startOf);
  return spec;
}

function moduleSpec(m: Module, arg: Term, startOf: (m: Module, arg: Term) => StartFn): unknown {
  const custom = (m.callbacks as { childSpec?: (arg: Term) => unknown }).childSpec;
  if (typeof custom === "function") return custom.call(m.callbacks, arg);
  return { id: m.name, start: startOf(m, arg), modules: [m.name] };
}

/** `check_childspec/2`: a `Child` or a tagged error (R33, R34). */
export function checkChildSpec(spec: unknown, autoShutdown: AutoShutdown | undefined): Child | { error: Term } {
  try {
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) fail(["invalid_child_spec", spec]);
    const s = spec as Record<string, unknown>;
    if (!("id" in s) || s.id === undefined) fail("missing_id");
    if (!("start" in s) || s.start === undefined) fail("missing_start");
    const start = s.start;
    const validMfa = Array.isArray(start) && start.length === 3 && (start[0] instanceof Module || typeof start[0] === "string") && typeof start[1] === "string" && Array.isArray(start[2]);
    if (typeof start !== "function" && !validMfa) fail(["invalid_mfa", start]);
    const restart = s.restart ?? "permanent";
    if (restart !== "permanent" && restart !== "transient" && restart !== "temporary") fail(["invalid_restart_type", restart]);
    const significant = s.significant ?? false;
    if (significant === true) {
      // OTP reports the offending settings as a property list: `{bad_combination, [{auto_shutdown, never}, ...]}`.
      if (autoShutdown === "never") fail(["bad_combination", list<Term>(["auto_shutdown", "never"], ["significant", true])]);
      if (restart === "permanent") fail(["bad_combination", list<Term>(["restart", "permanent"], ["significant", true])]);
    } else if (significant !== false) {
      fail(["invalid_significant", significant]);
    }
    const type = s.type ?? "worker";
    if (type !== "worker" && type !== "supervisor") fail(["invalid_child_type", type]);
    const shutdown = s.shutdown ?? (type === "worker" ? 5000 : "infinity");
    if (!(shutdown === "infinity" || shutdown === "brutal_kill" || (Number.isInteger(shutdown) && (shutdown as number) >= 0))) fail(["invalid_shutdown", shutdown]);
    const modules = s.modules ?? defaultModules(start as StartFn);
    if (modules !== null && modules !== "dynamic" && !Array.isArray(modules)) fail(["invalid_modules", modules]);
    return {
      id: s.id,
      start: start as StartFn,
      restart,
      shutdown: shutdown as Shutdown,
      type,
      significant: significant as boolean,
      modules: modules as Term[] | "dynamic" | null,
      pid: null,
      restarts: 0,
    } as Child;
  } catch (e) {
    if (e instanceof SpecError) return { error: e.reason };
    throw e;
  }
}

/** `[Module]` of an `[Module, "function", args]` start; null for a start function (decided by `modulesOf`). */
export function defaultModules(start: StartFn): Term[] | null {
  if (Array.isArray(start)) return [start[0] instanceof Module ? start[0].name : start[0]];
  return null;
}

/**
 * A child's `modules`, as `which_children` and `get_childspec` report them. OTP's default is `[M]` for a start
 * `{M, F, A}` (Elixir's child specs leave it to that default); a start function names no module, so the
 * default is the module of the process it started (a GenServer's callback module), or `[]` while none runs.
 */
export function modulesOf(modules: Term[] | "dynamic" | null, pid: unknown): Term[] | "dynamic" {
  if (modules !== null) return modules;
  const mod = (pid as { data?: { mod?: unknown } } | null)?.data?.mod;
  return mod instanceof Module ? [mod.name] : [];
}

/** The map `get_childspec` returns, defaults filled in (R71). */
export function childToSpec(c: Child): ChildSpec {
  return { id: c.id, start: c.start, restart: c.restart, shutdown: c.shutdown, type: c.type, significant: c.significant, modules: modulesOf(c.modules, c.pid) };
}
