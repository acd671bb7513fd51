/**
 * The notebook the grader runs: the student's submission with every locked cell of the source put back
 * (nbgrader's "overwrite cells" step), so that editing or deleting a test cell cannot change the score.
 *
 *   - A submission cell whose grade_id names a locked source cell gets the source's type, text (hidden tests
 *     included) and metadata. Only the first such cell is the graded one; later copies lose their nbgrader
 *     metadata and run as ordinary code.
 *   - A locked source cell missing from the submission is re-inserted after the cell that precedes it in the
 *     source (the nearest earlier source cell, matched by grade_id, that the submission still has), so a test
 *     still runs after the solution it tests.
 *   - nbgrader metadata the source does not have (a test cell the student made up, or points the student
 *     raised) is removed: what is graded, and for how many points, comes from the source alone. Such a
 *     grade_id is reported as the student wrote it, cut to 100 characters (it is the student's text).
 */
import { stripBlocks } from "./assign.js";
import { clone, gradeId, isLocked, newCellId, normalizeCellIds, type Cell, type Notebook } from "./notebook.js";

export interface Restored {
  notebook: Notebook;
  /** grade_ids of locked cells whose submitted text or type differed from the source. */
  restored: string[];
  /** grade_ids of locked cells the submission did not have. */
  reinserted: string[];
  /** grade_ids whose nbgrader metadata was dropped (unknown to the source, or a duplicate). */
  stripped: string[];
}

export function restoreLockedCells(submission: Notebook, source: Notebook): Restored {
  const sub = clone(submission);
  const restored: string[] = [];
  const reinserted: string[] = [];
  const stripped: string[] = [];

  const sourceById = new Map<string, Cell>();
  for (const c of source.cells) {
    const id = gradeId(c);
    if (id !== undefined && !sourceById.has(id)) sourceById.set(id, c);
  }

  // First submission cell per grade_id; other nbgrader cells become plain cells.
  const position = new Map<string, number>();
  sub.cells.forEach((cell, i) => {
    if (!cell.metadata.nbgrader) return;
    const id = gradeId(cell);
    const src = id === undefined ? undefined : sourceById.get(id);
    if (id === undefined || !src || position.has(id)) {
      delete cell.metadata.nbgrader;
      stripped.push(id === undefined ? `cell ${i + 1}` : id.length > 100 ? `${id.slice(0, 100)}…` : id);
      return;
    }
    position.set(id, i);
    if (isLocked(src)) {
      if (cell.cell_type !== src.cell_type || !sameAsHandedOut(joined(cell), joined(src))) restored.push(id);
      sub.cells[i] = lockedCopy(src, cell);
    } else {
      // A solution cell: the student's text, the source's metadata (points cannot be edited up).
      cell.metadata.nbgrader = clone(src.metadata.nbgrader);
    }
  });

  // Missing locked cells, grouped by the submission cell they follow (-1: the top).
  const inserts = new Map<number, Cell[]>();
  let anchor = -1;
  for (const src of source.cells) {
    const id = gradeId(src);
    if (id === undefined) continue;
    const at = position.get(id);
    if (at !== undefined) {
      anchor = at;
      continue;
    }
    if (!isLocked(src)) continue;
    const list = inserts.get(anchor) ?? [];
    list.push(lockedCopy(src, undefined));
    inserts.set(anchor, list);
    reinserted.push(id);
  }

  const cells: Cell[] = [...(inserts.get(-1) ?? [])];
  sub.cells.forEach((cell, i) => cells.push(cell, ...(inserts.get(i) ?? [])));
  sub.cells = cells;
  // Re-inserted cells bring the source's ids, which may clash with the submission's.
  const taken = new Set<string>();
  for (const c of cells) {
    if (typeof c.id !== "string") continue;
    if (taken.has(c.id)) c.id = newCellId(taken);
    else taken.add(c.id);
  }
  normalizeCellIds(sub);
  return { notebook: sub, restored, reinserted, stripped };
}

function lockedCopy(src: Cell, replacing: Cell | undefined): Cell {
  const cell = clone(src);
  if (replacing?.id !== undefined) cell.id = replacing.id;
  if (cell.cell_type === "code") {
    cell.outputs = [];
    cell.execution_count = null;
  }
  return cell;
}

/** The submitted text is the source's, or what `assign` made of it (hidden tests removed). */
function sameAsHandedOut(submitted: string, source: string): boolean {
  if (submitted === source) return true;
  try {
    return submitted === stripBlocks(source, "source").text;
  } catch {
    return false;
  }
}

function joined(c: Cell): string {
  return Array.isArray(c.source) ? c.source.join("") : c.source;
}
