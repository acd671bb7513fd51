/**
 * `clusterDiagram`: the nodes of a runtime (runtime/net.ts) as a Mermaid flowchart, our own SVG, a PNG and
 * text: one box per node with its processes, the connections between nodes (a connection a netsplit cut is
 * drawn dashed, in red, marked "cut"), stopped nodes greyed, and the `global` names with the process holding
 * each, as every node sees them (two sides of a split may each hold a name: both are shown).
 */
import { Runtime } from "../runtime/runtime.js";
import { getRuntime } from "../runtime/default.js";
import { clusterSnapshot, type ClusterView } from "../runtime/nodes.js";
import { el, svgDocument, textBlock, textWidth, LINE_HEIGHT } from "./svg.js";
import { escapeMermaid, formatMs } from "./text.js";
import { asciiCaption } from "./tree-diagram.js";
import { bundleOf, MIME, Widget } from "./widget.js";

export interface ClusterDiagramOptions {
  /** Processes listed per node before "… N more" (default 8). */
  maxProcesses?: number;
  /** Heading (default "Cluster at t=… ms"). */
  title?: string;
}

export type { ClusterView } from "../runtime/nodes.js";

export class ClusterDiagram extends Widget {
  constructor(readonly view: ClusterView, mermaid: string, svg: { svg: string; width: number; height: number }, text: string) {
    super("cluster", bundleOf({ native: [MIME.mermaid, mermaid], svg: svg.svg, width: svg.width, height: svg.height, text }));
  }
}

/** The cluster of `rt` as the diagram shows it. */
export function clusterView(rt: Runtime, options: ClusterDiagramOptions = {}): ClusterView {
  return clusterSnapshot(rt, options.maxProcesses ?? 8);
}

const nodeId = (name: string): string => `n_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;

function clusterMermaid(v: ClusterView, caption: string): string {
  return ["---", `title: ${caption}`, "---", "flowchart LR", ...clusterMermaidBody(v, "", 0).lines].join("\n");
}

/**
 * The flowchart lines of one cluster view, its ids prefixed (several views can share one chart) and its
 * `linkStyle` numbers counted from `firstEdge` (Mermaid numbers the links of a whole chart).
 */
function clusterMermaidBody(v: ClusterView, prefix: string, firstEdge: number): { lines: string[]; edges: number } {
  const id = (name: string): string => prefix + nodeId(name);
  const out: string[] = [];
  v.nodes.forEach((n) => {
    const head = `${n.name}${n.local ? " (this node)" : ""}${n.up ? "" : " (stopped)"}`;
    out.push(`  subgraph ${id(n.name)}["${escapeMermaid(head)}"]`);
    const items = [...n.processes, ...(n.more > 0 ? [`… ${n.more} more`] : [])];
    if (items.length === 0) out.push(`    ${id(n.name)}_empty(["no processes"])`);
    items.forEach((p, i) => out.push(`    ${id(n.name)}_${i}("${escapeMermaid(p)}")`));
    out.push("  end");
    if (!n.up) out.push(`  style ${id(n.name)} fill:#eeeeee,stroke:#9e9e9e,stroke-dasharray:4 3`);
  });
  let edge = firstEdge;
  const styles: string[] = [];
  for (const [a, b] of v.connections) {
    out.push(`  ${id(a)} <--> ${id(b)}`);
    edge++;
  }
  for (const [a, b] of v.cut) {
    out.push(`  ${id(a)} x-. cut .-x ${id(b)}`);
    styles.push(`  linkStyle ${edge} stroke:#c62828,stroke-width:2px`);
    edge++;
  }
  v.globals.forEach((g, i) => {
    const seen = g.seenBy.length < v.nodes.filter((n) => n.up).length ? ` (seen by ${g.seenBy.join(", ")})` : "";
    out.push(`  ${prefix}g_${i}[["global ${escapeMermaid(g.name)} → ${escapeMermaid(g.pid)}${escapeMermaid(seen)}"]]`);
    out.push(`  ${prefix}g_${i} -.- ${id(g.node)}`);
    edge++;
  });
  out.push(...styles);
  return { lines: out, edges: edge - firstEdge };
}

/** Several moments of a cluster in one picture, top to bottom, each with its label (e.g. before, split, healed). */
export function clusterStages(stages: Array<{ label: string; view: ClusterView }>, title: string): ClusterDiagram {
  const caption = asciiCaption(title);
  const mermaid = ["---", `title: ${caption}`, "---", "flowchart TB"];
  let edges = 0;
  stages.forEach((st, i) => {
    const body = clusterMermaidBody(st.view, `s${i}_`, edges);
    edges += body.edges;
    mermaid.push(`  subgraph stage_${i}["${escapeMermaid(st.label)}"]`, "  direction LR", ...body.lines.map((l) => `  ${l}`), "  end");
  });
  const svgs = stages.map((st) => clusterSvg(st.view, asciiCaption(st.label)));
  let y = 36;
  let inner = textBlock(20, 24, [{ text: caption, bold: true }]);
  for (const sv of svgs) {
    inner += `<svg x="0" y="${y}" width="${Math.ceil(sv.width)}" height="${Math.ceil(sv.height)}">${sv.svg.replace(/^<svg[^>]*>/, "").replace(/<\/svg>$/, "")}</svg>`;
    y += sv.height + 10;
  }
  const width = Math.max(textWidth(caption) + 40, ...svgs.map((sv) => sv.width));
  const svg = { svg: svgDocument(width, y, caption, inner), width, height: y };
  const text = [caption, ...stages.map((st) => clusterText(st.view, st.label))].join("\n\n");
  // A ClusterDiagram's view is the last stage's: what the cluster looks like at the end.
  return new ClusterDiagram(stages[stages.length - 1]!.view, mermaid.join("\n"), svg, text);
}

const BOX_GAP = 80;
const PAD = 10;

function clusterSvg(v: ClusterView, caption: string): { svg: string; width: number; height: number } {
  const boxes = v.nodes.map((n) => {
    const lines = [`${n.name}${n.local ? " (this node)" : ""}`, ...(n.up ? [] : ["stopped"]), ...n.processes, ...(n.more > 0 ? [`… ${n.more} more`] : [])];
    const w = Math.max(...lines.map((l) => textWidth(l))) + 2 * PAD;
    return { n, lines, w, h: lines.length * LINE_HEIGHT + 2 * PAD, x: 0, y: 40 };
  });
  let x = 20;
  for (const b of boxes) {
    b.x = x;
    x += b.w + BOX_GAP;
  }
  const boxBottom = 40 + Math.max(...boxes.map((b) => b.h));
  const at = new Map(boxes.map((b) => [b.n.name, b]));
  let arcs = "";
  let lane = 0;
  const arc = (a: string, b: string, cut: boolean): void => {
    const p = at.get(a)!;
    const q = at.get(b)!;
    const [l, r] = p.x < q.x ? [p, q] : [q, p];
    // Each arc leaves its boxes at its own offset, so that arcs sharing a box do not draw over each other.
    const off = ((lane % 7) - 3) * 8;
    const x1 = l.x + l.w / 2 + off;
    const x2 = r.x + r.w / 2 + off;
    const y = boxBottom + 20 + lane++ * 18;
    const d = `M ${x1} ${l.y + l.h} V ${y} H ${x2} V ${r.y + r.h}`;
    arcs += el("path", { d, fill: "none", stroke: cut ? "#c62828" : "#455a64", "stroke-width": 2, "stroke-dasharray": cut ? "6 4" : undefined });
    if (cut) arcs += textBlock((x1 + x2) / 2, y - 4, [{ text: "✂ cut", bold: true }], { anchor: "middle", fill: "#c62828" });
  };
  for (const [a, b] of v.connections) arc(a, b, false);
  for (const [a, b] of v.cut) arc(a, b, true);
  let body = textBlock(20, 24, [{ text: caption, bold: true }]);
  for (const b of boxes) {
    body += el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 6, fill: b.n.up ? "#e3f2fd" : "#eeeeee", stroke: b.n.up ? "#1565c0" : "#9e9e9e", "stroke-dasharray": b.n.up ? undefined : "4 3" });
    body += textBlock(b.x + PAD, b.y + PAD + 12, b.lines.map((text, i) => ({ text, bold: i === 0 })));
  }
  body += arcs;
  let y = boxBottom + 30 + lane * 18;
  const globalLines = v.globals.map((g) => `global ${g.name} → ${g.pid} on ${g.node}${g.seenBy.length < v.nodes.filter((n) => n.up).length ? ` (seen by ${g.seenBy.join(", ")})` : ""}`);
  if (globalLines.length > 0) {
    body += textBlock(20, y, globalLines.map((text) => ({ text })));
    y += globalLines.length * LINE_HEIGHT;
  }
  const width = Math.max(x - BOX_GAP + 20, 20 + Math.max(0, ...globalLines.map((l) => textWidth(l))) + 20, textWidth(caption) + 40);
  return { svg: svgDocument(width, y + 10, caption, body), width, height: y + 10 };
}

function clusterText(v: ClusterView, caption: string): string {
  const out = [caption];
  for (const n of v.nodes) {
    out.push(`${n.name}${n.local ? " (this node)" : ""}${n.up ? "" : " (stopped)"}: ${n.processes.length + n.more} processes`);
    for (const p of n.processes) out.push(`  ${p}`);
    if (n.more > 0) out.push(`  … ${n.more} more`);
  }
  out.push(`connections: ${v.connections.length ? v.connections.map(([a, b]) => `${a} <-> ${b}`).join(", ") : "none"}`);
  if (v.cut.length) out.push(`cut: ${v.cut.map(([a, b]) => `${a} x ${b}`).join(", ")}`);
  for (const g of v.globals) out.push(`global ${g.name} -> ${g.pid} on ${g.node} (seen by ${g.seenBy.join(", ")})`);
  return out.join("\n");
}

/**
 * Draw the nodes of a runtime (the default one unless given): processes per node, connections, cuts, global names.
 * @example Node.start("a@lab"); startNode("b@lab"); netsplit([["a@lab"], ["b@lab"]]); clusterDiagram()
 */
export function clusterDiagram(rt: Runtime | ClusterDiagramOptions = getRuntime(), options: ClusterDiagramOptions = {}): ClusterDiagram {
  const runtime = rt instanceof Runtime ? rt : (Runtime.active ?? getRuntime());
  const opts = rt instanceof Runtime ? options : rt;
  const view = clusterView(runtime, opts);
  const caption = asciiCaption(opts.title ?? `Cluster at t=${formatMs(view.t)}`);
  return new ClusterDiagram(view, clusterMermaid(view, caption), clusterSvg(view, caption), clusterText(view, caption));
}
