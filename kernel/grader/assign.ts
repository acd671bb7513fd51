/**
 * The student version of a source notebook (nbgrader's "assign" step), following
 * /work/notes/nbgrader-conventions.md:
 *
 *   - every `// BEGIN SOLUTION` ... `// END SOLUTION` block becomes `throw new Error("not implemented");`,
 *     indented like the BEGIN line, so that every test of the exercise fails until the student writes code;
 *   - every `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS` block is removed (the grader puts it back);
 *   - outputs and execution counts are cleared; metadata, nbgrader's included, is kept.
 *
 * The source's nbgrader metadata is checked first (unique grade_ids, points on test cells, balanced markers),
 * because a mistake there would otherwise only show when grading.
 *
 * `hiddenBlocks` finds the hidden-test text again for the grader: a test cell that has some is a hidden test
 * (its Gradescope visibility is `--hidden-visibility`), and none of that text may reach what students see.
 */
import { BadInput, clone, gradeId, isTestCell, splitLines, sourceText, type Cell, type Notebook } from "./notebook.js";

export const STUB = 'throw new Error("not implemented");';

const MARKER = /^([ \t]*)\/\/[ \t]*(BEGIN|END)[ \t]+(SOLUTION|HIDDEN TESTS)[ \t]*$/;

export interface AssignReport {
  solutions: number;
  hiddenBlocks: number;
  warnings: string[];
}

export function studentVersion(source: Notebook, file = "source notebook"): { notebook: Notebook; report: AssignReport } {
  const warnings = checkMetadata(source, file);
  const nb = clone(source);
  let solutions = 0;
  let hiddenBlocks = 0;
  nb.cells.forEach((cell, i) => {
    const r = stripBlocks(sourceText(cell), `${file}, cell ${i + 1}${gradeId(cell) ? ` (${gradeId(cell)})` : ""}`);
    solutions += r.solutions;
    hiddenBlocks += r.hidden;
    if (r.solutions || r.hidden) cell.source = splitLines(r.text);
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  });
  return { notebook: nb, report: { solutions, hiddenBlocks, warnings } };
}

/** Replaces solution blocks by the stub and drops hidden-test blocks, line by line. */
export function stripBlocks(text: string, where: string): { text: string; solutions: number; hidden: number } {
  const lines = text.split("\n");
  const out: string[] = [];
  let open: { kind: string; line: number } | null = null;
  let solutions = 0;
  let hidden = 0;
  lines.forEach((line, i) => {
    const m = MARKER.exec(line.replace(/\r$/, ""));
    if (!m) {
      if (!open) out.push(line);
      return;
    }
    const [, indent, edge, kind] = m;
    if (edge === "BEGIN") {
      if (open) throw new BadInput(`${where}: line ${i + 1} opens // BEGIN ${kind} inside the ${open.kind} block opened at line ${open.line}; close that one first with // END ${open.kind}`);
      open = { kind: kind!, line: i + 1 };
      if (kind === "SOLUTION") {
        out.push(indent + STUB);
        solutions++;
      } else hidden++;
      return;
    }
    if (!open || open.kind !== kind) {
      throw new BadInput(`${where}: line ${i + 1} has // END ${kind} without a matching // BEGIN ${kind}`);
    }
    open = null;
  });
  if (open) {
    const o = open as { kind: string; line: number };
    throw new BadInput(`${where}: // BEGIN ${o.kind} at line ${o.line} is never closed; add a line // END ${o.kind}`);
  }
  return { text: out.join("\n"), solutions, hidden };
}

/**
 * The lines inside `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS` blocks of a cell's text (markers excluded).
 * Tolerant: an unclosed block runs to the end of the cell (the source was checked when it was assigned).
 */
export function hiddenBlocks(text: string): string[] {
  const lines: string[] = [];
  let open: string | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const m = MARKER.exec(line);
    if (m) {
      if (m[2] === "BEGIN" && open === null) open = m[3]!;
      else if (m[2] === "END" && open === m[3]) open = null;
      continue;
    }
    if (open === "HIDDEN TESTS") lines.push(line);
  }
  return lines;
}

/** True when the cell's text has a hidden-test block (even an empty one). */
export function hasHiddenTests(text: string): boolean {
  return text.split("\n").some((l) => {
    const m = MARKER.exec(l.replace(/\r$/, ""));
    return m !== null && m[2] === "BEGIN" && m[3] === "HIDDEN TESTS";
  });
}

/** Errors that would make grading wrong; warnings for what is merely suspicious. */
export function checkMetadata(nb: Notebook, file: string): string[] {
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  nb.cells.forEach((cell: Cell, i) => {
    const m = cell.metadata.nbgrader;
    if (!m) return;
    const id = gradeId(cell);
    if (id === undefined) throw new BadInput(`${file}: cell ${i + 1} has nbgrader metadata but no grade_id; give it a unique "grade_id"`);
    const before = seen.get(id);
    if (before !== undefined) throw new BadInput(`${file}: cells ${before + 1} and ${i + 1} share grade_id '${id}'; grade_ids must be unique`);
    seen.set(id, i);
    if (isTestCell(cell)) {
      if (typeof m.points !== "number" || !(m.points >= 0)) {
        throw new BadInput(`${file}: test cell '${id}' (cell ${i + 1}) has no numeric "points"; set the points it is worth`);
      }
      if (m.locked !== true) warnings.push(`test cell '${id}' is not locked; Jupyter lets students edit it (the grader restores it all the same)`);
    }
    if (m.solution === true && !/\/\/[ \t]*BEGIN SOLUTION/.test(sourceText(cell))) {
      warnings.push(`solution cell '${id}' has no // BEGIN SOLUTION block; the student version keeps its code`);
    }
  });
  return warnings;
}
