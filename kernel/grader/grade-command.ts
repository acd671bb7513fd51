/**
 * `otp-lab grade SUBMISSION.ipynb --source SRC.ipynb [--format json|junit|gradescope] [--out FILE]
 *  [--timeout SEC] [--memory MB] [--notebook FILE]`
 *
 * 1. Reads both notebooks (bad input: exit 2) and puts the source's locked cells, hidden tests included, back
 *    into the submission (`restore.ts`).
 * 2. Copies the submission, as the student wrote it, into a fresh temporary folder: the sandboxed kernel's
 *    working directory and the only user folder it can read. The source, and the restored notebook with the
 *    hidden tests, never go there; hidden tests reach the kernel one cell at a time, when they run.
 * 3. Runs the restored notebook on a fresh kernel (`execute-notebook.ts`), one progress line per cell on stderr.
 * 4. Scores each test cell of the source by grade_id and writes the report (`results.ts`) to `--out`, or to
 *    stdout. With `--out`, the file is written before the first cell runs and rewritten after each cell, so
 *    it exists, with what was graded so far, even if the grader itself is killed. `--notebook` also saves the
 *    graded notebook with its outputs (it contains the hidden tests: keep it from students).
 *
 * Exit codes: 0 graded, 1 the kernel could not be started (results still written), 2 bad input. An unusable
 * submission (not JSON, another kernel) still gets a report with `--out`: zero points, the reason as feedback.
 */
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, positiveInt, seconds, withExitCodes } from "./args.js";
import { checkMetadata } from "./assign.js";
import { executeNotebook, type CellRun } from "./execute-notebook.js";
import { BadInput, isTestCell, readNotebook, writeFileAtomic, writeNotebook, type Notebook } from "./notebook.js";
import { restoreLockedCells } from "./restore.js";
import { FORMATS, render, scoreTests, totals, type Format, type GradeResults } from "./results.js";
import { DEFAULT_TIMEOUT_S } from "./run-command.js";
import { DEFAULT_MEMORY_MB, readableBySandbox } from "./sandbox.js";

const USAGE =
  "usage: otp-lab grade SUBMISSION.ipynb --source SRC.ipynb [--format json|junit|gradescope] [--out FILE] [--timeout SEC] [--memory MB] [--notebook FILE]";

export function main(argv: string[]): Promise<number> {
  return withExitCodes("grade", async () => {
    const { values, positionals } = parse(
      argv,
      {
        source: { type: "string", short: "s" },
        format: { type: "string", short: "f" },
        out: { type: "string", short: "o" },
        timeout: { type: "string" },
        memory: { type: "string" },
        notebook: { type: "string" },
      },
      USAGE,
    );
    if (positionals.length !== 1) throw new BadInput(`expected one submission notebook\n${USAGE}`);
    const submissionFile = positionals[0]!;
    if (!values.source) {
      throw new BadInput(`missing --source SRC.ipynb: the source notebook (with solutions and hidden tests) is needed to restore the locked cells\n${USAGE}`);
    }
    const sourceFile = values.source;
    const format = (values.format ?? "json") as Format;
    if (!FORMATS.includes(format)) throw new BadInput(`unknown --format '${values.format}'; use one of ${FORMATS.join(", ")}`);
    const timeoutMs = seconds(values.timeout, "--timeout", DEFAULT_TIMEOUT_S, USAGE);
    const memoryMb = positiveInt(values.memory, "--memory", DEFAULT_MEMORY_MB, USAGE);

    const source = readNotebook(sourceFile, "source notebook");
    checkMetadata(source, `source notebook ${sourceFile}`);
    if (!source.cells.some(isTestCell)) {
      throw new BadInput(`source notebook ${sourceFile} has no autograded test cells (nbgrader "grade": true); is it the right file?`);
    }
    let submission: Notebook;
    try {
      submission = readNotebook(submissionFile, "submission");
    } catch (err) {
      // The student's file is unusable: still a report (zero points, the reason as feedback) for the student.
      if (err instanceof BadInput && values.out) {
        const tests = scoreTests(source, source, null, err.message);
        const r: GradeResults = {
          submission: submissionFile,
          source: sourceFile,
          ...totals(tests),
          finished: false,
          tests,
          restored: [],
          reinserted: [],
          stripped: [],
          kernel_restarts: 0,
          duration_ms: 0,
          error: err.message,
        };
        writeFileAtomic(values.out, render(r, format));
      }
      throw err;
    }

    const workDir = mkdtempSync(path.join(realpathSync(os.tmpdir()), "otp-lab-grade-"));
    try {
      if (readableBySandbox(sourceFile, workDir)) {
        throw new BadInput(`the source notebook ${sourceFile} is inside a folder the graded code can read (the project's dist/ or node_modules/); move it elsewhere`);
      }
      copyFileSync(submissionFile, path.join(workDir, path.basename(submissionFile)));
      const restored = restoreLockedCells(submission, source);
      const t0 = Date.now();
      const results = (runs: readonly CellRun[] | null, finished: boolean, why: string, extra: Partial<GradeResults> = {}): GradeResults => {
        const tests = scoreTests(source, restored.notebook, runs ? [...runs] : null, why);
        return {
          submission: submissionFile,
          source: sourceFile,
          ...totals(tests),
          finished,
          tests,
          restored: restored.restored,
          reinserted: restored.reinserted,
          stripped: restored.stripped,
          kernel_restarts: 0,
          duration_ms: Date.now() - t0,
          ...extra,
        };
      };
      const save = (r: GradeResults) => {
        if (values.out) writeFileAtomic(values.out, render(r, format));
      };
      const progress = (line: string) => process.stderr.write(line + "\n");
      for (const id of restored.restored) progress(`grade: locked cell ${id} was edited; restored from the source`);
      for (const id of restored.reinserted) progress(`grade: locked cell ${id} was missing; put back from the source`);

      save(results(null, false, "grading did not finish"));
      let final: GradeResults;
      let code = 0;
      try {
        const run = await executeNotebook(restored.notebook, {
          cwd: workDir,
          timeoutMs,
          memoryMb,
          progress,
          onCell: (runs) => save(results(runs, false, "grading did not finish")),
        });
        const why = run.startupError ? "the grader's kernel could not start (see the report)" : "the cell has no code";
        final = results(run.cells, !run.startupError, why, {
          kernel_restarts: run.restarts,
          ...(run.startupError ? { kernel_error: run.startupError } : {}),
        });
        if (run.startupError) code = 1;
        if (values.notebook) writeNotebook(values.notebook, run.notebook);
      } catch (err) {
        // The report is written whatever happened; the failure is the grader's, not the student's.
        const message = err instanceof Error ? err.message : String(err);
        final = results(null, false, `the grader failed: ${message}`, { kernel_error: message });
        code = 1;
      }
      save(final);
      if (!values.out) process.stdout.write(render(final, format));
      progress(`grade: ${final.score} / ${final.max_score} points${values.out ? `; wrote ${values.out}` : ""}`);
      return code;
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
}
