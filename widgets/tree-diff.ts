/**
 * `treeDiff`: what changed between two snapshots of a supervision tree.
 *
 * Children are matched by their id under the same parent (the supervisor's child spec id, which survives a
 * restart), then compared by pid: a new pid means the supervisor restarted the child. Children only in the
 * first snapshot are removed (drawn dashed, in red), children only in the second are added. The drawing is the
 * second tree with the removed children put back where they were.
 */
import type { PidString, TreeNode } from "../runtime/observe.js";
import { toSnapshot, type TreeInput } from "./sources.js";
import { formatCount, formatMs, plural } from "./text.js";
import { asciiCaption } from "./tree-diagram.js";
import { drawTree } from "./tree-draw.js";
import { statusText, type SummaryOptions, type ViewNode } from "./tree-view.js";
import { bundleOf, MIME, Widget } from "./widget.js";

export type ChangeKind = "restarted" | "stopped" | "started" | "removed" | "added" | "changed";

export interface TreeChange {
  kind: ChangeKind;
  /** Ids from the root down, e.g. "Shop.Sup/payments/gateway". */
  path: string;
  id: string;
  before: PidString | null;
  after: PidString | null;
  /** Human-readable, e.g. "<0.81.0> → <0.95.0> (restarts 0 → 2)". */
  detail: string;
  /** Processes in the subtree, for removed and added children. */
  processes: number;
}

interface Mark {
  kind: ChangeKind;
  line: string;
}

/** The text fallback lists this many changes; `.changes` has them all. */
const MAX_LISTED = 20;

const ORDER: ChangeKind[] = ["restarted", "stopped", "started", "removed", "added", "changed"];

function size(node: TreeNode): number {
  return 1 + (node.children ?? []).reduce((n, c) => n + size(c), 0);
}

/** A copy of `node` and its subtree, every node marked by `mark`. */
function copyMarked(node: TreeNode, mark: (n: TreeNode) => Mark, marks: Map<TreeNode, Mark>): TreeNode {
  const copy: TreeNode = { ...node, children: (node.children ?? []).map((c) => copyMarked(c, mark, marks)) };
  marks.set(copy, mark(node));
  return copy;
}

const ADDED = (): Mark => ({ kind: "added", line: "ADDED" });
const REMOVED = (n: TreeNode): Mark => ({ kind: "removed", line: `REMOVED (was ${n.pid ?? statusText(n.status)})` });

function compare(b: TreeNode, a: TreeNode): Mark | null {
  const restarts = b.restarts !== a.restarts ? ` (restarts ${b.restarts} → ${a.restarts})` : "";
  if (b.pid && a.pid && b.pid !== a.pid) return { kind: "restarted", line: `RESTARTED ${b.pid} → ${a.pid}${restarts}` };
  if (b.pid && !a.pid) return { kind: "stopped", line: `STOPPED ${b.pid} → ${statusText(a.status)}` };
  if (!b.pid && a.pid) return { kind: "started", line: `STARTED ${statusText(b.status)} → ${a.pid}` };
  const details: string[] = [];
  if (b.status !== a.status) details.push(`${statusText(b.status)} → ${statusText(a.status)}`);
  if (b.version !== a.version) details.push(`code v${b.version ?? "?"} → v${a.version ?? "?"}`);
  if ((b.oldCode ?? false) !== (a.oldCode ?? false)) details.push(a.oldCode ? "now runs old code" : "now runs current code");
  if (b.restarts !== a.restarts) details.push(`restarts ${b.restarts} → ${a.restarts}`);
  return details.length > 0 ? { kind: "changed", line: `CHANGED ${details.join(", ")}` } : null;
}

/** Pair children: same id and pid first, then same id in order. */
function pair(before: TreeNode[], after: TreeNode[]): { pairs: Array<[TreeNode, TreeNode]>; removed: TreeNode[]; added: TreeNode[] } {
  const matchedB = new Set<TreeNode>();
  const matchedA = new Map<TreeNode, TreeNode>();
  const key = (n: TreeNode) => `${n.id}\u0000${n.pid ?? ""}`;
  const byKey = new Map<string, TreeNode[]>();
  for (const b of before) {
    const list = byKey.get(key(b));
    if (list) list.push(b);
    else byKey.set(key(b), [b]);
  }
  for (const a of after) {
    const b = byKey.get(key(a))?.shift();
    if (b) {
      matchedB.add(b);
      matchedA.set(a, b);
    }
  }
  const byId = new Map<string, TreeNode[]>();
  for (const b of before) {
    if (matchedB.has(b)) continue;
    const list = byId.get(b.id);
    if (list) list.push(b);
    else byId.set(b.id, [b]);
  }
  for (const a of after) {
    if (matchedA.has(a)) continue;
    const b = byId.get(a.id)?.shift();
    if (b) {
      matchedB.add(b);
      matchedA.set(a, b);
    }
  }
  return {
    pairs: after.filter((a) => matchedA.has(a)).map((a) => [matchedA.get(a)!, a]),
    removed: before.filter((b) => !matchedB.has(b)),
    added: after.filter((a) => !matchedA.has(a)),
  };
}

export interface DiffResult {
  merged: TreeNode;
  marks: Map<TreeNode, Mark>;
  changes: TreeChange[];
}

/** Compare two trees. Pure: exported for tests and for lessons that check answers. */
export function diffTrees(before: TreeNode, after: TreeNode): DiffResult {
  const marks = new Map<TreeNode, Mark>();
  const changes: TreeChange[] = [];
  const visit = (b: TreeNode, a: TreeNode, path: string): TreeNode => {
    const merged: TreeNode = { ...a, children: [] };
    const mark = compare(b, a);
    if (mark) {
      marks.set(merged, mark);
      changes.push({ kind: mark.kind, path, id: a.id, before: b.pid, after: a.pid, detail: mark.line.replace(/^[A-Z]+ /, ""), processes: 1 });
    }
    const { pairs, removed, added } = pair(b.children ?? [], a.children ?? []);
    const out = new Map<TreeNode, TreeNode>();
    for (const [cb, ca] of pairs) out.set(ca, visit(cb, ca, `${path}/${ca.id}`));
    for (const ca of added) {
      out.set(ca, copyMarked(ca, ADDED, marks));
      changes.push({ kind: "added", path: `${path}/${ca.id}`, id: ca.id, before: null, after: ca.pid, detail: `${ca.pid ?? "no pid"}`, processes: size(ca) });
    }
    const children: TreeNode[] = (a.children ?? []).map((ca) => out.get(ca)!);
    // Put each removed child back after the sibling it followed in the first snapshot.
    const beforeChildren = b.children ?? [];
    const pairedAfter = new Map(pairs.map(([cb, ca]) => [cb, ca]));
    for (const cb of removed) {
      const copy = copyMarked(cb, REMOVED, marks);
      changes.push({ kind: "removed", path: `${path}/${cb.id}`, id: cb.id, before: cb.pid, after: null, detail: `was ${cb.pid ?? statusText(cb.status)}`, processes: size(cb) });
      let at = 0;
      for (let i = beforeChildren.indexOf(cb) - 1; i >= 0; i--) {
        const prevBefore = beforeChildren[i]!;
        const prevAfter = pairedAfter.get(prevBefore);
        // A kept sibling is found through its match; an earlier removed one was already put back.
        const prevMerged = prevAfter ? out.get(prevAfter) : out.get(prevBefore);
        if (prevMerged) {
          at = children.indexOf(prevMerged) + 1;
          break;
        }
      }
      children.splice(at, 0, copy);
      out.set(cb, copy);
    }
    merged.children = children;
    return merged;
  };
  const merged = visit(before, after, after.id);
  changes.sort((x, y) => ORDER.indexOf(x.kind) - ORDER.indexOf(y.kind));
  return { merged, marks, changes };
}

export type TreeDiffOptions = SummaryOptions & {
  /** Put in front of the heading, e.g. what happened between the two snapshots. */
  title?: string;
};

export class TreeDiff extends Widget {
  readonly changes: TreeChange[];
  readonly view: ViewNode;

  constructor(changes: TreeChange[], view: ViewNode, bundle: Record<string, unknown>) {
    super("tree-diff", bundle);
    this.changes = changes;
    this.view = view;
  }

  /** Only the changes of one kind, e.g. `diff.only("restarted")`. */
  only(kind: ChangeKind): TreeChange[] {
    return this.changes.filter((c) => c.kind === kind);
  }
}

function summaryLine(changes: TreeChange[]): string {
  if (changes.length === 0) return "no changes";
  return ORDER.map((k) => [k, changes.filter((c) => c.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${formatCount(n)} ${k}`)
    .join(", ");
}

/**
 * Show what changed between two snapshots: restarted children (new pids), stopped and started ones, removed
 * and added children. Both arguments take what `treeDiagram` takes.
 *
 * @example
 * const before = runtime.snapshot("Shop.Sup");
 * crash("cache");
 * treeDiff(before, runtime.snapshot("Shop.Sup"))
 */
export function treeDiff(before: TreeInput, after: TreeInput, options: TreeDiffOptions = {}): TreeDiff {
  const b = toSnapshot(before, "treeDiff");
  const a = toSnapshot(after, "treeDiff");
  const { merged, marks, changes } = diffTrees(b.root, a.root);
  const caption = asciiCaption(`${options.title ? `${options.title} - ` : ""}Tree diff from t=${formatMs(b.t)} to t=${formatMs(a.t)} - ${summaryLine(changes)}`);
  const drawn = drawTree(merged, caption, options, {
    pinned: (node) => marks.has(node),
    tag: (node) => marks.get(node)?.kind ?? "",
    decorate: (node, view) => {
      const mark = marks.get(node);
      if (!mark) return;
      view.style = mark.kind === "changed" ? view.style : mark.kind;
      // A removed child is drawn as it was: its status is the one it had, not one it has.
      if (mark.kind === "removed" && view.lines.length > 1) view.lines[1] = `${node.pid ?? "no pid"} · was ${statusText(node.status)}`;
      view.lines.unshift(mark.line);
    },
    decorateGroup: (members, view) => {
      const mark = marks.get(members[0]!);
      if (!mark) return;
      if (mark.kind !== "changed") view.style = mark.kind;
      // A removed group's status is the one it had before it went away.
      if (mark.kind === "removed") view.lines = view.lines.map((l) => (l.startsWith("all ") ? `were ${l.slice(4)}` : l));
      view.lines.unshift(`all ${mark.kind.toUpperCase()}`);
    },
  });
  const listing = changes.length === 0
    ? ["(no changes)"]
    : changes
        .slice(0, MAX_LISTED)
        .map((c) => `  ${c.kind.padEnd(9)} ${c.path}  ${c.detail}${c.processes > 1 ? ` (${plural(c.processes, "process")})` : ""}`);
  if (changes.length > MAX_LISTED) listing.push(`  … and ${plural(changes.length - MAX_LISTED, "more change")} (see .changes)`);
  const text = [caption, ...listing, "", drawn.text.split("\n").slice(1).join("\n")].join("\n");
  const bundle = bundleOf({ native: [MIME.mermaid, drawn.mermaid], svg: drawn.svg, width: drawn.width, height: drawn.height, text });
  return new TreeDiff(changes, drawn.view, bundle);
}
