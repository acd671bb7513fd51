/**
 * Cell events → nbformat 4 outputs, the way Jupyter's own clients (nbclient) record them:
 *   - consecutive writes to the same stream are one `stream` output;
 *   - `display_data` loses its transient display id when saved, but `update_display_data` first replaces the
 *     data of every earlier output shown under that id, in any cell;
 *   - `clear_output(wait=true)` clears when the next output arrives;
 *   - `execute_result` carries the execution count; `error` has ename, evalue and traceback.
 * Text is capped per cell so that a cell printing in a loop cannot exhaust the grader's memory.
 */
import type { CellEvent } from "./protocol.js";
import { splitLines, type Output } from "./notebook.js";
import type { ErrorContent } from "../executor.js";

/** Per-cell cap on stream text, in characters. */
export const MAX_STREAM_CHARS = 1_000_000;

/** Jupyter splits text-like MIME data into lines on disk; JSON and base64 (images) are kept whole. */
function mimeForDisk(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    const textual = typeof value === "string" && (mime.startsWith("text/") || mime === "image/svg+xml");
    out[mime] = textual ? splitLines(value as string) : value;
  }
  return out;
}

export class OutputCollector {
  /** Outputs of every cell, by cell index. */
  private readonly cells = new Map<number, Output[]>();
  /** display_id → outputs showing it (updated in place). */
  private readonly displays = new Map<string, Output[]>();
  private readonly pendingClear = new Set<number>();
  private readonly streamChars = new Map<number, number>();

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
      for (const o of (e.displayId && this.displays.get(e.displayId)) || []) {
        o.data = mimeForDisk(e.data);
        o.metadata = e.metadata;
      }
      return;
    }
    if (this.pendingClear.delete(cell)) this.clear(cell);
    const list = this.outputs(cell);
    switch (e.kind) {
      case "stream": {
        const used = this.streamChars.get(cell) ?? 0;
        if (used >= MAX_STREAM_CHARS) return;
        let text = e.text;
        if (used + text.length > MAX_STREAM_CHARS) text = text.slice(0, MAX_STREAM_CHARS - used) + "\n[output truncated by the grader]\n";
        this.streamChars.set(cell, used + text.length);
        const last = list[list.length - 1];
        if (last?.output_type === "stream" && last.name === e.name) last.text = (last.text as string) + text;
        else list.push({ output_type: "stream", name: e.name, text });
        return;
      }
      case "display": {
        const o: Output = { output_type: "display_data", data: mimeForDisk(e.data), metadata: e.metadata ?? {} };
        list.push(o);
        if (e.displayId) {
          const shown = this.displays.get(e.displayId) ?? [];
          shown.push(o);
          this.displays.set(e.displayId, shown);
        }
        return;
      }
      case "result":
        list.push({ output_type: "execute_result", execution_count: e.executionCount, data: mimeForDisk(e.data), metadata: e.metadata ?? {} });
        return;
      case "error":
        list.push(errorOutput(e.content));
        return;
    }
  }

  /** Appends an error the grader itself reports (time limit, crash). */
  addError(cell: number, ename: string, evalue: string): void {
    this.outputs(cell).push(errorOutput({ ename, evalue, traceback: [`${ename}: ${evalue}`] }));
  }

  /** Outputs as saved in the notebook: stream text split into lines. */
  forDisk(cell: number): Output[] {
    return (this.cells.get(cell) ?? []).map((o) => (o.output_type === "stream" ? { ...o, text: splitLines(o.text as string) } : { ...o }));
  }

  firstError(cell: number): ErrorContent | null {
    const e = (this.cells.get(cell) ?? []).find((o) => o.output_type === "error");
    return e ? { ename: String(e.ename), evalue: String(e.evalue), traceback: e.traceback as string[] } : null;
  }

  private clear(cell: number): void {
    for (const o of this.cells.get(cell) ?? []) {
      for (const [id, shown] of this.displays) {
        const i = shown.indexOf(o);
        if (i >= 0) shown.splice(i, 1);
        if (shown.length === 0) this.displays.delete(id);
      }
    }
    this.cells.set(cell, []);
    this.streamChars.delete(cell);
  }
}

function errorOutput(c: ErrorContent): Output {
  return { output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback };
}
