/**
 * Notebooks on disk (nbformat 4): reading with checks that name what is wrong, writing the way Jupyter does
 * (keys sorted, one-space indent, multi-line strings as lists of lines) so that a notebook that went through
 * `otp-lab assign` or `otp-lab run` diffs cleanly against one saved by Jupyter.
 *
 * Everything that rejects an input throws `BadInput`; the commands turn it into exit code 2. A file that is not
 * there at all (or is a folder, or cannot be opened) throws `MissingFile`, its subclass: that is the operator's
 * mistake, not the student's, so `grade` writes no report for it.
 *
 * Input is untrusted: a notebook is refused, with a message naming the problem, when it is larger than
 * `MAX_NOTEBOOK_BYTES`, is not JSON, or nests deeper than `MAX_JSON_DEPTH` (checked without recursion, so that
 * a 100,000-deep array in a cell's metadata is an error message rather than a stack overflow). Copies
 * (`clone`) and the writer walk JSON iteratively too.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** nbformat's "multiline_string": a string, or a list of strings to be joined. */
export type MultilineString = string | string[];

export interface NbgraderMetadata {
  grade?: boolean;
  grade_id?: string;
  locked?: boolean;
  points?: number;
  schema_version?: number;
  solution?: boolean;
  task?: boolean;
  [key: string]: unknown;
}

export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  [key: string]: unknown;
}

export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: { nbgrader?: NbgraderMetadata; [key: string]: unknown };
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: unknown;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: { kernelspec?: { name?: string; [key: string]: unknown }; [key: string]: unknown };
  cells: Cell[];
}

export const KERNEL_NAME = "otp-lab";

/** Invalid input from the user: a clear message, exit code 2. */
export class BadInput extends Error {
  override name = "BadInput";
}

/** The file named on the command line is not there (or is a folder, or cannot be opened): exit code 2, no report. */
export class MissingFile extends BadInput {
  override name = "MissingFile";
}

/**
 * The largest notebook read (50 MB). Lessons are well under 1 MB with their outputs; a student's notebook with
 * every picture drawn is a few MB. Past this the file is refused before it is read into memory.
 */
export const MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024;

/**
 * The deepest nesting of arrays and objects accepted anywhere in a notebook, outputs included. nbformat itself
 * nests 6 levels down to an output's data; Vega-Lite specs and widget state add tens. 1,000 is far above any
 * real notebook and far below what recursive JSON code (V8's `JSON.stringify` included) survives.
 */
export const MAX_JSON_DEPTH = 1000;

/** Reads and checks a notebook; `role` names it in messages ("submission", "source notebook"). */
export function readNotebook(file: string, role = "notebook"): Notebook {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new MissingFile(`${role} ${file} is a directory; give the .ipynb file`);
    if (!st.isFile()) throw new MissingFile(`${role} ${file} is not a regular file; give the .ipynb file`);
    size = st.size;
  } catch (err) {
    if (err instanceof BadInput) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new MissingFile(`${role} ${file} does not exist; check the path`);
    throw new MissingFile(`cannot read ${role} ${file}: ${(err as Error).message}`);
  }
  if (size > MAX_NOTEBOOK_BYTES) {
    throw new BadInput(`${role} ${file} is ${megabytes(size)}, larger than the ${megabytes(MAX_NOTEBOOK_BYTES)} a notebook may be; clear its outputs (Jupyter: Edit > Clear Outputs of All Cells) and save it again`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new MissingFile(`cannot read ${role} ${file}: ${(err as Error).message}`);
  }
  return parseNotebook(text, file, role);
}

export function megabytes(n: number): string {
  const mb = n / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
}

export function parseNotebook(text: string, file: string, role = "notebook"): Notebook {
  let data: unknown;
  const where = `${role} ${file}`;
  if (text.trim() === "") throw new BadInput(`${where} is empty; open it in Jupyter and save it again`);
  try {
    // A byte-order mark (some Windows editors write one) is not JSON, but it is not the student's mistake either.
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new BadInput(`${where} is not valid notebook JSON (${(err as Error).message}); open it in Jupyter and save it again`);
  }
  checkDepth(data, where);
  if (!isObject(data)) throw new BadInput(`${where} is not a notebook: the JSON is not an object`);
  if (data.nbformat !== 4) {
    throw new BadInput(
      `${where} has nbformat ${JSON.stringify(data.nbformat)}; only nbformat 4 is supported (convert it with 'jupyter nbconvert --to notebook')`,
    );
  }
  if (!Array.isArray(data.cells)) throw new BadInput(`${where} is not a notebook: it has no "cells" list`);
  if (!isObject(data.metadata)) data.metadata = {};
  if (typeof data.nbformat_minor !== "number") data.nbformat_minor = 4;
  data.cells.forEach((cell: unknown, i: number) => {
    if (!isObject(cell)) throw new BadInput(`${where}: cell ${i + 1} is not an object`);
    if (cell.cell_type !== "code" && cell.cell_type !== "markdown" && cell.cell_type !== "raw") {
      throw new BadInput(`${where}: cell ${i + 1} has cell_type ${JSON.stringify(cell.cell_type)} (expected code, markdown or raw)`);
    }
    const src = cell.source;
    if (!(typeof src === "string" || (Array.isArray(src) && src.every((s) => typeof s === "string")))) {
      throw new BadInput(`${where}: cell ${i + 1} has no text "source"`);
    }
    if (!isObject(cell.metadata)) cell.metadata = {};
    const nbg = (cell.metadata as Record<string, unknown>).nbgrader;
    if (nbg !== undefined && !isObject(nbg)) throw new BadInput(`${where}: cell ${i + 1} has nbgrader metadata that is not an object`);
    if (cell.cell_type === "code" && cell.outputs !== undefined && !Array.isArray(cell.outputs)) {
      throw new BadInput(`${where}: cell ${i + 1} has "outputs" that are not a list; clear its outputs in Jupyter and save it again`);
    }
  });
  const ks = (data.metadata as Record<string, unknown>).kernelspec;
  if (ks !== undefined && !isObject(ks)) throw new BadInput(`${where}: its metadata.kernelspec is not an object; pick the "TypeScript (OTP Lab)" kernel in Jupyter and save it`);
  const nb = data as unknown as Notebook;
  const kernel = nb.metadata.kernelspec?.name;
  if (kernel !== undefined && kernel !== KERNEL_NAME) {
    throw new BadInput(
      `${where} is a notebook for the '${String(kernel)}' kernel, not '${KERNEL_NAME}'; ` +
        `open it in Jupyter, pick the "TypeScript (OTP Lab)" kernel and save it`,
    );
  }
  return nb;
}

export function sourceText(cell: Cell): string {
  return joinLines(cell.source);
}

export function joinLines(s: MultilineString | undefined): string {
  if (s === undefined) return "";
  return Array.isArray(s) ? s.join("") : s;
}

/** Jupyter's on-disk form of a multi-line string: lines with their newlines kept. */
export function splitLines(s: string): string[] {
  return s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function nbgrader(cell: Cell): NbgraderMetadata | undefined {
  return cell.metadata.nbgrader;
}

export function gradeId(cell: Cell): string | undefined {
  const id = cell.metadata.nbgrader?.grade_id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** An autograded test cell: its points count, it passes when it runs without an error output. */
export function isTestCell(cell: Cell): boolean {
  const m = cell.metadata.nbgrader;
  return cell.cell_type === "code" && !!m && m.grade === true && m.solution !== true && gradeId(cell) !== undefined;
}

/**
 * Restored from the source when grading. As in nbgrader (`utils.is_locked`): test cells always are, solution
 * cells never, other cells when marked locked.
 */
export function isLocked(cell: Cell): boolean {
  const m = cell.metadata.nbgrader;
  if (!m || gradeId(cell) === undefined) return false;
  if (m.solution === true) return false;
  if (m.grade === true) return true;
  return m.locked === true;
}

export function points(cell: Cell): number {
  const p = Number(cell.metadata.nbgrader?.points ?? 0);
  return Number.isFinite(p) && p > 0 ? p : 0;
}

/** A short name for progress lines and reports: the grade_id, else the cell id, else its position. */
export function cellName(cell: Cell, index: number): string {
  return gradeId(cell) ?? cell.id ?? `#${index + 1}`;
}

/** nbformat 4.5 cell ids: 1-64 of [a-zA-Z0-9-_]. */
export function newCellId(taken: Set<string>): string {
  for (;;) {
    const id = randomBytes(4).toString("hex");
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** Gives every cell a unique id when the format has ids (4.5+), and removes them when it does not. */
export function normalizeCellIds(nb: Notebook): void {
  if (nb.nbformat_minor < 5) {
    for (const c of nb.cells) delete c.id;
    return;
  }
  const taken = new Set<string>();
  for (const c of nb.cells) {
    if (typeof c.id !== "string" || !/^[a-zA-Z0-9-_]{1,64}$/.test(c.id) || taken.has(c.id)) c.id = newCellId(taken);
    else taken.add(c.id);
  }
}

/** Serializes like nbformat's writer: sorted keys, indent 1, non-ASCII kept, a final newline. */
export function stringifyNotebook(nb: Notebook): string {
  return JSON.stringify(copyJson(nb, true), null, 1) + "\n";
}

/** Writes atomically (temp file + rename), so a crash never leaves half a notebook or results file. */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  // Like `nbgrader` and shell redirection users expect: the output folder is created when missing.
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, stringifyNotebook(nb));
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A deep copy (notebooks are plain JSON). Iterative; throws `BadInput` past `MAX_JSON_DEPTH`. */
export function clone<T>(v: T): T {
  return copyJson(v, false) as T;
}

type Container = unknown[] | Record<string, unknown>;

/**
 * Walks a JSON value depth first with an explicit stack (no recursion), calling `enter` for each array and
 * object; throws `BadInput` naming the path when nesting passes `MAX_JSON_DEPTH`.
 */
function walkJson(root: unknown, where: string, enter: (value: Container, parent: { value: Container; key: string | number } | null) => void): void {
  if (typeof root !== "object" || root === null) return;
  const frames: { value: Container; keys: string[] | null; i: number }[] = [];
  const push = (value: Container, parent: { value: Container; key: string | number } | null) => {
    if (frames.length >= MAX_JSON_DEPTH) {
      const path = frames.slice(0, 8).map((f) => {
        const key = f.keys ? f.keys[f.i - 1]! : f.i - 1;
        return typeof key === "number" ? `[${key}]` : /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key.slice(0, 40))}]`;
      });
      const at = (path.join("").replace(/^\./, "") || "the top level") + (frames.length > 8 ? "…" : "");
      throw new BadInput(
        `${where} nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep (at ${at}); no notebook Jupyter saves is like that: ` +
          `remove that metadata or output, or start again from the notebook you were given`,
      );
    }
    enter(value, parent);
    frames.push({ value, keys: Array.isArray(value) ? null : Object.keys(value), i: 0 });
  };
  push(root as Container, null);
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    const n = f.keys ? f.keys.length : (f.value as unknown[]).length;
    if (f.i >= n) {
      frames.pop();
      continue;
    }
    const key = f.keys ? f.keys[f.i]! : f.i;
    f.i++;
    const child = (f.value as Record<string | number, unknown>)[key];
    if (typeof child === "object" && child !== null) push(child as Container, { value: f.value, key });
  }
}

/** Throws `BadInput` when `data` nests deeper than `MAX_JSON_DEPTH`. */
export function checkDepth(data: unknown, where: string): void {
  walkJson(data, where, () => {});
}

/** A copy of a JSON value, keys sorted if asked (nbformat's writer sorts them). */
function copyJson(root: unknown, sort: boolean): unknown {
  if (typeof root !== "object" || root === null) return root;
  const copies = new Map<Container, Container>();
  let top: Container | undefined;
  walkJson(root, "the notebook", (value, parent) => {
    const copy: Container = Array.isArray(value) ? new Array(value.length) : {};
    copies.set(value, copy);
    if (parent) setKey(copies.get(parent.value)!, parent.key, copy);
    else top = copy;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (typeof v !== "object" || v === null) (copy as unknown[])[i] = v === undefined ? null : v;
      });
    } else {
      const keys = Object.keys(value);
      if (sort) keys.sort();
      for (const k of keys) {
        const v = value[k];
        // Placeholders keep the key order; containers are filled in when the walk reaches them.
        if (v !== undefined && typeof v !== "function") setKey(copy, k, typeof v === "object" && v !== null ? null : v);
      }
    }
  });
  return top;
}

/** Sets a key, `__proto__` included (an own data property, as JSON.parse makes it, not the prototype). */
function setKey(target: Container, key: string | number, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<string | number, unknown>)[key] = value;
}

/**
 * The notebooks (`*.ipynb`) under a folder, recursively, as paths relative to it with `/` separators, sorted.
 * Entries whose name starts with a dot (`.ipynb_checkpoints`, `.git`, editors' temporary files) are skipped,
 * and symbolic links to folders are not followed (no loops). Symbolic links to files are listed: graders of
 * folders students make refuse them (`GradeOptions.refuseSymlinks`).
 */
export function findNotebooks(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    const here = path.join(dir, rel);
    for (const entry of readdirSync(here, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(relPath);
      else if (entry.name.endsWith(".ipynb") && (entry.isFile() || (entry.isSymbolicLink() && isFile(path.join(dir, relPath))))) found.push(relPath);
    }
  };
  walk("");
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
