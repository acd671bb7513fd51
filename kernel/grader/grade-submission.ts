/**
 * Grades one submission against one source notebook, to a results object: what `otp-lab grade` does for one
 * file, and what a batch (`batch.ts`) and the Gradescope autograder (`autograder-command.ts`) do for each of
 * theirs. Writing the report is the caller's (`save` gets the provisional results before the first cell and
 * after each one, so that a report file can be kept current).
 *
 *  1. Reads the submission. An unusable one (not JSON, too large, nested absurdly deep, wrong types, another
 *     kernel) is graded zero with the reason (`invalid`); a path that is not there throws `MissingFile`.
 *  2. Copies it, as the student wrote it, into a fresh temporary folder: the sandboxed kernel's working
 *     directory and the only user folder it can read. The source, and the restored notebook with the hidden
 *     tests, never go there; hidden tests reach the kernel one cell at a time, when they run.
 *  3. Puts the source's locked cells back (`restore.ts`), runs the notebook on a fresh sandboxed kernel
 *     (`execute-notebook.ts`) within the submission's budget, and scores each test cell by grade_id.
 */
import { copyFileSync, lstatSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { executeNotebook, type CellRun, type ExecutedNotebook, type Incident } from "./execute-notebook.js";
import { BadInput, MissingFile, readNotebook, type Notebook } from "./notebook.js";
import type { OutputLimits } from "./outputs.js";
import { restoreLockedCells } from "./restore.js";
import { scoreTests, totals, type GradeResults } from "./results.js";
import { readableBySandbox } from "./sandbox.js";

export interface GradeOptions {
  /** The student's notebook. */
  submissionFile: string;
  /** The source notebook, already read and checked (`checkMetadata`, test cells present). */
  source: Notebook;
  sourceFile: string;
  /** Recorded as `submission` in the results (default: `submissionFile`). */
  name?: string;
  timeoutMs: number;
  budgetMs: number;
  /** When the budget started, in ms since the epoch (default: now). */
  budgetStart?: number;
  memoryMb: number;
  outputLimits: OutputLimits;
  allowUnsandboxed?: boolean;
  /** Progress lines (per cell, restarts, restored cells); default: none. */
  progress?: (line: string) => void;
  /** Called with the provisional results before the first cell, after each cell, and with the final ones. */
  save?: (results: GradeResults) => void;
  /**
   * A submission that is a symbolic link is unusable (`invalid`). Set where students make the folder (a
   * Gradescope upload, a git repository): a link named like the assignment could point at the source notebook,
   * or at any file the grader may read.
   */
  refuseSymlinks?: boolean;
}

export interface Graded {
  results: GradeResults;
  /**
   * 0: graded (whatever the score; a submission stopped by its budget included). 1: the kernel could not start
   * or the grader failed (the results say so). 2: the submission is unusable (`invalid` says why).
   */
  code: 0 | 1 | 2;
  invalid?: BadInput;
  /** Set when the grader itself failed before the kernel ran (copying, restoring): its message. */
  graderFailure?: string;
  /** The graded notebook with its outputs, when it ran (it holds the hidden tests: keep it from students). */
  notebook?: Notebook;
}

/**
 * Grades one submission. Throws `MissingFile` when the submission is not there, and `BadInput` when the source
 * is inside a folder the graded code could read; everything the submission does is in the results.
 */
export async function gradeSubmission(o: GradeOptions): Promise<Graded> {
  const { source, sourceFile } = o;
  const progress = o.progress ?? (() => {});
  const save = o.save ?? (() => {});
  const base = { submission: o.name ?? o.submissionFile, source: sourceFile, budget_s: o.budgetMs / 1000 };

  let submission: Notebook;
  try {
    if (o.refuseSymlinks && isSymlink(o.submissionFile)) {
      throw new BadInput(`submission ${o.submissionFile} is a symbolic link, not a notebook; submit the notebook file itself`);
    }
    submission = readNotebook(o.submissionFile, "submission");
  } catch (err) {
    // The student's file is unusable: still a report (zero points, the reason as feedback) for the student.
    // Not for a path that is not there: that is the command's mistake, not the student's.
    if (err instanceof BadInput && !(err instanceof MissingFile)) {
      const tests = scoreTests(source, source, null, err.message);
      const results: GradeResults = { ...base, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: 0, error: err.message };
      save(results);
      return { results, code: 2, invalid: err };
    }
    throw err;
  }

  const workDir = mkdtempSync(path.join(realpathSync(os.tmpdir()), "otp-lab-grade-"));
  try {
    if (readableBySandbox(sourceFile, workDir)) {
      throw new BadInput(`the source notebook ${sourceFile} is inside a folder the graded code can read (the project's dist/ or node_modules/); move it elsewhere`);
    }
    const t0 = Date.now();
    let restored: ReturnType<typeof restoreLockedCells>;
    try {
      copyFileSync(o.submissionFile, path.join(workDir, path.basename(o.submissionFile)));
      restored = restoreLockedCells(submission, source);
    } catch (err) {
      // Whatever went wrong, the student gets a report that says it was the grader.
      const message = err instanceof Error ? err.message : String(err);
      const tests = scoreTests(source, source, null, `the grader failed: ${message}`);
      const results: GradeResults = { ...base, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: Date.now() - t0, kernel_error: message };
      save(results);
      return { results, code: 1, graderFailure: message };
    }
    const results = (
      runs: readonly CellRun[] | null,
      finished: boolean,
      why: string,
      run: Partial<Pick<ExecutedNotebook, "incidents" | "truncated" | "budgetExhausted" | "warnings">> = {},
      extra: Partial<GradeResults> = {},
    ): GradeResults => {
      const tests = scoreTests(source, restored.notebook, runs ? [...runs] : null, why);
      return {
        ...base,
        ...totals(tests),
        finished,
        tests,
        restored: restored.restored,
        reinserted: restored.reinserted,
        stripped: restored.stripped,
        kernel_restarts: 0,
        ...(run.budgetExhausted ? { budget_exhausted: run.budgetExhausted } : {}),
        ...(run.incidents?.length ? { incidents: run.incidents.map(incident) } : {}),
        ...(run.truncated?.length ? { truncated_outputs: run.truncated.map((t) => ({ cell: t.index + 1, name: t.name, message: t.message })) } : {}),
        ...(run.warnings?.length ? { warnings: run.warnings } : {}),
        duration_ms: Date.now() - t0,
        ...extra,
      };
    };
    for (const id of restored.restored) progress(`grade: locked cell ${id} was edited; restored from the source`);
    for (const id of restored.reinserted) progress(`grade: locked cell ${id} was missing; put back from the source`);

    save(results(null, false, "grading did not finish"));
    let final: GradeResults;
    let code: 0 | 1 = 0;
    let notebook: Notebook | undefined;
    try {
      const run = await executeNotebook(restored.notebook, {
        cwd: workDir,
        timeoutMs: o.timeoutMs,
        memoryMb: o.memoryMb,
        grading: true,
        allowUnsandboxed: o.allowUnsandboxed === true,
        budgetMs: o.budgetMs,
        budgetStart: o.budgetStart ?? t0,
        outputLimits: o.outputLimits,
        progress,
        onCell: (runs, incidents) => save(results(runs, false, "grading did not finish", { incidents: [...incidents] })),
      });
      const why = run.startupError ? "the grader's kernel could not start (see the report)" : "the cell has no code";
      final = results(run.cells, !run.startupError, why, run, {
        kernel_restarts: run.restarts,
        ...(run.startupError ? { kernel_error: run.startupError } : {}),
      });
      if (run.startupError) code = 1;
      if (run.budgetExhausted) progress(`grade: ${run.budgetExhausted}; the remaining cells were not run`);
      notebook = run.notebook;
    } catch (err) {
      // The report is written whatever happened; the failure is the grader's, not the student's.
      const message = err instanceof Error ? err.message : String(err);
      final = results(null, false, `the grader failed: ${message}`, {}, { kernel_error: message });
      code = 1;
    }
    save(final);
    return { results: final, code, ...(notebook ? { notebook } : {}) };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function incident(i: Incident): NonNullable<GradeResults["incidents"]>[number] {
  return { cell: i.index + 1, name: i.name, kind: i.kind, what: i.what };
}

/**
 * One word for a graded submission, for the gradebook: `ok` (it ran to the end, whatever the score), `timeout`
 * (a cell hit its time limit, or the budget ran out), `crashed` (a cell stopped the kernel), `invalid` (the
 * file is not a usable notebook), `error` (the kernel could not start, or the grader failed).
 */
export type SubmissionStatus = "ok" | "timeout" | "crashed" | "invalid" | "error";

export function submissionStatus(g: Pick<Graded, "code" | "results">): SubmissionStatus {
  if (g.code === 2) return "invalid";
  if (g.code === 1) return "error";
  const r = g.results;
  if (r.budget_exhausted) return "timeout";
  for (const i of r.incidents ?? []) if (i.kind === "timeout" || i.kind === "crashed") return i.kind;
  return "ok";
}
