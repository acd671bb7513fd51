/**
 * Tests what happens when graded code misbehaves: a test cell that never finishes (`while (true) {}`), then
 * one that stops the kernel, and one that exhausts memory (graded cells have no `process` to abort with). Each such cell loses its points, the
 * kernel is restarted with the state of the cells that succeeded, the later cells are still graded, and the
 * results file is written.
 *
 * And, on a real lesson (notebooks/03-one-for-one.ipynb, released with `otp-lab assign`, edited only in
 * student cells): one time budget per submission (a hundred looping cells, a busy `setInterval` left behind
 * by a cell that succeeded); timers of a cell that timed out do not reach later cells; output floods of every
 * kind are capped; and every malformed submission gets exit 2 and a zero-point report naming the problem,
 * except a path that does not exist, which gets no report at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  CLI,
  ROOT,
  SOURCE,
  codeCell,
  gradeIdOf,
  nbformatErrors,
  otpLab,
  progressLines,
  readNb,
  requireBuild,
  studentVersion,
  submission,
  tempDir,
  text,
  type CliResult,
  type Nb,
} from "./grader/helpers.js";

const dir = tempDir();
let student: string;
const SLOW = 300_000;

const FIB = "function fib(n: number): number {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}";
const GREET = "function greet(name: string): string {\n  return `${greeting}, ${name}!`;\n}";

beforeAll(async () => {
  requireBuild();
  student = await studentVersion(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Graded cells run confined (no `process`: see kernel/confine.ts), so what stops the kernel here is memory.
describe("a test cell that loops forever, then one that stops the kernel", () => {
  let r: CliResult;
  let results: any;
  const out = path.join(dir, "loop-abort.json");

  beforeAll(async () => {
    const file = submission(student, path.join(dir, "loop-abort.ipynb"), {
      "ex1-solution": "function double(n: number): number {\n  while (true) {}\n}",
      "ex2-solution": "function fib(n: number): number {\n  const hog: number[][] = [];\n  for (;;) hog.push(new Array(1e6).fill(n));\n}",
      "ex3-solution": GREET,
    });
    r = await otpLab(["grade", file, "--source", SOURCE, "--timeout", "5", "--memory", "256", "--out", out]);
    results = JSON.parse(readFileSync(out, "utf8"));
  }, SLOW);

  it("costs those tests their points, with the reason as feedback", () => {
    expect(r.code).toBe(0);
    const [ex1, ex2] = results.tests;
    expect(ex1).toMatchObject({ grade_id: "ex1-tests", status: "timeout", score: 0, ename: "CellTimeoutError" });
    expect(ex1.feedback).toMatch(/^CellTimeoutError: the cell was still running after 5 s and was stopped/);
    expect(ex2).toMatchObject({ grade_id: "ex2-tests", status: "crashed", score: 0, ename: "DeadKernelError" });
    expect(ex2.feedback).toMatch(/^DeadKernelError: the kernel ran out of memory \(the grader allows 256 MB\) while running this cell/);
    // Its own failure first; the earlier timeout as a second sentence.
    expect(ex2.feedback).toMatch(/\n\(Before this test ran, cell \d+ \(ex1-tests\) timed out after 5 s, so the kernel was restarted without what that cell defined\.\)$/);
  });

  it("grades the later cells on a restarted kernel that has the earlier state (the setup cell's import and const)", () => {
    // ex3-tests needs `assert` and `greeting` from the setup cell, which only the replay brings back.
    expect(results.tests[2]).toMatchObject({ grade_id: "ex3-tests", status: "passed", score: 1 });
    expect(results).toMatchObject({ score: 1, max_score: 6, finished: true });
    expect(results.kernel_restarts).toBeGreaterThanOrEqual(2);
    // The first restart re-runs cells that passed their type check after the same cells: not checked again. The
    // second also re-runs cells that ran after ex1-tests failed, which were checked after other cells: those are.
    expect(r.stderr).toMatch(/kernel restarted \(time limit\); re-ran 2 earlier cells in \d+ ms \(2 already type-checked\)/);
    const [, again, kept] = /kernel restarted \(crash\); re-ran (\d+) earlier cells in \d+ ms \((\d+) already type-checked\)/.exec(r.stderr) ?? [];
    expect(Number(kept)).toBe(2);
    expect(Number(again)).toBeGreaterThan(2);
    const lines = new Map(progressLines(r.stderr));
    expect(lines.get("ex1-tests")).toBe("timed out");
    expect(lines.get("ex2-tests")).toBe("kernel died: the kernel ran out of memory (the grader allows 256 MB)");
    expect(lines.get("ex3-tests")).toBe("ok");
  });
});

// Attack: a solution that runs right but does not type-check, hoping that a restart (forced by a later cell that
// loops) re-runs it without its check (replays skip the checks cells passed) so that later tests find it. Only
// cells that succeeded are re-run, and only those before the first failure skip their check.
describe("a solution with a type error, then a restart", () => {
  it("is never re-run by the restart, and its tests earn nothing", async () => {
    const out = path.join(dir, "typed-replay.json");
    const file = submission(student, path.join(dir, "typed-replay.ipynb"), {
      "ex1-solution": "const unused: string = 1;\nfunction double(n: number): number {\n  return 2 * n;\n}",
      "ex2-solution": `${FIB}\nwhile (true) {}`,
      "ex3-solution": GREET,
    });
    const r = await otpLab(["grade", file, "--source", SOURCE, "--timeout", "5", "--out", out]);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(out, "utf8"));
    expect(results.tests.map((t: { grade_id: string; score: number }) => [t.grade_id, t.score])).toEqual([
      ["ex1-tests", 0],
      ["ex2-tests", 0],
      ["ex3-tests", 1],
    ]);
    // Re-run: the set-up cell alone (ex1-solution failed its check, so it is not part of the state).
    expect(r.stderr).toMatch(/kernel restarted \(time limit\); re-ran 1 earlier cell in \d+ ms \(1 already type-checked\)/);
  }, SLOW);
});

describe("a test cell that exhausts memory", () => {
  it(
    "loses its points; the kernel is restarted and the rest is graded",
    async () => {
      const out = path.join(dir, "oom.xml");
      const file = submission(student, path.join(dir, "oom.ipynb"), {
        "ex1-solution": "function double(n: number): number {\n  const hog: number[][] = [];\n  for (;;) hog.push(new Array(1e6).fill(n));\n}",
        "ex2-solution": FIB,
        "ex3-solution": GREET,
      });
      const r = await otpLab(["grade", file, "--source", SOURCE, "--memory", "256", "--format", "junit", "--out", out]);
      expect(r.code).toBe(0);
      const xml = readFileSync(out, "utf8");
      expect(xml).toMatch(/<testcase classname="oom" name="ex1-tests"[^>]*>\s*<properties>.*<\/properties>\s*<error type="DeadKernelError" message="DeadKernelError: the kernel ran out of memory \(the grader allows 256 MB\)/);
      expect(xml).toMatch(/<property name="score" value="4"\/>/);
      expect(xml).toMatch(/tests="3" failures="0" errors="1"/);
      expect(r.stderr).toMatch(/^\[3\/8\] cell ex1-tests \.\.\. kernel died: the kernel ran out of memory/m);
    },
    SLOW,
  );
});

describe("when grading cannot go on", () => {
  it(
    "writes the results file even if the kernel cannot start (exit 1, every test not run)",
    async () => {
      const out = path.join(dir, "nostart.json");
      // A 4 MB heap is too small for the kernel to load.
      const r = await otpLab(["grade", student, "--source", SOURCE, "--memory", "4", "--out", out]);
      expect(r.code).toBe(1);
      const results = JSON.parse(readFileSync(out, "utf8"));
      expect(results).toMatchObject({ score: 0, max_score: 6, finished: false });
      expect(results.kernel_error).toMatch(/^the kernel ran out of memory \(the grader allows 4 MB\) while starting/);
      expect(results.tests.map((t: any) => t.status)).toEqual(["not-run", "not-run", "not-run"]);
      expect(progressLines(r.stderr)).toContainEqual(["ex1-tests", "not run (no kernel)"]);
    },
    SLOW,
  );

  it(
    "leaves a results file when the grader itself is killed mid-run, and its kernel does not outlive it",
    async () => {
      const out = path.join(dir, "killed.json");
      const file = submission(student, path.join(dir, "killed.ipynb"), { "ex1-solution": "function double(n: number): number {\n  while (true) {}\n}" });
      const grader = spawn(process.execPath, [CLI, "grade", file, "--source", SOURCE, "--timeout", "300", "--out", out], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      // Wait until the test cell that loops is running, then kill the grader without warning.
      await new Promise<void>((resolve, reject) => {
        grader.stderr.setEncoding("utf8").on("data", (s: string) => {
          stderr += s;
          if (/\[2\/8\] cell ex1-solution \.\.\. ok/.test(stderr)) setTimeout(resolve, 1000);
        });
        grader.on("exit", () => reject(new Error(`grader ended early: ${stderr}`)));
      });
      const kernels = spawnSync("pgrep", ["-P", String(grader.pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
      expect(kernels).toHaveLength(1);
      const workDir = readlinkSync(`/proc/${kernels[0]}/cwd`); // the grader's temporary folder
      grader.kill("SIGKILL");
      const results = JSON.parse(readFileSync(out, "utf8"));
      expect(results).toMatchObject({ finished: false, score: 0, max_score: 6 });
      expect(results.tests[0].feedback).toBe("not run: grading did not finish");
      // The kernel, busy in `while (true) {}`, is ended by its watchdog once its parent is gone.
      const gone = Date.now() + 10_000;
      while (existsSync(`/proc/${kernels[0]}`) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(`/proc/${kernels[0]}`)).toBe(false);
      // A killed grader cannot clean up after itself.
      expect(path.basename(workDir)).toMatch(/^otp-lab-grade-/);
      rmSync(workDir, { recursive: true, force: true });
    },
    SLOW,
  );
});

const LESSON = path.join(ROOT, "notebooks/03-one-for-one.ipynb");

/** Lesson 03 released, its solutions filled in from the source, `cells` inserted after its set-up cell. */
async function lessonSubmission(name: string, cells: Nb["cells"], solved = true): Promise<string> {
  const sub = path.join(dir, name);
  mkdirSync(sub, { recursive: true });
  const student = await studentVersion(sub, LESSON);
  const solutions = Object.fromEntries(
    readNb(LESSON)
      .cells.filter((c) => c.metadata?.nbgrader?.solution === true)
      .map((c) => [gradeIdOf(c)!, text(c.source)]),
  );
  return submission(student, path.join(sub, `${name}.ipynb`), solved ? solutions : {}, (nb) => {
    const setup = nb.cells.findIndex((c) => gradeIdOf(c) === "l03-setup");
    nb.cells.splice(setup + 1, 0, ...cells);
  });
}

/** Runs the CLI and measures its wall-clock time, from spawn to exit. */
async function timed(args: string[]): Promise<CliResult & { seconds: number }> {
  const t = Date.now();
  const r = await otpLab(args);
  return { ...r, seconds: (Date.now() - t) / 1000 };
}

describe("one time budget per submission", () => {
  let hundred: CliResult & { seconds: number };
  let busy: CliResult & { seconds: number };
  let hundredCells: number;
  const hundredOut = path.join(dir, "hundred.json");
  const busyOut = path.join(dir, "busy.json");

  beforeAll(async () => {
    const loops = Array.from({ length: 100 }, (_, i) => ({ ...codeCell(`// loop ${i + 1}\nwhile (true) {}`), id: `loop-${i + 1}` }));
    // Succeeds, and leaves a timer behind that keeps the kernel busy for an hour at every tick.
    const interval = { ...codeCell('setInterval(() => {\n  const end = Date.now() + 3_600_000;\n  while (Date.now() < end) {}\n}, 1);\n"started"'), id: "busy-interval" };
    const [a, b] = [await lessonSubmission("hundred", loops, false), await lessonSubmission("busy", [interval])];
    hundredCells = readNb(a).cells.filter((c) => c.cell_type === "code" && text(c.source).trim() !== "").length;
    [hundred, busy] = await Promise.all([
      timed(["grade", a, "--source", LESSON, "--timeout", "1", "--budget", "30", "--format", "gradescope", "--out", hundredOut]),
      timed(["grade", b, "--source", LESSON, "--timeout", "2", "--budget", "25", "--out", busyOut]),
    ]);
  }, SLOW);

  it("a hundred looping cells with --timeout 1 --budget 30 finish within the budget, graded, with a report", () => {
    expect(hundred.code, hundred.stderr).toBe(0);
    // The budget counts from the grader's own start: only the report and the exit come after it.
    expect(hundred.seconds).toBeLessThan(33);
    const gs = JSON.parse(readFileSync(hundredOut, "utf8"));
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: true, budget_exhausted: true } });
    for (const t of gs.tests) {
      expect(t).toMatchObject({ status: "failed", extra_data: { status: "not-run" } });
      expect(t.output).toMatch(/^not run: the submission's time budget of 30 s ran out (while|before) /);
    }
    expect(gs.output).toMatch(/Stopped: the submission's time budget of 30 s ran out .*the cells after that were not run \(2 tests among them\)/);
    const lines = progressLines(hundred.stderr);
    expect(lines).toHaveLength(hundredCells);
    const ran = lines.filter(([, status]) => status === "timed out" || status.startsWith("stopped"));
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.length).toBeLessThan(30); // each costs its second and a restart
    expect(lines.at(-1)).toEqual(["l03-ex2-tests", "not run (time budget)"]);
  });

  it("a busy setInterval left behind by a cell that succeeded cannot keep the grader past its budget", () => {
    expect(busy.code, busy.stderr).toBe(0);
    expect(busy.seconds).toBeLessThan(28);
    const results = JSON.parse(readFileSync(busyOut, "utf8"));
    expect(results).toMatchObject({ score: 0, max_score: 6, finished: true, budget_s: 25 });
    expect(results.budget_exhausted).toMatch(/^the submission's time budget of 25 s ran out /);
    const lines = progressLines(busy.stderr);
    const i = lines.findIndex(([name]) => name === "busy-interval");
    expect(lines[i]![1]).toBe("ok");
    // The next cell finds the kernel busy: it times out (its error says a timer may be why), and so on.
    const [next, status] = lines[i + 1]!;
    expect(status).toBe("timed out");
    expect(results.incidents[0]).toMatchObject({ name: next, kind: "timeout" });
    for (const t of results.tests) expect(t.status).toBe("not-run");
  });
});

describe("timers left by a cell that timed out, and floods of output", () => {
  let r: CliResult;
  let results: any;
  let graded: Nb;
  const out = path.join(dir, "floods.json");
  const saved = path.join(dir, "floods.graded.ipynb");
  const cell = (id: string) => graded.cells.find((c) => c.id === id)!;
  const streamText = (id: string) => cell(id).outputs!.filter((o) => o.output_type === "stream").map((o) => text(o.text)).join("");

  beforeAll(async () => {
    const cells = [
      // Throws from a timer, forever, then waits forever: it times out, and its timers die with its kernel.
      { ...codeCell('setInterval(() => {\n  throw new Error("left behind by a cell that timed out");\n}, 100);\nawait new Promise<void>(() => {});'), id: "timers" },
      { ...codeCell('for (let i = 0; i < 10_000; i++) console.log(`line ${i} ` + "x".repeat(200));'), id: "print-flood" },
      { ...codeCell("for (let i = 0; i < 5_000; i++) display.text(`picture ${i}`);"), id: "display-flood" },
      {
        ...codeCell('display.text("small", { displayId: "grows" });\nfor (let i = 1; i <= 12; i++) display.text("w".repeat(100_000 * i), { displayId: "grows", update: true });'),
        id: "update-flood",
      },
      { ...codeCell('for (let i = 0; i < 5_000; i++) console.error("e".repeat(300));\nthrow new Error("the error after the flood");'), id: "flood-then-error" },
    ];
    const file = await lessonSubmission("floods", cells);
    r = await otpLab(["grade", file, "--source", LESSON, "--timeout", "3", "--max-notebook-output", "2.5", "--out", out, "--notebook", saved]);
    results = JSON.parse(readFileSync(out, "utf8"));
    graded = readNb(saved);
  }, SLOW);

  it("grades the rest as usual: the timers of the cell that timed out reach no later cell", () => {
    expect(r.code, r.stderr).toBe(0);
    expect(results).toMatchObject({ score: 6, max_score: 6, finished: true, kernel_restarts: 1 });
    expect(results.incidents).toEqual([expect.objectContaining({ name: "timers", kind: "timeout" })]);
    const later = graded.cells.slice(graded.cells.findIndex((c) => c.id === "timers") + 1);
    expect(JSON.stringify(later.map((c) => c.outputs ?? []))).not.toContain("left behind by a cell that timed out");
  });

  it("caps what each cell keeps, of every kind, with one note per cell; the report is finished", () => {
    // Stream text: 1 MB per cell, then the note.
    const printed = streamText("print-flood");
    expect(printed.length).toBeGreaterThan(900_000);
    expect(printed.length).toBeLessThan(1_000_200);
    expect(printed.endsWith("\n[output truncated: this cell printed more than 1 MB; the grader dropped the rest]\n")).toBe(true);
    // Displays: 1,000 outputs per cell.
    const shown = cell("display-flood").outputs!;
    expect(shown.filter((o) => o.output_type === "display_data")).toHaveLength(1000);
    expect(text(shown.at(-1)!.text)).toBe("\n[output truncated: this cell produced more than 1000 outputs; the grader dropped the rest]\n");
    // Updates: the display keeps the last version that fit in the cell's 1 MB.
    const grows = cell("update-flood").outputs!;
    expect(grows[0]!.output_type).toBe("display_data");
    const kept = text(grows[0]!.data["text/plain"]).length;
    expect(kept).toBeGreaterThanOrEqual(800_000);
    expect(kept).toBeLessThan(1_000_000);
    expect(streamText("update-flood")).toContain("[output truncated: this cell printed more than 1 MB");
    // Over the notebook's 2.5 MB, the next cell's flood is cut, but its error is kept: it decides the status.
    const flooded = cell("flood-then-error").outputs!;
    expect(flooded.find((o) => o.output_type === "error")).toMatchObject({ ename: "Error", evalue: "the error after the flood" });
    expect(streamText("flood-then-error")).toContain("[output truncated: the notebook's outputs passed 2.5 MB in all; the grader dropped the rest of this cell's output]");
    expect(progressLines(r.stderr)).toContainEqual(["flood-then-error", "error: Error"]);
    expect(results.truncated_outputs.map((t: any) => t.name).slice(0, 4)).toEqual(["print-flood", "display-flood", "update-flood", "flood-then-error"]);
    // The whole graded notebook stays near its cap, and valid.
    expect(statSync(saved).size).toBeLessThan(3_500_000);
    expect(nbformatErrors(saved)).toBe("");
  });
});

describe("malformed submissions: exit 2 and a zero-point report naming the problem", () => {
  let released: Nb;
  beforeAll(async () => {
    const sub = path.join(dir, "malformed");
    mkdirSync(sub, { recursive: true });
    released = readNb(await studentVersion(sub, LESSON));
  });

  const gradeBad = async (name: string, content: string) => {
    const file = path.join(dir, `${name}.ipynb`);
    writeFileSync(file, content);
    const out = path.join(dir, `${name}.report.json`);
    const r = await otpLab(["grade", file, "--source", LESSON, "--format", "gradescope", "--out", out]);
    return { r, gs: JSON.parse(readFileSync(out, "utf8")) };
  };

  it.each([
    [
      "a 100,000-deep array in a cell's metadata",
      () => {
        const nb = structuredClone(released);
        nb.cells[3]!.metadata.deep = "DEEP";
        return JSON.stringify(nb).replace('"DEEP"', "[".repeat(100_000) + "]".repeat(100_000));
      },
      /nests arrays or objects more than 1000 levels deep \(at cells\[3\]\.metadata\.deep\[0\]\[0\]/,
    ],
    ["not JSON", () => '{"cells": [', /is not valid notebook JSON/],
    [
      "a cell whose source is a number",
      () => {
        const nb = structuredClone(released);
        (nb.cells[1] as any).source = 42;
        return JSON.stringify(nb);
      },
      /cell 2 has no text "source"/,
    ],
    [
      "code outputs that are not a list",
      () => {
        const nb = structuredClone(released);
        nb.cells.find((c) => c.cell_type === "code")!.outputs = "none" as any;
        return JSON.stringify(nb);
      },
      /has "outputs" that are not a list/,
    ],
    [
      "over 50 MB",
      () => {
        const nb = structuredClone(released);
        nb.metadata.padding = "p".repeat(51 * 1024 * 1024);
        return JSON.stringify(nb);
      },
      /is 51 MB, larger than the 50 MB a notebook may be/,
    ],
  ])("%s", async (_what, content, message) => {
    const name = `bad-${_what.replace(/\W+/g, "-")}`;
    const { r, gs } = await gradeBad(name, content());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: false } });
    expect(gs.output).toMatch(new RegExp(`The submission could not be graded: submission .*${name}\\.ipynb`));
    expect(gs.output).toMatch(message);
    for (const t of gs.tests) expect(t.output).toMatch(/^not run: submission /);
  });

  it("a submission path that does not exist, or is a folder, exits 2 and writes no report", async () => {
    for (const missing of [path.join(dir, "no-such-file.ipynb"), dir]) {
      const out = path.join(dir, "never-written.json");
      const r = await otpLab(["grade", missing, "--source", LESSON, "--format", "gradescope", "--out", out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(missing === dir ? /submission .* is a directory; give the \.ipynb file/ : /submission .*no-such-file\.ipynb does not exist; check the path/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
