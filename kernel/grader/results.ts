/**
 * Scores and the three report formats of `otp-lab grade`.
 *
 * A test (one per autograded cell of the source, named by its grade_id) earns its points when its cell ran
 * without an error output, and nothing otherwise. Its feedback is the error's `ename: evalue`, colours removed,
 * cut to `MAX_FEEDBACK_CHARS`, with the truth about what came before:
 *   - a test that failed after an incident (an earlier cell timed out, stopped the kernel, or could not be
 *     re-run after a restart: the kernel it ran on lacked part of the notebook's state) gets the latest
 *     incident first and its own error second: "Before this test ran, cell 20 (ex1-solution) timed out after
 *     30 s, so the kernel was restarted without what that cell defined. Then this test failed: ReferenceError:
 *     startShop is not defined". Any failing test after an incident gets it, whether or not it caused the
 *     failure: the grader cannot tell, and both facts are true. Its status stays "failed" (it ran);
 *   - a test that timed out or stopped the kernel itself says so first (`CellTimeoutError: ...`);
 *   - a test that never ran says why: "not run: the submission's time budget of 600 s ran out while cell 20
 *     (ex1-solution) was running".
 * A test is hidden when its source cell has a `// BEGIN HIDDEN TESTS` block.
 *
 *   - `json`: everything the grader knows, for staff and scripts: every test's full feedback, `hidden`,
 *     `cause`; the incidents, truncated outputs, the budget.
 *   - `gradescope`: Gradescope's autograder `results.json`, only fields of its specification
 *     (https://gradescope-autograders.readthedocs.io/en/latest/specs/): `score`, `execution_time`, `output`
 *     (a summary), `output_format`, `visibility`, `stdout_visibility` ("hidden": the grader's progress lines are
 *     for staff), `extra_data` (`max_score`, `finished`, ...: Gradescope takes the maximum from the assignment,
 *     so the total maximum is kept there), and `tests[]` with `name`, `score`, `max_score`, `status` (passed or
 *     failed), `output`, `output_format`, `visibility` ("visible", or for hidden tests `--hidden-visibility`,
 *     by default "after_published") and `extra_data.status` (timeout, crashed, not-run ...). Every field shown
 *     to students at once (the top-level output, visible tests' outputs) goes through `redact`, which removes
 *     text of the source's hidden-test blocks, so that not even an error message quoting hidden code reaches
 *     them (`hiddenTextRedactor`).
 *   - `junit`: JUnit XML, one `testcase` per test: `failure` when it ran and failed (a follow-on failure
 *     included, its message starting with the incident), `error` when the cell timed out, killed the kernel or
 *     never ran; the points and `hidden` are `properties`.
 */
import path from "node:path";
import { hiddenBlocks, hasHiddenTests, stripBlocks } from "./assign.js";
import { gradeId, isTestCell, points, sourceText, type Notebook } from "./notebook.js";
import type { CellRun, Incident } from "./execute-notebook.js";

export type TestStatus = "passed" | "failed" | "timeout" | "crashed" | "not-run";

export interface TestResult {
  grade_id: string;
  score: number;
  max_score: number;
  status: TestStatus;
  ename?: string;
  evalue?: string;
  /** What the student sees: "passed", or what went wrong (the incident before it first, when there was one). */
  feedback: string;
  /** Its source cell has hidden tests. */
  hidden: boolean;
  /** Why it did not run, or the incident before it that it then failed after. */
  cause?: string;
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
  /** The submission's time budget, in seconds. */
  budget_s?: number;
  /** Set when the budget ran out: what was running. */
  budget_exhausted?: string;
  /** Cells that timed out, stopped the kernel or could not be re-run, in order (`cell` counts from 1). */
  incidents?: { cell: number; name: string; kind: Incident["kind"]; what: string }[];
  /** Cells whose outputs were cut by the caps. */
  truncated_outputs?: { cell: number; name: string; message: string }[];
  /** Protections of the kernel that were missing (from the sandbox). */
  warnings?: string[];
  duration_ms: number;
}

export type Format = "json" | "junit" | "gradescope";
export const FORMATS: readonly Format[] = ["json", "junit", "gradescope"];

/** Gradescope's visibility settings. */
export type Visibility = "hidden" | "after_due_date" | "after_published" | "visible";
export const VISIBILITIES: readonly Visibility[] = ["hidden", "after_due_date", "after_published", "visible"];
export const DEFAULT_HIDDEN_VISIBILITY: Visibility = "after_published";

export interface RenderOptions {
  /** Gradescope visibility of hidden tests (default "after_published"). */
  hiddenVisibility?: Visibility;
  /** Applied to every Gradescope field students see at once (default: none; `grade` passes `hiddenTextRedactor`). */
  redact?: (text: string) => string;
}

/** A test's feedback is cut to this many characters (an error message can be megabytes). */
export const MAX_FEEDBACK_CHARS = 10_000;
const MAX_EVALUE_CHARS = 20_000;

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export function plain(s: string): string {
  return s.replace(ANSI, "");
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}… [cut by the grader: ${s.length - n} more characters]` : s;
}

/** "cell 20 (ex1-solution)". */
export function cellLabel(i: Pick<Incident, "index" | "name">): string {
  return `cell ${i.index + 1} (${i.name})`;
}

/** The first sentence of a follow-on failure's feedback. */
export function describeIncident(after: NonNullable<CellRun["after"]>): string {
  const i = after.incident;
  const consequence =
    i.kind === "replay-failed"
      ? "so the kernel went on without what that cell defined"
      : i.kind === "crashed" && /^(had finished|found the kernel)/.test(i.what)
        ? "so the kernel was restarted and the cells that had succeeded were re-run"
        : "so the kernel was restarted without what that cell defined";
  const more = after.count > 1 ? ` (the last of ${after.count} such problems before it)` : "";
  return `Before this test ran, ${cellLabel(i)} ${i.what}, ${consequence}${more}`;
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
    const hidden = hasHiddenTests(sourceText(cell));
    const i = indexOf.get(id);
    const run = i === undefined ? undefined : byIndex.get(i);
    if (!run || run.status === "not-run") {
      const why = run?.notRun ?? notRunWhy;
      return { grade_id: id, score: 0, max_score: max, status: "not-run", feedback: cut(`not run: ${why}`, MAX_FEEDBACK_CHARS), hidden, cause: why, duration_ms: 0 };
    }
    if (run.status === "ok") return { grade_id: id, score: max, max_score: max, status: "passed", feedback: "passed", hidden, duration_ms: run.durationMs };
    const ename = run.error?.ename ?? "Error";
    const evalue = cut(plain(run.error?.evalue ?? ""), MAX_EVALUE_CHARS);
    const status: TestStatus = run.status === "timeout" ? "timeout" : run.status === "crashed" ? "crashed" : "failed";
    const own = `${ename}: ${evalue}`.trim();
    const cause = run.after ? describeIncident(run.after) : undefined;
    // A follow-on failure: the incident first. A test that timed out or crashed itself: its own reason first.
    const feedback = !cause ? own : status === "failed" ? `${cause}. Then this test failed: ${own}` : `${own}\n(${cause}.)`;
    return {
      grade_id: id,
      score: 0,
      max_score: max,
      status,
      ename,
      evalue,
      feedback: cut(feedback, MAX_FEEDBACK_CHARS),
      hidden,
      ...(cause ? { cause } : {}),
      duration_ms: run.durationMs,
    };
  });
}

export function totals(tests: TestResult[]): { score: number; max_score: number } {
  const sum = (f: (t: TestResult) => number) => Math.round(tests.reduce((a, t) => a + f(t), 0) * 1000) / 1000;
  return { score: sum((t) => t.score), max_score: sum((t) => t.max_score) };
}

export function render(results: GradeResults, format: Format, options: RenderOptions = {}): string {
  switch (format) {
    case "json":
      return JSON.stringify(results, null, 2) + "\n";
    case "gradescope":
      return JSON.stringify(gradescope(results, options), null, 2) + "\n";
    case "junit":
      return junit(results);
  }
}

/** The report's summary: Gradescope's top-level `output`. Names cells and says what happened; quotes no code. */
function summary(r: GradeResults, hiddenVisibility: Visibility): string {
  const lines = [`Score: ${r.score} / ${r.max_score}`];
  if (r.error) lines.push(`The submission could not be graded: ${r.error}`);
  else if (r.kernel_error) lines.push(`The notebook could not be graded completely: ${plain(r.kernel_error)}`);
  else if (!r.finished) lines.push("Grading did not finish.");
  if (r.budget_exhausted) {
    const notRun = r.tests.filter((t) => t.status === "not-run").length;
    lines.push(`Stopped: ${r.budget_exhausted}; the cells after that were not run${notRun ? ` (${notRun} test${notRun === 1 ? "" : "s"} among them)` : ""}.`);
  }
  const incidents = (r.incidents ?? []).filter((i) => i.kind !== "budget");
  if (incidents.length) {
    lines.push("While the notebook ran:");
    for (const i of incidents.slice(0, 20)) lines.push(`  - cell ${i.cell} (${i.name}) ${i.what}`);
    if (incidents.length > 20) lines.push(`  - and ${incidents.length - 20} more`);
  }
  for (const t of (r.truncated_outputs ?? []).slice(0, 20)) lines.push(`Cell ${t.cell} (${t.name}): ${t.message}.`);
  if (r.restored.length) lines.push(`Locked cells restored from the assignment: ${r.restored.join(", ")}.`);
  if (r.reinserted.length) lines.push(`Deleted locked cells put back: ${r.reinserted.join(", ")}.`);
  if (r.kernel_restarts) lines.push(`The kernel was restarted ${r.kernel_restarts} time(s) after a cell timed out or crashed it.`);
  const hidden = r.tests.filter((t) => t.hidden).length;
  if (hidden && hiddenVisibility !== "visible") {
    const when = { hidden: "are not shown", after_due_date: "will be shown after the due date", after_published: "will be shown when the grades are published" }[hiddenVisibility];
    const one = hidden === 1;
    lines.push(`${hidden} of the ${r.tests.length} tests ${one ? "has" : "have"} hidden parts; ${one ? "its result" : "their results"} ${when.replace(/^are/, one ? "is" : "are")}.`);
  }
  return lines.join("\n");
}

/** https://gradescope-autograders.readthedocs.io/en/latest/specs/ */
function gradescope(r: GradeResults, options: RenderOptions) {
  const hiddenVisibility = options.hiddenVisibility ?? DEFAULT_HIDDEN_VISIBILITY;
  const redact = options.redact ?? ((s: string) => s);
  return {
    score: r.score,
    execution_time: Math.round(r.duration_ms / 1000),
    output: redact(summary(r, hiddenVisibility)),
    output_format: "text",
    visibility: "visible",
    stdout_visibility: "hidden",
    extra_data: {
      max_score: r.max_score,
      finished: r.finished,
      kernel_restarts: r.kernel_restarts,
      ...(r.budget_exhausted ? { budget_exhausted: true } : {}),
    },
    tests: r.tests.map((t) => {
      const visibility: Visibility = t.hidden ? hiddenVisibility : "visible";
      // What students see at once is redacted; what they see later (a hidden test's own feedback) is theirs.
      const shown = visibility === "visible" ? redact : (s: string) => s;
      return {
        name: t.grade_id,
        score: t.score,
        max_score: t.max_score,
        status: t.status === "passed" ? "passed" : "failed",
        output: shown(plain(t.feedback)),
        output_format: "text",
        visibility,
        extra_data: { status: t.status },
      };
    }),
  };
}

/**
 * Removes the text of the source's hidden-test blocks from what students see at once: each hidden line (from
 * 16 characters, trimmed, also without its final `;` or `,`) and each string literal in one (from 8
 * characters), unless the same text is also in what students were handed (then it is no secret: "one_for_one"
 * in a hidden assertion is in the lesson too). Each occurrence becomes "[hidden test text]".
 */
export function hiddenTextRedactor(source: Notebook): (text: string) => string {
  const released = source.cells
    .map((c) => {
      const text = sourceText(c);
      try {
        return stripBlocks(text, "source").text;
      } catch {
        const hidden = new Set(hiddenBlocks(text));
        return text
          .split("\n")
          .filter((l) => !hidden.has(l.replace(/\r$/, "")))
          .join("\n");
      }
    })
    .join("\n");
  const secrets = new Set<string>();
  const consider = (s: string, min: number) => {
    if (s.length >= min && !released.includes(s)) secrets.add(s);
  };
  const LITERAL = /"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g;
  for (const cell of source.cells) {
    for (const line of hiddenBlocks(sourceText(cell))) {
      const t = line.trim();
      consider(t, 16);
      consider(t.replace(/[;,]$/, ""), 16);
      for (const m of t.matchAll(LITERAL)) {
        // A template literal's fixed parts; a quoted string as written and as it prints.
        const parts = m[3] !== undefined ? m[3].split(/\$\{[^}]*\}/) : m[1] !== undefined ? [m[1], unescape(m[1])] : [m[2]!, unescape(m[2]!.replace(/\\'/g, "'").replace(/"/g, '\\"'))];
        for (const part of parts) consider(part, 8);
      }
    }
  }
  if (secrets.size === 0) return (s) => s;
  const list = [...secrets].sort((a, b) => b.length - a.length).slice(0, 2000);
  const re = new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  return (s) => s.replace(re, "[hidden test text]");
}

/** A string literal's body as it prints (JSON's escapes are JavaScript's, mostly). */
function unescape(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return body;
  }
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
  const props: [string, string | number | boolean][] = [
    ["score", r.score],
    ["max_score", r.max_score],
    ["submission", r.submission],
    ["source", r.source],
    ["finished", r.finished],
  ];
  if (r.budget_exhausted) props.push(["budget_exhausted", r.budget_exhausted]);
  for (const [k, v] of props) out.push(`      <property name="${k}" value="${attr(String(v))}"/>`);
  out.push("    </properties>");
  for (const t of r.tests) {
    const open = `    <testcase classname="${attr(suite)}" name="${attr(t.grade_id)}" time="${time(t.duration_ms)}"`;
    const props =
      `      <properties><property name="score" value="${t.score}"/><property name="max_score" value="${t.max_score}"/>` +
      `<property name="hidden" value="${t.hidden}"/></properties>`;
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
