/**
 * The part `control(sup)` and `strategyLab(children)` share: a supervision tree drawn live in an HTML widget,
 * one row of buttons per process (kill, crash with the reason chosen in a dropdown, and for a supervisor's
 * children restart, terminate, delete), and a log of the last restarts and reports.
 *
 * Every action button's tooltip is "<action> <label>" (`"kill a"`), the label being the child id, else the
 * registered name, else the pid, so people and tests can find it. Rows are keyed by label: a restarted child
 * keeps its buttons, and a click acts on whatever process has that label at that moment.
 *
 * After an action the runtime is settled at once (as the kernel does after a cell) and the picture, rows and log
 * are redrawn before the handler returns, so a front end sees the result in the replies to its click. Between
 * actions, runtime events only mark the panel dirty; a wall-clock timer redraws at most 10 times a second.
 */
import { Pid } from "../runtime/process.js";
import type { Runtime } from "../runtime/runtime.js";
import { snapshot as introspectSnapshot } from "../runtime/introspect.js";
import type { RuntimeEvent, TreeNode, TreeSnapshot } from "../runtime/observe.js";
import { kill, crash } from "../runtime/faults.js";
import { CRASH_REASONS, crashReason, deleteChildNow, findPid, restartChildNow, terminateChildNow, type Eventually } from "../runtime/child-actions.js";
import { Button, Dropdown, HBox, HTML, VBox } from "./jupyter/controls.js";
import type { WidgetModel } from "./jupyter/model.js";
import { escapeXml, formatMs } from "./text.js";
import { treeDiagram, type TreeDiagram } from "./tree-diagram.js";

/** What survives re-running the cell that made a panel. */
export interface PanelSettings {
  reason: string;
  log: string[];
}

export const LOG_LINES = 12;
/** Processes that get a row of buttons; the others are counted in a note. */
export const MAX_ROWS = 40;
const REDRAW_MS = 100;

export type RowAction = "kill" | "crash" | "restart" | "terminate" | "delete";

interface Entry {
  key: string;
  label: string;
  node: TreeNode;
  parent: TreeNode | null;
  depth: number;
}

interface Row {
  entry: Entry;
  box: HBox;
  title: HTML;
  buttons: Map<RowAction, Button>;
}

function flatten(node: TreeNode, parent: TreeNode | null, depth: number, path: string, out: Entry[]): void {
  const key = `${path}/${node.id}`;
  out.push({ key, label: node.id || node.pid || "?", node, parent, depth });
  for (const c of node.children ?? []) flatten(c, node, depth + 1, key, out);
}

export class SupervisorPanel {
  readonly box: VBox;
  readonly picture: HTML;
  readonly reason: Dropdown;
  readonly log: HTML;
  private readonly rowsBox: VBox;
  /** The note under the rows when some processes have none. */
  private readonly more = new HTML("");
  private readonly rows = new Map<string, Row>();
  private sup: Pid;
  private unsubscribe: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last: TreeSnapshot | null = null;
  private lastDiagram: TreeDiagram | null = null;
  private isClosed = false;

  constructor(sup: Pid, readonly settings: PanelSettings) {
    this.sup = sup;
    const snap = this.takeSnapshot();
    this.picture = new HTML(this.pictureHtml(snap));
    this.reason = new Dropdown({
      options: [...CRASH_REASONS],
      value: (CRASH_REASONS as readonly string[]).includes(settings.reason) ? settings.reason : "error",
      description: "crash reason",
      tooltip: "exit reason of the crash buttons",
      style: { description_width: "initial" },
    });
    this.reason.onChange((v) => (this.settings.reason = v ?? "error"));
    this.rowsBox = new VBox([]);
    this.log = new HTML(this.logHtml());
    this.box = new VBox([this.picture, new HBox([this.reason]), this.rowsBox, this.log]);
    this.syncRows(snap);
    this.follow();
    this.box.onClose(() => this.close());
  }

  get runtime(): Runtime {
    return this.sup.rt;
  }

  get supervisor(): Pid {
    return this.sup;
  }

  /** The tree as last drawn (for the static fallback of a display). */
  get diagram(): TreeDiagram {
    return (this.lastDiagram ??= treeDiagram(this.takeSnapshot()));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Watch another supervisor (strategyLab after a change of strategy). */
  setSupervisor(sup: Pid): void {
    this.sup = sup;
    this.unsubscribe?.();
    this.follow();
    this.refresh();
  }

  /** Adds a line to the log (shown at the next redraw). */
  note(line: string): void {
    this.settings.log.push(`t=${formatMs(this.runtime.now())}  ${line}`);
    if (this.settings.log.length > LOG_LINES) this.settings.log.splice(0, this.settings.log.length - LOG_LINES);
  }

  /** Settles the runtime (a virtual clock's runtime stays deterministic, as after a cell) and redraws now. */
  refresh(): void {
    if (this.isClosed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    try {
      if (!this.runtime.current) this.runtime.settle();
    } catch (err) {
      this.note(`the runtime could not settle: ${err instanceof Error ? err.message : String(err)}`);
    }
    const snap = this.takeSnapshot();
    if (!this.last || JSON.stringify(snap.root) !== JSON.stringify(this.last.root) || snap.t !== this.last.t) {
      this.picture.value = this.pictureHtml(snap);
      this.syncRows(snap);
    }
    this.log.value = this.logHtml();
  }

  /** Performs a row action on the process labelled `label` (what a button click does). */
  act(action: RowAction, label: string): Eventually<void> {
    // Act on the tree as it is now, not as last drawn (a cell may have changed it since).
    this.refresh();
    const entry = [...this.rows.values()].find((r) => r.entry.label === label)?.entry;
    const done = (text: string) => {
      this.note(text);
      this.refresh();
    };
    if (!entry) {
      done(`${action} ${label}: no such process in the tree any more`);
      return;
    }
    const rt = this.runtime;
    const pid = entry.node.pid ? findPid(rt, entry.node.pid) : undefined;
    const parent = entry.parent?.pid ? findPid(rt, entry.parent.pid) : undefined;
    const dynamic = entry.parent?.behaviour === "dynamic_supervisor";
    try {
      switch (action) {
        case "kill":
        case "crash": {
          if (!pid || !pid.alive) return done(`${action} ${label}: not running`);
          if (action === "kill") kill(pid);
          else crash(pid, crashReason(this.settings.reason, `${label} crashed from the control panel`));
          return done(`${action} ${label} ${pid.label}${action === "crash" ? ` (${this.settings.reason})` : ""}`);
        }
        case "restart":
        case "terminate":
        case "delete": {
          if (!parent) return done(`${action} ${label}: it has no supervisor`);
          if (dynamic && action !== "terminate") return done(`${action} ${label}: a DynamicSupervisor's children can only be terminated`);
          const id = dynamic ? entry.node.pid : entry.node.id;
          const r =
            action === "restart" ? restartChildNow(rt, parent, id) : action === "terminate" ? terminateChildNow(rt, parent, id, dynamic) : deleteChildNow(rt, parent, id);
          const report = (result: unknown) => done(`${action} ${label}: ${describeResult(result)}`);
          if (r instanceof Promise) return r.then(report, (err: unknown) => done(`${action} ${label} failed: ${errorText(err)}`));
          return report(r);
        }
      }
    } catch (err) {
      done(`${action} ${label} failed: ${errorText(err)}`);
    }
  }

  /** Stops following the runtime and closes every model of the panel. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    // Every model under the panel's box (rows, the reason's box), then the box itself.
    for (const m of modelsUnder(this.box).reverse()) m.close();
    this.rows.clear();
  }

  private takeSnapshot(): TreeSnapshot {
    const rt = this.runtime;
    if (!this.sup.alive) {
      return { t: rt.now(), root: { id: this.sup.label, pid: this.sup.label, kind: "supervisor", behaviour: "supervisor", status: "dead", restarts: 0 } };
    }
    return introspectSnapshot(rt, this.sup);
  }

  private follow(): void {
    this.unsubscribe = this.runtime.events.subscribe((e) => this.onEvent(e));
  }

  private onEvent(e: RuntimeEvent): void {
    const line = eventLine(e);
    if (line) {
      this.settings.log.push(`t=${formatMs(e.t)}  ${line}`);
      if (this.settings.log.length > LOG_LINES) this.settings.log.shift();
    }
    // Never draw inside the runtime's dispatch: the runtime may be halfway through a step.
    if (!this.timer && !this.isClosed) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.refresh();
      }, REDRAW_MS);
      this.timer.unref?.();
    }
  }

  private pictureHtml(snap: TreeSnapshot): string {
    this.last = snap;
    this.lastDiagram = treeDiagram(snap);
    return `<div class="otp-lab-tree" style="overflow:auto">${this.lastDiagram.svg}</div>`;
  }

  private logHtml(): string {
    const lines = this.settings.log.length ? this.settings.log : ["(no restarts or reports yet)"];
    return `<pre class="otp-lab-log" style="margin:0;font-size:12px;line-height:1.3">${escapeXml(lines.join("\n"))}</pre>`;
  }

  private syncRows(snap: TreeSnapshot): void {
    const all: Entry[] = [];
    flatten(snap.root, null, 0, "", all);
    // Seven widgets a row: past MAX_ROWS a panel would flood the front end; the picture still shows everything.
    const entries = all.slice(0, MAX_ROWS);
    const hidden = all.length - entries.length;
    this.more.value = hidden > 0 ? `<i>… and ${hidden} more processes without buttons; control(child supervisor) shows a subtree</i>` : "";
    const seen = new Set<string>();
    let changedSet = false;
    for (const entry of entries) {
      seen.add(entry.key);
      const row = this.rows.get(entry.key);
      if (row) updateRow(row, entry);
      else {
        this.rows.set(entry.key, this.makeRow(entry));
        changedSet = true;
      }
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        this.rows.delete(key);
        closeRow(row);
        changedSet = true;
      }
    }
    if (changedSet || this.rowsBox.children.length !== entries.length + 1) {
      this.rowsBox.children = [...entries.map((e) => this.rows.get(e.key)!.box), this.more];
    }
  }

  private makeRow(entry: Entry): Row {
    const title = new HTML(rowTitle(entry), { layout: { width: "22em" } });
    const buttons = new Map<RowAction, Button>();
    const actions: RowAction[] = entry.parent ? ["kill", "crash", "restart", "terminate", "delete"] : ["kill", "crash"];
    for (const action of actions) {
      const b = new Button({
        description: action,
        tooltip: `${action} ${entry.label}`,
        button_style: action === "kill" || action === "crash" ? "danger" : "",
        layout: { width: "auto" },
        disabled: !enabled(action, entry),
      });
      b.onClick(() => void this.act(action, entry.label));
      buttons.set(action, b);
    }
    const box = new HBox([title, ...buttons.values()]);
    return { entry, box, title, buttons };
  }
}

function enabled(action: RowAction, e: Entry): boolean {
  const running = e.node.status === "running" && !!e.node.pid;
  const dynamic = e.parent?.behaviour === "dynamic_supervisor";
  switch (action) {
    case "kill":
    case "crash":
    case "terminate":
      return running;
    case "restart":
    case "delete":
      return !dynamic;
  }
}

function updateRow(row: Row, entry: Entry): void {
  row.entry = entry;
  row.title.value = rowTitle(entry);
  for (const [action, b] of row.buttons) b.set({ disabled: !enabled(action, entry) });
}

function closeRow(row: Row): void {
  for (const b of row.buttons.values()) b.close();
  row.title.close();
  row.box.close();
}

function rowTitle(e: Entry): string {
  const n = e.node;
  const indent = "&nbsp;".repeat(e.depth * 3);
  const restarts = n.restarts ? `, ${n.restarts} restart${n.restarts === 1 ? "" : "s"}` : "";
  return `<span style="font-family:monospace;white-space:nowrap">${indent}<b>${escapeXml(e.label)}</b>${n.pid === e.label ? "" : ` ${escapeXml(n.pid ?? "-")}`} ${escapeXml(n.status)}${restarts}</span>`;
}

/** One log line for the events a learner looks for: restarts, supervisor reports, code loads. */
export function eventLine(e: RuntimeEvent): string | null {
  switch (e.type) {
    case "restart":
      return e.newPid ? `restart ${e.id}: ${e.oldPid ?? "-"} -> ${e.newPid}` : `restart ${e.id} failed (will retry)`;
    case "report":
      return `report ${e.context}${e.id !== undefined ? ` ${e.id}` : ""}${e.child ? ` ${e.child}` : ""}: ${e.reason}`;
    case "code_load":
      return `code_load ${e.module} v${e.version}`;
    default:
      return null;
  }
}

function describeResult(r: unknown): string {
  if (Array.isArray(r)) return `[${r.map((x) => (x instanceof Pid ? x.label : JSON.stringify(x) ?? String(x))).join(", ")}]`;
  return r instanceof Pid ? r.label : JSON.stringify(r) ?? String(r);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Every model of a tree of boxes, for tests and clean-up. */
export function modelsUnder(root: WidgetModel): WidgetModel[] {
  const out: WidgetModel[] = [root];
  const children = root.get("children");
  if (Array.isArray(children)) for (const c of children) out.push(...modelsUnder(c as WidgetModel));
  return out;
}
