/**
 * `otp-lab run`: executes a notebook headless on a fresh kernel and saves nbformat-valid outputs of every kind.
 * And a standard client: Debian's `jupyter nbconvert --execute` runs a notebook on the installed otp-lab
 * kernel and gets exactly the outputs `otp-lab run` records.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nbconvertExecute } from "./kernel/helpers.js";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { NODE_FLAGS } from "../runtime/node-flags.js";
import { FIXTURES, SOURCE, codeCell, nbformatErrors, otpLab, progressLines, readNb, requireBuild, tempDir, text, writeNb, type CliResult, type Nb } from "./grader/helpers.js";

const dir = tempDir();
const SLOW = 240_000;

beforeAll(() => requireBuild());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("otp-lab run", () => {
  const input = path.join(FIXTURES, "outputs.ipynb");
  const out = path.join(dir, "outputs.out.ipynb");
  let r: CliResult;
  let nb: Nb;
  const cell = (id: string) => nb.cells.find((c) => c.id === id)!;

  beforeAll(async () => {
    r = await otpLab(["run", input, "--out", out]);
    nb = readNb(out);
  }, SLOW);

  it("exits 1 when a cell errored, runs the cells after it, and leaves the input alone with --out", () => {
    expect(r.code).toBe(1);
    expect(progressLines(r.stderr)).toEqual([
      ["streams", "ok"],
      ["display", "ok"],
      ["update", "ok"],
      ["fails", "error: RangeError"],
      ["after", "ok"],
    ]);
    expect(readFileSync(input, "utf8")).not.toContain("output_type");
    expect(nbformatErrors(out)).toBe("");
  });

  it("records streams, displays (updated in place, without transient ids), results and errors", () => {
    expect(cell("streams").outputs).toEqual([
      { output_type: "stream", name: "stdout", text: ["one\n", "two\n"] },
      { output_type: "stream", name: "stderr", text: ["to stderr\n"] },
    ]);
    // The later cell's update replaced what the display shows; `transient` is not saved.
    expect(cell("display").outputs).toEqual([
      { output_type: "display_data", data: { "text/plain": ["'finished'"] }, metadata: {} },
      { output_type: "execute_result", execution_count: 2, data: { "text/plain": ["42"] }, metadata: {} },
    ]);
    expect(cell("update").outputs).toEqual([]);
    expect(cell("empty").execution_count).toBeNull();
    const [err] = cell("fails").outputs!;
    expect(err).toMatchObject({ output_type: "error", ename: "RangeError", evalue: "expected failure" });
    expect(text(err.traceback)).toContain("Cell In[4]");
    expect(cell("after").outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["still running after the error\n"] }]);
    expect(nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count)).toEqual([1, 2, 3, null, 4, 5]);
  });
});

describe("otp-lab run --budget, and the help texts", () => {
  it(
    "stops the cell that is running when the budget runs out, and does not run the rest",
    async () => {
      const nb = readNb(path.join(FIXTURES, "outputs.ipynb"));
      nb.cells = [{ ...codeCell('console.log("before");'), id: "before" }, { ...codeCell("while (true) {}"), id: "loops" }, { ...codeCell('console.log("after");'), id: "after" }];
      const file = writeNb(path.join(dir, "budget.ipynb"), nb);
      const t = Date.now();
      const r = await otpLab(["run", file, "--timeout", "120", "--budget", "20"]);
      expect((Date.now() - t) / 1000).toBeLessThan(40); // the budget counts from the run's start, not the process's
      expect(r.code).toBe(1);
      expect(progressLines(r.stderr)).toEqual([
        ["before", "ok"],
        ["loops", "stopped: the time budget ran out"],
        ["after", "not run (time budget)"],
      ]);
      const out = readNb(file);
      expect(out.cells[1]!.outputs).toEqual([
        expect.objectContaining({ ename: "CellTimeoutError", evalue: "the submission's time budget of 20 s ran out while this cell was running, and it was stopped; the cells after it were not run." }),
      ]);
      expect(out.cells[2]!.outputs).toEqual([]);
      expect(nbformatErrors(file)).toBe("");
    },
    SLOW,
  );

  it(
    "runs its kernel with the learner's kernel's V8 flags (NODE_FLAGS) and the grader's optimisation budget",
    async () => {
      const nb = readNb(path.join(FIXTURES, "outputs.ipynb"));
      nb.cells = [{ ...codeCell('console.log(process.execArgv.filter((f) => !f.startsWith("--allow-fs-read")).join(" "));'), id: "flags" }];
      const file = writeNb(path.join(dir, "flags.ipynb"), nb);
      const r = await otpLab(["run", file]);
      expect(r.code).toBe(0);
      const printed = text(readNb(file).cells[0]!.outputs![0]!.text).trim().split(" ");
      // The same young generation as the learner's kernel: a graded solution runs as fast as the learner's did.
      for (const f of NODE_FLAGS) expect(printed).toContain(f);
      expect(printed).toContain("--interrupt-budget=1000000");
    },
    SLOW,
  );

  it("prints the full help of run and grade with --help (exit 0)", async () => {
    const run = await otpLab(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--budget SEC +wall-clock budget of the whole run \(default: none\)/);
    expect(run.stdout).toMatch(/--max-cell-output MB/);
    const grade = await otpLab(["grade", "--help"]);
    expect(grade.code).toBe(0);
    expect(grade.stdout).toMatch(/--budget SEC +wall-clock budget of each submission.*\(default 480, 8 minutes/s);
    expect(grade.stdout).toMatch(/--hidden-visibility V +Gradescope visibility of tests with hidden parts/);
    expect(grade.stdout).toMatch(/--allow-unsandboxed/);
  });
});

describe("jupyter nbconvert --execute with the otp-lab kernel", () => {
  it(
    "runs the fixture without errors and gets the same outputs as `otp-lab run`",
    async () => {
      const prefix = path.join(dir, "jupyter");
      const install = await otpLab(["install", "--prefix", prefix]);
      expect(install.code, install.stderr).toBe(0);
      const viaRun = path.join(dir, "run.ipynb");
      const viaNbconvert = path.join(dir, "nbconvert.ipynb");
      copyFileSync(SOURCE, viaRun);
      copyFileSync(SOURCE, path.join(dir, "input.ipynb"));
      const [run, nbc] = [await otpLab(["run", viaRun]), await nbconvert(path.join(dir, "input.ipynb"), viaNbconvert, prefix)];
      expect(run.code, run.stderr).toBe(0);
      expect(nbc.code, nbc.stderr).toBe(0);
      const a = readNb(viaRun);
      const b = readNb(viaNbconvert);
      const outputs = (n: Nb) => n.cells.filter((c) => c.cell_type === "code").map((c) => ({ count: c.execution_count, outputs: c.outputs }));
      expect(outputs(b)).toEqual(outputs(a));
      // Not vacuous: the last cell printed, displayed and returned something.
      const last = outputs(b).at(-1)!;
      expect(last.outputs!.map((o) => o.output_type)).toEqual(["stream", "display_data", "execute_result"]);
      expect(outputs(b).flatMap((c) => c.outputs!).some((o) => o.output_type === "error")).toBe(false);
    },
    SLOW,
  );
});

function nbconvert(input: string, output: string, prefix: string) {
  return nbconvertExecute(input, output, { env: { ...process.env, JUPYTER_PATH: path.join(prefix, "share/jupyter") }, timeoutSec: 120 });
}
