/**
 * Public surface of `widgets/`: pictures of supervision trees, event sequences, processes and metrics.
 *
 * The kernel copies every value exported here into notebook cells as a global, so the names are written for
 * learners (`treeDiagram(sup)`, `live(sup)`), and helpers for the kernel and tests live in their own modules.
 * Loading this module registers the renderers that make runtime objects (supervisors, processes, snapshots,
 * event logs, metrics) draw themselves through `[Symbol.for("Jupyter.display")]()`.
 *
 * Every picture function returns an object with a MIME `bundle`: the native type (Mermaid, HTML or Vega-Lite), an
 * SVG drawn here, a PNG of it, and plain text. `control` and `strategyLab` are interactive: Jupyter widgets
 * (`jupyter/`) whose display carries the picture and text as fallbacks.
 */
import { registerWidgetRenderers } from "./renderers.js";
import { ensureTargets } from "./jupyter/model.js";

export { treeDiagram } from "./tree-diagram.js";
export { clusterDiagram } from "./cluster-diagram.js";
export { treeDiff } from "./tree-diff.js";
export { sequenceDiagram } from "./sequence-diagram.js";
export { processTable } from "./process-table.js";
export { restartsChart, memoryChart, mailboxChart, metricsChart } from "./charts.js";
export { live } from "./live.js";
export { control } from "./control.js";
export { strategyLab } from "./strategy-lab.js";

export type { TreeDiagramOptions, TreeDiagram } from "./tree-diagram.js";
export type { ClusterDiagram, ClusterDiagramOptions, ClusterView } from "./cluster-diagram.js";
export type { TreeDiff, TreeChange, ChangeKind } from "./tree-diff.js";
export type { SequenceOptions, SequenceDiagram } from "./sequence-diagram.js";
export type { ProcessTableOptions, ProcessTable, ProcessRow } from "./process-table.js";
export type { Chart, RestartsChartOptions, MetricChartOptions, RestartLimits } from "./charts.js";
export type { LiveView, LiveSource, LiveOptions, LiveTimer } from "./live.js";
export type { Widget } from "./widget.js";
export type { ControlPanel, ControlOptions } from "./control.js";
export type { StrategyLab, StrategyLabOptions } from "./strategy-lab.js";
export type { SummaryOptions } from "./tree-view.js";

// Runtime objects (supervisors, pids, snapshots, event logs, metrics, demos) draw themselves from now on.
registerWidgetRenderers();
// In a kernel, front ends can ask for every widget's state (jupyter.widget.control) from the start.
ensureTargets();
