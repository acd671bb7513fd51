/**
 * Runs a notebook's code cells, top to bottom, in a sandboxed kernel (`sandbox.ts`), and returns it with its
 * outputs. Shared by `otp-lab run` and `otp-lab grade`.
 *
 * Failure handling, so that one bad cell costs only itself:
 *   - a cell that runs longer than the time limit, or during which the kernel dies (out of memory,
 *     `process.abort()`), gets an error output (`CellTimeoutError`, `DeadKernelError`, the names nbclient
 *     uses); the kernel is then started again and the cells that had succeeded are re-run silently to rebuild
 *     the state, and the run goes on with the next cell;
 *   - a kernel that cannot start at all ends the run: the remaining cells are reported as not run.
 * One progress line per cell goes to `progress` (stderr in the commands): `[3/17] cell ex1-tests ... ok (12 ms)`.
 */
import { clone, cellName, sourceText, type Notebook } from "./notebook.js";
import { OutputCollector } from "./outputs.js";
import { Sandbox, SandboxStartError, type CellOutcome } from "./sandbox.js";

export type CellStatus = "ok" | "error" | "timeout" | "crashed" | "not-run";

export interface CellRun {
  index: number;
  name: string;
  status: CellStatus;
  durationMs: number;
  /** The first error output of the cell (ANSI colours included, as in the traceback). */
  error?: { ename: string; evalue: string };
}

export interface ExecuteOptions {
  /** The notebook's folder: the kernel's working directory, readable by cells. */
  cwd: string;
  timeoutMs: number;
  memoryMb: number;
  progress?: (line: string) => void;
  /** Called after each cell with the runs so far (the grader keeps its results file current with it). */
  onCell?: (runs: readonly CellRun[]) => void;
}

export interface ExecutedNotebook {
  notebook: Notebook;
  /** One entry per code cell that has code, in order. */
  cells: CellRun[];
  restarts: number;
  /** Set when the kernel could not be started (the cells after that point did not run). */
  startupError?: string;
  durationMs: number;
}

export async function executeNotebook(input: Notebook, options: ExecuteOptions): Promise<ExecutedNotebook> {
  const t0 = Date.now();
  const nb = clone(input);
  const progress = options.progress ?? (() => {});
  const collector = new OutputCollector();
  const counts = new Map<number, number | null>();
  const todo = nb.cells.flatMap((c, i) => (c.cell_type === "code" && sourceText(c).trim() !== "" ? [i] : []));
  const runs: CellRun[] = [];
  /** Cells that ran without error, in order: what a restarted kernel re-runs. */
  const succeeded: number[] = [];
  let restarts = 0;
  let startupError: string | undefined;
  let sandbox: Sandbox | null = null;
  /** Request id → cell, for the current sandbox (late outputs of timers land under the cell that started them). */
  let requests = new Map<number, number>();

  const start = async (): Promise<Sandbox | null> => {
    try {
      const sb = await Sandbox.start({ cwd: options.cwd, memoryMb: options.memoryMb, startupTimeoutMs: Math.max(120_000, options.timeoutMs) });
      requests = new Map();
      sb.onEvent = (id, e) => {
        const cell = requests.get(id);
        if (cell !== undefined) collector.add(cell, e);
      };
      return sb;
    } catch (err) {
      if (!(err instanceof SandboxStartError)) throw err;
      startupError = err.message;
      progress(`kernel: ${err.message}`);
      return null;
    }
  };

  /** A new kernel with the state of the cells that succeeded so far (those that still succeed are kept). */
  const restart = async (why: string): Promise<Sandbox | null> => {
    const t = Date.now();
    restarts++;
    let sb = await start();
    let replayed = 0;
    for (let k = 0; sb && k < succeeded.length; ) {
      const o = await sb.execute(sourceText(nb.cells[succeeded[k]!]!), { silent: true, timeoutMs: options.timeoutMs });
      if (o.status === "ok") {
        replayed++;
        k++;
        continue;
      }
      // Not reproducible: leave it out of the state from now on.
      succeeded.splice(k, 1);
      if (o.status === "timeout" || o.status === "crashed") {
        sb.kill();
        sb = await start();
      }
    }
    if (sb) progress(`        kernel restarted (${why}); re-ran ${replayed} earlier cell${replayed === 1 ? "" : "s"} in ${Date.now() - t} ms`);
    return sb;
  };

  try {
    sandbox = await start();
    /** Set after a timeout or crash: the kernel is restarted before the next cell (not after the last one). */
    let restartFor: string | null = null;
    for (const [k, index] of todo.entries()) {
      const cell = nb.cells[index]!;
      const name = cellName(cell, index);
      const label = `[${k + 1}/${todo.length}] cell ${name} ...`;
      if (restartFor) {
        sandbox = await restart(restartFor);
        restartFor = null;
      }
      if (!sandbox) {
        runs.push({ index, name, status: "not-run", durationMs: 0 });
        progress(`${label} not run (no kernel)`);
        continue;
      }
      const t = Date.now();
      requests.set(sandbox.nextRequestId, index);
      const outcome: CellOutcome = await sandbox.execute(sourceText(cell), { timeoutMs: options.timeoutMs });
      const durationMs = Date.now() - t;
      let status: CellStatus;
      if (outcome.status === "ok" || outcome.status === "error") {
        counts.set(index, outcome.executionCount);
        // An error shown in the cell (say, from a timer it started) fails it even if the code itself returned.
        status = outcome.status === "ok" && !collector.firstError(index) ? "ok" : "error";
        if (outcome.status === "ok") succeeded.push(index);
      } else if (outcome.status === "timeout") {
        status = "timeout";
        collector.addError(
          index,
          "CellTimeoutError",
          `the cell was still running after ${options.timeoutMs / 1000} s and was stopped; an endless loop or a wait that never ends? ` +
            `The kernel was restarted and the cells that succeeded before were re-run.`,
        );
      } else {
        status = "crashed";
        collector.addError(index, "DeadKernelError", `${outcome.reason} while running this cell; the kernel was restarted and the cells that succeeded before were re-run.`);
      }
      const err = collector.firstError(index);
      runs.push({ index, name, status, durationMs, ...(err && status !== "ok" ? { error: { ename: err.ename, evalue: err.evalue } } : {}) });
      progress(`${label} ${describe(status, err?.ename, outcome)} (${durationMs} ms)`);
      options.onCell?.(runs);
      if (status === "timeout" || status === "crashed") {
        sandbox.kill();
        restartFor = status === "timeout" ? "time limit" : "crash";
      }
    }
  } finally {
    sandbox?.kill();
  }

  for (const [i, cell] of nb.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = collector.forDisk(i);
    cell.execution_count = counts.get(i) ?? null;
  }
  return { notebook: nb, cells: runs, restarts, ...(startupError ? { startupError } : {}), durationMs: Date.now() - t0 };
}

function describe(status: CellStatus, ename: string | undefined, outcome: CellOutcome): string {
  if (outcome.status === "crashed") return `kernel died: ${outcome.reason}`;
  switch (status) {
    case "ok":
      return "ok";
    case "error":
      return `error: ${ename ?? "Error"}`;
    case "timeout":
      return "timed out";
    default:
      return status;
  }
}
