/**
 * `otp-lab assign SRC.ipynb OUT.ipynb`: writes the student version of a source notebook (see `assign.ts`).
 * Exit codes: 0 written, 2 bad input (unreadable or malformed notebook, another kernel, unbalanced markers).
 */
import path from "node:path";
import { parse, withExitCodes } from "./args.js";
import { studentVersion } from "./assign.js";
import { BadInput, readNotebook, writeNotebook } from "./notebook.js";

const USAGE = "usage: otp-lab assign SRC.ipynb OUT.ipynb";

export function main(argv: string[]): Promise<number> {
  return withExitCodes("assign", async () => {
    const { positionals } = parse(argv, {}, USAGE);
    if (positionals.length !== 2) throw new BadInput(`expected a source notebook and an output file\n${USAGE}`);
    const [src, out] = positionals as [string, string];
    if (path.resolve(src) === path.resolve(out)) throw new BadInput(`refusing to overwrite the source ${src} with the student version; pick another OUT`);
    const { notebook, report } = studentVersion(readNotebook(src, "source notebook"), src);
    for (const w of report.warnings) process.stderr.write(`otp-lab assign: warning: ${w}\n`);
    writeNotebook(out, notebook);
    process.stderr.write(
      `otp-lab assign: wrote ${out} (${report.solutions} solution block${report.solutions === 1 ? "" : "s"} stubbed, ` +
        `${report.hiddenBlocks} hidden test block${report.hiddenBlocks === 1 ? "" : "s"} removed)\n`,
    );
    return 0;
  });
}
