/**
 * Errors as Jupyter `error` content: `ename`, `evalue` and a traceback whose frames point at the cells' own
 * lines and columns.
 *
 * Each compiled cell is registered under a synthetic file name with its source map. A V8 stack frame in that
 * file is mapped back through the map, and the innermost cell frame is shown with the offending source line, as
 * IPython does. Frames inside the kernel itself and Node internals are dropped: they say nothing about the
 * learner's code.
 */
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

interface CellRecord {
  label: string;
  source: string;
  mapText: string;
  map?: SourceMap;
}

const RED = "\x1b[31m";
const CYAN = "\x1b[36m";
const GREEN = "\x1b[32m";
const YELLOW = "\x1b[33m";
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

const KERNEL_DIR = fileURLToPath(new URL(".", import.meta.url));
const CELL_PREFIX = "otp-lab-cell:";

export class CellRegistry {
  /** The newest registry (one per executor): the runtime's crash reports map their frames through it (reports.ts). */
  static latest: CellRegistry | null = null;
  private readonly cells = new Map<string, CellRecord>();
  private seq = 0;

  constructor() {
    CellRegistry.latest = this;
  }

  /** Registers a compiled cell; returns the file name to give to `vm.Script`. */
  register(label: string, source: string, mapText: string): string {
    const fileName = `${CELL_PREFIX}${++this.seq}`;
    this.cells.set(fileName, { label, source, mapText });
    return fileName;
  }

  /** Maps a generated position (1-based line and column) to the cell's own, or null. */
  original(fileName: string, line: number, column: number): { label: string; line: number; column: number; source: string } | null {
    const cell = this.cells.get(fileName);
    if (!cell) return null;
    try {
      cell.map ??= new SourceMap(JSON.parse(cell.mapText));
      const e = cell.map.findEntry(line - 1, column - 1) as { originalLine?: number; originalColumn?: number };
      if (e.originalLine === undefined) return null;
      return { label: cell.label, line: e.originalLine + 1, column: (e.originalColumn ?? 0) + 1, source: cell.source };
    } catch {
      return null;
    }
  }

  /** The innermost cell frame of a V8 stack (an `Error`'s), mapped to the cell's own line; null if none. */
  site(stack: string): { label: string; line: number; column: number } | null {
    for (const raw of stack.split("\n")) {
      const m = FRAME.exec(raw);
      if (!m || !m[2]!.startsWith(CELL_PREFIX)) continue;
      const o = this.original(m[2]!, Number(m[3]), Number(m[4]));
      if (o) return { label: o.label, line: o.line, column: o.column };
    }
    return null;
  }

  /**
   * Turns anything thrown into error content with a mapped traceback. `late`: for an error raised outside the
   * cell's own run (a timer, an unhandled rejection), where it came from, added to `evalue` in parentheses, and
   * an optional first line saying that the cell it is shown in did not raise it.
   */
  format(err: unknown, late?: { from: string; note?: string }): ErrorContent {
    const described = describe(err);
    const ename = described.ename;
    const evalue = late ? `${described.evalue} (${late.from})` : described.evalue;
    const lines: string[] = late?.note ? [`${YELLOW}${late.note}${RESET}`] : [];
    let excerpt: string[] | null = null;
    const frames: string[] = [];
    // An interrupt's stack is the kernel's own (the interrupted code left no frames): show none.
    const stack = err instanceof Error && typeof err.stack === "string" && err.name !== "KeyboardInterrupt" ? err.stack : "";
    for (const raw of stack.split("\n").slice(1)) {
      const m = FRAME.exec(raw);
      if (!m) continue;
      const [, fn, file, l, c] = m;
      if (!file) continue;
      if (file.startsWith(CELL_PREFIX)) {
        const o = this.original(file, Number(l), Number(c));
        if (!o) continue;
        const where = `${o.label}:${o.line}:${o.column}`;
        frames.push(`    at ${fn ? `${fn} (${CYAN}${where}${RESET})` : `${CYAN}${where}${RESET}`}`);
        excerpt ??= sourceExcerpt(o.label, o.source, o.line, o.column);
        continue;
      }
      if (isInternalFrame(file)) continue;
      frames.push(`    at ${fn ? `${fn} (${file}:${l}:${c})` : `${file}:${l}:${c}`}`);
    }
    lines.push(`${RED}${BOLD}${ename}${RESET}: ${evalue}`);
    if (excerpt) lines.push(...excerpt);
    lines.push(...collapseRepeats(frames));
    let cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
    for (let depth = 0; cause !== undefined && depth < 5; depth++) {
      const d = describe(cause);
      lines.push(`${BOLD}Caused by${RESET} ${RED}${d.ename}${RESET}: ${d.evalue}`);
      cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
    }
    return { ename, evalue, traceback: [lines.join("\n")] };
  }
}

/** A compile or type error located in a cell. */
export function locatedError(
  ename: string,
  label: string,
  source: string,
  errors: { message: string; line: number; column: number; code?: number }[],
): ErrorContent {
  const first = errors[0]!;
  const evalue = `${first.message} (${label}:${first.line}:${first.column})`;
  const lines: string[] = [];
  for (const e of errors) {
    lines.push(`${RED}${BOLD}${ename}${RESET}${e.code ? ` TS${e.code}` : ""}: ${e.message}`);
    lines.push(...sourceExcerpt(label, source, e.line, e.column));
  }
  return { ename, evalue, traceback: [lines.join("\n")] };
}

/** A recursion's identical frames are shown once with a count (as Python does). */
function collapseRepeats(frames: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < frames.length; ) {
    let j = i + 1;
    while (j < frames.length && frames[j] === frames[i]) j++;
    out.push(frames[i]!);
    if (j - i > 2) out.push(`    [... the frame above repeated ${j - i - 1} more times]`);
    else if (j - i === 2) out.push(frames[i]!);
    i = j;
  }
  return out;
}

function describe(err: unknown): { ename: string; evalue: string } {
  if (err instanceof Error || (typeof err === "object" && err !== null && "message" in err && "name" in err)) {
    const e = err as Error;
    const ename = String(e.name || e.constructor?.name || "Error");
    let evalue = String(e.message);
    if (err instanceof AggregateError && err.errors.length) {
      evalue += ` (${err.errors.map((x: unknown) => describe(x).evalue).join("; ")})`;
    }
    return { ename, evalue };
  }
  return { ename: "Error", evalue: `Uncaught ${inspect(err, { depth: 2, breakLength: Infinity })}` };
}

function sourceExcerpt(label: string, source: string, line: number, column: number): string[] {
  const all = source.split("\n");
  const from = Math.max(1, line - 2);
  const to = Math.min(all.length, line + 1);
  const width = String(to).length;
  const out = [`${GREEN}${label}, line ${line}, column ${column}${RESET}`];
  for (let n = from; n <= to; n++) {
    const mark = n === line ? `${GREEN}---> ` : "     ";
    out.push(`${mark}${String(n).padStart(width)}${n === line ? RESET : ""} ${all[n - 1]}`);
    if (n === line) out.push(`${" ".repeat(5 + width + column)}${RED}^${RESET}`);
  }
  return out;
}

// `    at fn (file:1:2)`, `    at file:1:2`, `    at async fn (file:1:2)`
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

function isInternalFrame(file: string): boolean {
  if (file.startsWith("node:") || file === "otp-lab:guard" || file.startsWith("internal/")) return true;
  // In the browser kernel every frame outside the cells is the kernel's own bundle, served over http(s).
  if (/^(https?|blob):/.test(file)) return true;
  const path = file.startsWith("file://") ? safeFileURLToPath(file) : file;
  return path.startsWith(KERNEL_DIR);
}

function safeFileURLToPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
