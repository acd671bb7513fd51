/**
 * `processTable`: live processes, Observer style. HTML for notebooks, our own SVG and a PNG for static
 * viewers, and an aligned text table.
 */
import type { PidString, ProcessInfo, ProcessInfoJSON } from "../runtime/observe.js";
import { toProcesses } from "./sources.js";
import { el, svgDocument, textBlock, textWidth } from "./svg.js";
import { cellWidth, comparePids, escapeXml, formatBytes, formatCount, padEnd, padStart, plural, truncate } from "./text.js";
import { bundleOf, MIME, Widget } from "./widget.js";

export type SortKey = "pid" | "memory" | "mailbox" | "reductions" | "restarts";

export interface ProcessTableOptions {
  /** Row order: by pid (default), or largest first by memory, mailbox length, work counter or restarts. */
  sortBy?: SortKey;
  /** Most rows shown; the rest are counted in a last line. Default 50. */
  limit?: number;
}

export const DEFAULT_LIMIT = 50;

interface Column {
  title: string;
  numeric: boolean;
  value(p: ProcessRow): string;
}

/** A row: a live `processInfo(pid)` (links as Pids) or its JSON (links as strings). */
export type ProcessRow = ProcessInfo | ProcessInfoJSON;

function listPids(pids: ReadonlyArray<PidString | { readonly label: string }>): string {
  if (pids.length === 0) return "";
  const shown = pids.slice(0, 3).map((p) => (typeof p === "string" ? p : p.label)).join(" ");
  return pids.length > 3 ? `${shown} +${pids.length - 3}` : shown;
}

const COLUMNS: Column[] = [
  { title: "pid", numeric: false, value: (p) => p.pid },
  { title: "name", numeric: false, value: (p) => truncate(p.name ?? "", 28) },
  { title: "behaviour", numeric: false, value: (p) => p.behaviour },
  {
    title: "code",
    numeric: false,
    value: (p) => (p.module ? `${truncate(p.module, 28)}${p.version !== undefined ? ` v${p.version}` : ""}` : "") + (p.oldCode ? " (old)" : ""),
  },
  { title: "status", numeric: false, value: (p) => p.status + (p.trapExit ? " (traps exits)" : "") },
  { title: "mailbox", numeric: true, value: (p) => formatCount(p.mailbox) },
  { title: "memory", numeric: true, value: (p) => formatBytes(p.memory) },
  { title: "work", numeric: true, value: (p) => formatCount(p.reductions) },
  { title: "restarts", numeric: true, value: (p) => formatCount(p.restarts) },
  { title: "links", numeric: false, value: (p) => listPids(p.links) },
  { title: "monitors", numeric: false, value: (p) => listPids(p.monitors) },
  { title: "monitored by", numeric: false, value: (p) => listPids(p.monitoredBy) },
];

function sortRows(rows: ProcessRow[], by: SortKey): ProcessRow[] {
  const copy = [...rows];
  if (by === "pid") return copy.sort((a, b) => comparePids(a.pid, b.pid));
  return copy.sort((a, b) => (b[by] - a[by]) || comparePids(a.pid, b.pid));
}

/** A row is worth a colour when something is wrong with it. */
function rowTone(p: ProcessRow): { fill: string; text: string } | null {
  if (p.status === "exiting" || p.status === "dead") return { fill: "#ffebee", text: "#b71c1c" };
  if (p.oldCode) return { fill: "#f3e5f5", text: "#4a148c" };
  if (p.status === "suspended") return { fill: "#fff8e1", text: "#5d4037" };
  return null;
}

/** Class-scoped rules: they style only our tables, so inlining the stylesheet leaks nothing into the notebook. */
const TABLE_CSS =
  ".otp-lab-pt{border-collapse:collapse;font-family:monospace;font-size:12px}" +
  ".otp-lab-pt caption{text-align:left;font-weight:bold;padding:4px 0}" +
  ".otp-lab-pt td,.otp-lab-pt th{padding:2px 8px;border-bottom:1px solid #e0e0e0;white-space:nowrap;text-align:left}" +
  ".otp-lab-pt .n{text-align:right}.otp-lab-pt .more{color:#757575}";

function tableHtml(rows: ProcessRow[], more: number, caption: string): string {
  const cls = (c: Column) => (c.numeric ? ` class="n"` : "");
  const head = COLUMNS.map((c) => `<th${cls(c)}>${escapeXml(c.title)}</th>`).join("");
  const body = rows
    .map((p) => {
      const tone = rowTone(p);
      const style = tone ? ` style="background:${tone.fill};color:${tone.text}"` : "";
      return `<tr${style}>${COLUMNS.map((c) => `<td${cls(c)}>${escapeXml(c.value(p))}</td>`).join("")}</tr>`;
    })
    .join("\n");
  const tail = more > 0 ? `\n<tr><td colspan="${COLUMNS.length}" class="more">… ${escapeXml(plural(more, "more process"))}</td></tr>` : "";
  return (
    `<style>${TABLE_CSS}</style>\n<table class="otp-lab-pt">` +
    `<caption>${escapeXml(caption)}</caption>\n` +
    `<thead><tr>${head}</tr></thead>\n<tbody>\n${body}${tail}\n</tbody></table>`
  );
}

function tableText(rows: ProcessRow[], more: number, caption: string): string {
  const cells = rows.map((p) => COLUMNS.map((c) => c.value(p)));
  const widths = COLUMNS.map((c, i) => Math.max(cellWidth(c.title), ...cells.map((r) => cellWidth(r[i]!))));
  const line = (values: string[]) =>
    values.map((v, i) => (COLUMNS[i]!.numeric ? padStart(v, widths[i]!) : padEnd(v, widths[i]!))).join("  ").trimEnd();
  const out = [caption, line(COLUMNS.map((c) => c.title)), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  if (more > 0) out.push(`… ${plural(more, "more process")}`);
  return out.join("\n");
}

const ROW_H = 20;
const PAD = 8;

function tableSvg(rows: ProcessRow[], more: number, caption: string): { svg: string; width: number; height: number } {
  const cells = rows.map((p) => COLUMNS.map((c) => c.value(p)));
  const widths = COLUMNS.map((c, i) => Math.max(textWidth(c.title), ...cells.map((r) => textWidth(r[i]!))) + 2 * PAD);
  const left = 16;
  const top = 44;
  const xs: number[] = [];
  let x = left;
  for (const w of widths) {
    xs.push(x);
    x += w;
  }
  const tableW = x - left;
  const parts: string[] = [];
  parts.push(textBlock(left, 16 + 13, [{ text: caption, bold: true }], { size: 13, fill: "#263238" }));
  parts.push(el("rect", { x: left, y: top, width: tableW, height: ROW_H, fill: "#eceff1" }));
  const cellText = (i: number, value: string, y: number, fill?: string, bold?: boolean) => {
    const col = COLUMNS[i]!;
    const tx = col.numeric ? xs[i]! + widths[i]! - PAD : xs[i]! + PAD;
    return textBlock(tx, y, [{ text: value, bold }], { anchor: col.numeric ? "end" : "start", fill });
  };
  parts.push(el("g", { class: "header" }, COLUMNS.map((c, i) => cellText(i, c.title, top + 14, "#263238", true)).join("")));
  cells.forEach((row, r) => {
    const y = top + ROW_H * (r + 1);
    const tone = rowTone(rows[r]!);
    const g: string[] = [];
    if (tone) g.push(el("rect", { x: left, y, width: tableW, height: ROW_H, fill: tone.fill }));
    g.push(el("path", { d: `M${left} ${y + ROW_H}H${left + tableW}`, stroke: "#e0e0e0", "stroke-width": 1 }));
    g.push(row.map((v, i) => cellText(i, v, y + 14, tone?.text)).join(""));
    parts.push(el("g", { class: "row", "data-pid": rows[r]!.pid }, g.join("")));
  });
  let bottom = top + ROW_H * (rows.length + 1);
  if (more > 0) {
    parts.push(textBlock(left + PAD, bottom + 14, [{ text: `… ${plural(more, "more process")}` }], { fill: "#757575" }));
    bottom += ROW_H;
  }
  const width = Math.max(left * 2 + tableW, textWidth(caption, 13) + 32);
  const height = bottom + 16;
  return { svg: svgDocument(width, height, caption, parts.join("")), width: Math.ceil(width), height };
}

export class ProcessTable extends Widget {
  /** The rows shown, in order. */
  readonly rows: ProcessRow[];

  constructor(rows: ProcessRow[], bundle: Record<string, unknown>) {
    super("process-table", bundle);
    this.rows = rows;
  }
}

/**
 * A table of processes like Observer's: pid, name, behaviour and code version, status, mailbox length, memory,
 * work counter (reductions), restarts, links and monitors. Rows in trouble are tinted (exiting, old code,
 * suspended).
 *
 * With no argument, every live process of the running runtime; otherwise process infos or pids.
 *
 * @example processTable(undefined, { sortBy: "memory", limit: 10 })
 */
export function processTable(processes?: ProcessRow | ProcessRow[] | string | string[], options: ProcessTableOptions = {}): ProcessTable {
  const all = toProcesses(processes, "processTable");
  const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_LIMIT));
  const sorted = sortRows(all, options.sortBy ?? "pid");
  const rows = sorted.slice(0, limit);
  const more = sorted.length - rows.length;
  const caption = `${plural(all.length, "process")}${options.sortBy && options.sortBy !== "pid" ? `, by ${options.sortBy}` : ""}`;
  const { svg, width, height } = tableSvg(rows, more, caption);
  return new ProcessTable(
    rows,
    bundleOf({ native: [MIME.html, tableHtml(rows, more, caption)], svg, width, height, text: tableText(rows, more, caption) }),
  );
}
