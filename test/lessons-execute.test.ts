/**
 * Every lesson, executed for real:
 *   - `otp-lab grade` of the source notebook gives full marks, with no error output in any cell;
 *   - `otp-lab grade` of the student version (`otp-lab assign`) gives zero points, every test cell failing on
 *     its stub — even when the student deleted every demonstration cell: tests depend only on the cells the
 *     grader restores (locked ones) and on the student's own solution cells;
 *   - Debian's nbclient runs every lesson twice, all on ONE otp-lab kernel: each pass is free of errors and
 *     gives the outputs of the graded run, which had a fresh kernel. So a lesson prints the same whether its
 *     kernel is fresh, has just run it, or has run other lessons before (each lesson resets the runtime).
 * Kernel start-up (the TypeScript service warming up) is the main cost: two grading sessions per lesson run two
 * at a time, next to the single nbclient session.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, jupyterEnv, PYTHON, ROOT, type JupyterEnv } from "./kernel/helpers.js";

const NOTEBOOKS = path.join(ROOT, "notebooks");
const CLI = path.join(ROOT, "dist", "kernel", "cli.js");
const LESSONS = [
  "01-processes-links-monitors",
  "02-genserver",
  "03-one-for-one",
  "04-one-for-all",
  "05-rest-for-one",
  "06-restart-types",
  "07-intensity-escalation",
  "08-dynamic-supervisor",
  "09-hot-code-swap",
  "10-fault-injection",
  "11-tasks",
  "12-names-registry-partitions",
  "13-distribution",
  "14-capstone-chat",
];
const PARALLEL = 2;

/**
 * Runs each notebook given twice in a row, all on one kernel, with nbclient; writes
 * `{ "NN-name.ipynb": [pass1, pass2] }` where a pass is `[[cell id, outputs], ...]` to the file named first. (A
 * file, not stdout: the kernel inherits this process's stdout, and megabytes printed there while it shuts down
 * arrived cut short on a loaded CI machine.)
 */
const TWO_PASSES_EACH = String.raw`
import copy, json, os, sys
import nbformat
from nbclient import NotebookClient
out_path = sys.argv[1]
paths = sys.argv[2:]
book = nbformat.v4.new_notebook()
book.metadata = nbformat.read(paths[0], as_version=4).metadata
client = NotebookClient(book, timeout=300, kernel_name="otp-lab", allow_errors=True,
                        resources={"metadata": {"path": os.path.dirname(paths[0])}})
result = {}
with client.setup_kernel():
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        passes = []
        for _ in range(2):
            outputs = []
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                run = copy.deepcopy(cell)
                book.cells.append(run)
                client.execute_cell(run, len(book.cells) - 1)
                outputs.append([cell.get("id"), run.outputs])
            passes.append(outputs)
        result[os.path.basename(path)] = passes
        print("done", path, file=sys.stderr, flush=True)
with open(out_path + ".part", "w") as out:
    json.dump(result, out)
os.replace(out_path + ".part", out_path)
`;

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  id: string;
  outputs?: Output[];
  metadata: { nbgrader?: { grade_id?: string } };
}
interface GradeReport {
  score: number;
  max_score: number;
  tests: { grade_id: string; score: number; max_score: number; status: string; feedback: string }[];
}
type Pass = [string, Output[]][];
interface LessonRun {
  full: GradeReport;
  zero: GradeReport;
  graded: Pass;
  log: string;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 900_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, timeout: timeoutMs, maxBuffer: 256 << 20, encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * What a cell shows, in a form that does not depend on how a client stored it: strings or lists of lines, and
 * stream text in one output or several (clients split and merge consecutive stream messages differently). Crash
 * reports name the cells of their stack frames by execution count (`Cell In[7], line 8`), which depends on what
 * the kernel ran before, as an execute_result's execution_count does: the count is left out, the line kept; and
 * so is a widget's random model id.
 */
const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
/** A widget's model id is a fresh random id for each model the kernel makes (the widget protocol's choice). */
const unnamed = (v: unknown) => ({ ...(v as object), model_id: "MODEL" });
function normalize(outs: Output[]): unknown[] {
  const join = (v: unknown) => (Array.isArray(v) ? v.join("") : v);
  const uncounted = (v: unknown) => (typeof v === "string" ? v.replace(/Cell In\[\d+\]/g, "Cell In[N]") : v);
  const shown: Record<string, unknown>[] = [];
  for (const o of outs) {
    const last = shown[shown.length - 1];
    if (o.output_type === "stream" && last?.type === "stream" && last.name === o.name) {
      last.text = `${last.text}${join(o.text)}`;
      continue;
    }
    const data = o.data ? Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, k === WIDGET_VIEW ? unnamed(v) : typeof v === "object" && !Array.isArray(v) ? v : uncounted(join(v))])) : undefined;
    shown.push({ type: o.output_type === "execute_result" ? "result" : o.output_type, name: o.name, text: join(o.text), data, ename: o.ename, evalue: o.evalue });
  }
  return shown;
}
const show = (pass: Pass) => pass.map(([id, outs]) => [id, normalize(outs)]);

const errorsIn = (cells: Pass) =>
  cells.flatMap(([id, outs]) => outs.filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr")).map((o) => `${id}: ${o.ename ?? "stderr"} ${o.evalue ?? o.text}`));

async function runLesson(name: string, env: NodeJS.ProcessEnv): Promise<LessonRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `otp-lab-lesson-${name.slice(0, 2)}-`));
  try {
    const src = path.join(dir, `${name}.ipynb`);
    copyFileSync(path.join(NOTEBOOKS, `${name}.ipynb`), src);
    const student = path.join(dir, "student", `${name}.ipynb`);
    mkdirSync(path.dirname(student));
    let log = "";
    const node = async (args: string[]) => {
      const r = await exec(process.execPath, [CLI, ...args], env, dir);
      log += `$ otp-lab ${args.join(" ")} -> ${r.code}\n${r.stderr.split("\n").slice(-6).join("\n")}\n`;
      return r;
    };
    const assigned = await node(["assign", src, student]);
    if (assigned.code !== 0) throw new Error(`assign failed:\n${log}`);
    // A student who deleted every demonstration cell (code cells without nbgrader metadata).
    const studentNb = JSON.parse(readFileSync(student, "utf8")) as { cells: Cell[] };
    studentNb.cells = studentNb.cells.filter((c) => c.cell_type !== "code" || c.metadata.nbgrader);
    writeFileSync(student, JSON.stringify(studentNb, null, 1));
    await node(["grade", src, "--source", src, "--out", path.join(dir, "full.json"), "--notebook", path.join(dir, "graded.ipynb"), "--timeout", "120"]);
    await node(["grade", student, "--source", src, "--out", path.join(dir, "zero.json"), "--timeout", "120"]);
    const gradedNb = JSON.parse(readFileSync(path.join(dir, "graded.ipynb"), "utf8")) as { cells: Cell[] };
    return {
      full: JSON.parse(readFileSync(path.join(dir, "full.json"), "utf8")) as GradeReport,
      zero: JSON.parse(readFileSync(path.join(dir, "zero.json"), "utf8")) as GradeReport,
      graded: gradedNb.cells.filter((c) => c.cell_type === "code").map((c) => [c.id, c.outputs ?? []]),
      log,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAllTwiceOnOneKernel(env: NodeJS.ProcessEnv): Promise<Record<string, Pass[]>> {
  const files = LESSONS.map((name) => path.join(NOTEBOOKS, `${name}.ipynb`));
  const dir = mkdtempSync(path.join(tmpdir(), "otp-lab-two-passes-"));
  try {
    const out = path.join(dir, "passes.json");
    const r = await exec(PYTHON, ["-c", TWO_PASSES_EACH, out, ...files], env, NOTEBOOKS, 1_400_000);
    if (r.code !== 0) throw new Error(`nbclient failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
    return JSON.parse(readFileSync(out, "utf8")) as Record<string, Pass[]>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let env: JupyterEnv;
const runs = new Map<string, LessonRun | Error>();
let passes: Record<string, Pass[]> | Error;

beforeAll(async () => {
  await ensureBuilt();
  env = jupyterEnv();
  const oneKernel = runAllTwiceOnOneKernel(env.env).then(
    (p) => (passes = p),
    (err: Error) => (passes = err),
  );
  const queue = [...LESSONS];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      try {
        runs.set(name, await runLesson(name, env.env));
      } catch (err) {
        runs.set(name, err as Error);
      }
    }
  };
  await Promise.all([...Array.from({ length: PARALLEL }, worker), oneKernel]);
}, 1_500_000);

afterAll(() => env?.cleanup());

function result(name: string): LessonRun {
  const r = runs.get(name);
  if (!r) throw new Error(`${name} did not run`);
  if (r instanceof Error) throw r;
  return r;
}

describe.each(LESSONS)("lesson %s", (name) => {
  it("grading the source gives full marks, and no cell has an error output", () => {
    const r = result(name);
    expect(errorsIn(r.graded), r.log).toEqual([]);
    expect(r.full.tests.length).toBeGreaterThanOrEqual(2);
    expect(r.full.tests.filter((t) => t.status !== "passed"), r.log).toEqual([]);
    expect(r.full.score).toBe(r.full.max_score);
  });

  it("grading the student version gives zero points: every test cell fails", () => {
    const r = result(name);
    expect(r.zero.max_score).toBe(r.full.max_score);
    expect(r.zero.score).toBe(0);
    expect(r.zero.tests.map((t) => [t.grade_id, t.status])).toEqual(r.full.tests.map((t) => [t.grade_id, "failed"]));
    // ... because of the stubs, not of anything else (the student version type-checks and runs up to them).
    for (const t of r.zero.tests) expect(t.feedback).toContain("not implemented");
  });

  it("runs twice on a kernel that ran the lessons before it (nbclient), each time as on a fresh kernel", () => {
    if (passes instanceof Error) throw passes;
    const [first, second] = passes[`${name}.ipynb`]!;
    expect(errorsIn(first!)).toEqual([]);
    expect(errorsIn(second!)).toEqual([]);
    const fresh = show(result(name).graded);
    expect(show(first!)).toEqual(fresh);
    expect(show(second!)).toEqual(fresh);
    // And the pictures are there: diagrams and charts come with a PNG for every frontend.
    expect(result(name).graded.flatMap(([, outs]) => outs).some((o) => o.data && "image/png" in o.data)).toBe(true);
  });
});
