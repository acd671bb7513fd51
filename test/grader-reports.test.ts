/**
 * What `otp-lab grade` reports, on a real lesson (notebooks/03-one-for-one.ipynb) released with `otp-lab assign`
 * and edited only in its student cells:
 *   - feedback that tells the truth: a test that fails after an earlier cell timed out names that cell first,
 *     and its own (follow-on) error second; its status stays "failed", in JSON and JUnit;
 *   - Gradescope's results.json: only fields of the specification, `visibility` per test ("visible", or
 *     `--hidden-visibility` for tests with a hidden block) and at the top, `stdout_visibility`; no hidden-test
 *     text in any field students see at once, even when a visible test's error message quotes it; the JSON
 *     report keeps everything for staff.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ROOT, cellById, gradeIdOf, otpLab, readNb, requireBuild, studentVersion, submission, tempDir, text, writeNb, xmlErrors, type CliResult, type Nb } from "./grader/helpers.js";

const LESSON = path.join(ROOT, "notebooks/03-one-for-one.ipynb");
const dir = tempDir();
const SLOW = 300_000;

/** The source's solution cells, by grade_id (markers and all: they are comments). */
function solutions(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of readNb(source).cells) if (c.metadata?.nbgrader?.solution === true) out[gradeIdOf(c)!] = text(c.source);
  return out;
}

/** Lines inside `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS`, trimmed. */
function hiddenLines(src: string): string[] {
  const m = src.match(/\/\/ BEGIN HIDDEN TESTS\n([\s\S]*?)\/\/ END HIDDEN TESTS/g) ?? [];
  return m.flatMap((block) => block.split("\n").slice(1, -1)).map((l) => l.trim());
}

beforeAll(() => requireBuild());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a test that fails after an earlier cell timed out", () => {
  let json: any;
  let xml: string;
  let solutionCell: number;
  let runs: CliResult[];

  beforeAll(async () => {
    const student = await studentVersion(dir, LESSON);
    const nb = readNb(student);
    solutionCell = nb.cells.findIndex((c) => gradeIdOf(c) === "l03-ex1-solution") + 1;
    // The student's first solution defines startShop, then loops at the top level: the cell times out and the
    // restarted kernel never gets startShop. The second exercise is solved.
    const file = submission(student, path.join(dir, "loops.ipynb"), {
      "l03-ex1-solution": 'async function startShop(): Promise<Pid> {\n  throw new Error("later");\n}\nwhile (true) {}',
      "l03-ex2-solution": solutions(LESSON)["l03-ex2-solution"]!,
    });
    const out = (f: string) => path.join(dir, f);
    runs = await Promise.all([
      otpLab(["grade", file, "--source", LESSON, "--timeout", "2", "--format", "json", "--out", out("loops.json")]),
      otpLab(["grade", file, "--source", LESSON, "--timeout", "2", "--format", "junit", "--out", out("loops.xml")]),
    ]);
    json = JSON.parse(readFileSync(out("loops.json"), "utf8"));
    xml = readFileSync(out("loops.xml"), "utf8");
  }, SLOW);

  it("names the cell that timed out first and the follow-on error second; the status stays failed", () => {
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const [ex1, ex2] = json.tests;
    expect(ex1).toMatchObject({ grade_id: "l03-ex1-tests", status: "failed", score: 0, hidden: true });
    const cause = `Before this test ran, cell ${solutionCell} (l03-ex1-solution) timed out after 2 s, so the kernel was restarted without what that cell defined`;
    expect(ex1.cause).toBe(cause);
    expect(ex1.feedback.startsWith(`${cause}. Then this test failed: ${ex1.ename}: `)).toBe(true);
    expect(ex1.feedback).toMatch(/startShop/); // the follow-on error, as secondary detail
    // The second exercise ran on the rebuilt state and passed: no cause for a test that passed.
    expect(ex2).toMatchObject({ grade_id: "l03-ex2-tests", status: "passed", score: 4, feedback: "passed" });
    expect(ex2).not.toHaveProperty("cause");
    expect(json.incidents).toEqual([{ cell: solutionCell, name: "l03-ex1-solution", kind: "timeout", what: "timed out after 2 s" }]);
    expect(json).toMatchObject({ score: 4, max_score: 6, finished: true, kernel_restarts: 1, budget_s: 480 });
  });

  it("JUnit: a failure (not an error) whose message starts with the timeout", () => {
    expect(xmlErrors(path.join(dir, "loops.xml"))).toBe("");
    expect(xml).toMatch(/tests="2" failures="1" errors="0"/);
    expect(xml).toMatch(
      new RegExp(`<testcase classname="loops" name="l03-ex1-tests"[^>]*>\\s*<properties>.*<property name="hidden" value="true"/></properties>\\s*<failure type="\\w+" message="Before this test ran, cell ${solutionCell} \\(l03-ex1-solution\\) timed out after 2 s`),
    );
  });
});

describe("Gradescope: visibility, and no hidden-test text where students see it", () => {
  const runs: Record<string, any> = {};
  let secret: string;
  let secretLine: string;
  let hidden: string[];

  beforeAll(async () => {
    // A source whose first test has no hidden block (a visible test); the second keeps its hidden block.
    const src = readNb(LESSON);
    const ex1 = cellById(src, "l03-ex1-tests");
    ex1.source = text(ex1.source).replace(/\n\/\/ BEGIN HIDDEN TESTS\n[\s\S]*?\/\/ END HIDDEN TESTS\n?/, "\n");
    const sub = path.join(dir, "visibility");
    mkdirSync(sub);
    const source = writeNb(path.join(sub, "source.ipynb"), src);
    const student = await studentVersion(sub, source);
    const handedOut = readNb(student).cells.map((c) => text(c.source)).join("\n");
    hidden = hiddenLines(text(cellById(src, "l03-ex2-tests").source));
    // Hidden text a student could not have seen: an assertion message, and a whole line.
    secret = hidden.flatMap((l) => [...l.matchAll(/"([^"]{20,})"/g)].map((m) => m[1]!)).find((s) => !handedOut.includes(s))!;
    secretLine = hidden.filter((l) => l.length >= 30 && !handedOut.includes(l)).sort((a, b) => b.length - a.length)[0]!;
    expect(secret).toBeTruthy();
    expect(secretLine).toBeTruthy();
    // Error messages that quote it, as a traceback or an assertion quoting hidden code would: from the
    // visible test (ex1) and from the hidden one (ex2).
    const quoting = `throw new Error(${JSON.stringify(`${secret} | ${secretLine}`)});`;
    const ex2 = solutions(source)["l03-ex2-solution"]!.replace(/async function startCounterWithStash\(\): Promise<Pid> \{/, (m) => `${m}\n  ${quoting}`);
    expect(ex2).toContain(quoting);
    const file = submission(student, path.join(sub, "quoting.ipynb"), {
      "l03-ex1-solution": `async function startShop(): Promise<Pid> {\n  ${quoting}\n}`,
      "l03-ex2-solution": ex2,
    });
    const grade = async (name: string, args: string[]) => {
      const out = path.join(sub, `${name}.json`);
      const r = await otpLab(["grade", file, "--source", source, "--out", out, ...args]);
      expect(r.code, r.stderr).toBe(0);
      runs[name] = JSON.parse(readFileSync(out, "utf8"));
    };
    await Promise.all([grade("default", ["--format", "gradescope"]), grade("json", ["--format", "json"])]);
    await Promise.all([grade("visible", ["--format", "gradescope", "--hidden-visibility", "visible"]), grade("hidden", ["--format", "gradescope", "--hidden-visibility", "hidden"])]);
  }, SLOW);

  /** Every string Gradescope shows students at once: the top-level output, and visible tests' names and outputs. */
  const visibleText = (gs: any): string[] => [gs.output, ...gs.tests.filter((t: any) => t.visibility === "visible").flatMap((t: any) => [t.name, t.output])];

  it("writes only fields of the specification, with visibility per test, at the top, and for stdout", () => {
    const gs = runs.default;
    const TOP = ["score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"];
    const TEST = ["score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"];
    for (const k of Object.keys(gs)) expect(TOP).toContain(k);
    for (const t of gs.tests) for (const k of Object.keys(t)) expect(TEST).toContain(k);
    expect(gs).toMatchObject({ score: 0, visibility: "visible", stdout_visibility: "hidden", output_format: "text", extra_data: { max_score: 6 } });
    expect(gs.tests.map((t: any) => [t.name, t.visibility, t.status])).toEqual([
      ["l03-ex1-tests", "visible", "failed"],
      ["l03-ex2-tests", "after_published", "failed"],
    ]);
    expect(gs.output).toMatch(/1 of the 2 tests has hidden parts; its result will be shown when the grades are published/);
  });

  it("keeps hidden-test text out of every visible field, even an error message that quotes it", () => {
    const gs = runs.default;
    const [ex1, ex2] = gs.tests;
    expect(ex1.output).toBe("Error: [hidden test text] | [hidden test text]");
    // Not visible yet: the hidden test's own feedback is the student's once the grades are published.
    expect(ex2.output).toContain(secret);
    for (const field of visibleText(gs)) {
      expect(field).not.toContain(secret);
      for (const line of hidden.filter((l) => l.length >= 16)) expect(field).not.toContain(line);
    }
  });

  it("--hidden-visibility visible shows hidden tests at once, redacted; hidden never shows them", () => {
    const visible = runs.visible;
    expect(visible.tests.map((t: any) => t.visibility)).toEqual(["visible", "visible"]);
    expect(visible.tests[1].output).toBe("Error: [hidden test text] | [hidden test text]");
    for (const field of visibleText(visible)) expect(field).not.toContain(secret);
    expect(runs.hidden.tests.map((t: any) => t.visibility)).toEqual(["visible", "hidden"]);
    expect(runs.hidden.output).toMatch(/its result is not shown/);
  });

  it("keeps the JSON report complete for staff", () => {
    const [ex1, ex2] = runs.json.tests;
    expect(ex1).toMatchObject({ hidden: false, status: "failed", ename: "Error", feedback: `Error: ${secret} | ${secretLine}` });
    expect(ex2).toMatchObject({ hidden: true, status: "failed", feedback: `Error: ${secret} | ${secretLine}` });
  });
});
