/**
 * The runtime's crash and supervisor reports (`runtime/logger.ts`) in the notebook: each report is shown in the
 * output of the cell that is running when it happens (between cells: the last cell's, like a timer's output),
 * as Elixir's Logger prints it, with the process's stack mapped to the cells' lines (`Cell In[5], line 3:
 * handleCall`) and without the runtime's, the kernel's or Node's frames. It is a display with plain text and
 * HTML (the level in colour), not a stderr stream: a report is the runtime telling what happened to the
 * learner's processes, not an error of the cell.
 *
 * `preload.ts` installs it on the runtime module's `Logger`; `Logger.level = "none"` in a cell silences it.
 */
import { fileURLToPath } from "node:url";
import { frameFunction, processFrames } from "../runtime/logger.js";
import { output, type MimeBundle } from "./output.js";
import { CellRegistry } from "./traceback.js";

interface Report {
  level: string;
  message(frames?: (stack: string) => string[]): string;
}

export interface LoggerLike {
  addHandler(handler: (report: Report) => void): () => void;
}

const CELL_PREFIX = "otp-lab-cell:";
const KERNEL_DIR = fileURLToPath(new URL(".", import.meta.url));

function filePath(file: string): string {
  if (!file.startsWith("file://")) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return file;
  }
}

/**
 * A process's stack as report lines (Elixir's `file:line: function`): its own frames only, a cell's as
 * `Cell In[5], line 3: handleCall`, other code (an imported file, a package) as `/path/file.js:12: fn`.
 */
export function cellFrames(stack: string): string[] {
  const registry = CellRegistry.latest;
  const out: string[] = [];
  for (const f of processFrames(stack)) {
    const fn = frameFunction(f.fn);
    const name = fn ? `: ${fn}` : "";
    if (f.file.startsWith(CELL_PREFIX)) {
      const o = registry?.original(f.file, f.line, f.column);
      if (o) out.push(`${o.label}, line ${o.line}${name}`);
      continue;
    }
    const path = filePath(f.file);
    if (path.startsWith(KERNEL_DIR) || f.file === "otp-lab:guard") continue;
    // The browser kernel: frames outside the cells are its own bundle's (http/blob URLs), as Node's are skipped.
    if (/^(https?|blob):/.test(f.file)) continue;
    out.push(`${path}:${f.line}${name}`);
  }
  return out;
}

const COLOURS: Record<string, string> = { debug: "#1a9ba1", info: "#2f6fb0", notice: "#2f6fb0", warning: "#a8750a" };
const ERROR_COLOUR = "#c62828";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The display of one report: `[error] GenServer ... terminating` as text, and as HTML with the level in colour. */
export function reportBundle(level: string, message: string): MimeBundle {
  const colour = COLOURS[level] ?? ERROR_COLOUR;
  const lvl = escapeHtml(level);
  const html =
    `<pre class="otp-lab-report otp-lab-report-${lvl}" style="margin:0.1em 0;padding:0.1em 0.6em;` +
    `border-left:3px solid ${colour};white-space:pre-wrap;background:transparent">` +
    `<span style="color:${colour};font-weight:bold">[${lvl}]</span> ${escapeHtml(message)}</pre>`;
  return { "text/plain": `[${level}] ${message}`, "text/html": html };
}

let installed: { logger: LoggerLike; remove: () => void } | null = null;

/** Shows the reports of `logger` (the runtime's `Logger`) in the running cell's output, with one handler. */
export function installReports(logger: LoggerLike): void {
  if (installed?.logger === logger) return;
  installed?.remove();
  const remove = logger.addHandler((report) => {
    const target = output.target;
    if (!target?.display) return;
    target.display(reportBundle(report.level, report.message(cellFrames)), {}, {}, false);
  });
  installed = { logger, remove };
}
