/**
 * Metrics: periodic samples of every process's memory, mailbox length and work counter, on the runtime clock,
 * so charts of a virtual-time lesson are identical on every run. Renders as memory and mailbox charts.
 *
 * @example const m = metrics({ root: sup, everyMs: 100 }); advance(2000); m.stop(); m   // shows the charts
 */

import { Pid } from "./process.js";
import type { Runtime } from "./runtime.js";
import { activeRuntime } from "./processes.js";
import { processInfo } from "./introspect.js";
import { childMeta, supervisorState } from "./supervisor.js";
import { dynamicState } from "./dynamic_supervisor.js";
import type { Timer } from "./clock.js";
import type { MetricSample } from "./observe.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";

export interface MetricsOptions {
  /** Only processes in the tree under this supervisor (default: every process). */
  root?: Pid | string;
  /** Sampling interval on the runtime clock (default 100 ms). */
  everyMs?: number;
  /** Samples kept (oldest dropped first; default 50,000). */
  capacity?: number;
}

export class Metrics {
  readonly samples: MetricSample[] = [];
  private timer: Timer | null = null;
  private readonly root: Pid | null;

  constructor(
    private readonly rt: Runtime,
    private readonly opts: MetricsOptions = {},
  ) {
    const r = opts.root;
    this.root = r === undefined ? null : typeof r === "string" ? (rt.whereis(r) ?? null) : r;
    if (r !== undefined && !this.root) throw new Error(`metrics: no live process named '${String(r)}'.`);
  }

  /** Processes sampled now: the tree under root, or all (without the shell and drivers). */
  private targets(): Pid[] {
    if (!this.root) return this.rt.processes().filter((p) => p !== this.rt.shell && !p.driver);
    const out: Pid[] = [];
    const walk = (p: Pid) => {
      if (!p.alive) return;
      out.push(p);
      const st = supervisorState(p);
      if (st) for (const c of st.children.slice().reverse()) if (c.pid instanceof Pid) walk(c.pid);
      const dyn = dynamicState(p);
      if (dyn) for (const pid of dyn.children.keys()) walk(pid);
    };
    walk(this.root);
    return out;
  }

  /** Takes one sample of every target process now. */
  sample(): this {
    const t = this.rt.now();
    for (const p of this.targets()) {
      const info = processInfo(this.rt, p);
      const id = childMeta.get(p)?.id;
      this.samples.push({ t, pid: info.pid, name: p.name ?? (id !== undefined ? String(id) : info.pid), memory: info.memory, mailbox: info.mailbox, reductions: info.reductions });
    }
    const cap = this.opts.capacity ?? 50_000;
    if (this.samples.length > cap) this.samples.splice(0, this.samples.length - cap);
    return this;
  }

  start(): this {
    if (this.timer) return this;
    const every = this.opts.everyMs ?? 100;
    const tick = () => {
      this.sample();
      this.timer = this.rt.after(every, tick);
    };
    tick();
    return this;
  }

  stop(): this {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
    return this;
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return renderAs("metrics", this, () => `${this.samples.length} samples of ${new Set(this.samples.map((s) => s.pid)).size} processes`);
  }
}

/** Starts sampling metrics on the active runtime. */
export function metrics(opts: MetricsOptions = {}): Metrics {
  return new Metrics(activeRuntime(), opts).start();
}
