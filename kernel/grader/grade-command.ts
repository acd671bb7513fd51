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
 *
 * The grading itself is `gradeSubmission` (`grade-submission.ts`), which a folder of submissions
 * (`otp-lab grade DIR --out-dir RESULTS`, `batch.ts`) and the Gradescope autograder also use.
 */
import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, positiveInt, positiveNumber, seconds, wantsHelp, withExitCodes, GRADING_OPTIONS } from "./args.js";
import { gradeFolder, loadSources } from "./batch.js";
import { gradeSubmission } from "./grade-submission.js";
import { BadInput, MissingFile, writeFileAtomic, writeNotebook } from "./notebook.js";
import { DEFAULT_OUTPUT_LIMITS } from "./outputs.js";
import { DEFAULT_HIDDEN_VISIBILITY, FORMATS, VISIBILITIES, render, type Format, type GradeResults, type Visibility } from "./results.js";
import { DEFAULT_TIMEOUT_S } from "./run-command.js";
import { DEFAULT_MEMORY_MB } from "./sandbox.js";

/**
 * The default budget for a whole submission, 8 minutes: Gradescope stops an autograder after 10 minutes by
 * default (and a stopped autograder gives the student 0 and no feedback), so this leaves 2 for the container,
 * the kernel's start and the report. A lesson's solutions grade in 5-10 s; a submission only needs more when
 * cells loop or crash (each costs its time limit and a restart).
 */
export const DEFAULT_BUDGET_S = 480;

const USAGE =
  "usage: otp-lab grade SUBMISSION.ipynb --source SRC.ipynb [--format json|junit|gradescope] [--out FILE] [--notebook FILE] [options]\n" +
  "       otp-lab grade SUBMISSIONS_DIR --source SRC.ipynb|SRC_DIR --out-dir RESULTS_DIR [-j N] [--format json|junit|gradescope] [--reveal-hidden] [options]\n" +
  "options: [--timeout SEC] [--budget SEC] [--memory MB] [--hidden-visibility hidden|after_due_date|after_published|visible] [--max-cell-output MB] " +
  "[--max-notebook-output MB] [--max-cell-outputs N] [--allow-unsandboxed] (--help for details)";

const HELP = `${USAGE}

Grades a student's notebook: puts the source's locked cells (tests, hidden tests included) back, runs it on a
fresh sandboxed kernel, and scores every autograded cell (nbgrader "grade": true) by its grade_id.

Given a folder, grades every .ipynb under it (recursively; a submission's name is its relative path without
.ipynb), N at a time, each exactly as one file is graded (its own sandbox, memory limit and budget), and writes
to --out-dir: a report per submission (NAME.json, or NAME.xml for junit), a feedback page per submission
(NAME.html: the graded notebook with each test's points and message, hidden tests' text left out), and
grades.csv (name, score, max_score, one column per grade_id, status: ok, timeout, crashed, invalid or error).
One line per finished submission on stderr ("[12/30] alice/03 4/6 3.1 s", with an ETA), a summary at the end.

  -s, --source SRC           the source notebook, with solutions and hidden tests (required); with a folder of
                             submissions, also a folder of source notebooks, matched to submissions by file name
  -f, --format FORMAT        json (default: everything, for staff), junit, or gradescope (results.json)
  -o, --out FILE             one submission: write the report there (kept current while grading); default: stdout
      --notebook FILE        one submission: also save the graded notebook with its outputs (it holds the hidden tests)
      --out-dir DIR          a folder of submissions: where the reports, feedback pages and grades.csv go
  -j, --jobs N               a folder of submissions: grade N at once (default: the number of cores, here ${os.availableParallelism()})
      --reveal-hidden        a folder of submissions: show hidden tests' text in the feedback pages (staff's copies)
      --timeout SEC          time limit of one cell (default ${DEFAULT_TIMEOUT_S}); a cell past it is stopped, the kernel
                             restarted and the cells that succeeded re-run
      --budget SEC           wall-clock budget of each submission, from its grading's start: start-up, every
                             cell, time limits, restarts and re-runs (default ${DEFAULT_BUDGET_S}, 8 minutes: under Gradescope's
                             default 10-minute limit). When it runs out the running cell is stopped, the rest is
                             not run, and the report is written (exit 0)
      --memory MB            memory of each submission's kernel (default ${DEFAULT_MEMORY_MB})
      --hidden-visibility V  Gradescope visibility of tests with hidden parts: hidden, after_due_date,
                             after_published (default) or visible. Visible fields never carry hidden-test text
      --max-cell-output MB   output kept per cell, of every kind (default ${DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000}); past it the rest is dropped
                             and a note says so
      --max-notebook-output MB  output kept over the notebook (default ${DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000})
      --max-cell-outputs N   outputs kept per cell (default ${DEFAULT_OUTPUT_LIMITS.cellOutputs})
      --allow-unsandboxed    run even where the OS sandbox (bwrap) is unavailable, with a warning
  -h, --help                 this text

Exit codes, one submission: 0 graded, 1 the kernel could not start or the grader failed (a report is still
written), 2 bad input. An unusable submission (not JSON, nested absurdly deep, too large, wrong types, another
kernel) still gets a zero-point report with --out naming the problem; a submission path that does not exist
gets none.
A folder: 0 every submission was graded (whatever the scores), 1 some could not be (unusable, no source of
that name, the kernel could not start: each still has a zero-point report and a row), 2 bad arguments.
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
        ...GRADING_OPTIONS,
        source: { type: "string", short: "s" },
        format: { type: "string", short: "f" },
        out: { type: "string", short: "o" },
        "out-dir": { type: "string" },
        jobs: { type: "string", short: "j" },
        "reveal-hidden": { type: "boolean" },
        notebook: { type: "string" },
      },
      USAGE,
    );
    if (positionals.length !== 1) throw new BadInput(`expected one submission notebook, or one folder of submissions\n${USAGE}`);
    const submissionPath = positionals[0]!;
    if (!values.source) {
      throw new BadInput(`missing --source SRC.ipynb: the source notebook (with solutions and hidden tests) is needed to restore the locked cells\n${USAGE}`);
    }
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
    const allowUnsandboxed = flags["allow-unsandboxed"] === true;

    let isFolder = false;
    try {
      isFolder = statSync(submissionPath).isDirectory();
    } catch {
      // Not there: reported when it is read.
    }
    if (isFolder) {
      const outDir = values["out-dir"];
      if (!outDir) {
        throw new MissingFile(`submission ${submissionPath} is a directory; give the .ipynb file, or grade every notebook in it with --out-dir RESULTS_DIR\n${USAGE}`);
      }
      if (values.out) throw new BadInput(`--out is for one submission; a folder's reports go to --out-dir ${outDir}`);
      if (values.notebook) throw new BadInput(`--notebook is for one submission; a folder's feedback pages go to --out-dir ${outDir}`);
      const jobs = positiveInt(values.jobs, "--jobs", os.availableParallelism(), USAGE);
      return gradeFolder({
        submissionsDir: submissionPath,
        source: values.source,
        outDir,
        jobs,
        format,
        hiddenVisibility,
        revealHidden: flags["reveal-hidden"] === true,
        timeoutMs,
        budgetMs,
        memoryMb,
        outputLimits,
        allowUnsandboxed,
      });
    }
    for (const [flag, given] of [["--out-dir", values["out-dir"] !== undefined], ["--jobs", values.jobs !== undefined], ["--reveal-hidden", flags["reveal-hidden"]]] as const) {
      if (given) throw new BadInput(`${flag} is for a folder of submissions; ${submissionPath} is one notebook\n${USAGE}`);
    }

    // A folder of sources: the one with the submission's file name.
    const sources = loadSources(values.source, (line) => process.stderr.write(line + "\n"));
    const source = sources.length === 1 ? sources[0]! : sources.find((s) => s.base === path.basename(submissionPath));
    if (!source) {
      throw new BadInput(`no source notebook in ${values.source} is named ${path.basename(submissionPath)} (the sources: ${sources.map((s) => s.base).join(", ")})`);
    }
    const renderOptions = { hiddenVisibility, redact: source.redact };
    const save = (r: GradeResults) => {
      if (values.out) writeFileAtomic(values.out, render(r, format, renderOptions));
    };
    const progress = (line: string) => process.stderr.write(line + "\n");
    const graded = await gradeSubmission({
      submissionFile: submissionPath,
      source: source.notebook,
      sourceFile: source.file,
      timeoutMs,
      budgetMs,
      budgetStart,
      memoryMb,
      outputLimits,
      allowUnsandboxed,
      progress,
      save,
    });
    // An unusable submission: its zero-point report is written (with --out); the command says why, exit 2.
    if (graded.code === 2) throw graded.invalid!;
    if (values.notebook && graded.notebook) writeNotebook(values.notebook, graded.notebook);
    if (!values.out) process.stdout.write(render(graded.results, format, renderOptions));
    if (graded.graderFailure !== undefined) progress(`grade: the grader failed: ${graded.graderFailure}`);
    else progress(`grade: ${graded.results.score} / ${graded.results.max_score} points${values.out ? `; wrote ${values.out}` : ""}`);
    return graded.code;
  });
}
