/**
 * `control(sup)`: an interactive control panel for a live supervision tree, made of Jupyter widgets (see
 * `jupyter/model.ts`): the tree redrawn in place, buttons to kill, crash, restart, terminate and delete each
 * process, a strip for virtual time (advance 100 ms / 1 s / 5 s, play/pause in real time) and a log.
 *
 * Re-running the cell that made it gives back the same panel (same widgets, so the chosen crash reason, the
 * log and play/pause survive); a panel for a supervisor that is gone is replaced by a new one that keeps those
 * settings. Front ends without the widgets manager (nbconvert, classic Notebook 6) show the static picture
 * the display carries as well.
 */
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { Pid } from "../runtime/process.js";
import { findPid } from "../runtime/child-actions.js";
import { Button, HBox, HTML, ToggleButton, VBox } from "./jupyter/controls.js";
import { MIME } from "./widget.js";
import { currentRuntimeObject, type PidInput } from "./runtime-object.js";
import { modelsUnder, SupervisorPanel, type PanelSettings, type RowAction } from "./supervisor-panel.js";
import { formatMs } from "./text.js";
import { existingCluster } from "../runtime/nodes.js";
import type { MimeBundle } from "./display-sink.js";

export interface ControlOptions {
  /** Names the panel for re-runs: a later `control` with the same key reuses or replaces it. Default: the supervisor's label. */
  key?: string;
}

/** Virtual time steps of the strip, ms. */
export const TIME_STEPS = [100, 1000, 5000] as const;

/** "100 ms", "1 s", "5 s": how the strip names a step. */
export function stepName(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
/** How often "play" moves virtual time, in wall-clock ms. */
const PLAY_TICK_MS = 100;

interface ControlSettings extends PanelSettings {
  playing: boolean;
}

const byKey = new Map<string, { panel: ControlPanel; settings: ControlSettings }>();

export class ControlPanel {
  readonly panel: SupervisorPanel;
  readonly root: VBox;
  readonly clock: HTML;
  readonly play: ToggleButton;
  readonly steps: Button[];
  /** Split / stop / heal buttons, when the runtime has nodes (net.ts); null on a single node. */
  readonly network: { box: HBox; stops: Map<string, Button> } | null;
  private playTimer: ReturnType<typeof setInterval> | null = null;
  private lastTick = 0;

  constructor(
    sup: Pid,
    private readonly settings: ControlSettings,
  ) {
    this.panel = new SupervisorPanel(sup, settings);
    const virtual = sup.rt.clock.kind === "virtual";
    this.steps = TIME_STEPS.map((ms) => {
      const b = new Button({ description: `+${stepName(ms)}`, tooltip: `advance ${stepName(ms)}`, disabled: !virtual, layout: { width: "auto" } });
      b.onClick(() => this.advance(ms));
      return b;
    });
    this.play = new ToggleButton({ description: "play", tooltip: "play real time", icon: "play", value: false, disabled: !virtual, layout: { width: "auto" } });
    this.play.observe("value", (v) => this.setPlaying(v === true));
    this.clock = new HTML(this.clockHtml());
    const strip = new HBox([...this.steps, this.play, this.clock]);
    this.network = this.networkStrip();
    this.updateNetwork();
    this.root = new VBox(this.network ? [strip, this.network.box, this.panel.box] : [strip, this.panel.box]);
    this.root.onClose(() => this.close());
    if (settings.playing && virtual) this.play.set({ value: true });
    // Redraw the clock whenever the panel redraws.
    this.panel.picture.observe("value", () => this.clock.set({ value: this.clockHtml() }));
  }

  /** The supervisor shown. */
  get supervisor(): Pid {
    return this.panel.supervisor;
  }

  get closed(): boolean {
    return this.panel.closed;
  }

  /** Performs what the button `"<action> <label>"` does, e.g. `act("kill", "a")`. */
  act(action: RowAction, label: string): void | Promise<void> {
    return this.panel.act(action, label);
  }

  /** Moves virtual time by `ms` (what the +100 ms / +1 s / +5 s buttons do) and redraws. */
  advance(ms: number): void {
    const rt = this.panel.runtime;
    try {
      rt.advance(ms);
    } catch (err) {
      this.panel.note(`advance ${formatMs(ms)} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.panel.refresh();
    this.clock.set({ value: this.clockHtml() });
  }

  /**
   * What the network buttons do: `"split b@lab"` cuts b@lab off from every other node, `"stop b@lab"` stops it (its
   * processes die, the others see noconnection) and `"start b@lab"` starts it again, `"heal"` ends the splits.
   */
  networkAct(what: string): void {
    const c = existingCluster(this.panel.runtime);
    const [verb, name] = what.split(" ") as [string, string | undefined];
    try {
      if (!c) throw new Error("the runtime has no nodes");
      if (verb === "heal") c.heal();
      else if (verb === "split" && name) c.netsplit([[name]]);
      else if (verb === "stop" && name) c.stopNode(name);
      else if (verb === "start" && name) c.startNode(name, true);
      else throw new Error(`unknown network action "${what}"`);
      this.panel.note(what);
    } catch (err) {
      this.panel.note(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.panel.refresh();
    this.updateNetwork();
  }

  private networkStrip(): { box: HBox; stops: Map<string, Button> } | null {
    const c = existingCluster(this.panel.runtime);
    if (!c || c.nodes.size < 2) return null;
    const stops = new Map<string, Button>();
    const buttons: Button[] = [];
    for (const n of c.nodes.values()) {
      if (n === c.local) continue;
      const split = new Button({ description: `split ${n.name}`, tooltip: `cut ${n.name} off from the other nodes`, layout: { width: "auto" } });
      split.onClick(() => this.networkAct(`split ${n.name}`));
      const stop = new Button({ description: `stop ${n.name}`, tooltip: `stop node ${n.name}`, layout: { width: "auto" } });
      stop.onClick(() => this.networkAct(`${existingCluster(this.panel.runtime)?.nodes.get(n.name)?.up ? "stop" : "start"} ${n.name}`));
      stops.set(n.name, stop);
      buttons.push(split, stop);
    }
    const heal = new Button({ description: "heal", tooltip: "end the net splits", layout: { width: "auto" } });
    heal.onClick(() => this.networkAct("heal"));
    return { box: new HBox([...buttons, heal]), stops };
  }

  /** A stopped node's button says "start". */
  private updateNetwork(): void {
    const c = existingCluster(this.panel.runtime);
    if (!c || !this.network) return;
    for (const [name, b] of this.network.stops) {
      const up = c.nodes.get(name)?.up ?? false;
      b.set({ description: `${up ? "stop" : "start"} ${name}`, tooltip: `${up ? "stop" : "start"} node ${name}` });
    }
  }

  /** Closes every widget of the panel and stops playing. */
  close(): void {
    this.stopTimer();
    const all = modelsUnder(this.root).reverse();
    this.panel.close();
    for (const m of all) m.close();
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    const d = this.panel.diagram;
    return this.root.viewBundle({ [MIME.svg]: d.svg, [MIME.png]: d.png, [MIME.text]: this.toString() });
  }

  toString(): string {
    return `control panel of ${this.supervisor.label}${this.closed ? " (closed)" : ""}\n${this.panel.diagram.text}`;
  }

  private setPlaying(on: boolean): void {
    this.settings.playing = on;
    this.play.set({ description: on ? "pause" : "play", icon: on ? "pause" : "play", tooltip: on ? "pause real time" : "play real time" });
    if (!on) return this.stopTimer();
    if (this.playTimer) return;
    this.lastTick = performance.now();
    this.playTimer = setInterval(() => {
      const now = performance.now();
      const ms = Math.round(now - this.lastTick);
      this.lastTick = now;
      // A cell may be inside the runtime (a process running): skip the tick, time catches up at the next.
      if (ms > 0 && !this.panel.runtime.current) this.advance(ms);
    }, PLAY_TICK_MS);
    this.playTimer.unref?.();
  }

  private stopTimer(): void {
    if (this.playTimer) clearInterval(this.playTimer);
    this.playTimer = null;
  }

  private clockHtml(): string {
    const rt = this.panel.runtime;
    return `<span style="font-family:monospace">t = ${formatMs(rt.now())}${rt.clock.kind === "real" ? " (real clock)" : ""}</span>`;
  }
}

/**
 * An interactive panel for a live supervision tree: the tree redrawn in place; for each process buttons to kill
 * it or crash it (exit reason chosen in a dropdown: `error`, `normal`, `shutdown`, `kill`) and, for a child of a
 * supervisor, to restart, terminate or delete it; buttons that move virtual time (+100 ms, +1 s, +5 s) and
 * play/pause it in real time; when the runtime has nodes, buttons that split a node away, stop or start it, and
 * heal the network; a log of the last restarts and reports. A button's tooltip says what it does:
 * `"kill a"`, `"restart a"`, `"advance 1 s"`.
 *
 * `sup` is a supervisor's Pid or registered name. Needs a front end with Jupyter widgets (JupyterLab, VS Code);
 * elsewhere the tree is shown as a picture. Re-running the cell keeps the panel and its settings.
 *
 * @example control(sup)
 */
export function control(sup: PidInput, options: ControlOptions = {}): ControlPanel {
  const rt = currentRuntimeObject("control");
  const pid = findPid(rt, sup);
  if (!pid || !pid.alive) {
    throw new Error(`control: ${String(sup)} is not a live process; pass a supervisor's Pid or registered name, e.g. control(sup) after const [, sup] = await Supervisor.startLink(...)`);
  }
  const key = options.key ?? (typeof sup === "string" ? sup : pid.label);
  const old = byKey.get(key);
  if (old && !old.panel.closed && old.panel.supervisor === pid) {
    old.panel.panel.refresh();
    return old.panel;
  }
  const settings: ControlSettings = old?.settings ?? { reason: "error", log: [], playing: false };
  old?.panel.close();
  const panel = new ControlPanel(pid, settings);
  byKey.set(key, { panel, settings });
  return panel;
}
