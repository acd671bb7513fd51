/**
 * `sequenceDiagram`: who sent what to whom, over a window of runtime events.
 *
 * Like Kino's `seq_trace` view, plus what supervision is about: exit signals (dashed, crossed), process exits,
 * supervisor restarts and SUPERVISOR REPORTs, spawns and code loading. Output: Mermaid `sequenceDiagram`, our
 * own SVG, a PNG and a text log.
 */
import type { PidString, RuntimeEvent, RuntimeEventType, TreeNode, TreeSnapshot } from "../runtime/observe.js";
import { toEvents } from "./sources.js";
import { Runtime } from "../runtime/runtime.js";
import { getRuntime } from "../runtime/default.js";
import { existingCluster } from "../runtime/nodes.js";
import { el, FONT_SIZE, num, svgDocument, textBlock, textWidth } from "./svg.js";
import { escapeMermaid, formatCount, formatMs, padEnd, padStart, plural, truncate } from "./text.js";
import { asciiCaption } from "./tree-diagram.js";
import { bundleOf, MIME, Widget } from "./widget.js";

export interface SequenceOptions {
  /** Only events at or after this runtime time (ms). */
  from?: number;
  /** Only events at or before this runtime time (ms). */
  to?: number;
  /** Only events involving these pids or registered names. */
  pids?: string[];
  /** Only these event types. */
  types?: RuntimeEventType[];
  /** Draw at most the last N events of the window. Default 60. */
  last?: number;
  /** Most lifelines; the least active processes share one "others" lifeline. Default 10. */
  maxParticipants?: number;
  /** A snapshot whose child ids name the lifelines (events only carry registered names). */
  tree?: TreeSnapshot;
  /**
   * With several nodes (runtime/net.ts): group the lifelines by node and draw the messages the network lost
   * (a netsplit, a lost connection, `setLoss`). Default: on when the runtime has nodes.
   */
  nodes?: boolean;
  /** The runtime whose nodes to use (default: the running one, else the default runtime). */
  runtime?: Runtime;
}

export const DEFAULT_LAST = 60;
export const DEFAULT_MAX_PARTICIPANTS = 10;
/** Longest step text, and longest message or exit reason inside it. */
const MAX_TEXT = 80;
const MAX_TERM = 48;

/** Lifelines that are not processes. */
const OUTSIDE = "outside";
const CODE_SERVER = "code server";
const OTHERS = "others";

type ArrowStyle = "send" | "signal" | "spawn" | "restart" | "lost";
type NoteStyle = "start" | "exit" | "report" | "code" | "failed";

type Step =
  | { kind: "arrow"; style: ArrowStyle; from: string; to: string; text: string; t: number }
  | { kind: "note"; style: NoteStyle; over: string; text: string; t: number };

const ARROW_LOOK: Record<ArrowStyle, { stroke: string; dash?: string; mermaid: string; tag: string }> = {
  send: { stroke: "#37474f", mermaid: "->>", tag: "send" },
  signal: { stroke: "#c62828", dash: "6 4", mermaid: "--x", tag: "signal" },
  spawn: { stroke: "#2e7d32", dash: "3 3", mermaid: "-)", tag: "spawn" },
  restart: { stroke: "#e65100", mermaid: "->>", tag: "restart" },
  lost: { stroke: "#9e9e9e", dash: "2 3", mermaid: "--)", tag: "lost" },
};

const NOTE_LOOK: Record<NoteStyle, { fill: string; stroke: string; text: string; tag: string }> = {
  start: { fill: "#e8f5e9", stroke: "#2e7d32", text: "#1b5e20", tag: "spawn" },
  exit: { fill: "#ffebee", stroke: "#c62828", text: "#b71c1c", tag: "exit" },
  report: { fill: "#fff8e1", stroke: "#f9a825", text: "#5d4037", tag: "report" },
  code: { fill: "#f3e5f5", stroke: "#6a1b9a", text: "#4a148c", tag: "code" },
  failed: { fill: "#fff3e0", stroke: "#e65100", text: "#bf360c", tag: "restart" },
};

/** pid -> registered name or child id, from spawn and restart events. */
function namesOf(events: RuntimeEvent[], tree?: TreeSnapshot): Map<PidString, string> {
  const names = new Map<PidString, string>();
  if (tree) {
    const visit = (n: TreeNode) => {
      if (n.pid && n.id !== n.pid) names.set(n.pid, n.id);
      n.children?.forEach(visit);
    };
    visit(tree.root);
  }
  for (const e of events) {
    if (e.type === "spawn" && e.name) names.set(e.pid, e.name);
    else if (e.type === "restart" && e.newPid && !names.has(e.newPid)) names.set(e.newPid, e.id);
    else if (e.type === "report" && e.child && e.id && !names.has(e.child)) names.set(e.child, e.id);
    else if (e.type === "exit" && e.name && !names.has(e.pid)) names.set(e.pid, e.name);
  }
  return names;
}

function involves(e: RuntimeEvent): string[] {
  switch (e.type) {
    case "spawn": return e.parent ? [e.parent, e.pid] : [e.pid];
    case "exit": return [e.pid];
    case "send": case "signal": return e.from ? [e.from, e.to] : [e.to];
    case "restart": return [e.sup, ...(e.oldPid ? [e.oldPid] : []), ...(e.newPid ? [e.newPid] : [])];
    case "report": return e.child ? [e.sup, e.child] : [e.sup];
    case "code_load": return [];
    case "code_purge": return e.killed;
    case "code_change": return [e.pid];
  }
}

/** A message the network lost, drawn as a send that does not arrive (see `NetEvent` "lost"). */
type LostSend = Extract<RuntimeEvent, { type: "send" }> & { lost: "loss" | "noconnection" };

function toStep(e: RuntimeEvent): Step {
  const cut = (s: string) => truncate(s, MAX_TEXT);
  const term = (s: string) => truncate(s, MAX_TERM);
  switch (e.type) {
    case "send":
      if ("lost" in e) return { kind: "arrow", style: "lost", from: e.from ?? OUTSIDE, to: e.to, text: `✗ lost (${(e as LostSend).lost}) ${term(e.msg)}`, t: e.t };
      return { kind: "arrow", style: "send", from: e.from ?? OUTSIDE, to: e.to, text: term(e.msg), t: e.t };
    case "signal":
      return { kind: "arrow", style: "signal", from: e.from ?? OUTSIDE, to: e.to, text: `EXIT ${term(e.reason)}`, t: e.t };
    case "spawn": {
      const code = e.module && e.module.toLowerCase() !== (e.behaviour ?? "").toLowerCase() ? e.module : undefined;
      const version = e.version !== undefined ? ` v${e.version}` : "";
      const what = code ? [e.behaviour, `${code}${version}`].filter(Boolean).join(" ") : `${e.behaviour ?? ""}${version}`;
      return e.parent
        ? { kind: "arrow", style: "spawn", from: e.parent, to: e.pid, text: cut(`spawn ${what}`.trim()), t: e.t }
        : { kind: "note", style: "start", over: e.pid, text: cut(`started ${what}`.trim()), t: e.t };
    }
    case "exit":
      return { kind: "note", style: "exit", over: e.pid, text: `exit ${term(e.reason)}`, t: e.t };
    case "restart":
      return e.newPid
        ? { kind: "arrow", style: "restart", from: e.sup, to: e.newPid, text: cut(`restart ${e.id}${e.oldPid ? ` (was ${e.oldPid})` : ""}`), t: e.t }
        : { kind: "note", style: "failed", over: e.sup, text: cut(`restart of ${e.id} failed, will retry`), t: e.t };
    case "report":
      return { kind: "note", style: "report", over: e.sup, text: cut(`SUPERVISOR REPORT ${e.context} ${truncate(e.id ?? e.child ?? "", 24)} ${term(e.reason)}`.replace(/ +/g, " ")), t: e.t };
    case "code_load":
      return { kind: "note", style: "code", over: CODE_SERVER, text: cut(`load ${e.module} v${e.version}`), t: e.t };
    case "code_purge":
      return { kind: "note", style: "code", over: CODE_SERVER, text: cut(`purge ${e.module} v${e.version}${e.killed.length ? `, killed ${e.killed.join(" ")}` : ""}`), t: e.t };
    case "code_change":
      return { kind: "note", style: "code", over: e.pid, text: cut(`code_change ${e.module} v${e.from} → v${e.to}${e.ok ? "" : " FAILED"}`), t: e.t };
  }
}

/** Stable sort key: outside first, processes in order of appearance, code server last. */
function rank(key: string): number {
  return key === OUTSIDE ? -1 : key === CODE_SERVER ? 1 : 0;
}

interface Plan {
  steps: Step[];
  /** Lifeline keys in drawing order. */
  lanes: string[];
  labels: Map<string, string>;
  omittedBefore: number;
  caption: string;
  /** Lifelines by node, in drawing order (empty with one node). */
  groups: Array<{ node: string; lanes: string[] }>;
}

function plan(events: RuntimeEvent[], options: SequenceOptions, nodeOf: ((lane: string) => string | null) | null = null): Plan {
  const names = namesOf(events, options.tree);
  const wanted = options.pids ? new Set(options.pids) : null;
  const pidMatches = (pid: string) => wanted!.has(pid) || (names.has(pid) && wanted!.has(names.get(pid)!));
  const types = options.types ? new Set(options.types) : null;
  const windowed = events.filter((e) =>
    (options.from === undefined || e.t >= options.from) &&
    (options.to === undefined || e.t <= options.to) &&
    (!types || types.has(e.type)) &&
    (!wanted || involves(e).some(pidMatches)));
  const last = Math.max(1, Math.floor(options.last ?? DEFAULT_LAST));
  const kept = windowed.slice(-last);
  const steps = kept.map(toStep);

  // Lifelines in order of first appearance; the least active beyond the limit share one.
  const order: string[] = [];
  const activity = new Map<string, number>();
  const touch = (key: string) => {
    if (!activity.has(key)) order.push(key);
    activity.set(key, (activity.get(key) ?? 0) + 1);
  };
  for (const s of steps) {
    if (s.kind === "arrow") {
      touch(s.from);
      touch(s.to);
    } else touch(s.over);
  }
  // The caller outside the runtime sits on the left, like the user in a UML sequence; the code server on the right.
  order.sort((a, b) => rank(a) - rank(b));
  const maxLanes = Math.max(2, Math.floor(options.maxParticipants ?? DEFAULT_MAX_PARTICIPANTS));
  let lanes = order;
  if (order.length > maxLanes) {
    const busiest = new Set(
      [...order].sort((a, b) => (activity.get(b)! - activity.get(a)!) || (order.indexOf(a) - order.indexOf(b))).slice(0, maxLanes - 1),
    );
    const others = order.filter((k) => !busiest.has(k));
    const fold = (k: string) => (busiest.has(k) ? k : OTHERS);
    for (const s of steps) {
      if (s.kind === "arrow") {
        s.from = fold(s.from);
        s.to = fold(s.to);
      } else s.over = fold(s.over);
    }
    lanes = [...order.filter((k) => busiest.has(k)), OTHERS];
    names.set(OTHERS, `… ${plural(others.length, "other process")}`);
  }
  const labels = new Map<string, string>();
  for (const k of lanes) {
    const name = names.get(k);
    labels.set(k, k === OTHERS ? name! : name && name !== k ? `${truncate(name, 24)} ${k}` : k);
  }
  const groups: Plan["groups"] = [];
  if (nodeOf) {
    for (const k of lanes) {
      const n = nodeOf(k) ?? "";
      const g = groups.find((x) => x.node === n);
      if (g) g.lanes.push(k);
      else groups.push({ node: n, lanes: [k] });
    }
    lanes = groups.flatMap((g) => g.lanes);
  }
  const span = kept.length > 0 ? `from t=${formatMs(kept[0]!.t)} to t=${formatMs(kept[kept.length - 1]!.t)}` : "(no events in the window)";
  const omitted = windowed.length - kept.length;
  const caption = `Sequence of ${plural(kept.length, "event")} ${span}${omitted > 0 ? ` - ${formatCount(omitted)} earlier not shown` : ""}`;
  return { steps, lanes, labels, omittedBefore: omitted, caption, groups };
}

// ---------------------------------------------------------------- Mermaid

function sequenceMermaid(p: Plan): string {
  const id = new Map(p.lanes.map((k, i) => [k, `p${i}`]));
  const out = ["---", `title: ${asciiCaption(p.caption)}`, "---", "sequenceDiagram"];
  if (p.groups.length > 0) {
    for (const g of p.groups) {
      if (g.node) out.push(`  box rgba(33,150,243,0.08) ${escapeMermaid(g.node)}`);
      for (const k of g.lanes) out.push(`  ${g.node ? "  " : ""}participant ${id.get(k)} as ${escapeMermaid(p.labels.get(k)!)}`);
      if (g.node) out.push("  end");
    }
  } else {
    for (const k of p.lanes) out.push(`  participant ${id.get(k)} as ${escapeMermaid(p.labels.get(k)!)}`);
  }
  if (p.omittedBefore > 0 && p.lanes.length > 0) {
    const span = p.lanes.length > 1 ? `${id.get(p.lanes[0]!)},${id.get(p.lanes[p.lanes.length - 1]!)}` : id.get(p.lanes[0]!);
    out.push(`  Note over ${span}: ${escapeMermaid(`… ${plural(p.omittedBefore, "earlier event")} not shown`)}`);
  }
  for (const s of p.steps) {
    const text = escapeMermaid(`${formatMs(s.t)} · ${s.text}`);
    if (s.kind === "arrow") out.push(`  ${id.get(s.from)}${ARROW_LOOK[s.style].mermaid}${id.get(s.to)}: ${text}`);
    else out.push(`  Note over ${id.get(s.over)}: ${text}`);
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- SVG

const MARGIN = 16;
const TIME_COL = 86;
const HEAD_H = 34;
const ROW = 34;
const SELF_ROW = 46;
const NOTE_ROW = 30;
const MIN_GAP = 130;

function sequenceSvg(p: Plan): { svg: string; width: number; height: number } {
  const n = p.lanes.length;
  const index = new Map(p.lanes.map((k, i) => [k, i]));
  const headW = p.lanes.map((k) => textWidth(p.labels.get(k)!) + 20);
  // gaps[i] is the distance between lifelines i and i+1; grown until every label fits.
  const gaps = Array.from({ length: Math.max(0, n - 1) }, (_, i) => Math.max(MIN_GAP, headW[i]! / 2 + headW[i + 1]! / 2 + 16));
  let leftRoom = headW[0] ? headW[0] / 2 : 0;
  let rightRoom = headW[n - 1] ? headW[n - 1]! / 2 : 0;
  const need = (from: number, to: number, width: number) => {
    const have = gaps.slice(from, to).reduce((a, b) => a + b, 0);
    if (have >= width) return;
    const each = (width - have) / (to - from);
    for (let i = from; i < to; i++) gaps[i]! += each;
  };
  for (const s of p.steps) {
    const w = textWidth(s.text);
    if (s.kind === "arrow") {
      const a = index.get(s.from)!;
      const b = index.get(s.to)!;
      if (a === b) {
        if (a < n - 1) need(a, a + 1, w + 44);
        else rightRoom = Math.max(rightRoom, w + 44);
      } else need(Math.min(a, b), Math.max(a, b), w + 24);
    } else {
      const k = index.get(s.over)!;
      const half = w / 2 + 14;
      if (k > 0) need(k - 1, k, half + 8);
      else leftRoom = Math.max(leftRoom, half);
      if (k < n - 1) need(k, k + 1, half + 8);
      else rightRoom = Math.max(rightRoom, half);
    }
  }
  const xs: number[] = [];
  let x = MARGIN + TIME_COL + leftRoom;
  for (let i = 0; i < n; i++) {
    xs.push(x);
    x += gaps[i] ?? 0;
  }
  const width = (xs[n - 1] ?? MARGIN + TIME_COL) + rightRoom + MARGIN;

  const grouped = p.groups.some((g) => g.node);
  const top = MARGIN + 28 + (grouped ? 20 : 0);
  const parts: string[] = [];
  const rows: string[] = [];
  let y = top + HEAD_H + 18;
  if (p.omittedBefore > 0) {
    rows.push(textBlock(MARGIN, y, [{ text: `… ${plural(p.omittedBefore, "earlier event")} not shown` }], { fill: "#757575", size: 11 }));
    y += 20;
  }
  for (const s of p.steps) {
    const timeLabel = textBlock(MARGIN + TIME_COL - 10, y + 4, [{ text: formatMs(s.t) }], { anchor: "end", size: 11, fill: "#607d8b" });
    if (s.kind === "arrow") {
      const look = ARROW_LOOK[s.style];
      const a = xs[index.get(s.from)!]!;
      const b = xs[index.get(s.to)!]!;
      const g: string[] = [timeLabel];
      if (a === b) {
        g.push(el("path", { d: `M${num(a)} ${num(y)}H${num(a + 30)}V${num(y + 14)}H${num(a + 6)}`, fill: "none", stroke: look.stroke, "stroke-width": 1.5, "stroke-dasharray": look.dash }));
        g.push(arrowHead(a, y + 14, -1, s.style, look.stroke));
        g.push(textBlock(a + 36, y + 11, [{ text: s.text }], { fill: "#212121" }));
        y += SELF_ROW;
      } else {
        const dir = b > a ? 1 : -1;
        g.push(el("path", { d: `M${num(a)} ${num(y)}H${num(b - dir * 6)}`, fill: "none", stroke: look.stroke, "stroke-width": 1.5, "stroke-dasharray": look.dash }));
        g.push(arrowHead(b, y, dir, s.style, look.stroke));
        g.push(textBlock((a + b) / 2, y - 6, [{ text: s.text }], { anchor: "middle", fill: "#212121" }));
        y += ROW;
      }
      rows.push(el("g", { class: `step ${s.style}` }, g.join("")));
    } else {
      const look = NOTE_LOOK[s.style];
      const cx = xs[index.get(s.over)!]!;
      const w = textWidth(s.text) + 16;
      rows.push(el("g", { class: `step note ${s.style}` },
        timeLabel +
        el("rect", { x: cx - w / 2, y: y - 12, width: w, height: 22, rx: 3, fill: look.fill, stroke: look.stroke, "stroke-width": 1 }) +
        textBlock(cx, y + 3, [{ text: s.text }], { anchor: "middle", fill: look.text })));
      y += NOTE_ROW;
    }
  }
  const bottom = y - 8;
  if (grouped) {
    // One band per node behind its lifelines, named at the top.
    for (const g of p.groups) {
      if (!g.node) continue;
      const first = index.get(g.lanes[0]!)!;
      const last = index.get(g.lanes[g.lanes.length - 1]!)!;
      const x0 = xs[first]! - headW[first]! / 2 - 6;
      const x1 = xs[last]! + headW[last]! / 2 + 6;
      parts.push(el("g", { class: "node" },
        el("rect", { x: x0, y: top - 22, width: x1 - x0, height: bottom - top + 30, rx: 6, fill: "#f3f8fe", stroke: "#90caf9", "stroke-width": 1 }) +
        textBlock(x0 + 6, top - 8, [{ text: g.node, bold: true }], { size: 11, fill: "#1565c0" })));
    }
  }
  for (let i = 0; i < n; i++) {
    const k = p.lanes[i]!;
    const w = headW[i]!;
    parts.push(el("path", { d: `M${num(xs[i]!)} ${num(top + HEAD_H)}V${num(bottom)}`, stroke: "#b0bec5", "stroke-width": 1, "stroke-dasharray": "4 4", fill: "none" }));
    parts.push(el("g", { class: "participant" },
      el("rect", { x: xs[i]! - w / 2, y: top, width: w, height: HEAD_H, rx: 3, fill: k === OUTSIDE || k === CODE_SERVER || k === OTHERS ? "#f5f5f5" : "#e3f2fd", stroke: "#546e7a", "stroke-width": 1 }) +
      textBlock(xs[i]!, top + HEAD_H / 2 + FONT_SIZE / 2 - 2, [{ text: p.labels.get(k)! }], { anchor: "middle" })));
  }
  const height = bottom + MARGIN;
  const header = textBlock(MARGIN, MARGIN + 13, [{ text: p.caption, bold: true }], { size: 13, fill: "#263238" });
  const finalWidth = Math.max(width, textWidth(p.caption, 13) + 2 * MARGIN);
  return {
    svg: svgDocument(finalWidth, height, p.caption, header + el("g", { class: "lifelines" }, parts.join("")) + el("g", { class: "steps" }, rows.join(""))),
    width: Math.ceil(finalWidth),
    height: Math.ceil(height),
  };
}

function arrowHead(x: number, y: number, dir: number, style: ArrowStyle, color: string): string {
  if (style === "signal") {
    // A cross where the exit signal lands, as Mermaid's `--x`.
    const c = x - dir * 5;
    return el("path", { d: `M${num(c - 5)} ${num(y - 5)}L${num(c + 5)} ${num(y + 5)}M${num(c - 5)} ${num(y + 5)}L${num(c + 5)} ${num(y - 5)}`, stroke: color, "stroke-width": 2, fill: "none" });
  }
  if (style === "spawn") {
    return el("path", { d: `M${num(x - dir * 9)} ${num(y - 5)}L${num(x)} ${num(y)}L${num(x - dir * 9)} ${num(y + 5)}`, stroke: color, "stroke-width": 1.5, fill: "none" });
  }
  return el("path", { d: `M${num(x)} ${num(y)}L${num(x - dir * 10)} ${num(y - 5)}L${num(x - dir * 10)} ${num(y + 5)}Z`, fill: color, stroke: "none" });
}

// ---------------------------------------------------------------- text

function sequenceText(p: Plan): string {
  const out = [p.caption];
  for (const g of p.groups) if (g.node) out.push(`  ${g.node}: ${g.lanes.map((k) => p.labels.get(k)!).join(", ")}`);
  if (p.omittedBefore > 0) out.push(`  … ${plural(p.omittedBefore, "earlier event")} not shown`);
  const who = (k: string) => p.labels.get(k)!;
  for (const s of p.steps) {
    const time = padStart(formatMs(s.t), 11);
    if (s.kind === "arrow") {
      const arrow = s.style === "signal" ? "-x" : s.style === "lost" ? "-/" : "->";
      out.push(`${time}  ${padEnd(ARROW_LOOK[s.style].tag, 7)} ${who(s.from)} ${arrow} ${who(s.to)}  ${s.text}`);
    } else {
      out.push(`${time}  ${padEnd(NOTE_LOOK[s.style].tag, 7)} ${who(s.over)}  ${s.text}`);
    }
  }
  return out.join("\n");
}

export class SequenceDiagram extends Widget {
  /** Events drawn, after windowing. */
  readonly events: number;

  constructor(events: number, bundle: Record<string, unknown>) {
    super("sequence", bundle);
    this.events = events;
  }
}

/**
 * Draw messages, exit signals, exits, restarts and supervisor reports as a sequence diagram.
 *
 * `events` is the runtime's event list (`runtime.events.all()`) or an event log; with no argument, the whole
 * log of the running runtime. Narrow it with `{ from, to }` (runtime clock, ms), `{ pids: ["cache"] }`, or
 * `{ last: 20 }`; by default the last 60 events are drawn.
 *
 * @example sequenceDiagram(runtime.events.all(), { from: 0, to: 5_000 })
 */
export function sequenceDiagram(events?: RuntimeEvent[] | { all(): RuntimeEvent[] }, options: SequenceOptions = {}): SequenceDiagram {
  let list = toEvents(events, "sequenceDiagram");
  let nodeOf: ((lane: string) => string | null) | null = null;
  const cluster = options.nodes === false ? undefined : existingCluster(options.runtime ?? Runtime.active ?? getRuntime());
  if (cluster && cluster.nodes.size > 1) {
    const byTag = new Map([...cluster.nodes.values()].map((n) => [n.tag, n.name]));
    nodeOf = (lane) => {
      const m = /^<(\d+)\.\d+\.\d+>$/.exec(lane);
      return m ? byTag.get(Number(m[1])) ?? null : null;
    };
    list = withLost(list, cluster.events);
  }
  const p = plan(list, options, nodeOf);
  const { svg, width, height } = sequenceSvg(p);
  return new SequenceDiagram(
    p.steps.length,
    bundleOf({ native: [MIME.mermaid, sequenceMermaid(p)], svg, width, height, text: sequenceText(p) }),
  );
}

/** The events with the network's lost messages (those between two known processes) merged in by time. */
function withLost(events: RuntimeEvent[], net: ReadonlyArray<{ type: string; t: number }>): RuntimeEvent[] {
  const lost: LostSend[] = [];
  for (const e of net) {
    if (e.type !== "lost") continue;
    const l = e as unknown as { t: number; msg: string; why: "loss" | "noconnection"; fromPid?: string; toPid?: string };
    if (l.fromPid && l.toPid) lost.push({ type: "send", t: l.t, from: l.fromPid, to: l.toPid, msg: l.msg, lost: l.why });
  }
  if (lost.length === 0) return events;
  const out: RuntimeEvent[] = [];
  // A lost message replaces its own send event (traced messages), else it goes in at its time.
  const place = (l: LostSend): void => {
    for (let j = out.length - 1; j >= 0 && out[j]!.t === l.t; j--) {
      const e = out[j]!;
      if (e.type === "send" && !("lost" in e) && e.from === l.from && e.to === l.to && e.msg === l.msg) {
        out[j] = l;
        return;
      }
    }
    out.push(l);
  };
  let i = 0;
  for (const e of events) {
    while (i < lost.length && lost[i]!.t < e.t) place(lost[i++]!);
    out.push(e);
  }
  while (i < lost.length) place(lost[i++]!);
  return out;
}
