/**
 * Tests what happens when graded code misbehaves: a test cell that never finishes (`while (true) {}`), one
 * that kills the kernel (`process.abort()`) and one that exhausts memory. Each such cell loses its points, the
 * kernel is restarted with the state of the cells that succeeded, the later cells are still graded, and the
 * results file is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { CLI, ROOT, SOURCE, otpLab, progressLines, requireBuild, studentVersion, submission, tempDir, type CliResult } from "./grader/helpers.js";

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

describe("a test cell that loops forever, then one that aborts the kernel", () => {
  let r: CliResult;
  let results: any;
  const out = path.join(dir, "loop-abort.json");

  beforeAll(async () => {
    const file = submission(student, path.join(dir, "loop-abort.ipynb"), {
      "ex1-solution": "function double(n: number): number {\n  while (true) {}\n}",
      "ex2-solution": "function fib(n: number): number {\n  process.abort();\n}",
      "ex3-solution": GREET,
    });
    r = await otpLab(["grade", file, "--source", SOURCE, "--timeout", "5", "--out", out]);
    results = JSON.parse(readFileSync(out, "utf8"));
  }, SLOW);

  it("costs those tests their points, with the reason as feedback", () => {
    expect(r.code).toBe(0);
    const [ex1, ex2] = results.tests;
    expect(ex1).toMatchObject({ grade_id: "ex1-tests", status: "timeout", score: 0, ename: "CellTimeoutError" });
    expect(ex1.feedback).toMatch(/^CellTimeoutError: the cell was still running after 5 s and was stopped/);
    expect(ex2).toMatchObject({ grade_id: "ex2-tests", status: "crashed", score: 0, ename: "DeadKernelError" });
    expect(ex2.feedback).toMatch(/the kernel aborted \(SIGABRT\) while running this cell/);
  });

  it("grades the later cells on a restarted kernel that has the earlier state (the setup cell's import and const)", () => {
    // ex3-tests needs `assert` and `greeting` from the setup cell, which only the replay brings back.
    expect(results.tests[2]).toMatchObject({ grade_id: "ex3-tests", status: "passed", score: 1 });
    expect(results).toMatchObject({ score: 1, max_score: 6, finished: true });
    expect(results.kernel_restarts).toBeGreaterThanOrEqual(2);
    expect(r.stderr).toMatch(/kernel restarted \(time limit\); re-ran 2 earlier cells/);
    expect(r.stderr).toMatch(/kernel restarted \(crash\); re-ran \d+ earlier cells/);
    const lines = new Map(progressLines(r.stderr));
    expect(lines.get("ex1-tests")).toBe("timed out");
    expect(lines.get("ex2-tests")).toBe("kernel died: the kernel aborted (SIGABRT)");
    expect(lines.get("ex3-tests")).toBe("ok");
  });
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
