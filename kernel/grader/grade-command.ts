/**
 * `otp-lab grade SUBMISSION.ipynb --source SRC.ipynb [options]` (`--help` lists them):
 *
 * 1. Reads both notebooks (bad input: exit 2) and puts the source's locked cells, hidden tests included, back
 *    into the submission (`restore.ts`).
 * 2. Copies the submission, as the student wrote it, into a fresh temporary folder: the sandboxed kernel's
 *    working directory and the only user folder it can read. The source, and the restored notebook with the
 *    hidden tests, never go there; hidden tests reach the kernel one cell at a time, when they run.
 * 3. Runs the restored notebook on a fresh kernel (`execute-notebook.ts`), one progress line per cell on stderr,
 *    within one wall-clock budget for the whole submission (`--budget`, from the grader's own start): past it
 *    the running cell is stopped, the rest is not run, and the submission is graded on what ran (exit 0).
 *    Outputs are capped per cell and per notebook (`--max-cell-output`, `--max-notebook-output`,
 *    `--max-cell-outputs`).
 * 4. Scores each test cell of the source by grade_id and writes the report (`results.ts`) to `--out`, or to
 *    stdout. With `--out`, the file is written before the first cell runs and rewritten after each cell, so
 *    it exists, with what was graded so far, even if the grader itself is killed. `--notebook` also saves the
 *    graded notebook with its outputs (it contains the hidden tests: keep it from students).
 *
 * Exit codes: 0 graded (a submission stopped by its budget included), 1 the kernel could not be started or the
 * grader failed (a report is still written), 2 bad input. An unusable submission (not JSON, nested absurdly
 * deep, too large, wrong types, another kernel) still gets a report with `--out`: zero points, the reason as
 * feedback. A submission path that does not exist (or is a folder) gets none: that is a mistake in the
 * command, and a zero would land on a student who did nothing wrong. Problems with the source or the options
 * get no report either.
 */
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, positiveInt, positiveNumber, seconds, wantsHelp, withExitCodes } from "./args.js";
import { checkMetadata } from "./assign.js";
import { executeNotebook, type CellRun, type ExecutedNotebook, type Incident } from "./execute-notebook.js";
import { BadInput, MissingFile, isTestCell, readNotebook, writeFileAtomic, writeNotebook, type Notebook } from "./notebook.js";
import { DEFAULT_OUTPUT_LIMITS } from "./outputs.js";
import { restoreLockedCells } from "./restore.js";
import {
  DEFAULT_HIDDEN_VISIBILITY,
  FORMATS,
  VISIBILITIES,
  hiddenTextRedactor,
  render,
  scoreTests,
  totals,
  type Format,
  type GradeResults,
  type Visibility,
} from "./results.js";
import { DEFAULT_TIMEOUT_S } from "./run-command.js";
import { DEFAULT_MEMORY_MB, readableBySandbox } from "./sandbox.js";

/**
 * The default budget for a whole submission, 8 minutes: Gradescope stops an autograder after 10 minutes by
 * default (and a stopped autograder gives the student 0 and no feedback), so this leaves 2 for the container,
 * the kernel's start and the report. A lesson's solutions grade in 5-10 s; a submission only needs more when
 * cells loop or crash (each costs its time limit and a restart).
 */
export const DEFAULT_BUDGET_S = 480;

const USAGE =
  "usage: otp-lab grade SUBMISSION.ipynb --source SRC.ipynb [--format json|junit|gradescope] [--out FILE] [--timeout SEC] [--budget SEC] " +
  "[--memory MB] [--notebook FILE] [--hidden-visibility hidden|after_due_date|after_published|visible] [--max-cell-output MB] " +
  "[--max-notebook-output MB] [--max-cell-outputs N] [--allow-unsandboxed] (--help for details)";

const HELP = `${USAGE}

Grades a student's notebook: puts the source's locked cells (tests, hidden tests included) back, runs it on a
fresh sandboxed kernel, and scores every autograded cell (nbgrader "grade": true) by its grade_id.

  -s, --source SRC.ipynb     the source notebook, with solutions and hidden tests (required)
  -f, --format FORMAT        json (default: everything, for staff), junit, or gradescope (results.json)
  -o, --out FILE             write the report there (kept current while grading); default: stdout at the end
      --timeout SEC          time limit of one cell (default ${DEFAULT_TIMEOUT_S}); a cell past it is stopped, the kernel
                             restarted and the cells that succeeded re-run
      --budget SEC           wall-clock budget of the whole submission, from the grader's start: start-up, every
                             cell, time limits, restarts and re-runs (default ${DEFAULT_BUDGET_S}, 8 minutes: under Gradescope's
                             default 10-minute limit). When it runs out the running cell is stopped, the rest is
                             not run, and the report is written (exit 0)
      --memory MB            memory of the kernel (default ${DEFAULT_MEMORY_MB})
      --notebook FILE        also save the graded notebook with its outputs (it holds the hidden tests)
      --hidden-visibility V  Gradescope visibility of tests with hidden parts: hidden, after_due_date,
                             after_published (default) or visible. Visible fields never carry hidden-test text
      --max-cell-output MB   output kept per cell, of every kind (default ${DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000}); past it the rest is dropped
                             and a note says so
      --max-notebook-output MB  output kept over the notebook (default ${DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000})
      --max-cell-outputs N   outputs kept per cell (default ${DEFAULT_OUTPUT_LIMITS.cellOutputs})
      --allow-unsandboxed    run even where the OS sandbox (bwrap) is unavailable, with a warning
  -h, --help                 this text

Exit codes: 0 graded, 1 the kernel could not start or the grader failed (a report is still written),
2 bad input. An unusable submission (not JSON, nested absurdly deep, too large, wrong types, another kernel)
still gets a zero-point report with --out naming the problem; a submission path that does not exist gets none.
`;

export function main(argv: string[]): Promise<number> {
  return withExitCodes("grade", async () => {
    if (wantsHelp(argv)) {
      process.stdout.write(HELP);
      return 0;
    }
    // The budget counts from the grader's own start (Node's start-up included).
    const budgetStart = Math.round(performance.timeOrigin);
    const { values, flags, positionals } = parse(
      argv,
      {
        source: { type: "string", short: "s" },
        format: { type: "string", short: "f" },
        out: { type: "string", short: "o" },
        timeout: { type: "string" },
        budget: { type: "string" },
        memory: { type: "string" },
        notebook: { type: "string" },
        "hidden-visibility": { type: "string" },
        "max-cell-output": { type: "string" },
        "max-notebook-output": { type: "string" },
        "max-cell-outputs": { type: "string" },
        "allow-unsandboxed": { type: "boolean" },
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
    const hiddenVisibility = (values["hidden-visibility"] ?? DEFAULT_HIDDEN_VISIBILITY) as Visibility;
    if (!VISIBILITIES.includes(hiddenVisibility)) {
      throw new BadInput(`unknown --hidden-visibility '${values["hidden-visibility"]}'; use one of ${VISIBILITIES.join(", ")}`);
    }
    const timeoutMs = seconds(values.timeout, "--timeout", DEFAULT_TIMEOUT_S, USAGE);
    const budgetMs = seconds(values.budget, "--budget", DEFAULT_BUDGET_S, USAGE);
    const memoryMb = positiveInt(values.memory, "--memory", DEFAULT_MEMORY_MB, USAGE);
    const outputLimits = {
      cellChars: Math.round(positiveNumber(values["max-cell-output"], "--max-cell-output", DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000, "MB", USAGE) * 1_000_000),
      notebookChars: Math.round(positiveNumber(values["max-notebook-output"], "--max-notebook-output", DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000, "MB", USAGE) * 1_000_000),
      cellOutputs: positiveInt(values["max-cell-outputs"], "--max-cell-outputs", DEFAULT_OUTPUT_LIMITS.cellOutputs, USAGE),
    };

    const source = readNotebook(sourceFile, "source notebook");
    checkMetadata(source, `source notebook ${sourceFile}`);
    if (!source.cells.some(isTestCell)) {
      throw new BadInput(`source notebook ${sourceFile} has no autograded test cells (nbgrader "grade": true); is it the right file?`);
    }
    const renderOptions = { hiddenVisibility, redact: hiddenTextRedactor(source) };
    const save = (r: GradeResults) => {
      if (values.out) writeFileAtomic(values.out, render(r, format, renderOptions));
    };
    const base = { submission: submissionFile, source: sourceFile, budget_s: budgetMs / 1000 };

    let submission: Notebook;
    try {
      submission = readNotebook(submissionFile, "submission");
    } catch (err) {
      // The student's file is unusable: still a report (zero points, the reason as feedback) for the student.
      // Not for a path that is not there: that is the command's mistake, not the student's.
      if (err instanceof BadInput && !(err instanceof MissingFile)) {
        const tests = scoreTests(source, source, null, err.message);
        save({ ...base, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: 0, error: err.message });
      }
      throw err;
    }

    const workDir = mkdtempSync(path.join(realpathSync(os.tmpdir()), "otp-lab-grade-"));
    try {
      if (readableBySandbox(sourceFile, workDir)) {
        throw new BadInput(`the source notebook ${sourceFile} is inside a folder the graded code can read (the project's dist/ or node_modules/); move it elsewhere`);
      }
      const t0 = Date.now();
      const progress = (line: string) => process.stderr.write(line + "\n");
      let restored: ReturnType<typeof restoreLockedCells>;
      try {
        copyFileSync(submissionFile, path.join(workDir, path.basename(submissionFile)));
        restored = restoreLockedCells(submission, source);
      } catch (err) {
        // Whatever went wrong, the student gets a report that says it was the grader.
        const message = err instanceof Error ? err.message : String(err);
        const tests = scoreTests(source, source, null, `the grader failed: ${message}`);
        const r: GradeResults = { ...base, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: Date.now() - t0, kernel_error: message };
        save(r);
        if (!values.out) process.stdout.write(render(r, format, renderOptions));
        progress(`grade: the grader failed: ${message}`);
        return 1;
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
      let code = 0;
      try {
        const run = await executeNotebook(restored.notebook, {
          cwd: workDir,
          timeoutMs,
          memoryMb,
          grading: true,
          allowUnsandboxed: flags["allow-unsandboxed"] === true,
          budgetMs,
          budgetStart,
          outputLimits,
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
        if (values.notebook) writeNotebook(values.notebook, run.notebook);
      } catch (err) {
        // The report is written whatever happened; the failure is the grader's, not the student's.
        const message = err instanceof Error ? err.message : String(err);
        final = results(null, false, `the grader failed: ${message}`, {}, { kernel_error: message });
        code = 1;
      }
      save(final);
      if (!values.out) process.stdout.write(render(final, format, renderOptions));
      progress(`grade: ${final.score} / ${final.max_score} points${values.out ? `; wrote ${values.out}` : ""}`);
      return code;
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
}

function incident(i: Incident): NonNullable<GradeResults["incidents"]>[number] {
  return { cell: i.index + 1, name: i.name, kind: i.kind, what: i.what };
}
