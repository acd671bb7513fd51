/**
 * The grader's parts that need no kernel: `otp-lab assign`, restoring locked cells, the report formats, and
 * every bad-input case of assign/run/grade (exit code 2 and a message that says what to do).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stripBlocks, STUB } from "../kernel/grader/assign.js";
import { parseNotebook, type Notebook } from "../kernel/grader/notebook.js";
import { restoreLockedCells } from "../kernel/grader/restore.js";
import { render, scoreTests, totals, type GradeResults } from "../kernel/grader/results.js";
import {
  SOURCE,
  cellById,
  codeCell,
  gradeIdOf,
  nbformatErrors,
  otpLab,
  readNb,
  requireBuild,
  studentVersion,
  tempDir,
  text,
  writeNb,
  xmlErrors,
  type Nb,
} from "./grader/helpers.js";

const dir = tempDir();
let student: string;

beforeAll(async () => {
  requireBuild();
  student = await studentVersion(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("otp-lab assign", () => {
  it("stubs every solution, removes every hidden test, clears outputs and keeps the metadata", () => {
    const src = readNb(SOURCE);
    const out = readNb(student);
    expect(out.cells.length).toBe(src.cells.length);
    const all = out.cells.map((c) => text(c.source)).join("\n");
    expect(all).not.toMatch(/BEGIN|END (SOLUTION|HIDDEN)/);
    expect(all).not.toContain("fib(30)"); // a hidden assertion
    expect(all).not.toContain("n * 2"); // a solution
    expect(text(cellById(out, "ex1-solution").source)).toBe(`function double(n: number): number {\n  ${STUB}\n}`);
    expect(text(cellById(out, "ex1-tests").source)).toBe("assert.equal(double(2), 4);");
    out.cells.forEach((c, i) => {
      expect(c.metadata).toEqual(src.cells[i]!.metadata);
      expect(c.id).toBe(src.cells[i]!.id);
      if (c.cell_type === "code") {
        expect(c.outputs).toEqual([]);
        expect(c.execution_count).toBeNull();
      }
    });
    expect(out.metadata.kernelspec.name).toBe("otp-lab");
    expect(nbformatErrors(student)).toBe("");
  });

  it("creates the output folder when it does not exist", async () => {
    const out = path.join(dir, "release", "week1", "student.ipynb");
    const r = await otpLab(["assign", SOURCE, out]);
    expect(r.code).toBe(0);
    expect(readNb(out).cells.length).toBe(readNb(SOURCE).cells.length);
  });

  it("keeps the indentation of the BEGIN line, and several blocks per cell", () => {
    const code = [
      "class Counter {",
      "  value = 0;",
      "  inc(): number {",
      "    // BEGIN SOLUTION",
      "    return ++this.value;",
      "    // END SOLUTION",
      "  }",
      "  reset(): void {",
      "\t\t// BEGIN SOLUTION",
      "\t\tthis.value = 0;",
      "\t\t// END SOLUTION",
      "  }",
      "}",
    ].join("\n");
    const r = stripBlocks(code, "test");
    expect(r.solutions).toBe(2);
    expect(r.text).toBe(
      ["class Counter {", "  value = 0;", "  inc(): number {", `    ${STUB}`, "  }", "  reset(): void {", `\t\t${STUB}`, "  }", "}"].join("\n"),
    );
  });

  it("rejects unbalanced markers with the cell and line (exit 2)", async () => {
    const nb = readNb(SOURCE);
    cellById(nb, "ex2-solution").source = "function fib(n: number): number {\n  // BEGIN SOLUTION\n  return n;\n}";
    const bad = writeNb(path.join(dir, "unbalanced.ipynb"), nb);
    const r = await otpLab(["assign", bad, path.join(dir, "never.ipynb")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ex2-solution.*BEGIN SOLUTION at line 2 is never closed; add a line \/\/ END SOLUTION/);
  });

  it("rejects duplicate grade_ids and test cells without points (exit 2)", async () => {
    const nb = readNb(SOURCE);
    cellById(nb, "ex2-tests").metadata.nbgrader.grade_id = "ex1-tests";
    let r = await otpLab(["assign", writeNb(path.join(dir, "dup.ipynb"), nb), path.join(dir, "never.ipynb")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/share grade_id 'ex1-tests'/);
    const nb2 = readNb(SOURCE);
    delete cellById(nb2, "ex3-tests").metadata.nbgrader.points;
    r = await otpLab(["assign", writeNb(path.join(dir, "nopoints.ipynb"), nb2), path.join(dir, "never.ipynb")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/test cell 'ex3-tests'.*has no numeric "points"/);
  });
});

describe("restoring locked cells", () => {
  const source = () => parseNotebook(readFileSync(SOURCE, "utf8"), SOURCE);
  const load = (nb: Nb) => parseNotebook(JSON.stringify(nb), "submission");
  const ids = (nb: Notebook) => nb.cells.map((c) => c.metadata.nbgrader?.grade_id ?? c.id);

  it("takes a test cell's text, hidden tests included, from the source, and reports only real edits", () => {
    const sub = readNb(student);
    cellById(sub, "ex1-tests").source = "// nothing to see here";
    const r = restoreLockedCells(load(sub), source());
    expect(r.restored).toEqual(["ex1-tests"]); // the other, untouched, test cells are not "edits"
    const graded = r.notebook.cells.find((c) => c.metadata.nbgrader?.grade_id === "ex1-tests")!;
    expect(text(graded.source)).toContain("assert.equal(double(-3), -6);");
    expect(text(r.notebook.cells.find((c) => c.metadata.nbgrader?.grade_id === "ex2-tests")!.source)).toContain("fib(30)");
    // Solutions stay the student's.
    expect(text(r.notebook.cells.find((c) => c.metadata.nbgrader?.grade_id === "ex1-solution")!.source)).toContain(STUB);
  });

  it("puts deleted locked cells back after the cell that precedes them in the source", () => {
    const sub = readNb(student);
    sub.cells = sub.cells.filter((c) => !["ex2-tests", "setup", "intro"].includes(gradeIdOf(c) ?? ""));
    sub.cells.push(codeCell("console.log('a cell the student added at the end')"));
    const r = restoreLockedCells(load(sub), source());
    expect(r.reinserted).toEqual(["intro", "setup", "ex2-tests"]);
    const order = ids(r.notebook);
    expect(order.slice(0, 2)).toEqual(["intro", "setup"]);
    expect(order.indexOf("ex2-tests")).toBe(order.indexOf("ex2-solution") + 1);
    expect(order.indexOf("ex3-solution")).toBeGreaterThan(order.indexOf("ex2-tests"));
    const cellIds = r.notebook.cells.map((c) => c.id);
    expect(new Set(cellIds).size).toBe(cellIds.length);
  });

  it("ignores grading metadata the source does not have: made-up test cells, raised points, duplicates, changed types", () => {
    const sub = readNb(student);
    sub.cells.push(codeCell("// free points", { grade: true, grade_id: "bonus", locked: true, points: 100, schema_version: 3, solution: false, task: false }));
    cellById(sub, "ex3-tests").metadata.nbgrader.points = 50;
    cellById(sub, "ex1-tests").cell_type = "markdown";
    const dup = structuredClone(cellById(sub, "ex2-tests"));
    dup.id = "copy";
    sub.cells.push(dup);
    const r = restoreLockedCells(load(sub), source());
    expect(r.stripped).toEqual(["bonus", "ex2-tests"]);
    expect(r.notebook.cells.filter((c) => c.metadata.nbgrader?.grade_id === "ex2-tests")).toHaveLength(1);
    const ex1 = r.notebook.cells.find((c) => c.metadata.nbgrader?.grade_id === "ex1-tests")!;
    expect(ex1.cell_type).toBe("code");
    const tests = scoreTests(source(), r.notebook, [], "not run");
    expect(totals(tests)).toEqual({ score: 0, max_score: 6 });
    expect(tests.map((t) => [t.grade_id, t.max_score])).toEqual([
      ["ex1-tests", 2],
      ["ex2-tests", 3],
      ["ex3-tests", 1],
    ]);
  });
});

describe("report formats", () => {
  const results: GradeResults = {
    submission: "/tmp/a & b <c>.ipynb",
    source: "src.ipynb",
    score: 2,
    max_score: 6,
    finished: true,
    tests: [
      { grade_id: "ex1-tests", score: 2, max_score: 2, status: "passed", feedback: "passed", hidden: false, duration_ms: 12 },
      {
        grade_id: "ex2-tests",
        score: 0,
        max_score: 3,
        status: "failed",
        ename: "AssertionError",
        evalue: 'Expected values to be strictly equal:\n\n"<b>" !== "&\u0001"\n',
        feedback: 'AssertionError: Expected values to be strictly equal:\n\n"<b>" !== "&\u0001"',
        hidden: false,
        duration_ms: 5,
      },
      { grade_id: "ex3-tests", score: 0, max_score: 1, status: "timeout", ename: "CellTimeoutError", evalue: "t", feedback: "CellTimeoutError: t", hidden: true, duration_ms: 3000 },
    ],
    restored: [],
    reinserted: [],
    stripped: [],
    kernel_restarts: 1,
    duration_ms: 4000,
  };

  it("writes well-formed JUnit XML even for feedback with markup and control characters", () => {
    const file = path.join(dir, "report.xml");
    writeFileSync(file, render(results, "junit"));
    expect(xmlErrors(file)).toBe("");
    const xml = readFileSync(file, "utf8");
    expect(xml).toMatch(/<testsuite name="a &amp; b &lt;c&gt;" tests="3" failures="1" errors="1"/);
    expect(xml).toMatch(/<failure type="AssertionError" message="AssertionError: Expected values/);
    expect(xml).toMatch(/<error type="CellTimeoutError"/);
  });

  it("writes Gradescope's results.json shape: only fields of its specification, visibility per test", () => {
    const gs = JSON.parse(render(results, "gradescope"));
    expect(Object.keys(gs).sort()).toEqual(["execution_time", "extra_data", "output", "output_format", "score", "stdout_visibility", "tests", "visibility"]);
    expect(gs).toMatchObject({ score: 2, extra_data: { max_score: 6 }, visibility: "visible", stdout_visibility: "hidden", output_format: "text" });
    expect(gs.tests).toHaveLength(3);
    for (const t of gs.tests) expect(Object.keys(t).sort()).toEqual(["extra_data", "max_score", "name", "output", "output_format", "score", "status", "visibility"]);
    expect(gs.tests[1]).toMatchObject({ name: "ex2-tests", score: 0, max_score: 3, status: "failed", visibility: "visible" });
    expect(gs.tests[1].output).toMatch(/^AssertionError: Expected values/);
    expect(gs.tests[2]).toMatchObject({ name: "ex3-tests", status: "failed", visibility: "after_published", extra_data: { status: "timeout" } });
    expect(JSON.parse(render(results, "gradescope", { hiddenVisibility: "hidden" })).tests.map((t: any) => t.visibility)).toEqual(["visible", "visible", "hidden"]);
  });
});

describe("bad input: exit code 2 and a message saying what to do", () => {
  let malformed: string;
  let python: string;
  beforeAll(() => {
    malformed = path.join(dir, "malformed.ipynb");
    writeFileSync(malformed, '{"cells": [ {"cell_type": "code", ');
    const nb = readNb(SOURCE);
    nb.metadata.kernelspec = { name: "python3", display_name: "Python 3", language: "python" };
    python = writeNb(path.join(dir, "python.ipynb"), nb);
  });

  it.each([
    ["grade, malformed submission", () => ["grade", malformed, "--source", SOURCE], /submission .*malformed\.ipynb is not valid notebook JSON/],
    ["grade, malformed source", () => ["grade", student, "--source", malformed], /source notebook .*malformed\.ipynb is not valid notebook JSON/],
    ["grade, another kernel", () => ["grade", python, "--source", SOURCE], /for the 'python3' kernel, not 'otp-lab'; open it in Jupyter, pick the "TypeScript \(OTP Lab\)" kernel/],
    ["grade, missing source file", () => ["grade", student, "--source", path.join(dir, "nope.ipynb")], /source notebook .*nope\.ipynb does not exist/],
    ["grade, no --source", () => ["grade", student], /missing --source SRC\.ipynb/],
    ["grade, missing submission", () => ["grade", path.join(dir, "gone.ipynb"), "--source", SOURCE], /submission .*gone\.ipynb does not exist/],
    ["grade, unknown format", () => ["grade", student, "--source", SOURCE, "--format", "xml"], /unknown --format 'xml'; use one of json, junit, gradescope/],
    ["grade, bad timeout", () => ["grade", student, "--source", SOURCE, "--timeout", "soon"], /--timeout wants a positive number of seconds/],
    ["grade, bad budget", () => ["grade", student, "--source", SOURCE, "--budget", "0"], /--budget wants a positive number of seconds, not '0'/],
    ["grade, bad visibility", () => ["grade", student, "--source", SOURCE, "--hidden-visibility", "never"], /unknown --hidden-visibility 'never'; use one of hidden, after_due_date, after_published, visible/],
    ["grade, bad output cap", () => ["grade", student, "--source", SOURCE, "--max-cell-output", "lots"], /--max-cell-output wants a positive number of MB/],
    ["grade, a flag with a value", () => ["grade", student, "--source", SOURCE, "--allow-unsandboxed=yes"], /allow-unsandboxed/],
    ["grade, unknown option", () => ["grade", student, "--source", SOURCE, "--fast"], /Unknown option '--fast'/],
    ["run, malformed notebook", () => ["run", malformed], /malformed\.ipynb is not valid notebook JSON/],
    ["run, another kernel", () => ["run", python], /for the 'python3' kernel/],
    ["run, missing notebook", () => ["run", path.join(dir, "nope.ipynb")], /nope\.ipynb does not exist/],
    ["assign, another kernel", () => ["assign", python, path.join(dir, "x.ipynb")], /for the 'python3' kernel/],
    ["assign, one argument", () => ["assign", SOURCE], /usage: otp-lab assign SRC\.ipynb OUT\.ipynb/],
  ])("%s", async (_name, args, message) => {
    const r = await otpLab(args());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  it("still reports to the student when the submission is unusable, but not when the source is", async () => {
    const out = path.join(dir, "results-bad.json");
    let r = await otpLab(["grade", python, "--source", SOURCE, "--out", out, "--format", "gradescope"]);
    expect(r.code).toBe(2);
    const gs = JSON.parse(readFileSync(out, "utf8"));
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: false } });
    expect(gs.output).toMatch(/could not be graded: .*'python3' kernel/);
    expect(gs.tests.map((t: { output: string }) => t.output)).toEqual(Array(3).fill(expect.stringMatching(/^not run: .*'python3' kernel/)));
    const out2 = path.join(dir, "results-bad-source.json");
    r = await otpLab(["grade", student, "--source", malformed, "--out", out2]);
    expect(r.code).toBe(2);
    expect(() => readFileSync(out2)).toThrow();
  });
});
