/**
 * Cell events → nbformat 4 outputs, the way Jupyter's own clients (nbclient) record them:
 *   - consecutive writes to the same stream are one `stream` output;
 *   - `display_data` loses its transient display id when saved, but `update_display_data` first replaces the
 *     data of every earlier output shown under that id, in any cell;
 *   - `clear_output(wait=true)` clears when the next output arrives;
 *   - `execute_result` carries the execution count; `error` has ename, evalue and traceback.
 *
 * Caps, so that a cell printing or displaying in a loop cannot exhaust the grader's memory (`OutputLimits`):
 * what the collector keeps, of every kind (stream text, display data, results, errors), is at most
 * `cellChars` characters and `cellOutputs` outputs per cell and `notebookChars` characters over the notebook.
 * Past a cap the cell's further outputs are dropped and one note (a stderr stream output) says so:
 * "[output truncated: this cell printed more than 1 MB; the grader dropped the rest]". What a cell clears
 * no longer counts. Two exceptions keep the grade right: a cell's first error is always kept (cut short if
 * need be), since an error is what fails a test; and the grader's own errors (time limit, crash) are added.
 * An output nested deeper than `MAX_JSON_DEPTH` is dropped with a note (the writer could not save it).
 */
import type { CellEvent } from "./protocol.js";
import { MAX_JSON_DEPTH, splitLines, type Output } from "./notebook.js";
import type { ErrorContent } from "../executor.js";

export interface OutputLimits {
  /** Characters of output kept per cell (about bytes: text, and the JSON of display data). */
  cellChars: number;
  /** Characters of output kept over the whole notebook. */
  notebookChars: number;
  /** Outputs kept per cell (a stream's consecutive writes are one output). */
  cellOutputs: number;
}

/**
 * 1 MB and 1,000 outputs a cell, 10 MB a notebook: a lesson's richest cell (an SVG tree with its PNG
 * fallback) is about 200 KB, a whole executed lesson under 2 MB; a Gradescope results file or a notebook
 * opened in a browser gets slow well before 10 MB.
 */
export const DEFAULT_OUTPUT_LIMITS: Readonly<OutputLimits> = { cellChars: 1_000_000, notebookChars: 10_000_000, cellOutputs: 1_000 };

/** What a kept error may keep when it is over the cap (it is still kept: it decides the cell's status). */
const ERROR_EVALUE_CHARS = 4_000;
const ERROR_TRACEBACK_LINES = 40;
const ERROR_LINE_CHARS = 400;

/** Each output costs this much besides its content, so that a flood of empty outputs is capped too. */
const OUTPUT_OVERHEAD = 50;

/** Jupyter splits text-like MIME data into lines on disk; JSON and base64 (images) are kept whole. */
function mimeForDisk(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    const textual = typeof value === "string" && (mime.startsWith("text/") || mime === "image/svg+xml");
    out[mime] = textual ? splitLines(value as string) : value;
  }
  return out;
}

/**
 * The size of a JSON value in characters, about what it takes in the notebook; `Infinity` when it nests
 * deeper than `MAX_JSON_DEPTH` (or is cyclic). Iterative: an output may be anything a cell displayed.
 */
export function jsonSize(root: unknown): number {
  let size = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === "string") size += v.length + 2;
    else if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) size += 6;
    else if (typeof v === "object") {
      if (depth >= MAX_JSON_DEPTH) return Infinity;
      size += 2;
      if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1]);
      else
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          size += k.length + 4;
          stack.push([x, depth + 1]);
        }
    }
  }
  return size;
}

interface Kept {
  cell: number;
  size: number;
  displayId?: string;
}

export interface Truncation {
  cell: number;
  /** The note shown in the cell, without brackets: "output truncated: this cell printed more than 1 MB; ...". */
  message: string;
}

export class OutputCollector {
  private readonly limits: OutputLimits;
  /** Outputs of every cell, by cell index. */
  private readonly cells = new Map<number, Output[]>();
  /** display_id → outputs showing it (updated in place). */
  private readonly displays = new Map<string, Output[]>();
  private readonly pendingClear = new Set<number>();
  /** Size and cell of each kept output. */
  private readonly kept = new WeakMap<Output, Kept>();
  private readonly cellChars = new Map<number, number>();
  /** Kept outputs per cell (notes excluded). */
  private readonly cellCount = new Map<number, number>();
  private notebookChars = 0;
  /** Cells that already show a truncation note (until they clear their output). */
  private readonly noted = new Set<number>();
  private readonly truncations: Truncation[] = [];

  constructor(limits: Partial<OutputLimits> = {}) {
    this.limits = { ...DEFAULT_OUTPUT_LIMITS, ...limits };
  }

  outputs(cell: number): Output[] {
    let list = this.cells.get(cell);
    if (!list) this.cells.set(cell, (list = []));
    return list;
  }

  add(cell: number, e: CellEvent): void {
    if (e.kind === "clear") {
      if (e.wait) this.pendingClear.add(cell);
      else this.clear(cell);
      return;
    }
    if (e.kind === "display" && e.update) {
      // Updates change what is already shown; they add nothing to this cell.
      this.update(e.displayId, e.data, e.metadata);
      return;
    }
    if (this.pendingClear.delete(cell)) this.clear(cell);
    const list = this.outputs(cell);
    if (this.noted.has(cell)) {
      // Past a cap: the rest of the cell's output is dropped, but for its first error (see `error` below).
      if (e.kind === "error" && !this.firstError(cell)) this.keepShortError(cell, list, plainError(e.content));
      return;
    }
    switch (e.kind) {
      case "stream": {
        const last = list[list.length - 1];
        const merge = last?.output_type === "stream" && last.name === e.name && this.kept.has(last);
        const room = this.room(cell, merge ? 0 : 1);
        let text = e.text;
        if (text.length > room.chars) {
          // Keep what fits (a cell's last lines before the cap are often the useful ones), then the note.
          text = text.slice(0, Math.max(0, room.chars));
          if (text !== "") this.keepStream(cell, list, e.name, text, merge);
          this.truncate(cell, room.why);
          return;
        }
        this.keepStream(cell, list, e.name, text, merge);
        return;
      }
      case "display": {
        const size = jsonSize(e.data) + jsonSize(e.metadata) + OUTPUT_OVERHEAD;
        if (!Number.isFinite(size)) return this.truncate(cell, `output dropped: a display nested more than ${MAX_JSON_DEPTH} levels deep`);
        const room = this.room(cell, 1);
        if (size > room.chars) return this.truncate(cell, room.why);
        const o: Output = { output_type: "display_data", data: mimeForDisk(e.data), metadata: e.metadata ?? {} };
        this.keep(cell, list, o, size, e.displayId);
        if (e.displayId) {
          const shown = this.displays.get(e.displayId) ?? [];
          shown.push(o);
          this.displays.set(e.displayId, shown);
        }
        return;
      }
      case "result": {
        const size = jsonSize(e.data) + jsonSize(e.metadata) + OUTPUT_OVERHEAD;
        if (!Number.isFinite(size)) return this.truncate(cell, `output dropped: a result nested more than ${MAX_JSON_DEPTH} levels deep`);
        const room = this.room(cell, 1);
        if (size > room.chars) return this.truncate(cell, room.why);
        this.keep(cell, list, { output_type: "execute_result", execution_count: e.executionCount, data: mimeForDisk(e.data), metadata: e.metadata ?? {} }, size);
        return;
      }
      case "error": {
        const content = plainError(e.content);
        const size = errorSize(content);
        const room = this.room(cell, 1);
        if (size <= room.chars) {
          this.keep(cell, list, errorOutput(content), size);
          return;
        }
        // Over the cap: the first error is kept all the same, cut short, because it is what fails the cell.
        if (!this.firstError(cell)) this.keepShortError(cell, list, content);
        this.truncate(cell, room.why);
        return;
      }
    }
  }

  /** Appends an error the grader itself reports (time limit, crash): always kept. */
  addError(cell: number, ename: string, evalue: string): void {
    const content = { ename, evalue, traceback: [`${ename}: ${evalue}`] };
    this.keep(cell, this.outputs(cell), errorOutput(content), errorSize(content));
  }

  /** Outputs as saved in the notebook: stream text split into lines. */
  forDisk(cell: number): Output[] {
    return (this.cells.get(cell) ?? []).map((o) => (o.output_type === "stream" ? { ...o, text: splitLines(o.text as string) } : { ...o }));
  }

  firstError(cell: number): ErrorContent | null {
    const e = (this.cells.get(cell) ?? []).find((o) => o.output_type === "error");
    return e ? { ename: String(e.ename), evalue: String(e.evalue), traceback: e.traceback as string[] } : null;
  }

  /** Every truncation note shown, in order (one per cell, or more if the cell cleared its output in between). */
  truncated(): readonly Truncation[] {
    return this.truncations;
  }

  /** Characters kept over the notebook (for tests and progress). */
  get size(): number {
    return this.notebookChars;
  }

  /** How much more the cell may keep, and which cap would stop it. */
  private room(cell: number, newOutputs: number): { chars: number; why: string } {
    const { cellChars, notebookChars, cellOutputs } = this.limits;
    const count = this.cellCount.get(cell) ?? 0;
    if (count + newOutputs > cellOutputs) {
      return { chars: -1, why: `output truncated: this cell produced more than ${cellOutputs} outputs; the grader dropped the rest` };
    }
    const inCell = cellChars - (this.cellChars.get(cell) ?? 0);
    const inNotebook = notebookChars - this.notebookChars;
    if (inCell <= inNotebook) return { chars: inCell, why: `output truncated: this cell printed more than ${chars(cellChars)}; the grader dropped the rest` };
    return { chars: inNotebook, why: `output truncated: the notebook's outputs passed ${chars(notebookChars)} in all; the grader dropped the rest of this cell's output` };
  }

  private keepShortError(cell: number, list: Output[], content: ErrorContent): void {
    const short = shortError(content);
    this.keep(cell, list, errorOutput(short), errorSize(short));
  }

  private keepStream(cell: number, list: Output[], name: string, text: string, merge: boolean): void {
    const last = list[list.length - 1];
    if (merge && last) {
      last.text = (last.text as string) + text;
      this.grow(cell, last, text.length);
    } else this.keep(cell, list, { output_type: "stream", name, text }, text.length + OUTPUT_OVERHEAD);
  }

  private keep(cell: number, list: Output[], o: Output, size: number, displayId?: string): void {
    list.push(o);
    this.kept.set(o, { cell, size, ...(displayId ? { displayId } : {}) });
    this.cellCount.set(cell, (this.cellCount.get(cell) ?? 0) + 1);
    this.cellChars.set(cell, (this.cellChars.get(cell) ?? 0) + size);
    this.notebookChars += size;
  }

  private grow(cell: number, o: Output, by: number): void {
    const k = this.kept.get(o)!;
    k.size += by;
    this.cellChars.set(cell, (this.cellChars.get(cell) ?? 0) + by);
    this.notebookChars += by;
  }

  /** One note per cell: a stderr stream output that the caps do not count. */
  private truncate(cell: number, message: string): void {
    if (this.noted.has(cell)) return;
    this.noted.add(cell);
    this.truncations.push({ cell, message });
    this.outputs(cell).push({ output_type: "stream", name: "stderr", text: `\n[${message}]\n` });
  }

  private update(displayId: string | undefined, data: Record<string, unknown>, metadata: Record<string, unknown> | undefined): void {
    const shown = (displayId && this.displays.get(displayId)) || [];
    if (shown.length === 0) return;
    const size = jsonSize(data) + jsonSize(metadata) + OUTPUT_OVERHEAD;
    for (const o of shown) {
      const k = this.kept.get(o);
      if (!k) continue;
      if (!Number.isFinite(size)) {
        this.truncate(k.cell, `output dropped: a display update nested more than ${MAX_JSON_DEPTH} levels deep`);
        continue;
      }
      const delta = size - k.size;
      if (delta > 0) {
        const room = this.room(k.cell, 0);
        if (delta > room.chars) {
          // The display keeps what it showed last.
          this.truncate(k.cell, room.why);
          continue;
        }
      }
      o.data = mimeForDisk(data);
      o.metadata = metadata ?? {};
      this.grow(k.cell, o, delta);
    }
  }

  private clear(cell: number): void {
    for (const o of this.cells.get(cell) ?? []) {
      const k = this.kept.get(o);
      if (!k) continue;
      this.notebookChars -= k.size;
      if (k.displayId) {
        const shown = this.displays.get(k.displayId);
        const i = shown ? shown.indexOf(o) : -1;
        if (shown && i >= 0) shown.splice(i, 1);
        if (shown && shown.length === 0) this.displays.delete(k.displayId);
      }
    }
    this.cells.set(cell, []);
    this.cellChars.delete(cell);
    this.cellCount.delete(cell);
    this.noted.delete(cell);
  }
}

function chars(n: number): string {
  // The limits are in characters; a million of them are shown as MB, as the options take them.
  return n >= 1_000_000 ? `${Math.round((n / 1_000_000) * 10) / 10} MB` : n >= 1000 ? `${Math.round(n / 1000)} KB` : `${n} characters`;
}

/** Error content with the types Jupyter expects (a cell can throw anything). */
function plainError(c: ErrorContent): ErrorContent {
  const traceback = Array.isArray(c.traceback) ? c.traceback.map((l) => String(l)) : [];
  return { ename: String(c.ename ?? "Error"), evalue: String(c.evalue ?? ""), traceback };
}

function errorSize(c: ErrorContent): number {
  return c.ename.length + c.evalue.length + c.traceback.reduce((a, l) => a + l.length + 4, 0) + OUTPUT_OVERHEAD;
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}… [cut by the grader]` : s;
}

function shortError(c: ErrorContent): ErrorContent {
  const traceback = c.traceback.slice(0, ERROR_TRACEBACK_LINES).map((l) => cut(l, ERROR_LINE_CHARS));
  if (c.traceback.length > ERROR_TRACEBACK_LINES) traceback.push(`… ${c.traceback.length - ERROR_TRACEBACK_LINES} more lines cut by the grader`);
  return { ename: cut(c.ename, 200), evalue: cut(c.evalue, ERROR_EVALUE_CHARS), traceback };
}

function errorOutput(c: ErrorContent): Output {
  return { output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback };
}
