/**
 * Draws a summarised tree (see tree-view.ts) three ways: Mermaid flowchart, our own SVG, and ASCII.
 * Shared by `treeDiagram` and `treeDiff`.
 */
import type { TreeNode } from "../runtime/observe.js";
import { el, FONT_SIZE, LINE_HEIGHT, num, svgDocument, textBlock, textWidth } from "./svg.js";
import { escapeMermaid } from "./text.js";
import {
  countNodes,
  type Decoration,
  HARD_MAX_NODES,
  DEFAULT_MAX_NODES,
  type NodeStyle,
  summarise,
  type SummaryOptions,
  type ViewNode,
  walk,
} from "./tree-view.js";

interface StyleSpec {
  /** Mermaid class name. */
  cls: string;
  fill: string;
  stroke: string;
  text: string;
  dash?: string;
  width: number;
  legend: string;
}

export const STYLES: Record<NodeStyle, StyleSpec> = {
  running: { cls: "running", fill: "#e8f5e9", stroke: "#2e7d32", text: "#1b1b1b", width: 1.5, legend: "running" },
  restarting: { cls: "restarting", fill: "#fff3e0", stroke: "#ef6c00", text: "#1b1b1b", dash: "6 3", width: 2, legend: "restarting (retry pending)" },
  dead: { cls: "dead", fill: "#eeeeee", stroke: "#757575", text: "#616161", width: 1.5, legend: "dead" },
  undefined: { cls: "nopid", fill: "#fafafa", stroke: "#9e9e9e", text: "#616161", dash: "4 3", width: 1.5, legend: "kept, not running (no pid)" },
  group: { cls: "group", fill: "#e3f2fd", stroke: "#1565c0", text: "#0d47a1", width: 1.5, legend: "identical siblings, grouped" },
  more: { cls: "more", fill: "#ffffff", stroke: "#9e9e9e", text: "#616161", dash: "2 3", width: 1.5, legend: "not drawn (over budget)" },
  restarted: { cls: "restarted", fill: "#fff3e0", stroke: "#e65100", text: "#1b1b1b", width: 3, legend: "restarted (new pid)" },
  added: { cls: "added", fill: "#e8f5e9", stroke: "#1b5e20", text: "#1b1b1b", width: 3, legend: "added" },
  removed: { cls: "removed", fill: "#ffebee", stroke: "#c62828", text: "#b71c1c", dash: "6 3", width: 2, legend: "removed" },
  stopped: { cls: "stopped", fill: "#eeeeee", stroke: "#c62828", text: "#616161", width: 2, legend: "stopped (pid gone)" },
  started: { cls: "started", fill: "#e8f5e9", stroke: "#1b5e20", text: "#1b1b1b", dash: "6 3", width: 2, legend: "started (had no pid)" },
};

const OLD_CODE = { cls: "oldcode", stroke: "#6a1b9a", width: 3.5, legend: "runs old code" };

/** Mermaid's own default limits; we stay well under them. */
export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;
/** Our target for the Mermaid text, leaving room for frontends that add their own directives. */
export const MERMAID_TEXT_BUDGET = 40_000;

// ---------------------------------------------------------------- Mermaid

function mermaidLabel(v: ViewNode): string {
  return [`<b>${escapeMermaid(v.title)}</b>`, ...v.lines.map(escapeMermaid)].join("<br/>");
}

function mermaidShape(v: ViewNode): string {
  const label = `"${mermaidLabel(v)}"`;
  switch (v.shape) {
    case "supervisor": return `[${label}]`;
    case "worker": return `(${label})`;
    case "group": return `[[${label}]]`;
    case "more": return `([${label}])`;
  }
}

function classDef(spec: { cls: string; fill?: string; stroke: string; text?: string; dash?: string; width: number }): string {
  const parts: string[] = [];
  if (spec.fill) parts.push(`fill:${spec.fill}`);
  parts.push(`stroke:${spec.stroke}`, `stroke-width:${spec.width}px`);
  if (spec.text) parts.push(`color:${spec.text}`);
  if (spec.dash) parts.push(`stroke-dasharray:${spec.dash}`);
  return `  classDef ${spec.cls} ${parts.join(",")}`;
}

/** Mermaid `flowchart TD` for the drawn tree. `caption` must be plain ASCII we wrote (it goes into YAML). */
export function treeMermaid(root: ViewNode, caption: string): string {
  // Mermaid wraps HTML labels at 200 px by default, which breaks our one-fact-per-line labels mid-line.
  const out: string[] = ["---", `title: ${caption}`, "config:", "  flowchart:", "    wrappingWidth: 480", "---", "flowchart TD"];
  const edges: string[] = [];
  const byStyle = new Map<NodeStyle, string[]>();
  const oldCode: string[] = [];
  walk(root, (v, parent) => {
    out.push(`  ${v.key}${mermaidShape(v)}`);
    if (parent) edges.push(`  ${parent.key} ${v.style === "removed" ? "-.->" : "-->"} ${v.key}`);
    const list = byStyle.get(v.style);
    if (list) list.push(v.key);
    else byStyle.set(v.style, [v.key]);
    if (v.oldCode) oldCode.push(v.key);
  });
  out.push(...edges);
  for (const style of Object.keys(STYLES) as NodeStyle[]) {
    const keys = byStyle.get(style);
    if (!keys) continue;
    out.push(classDef(STYLES[style]));
    out.push(`  class ${keys.join(",")} ${STYLES[style].cls}`);
  }
  if (oldCode.length > 0) {
    // Defined last so its border wins over the status border.
    out.push(classDef(OLD_CODE));
    out.push(`  class ${oldCode.join(",")} ${OLD_CODE.cls}`);
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- SVG

const PAD_X = 10;
const PAD_Y = 8;
const H_GAP = 18;
const V_GAP = 36;
const STACK_GAP = 10;
const STACK_INDENT = 28;
/** Leaf-only children lists longer than this are stacked in columns instead of spread in a row. */
const STACK_ABOVE = 4;
/** Up to this many stacked leaves share one column; longer lists get about a 1:4 grid of columns. */
const ONE_COLUMN_MAX = 12;
const COLUMN_GAP = 24;
const MARGIN = 16;
const HEADER = 28;

interface Box {
  v: ViewNode;
  w: number;
  h: number;
  x: number;
  y: number;
  children: Box[];
  stacked: boolean;
  /** Stacked children, column by column. */
  columns: Box[][];
  subW: number;
  subH: number;
}

function measure(v: ViewNode): Box {
  const widest = Math.max(textWidth(v.title), ...v.lines.map((l) => textWidth(l)));
  const children = v.children.map(measure);
  const box: Box = {
    v,
    w: widest + 2 * PAD_X,
    h: (1 + v.lines.length) * LINE_HEIGHT + 2 * PAD_Y - (LINE_HEIGHT - FONT_SIZE),
    x: 0,
    y: 0,
    children,
    stacked: children.length > STACK_ABOVE && children.every((c) => c.children.length === 0),
    columns: [],
    subW: 0,
    subH: 0,
  };
  if (v.shape === "group") {
    // Room for the "cards behind" offset.
    box.w += 6;
    box.h += 6;
  }
  if (children.length === 0) {
    box.subW = box.w;
    box.subH = box.h;
  } else if (box.stacked) {
    const n = children.length;
    const cols = n <= ONE_COLUMN_MAX ? 1 : Math.ceil(Math.sqrt(n / 4));
    const rows = Math.ceil(n / cols);
    for (let c = 0; c < cols; c++) box.columns.push(children.slice(c * rows, (c + 1) * rows));
    const widths = box.columns.map((col) => STACK_INDENT + Math.max(...col.map((b) => b.w)));
    const heights = box.columns.map((col) => col.reduce((s, b) => s + b.h, 0) + (col.length - 1) * STACK_GAP);
    box.subW = Math.max(box.w, widths.reduce((a, b) => a + b, 0) + (cols - 1) * COLUMN_GAP);
    box.subH = box.h + STACK_GAP * 2 + Math.max(...heights);
  } else {
    const row = children.reduce((s, c) => s + c.subW, 0) + (children.length - 1) * H_GAP;
    box.subW = Math.max(box.w, row);
    box.subH = box.h + V_GAP + Math.max(...children.map((c) => c.subH));
  }
  return box;
}

function place(box: Box, left: number, top: number): void {
  if (box.stacked) {
    box.x = left;
    box.y = top;
    let colLeft = left;
    for (const col of box.columns) {
      let y = top + box.h + STACK_GAP * 2;
      for (const c of col) {
        place(c, colLeft + STACK_INDENT, y);
        y += c.h + STACK_GAP;
      }
      colLeft += STACK_INDENT + Math.max(...col.map((b) => b.w)) + COLUMN_GAP;
    }
    return;
  }
  box.x = left + (box.subW - box.w) / 2;
  box.y = top;
  const row = box.children.reduce((s, c) => s + c.subW, 0) + (box.children.length - 1) * H_GAP;
  let x = left + (box.subW - row) / 2;
  for (const c of box.children) {
    place(c, x, top + box.h + V_GAP);
    x += c.subW + H_GAP;
  }
}

function edgesOf(box: Box, out: string[]): void {
  if (box.children.length === 0) return;
  if (box.stacked) {
    // A bus down from the parent (and across to each further column), a tick to each child.
    const line = { fill: "none", stroke: "#90a4ae", "stroke-width": 1.5 };
    const busY = box.y + box.h + STACK_GAP;
    const busXs = box.columns.map((col) => col[0]!.x - STACK_INDENT / 2);
    out.push(el("path", { d: `M${num(busXs[0]!)} ${num(box.y + box.h)}V${num(busY)}H${num(busXs[busXs.length - 1]!)}`, ...line }));
    box.columns.forEach((col, i) => {
      const last = col[col.length - 1]!;
      out.push(el("path", { d: `M${num(busXs[i]!)} ${num(busY)}V${num(last.y + last.h / 2)}`, ...line }));
      for (const c of col) {
        out.push(el("path", { d: `M${num(busXs[i]!)} ${num(c.y + c.h / 2)}H${num(c.x)}`, ...line, "stroke-dasharray": c.v.style === "removed" ? "5 4" : undefined }));
      }
    });
  } else {
    const px = box.x + box.w / 2;
    const py = box.y + box.h;
    const midY = py + V_GAP / 2;
    // Dashed edges (to removed children) first, so solid ones drawn over a shared segment stay solid.
    const ordered = [...box.children.filter((c) => c.v.style === "removed"), ...box.children.filter((c) => c.v.style !== "removed")];
    for (const c of ordered) {
      const cx = c.x + c.w / 2;
      out.push(el("path", { d: `M${num(px)} ${num(py)}V${num(midY)}H${num(cx)}V${num(c.y)}`, fill: "none", stroke: "#90a4ae", "stroke-width": 1.5, "stroke-dasharray": c.v.style === "removed" ? "5 4" : undefined }));
    }
  }
  for (const c of box.children) edgesOf(c, out);
}

function nodeOf(box: Box, out: string[]): void {
  const v = box.v;
  const s = STYLES[v.style];
  const stroke = v.oldCode ? OLD_CODE.stroke : s.stroke;
  const strokeWidth = v.oldCode ? OLD_CODE.width : s.width;
  const rx = v.shape === "worker" ? 10 : v.shape === "more" ? box.h / 2 : 2;
  const parts: string[] = [];
  let w = box.w;
  let h = box.h;
  if (v.shape === "group") {
    w -= 6;
    h -= 6;
    parts.push(el("rect", { x: box.x + 6, y: box.y + 6, width: w, height: h, rx, fill: s.fill, stroke: s.stroke, "stroke-width": 1 }));
    parts.push(el("rect", { x: box.x + 3, y: box.y + 3, width: w, height: h, rx, fill: s.fill, stroke: s.stroke, "stroke-width": 1 }));
  }
  parts.push(el("rect", { x: box.x, y: box.y, width: w, height: h, rx, fill: s.fill, stroke, "stroke-width": strokeWidth, "stroke-dasharray": s.dash }));
  const lines = [{ text: v.title, bold: true }, ...v.lines.map((text) => ({ text }))];
  parts.push(textBlock(box.x + PAD_X, box.y + PAD_Y + FONT_SIZE - 2, lines, { fill: s.text }));
  out.push(el("g", { class: `node ${s.cls}${v.oldCode ? " oldcode" : ""}`, "data-key": v.key }, parts.join("")));
  for (const c of box.children) nodeOf(c, out);
}

function legendOf(root: ViewNode, y: number): { svg: string; height: number; width: number } {
  const used = new Set<NodeStyle>();
  let oldCode = false;
  walk(root, (v) => {
    used.add(v.style);
    oldCode ||= v.oldCode;
  });
  const entries: Array<{ fill: string; stroke: string; width: number; dash?: string; label: string }> = [];
  for (const style of Object.keys(STYLES) as NodeStyle[]) {
    if (used.has(style)) entries.push({ ...STYLES[style], label: STYLES[style].legend });
  }
  if (oldCode) entries.push({ fill: "#ffffff", stroke: OLD_CODE.stroke, width: OLD_CODE.width, label: OLD_CODE.legend });
  let x = MARGIN;
  const parts: string[] = [];
  for (const e of entries) {
    parts.push(el("rect", { x, y, width: 14, height: 12, rx: 2, fill: e.fill, stroke: e.stroke, "stroke-width": Math.min(e.width, 2.5), "stroke-dasharray": e.dash }));
    parts.push(textBlock(x + 20, y + 10, [{ text: e.label }], { size: 11, fill: "#424242" }));
    x += 20 + textWidth(e.label, 11) + 18;
  }
  return { svg: el("g", { class: "legend" }, parts.join("")), height: 12, width: x };
}

/** Our own SVG drawing of the tree, top-down; long lists of leaves are stacked in a column. */
export function treeSvg(root: ViewNode, caption: string): { svg: string; width: number; height: number } {
  const box = measure(root);
  place(box, MARGIN, MARGIN + HEADER);
  const edges: string[] = [];
  const nodes: string[] = [];
  edgesOf(box, edges);
  nodeOf(box, nodes);
  const legendY = MARGIN + HEADER + box.subH + 20;
  const legend = legendOf(root, legendY);
  const width = Math.max(box.subW + 2 * MARGIN, legend.width + MARGIN, textWidth(caption, 13) + 2 * MARGIN);
  const height = legendY + legend.height + MARGIN;
  const header = textBlock(MARGIN, MARGIN + 13, [{ text: caption, bold: true }], { size: 13, fill: "#263238" });
  const body = header + el("g", { class: "edges" }, edges.join("")) + el("g", { class: "nodes" }, nodes.join("")) + legend.svg;
  return { svg: svgDocument(width, height, caption, body), width: Math.ceil(width), height: Math.ceil(height) };
}

// ---------------------------------------------------------------- ASCII

/** An indented tree, one process (or group) per line. */
export function treeAscii(root: ViewNode, caption: string): string {
  const out: string[] = [caption];
  const line = (v: ViewNode) => `${v.title}  [${v.lines.join(" | ")}]`;
  const visit = (v: ViewNode, prefix: string, last: boolean, isRoot: boolean) => {
    out.push(isRoot ? line(v) : `${prefix}${last ? "└─ " : "├─ "}${line(v)}`);
    const childPrefix = isRoot ? "" : prefix + (last ? "   " : "│  ");
    v.children.forEach((c, i) => visit(c, childPrefix, i === v.children.length - 1, false));
  };
  visit(root, "", true, true);
  return out.join("\n");
}

// ---------------------------------------------------------------- all three

export interface DrawnTree {
  view: ViewNode;
  mermaid: string;
  svg: string;
  width: number;
  height: number;
  text: string;
}

/**
 * Summarise and draw. If the Mermaid text is over budget (long labels), the node budget shrinks until it fits:
 * Mermaid would otherwise show an error instead of the tree.
 */
export function drawTree(root: TreeNode, caption: string, options: SummaryOptions = {}, decoration: Decoration = {}): DrawnTree {
  let maxNodes = Math.min(HARD_MAX_NODES, options.maxNodes ?? DEFAULT_MAX_NODES);
  for (;;) {
    const view = summarise(root, { ...options, maxNodes }, decoration);
    const mermaid = treeMermaid(view, caption);
    const nodes = countNodes(view);
    if (mermaid.length <= MERMAID_TEXT_BUDGET || nodes <= 2) {
      const { svg, width, height } = treeSvg(view, caption);
      return { view, mermaid, svg, width, height, text: treeAscii(view, caption) };
    }
    maxNodes = Math.max(2, Math.floor(nodes * 0.7));
  }
}
