/**
 * `otp-lab run NOTEBOOK.ipynb [--out FILE] [--timeout SEC] [--budget SEC] [--memory MB] [output caps]`: executes
 * a notebook headless on a fresh, sandboxed kernel (working directory: the notebook's folder) and writes it
 * with its outputs, to `--out` or in place. Cells that time out or crash the kernel are handled as when grading
 * (`execute-notebook.ts`); `--budget` bounds the whole run (none by default: these are trusted notebooks);
 * outputs are capped as when grading. Exit codes: 0 no cell errored, 1 some cell errored or was not run (or the
 * kernel could not start), 2 bad input.
 */
import path from "node:path";
import { parse, positiveInt, positiveNumber, seconds, wantsHelp, withExitCodes, RUN_OPTIONS } from "./args.js";
import { executeNotebook } from "./execute-notebook.js";
import { BadInput, readNotebook, writeNotebook } from "./notebook.js";
import { DEFAULT_OUTPUT_LIMITS } from "./outputs.js";
import { DEFAULT_MEMORY_MB } from "./sandbox.js";

const USAGE =
  "usage: otp-lab run NOTEBOOK.ipynb [--out FILE] [--timeout SEC] [--budget SEC] [--memory MB] [--max-cell-output MB] [--max-notebook-output MB] " +
  "[--max-cell-outputs N] (--help for details)";
export const DEFAULT_TIMEOUT_S = 30;

const HELP = `${USAGE}

Executes a notebook headless on a fresh sandboxed kernel (working directory: the notebook's folder) and saves
it with its outputs.

  -o, --out FILE             where to save it (default: in place)
      --timeout SEC          time limit of one cell (default ${DEFAULT_TIMEOUT_S}); a cell past it is stopped, the kernel
                             restarted and the cells that succeeded re-run
      --budget SEC           wall-clock budget of the whole run (default: none); when it runs out the running
                             cell is stopped and the rest is not run
      --memory MB            memory of the kernel (default ${DEFAULT_MEMORY_MB})
      --max-cell-output MB   output kept per cell, of every kind (default ${DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000}); past it the rest is dropped
                             and a note says so
      --max-notebook-output MB  output kept over the notebook (default ${DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000})
      --max-cell-outputs N   outputs kept per cell (default ${DEFAULT_OUTPUT_LIMITS.cellOutputs})
  -h, --help                 this text

Exit codes: 0 no cell errored, 1 some cell errored or was not run, 2 bad input.
`;

export function main(argv: string[]): Promise<number> {
  return withExitCodes("run", async () => {
    if (wantsHelp(argv)) {
      process.stdout.write(HELP);
      return 0;
    }
    const { values, positionals } = parse(
      argv,
      {
        ...RUN_OPTIONS,
        out: { type: "string", short: "o" },
      },
      USAGE,
    );
    if (positionals.length !== 1) throw new BadInput(`expected one notebook\n${USAGE}`);
    const file = positionals[0]!;
    const timeoutMs = seconds(values.timeout, "--timeout", DEFAULT_TIMEOUT_S, USAGE);
    const budgetMs = values.budget === undefined ? undefined : seconds(values.budget, "--budget", 0, USAGE);
    const memoryMb = positiveInt(values.memory, "--memory", DEFAULT_MEMORY_MB, USAGE);
    const outputLimits = {
      cellChars: Math.round(positiveNumber(values["max-cell-output"], "--max-cell-output", DEFAULT_OUTPUT_LIMITS.cellChars / 1_000_000, "MB", USAGE) * 1_000_000),
      notebookChars: Math.round(positiveNumber(values["max-notebook-output"], "--max-notebook-output", DEFAULT_OUTPUT_LIMITS.notebookChars / 1_000_000, "MB", USAGE) * 1_000_000),
      cellOutputs: positiveInt(values["max-cell-outputs"], "--max-cell-outputs", DEFAULT_OUTPUT_LIMITS.cellOutputs, USAGE),
    };
    const nb = readNotebook(file);
    const progress = (line: string) => process.stderr.write(line + "\n");
    const run = await executeNotebook(nb, {
      cwd: path.dirname(path.resolve(file)),
      timeoutMs,
      memoryMb,
      ...(budgetMs !== undefined ? { budgetMs } : {}),
      outputLimits,
      progress,
    });
    const out = values.out ?? file;
    writeNotebook(out, run.notebook);
    const failed = run.cells.filter((c) => c.status !== "ok");
    progress(
      `otp-lab run: ${run.cells.length} cells in ${(run.durationMs / 1000).toFixed(1)} s, ` +
        (failed.length ? `${failed.length} with errors (${failed.map((c) => c.name).join(", ")})` : "no errors") +
        (run.budgetExhausted ? `; stopped: ${run.budgetExhausted}` : "") +
        `; wrote ${out}`,
    );
    return failed.length || run.startupError ? 1 : 0;
  });
}
