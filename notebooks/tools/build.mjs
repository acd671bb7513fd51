#!/usr/bin/env node
/**
 * Builds the lesson notebooks (`notebooks/NN-*.ipynb`) from their text sources (`notebooks/tools/lessons/*.lesson`).
 *
 * Why a text source: a lesson is mostly TypeScript and Markdown, and reviewing or editing either inside notebook
 * JSON (one escaped string per line) is error-prone. The .ipynb files are committed too, so a course can use
 * them as they are; `--check` (run by the tests) fails when a notebook is out of date with its source.
 *
 *   node notebooks/tools/build.mjs            write every notebook
 *   node notebooks/tools/build.mjs --check    exit 1 if any notebook differs from what its source gives
 *   node notebooks/tools/build.mjs 03         only lessons whose file name starts with 03
 *
 * Source format: cells start with a header line `=== KIND [locked] [id=GRADE_ID] [points=N]`, where KIND is
 *   md        a Markdown cell (with `locked` and an id: a read-only nbgrader cell, e.g. an exercise's task);
 *   code      a code cell (with `locked` and an id: a read-only nbgrader cell, e.g. the setup cell);
 *   solution  a code cell the learner writes; the reference solution sits between `// BEGIN SOLUTION` and
 *             `// END SOLUTION` lines (nbgrader's "autograded answer");
 *   test      an autograded test cell worth `points`, visible asserts first, then hidden ones between
 *             `// BEGIN HIDDEN TESTS` and `// END HIDDEN TESTS`.
 * Cell metadata follows notebooks/README.md (nbgrader schema 3, nbformat 4.5 cell ids).
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const lessonsDir = path.join(here, "lessons");
const notebooksDir = path.dirname(here);

const KERNELSPEC = { name: "otp-lab", display_name: "TypeScript (OTP Lab)", language: "typescript" };
const LANGUAGE_INFO = { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" };
const KINDS = new Set(["md", "code", "solution", "test"]);

/** Parses one `.lesson` file into cells; throws with the file and line on a malformed header. */
export function parseLesson(text, file = "lesson") {
  const cells = [];
  let current = null;
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  lines.forEach((line, i) => {
    const m = /^=== (\S+)(.*)$/.exec(line);
    if (!m) {
      if (current) current.lines.push(line);
      else if (line.trim() !== "") throw new Error(`${file}:${i + 1}: text before the first '=== kind' header`);
      return;
    }
    const kind = m[1];
    if (!KINDS.has(kind)) throw new Error(`${file}:${i + 1}: unknown cell kind '${kind}' (use md, code, solution or test)`);
    const opts = { locked: false };
    for (const word of m[2].trim().split(/\s+/).filter(Boolean)) {
      if (word === "locked") opts.locked = true;
      else if (word.startsWith("id=")) opts.id = word.slice(3);
      else if (word.startsWith("points=")) opts.points = Number(word.slice(7));
      else throw new Error(`${file}:${i + 1}: unknown option '${word}'`);
    }
    if ((kind === "solution" || kind === "test") && !opts.id) throw new Error(`${file}:${i + 1}: a ${kind} cell needs id=...`);
    if (kind === "test" && !(opts.points > 0)) throw new Error(`${file}:${i + 1}: a test cell needs points=N (N > 0)`);
    if (opts.locked && !opts.id) throw new Error(`${file}:${i + 1}: a locked cell needs id=... (its nbgrader grade_id)`);
    current = { kind, ...opts, lines: [], line: i + 1 };
    cells.push(current);
  });
  for (const c of cells) {
    while (c.lines.length && c.lines[c.lines.length - 1].trim() === "") c.lines.pop();
    while (c.lines.length && c.lines[0].trim() === "") c.lines.shift();
    c.source = c.lines.join("\n");
    check(c, file);
  }
  const ids = new Set();
  for (const c of cells) {
    if (!c.id) continue;
    if (ids.has(c.id)) throw new Error(`${file}:${c.line}: duplicate id '${c.id}'`);
    ids.add(c.id);
  }
  return cells;
}

function check(c, file) {
  const where = `${file}:${c.line}`;
  const has = (s) => c.lines.some((l) => l.trim() === s);
  if (c.kind === "solution" && !(has("// BEGIN SOLUTION") && has("// END SOLUTION"))) {
    throw new Error(`${where}: a solution cell needs '// BEGIN SOLUTION' and '// END SOLUTION' lines`);
  }
  if (c.kind !== "solution" && (has("// BEGIN SOLUTION") || has("// END SOLUTION"))) {
    throw new Error(`${where}: solution markers outside a solution cell`);
  }
  if (c.kind !== "test" && (has("// BEGIN HIDDEN TESTS") || has("// END HIDDEN TESTS"))) {
    throw new Error(`${where}: hidden-test markers outside a test cell`);
  }
}

/** nbformat stores sources as lines that keep their newline, except the last. */
function sourceLines(text) {
  if (text === "") return [];
  const parts = text.split("\n");
  return parts.map((l, i) => (i < parts.length - 1 ? l + "\n" : l));
}

function nbgraderMeta(c) {
  const base = { grade: false, grade_id: c.id, locked: true, schema_version: 3, solution: false, task: false };
  if (c.kind === "solution") return { ...base, locked: false, solution: true };
  if (c.kind === "test") return { ...base, grade: true, points: c.points };
  if (c.locked) return base;
  return null;
}

/** The notebook for a lesson's cells: nbformat 4.5, the otp-lab kernelspec, no outputs. */
export function toNotebook(cells, lessonKey) {
  let n = 0;
  return {
    cells: cells.map((c) => {
      n++;
      const id = c.id ?? `${lessonKey}-cell-${String(n).padStart(2, "0")}`;
      const meta = nbgraderMeta(c);
      const metadata = meta ? { nbgrader: meta } : {};
      if (c.kind === "md") return { cell_type: "markdown", id, metadata, source: sourceLines(c.source) };
      return { cell_type: "code", execution_count: null, id, metadata, outputs: [], source: sourceLines(c.source) };
    }),
    metadata: { kernelspec: KERNELSPEC, language_info: LANGUAGE_INFO },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

export function lessonFiles(filter) {
  return readdirSync(lessonsDir)
    .filter((f) => f.endsWith(".lesson") && (!filter || f.startsWith(filter)))
    .sort()
    .map((f) => ({ source: path.join(lessonsDir, f), notebook: path.join(notebooksDir, f.replace(/\.lesson$/, ".ipynb")) }));
}

function render(file) {
  const key = "l" + path.basename(file).slice(0, 2);
  const nb = toNotebook(parseLesson(readFileSync(file, "utf8"), path.relative(process.cwd(), file)), key);
  return JSON.stringify(nb, null, 1) + "\n";
}

function main(argv) {
  const checkOnly = argv.includes("--check");
  const filter = argv.find((a) => !a.startsWith("--"));
  const files = lessonFiles(filter);
  if (files.length === 0) {
    console.error(`build: no .lesson files${filter ? ` starting with '${filter}'` : ""} in ${lessonsDir}`);
    return 2;
  }
  let stale = 0;
  for (const f of files) {
    const text = render(f.source);
    const old = existsSync(f.notebook) ? readFileSync(f.notebook, "utf8") : null;
    if (checkOnly) {
      if (old !== text) {
        stale++;
        console.error(`out of date: ${path.relative(process.cwd(), f.notebook)} (run: node notebooks/tools/build.mjs)`);
      }
    } else if (old !== text) {
      writeFileSync(f.notebook, text);
      console.log(`wrote ${path.relative(process.cwd(), f.notebook)}`);
    }
  }
  return stale ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`build: ${err.message}`);
    process.exitCode = 2;
  }
}
