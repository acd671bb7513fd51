/**
 * Charts: restarts per supervisor against its intensity limit, memory and mailbox length per process.
 *
 * Each is a Vega-Lite v5 spec (`application/vnd.vegalite.v5+json`: JupyterLab renders v5, not v6) with the
 * data inlined, a static SVG rendered from that same spec by Vega in Node, a PNG, and a text summary with
 * sparklines. The x axis is the runtime clock, so a lesson run on virtual time draws the same chart every time.
 */
import type { MetricSample, PidString, RuntimeEvent, TreeNode, TreeSnapshot } from "../runtime/observe.js";
import { isSnapshot, toEvents, toSamples } from "./sources.js";
import { formatBytes, formatCount, formatMs, plural, truncate } from "./text.js";
import { renderBackends } from "./backends.js";
import { svgSize, type VegaLiteSpec } from "./vega-render.js";
import { bundleOf, MIME, Widget, type WidgetKind } from "./widget.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
const WIDTH = 520;
const HEIGHT = 220;
const CONFIG = {
  font: "DejaVu Sans, Liberation Sans, Arial, sans-serif",
  view: { stroke: "#e0e0e0" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
};
const TIME_AXIS = { field: "t", type: "quantitative", title: "runtime clock (ms)", axis: { format: ",d" } };

export class Chart extends Widget {
  /** The Vega-Lite spec, data included. */
  readonly spec: VegaLiteSpec;

  constructor(kind: WidgetKind, spec: VegaLiteSpec, text: string) {
    const render = renderBackends().vegaSvg;
    const svg = render ? render(spec) : null;
    const { width, height } = svg ? svgSize(svg) : { width: 0, height: 0 };
    super(kind, bundleOf({ native: [MIME.vegaLite, spec], svg, width, height, text }));
    this.spec = spec;
  }
}

// ---------------------------------------------------------------- sparklines for the text fallback

const BARS = "▁▂▃▄▅▆▇█";

/** Up to `width` evenly spaced values as block characters, scaled between the series' min and max. */
export function sparkline(values: number[], width = 24): string {
  if (values.length === 0) return "";
  const picked = values.length <= width ? values : Array.from({ length: width }, (_, i) => values[Math.round((i * (values.length - 1)) / (width - 1))]!);
  const min = Math.min(...picked);
  const max = Math.max(...picked);
  return picked.map((v) => BARS[max === min ? 0 : Math.round(((v - min) / (max - min)) * (BARS.length - 1))]).join("");
}

// ---------------------------------------------------------------- restarts

export interface RestartLimits {
  intensity: number;
  /** Seconds, as in the supervisor flags. */
  period: number;
}

export interface RestartsChartOptions {
  /**
   * Where the intensity limits come from: a snapshot of the tree (its supervisor nodes carry `intensity` and
   * `period`), or a map from supervisor pid or name to limits. Without limits, restarts are drawn cumulatively.
   */
  limits?: TreeSnapshot | Record<string, RestartLimits>;
  /** End of the time axis (ms); default the last event's time. */
  until?: number;
}

interface SupSeries {
  pid: PidString;
  label: string;
  limits?: RestartLimits;
  restarts: number[];
  gaveUp?: { t: number; reason: string };
  start: number;
}

function walkTree(node: TreeNode, fn: (n: TreeNode) => void): void {
  fn(node);
  for (const c of node.children ?? []) walkTree(c, fn);
}

function restartSeries(events: RuntimeEvent[], options: RestartsChartOptions): { series: SupSeries[]; end: number } {
  const names = new Map<PidString, string>();
  const spawnedAt = new Map<PidString, number>();
  const limitsByKey = new Map<string, RestartLimits>();
  const limits = options.limits;
  if (isSnapshot(limits)) {
    walkTree(limits.root, (n) => {
      if (n.pid) names.set(n.pid, n.id);
      if (n.kind === "supervisor" && n.intensity !== undefined && n.period !== undefined) {
        const l = { intensity: n.intensity, period: n.period };
        limitsByKey.set(n.id, l);
        if (n.pid) limitsByKey.set(n.pid, l);
      }
    });
  } else if (limits) {
    for (const [k, v] of Object.entries(limits)) limitsByKey.set(k, v);
  }
  for (const e of events) {
    if (e.type === "spawn") {
      if (e.name) names.set(e.pid, e.name);
      if (!spawnedAt.has(e.pid)) spawnedAt.set(e.pid, e.t);
    } else if (e.type === "restart" && e.newPid && !names.has(e.newPid)) {
      // A restarted supervisor keeps its child id, and with it the limits of its spec.
      names.set(e.newPid, e.id);
    }
  }
  const bySup = new Map<PidString, SupSeries>();
  const sup = (pid: PidString, t: number) => {
    let s = bySup.get(pid);
    if (!s) {
      const name = names.get(pid);
      s = {
        pid,
        label: name && name !== pid ? `${truncate(name, 30)} ${pid}` : pid,
        limits: limitsByKey.get(pid) ?? (name ? limitsByKey.get(name) : undefined),
        restarts: [],
        start: Math.min(spawnedAt.get(pid) ?? t, t),
      };
      bySup.set(pid, s);
    }
    return s;
  };
  // OTP counts one restart per supervisor reaction (R43): a one_for_all reaction that restarts three children
  // is one restart toward the intensity. Events carry the reaction number; older logs without it count each.
  const counted = new Set<string>();
  for (const e of events) {
    if (e.type === "restart") {
      if (e.reaction !== undefined) {
        const key = `${e.sup} ${e.reaction}`;
        if (counted.has(key)) continue;
        counted.add(key);
      }
      sup(e.sup, e.t).restarts.push(e.t);
    }
    // R46: giving up is the `shutdown` report with reason reached_max_restart_intensity.
    else if (e.type === "report" && e.context === "shutdown") {
      const s = sup(e.sup, e.t);
      s.gaveUp ??= { t: e.t, reason: e.reason };
    }
  }
  const last = events.length > 0 ? Math.max(...events.map((e) => e.t)) : 0;
  const end = options.until ?? last;
  return { series: [...bySup.values()], end };
}

/** Step points of "restarts in the last `period` seconds" (or cumulative restarts without limits). */
function steps(s: SupSeries, end: number): Array<{ t: number; restarts: number }> {
  const stop = s.gaveUp ? s.gaveUp.t : Math.max(end, s.start);
  const changes: Array<{ t: number; d: number }> = s.restarts.map((t) => ({ t, d: 1 }));
  if (s.limits) {
    const window = s.limits.period * 1000;
    for (const t of s.restarts) if (t + window <= stop) changes.push({ t: t + window, d: -1 });
  }
  // At equal times a restart leaving the window goes before one entering it.
  changes.sort((a, b) => a.t - b.t || a.d - b.d);
  const points = [{ t: s.start, restarts: 0 }];
  let count = 0;
  for (const c of changes) {
    count += c.d;
    const prev = points[points.length - 1]!;
    if (prev.t === c.t) prev.restarts = count;
    else points.push({ t: c.t, restarts: count });
  }
  if (points[points.length - 1]!.t < stop) points.push({ t: stop, restarts: count });
  // The attempt that broke the limit: the line climbs over the dashed one where the supervisor gave up.
  if (s.gaveUp) points.push({ t: s.gaveUp.t, restarts: s.limits ? s.limits.intensity + 1 : count + 1 });
  return points;
}

function restartsSpec(series: SupSeries[], end: number): VegaLiteSpec {
  const lines = series.flatMap((s) => steps(s, end).map((p) => ({ supervisor: s.label, ...p })));
  const rules = series.filter((s) => s.limits).map((s) => ({ supervisor: s.label, intensity: s.limits!.intensity, label: `limit: ${s.limits!.intensity} in ${s.limits!.period}s` }));
  // One mark per point; supervisors that gave up at the same moment and height share its label.
  const gaveUpAt = new Map<string, { supervisor: string; t: number; restarts: number; who: string[] }>();
  for (const s of series.filter((x) => x.gaveUp)) {
    const restarts = (s.limits?.intensity ?? s.restarts.length) + 1;
    const key = `${s.gaveUp!.t}/${restarts}`;
    const mark = gaveUpAt.get(key);
    if (mark) mark.who.push(s.label);
    else gaveUpAt.set(key, { supervisor: s.label, t: s.gaveUp!.t, restarts, who: [s.label] });
  }
  const gaveUp = [...gaveUpAt.values()].map(({ who, ...m }) => ({ ...m, label: `${who.join(", ")} gave up` }));
  const cumulative = series.some((s) => !s.limits);
  const color = { field: "supervisor", type: "nominal", title: "supervisor", sort: series.map((s) => s.label) };
  const times = lines.map((p) => p.t);
  const midT = times.length > 0 ? (Math.min(...times) + Math.max(...times)) / 2 : 0;
  const top = Math.max(1, ...lines.map((p) => p.restarts), ...rules.map((r) => r.intensity), ...gaveUp.map((g) => g.restarts));
  // Every layer states the same integer axis (merged layer axes would otherwise disagree).
  const y = { field: "restarts", type: "quantitative", title: "restarts", scale: { zero: true }, axis: integerAxis(top) };
  return {
    $schema: SCHEMA,
    title: { text: "Restarts per supervisor", subtitle: cumulative ? "restarts in the last period (cumulative where the limit is unknown)" : "restarts in the last period; dashed: the intensity limit" },
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    layer: [
      {
        data: { values: lines },
        mark: { type: "line", interpolate: "step-after", point: true, strokeWidth: 2 },
        encoding: {
          x: TIME_AXIS,
          y,
          color,
        },
      },
      {
        data: { values: rules },
        mark: { type: "rule", strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { ...y, field: "intensity" }, color },
      },
      {
        data: { values: rules },
        mark: { type: "text", align: "left", dx: 4, dy: -6, fontSize: 11 },
        encoding: { x: { value: 0 }, y: { ...y, field: "intensity" }, text: { field: "label" }, color },
      },
      {
        data: { values: gaveUp },
        mark: { type: "point", shape: "cross", size: 220, filled: true, color: "#c62828" },
        encoding: { x: { field: "t", type: "quantitative" }, y },
      },
      // Labels point inward, so one near either end of the time axis stays inside the chart.
      ...(["left", "right"] as const).map((align) => ({
        data: { values: gaveUp.filter((g) => (g.t > midT) === (align === "right")) },
        mark: { type: "text", align, dx: align === "left" ? 10 : -10, dy: -4, fontSize: 11, fontWeight: "bold", color: "#c62828" },
        encoding: { x: { field: "t", type: "quantitative" }, y, text: { field: "label" } },
      })),
    ],
  };
}

/**
 * An axis of whole numbers. For small ranges the tick values are listed: Vega's `tickMinStep` still lets d3
 * pick a step of 0.5 on a 0..2 domain, which an integer format prints as "0, 1, 1, 2, 2".
 */
function integerAxis(max: number): Record<string, unknown> {
  return max <= 12 ? { values: Array.from({ length: Math.floor(max) + 1 }, (_, i) => i), format: "d" } : { tickMinStep: 1, format: "d" };
}

function restartsText(series: SupSeries[]): string {
  const out = ["Restarts per supervisor (runtime clock)"];
  if (series.length === 0) out.push("  no restarts in these events");
  for (const s of series) {
    const times = s.restarts.length > 0 ? ` at ${s.restarts.slice(0, 12).map((t) => formatCount(t)).join(", ")}${s.restarts.length > 12 ? ", …" : ""} ms` : "";
    const limit = s.limits ? `; limit ${s.limits.intensity} in ${s.limits.period}s` : "; limit unknown";
    const gaveUp = s.gaveUp ? `; GAVE UP at ${formatMs(s.gaveUp.t)} (${s.gaveUp.reason})` : "";
    out.push(`  ${s.label}: ${plural(s.restarts.length, "restart")}${times}${limit}${gaveUp}`);
  }
  return out.join("\n");
}

/**
 * Restarts over time for each supervisor: how many restarts fall in its `period`, the `intensity` limit as a
 * dashed line, and a red cross where it gave up (reached_max_restart_intensity) and shut down.
 *
 * @example restartsChart(runtime.events.all(), { limits: runtime.snapshot("Shop.Sup") })
 */
export function restartsChart(events?: RuntimeEvent[] | { all(): RuntimeEvent[] }, options: RestartsChartOptions = {}): Chart {
  const { series, end } = restartSeries(toEvents(events, "restartsChart"), options);
  return new Chart("restarts-chart", restartsSpec(series, end), restartsText(series));
}

// ---------------------------------------------------------------- memory and mailbox

export interface MetricChartOptions {
  /** Draw the processes with the highest peaks, at most this many. Default 8. */
  top?: number;
  /** Only these pids or names. */
  pids?: string[];
}

type MetricField = "memory" | "mailbox";

const METRIC = {
  memory: { title: "Memory per process", axis: "memory (bytes)", format: "~s", show: formatBytes },
  mailbox: { title: "Mailbox length per process", axis: "messages waiting", format: "d", show: formatCount },
} as const;

interface Series {
  label: string;
  pid: string;
  points: MetricSample[];
  peak: number;
}

function metricSeries(samples: MetricSample[], field: MetricField, options: MetricChartOptions): { shown: Series[]; total: number } {
  const wanted = options.pids ? new Set(options.pids) : null;
  const byPid = new Map<string, Series>();
  for (const s of samples) {
    if (wanted && !wanted.has(s.pid) && !wanted.has(s.name)) continue;
    let series = byPid.get(s.pid);
    if (!series) {
      series = { pid: s.pid, label: s.name && s.name !== s.pid ? `${truncate(s.name, 30)} ${s.pid}` : s.pid, points: [], peak: -Infinity };
      byPid.set(s.pid, series);
    }
    series.points.push(s);
    series.peak = Math.max(series.peak, s[field]);
  }
  const all = [...byPid.values()];
  for (const s of all) s.points.sort((a, b) => a.t - b.t);
  const top = Math.max(1, Math.floor(options.top ?? 8));
  const shown = [...all].sort((a, b) => b.peak - a.peak || (a.pid < b.pid ? -1 : a.pid > b.pid ? 1 : 0)).slice(0, top);
  // Legend in order of first appearance, which is stable and matches the text.
  const order = new Map(all.map((s, i) => [s, i]));
  shown.sort((a, b) => order.get(a)! - order.get(b)!);
  return { shown, total: all.length };
}

function metricLayer(field: MetricField, shown: Series[], total: number): VegaLiteSpec {
  const m = METRIC[field];
  const values = shown.flatMap((s) => s.points.map((p) => ({ t: p.t, process: s.label, [field]: p[field] })));
  return {
    title: { text: m.title, subtitle: total > shown.length ? `top ${shown.length} of ${formatCount(total)} processes by peak` : "runtime clock on the x axis" },
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: "line", point: values.length <= 200, strokeWidth: 2 },
    encoding: {
      x: TIME_AXIS,
      y: { field, type: "quantitative", title: m.axis, scale: { zero: true }, axis: field === "mailbox" ? integerAxis(Math.max(1, ...shown.map((s) => s.peak))) : { format: m.format } },
      color: { field: "process", type: "nominal", title: "process", sort: shown.map((s) => s.label) },
    },
  };
}

function metricText(field: MetricField, shown: Series[], total: number): string {
  const m = METRIC[field];
  const out = [`${m.title} (runtime clock)${total > shown.length ? `, top ${shown.length} of ${formatCount(total)}` : ""}`];
  if (shown.length === 0) out.push("  no samples");
  for (const s of shown) {
    const values = s.points.map((p) => p[field]);
    const first = s.points[0]!;
    const last = s.points[s.points.length - 1]!;
    out.push(`  ${s.label}: ${sparkline(values)}  min ${m.show(Math.min(...values))}, max ${m.show(s.peak)}, last ${m.show(last[field])} (${formatMs(first.t)} to ${formatMs(last.t)})`);
  }
  return out.join("\n");
}

function metricChart(kind: WidgetKind, field: MetricField, input: unknown, options: MetricChartOptions): Chart {
  const samples = toSamples(input, kind === "memory-chart" ? "memoryChart" : "mailboxChart");
  const { shown, total } = metricSeries(samples, field, options);
  return new Chart(kind, { $schema: SCHEMA, config: CONFIG, ...metricLayer(field, shown, total) }, metricText(field, shown, total));
}

/**
 * Memory of each process over time (bytes held: structure, mailbox and state), from metric samples.
 *
 * @example memoryChart(metrics.samples())
 */
export function memoryChart(samples: MetricSample[] | unknown, options: MetricChartOptions = {}): Chart {
  return metricChart("memory-chart", "memory", samples, options);
}

/**
 * Mailbox length of each process over time: a line that keeps climbing is a process that cannot keep up.
 *
 * @example mailboxChart(metrics.samples(), { pids: ["cache"] })
 */
export function mailboxChart(samples: MetricSample[] | unknown, options: MetricChartOptions = {}): Chart {
  return metricChart("mailbox-chart", "mailbox", samples, options);
}

/** Memory above mailbox length, in one picture: how the runtime's metrics render by default. */
export function metricsChart(samples: MetricSample[] | unknown, options: MetricChartOptions = {}): Chart {
  const all = toSamples(samples, "metricsChart");
  const memory = metricSeries(all, "memory", options);
  const mailbox = metricSeries(all, "mailbox", options);
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    vconcat: [metricLayer("memory", memory.shown, memory.total), metricLayer("mailbox", mailbox.shown, mailbox.total)],
    resolve: { scale: { color: "independent" } },
  };
  return new Chart("metrics-chart", spec, `${metricText("memory", memory.shown, memory.total)}\n${metricText("mailbox", mailbox.shown, mailbox.total)}`);
}
