/**
 * `strategyLab(children)`: the same children under the restart strategy chosen in a dropdown (`one_for_one`,
 * `one_for_all`, `rest_for_one`), a new supervisor started at each change, with the panel's crash buttons and
 * log, so a class can crash the same child under each strategy and compare what restarts.
 *
 * Re-running its cell replaces the lab (the children given may have changed) and keeps the chosen strategy,
 * crash reason and log.
 */
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { Pid } from "../runtime/process.js";
import type { Strategy } from "../runtime/observe.js";
import { Supervisor } from "../runtime/supervisor.js";
import { runOp } from "../runtime/child-actions.js";
import { Dropdown, HBox, VBox } from "./jupyter/controls.js";
import { MIME } from "./widget.js";
import { currentRuntimeObject } from "./runtime-object.js";
import { modelsUnder, SupervisorPanel, type PanelSettings, type RowAction } from "./supervisor-panel.js";
import type { MimeBundle } from "./display-sink.js";

export const STRATEGIES: readonly Strategy[] = ["one_for_one", "one_for_all", "rest_for_one"];

export interface StrategyLabOptions {
  /** The first strategy (default `one_for_one`, or the one chosen before the cell was re-run). */
  strategy?: Strategy;
  /** Restart intensity and period of each supervisor (Elixir's defaults: 3 in 5 s). */
  intensity?: number;
  period?: number;
  /** Names the lab for re-runs. Default: the children's ids. */
  key?: string;
}

interface LabSettings extends PanelSettings {
  strategy: Strategy;
}

const byKey = new Map<string, { lab: StrategyLab; settings: LabSettings }>();

export class StrategyLab {
  readonly strategy: Dropdown;
  readonly root: VBox;
  private panel: SupervisorPanel;

  constructor(
    private readonly children: unknown[],
    private readonly settings: LabSettings,
    private readonly options: StrategyLabOptions,
  ) {
    const sup = this.start(settings.strategy);
    this.panel = new SupervisorPanel(sup, settings);
    this.strategy = new Dropdown({ options: [...STRATEGIES], value: settings.strategy, description: "strategy", tooltip: "restart strategy of the supervisor", style: { description_width: "initial" } });
    this.strategy.onChange((v) => {
      if (v && v !== this.settings.strategy) this.choose(v as Strategy);
    });
    this.root = new VBox([new HBox([this.strategy]), this.panel.box]);
    this.root.onClose(() => this.close());
  }

  /** The supervisor running now. */
  get supervisor(): Pid {
    return this.panel.supervisor;
  }

  get closed(): boolean {
    return this.panel.closed;
  }

  /** Stops the supervisor and starts the children again under `strategy` (what the dropdown does). */
  choose(strategy: Strategy): void {
    if (!STRATEGIES.includes(strategy)) throw new Error(`strategyLab: unknown strategy ${JSON.stringify(strategy)}; use one of ${STRATEGIES.join(", ")}`);
    this.settings.strategy = strategy;
    if (this.strategy.value !== strategy) this.strategy.value = strategy;
    this.stopSupervisor();
    const sup = this.start(strategy);
    this.panel.note(`strategy ${strategy}: supervisor ${sup.label} started`);
    this.panel.setSupervisor(sup);
  }

  /** Performs what the button `"<action> <label>"` does, e.g. `act("crash", "a")`. */
  act(action: RowAction, label: string): void | Promise<void> {
    return this.panel.act(action, label);
  }

  /** Closes the widgets and stops the lab's supervisor. */
  close(): void {
    if (this.panel.closed) return;
    const all = modelsUnder(this.root).reverse();
    this.panel.close();
    for (const m of all) m.close();
    this.stopSupervisor();
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    const d = this.panel.diagram;
    return this.root.viewBundle({ [MIME.svg]: d.svg, [MIME.png]: d.png, [MIME.text]: this.toString() });
  }

  toString(): string {
    return `strategy lab (${this.settings.strategy}), supervisor ${this.supervisor.label}${this.closed ? " (closed)" : ""}\n${this.panel.diagram.text}`;
  }

  private start(strategy: Strategy): Pid {
    const rt = currentRuntimeObject("strategyLab");
    if (rt.clock.kind !== "virtual") {
      throw new Error("strategyLab needs the virtual clock to restart its supervisor at once; call resetRuntime({ clock: \"virtual\" }) first");
    }
    const r = runOp(rt, Supervisor.start(this.children, { strategy, intensity: this.options.intensity, period: this.options.period })) as unknown[];
    if (!Array.isArray(r) || r[0] !== "ok") {
      throw new Error(`strategyLab: the supervisor did not start (${JSON.stringify(r)}); check the child specs, e.g. [{ id: "a", start: () => GenServer.startLink(Counter, 0) }]`);
    }
    return r[1] as Pid;
  }

  private stopSupervisor(): void {
    const sup = this.panel?.supervisor;
    if (!sup || !sup.alive) return;
    try {
      runOp(sup.rt, Supervisor.stop(sup, "shutdown"));
    } catch {
      // Already stopping (it gave up after too many restarts): nothing to stop.
    }
  }
}

/**
 * A teaching aid for restart strategies: starts `children` (child specs, as for `Supervisor.startLink`) under
 * the strategy chosen in a dropdown (`one_for_one`, `one_for_all`, `rest_for_one`), a fresh supervisor at each
 * change, with buttons to kill or crash each child (tooltips `"kill a"`, `"crash a"`) and a log of what
 * restarted. Needs a front end with Jupyter widgets; elsewhere the tree is shown as a picture.
 *
 * @example strategyLab([{ id: "a", start: () => GenServer.startLink(Counter, 0) }, { id: "b", start: () => GenServer.startLink(Counter, 0) }])
 */
export function strategyLab(children: unknown[], options: StrategyLabOptions = {}): StrategyLab {
  if (!Array.isArray(children) || children.length === 0) {
    throw new Error("strategyLab: pass a non-empty list of child specs, e.g. strategyLab([{ id: \"a\", start: () => GenServer.startLink(Counter, 0) }])");
  }
  const key = options.key ?? children.map((c) => String((c as { id?: unknown })?.id ?? (c as { name?: unknown })?.name ?? "?")).join(",");
  const old = byKey.get(key);
  const settings: LabSettings = old?.settings ?? { strategy: options.strategy ?? "one_for_one", reason: "error", log: [] };
  if (options.strategy && !old) settings.strategy = options.strategy;
  old?.lab.close();
  const lab = new StrategyLab(children, settings, options);
  byKey.set(key, { lab, settings });
  return lab;
}
