/**
 * `otp-lab grade` end to end, on the fixture in test/grader/: the source's solutions get full marks and the
 * student version made by `otp-lab assign` gets zero (the assign → grade round trip), in each report format;
 * edited and deleted test cells are restored; graded code cannot read the source notebook.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
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
  xmlErrors,
} from "./grader/helpers.js";

const dir = tempDir();
let student: string;
const SLOW = 240_000;

beforeAll(async () => {
  requireBuild();
  student = await studentVersion(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("assign → grade round trip", () => {
  it(
    "gives the solutions full marks (Gradescope results.json), with a progress line per cell",
    async () => {
      const out = path.join(dir, "results.json");
      const r = await otpLab(["grade", SOURCE, "--source", SOURCE, "--format", "gradescope", "--out", out]);
      expect(r.stderr).not.toMatch(/error|died|timed out/);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      const gs = JSON.parse(readFileSync(out, "utf8"));
      // Only fields of Gradescope's specification: the total maximum is kept in extra_data.
      expect(gs).toMatchObject({ score: 6, visibility: "visible", stdout_visibility: "hidden", extra_data: { max_score: 6, finished: true } });
      expect(gs).not.toHaveProperty("max_score");
      expect(typeof gs.execution_time).toBe("number");
      // Every test cell of the fixture has a hidden block: shown when the grades are published.
      const test = (name: string, points: number) => ({
        name,
        score: points,
        max_score: points,
        status: "passed",
        output: "passed",
        output_format: "text",
        visibility: "after_published",
        extra_data: { status: "passed" },
      });
      expect(gs.tests).toEqual([test("ex1-tests", 2), test("ex2-tests", 3), test("ex3-tests", 1)]);
      const lines = progressLines(r.stderr);
      expect(lines.map(([name]) => name)).toEqual(["setup", "ex1-solution", "ex1-tests", "ex2-solution", "ex2-tests", "ex3-solution", "ex3-tests", "shown"]);
      expect(lines.every(([, status]) => status === "ok")).toBe(true);
      expect(r.stderr).toMatch(/^\[3\/8\] cell ex1-tests \.\.\. ok \(\d+ ms\)$/m);
    },
    SLOW,
  );

  it(
    "gives the student version zero, with the stub's error as feedback (JUnit XML)",
    async () => {
      const out = path.join(dir, "results.xml");
      const r = await otpLab(["grade", student, "--source", SOURCE, "--format", "junit", "--out", out]);
      expect(r.code).toBe(0);
      // The student version is what assign handed out: nothing to report as restored.
      expect(r.stderr).not.toMatch(/restored from the source|put back/);
      expect(xmlErrors(out)).toBe("");
      const xml = readFileSync(out, "utf8");
      expect(xml).toMatch(/<testsuite name="student" tests="3" failures="3" errors="0"/);
      expect(xml).toMatch(/<property name="score" value="0"\/>\s*<property name="max_score" value="6"\/>/);
      expect(xml.match(/<failure type="Error" message="Error: not implemented">/g)).toHaveLength(3);
    },
    SLOW,
  );
});

describe("a submission that tampers with locked cells or reaches for the source", () => {
  let results: any;
  let graded: ReturnType<typeof readNb>;
  let stderr: string;
  let stdout: string;

  beforeAll(async () => {
    const sourceDir = path.dirname(SOURCE);
    const probe = [
      'import * as fs from "node:fs";',
      'import * as cp from "node:child_process";',
      "function probe(what: string, f: () => unknown): void {",
      "  try {",
      '    console.log(what, "ALLOWED", String(f()).slice(0, 60).replace(/\\n/g, " "));',
      "  } catch (e) {",
      '    console.log(what, "DENIED", (e as { code?: string }).code);',
      "  }",
      "}",
      `probe("read-source", () => fs.readFileSync(${JSON.stringify(SOURCE)}, "utf8"));`,
      `probe("list-source-folder", () => fs.readdirSync(${JSON.stringify(sourceDir)}));`,
      `probe("read-original-submission", () => fs.readFileSync(${JSON.stringify(path.join(dir, "tampered.ipynb"))}, "utf8"));`,
      'probe("read-own-copy", () => fs.readFileSync("tampered.ipynb", "utf8").length);',
      'probe("child-process", () => cp.execSync("id"));',
      'probe("write", () => fs.writeFileSync("written.txt", "x"));',
      'probe("env", () => process.env.OTP_LAB_TEST_SECRET);',
      'console.log("cwd holds", fs.readdirSync(".").join(","));',
    ].join("\n");
    const file = submission(
      student,
      path.join(dir, "tampered.ipynb"),
      {
        // Exercise 1 left undone, but its test "fixed" so that it passes.
        "ex1-tests": "assert.ok(true);",
        "ex2-solution": "function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}",
        "ex3-solution": "function greet(name: string): string {\n  return `${greeting}, ${name}!`;\n}",
      },
      (nb) => {
        nb.cells = nb.cells.filter((c) => gradeIdOf(c) !== "ex2-tests"); // deleted
        nb.cells.find((c) => gradeIdOf(c) === "ex3-tests")!.metadata.nbgrader.points = 50;
        nb.cells.splice(2, 0, { ...codeCell(probe), id: "probe" });
        nb.cells.push(codeCell("// free points", { grade: true, grade_id: "bonus", locked: true, points: 100, schema_version: 3, solution: false, task: false }));
      },
    );
    const saved = path.join(dir, "tampered.graded.ipynb");
    const r = await otpLab(["grade", file, "--source", SOURCE, "--notebook", saved], { env: { OTP_LAB_TEST_SECRET: "hunter2" } });
    expect(r.code).toBe(0);
    results = JSON.parse(r.stdout);
    stderr = r.stderr;
    stdout = r.stdout;
    graded = readNb(saved);
  }, SLOW);

  it("restores the edited test and re-inserts the deleted one; made-up points do not count", () => {
    expect(stderr).toMatch(/locked cell ex1-tests was edited; restored from the source/);
    expect(stderr).toMatch(/locked cell ex2-tests was missing; put back from the source/);
    expect(results.restored).toEqual(["ex1-tests"]);
    expect(results.reinserted).toEqual(["ex2-tests"]);
    expect(results.stripped).toEqual(["bonus"]);
    expect(results.tests.map((t: any) => [t.grade_id, t.status, t.score, t.max_score])).toEqual([
      ["ex1-tests", "failed", 0, 2],
      ["ex2-tests", "passed", 3, 3], // the re-inserted test ran, hidden assertions included
      ["ex3-tests", "passed", 1, 1],
    ]);
    expect(results).toMatchObject({ score: 4, max_score: 6, finished: true });
    expect(results.tests[0].feedback).toBe("Error: not implemented");
  });

  it("runs the restored cells, hidden tests included, in the graded notebook", () => {
    const ex2 = graded.cells.filter((c) => gradeIdOf(c) === "ex2-tests");
    expect(ex2).toHaveLength(1);
    expect(text(ex2[0]!.source)).toContain("assert.equal(fib(30), 832040);");
    expect(ex2[0]!.execution_count).toEqual(expect.any(Number));
    expect(nbformatErrors(path.join(dir, "tampered.graded.ipynb"))).toBe("");
  });

  it("keeps the source, its folder, the original submission, child processes, writes and the environment out of reach", () => {
    // Graded cells run confined (kernel/confine.ts): Node's modules cannot even be imported, so the probe
    // stops at its first line. What the sandbox itself denies is probed in grader-attacks and grader-isolation.
    const probe = graded.cells.find((c) => c.id === "probe")!;
    expect(probe.outputs!.filter((o) => o.output_type === "stream")).toEqual([]);
    expect(probe.outputs!.find((o) => o.output_type === "error")).toMatchObject({ ename: "ImportNotAllowed", evalue: expect.stringContaining("node:fs") });
    expect(stdout).not.toContain("hunter2");
  });
});
