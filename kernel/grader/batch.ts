/**
 * `otp-lab grade SUBMISSIONS_DIR --source SOURCE --out-dir RESULTS_DIR [-j N]`: a whole class at once (nbgrader's
 * `autograde` + `generate_feedback` + `export`, otter's `otter grade`).
 *
 *   - Every `.ipynb` under the folder is a submission (recursively; dot folders such as `.ipynb_checkpoints`
 *     skipped), named by its relative path without `.ipynb` (`alice/03-one-for-one`). `SOURCE` is one source
 *     notebook for all of them, or a folder of sources matched by file name (multi-notebook assignments). A
 *     submission that is a symbolic link is invalid: it could point at the source, or another student's file.
 *   - N submissions are graded at once in this process (`-j`, default: the number of cores), each exactly as
 *     `otp-lab grade FILE` grades one (`gradeSubmission`): its own temporary folder, its own sandboxed kernel
 *     with its own memory limit and cgroup, its own budget from its own start. Whatever one submission does,
 *     and whatever goes wrong while grading it, is that submission's row; the batch goes on.
 *   - Writes, per submission, its report (`NAME.json`, or `.xml` for JUnit) and its feedback page
 *     (`NAME.html`, `feedback.ts`), and the gradebook `grades.csv` (rewritten after each submission, so it is
 *     current if the batch is stopped).
 *   - One line per finished submission on stderr, with the running count and an ETA, and a summary at the end.
 *
 * Exit codes: 0 every submission was graded (whatever the scores, timeouts and crashes included); 1 some could
 * not be (not a usable notebook, no source of that name, the kernel could not start); 2 bad arguments.
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkMetadata } from "./assign.js";
import { feedbackPage } from "./feedback.js";
import { gradeSubmission, submissionStatus, type Graded, type SubmissionStatus } from "./grade-submission.js";
import { BadInput, MissingFile, findNotebooks, gradeId, isTestCell, readNotebook, writeFileAtomic, type Notebook } from "./notebook.js";
import type { OutputLimits } from "./outputs.js";
import { hiddenTextRedactor, render, scoreTests, totals, type Format, type GradeResults, type Visibility } from "./results.js";
import { readableBySandbox } from "./sandbox.js";

export interface BatchOptions {
  submissionsDir: string;
  /** A source notebook, or a folder of them. */
  source: string;
  outDir: string;
  jobs: number;
  format: Format;
  hiddenVisibility: Visibility;
  revealHidden: boolean;
  timeoutMs: number;
  budgetMs: number;
  memoryMb: number;
  outputLimits: OutputLimits;
  allowUnsandboxed: boolean;
  /** Where progress goes (default: stderr). */
  log?: (line: string) => void;
}

export interface Source {
  file: string;
  /** Its file name, which submissions are matched by. */
  base: string;
  notebook: Notebook;
  redact: (text: string) => string;
  gradeIds: string[];
}

/** One source notebook, checked as `grade` checks it (bad input: exit 2). */
export function loadSource(file: string): Source {
  const notebook = readNotebook(file, "source notebook");
  checkMetadata(notebook, `source notebook ${file}`);
  if (!notebook.cells.some(isTestCell)) {
    throw new BadInput(`source notebook ${file} has no autograded test cells (nbgrader "grade": true); is it the right file?`);
  }
  return { file, base: path.basename(file), notebook, redact: hiddenTextRedactor(notebook), gradeIds: notebook.cells.filter(isTestCell).map((c) => gradeId(c)!) };
}

/**
 * The sources: `source` itself, or every graded notebook under the folder (notebooks without test cells are
 * skipped, with a note). File names must be unique: they are what submissions are matched by.
 */
export function loadSources(source: string, log: (line: string) => void): Source[] {
  let isDir = false;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    // Not there: reading it says so.
  }
  if (!isDir) return [loadSource(source)];
  const sources: Source[] = [];
  const seen = new Map<string, string>();
  for (const rel of findNotebooks(source)) {
    const file = path.join(source, rel);
    const nb = readNotebook(file, "source notebook");
    if (!nb.cells.some(isTestCell)) {
      log(`grade: ${file} has no autograded test cells; not a source (skipped)`);
      continue;
    }
    const s = loadSource(file);
    const twin = seen.get(s.base);
    if (twin) throw new BadInput(`the source folder ${source} has two notebooks named ${s.base} (${twin} and ${file}); submissions are matched by file name`);
    seen.set(s.base, file);
    sources.push(s);
  }
  if (!sources.length) throw new BadInput(`the source folder ${source} holds no graded notebook (nbgrader "grade": true cells)`);
  return sources;
}

/** Refuses folders the graded code can read (the sandbox binds /usr, the project's dist/ and node_modules/...). */
export function checkUnreadable(file: string, what: string): void {
  // A working folder that does not exist: only the folders every sandbox can read count.
  const nowhere = path.join(os.tmpdir(), `otp-lab-grade-${randomUUID()}`);
  if (readableBySandbox(file, nowhere)) {
    throw new BadInput(`${what} ${file} is inside a folder the graded code can read (/usr, the project's dist/ or node_modules/); move it elsewhere`);
  }
}

export interface Row {
  name: string;
  results: GradeResults;
  status: SubmissionStatus;
  seconds: number;
}

const EXTENSION: Record<Format, string> = { json: ".json", gradescope: ".json", junit: ".xml" };

export async function gradeFolder(o: BatchOptions): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + "\n"));
  let dirOk = false;
  try {
    dirOk = statSync(o.submissionsDir).isDirectory();
  } catch {
    // Reported below.
  }
  if (!dirOk) throw new MissingFile(`submissions folder ${o.submissionsDir} does not exist; check the path`);
  const sources = loadSources(o.source, log);
  for (const s of sources) checkUnreadable(s.file, "the source notebook");
  checkUnreadable(o.outDir, "the results folder");
  checkUnreadable(o.submissionsDir, "the submissions folder");
  try {
    if (!statSync(o.outDir).isDirectory()) throw new BadInput(`--out-dir ${o.outDir} is a file; give a folder`);
  } catch (err) {
    if (err instanceof BadInput) throw err;
  }

  // The sources themselves are not submissions, should they sit in the same folder.
  const sourceFiles = new Set(sources.map((s) => path.resolve(s.file)));
  const files = findNotebooks(o.submissionsDir).filter((rel) => !sourceFiles.has(path.resolve(o.submissionsDir, rel)));
  if (!files.length) throw new BadInput(`the submissions folder ${o.submissionsDir} holds no .ipynb file`);
  const byBase = new Map(sources.map((s) => [s.base, s]));
  const single = sources.length === 1 && !statSync(o.source).isDirectory();
  const work = files.map((rel) => ({ rel, name: rel.replace(/\.ipynb$/, ""), source: single ? sources[0]! : byBase.get(path.posix.basename(rel)) }));

  const jobs = Math.max(1, Math.min(o.jobs, work.length));
  const totalMb = os.totalmem() / 2 ** 20;
  if (jobs * o.memoryMb > totalMb) {
    log(`grade: warning: ${jobs} submissions at once with --memory ${o.memoryMb} MB each may need more than this machine's ${Math.round(totalMb)} MB; lower -j or --memory`);
  }
  log(`grade: ${work.length} submission${work.length === 1 ? "" : "s"} in ${o.submissionsDir}, ${jobs} at a time; results in ${o.outDir}`);

  const columns = sources.flatMap((s) => s.gradeIds);
  const rows = new Map<string, Row>();
  const warned = new Set<string>();
  const started = Date.now();
  let done = 0;
  let running = 0;

  const writeGradebook = () => writeFileAtomic(path.join(o.outDir, "grades.csv"), gradebook([...rows.values()], columns));

  const gradeOne = async (w: (typeof work)[number]): Promise<Row> => {
    const t0 = Date.now();
    const file = path.join(o.submissionsDir, w.rel);
    const reportFile = path.join(o.outDir, w.name + EXTENSION[o.format]);
    const pageFile = path.join(o.outDir, w.name + ".html");
    const renderOptions = { hiddenVisibility: o.hiddenVisibility, redact: w.source?.redact ?? ((s: string) => s) };
    const save = (r: GradeResults) => writeFileAtomic(reportFile, render(r, o.format, renderOptions));
    let graded: Graded;
    if (!w.source) {
      const message = `no source notebook is named ${path.posix.basename(w.rel)} (the sources in ${o.source}: ${sources.map((s) => s.base).join(", ")}); submissions are matched to sources by file name`;
      graded = { code: 2, results: { submission: file, source: o.source, score: 0, max_score: 0, finished: false, tests: [], restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: 0, error: message } };
    } else {
      try {
        graded = await gradeSubmission({
          submissionFile: file,
          source: w.source.notebook,
          sourceFile: w.source.file,
          timeoutMs: o.timeoutMs,
          budgetMs: o.budgetMs,
          memoryMb: o.memoryMb,
          outputLimits: o.outputLimits,
          allowUnsandboxed: o.allowUnsandboxed,
          refuseSymlinks: true,
          progress: (line) => {
            // Per-cell lines of N interleaved gradings would be noise; each sandbox warning is said once.
            const m = /^kernel: warning: (.*)$/.exec(line);
            if (m && !warned.has(m[1]!)) {
              warned.add(m[1]!);
              log(`grade: warning: ${m[1]}`);
            }
          },
          save,
        });
      } catch (err) {
        // Whatever it was (the file vanished, a bug), it is this submission's row, and the batch goes on.
        const message = err instanceof Error ? err.message : String(err);
        const tests = scoreTests(w.source.notebook, w.source.notebook, null, `the grader failed: ${message}`);
        const results: GradeResults = { submission: file, source: w.source.file, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: Date.now() - t0, kernel_error: `the grader failed: ${message}` };
        graded = { code: 1, results, graderFailure: message };
      }
    }
    const status = submissionStatus(graded);
    try {
      save(graded.results);
      writeFileAtomic(pageFile, feedbackPage(graded.results, graded.notebook ?? null, w.source?.notebook ?? null, { revealHidden: o.revealHidden, redact: renderOptions.redact, name: w.name, status }));
    } catch (err) {
      log(`grade: cannot write the results of ${w.name}: ${(err as Error).message}`);
    }
    return { name: w.name, results: graded.results, status, seconds: (Date.now() - t0) / 1000 };
  };

  const queue = [...work];
  const worker = async () => {
    for (let w = queue.shift(); w; w = queue.shift()) {
      running++;
      const row = await gradeOne(w);
      running--;
      done++;
      rows.set(row.name, row);
      try {
        writeGradebook();
      } catch (err) {
        log(`grade: cannot write grades.csv: ${(err as Error).message}`);
      }
      const elapsed = (Date.now() - started) / 1000;
      const left = work.length - done;
      const eta = left ? ` · ${running} running, ${queue.length} waiting, ETA ${duration((elapsed / done) * left)}` : "";
      const how = row.status === "ok" ? "" : ` ${row.status}`;
      log(`[${done}/${work.length}] ${row.name} ${row.results.score}/${row.results.max_score} ${row.seconds.toFixed(1)} s${how}${eta}`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));

  const all = [...rows.values()];
  const graded = all.filter((r) => r.status !== "invalid" && r.status !== "error");
  const count = (s: SubmissionStatus) => all.filter((r) => r.status === s).length;
  const parts = [`${graded.length} graded (${count("ok")} ok, ${count("timeout")} timeout, ${count("crashed")} crashed)`, `${count("invalid")} invalid`];
  if (count("error")) parts.push(`${count("error")} not graded (the grader or its kernel failed)`);
  log(`grade: ${all.length} submissions in ${duration((Date.now() - started) / 1000)} with -j ${jobs}: ${parts.join(", ")}`);
  if (graded.length) {
    const mean = (f: (r: Row) => number) => graded.reduce((a, r) => a + f(r), 0) / graded.length;
    const maxes = new Set(graded.map((r) => r.results.max_score));
    const percent = mean((r) => (r.results.max_score ? r.results.score / r.results.max_score : 0)) * 100;
    const points = maxes.size === 1 ? `${round(mean((r) => r.results.score))} / ${[...maxes][0]} ` : "";
    const slowest = graded.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    log(`grade: mean score ${points}(${Math.round(percent)}%) over the graded; slowest ${slowest.name} ${slowest.seconds.toFixed(1)} s`);
  }
  const bad = all.filter((r) => r.status === "invalid" || r.status === "error");
  for (const r of bad) log(`grade: ${r.name}: ${r.status}: ${(r.results.error ?? r.results.kernel_error ?? "").split("\n")[0]}`);
  log(`grade: wrote ${path.join(o.outDir, "grades.csv")}, and per submission a report (${EXTENSION[o.format]}) and a feedback page (.html) in ${o.outDir}`);
  return bad.length ? 1 : 0;
}

/** `grades.csv`: name, score, max_score, one column per grade_id (empty where the test is not the submission's), status, duration_s. */
export function gradebook(rows: Row[], columns: string[]): string {
  const lines = [["name", "score", "max_score", ...columns, "status", "duration_s"]];
  for (const r of [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const scores = new Map(r.results.tests.map((t) => [t.grade_id, t.score]));
    lines.push([r.name, String(r.results.score), String(r.results.max_score), ...columns.map((c) => (scores.has(c) ? String(scores.get(c)) : "")), r.status, r.seconds.toFixed(1)]);
  }
  return lines.map((l) => l.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function csvField(s: string): string {
  // A submission's name comes from a file name a student may have chosen: text that starts like a formula
  // (`=HYPERLINK(...)`, `+`, `-`, `@`, a tab) would run as one when staff open the gradebook in a spreadsheet
  // (OWASP's "CSV injection"), so it gets a leading apostrophe. Numbers, negative ones included, stay numbers.
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** "41 s", "3 min 05 s". */
function duration(s: number): string {
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, "0")} s`;
}
