/**
 * The lesson notebooks as files: they match their text sources, and follow the notebook and nbgrader conventions
 * (notes/nbgrader-conventions.md, notebooks/README.md). No kernel runs here; lessons-execute.test.ts runs them.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const BUILD = path.join(NOTEBOOKS, "tools", "build.mjs");

const EXPECTED = [
  "01-processes-links-monitors.ipynb",
  "02-genserver.ipynb",
  "03-one-for-one.ipynb",
  "04-one-for-all.ipynb",
  "05-rest-for-one.ipynb",
  "06-restart-types.ipynb",
  "07-intensity-escalation.ipynb",
  "08-dynamic-supervisor.ipynb",
  "09-hot-code-swap.ipynb",
  "10-fault-injection.ipynb",
  "11-tasks.ipynb",
  "12-names-registry-partitions.ipynb",
  "13-distribution.ipynb",
  "14-capstone-chat.ipynb",
];

interface Cell {
  cell_type: "code" | "markdown";
  id: string;
  source: string[];
  metadata: { nbgrader?: Record<string, unknown> };
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

const read = (name: string) => JSON.parse(readFileSync(path.join(NOTEBOOKS, name), "utf8")) as Notebook;
const text = (c: Cell) => c.source.join("");
const lines = (c: Cell) => text(c).split("\n").map((l) => l.trim());

it("the fourteen lessons are there, and nothing else", () => {
  expect(readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort()).toEqual(EXPECTED);
});

it("every notebook is up to date with its source in notebooks/tools/lessons", () => {
  const r = spawnSync(process.execPath, [BUILD, "--check"], { cwd: ROOT, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
});

describe.each(EXPECTED)("%s", (name) => {
  const nb = read(name);
  const code = nb.cells.filter((c) => c.cell_type === "code");
  const graded = nb.cells.filter((c) => c.metadata.nbgrader?.grade === true);
  const solutions = nb.cells.filter((c) => c.metadata.nbgrader?.solution === true);

  it("is nbformat 4.5 for the otp-lab kernel, with unique cell ids and no stored outputs", () => {
    expect([nb.nbformat, nb.nbformat_minor]).toEqual([4, 5]);
    expect(nb.metadata.kernelspec).toEqual({ name: "otp-lab", display_name: "TypeScript (OTP Lab)", language: "typescript" });
    expect(nb.metadata.language_info).toEqual({ name: "typescript", file_extension: ".ts", mimetype: "text/typescript" });
    const ids = nb.cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    for (const c of code) expect([c.outputs, c.execution_count]).toEqual([[], null]);
  });

  it("opens with its learning goals, then a locked setup cell that resets the runtime", () => {
    expect(nb.cells[0]!.cell_type).toBe("markdown");
    expect(text(nb.cells[0]!)).toMatch(/^# Lesson \d+ — /);
    expect(text(nb.cells[0]!)).toContain("**Learning goals.**");
    const setup = code[0]!;
    expect(setup.metadata.nbgrader).toMatchObject({ locked: true, grade: false, solution: false });
    expect(text(setup)).toContain('import assert from "node:assert/strict";');
    expect(text(setup)).toContain("resetRuntime();");
  });

  it("has at least two graded exercises, each with visible and hidden tests", () => {
    expect(graded.length).toBeGreaterThanOrEqual(2);
    expect(solutions.length).toBeGreaterThanOrEqual(2);
    for (const t of graded) {
      expect(t.cell_type).toBe("code");
      expect(t.metadata.nbgrader).toEqual({
        grade: true,
        grade_id: t.id,
        locked: true,
        points: expect.any(Number),
        schema_version: 3,
        solution: false,
        task: false,
      });
      const ls = lines(t);
      const begin = ls.indexOf("// BEGIN HIDDEN TESTS");
      const end = ls.indexOf("// END HIDDEN TESTS");
      expect(begin).toBeGreaterThan(0);
      expect(end).toBeGreaterThan(begin);
      expect(ls.slice(0, begin).join("\n")).toMatch(/assert\./);   // visible tests come first
      expect(ls.slice(begin, end).join("\n")).toMatch(/assert\./);
    }
  });

  it("marks solution cells as nbgrader answers, with the reference solution inside a function body", () => {
    for (const s of solutions) {
      expect(s.metadata.nbgrader).toEqual({ grade: false, grade_id: s.id, locked: false, schema_version: 3, solution: true, task: false });
      const raw = text(s).split("\n");
      const begins = raw.filter((l) => l.trim() === "// BEGIN SOLUTION");
      const ends = raw.filter((l) => l.trim() === "// END SOLUTION");
      expect(begins.length).toBeGreaterThan(0);
      expect(ends.length).toBe(begins.length);
      // The stub replaces the block at the BEGIN line's indentation: inside a function, never at top level, so
      // the student version still declares every name the tests use.
      for (const b of begins) expect(b.startsWith("  ")).toBe(true);
    }
  });

  it("gives every exercise a locked task cell and unique grade ids", () => {
    const gradeIds = nb.cells.flatMap((c) => (c.metadata.nbgrader ? [c.metadata.nbgrader.grade_id] : []));
    expect(new Set(gradeIds).size).toBe(gradeIds.length);
    const tasks = nb.cells.filter((c) => c.cell_type === "markdown" && c.metadata.nbgrader?.locked === true && /^## Exercise \d/m.test(text(c)));
    expect(tasks.length).toBe(graded.length);
    for (const c of nb.cells.filter((x) => x.metadata.nbgrader && x.metadata.nbgrader.solution !== true)) {
      expect(c.metadata.nbgrader).toMatchObject({ locked: true, schema_version: 3, task: false });
    }
  });

  it("cites the OTP rules it demonstrates, and asserts what it claims", () => {
    const all = nb.cells.map(text).join("\n");
    // "(R12" in code cells, "([R12](otp-semantics.md#r12)" in Markdown (lessons-semantics-links.test.ts checks the links)
    expect(all).toMatch(/\((?:\[)?R\d+/);
    const demos = code.filter((c) => !c.metadata.nbgrader);
    const asserting = demos.filter((c) => /assert\./.test(text(c)));
    expect(asserting.length).toBeGreaterThanOrEqual(demos.length / 2);
  });
});

describe("the builder", () => {
  it("rejects malformed sources with the file and line", async () => {
    const { parseLesson } = (await import(pathToFileUrl(BUILD))) as { parseLesson: (t: string, f: string) => unknown };
    expect(() => parseLesson("=== cod\nx", "x.lesson")).toThrow(/x.lesson:1: unknown cell kind 'cod'/);
    expect(() => parseLesson("=== test id=t\nassert.ok(1)", "x.lesson")).toThrow(/needs points=N/);
    expect(() => parseLesson("=== solution id=s\nfunction f() {}", "x.lesson")).toThrow(/BEGIN SOLUTION/);
    expect(() => parseLesson("=== code locked\nx", "x.lesson")).toThrow(/locked cell needs id/);
    expect(() => parseLesson("=== md locked id=a\nx\n=== md locked id=a\ny", "x.lesson")).toThrow(/duplicate id 'a'/);
    expect(() => parseLesson("=== code\n// BEGIN HIDDEN TESTS\n// END HIDDEN TESTS", "x.lesson")).toThrow(/outside a test cell/);
  });
});

function pathToFileUrl(p: string): string {
  return new URL(`file://${p}`).href;
}
