/**
 * `treeDiagram`: a supervision tree as a Mermaid flowchart, our own SVG, a PNG and an ASCII tree.
 */
import type { TreeSnapshot } from "../runtime/observe.js";
import { toSnapshot, type TreeInput } from "./sources.js";
import { formatMs } from "./text.js";
import { drawTree, type DrawnTree } from "./tree-draw.js";
import type { SummaryOptions, ViewNode } from "./tree-view.js";
import { bundleOf, MIME, Widget } from "./widget.js";

export type TreeDiagramOptions = SummaryOptions & {
  /** Heading shown above the tree (ASCII only; default "Supervision tree at t=… ms"). */
  title?: string;
};

export class TreeDiagram extends Widget {
  readonly snapshot: TreeSnapshot;
  /** The tree as drawn, after grouping and collapsing. */
  readonly view: ViewNode;

  constructor(snapshot: TreeSnapshot, drawn: DrawnTree) {
    super("tree", bundleOf({ native: [MIME.mermaid, drawn.mermaid], svg: drawn.svg, width: drawn.width, height: drawn.height, text: drawn.text }));
    this.snapshot = snapshot;
    this.view = drawn.view;
  }
}

/** Plain ASCII for the YAML front matter of the Mermaid source. */
export function asciiCaption(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").replace(/[:#'"{}[\]&*!|>%@`]/g, " ").replace(/\s+/g, " ").trim();
}

/**
 * Draw a supervision tree.
 *
 * `input` is a snapshot (`runtime.snapshot("MyApp.Sup")`), a supervisor's name or pid, or anything with a
 * `snapshot()` method. Large trees are summarised: identical siblings fold into "× N more workers" groups and
 * levels are collapsed to stay readable and within Mermaid's 500-edge / 50,000-character limits. Pass
 * `{ collapse: ["pool"] }` or `{ depth: 2 }` to fold parts yourself, `{ maxNodes }` to change the budget.
 *
 * @example treeDiagram("MyApp.Sup")
 */
export function treeDiagram(input: TreeInput, options: TreeDiagramOptions = {}): TreeDiagram {
  const snapshot = toSnapshot(input, "treeDiagram");
  const caption = asciiCaption(options.title ?? `Supervision tree at t=${formatMs(snapshot.t)}`);
  // Restarted processes are what a learner looks for: keep them out of "× N more" groups.
  return new TreeDiagram(snapshot, drawTree(snapshot.root, caption, options, { pinned: (node) => node.restarts > 0 }));
}
