/**
 * `otp-lab autograder SOURCE --out autograder.zip [grading options]`: a Gradescope autograder (otter's
 * `otter generate`). Gradescope unpacks the zip into `/autograder/source`, runs `setup.sh` once to build the
 * image, and `run_autograder` in a fresh container for each submission, with the student's files in
 * `/autograder/submission`; the score is whatever `/autograder/results/results.json` says. The zip holds:
 *
 *   setup.sh                  installs Node 20, bubblewrap and fonts (Debian/Ubuntu packages) and this package's
 *                             dependencies (`npm ci --omit=dev` in otp-lab/)
 *   run_autograder            `otp-lab autograder --run $AUTOGRADER_ROOT` (default /autograder); `OTP_LAB` may
 *                             name another otp-lab command (a test runs this checkout's)
 *   otp-lab-autograder.json   the grading options chosen here (time limits, budget, memory, visibility...)
 *   assignment/NAME.ipynb     the source notebook(s), hidden tests included (never readable by graded code)
 *   otp-lab/                  this package: package.json (without its build scripts), package-lock.json, dist/
 *
 * `otp-lab autograder --run ROOT` grades `ROOT/submission` against `ROOT/source/assignment` and writes
 * `ROOT/results/results.json` (Gradescope's format; kept current while grading, like `grade --out`). With one
 * source notebook the student's notebook may have any name (if they upload several, the one named like the
 * source); with several, each is matched by file name and a missing one scores zero, saying so. The notebooks
 * share one budget (`--budget`, from the autograder's start), each graded as `otp-lab grade` grades.
 * Exit codes: 0 results.json written, 1 the grader or its kernel failed (results.json still written when
 * possible), 2 bad arguments or an autograder folder without its settings.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parse, positiveInt, positiveNumber, seconds, wantsHelp, withExitCodes, GRADING_OPTIONS } from "./args.js";
import { loadSources, type Source } from "./batch.js";
import { DEFAULT_BUDGET_S } from "./grade-command.js";
import { gradeSubmission } from "./grade-submission.js";
import { BadInput, findNotebooks, isObject, writeFileAtomic } from "./notebook.js";
import { DEFAULT_OUTPUT_LIMITS } from "./outputs.js";
import { DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES, render, scoreTests, totals, type GradeResults, type Visibility } from "./results.js";
import { DEFAULT_TIMEOUT_S } from "./run-command.js";
import { DEFAULT_MEMORY_MB } from "./sandbox.js";
import { zip, type ZipEntry } from "./zip.js";

const USAGE =
  "usage: otp-lab autograder SRC.ipynb|SRC_DIR --out autograder.zip [--timeout SEC] [--budget SEC] [--memory MB] " +
  "[--hidden-visibility V] [--max-cell-output MB] [--max-notebook-output MB] [--max-cell-outputs N] [--allow-unsandboxed]\n" +
  "       otp-lab autograder --run ROOT   (what run_autograder does: grade ROOT/submission, write ROOT/results/results.json)";

const HELP = `${USAGE}

Writes a Gradescope autograder for a source notebook, or a folder of them (a multi-notebook assignment):
upload the zip as the assignment's autograder ("Zip file upload"; base image Ubuntu 22.04). Each submission's
notebook is graded as \`otp-lab grade\` grades it, with the options given here, and its results.json holds
a test per grade_id (hidden tests' text never shown; their results visible after_published by default).

  -o, --out FILE             the zip to write (required)
      --timeout SEC          time limit of one cell (default ${DEFAULT_TIMEOUT_S})
      --budget SEC           budget of a whole submission, all its notebooks (default ${DEFAULT_BUDGET_S}: Gradescope stops
                             an autograder after 10 minutes)
      --memory MB            memory of the kernel (default ${DEFAULT_MEMORY_MB})
      --hidden-visibility V  hidden, after_due_date, after_published (default) or visible
      --max-cell-output MB, --max-notebook-output MB, --max-cell-outputs N   output caps, as for grade
      --allow-unsandboxed    grade even where the container cannot run bubblewrap (see the README)
      --run ROOT             grade ROOT/submission against ROOT/source (run_autograder calls this)
  -h, --help                 this text
`;

/** What `otp-lab-autograder.json` holds. */
interface Settings {
  notebooks: string[];
  timeout_s: number;
  budget_s: number;
  memory_mb: number;
  hidden_visibility: Visibility;
  max_cell_output_mb: number;
  max_notebook_output_mb: number;
  max_cell_outputs: number;
  allow_unsandboxed: boolean;
}

const SETTINGS = "otp-lab-autograder.json";
const ASSIGNMENT = "assignment";

export function main(argv: string[]): Promise<number> {
  return withExitCodes("autograder", async () => {
    if (wantsHelp(argv)) {
      process.stdout.write(HELP);
      return 0;
    }
    const { values, flags, positionals } = parse(
      argv,
      {
        ...GRADING_OPTIONS,
        out: { type: "string", short: "o" },
        run: { type: "string" },
      },
      USAGE,
    );
    if (values.run !== undefined) {
      if (positionals.length) throw new BadInput(`--run takes no source: it grades against the one in ${values.run}/source\n${USAGE}`);
      return runAutograder(values.run);
    }
    if (positionals.length !== 1) throw new BadInput(`expected one source notebook or folder\n${USAGE}`);
    if (!values.out) throw new BadInput(`missing --out autograder.zip\n${USAGE}`);
    const hidden = (values["hidden-visibility"] ?? DEFAULT_HIDDEN_VISIBILITY) as Visibility;
    if (!VISIBILITIES.includes(hidden)) throw new BadInput(`unknown --hidden-visibility '${values["hidden-visibility"]}'; use one of ${VISIBILITIES.join(", ")}`);
    const settings: Settings = {
      notebooks: [],
      timeout_s: seconds(values.timeout, "--timeout", DEFAULT_TIMEOUT_S, USAGE) / 1000,
      budget_s: seconds(values.budget, "--budget", DEFAULT_BUDGET_S, USAGE) / 1000,
      memory_mb: positiveInt(values.memory, "--memory", DEFAULT_MEMORY_MB, USAGE),
      hidden_visibility: hidden,
      max_cell_output_mb: positiveNumber(values["max-cell-output"], "--max-cell-output", DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000, "MB", USAGE),
      max_notebook_output_mb: positiveNumber(values["max-notebook-output"], "--max-notebook-output", DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000, "MB", USAGE),
      max_cell_outputs: positiveInt(values["max-cell-outputs"], "--max-cell-outputs", DEFAULT_OUTPUT_LIMITS.cellOutputs, USAGE),
      allow_unsandboxed: flags["allow-unsandboxed"] === true,
    };
    const sources = loadSources(positionals[0]!, (line) => process.stderr.write(line + "\n"));
    settings.notebooks = sources.map((s) => s.base);
    const entries: ZipEntry[] = [
      { name: "setup.sh", data: SETUP_SH, mode: 0o755 },
      { name: "run_autograder", data: RUN_AUTOGRADER, mode: 0o755 },
      { name: SETTINGS, data: JSON.stringify(settings, null, 2) + "\n" },
      ...sources.map((s) => ({ name: `${ASSIGNMENT}/${s.base}`, data: readFileSync(s.file) })),
      ...packageEntries(),
    ];
    const data = zip(entries);
    writeFileAtomic(values.out, data);
    process.stderr.write(
      `otp-lab autograder: wrote ${values.out} (${Math.round(data.length / 1024)} KB: ${sources.map((s) => s.base).join(", ")}; ` +
        `--timeout ${settings.timeout_s} --budget ${settings.budget_s} --memory ${settings.memory_mb}${settings.allow_unsandboxed ? " --allow-unsandboxed" : ""})\n`,
    );
    return 0;
  });
}

/** This package as installed: package.json (no build scripts: there are no sources to build), the lock, dist/. */
function packageEntries(): ZipEntry[] {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, unknown>;
  delete manifest.scripts;
  const entries: ZipEntry[] = [{ name: "otp-lab/package.json", data: JSON.stringify(manifest, null, 2) + "\n" }];
  const lock = path.join(root, "package-lock.json");
  if (existsSync(lock)) entries.push({ name: "otp-lab/package-lock.json", data: readFileSync(lock) });
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      // JavaScript and the declarations the kernel type-checks cells against; no source maps.
      else if (e.isFile() && (e.name.endsWith(".js") || e.name.endsWith(".d.ts") || e.name.endsWith(".json"))) {
        entries.push({ name: `otp-lab/${r}`, data: readFileSync(path.join(root, r)), ...(r === "dist/kernel/cli.js" ? { mode: 0o755 } : {}) });
      }
    }
  };
  walk("dist");
  return entries;
}

// ------------------------------------------------------------------------------------------ in the container

function readSettings(root: string): Settings {
  const file = path.join(root, "source", SETTINGS);
  let s: unknown;
  try {
    s = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new BadInput(`${file} is missing or unreadable (${(err as Error).message}); is ${root} an unpacked otp-lab autograder?`);
  }
  if (!isObject(s) || !Array.isArray(s.notebooks) || !s.notebooks.length) throw new BadInput(`${file} names no notebooks`);
  return s as unknown as Settings;
}

/** What the student submitted for one source: a notebook file, or why there is none. */
type Pick = { file: string } | { missing: string };

function pick(sources: Source[], submitted: string[], dir: string): Pick[] {
  const list = (xs: string[]) => xs.join(", ");
  return sources.map((s) => {
    const named = submitted.filter((rel) => path.posix.basename(rel) === s.base);
    if (named.length === 1) return { file: path.join(dir, named[0]!) };
    if (named.length > 1) return { missing: `the submission has ${named.length} notebooks named ${s.base} (${list(named)}); submit one` };
    // One notebook asked for: any one notebook is it, whatever its name.
    if (sources.length === 1 && submitted.length === 1) return { file: path.join(dir, submitted[0]!) };
    if (!submitted.length) return { missing: `the submission has no notebook (.ipynb); submit ${s.base}` };
    return { missing: `the submission has no notebook named ${s.base}${sources.length === 1 ? ` (it has ${list(submitted)}; submit only ${s.base}, or name it so)` : ""}` };
  });
}

async function runAutograder(root: string): Promise<number> {
  const start = Math.round(performance.timeOrigin);
  const settings = readSettings(root);
  const sourceDir = path.join(root, "source", ASSIGNMENT);
  const sources = settings.notebooks.map((n) => loadSources(path.join(sourceDir, n), () => {})[0]!);
  const submissionDir = path.join(root, "submission");
  let submitted: string[] = [];
  try {
    if (statSync(submissionDir).isDirectory()) submitted = findNotebooks(submissionDir);
  } catch {
    // No submission folder: nothing submitted.
  }
  const resultsFile = path.join(root, "results", "results.json");
  const hiddenVisibility = settings.hidden_visibility ?? DEFAULT_HIDDEN_VISIBILITY;
  const picks = pick(sources, submitted, submissionDir);
  const parts: (GradeResults | null)[] = sources.map(() => null);
  const write = () => writeFileAtomic(resultsFile, JSON.stringify(combine(sources, parts, hiddenVisibility), null, 2) + "\n");
  const log = (line: string) => process.stderr.write(line + "\n");
  let code = 0;
  for (const [k, source] of sources.entries()) {
    const p = picks[k]!;
    if ("missing" in p) {
      parts[k] = { ...notGraded(source, p.missing), error: p.missing };
      log(`autograder: ${source.base}: ${p.missing}`);
      write();
      continue;
    }
    log(`autograder: grading ${path.relative(submissionDir, p.file)} against ${source.base}`);
    try {
      const graded = await gradeSubmission({
        submissionFile: p.file,
        name: path.relative(submissionDir, p.file),
        source: source.notebook,
        sourceFile: source.file,
        timeoutMs: settings.timeout_s * 1000,
        budgetMs: settings.budget_s * 1000,
        // All the notebooks of a submission share one budget, from the autograder's start.
        budgetStart: start,
        memoryMb: settings.memory_mb,
        outputLimits: {
          cellChars: Math.round(settings.max_cell_output_mb * 1_000_000),
          notebookChars: Math.round(settings.max_notebook_output_mb * 1_000_000),
          cellOutputs: settings.max_cell_outputs,
        },
        allowUnsandboxed: settings.allow_unsandboxed === true,
        refuseSymlinks: true,
        progress: log,
        save: (r) => {
          parts[k] = r;
          write();
        },
      });
      parts[k] = graded.results;
      if (graded.code === 1) code = 1;
      log(`autograder: ${source.base}: ${graded.results.score} / ${graded.results.max_score} points`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      parts[k] = { ...notGraded(source, `the grader failed: ${message}`), kernel_error: `the grader failed: ${message}` };
      log(`autograder: ${source.base}: the grader failed: ${message}`);
      code = 1;
    }
    write();
  }
  write();
  log(`autograder: wrote ${resultsFile}`);
  return code;
}

/** Zero points for every test of `source`, each "not run: why". */
function notGraded(source: Source, why: string): GradeResults {
  const tests = scoreTests(source.notebook, source.notebook, null, why);
  return { submission: source.base, source: source.base, ...totals(tests), finished: false, tests, restored: [], reinserted: [], stripped: [], kernel_restarts: 0, duration_ms: 0 };
}

/** One Gradescope results.json for all the notebooks of a submission (for one, exactly `grade --format gradescope`'s). */
function combine(sources: Source[], parts: (GradeResults | null)[], hiddenVisibility: Visibility): Record<string, unknown> {
  const rendered = sources.map((s, k) => {
    const r = parts[k] ?? notGraded(s, "grading did not finish");
    return JSON.parse(render(r, "gradescope", { hiddenVisibility, redact: s.redact })) as GradescopeResults;
  });
  if (rendered.length === 1) return rendered[0]! as unknown as Record<string, unknown>;
  const sum = (f: (g: GradescopeResults) => number) => Math.round(rendered.reduce((a, g) => a + f(g), 0) * 1000) / 1000;
  return {
    score: sum((g) => g.score),
    execution_time: sum((g) => g.execution_time),
    output: rendered.map((g, k) => `${sources[k]!.base}\n${g.output}`).join("\n\n"),
    output_format: "text",
    visibility: "visible",
    stdout_visibility: "hidden",
    extra_data: {
      max_score: sum((g) => Number(g.extra_data.max_score) || 0),
      finished: rendered.every((g) => g.extra_data.finished === true),
      kernel_restarts: sum((g) => Number(g.extra_data.kernel_restarts) || 0),
      ...(rendered.some((g) => g.extra_data.budget_exhausted) ? { budget_exhausted: true } : {}),
    },
    tests: rendered.flatMap((g, k) => g.tests.map((t) => ({ ...t, name: `${sources[k]!.base.replace(/\.ipynb$/, "")}: ${t.name}` }))),
  };
}

interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  extra_data: Record<string, unknown>;
  tests: { name: string; [k: string]: unknown }[];
}

// ------------------------------------------------------------------------------------------ the scripts

const SETUP_SH = `#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image. Written for Gradescope's
# Ubuntu 22.04 base image, which has no Node: Node 20 comes from NodeSource's apt repository (Ubuntu's own
# nodejs is 12, too old). Everything else is Ubuntu's: bubblewrap (the grader's OS sandbox), fonts for the
# pictures. Then this package's dependencies, from the lock file in otp-lab/.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
HERE="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"

apt-get update
apt-get install -y --no-install-recommends ca-certificates curl gnupg bubblewrap fonts-dejavu-core
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  mkdir -p /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" > /etc/apt/sources.list.d/nodesource.list
  apt-get update
  apt-get install -y nodejs
fi
node --version

cd "$HERE/otp-lab"
npm ci --omit=dev --no-audit --no-fund
node dist/kernel/cli.js grade --help >/dev/null

# Can this container run the grader's sandbox? (Gradescope's output of this build shows the answer.)
if bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin /bin/true; then
  echo "otp-lab: bubblewrap works here: submissions are graded in the OS sandbox"
else
  echo "otp-lab: bubblewrap cannot create namespaces in this container; grading will refuse unless the zip was made with --allow-unsandboxed"
fi
`;

const RUN_AUTOGRADER = `#!/usr/bin/env bash
# Gradescope runs this for each submission, in a fresh container built by setup.sh: the student's files are in
# $ROOT/submission, this zip's contents in $ROOT/source, and the score goes to $ROOT/results/results.json.
# AUTOGRADER_ROOT (default /autograder) runs the same thing anywhere with that layout (a test, a batch system
# that runs one container per submission); OTP_LAB names another otp-lab command (default: the one in the zip).
set -uo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/results"
if [ -n "\${OTP_LAB:-}" ]; then
  read -r -a otp_lab <<< "$OTP_LAB"
else
  otp_lab=(node "$ROOT/source/otp-lab/dist/kernel/cli.js")
fi
exec "\${otp_lab[@]}" autograder --run "$ROOT"
`;
