/**
 * How runtime objects draw themselves: the renderers `runtime/display-hook.ts` calls from their
 * `[Symbol.for("Jupyter.display")]()`. Registered when `widgets/index.ts` loads.
 *
 * Each takes the value the runtime passes (plain JSON from runtime/observe.ts, or an object that can produce it,
 * see sources.ts). A renderer that throws falls back to the runtime's own text, with the reason.
 */
import { registerRenderer, type MimeBundle } from "../runtime/display-hook.js";
import type { RuntimeEvent, TreeSnapshot } from "../runtime/observe.js";
import { metricsChart } from "./charts.js";
import { processTable } from "./process-table.js";
import { sequenceDiagram } from "./sequence-diagram.js";
import { toEvents, toSnapshot } from "./sources.js";
import { treeDiagram } from "./tree-diagram.js";
import { treeDiff } from "./tree-diff.js";
import { MIME } from "./widget.js";
import { clusterStages, type ClusterView } from "./cluster-diagram.js";

/** What `runtime/demos.ts` returns: a tree before and after one action, and the events in between. */
interface DemoLike {
  title?: string;
  before: unknown;
  after: unknown;
  events?: RuntimeEvent[];
  summary?: () => string;
}

/** The tree after its supervisor is gone: the root without a pid and no children, so all show as removed. */
function gone(before: TreeSnapshot, events: RuntimeEvent[]): TreeSnapshot {
  const t = events.length > 0 ? events[events.length - 1]!.t : before.t;
  return { t, root: { ...before.root, pid: null, status: "dead", children: [] } };
}

/** A demo draws as the diff of its trees, with its lesson and event summary as the text. */
export function demoBundle(value: unknown): MimeBundle {
  const demo = value as DemoLike;
  const before = toSnapshot(demo.before, "demo");
  const after = demo.after ? toSnapshot(demo.after, "demo") : gone(before, demo.events ?? []);
  const diff = treeDiff(before, after, { title: demo.title });
  const summary = typeof demo.summary === "function" ? demo.summary() : "";
  return { ...diff.bundle, [MIME.text]: summary ? `${summary}\n\n${diff.text}` : diff.text };
}

/** demoNetsplit: the cluster at each stage, one picture under the other, with the demo's account as the text. */
export function netsplitBundle(value: unknown): MimeBundle {
  const demo = value as { title: string; stages: Array<{ label: string; view: ClusterView }>; summary(): string };
  const pictures = clusterStages(demo.stages, demo.title);
  return { ...pictures.bundle, [MIME.text]: `${demo.summary()}\n\n${pictures.bundle[MIME.text] as string}` };
}

export function registerWidgetRenderers(): void {
  registerRenderer("supervisor", (value) => treeDiagram(value as never).bundle);
  registerRenderer("snapshot", (value) => treeDiagram(value as never).bundle);
  registerRenderer("process", (value) => processTable(value as never).bundle);
  registerRenderer("events", (value) => sequenceDiagram(toEvents(value, "events")).bundle);
  registerRenderer("metrics", (value) => metricsChart(value).bundle);
  registerRenderer("demo", demoBundle);
  registerRenderer("netsplit", netsplitBundle);
}
