/**
 * Scores and the three report formats of `otp-lab grade`.
 *
 * A test (one per autograded cell of the source, named by its grade_id) earns its points when its cell ran
 * without an error output, and nothing otherwise. Its feedback is the error's `ename: evalue`, colours removed.
 *
 *   - `json`: everything the grader knows, for scripts.
 *   - `gradescope`: Gradescope's autograder `results.json` (`score`, `tests[].{name, score, max_score, status,
 *     output}`), with the total `max_score` as well.
 *   - `junit`: JUnit XML, one `testcase` per test: `failure` when an assertion failed, `error` when the cell
 *     timed out, killed the kernel or never ran; the points are `properties`.
 */
import path from "node:path";
import { gradeId, isTestCell, points, type Notebook } from "./notebook.js";
import type { CellRun } from "./execute-notebook.js";

export type TestStatus = "passed" | "failed" | "timeout" | "crashed" | "not-run";

export interface TestResult {
  grade_id: string;
  score: number;
  max_score: number;
  status: TestStatus;
  ename?: string;
  evalue?: string;
  /** What the student sees: "passed", or what went wrong. */
  feedback: string;
  duration_ms: number;
}

export interface GradeResults {
  submission: string;
  source: string;
  score: number;
  max_score: number;
  /** False in the provisional file written before grading, and when the kernel could not be started. */
  finished: boolean;
  tests: TestResult[];
  /** Locked cells put back from the source because they were edited or deleted. */
  restored: string[];
  reinserted: string[];
  /** Cells whose nbgrader metadata was not the source's (and was dropped). */
  stripped: string[];
  kernel_restarts: number;
  kernel_error?: string;
  /** Why the submission could not be graded at all. */
  error?: string;
  duration_ms: number;
}

export type Format = "json" | "junit" | "gradescope";
export const FORMATS: readonly Format[] = ["json", "junit", "gradescope"];

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export function plain(s: string): string {
  return s.replace(ANSI, "");
}

/** One result per test cell of the source; `runs` are the cells of the graded notebook (`graded`). */
export function scoreTests(source: Notebook, graded: Notebook, runs: CellRun[] | null, notRunWhy: string): TestResult[] {
  const byIndex = new Map((runs ?? []).map((r) => [r.index, r]));
  const indexOf = new Map<string, number>();
  graded.cells.forEach((c, i) => {
    const id = gradeId(c);
    if (id !== undefined && !indexOf.has(id)) indexOf.set(id, i);
  });
  return source.cells.filter(isTestCell).map((cell) => {
    const id = gradeId(cell)!;
    const max = points(cell);
    const i = indexOf.get(id);
    const run = i === undefined ? undefined : byIndex.get(i);
    if (!run || run.status === "not-run") {
      return { grade_id: id, score: 0, max_score: max, status: "not-run", feedback: `not run: ${notRunWhy}`, duration_ms: 0 };
    }
    if (run.status === "ok") return { grade_id: id, score: max, max_score: max, status: "passed", feedback: "passed", duration_ms: run.durationMs };
    const ename = run.error?.ename ?? "Error";
    const evalue = plain(run.error?.evalue ?? "");
    const status: TestStatus = run.status === "timeout" ? "timeout" : run.status === "crashed" ? "crashed" : "failed";
    return { grade_id: id, score: 0, max_score: max, status, ename, evalue, feedback: `${ename}: ${evalue}`.trim(), duration_ms: run.durationMs };
  });
}

export function totals(tests: TestResult[]): { score: number; max_score: number } {
  const sum = (f: (t: TestResult) => number) => Math.round(tests.reduce((a, t) => a + f(t), 0) * 1000) / 1000;
  return { score: sum((t) => t.score), max_score: sum((t) => t.max_score) };
}

export function render(results: GradeResults, format: Format): string {
  switch (format) {
    case "json":
      return JSON.stringify(results, null, 2) + "\n";
    case "gradescope":
      return JSON.stringify(gradescope(results), null, 2) + "\n";
    case "junit":
      return junit(results);
  }
}

function summary(r: GradeResults): string {
  const lines = [`Score: ${r.score} / ${r.max_score}`];
  if (r.error) lines.push(`The submission could not be graded: ${r.error}`);
  else if (!r.finished) lines.push(r.kernel_error ? `The notebook could not be graded completely: ${plain(r.kernel_error)}` : "Grading did not finish.");
  if (r.restored.length) lines.push(`Locked cells restored from the assignment: ${r.restored.join(", ")}.`);
  if (r.reinserted.length) lines.push(`Deleted locked cells put back: ${r.reinserted.join(", ")}.`);
  if (r.kernel_restarts) lines.push(`The kernel was restarted ${r.kernel_restarts} time(s) after a cell timed out or crashed it.`);
  return lines.join("\n");
}

/** https://gradescope-autograders.readthedocs.io/en/latest/specs/ */
function gradescope(r: GradeResults) {
  return {
    score: r.score,
    max_score: r.max_score,
    execution_time: Math.round(r.duration_ms / 1000),
    output: summary(r),
    tests: r.tests.map((t) => ({
      name: t.grade_id,
      score: t.score,
      max_score: t.max_score,
      status: t.status === "passed" ? "passed" : "failed",
      output: t.feedback,
    })),
  };
}

function junit(r: GradeResults): string {
  const suite = path.basename(r.submission, ".ipynb");
  const failures = r.tests.filter((t) => t.status === "failed").length;
  const errors = r.tests.filter((t) => t.status === "timeout" || t.status === "crashed" || t.status === "not-run").length;
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const counts = `tests="${r.tests.length}" failures="${failures}" errors="${errors}" time="${time(r.duration_ms)}"`;
  out.push(`<testsuites name="otp-lab grade" ${counts}>`);
  out.push(`  <testsuite name="${attr(suite)}" ${counts} skipped="0">`);
  out.push("    <properties>");
  for (const [k, v] of [
    ["score", r.score],
    ["max_score", r.max_score],
    ["submission", r.submission],
    ["source", r.source],
    ["finished", r.finished],
  ] as const) {
    out.push(`      <property name="${k}" value="${attr(String(v))}"/>`);
  }
  out.push("    </properties>");
  for (const t of r.tests) {
    const open = `    <testcase classname="${attr(suite)}" name="${attr(t.grade_id)}" time="${time(t.duration_ms)}"`;
    const props = `      <properties><property name="score" value="${t.score}"/><property name="max_score" value="${t.max_score}"/></properties>`;
    if (t.status === "passed") {
      out.push(`${open}>`, props, "    </testcase>");
      continue;
    }
    const tag = t.status === "failed" ? "failure" : "error";
    const type = t.ename ?? (t.status === "not-run" ? "NotRun" : "Error");
    out.push(`${open}>`, props, `      <${tag} type="${attr(type)}" message="${attr(t.feedback)}">${text(t.feedback)}</${tag}>`, "    </testcase>");
  }
  out.push("  </testsuite>", "</testsuites>", "");
  return out.join("\n");
}

/** Characters XML 1.0 cannot hold at all (control characters other than tab, newline, return). */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function text(s: string): string {
  return plain(s).replace(NOT_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}
