/**
 * From a supervision-tree snapshot to the tree we actually draw: labelled, grouped and cut to a budget.
 *
 * Mermaid refuses diagrams over 500 edges or 50,000 characters (its defaults, which JupyterLab keeps), and a
 * picture of 10,000 boxes teaches nothing anyway. So, in this order:
 *  1. identical siblings (same kind, behaviour, code, restart type, status and subtree shape) beyond the first
 *     few are folded into one group node, "× 9,997 more workers"; processes worth seeing (restarted ones,
 *     diff changes) stay out of groups, up to a cap;
 *  2. subtrees the caller asked to collapse (by id, name or pid, or below a depth) become one line on their root;
 *  3. if the tree is still over `maxNodes`, whole levels are collapsed from the bottom, and if even the root's
 *     children do not fit, the surplus becomes one "… N more children" node.
 * Every renderer (Mermaid, SVG, ASCII) draws the same ViewNode tree, so all fallbacks tell the same story.
 */
import type { TreeNode } from "../runtime/observe.js";
import { formatCount, plural, truncate } from "./text.js";

/** How a node is styled; one per node. Diff marks take precedence over process status. */
export type NodeStyle =
  | "running"
  | "restarting"
  | "dead"
  | "undefined"
  | "group"
  | "more"
  | "restarted"
  | "added"
  | "removed"
  | "stopped"
  | "started";

export interface ViewNode {
  /** Stable id in drawing order ("n0", "n1", ...); also the Mermaid node id. */
  key: string;
  shape: "supervisor" | "worker" | "group" | "more";
  title: string;
  lines: string[];
  style: NodeStyle;
  /** Drawn with a heavy purple border: the process runs a module version that is no longer current. */
  oldCode: boolean;
  /** Its subtree was collapsed into one line of the label. */
  collapsed: boolean;
  children: ViewNode[];
  /** Processes this node stands for, itself included (a group counts all its members and their subtrees). */
  represents: number;
  source?: TreeNode;
}

export interface SummaryOptions {
  /** Most nodes to draw (edges are one fewer). Default 120; never above 400, Mermaid's limit is 500 edges. */
  maxNodes?: number;
  /** Identical siblings are grouped when there are more than this many. Default 5. */
  groupAbove?: number;
  /** How many members of a group stay visible before the "× N more" node. Default 3. */
  keep?: number;
  /** Deepest level drawn (root = 0); deeper subtrees are collapsed. Default: no limit. */
  depth?: number;
  /** Ids, registered names or pids whose subtrees are drawn collapsed. */
  collapse?: Iterable<string>;
}

export const DEFAULT_MAX_NODES = 120;
export const HARD_MAX_NODES = 400;
export const DEFAULT_GROUP_ABOVE = 5;
export const DEFAULT_KEEP = 3;
/** At most this many "interesting" members of a group are kept outside it; the rest are counted in the group. */
const MAX_PINNED_PER_GROUP = 10;

/** Hooks that let the diff reuse this pipeline. */
export interface Decoration {
  /** Keep this node visible even inside a large group of identical siblings. */
  pinned?(node: TreeNode): boolean;
  /** Change the style or add lines after the default label is made. */
  decorate?(node: TreeNode, view: ViewNode): void;
  /** Extra text for the grouping signature: siblings with different tags are never grouped together. */
  tag?(node: TreeNode): string;
  /** Adjust a group node; `members` are the processes it stands for. */
  decorateGroup?(members: TreeNode[], view: ViewNode): void;
}

/**
 * A node's status as the pictures write it. OTP's `undefined` (the supervisor keeps the child's spec but it has
 * no process: a transient child that ended normally, a child stopped with `terminateChild`) reads
 * "kept, not running", as lesson 6 says it; the others are written as they are.
 */
export function statusText(status: TreeNode["status"]): string {
  return status === "undefined" ? "kept, not running" : status;
}

/** The default label of one process node. */
export function describeNode(node: TreeNode): { title: string; lines: string[] } {
  const lines: string[] = [];
  if (node.kind === "supervisor") {
    const parts = [node.behaviour || "supervisor"];
    if (node.strategy) parts.push(node.strategy);
    if (node.intensity !== undefined && node.period !== undefined) parts.push(`limit ${node.intensity} in ${node.period}s`);
    if (node.restart) parts.push(node.restart);
    lines.push(parts.join(" · "));
  } else {
    lines.push(["worker", node.behaviour, node.restart].filter(Boolean).join(" · "));
  }
  lines.push(`${node.pid ?? "no pid"}${node.node ? ` on ${node.node}` : ""} · ${statusText(node.status)}`);
  lines.push(`restarts ${formatCount(node.restarts)}` + (node.lastExitReason !== undefined ? ` · last exit ${truncate(node.lastExitReason, 36)}` : ""));
  if (node.module) {
    lines.push(`${truncate(node.module, 36)}${node.version !== undefined ? ` v${node.version}` : ""}${node.oldCode ? " · old code" : ""}`);
  } else if (node.oldCode) {
    lines.push("old code");
  }
  return { title: truncate(node.id, 48), lines };
}

function processView(node: TreeNode): ViewNode {
  const { title, lines } = describeNode(node);
  return {
    key: "",
    shape: node.kind === "supervisor" ? "supervisor" : "worker",
    title,
    lines,
    style: node.status,
    oldCode: node.oldCode === true,
    collapsed: false,
    children: [],
    represents: 1,
    source: node,
  };
}

/** Processes in the subtree of `node`, itself included. */
function sizeOf(node: TreeNode, memo: Map<TreeNode, number>): number {
  let n = memo.get(node);
  if (n === undefined) {
    n = 1;
    for (const c of node.children ?? []) n += sizeOf(c, memo);
    memo.set(node, n);
  }
  return n;
}

/**
 * Two siblings with the same signature draw the same, apart from id, pid and restart history. Signatures are
 * interned to short ids, so a deep tree's signature does not grow with its depth.
 */
function signature(node: TreeNode, memo: Map<TreeNode, string>, tag: (node: TreeNode) => string, intern: Map<string, string>): string {
  let s = memo.get(node);
  if (s === undefined) {
    const counts = new Map<string, number>();
    for (const c of node.children ?? []) {
      const cs = signature(c, memo, tag, intern);
      counts.set(cs, (counts.get(cs) ?? 0) + 1);
    }
    const shape = [...counts].map(([k, v]) => `${v}*${k}`).join(",");
    const full = JSON.stringify([node.kind, node.behaviour, node.module ?? "", node.version ?? "", node.restart ?? "", node.status,
      node.oldCode === true, node.strategy ?? "", node.intensity ?? "", node.period ?? "", tag(node), shape]);
    s = intern.get(full);
    if (s === undefined) {
      s = `s${intern.size}`;
      intern.set(full, s);
    }
    memo.set(node, s);
  }
  return s;
}

function groupView(members: TreeNode[], sizes: Map<TreeNode, number>): ViewNode {
  const sample = members[0]!;
  const count = members.length;
  const what = sample.kind === "supervisor" ? "supervisor" : "worker";
  const represents = members.reduce((n, m) => n + sizeOf(m, sizes), 0);
  const restarts = members.reduce((n, m) => n + m.restarts, 0);
  const lines: string[] = [];
  const sampleLines = describeNode(sample).lines;
  lines.push(sampleLines[0]!);
  lines.push(`all ${statusText(sample.status)}`);
  if (restarts > 0) lines.push(`restarts ${formatCount(restarts)} in total`);
  if (sample.module) lines.push(`${truncate(sample.module, 36)}${sample.version !== undefined ? ` v${sample.version}` : ""}${sample.oldCode ? " · old code" : ""}`);
  if (represents > count) lines.push(`${plural(represents, "process")} in all`);
  return {
    key: "",
    shape: "group",
    title: `× ${formatCount(count)} more ${what}${count === 1 ? "" : "s"}`,
    lines,
    style: "group",
    oldCode: sample.oldCode === true,
    collapsed: false,
    children: [],
    represents,
  };
}

function collapseInto(view: ViewNode, hidden: number): void {
  view.collapsed = true;
  view.children = [];
  view.represents += hidden;
  view.lines.push(`▸ ${plural(hidden, "process")} below (collapsed)`);
}

function total(view: ViewNode): number {
  let n = view.represents;
  for (const c of view.children) n += total(c);
  return n;
}

function build(
  node: TreeNode,
  depth: number,
  options: Required<Pick<SummaryOptions, "groupAbove" | "keep">> & { depth: number; collapse: Set<string> },
  decoration: Decoration,
  sizes: Map<TreeNode, number>,
  sigs: Map<TreeNode, string>,
  interned: Map<string, string>,
): ViewNode {
  const view = processView(node);
  decoration.decorate?.(node, view);
  const children = node.children ?? [];
  if (children.length === 0) return view;
  const wantsCollapse = depth >= options.depth || options.collapse.has(node.id) || (node.pid !== null && options.collapse.has(node.pid));
  if (wantsCollapse) {
    collapseInto(view, sizeOf(node, sizes) - 1);
    return view;
  }
  // Which children stay visible: per signature, the first `keep` plus pinned ones; the rest form one group.
  const bySig = new Map<string, TreeNode[]>();
  for (const c of children) {
    const s = signature(c, sigs, decoration.tag ?? (() => ""), interned);
    const list = bySig.get(s);
    if (list) list.push(c);
    else bySig.set(s, [c]);
  }
  const hiddenGroup = new Map<TreeNode, TreeNode[]>();
  for (const members of bySig.values()) {
    if (members.length <= options.groupAbove) continue;
    // When every member is worth pinning, none stands out: the group label says it for all of them.
    const pins = members.map((m) => decoration.pinned?.(m) ?? false);
    let pinnedLeft = pins.every(Boolean) ? 0 : MAX_PINNED_PER_GROUP;
    const hidden: TreeNode[] = [];
    members.forEach((m, i) => {
      if (i < options.keep) return;
      if (pinnedLeft > 0 && pins[i]) {
        pinnedLeft--;
        return;
      }
      hidden.push(m);
    });
    for (const h of hidden) hiddenGroup.set(h, hidden);
  }
  const emitted = new Set<TreeNode[]>();
  for (const c of children) {
    const group = hiddenGroup.get(c);
    if (!group) {
      view.children.push(build(c, depth + 1, options, decoration, sizes, sigs, interned));
    } else if (!emitted.has(group)) {
      emitted.add(group);
      const g = groupView(group, sizes);
      decoration.decorateGroup?.(group, g);
      view.children.push(g);
    }
  }
  return view;
}

/** Cut whole levels (or, at the root, surplus children) until at most `maxNodes` nodes remain. */
function fitToBudget(root: ViewNode, maxNodes: number): void {
  const levels: ViewNode[][] = [[root]];
  let count = 1;
  for (;;) {
    const last = levels[levels.length - 1]!;
    const next = last.flatMap((v) => v.children);
    if (next.length === 0) return;
    if (count + next.length <= maxNodes) {
      levels.push(next);
      count += next.length;
      continue;
    }
    if (levels.length >= 2) {
      for (const v of last) if (v.children.length > 0) collapseInto(v, total(v) - v.represents);
      return;
    }
    // Only the root fits: keep as many children as the budget allows, collapsed, and count the rest.
    const room = Math.max(0, maxNodes - 2);
    const kept = root.children.slice(0, room);
    const rest = root.children.slice(room);
    for (const v of kept) if (v.children.length > 0) collapseInto(v, total(v) - v.represents);
    const restCount = rest.reduce((n, v) => n + total(v), 0);
    root.children = [
      ...kept,
      {
        key: "",
        shape: "more",
        title: `… ${formatCount(rest.length)} more children`,
        lines: [`${plural(restCount, "process")} not drawn`, "pass collapse or depth to choose"],
        style: "more",
        oldCode: false,
        collapsed: false,
        children: [],
        represents: restCount,
      },
    ];
    return;
  }
}

function assignKeys(root: ViewNode): number {
  let i = 0;
  const visit = (v: ViewNode) => {
    v.key = `n${i++}`;
    v.children.forEach(visit);
  };
  visit(root);
  return i;
}

/** The drawable tree for `root`, within the node budget. */
export function summarise(root: TreeNode, options: SummaryOptions = {}, decoration: Decoration = {}): ViewNode {
  const maxNodes = Math.max(2, Math.min(HARD_MAX_NODES, Math.floor(options.maxNodes ?? DEFAULT_MAX_NODES)));
  const view = build(
    root,
    0,
    {
      groupAbove: Math.max(1, options.groupAbove ?? DEFAULT_GROUP_ABOVE),
      keep: Math.max(1, options.keep ?? DEFAULT_KEEP),
      depth: options.depth ?? Infinity,
      collapse: new Set(options.collapse ?? []),
    },
    decoration,
    new Map(),
    new Map(),
    new Map(),
  );
  fitToBudget(view, maxNodes);
  assignKeys(view);
  return view;
}

/** Nodes in the drawn tree. */
export function countNodes(view: ViewNode): number {
  let n = 1;
  for (const c of view.children) n += countNodes(c);
  return n;
}

/** Processes the drawn tree stands for (equals the snapshot's process count: nothing is lost, only folded). */
export function countRepresented(view: ViewNode): number {
  return total(view);
}

/** Visit every view node, parents before children. */
export function walk(view: ViewNode, fn: (v: ViewNode, parent: ViewNode | null, depth: number) => void): void {
  const visit = (v: ViewNode, parent: ViewNode | null, depth: number) => {
    fn(v, parent, depth);
    for (const c of v.children) visit(c, v, depth + 1);
  };
  visit(view, null, 0);
}
