/**
 * Runs a notebook's code cells, top to bottom, in a sandboxed kernel (`sandbox.ts`), and returns it with its
 * outputs. Shared by `otp-lab run` and `otp-lab grade`.
 *
 * Failure handling, so that one bad cell costs only itself:
 *   - a cell that runs longer than the time limit, or during which the kernel dies (out of memory,
 *     `process.abort()`), gets an error output (`CellTimeoutError`, `DeadKernelError`, the names nbclient
 *     uses); the kernel is then started again and the cells that had succeeded are re-run silently to rebuild
 *     the state, and the run goes on with the next cell. A cell that fails when re-run (times out, stops the
 *     kernel, or raises) is left out of the state from then on, so it is re-run at most once more;
 *   - a kernel found dead before a cell starts (something an earlier cell left running, say a timer, stopped
 *     it) is restarted the same way before the cell runs, instead of failing that cell;
 *   - each of these is an `Incident`; every cell run after one carries the latest (`CellRun.after`), so that a
 *     test that then fails can say why its state was not the notebook's ("cell 20 (ex1-solution) timed out");
 *   - a kernel that cannot start at all ends the run: the remaining cells are reported as not run.
 *
 * One wall-clock budget (`budgetMs`, from `budgetStart`) covers all of it: kernel start-ups, every cell, time
 * limits, restarts and replays. Each wait (a start-up, a cell, a replayed cell) is cut to what is left of it;
 * when it runs out the running cell is stopped (a `CellTimeoutError` that says so), every later cell is not
 * run ("the submission's time budget of 600 s ran out while cell 7 (ex1-solution) was running"), and the
 * notebook is returned as usual. So no submission, however it loops, keeps the grader past its budget: not a
 * hundred looping cells, nor a cell whose busy `setInterval` makes every later cell and replay time out.
 *
 * Outputs are collected with caps (`outputs.ts`, `outputLimits`). Late outputs of a kernel that was stopped are
 * ignored: each kernel has its own request ids, and a stopped kernel's are forgotten.
 * One progress line per cell goes to `progress` (stderr in the commands): `[3/17] cell ex1-tests ... ok (12 ms)`.
 */
import { clone, cellName, isLocked, isTestCell, sourceText, type Notebook } from "./notebook.js";
import { OutputCollector, type OutputLimits } from "./outputs.js";
import { Sandbox, SandboxStartError, type CellOutcome } from "./sandbox.js";

export type CellStatus = "ok" | "error" | "timeout" | "crashed" | "not-run";

/**
 * Something that left the kernel without part of the notebook's state: a cell that timed out or stopped the
 * kernel (its kernel was replaced), one that could not be re-run after a restart, or the budget running out.
 */
export interface Incident {
  /** The cell's index in the notebook (0-based; messages say `cell ${index + 1}`). */
  index: number;
  name: string;
  kind: "timeout" | "crashed" | "replay-failed" | "budget";
  /** What happened, to follow "cell 20 (ex1-solution) ": "timed out after 30 s". */
  what: string;
}

export interface CellRun {
  index: number;
  name: string;
  status: CellStatus;
  durationMs: number;
  /** The first error output of the cell (ANSI colours included, as in the traceback). */
  error?: { ename: string; evalue: string };
  /** For a cell that was not run: why, in words for students. */
  notRun?: string;
  /** The latest incident before this cell ran, and how many there had been: it ran without part of the state. */
  after?: { incident: Incident; count: number };
}

export interface ExecuteOptions {
  /** The notebook's folder: the kernel's working directory, readable by cells. */
  cwd: string;
  timeoutMs: number;
  memoryMb: number;
  /** Grading mode for the kernel (see `SandboxOptions.grading`); locked cells are marked as such. */
  grading?: boolean;
  /** Start the kernel without the OS sandbox where it is unavailable (`SandboxOptions.allowUnsandboxed`). */
  allowUnsandboxed?: boolean;
  /** Total wall-clock budget for the whole run, in ms (default: none). */
  budgetMs?: number;
  /** When the budget started, in ms since the epoch (default: now); `grade` passes its own start. */
  budgetStart?: number;
  /** Output caps (`outputs.ts`; defaults `DEFAULT_OUTPUT_LIMITS`). */
  outputLimits?: Partial<OutputLimits>;
  progress?: (line: string) => void;
  /** Called after each cell with the runs so far (the grader keeps its results file current with it). */
  onCell?: (runs: readonly CellRun[], incidents: readonly Incident[]) => void;
}

export interface ExecutedNotebook {
  notebook: Notebook;
  /** One entry per code cell that has code, in order. */
  cells: CellRun[];
  restarts: number;
  /** Set when the kernel could not be started (the cells after that point did not run). */
  startupError?: string;
  /** Set when the time budget ran out: what it ran out during (the cells after that point did not run). */
  budgetExhausted?: string;
  incidents: Incident[];
  /** Cells whose outputs were cut by the caps, with the note shown in the cell. */
  truncated: { index: number; name: string; message: string }[];
  /** Warnings about missing protections, from the sandbox (each once). */
  warnings: string[];
  durationMs: number;
}

export async function executeNotebook(input: Notebook, options: ExecuteOptions): Promise<ExecutedNotebook> {
  const t0 = Date.now();
  const nb = clone(input);
  const progress = options.progress ?? (() => {});
  const collector = new OutputCollector(options.outputLimits);
  const counts = new Map<number, number | null>();
  const todo = nb.cells.flatMap((c, i) => (c.cell_type === "code" && sourceText(c).trim() !== "" ? [i] : []));
  const runs: CellRun[] = [];
  const incidents: Incident[] = [];
  const warnings: string[] = [];
  /** Cells that ran without error, in order: what a restarted kernel re-runs. */
  const succeeded: number[] = [];
  /**
   * The first cell, by position, that ran and did not succeed (or could not be re-run). Every cell before it ran
   * after exactly the cells a restart re-runs before it, so the type check it passed then still holds: a restart
   * re-runs those without checking them again (most of a restart's time). From this cell on, the cells before a
   * re-run one differ from those it was checked after, and it is checked again.
   */
  let firstUnsucceeded = Infinity;
  let restarts = 0;
  let startupError: string | undefined;
  /** Set once the budget ran out: why the remaining cells are not run. */
  let budgetOut: string | undefined;
  let sandbox: Sandbox | null = null;
  /** Request id → cell, for the current sandbox (late outputs of timers land under the cell that started them). */
  let requests = new Map<number, number>();

  const budgetMs = options.budgetMs ?? Infinity;
  const deadline = (options.budgetStart ?? t0) + budgetMs;
  const left = () => deadline - Date.now();
  const budgetText = `the submission's time budget of ${seconds(budgetMs)} s ran out`;
  const label = (index: number) => `cell ${index + 1} (${cellName(nb.cells[index]!, index)})`;

  /** Stops a kernel; what it still sends (buffered outputs of its timers) goes nowhere. */
  const retire = (sb: Sandbox | null) => {
    if (!sb) return;
    sb.onEvent = () => {};
    sb.kill();
  };

  const start = async (): Promise<Sandbox | null> => {
    const remaining = left();
    if (remaining <= 0) return null;
    try {
      const sb = await Sandbox.start({
        cwd: options.cwd,
        memoryMb: options.memoryMb,
        startupTimeoutMs: Math.min(Math.max(120_000, options.timeoutMs), remaining),
        grading: options.grading === true,
        ...(options.allowUnsandboxed ? { allowUnsandboxed: true } : {}),
      });
      const mine = new Map<number, number>();
      requests = mine;
      sb.onEvent = (id, e) => {
        const cell = mine.get(id);
        if (cell !== undefined) collector.add(cell, e);
      };
      for (const w of sb.protections?.warnings ?? []) {
        if (warnings.includes(w)) continue;
        warnings.push(w);
        progress(`kernel: warning: ${w}`);
      }
      return sb;
    } catch (err) {
      if (!(err instanceof SandboxStartError)) throw err;
      // Cut short by the budget: that is not the kernel's failure.
      if (left() <= 0) return null;
      startupError = err.message;
      progress(`kernel: ${err.message}`);
      return null;
    }
  };

  /** A new kernel with the state of the cells that succeeded so far (those that still succeed are kept). */
  const restart = async (why: string, during: string): Promise<Sandbox | null> => {
    const t = Date.now();
    restarts++;
    let sb = await start();
    let replayed = 0;
    let keptChecks = 0;
    for (let k = 0; sb && k < succeeded.length; ) {
      const index = succeeded[k]!;
      const replayCell = nb.cells[index]!;
      const remaining = left();
      const checked = index < firstUnsucceeded;
      const o =
        remaining <= 0
          ? ({ status: "timeout" } as const)
          : await sb.execute(sourceText(replayCell), { silent: true, timeoutMs: Math.min(options.timeoutMs, remaining), locked: isLocked(replayCell), test: isTestCell(replayCell), checked });
      if (o.status === "ok") {
        replayed++;
        if (checked) keptChecks++;
        k++;
        continue;
      }
      if (o.status === "timeout" && left() <= 0) {
        retire(sb);
        budgetOut = `${budgetText} while the kernel was being restarted (${during}), re-running ${label(index)}`;
        return null;
      }
      // Not reproducible: leave it out of the state from now on (and so never re-run it again).
      succeeded.splice(k, 1);
      firstUnsucceeded = Math.min(firstUnsucceeded, index);
      const how = o.status === "timeout" ? `it timed out after ${seconds(options.timeoutMs)} s` : o.status === "crashed" ? `it stopped the kernel: ${o.reason}` : "it raised an error this time";
      incidents.push({ index, name: cellName(replayCell, index), kind: "replay-failed", what: `could not be re-run after a kernel restart (${how})` });
      progress(`        ${label(index)} could not be re-run (${how}); left out from now on`);
      if (o.status === "timeout" || o.status === "crashed") {
        retire(sb);
        sb = await start();
      }
    }
    if (!sb && left() <= 0) budgetOut ??= `${budgetText} while the kernel was being restarted (${during})`;
    if (sb) progress(`        kernel restarted (${why}); re-ran ${replayed} earlier cell${replayed === 1 ? "" : "s"} in ${Date.now() - t} ms (${keptChecks} already type-checked)`);
    return sb;
  };

  try {
    sandbox = await start();
    if (!sandbox && left() <= 0) budgetOut = `${budgetText} while the kernel was starting`;
    /** Set after a timeout or crash: the kernel is restarted before the next cell (not after the last one). */
    let restart_: { why: string; during: string } | null = null;
    /** The last cell that ran, for a kernel found dead before the next one. */
    let previous: number | null = null;
    for (const [k, index] of todo.entries()) {
      const cell = nb.cells[index]!;
      const name = cellName(cell, index);
      const line = `[${k + 1}/${todo.length}] cell ${name} ...`;
      if (budgetOut === undefined && sandbox && !restart_ && !sandbox.alive && previous !== null) {
        // The kernel stopped between cells: something left running (a timer) killed it. Not this cell's doing.
        const reason = await deadReason(sandbox);
        incidents.push({ index: previous, name: cellName(nb.cells[previous]!, previous), kind: "crashed", what: `had finished when the kernel stopped (${reason}); did it, or a cell before it, leave something running?` });
        progress(`        the kernel stopped after ${label(previous)} had finished: ${reason}`);
        retire(sandbox);
        restart_ = { why: "it had stopped between cells", during: `it had stopped after ${label(previous)}` };
      }
      if (budgetOut === undefined && restart_) {
        sandbox = await restart(restart_.why, restart_.during);
        restart_ = null;
      }
      if (budgetOut === undefined && left() <= 0) budgetOut = `${budgetText} before ${label(index)} could start`;
      if (budgetOut !== undefined) {
        runs.push({ index, name, status: "not-run", durationMs: 0, notRun: budgetOut });
        progress(`${line} not run (time budget)`);
        continue;
      }
      if (!sandbox) {
        runs.push({ index, name, status: "not-run", durationMs: 0, notRun: `the grader's kernel could not start${startupError ? `: ${startupError}` : ""}` });
        progress(`${line} not run (no kernel)`);
        continue;
      }
      const after = incidents.length > 0 ? { incident: incidents[incidents.length - 1]!, count: incidents.length } : undefined;
      const remaining = left();
      const byBudget = remaining < options.timeoutMs;
      const wasDead = !sandbox.alive;
      const notes = collector.truncated().length;
      const t = Date.now();
      requests.set(sandbox.nextRequestId, index);
      const outcome: CellOutcome = await sandbox.execute(sourceText(cell), { timeoutMs: Math.max(1, Math.min(options.timeoutMs, remaining)), locked: isLocked(cell), test: isTestCell(cell) });
      const durationMs = Date.now() - t;
      previous = index;
      let status: CellStatus;
      if (outcome.status === "ok" || outcome.status === "error") {
        counts.set(index, outcome.executionCount);
        if (outcome.status === "error" && !collector.firstError(index)) {
          // The kernel says it raised, but its error output never arrived (the kernel's own output cap dropped it).
          collector.addError(index, "Error", "the cell raised an error, but its message was lost: the cell's output had passed the output cap before it");
        }
        // An error shown in the cell (say, from a timer it started) fails it even if the code itself returned.
        status = outcome.status === "ok" && !collector.firstError(index) ? "ok" : "error";
        if (outcome.status === "ok") succeeded.push(index);
      } else if (outcome.status === "timeout" && byBudget) {
        status = "timeout";
        budgetOut = `${budgetText} while ${label(index)} was running`;
        collector.addError(index, "CellTimeoutError", `${budgetText} while this cell was running, and it was stopped; the cells after it were not run.`);
        incidents.push({ index, name, kind: "budget", what: `was running when ${budgetText}` });
      } else if (outcome.status === "timeout") {
        status = "timeout";
        collector.addError(
          index,
          "CellTimeoutError",
          `the cell was still running after ${seconds(options.timeoutMs)} s and was stopped; an endless loop, a wait that never ends, ` +
            `or a timer an earlier cell left running that keeps the kernel busy? ` +
            `The kernel was restarted and the cells that succeeded before were re-run.`,
        );
        incidents.push({ index, name, kind: "timeout", what: `timed out after ${seconds(options.timeoutMs)} s` });
      } else {
        status = "crashed";
        const message = wasDead
          ? `the kernel had stopped before this cell started (${outcome.reason}); it was restarted and the cells that succeeded before were re-run.`
          : `${outcome.reason} while running this cell; the kernel was restarted and the cells that succeeded before were re-run.`;
        collector.addError(index, "DeadKernelError", message);
        incidents.push({ index, name, kind: "crashed", what: wasDead ? `found the kernel stopped (${outcome.reason})` : `stopped the kernel: ${outcome.reason}` });
      }
      if (status !== "ok") firstUnsucceeded = Math.min(firstUnsucceeded, index);
      const err = collector.firstError(index);
      runs.push({
        index,
        name,
        status,
        durationMs,
        ...(err && status !== "ok" ? { error: { ename: err.ename, evalue: err.evalue } } : {}),
        ...(after ? { after } : {}),
      });
      progress(`${line} ${describe(status, err?.ename, outcome, byBudget)} (${durationMs} ms)`);
      for (const n of collector.truncated().slice(notes)) progress(`        ${label(n.cell)}: ${n.message}`);
      options.onCell?.(runs, incidents);
      if (status === "timeout" || status === "crashed") {
        retire(sandbox);
        sandbox = null;
        if (budgetOut === undefined) restart_ = { why: status === "timeout" ? "time limit" : "crash", during: `after ${label(index)} ${status === "timeout" ? "timed out" : "stopped it"}` };
      }
    }
  } finally {
    retire(sandbox);
  }

  for (const [i, cell] of nb.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = collector.forDisk(i);
    cell.execution_count = counts.get(i) ?? null;
  }
  const truncated = collector.truncated().map((n) => ({ index: n.cell, name: cellName(nb.cells[n.cell]!, n.cell), message: n.message }));
  return {
    notebook: nb,
    cells: runs,
    restarts,
    ...(startupError ? { startupError } : {}),
    ...(budgetOut !== undefined ? { budgetExhausted: budgetOut } : {}),
    incidents,
    truncated,
    warnings,
    durationMs: Date.now() - t0,
  };
}

/** Why a sandbox found dead is dead (`execute` on a dead sandbox answers at once with the reason). */
async function deadReason(sb: Sandbox): Promise<string> {
  const o = await sb.execute("", { timeoutMs: 1, silent: true });
  return o.status === "crashed" ? o.reason : "it stopped";
}

/** Seconds for messages: 30, 0.5. */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function describe(status: CellStatus, ename: string | undefined, outcome: CellOutcome, byBudget: boolean): string {
  if (outcome.status === "crashed") return `kernel died: ${outcome.reason}`;
  switch (status) {
    case "ok":
      return "ok";
    case "error":
      return `error: ${ename ?? "Error"}`;
    case "timeout":
      return byBudget ? "stopped: the time budget ran out" : "timed out";
    default:
      return status;
  }
}
