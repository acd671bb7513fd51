/**
 * `otp-lab run NOTEBOOK.ipynb [--out FILE] [--timeout SEC] [--memory MB]`: executes a notebook headless on a
 * fresh, sandboxed kernel (working directory: the notebook's folder) and writes it with its outputs, to
 * `--out` or in place. Exit codes: 0 no cell errored, 1 some cell errored (or the kernel could not start),
 * 2 bad input.
 */
import path from "node:path";
import { parse, positiveInt, seconds, withExitCodes } from "./args.js";
import { executeNotebook } from "./execute-notebook.js";
import { BadInput, readNotebook, writeNotebook } from "./notebook.js";
import { DEFAULT_MEMORY_MB } from "./sandbox.js";

const USAGE = "usage: otp-lab run NOTEBOOK.ipynb [--out FILE] [--timeout SEC] [--memory MB]";
export const DEFAULT_TIMEOUT_S = 30;

export function main(argv: string[]): Promise<number> {
  return withExitCodes("run", async () => {
    const { values, positionals } = parse(argv, { out: { type: "string", short: "o" }, timeout: { type: "string" }, memory: { type: "string" } }, USAGE);
    if (positionals.length !== 1) throw new BadInput(`expected one notebook\n${USAGE}`);
    const file = positionals[0]!;
    const timeoutMs = seconds(values.timeout, "--timeout", DEFAULT_TIMEOUT_S, USAGE);
    const memoryMb = positiveInt(values.memory, "--memory", DEFAULT_MEMORY_MB, USAGE);
    const nb = readNotebook(file);
    const progress = (line: string) => process.stderr.write(line + "\n");
    const run = await executeNotebook(nb, { cwd: path.dirname(path.resolve(file)), timeoutMs, memoryMb, progress });
    const out = values.out ?? file;
    writeNotebook(out, run.notebook);
    const failed = run.cells.filter((c) => c.status !== "ok");
    progress(
      `otp-lab run: ${run.cells.length} cells in ${(run.durationMs / 1000).toFixed(1)} s, ` +
        (failed.length ? `${failed.length} with errors (${failed.map((c) => c.name).join(", ")})` : "no errors") +
        `; wrote ${out}`,
    );
    return failed.length || run.startupError ? 1 : 0;
  });
}
