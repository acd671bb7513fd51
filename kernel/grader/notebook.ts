/**
 * Notebooks on disk (nbformat 4): reading with checks that name what is wrong, writing the way Jupyter does
 * (keys sorted, one-space indent, multi-line strings as lists of lines) so that a notebook that went through
 * `otp-lab assign` or `otp-lab run` diffs cleanly against one saved by Jupyter.
 *
 * Everything that rejects an input throws `BadInput`; the commands turn it into exit code 2.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
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

/** Reads and checks a notebook; `role` names it in messages ("submission", "source notebook"). */
export function readNotebook(file: string, role = "notebook"): Notebook {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BadInput(`${role} ${file} does not exist; check the path`);
    if (code === "EISDIR") throw new BadInput(`${role} ${file} is a directory; give the .ipynb file`);
    throw new BadInput(`cannot read ${role} ${file}: ${(err as Error).message}`);
  }
  return parseNotebook(text, file, role);
}

export function parseNotebook(text: string, file: string, role = "notebook"): Notebook {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BadInput(`${role} ${file} is not valid notebook JSON (${(err as Error).message}); open it in Jupyter and save it again`);
  }
  const where = `${role} ${file}`;
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
  });
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
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/** Writes atomically (temp file + rename), so a crash never leaves half a notebook or results file. */
export function writeFileAtomic(file: string, text: string): void {
  // Like `nbgrader` and shell redirection users expect: the output folder is created when missing.
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, stringifyNotebook(nb));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A deep copy (notebooks are plain JSON). */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
