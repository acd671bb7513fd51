/**
 * Fault injection: kill a process from outside, make it crash from inside, slow its message handling down, and
 * a seeded chaos monkey that kills random workers at a steady rate, reproducibly (same seed and virtual clock,
 * same victims at the same times).
 */

import { Pid } from "./process.js";
import type { Runtime } from "./runtime.js";
import { CRASH, type GenServerData } from "./gen_server.js";
import { supervisorState } from "./supervisor.js";
import { dynamicState } from "./dynamic_supervisor.js";
import type { Term } from "./terms.js";
import { activeRuntime } from "./processes.js";
import type { Timer } from "./clock.js";

/** `Process.exit(pid, reason)` from outside; the default `kill` is untrappable and reads `killed` (R4). */
export function kill(pid: Pid, reason: Term = "kill"): true {
  pid.rt.signal(pid, pid.rt.caller(), reason, "exit");
  return true;
}

/**
 * Makes `pid` fail from the inside with `reason`, as if its code returned `{stop, Reason, State}` (GenServer:
 * terminate/2 runs) or raised (plain process). The crash happens when the process handles it, in order with
 * its other messages.
 */
export function crash(pid: Pid, reason: Term = "boom"): true {
  const d = pid.data as GenServerData | null;
  if (d && typeof d === "object" && "mod" in d) pid.rt.deliver(pid, [CRASH, reason]);
  else pid.rt.die(pid, reason);
  return true;
}

/** Every later message to the GenServer `pid` waits `ms` (runtime clock) before it is handled; 0 removes it. */
export function injectDelay(pid: Pid, ms: number): true {
  const d = pid.data as GenServerData | null;
  if (!d || typeof d !== "object" || !("mod" in d)) {
    throw new TypeError(`injectDelay: ${pid} is not a GenServer-based process; delays apply to GenServer message handling.`);
  }
  d.delay = ms > 0 ? ms : undefined;
  return true;
}

/** mulberry32: a small, fast, seedable PRNG (the same seed always gives the same sequence). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChaosOptions {
  /** Seed of the victim choice (default 1). */
  seed?: number;
  /** Kills per second of runtime time (default 1). */
  rate?: number;
  /** Exit reason sent to victims (default "kill"). */
  reason?: Term;
  /** Stop after this many kills (default unlimited). */
  maxKills?: number;
  /** Only kill workers whose child id passes this filter. */
  filter?: (id: string) => boolean;
}

export interface ChaosKill {
  t: number;
  pid: string;
  id: string;
}

/** Kills random live workers under a supervision tree at a fixed rate. */
export class ChaosMonkey {
  readonly kills: ChaosKill[] = [];
  private timer: Timer | null = null;
  private readonly random: () => number;
  private readonly rt: Runtime;

  constructor(
    private readonly root: Pid,
    private readonly opts: ChaosOptions = {},
  ) {
    this.rt = root.rt;
    this.random = seededRandom(opts.seed ?? 1);
  }

  /** Live workers under the tree (supervisors are not victims: real chaos tools target workers). */
  workers(): Array<{ pid: Pid; id: string }> {
    const out: Array<{ pid: Pid; id: string }> = [];
    const walk = (sup: Pid) => {
      const st = supervisorState(sup);
      if (st) {
        for (const c of st.children.slice().reverse()) {
          if (!(c.pid instanceof Pid) || !c.pid.alive) continue;
          if (c.type === "supervisor") walk(c.pid);
          else out.push({ pid: c.pid, id: String(c.id) });
        }
        return;
      }
      const dyn = dynamicState(sup);
      if (dyn) {
        for (const [pid, e] of dyn.children) {
          if ("restarting" in e || !pid.alive) continue;
          if (e.type === "supervisor") walk(pid);
          else out.push({ pid, id: String(e.id) });
        }
      }
    };
    walk(this.root);
    return this.opts.filter ? out.filter((w) => this.opts.filter!(w.id)) : out;
  }

  start(): this {
    if (this.timer) return this;
    const interval = 1000 / (this.opts.rate ?? 1);
    const tick = () => {
      this.timer = null;
      if (!this.root.alive) return;
      const ws = this.workers();
      if (ws.length > 0) {
        const victim = ws[Math.floor(this.random() * ws.length)];
        this.kills.push({ t: this.rt.now(), pid: victim.pid.label, id: victim.id });
        this.rt.signal(victim.pid, null, this.opts.reason ?? "kill", "exit");
      }
      if (this.opts.maxKills !== undefined && this.kills.length >= this.opts.maxKills) return;
      this.timer = this.rt.after(interval, tick);
    };
    this.timer = this.rt.after(interval, tick);
    return this;
  }

  stop(): this {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
    return this;
  }
}

/** Starts a chaos monkey on the tree under `root`. @example const monkey = chaos(sup, { seed: 42, rate: 2 }) */
export function chaos(root: Pid | string, opts: ChaosOptions = {}): ChaosMonkey {
  const rt = activeRuntime();
  const p = typeof root === "string" ? rt.whereis(root) : root;
  if (!p) throw new Error(`chaos: no live supervisor '${String(root)}'.`);
  return new ChaosMonkey(p, opts).start();
}
