/**
 * `otp-lab assign SRC.ipynb OUT.ipynb`: writes the student version of a source notebook (see `assign.ts`).
 * `otp-lab assign SOURCE_DIR RELEASE_DIR`: the same for every notebook under the folder (recursively; dot
 * folders such as `.ipynb_checkpoints` skipped), at the same relative path under RELEASE_DIR. Only notebooks
 * are written: other files of a source folder may hold solutions (the lessons' `tools/` do), so copying them is
 * left to the course staff. Every source is checked before anything is written: one bad notebook writes none.
 * Exit codes: 0 written, 2 bad input (unreadable or malformed notebook, another kernel, unbalanced markers).
 */
import { statSync } from "node:fs";
import path from "node:path";
import { parse, wantsHelp, withExitCodes } from "./args.js";
import { studentVersion, type AssignReport } from "./assign.js";
import { BadInput, findNotebooks, readNotebook, writeNotebook, type Notebook } from "./notebook.js";

const USAGE = "usage: otp-lab assign SRC.ipynb OUT.ipynb\n       otp-lab assign SOURCE_DIR RELEASE_DIR";

export function main(argv: string[]): Promise<number> {
  return withExitCodes("assign", async () => {
    if (wantsHelp(argv)) {
      process.stdout.write(`${USAGE}\n\nWrites the student version of a source notebook (solutions stubbed, hidden tests removed, outputs cleared),\nor of every notebook under a folder, keeping their relative paths.\n`);
      return 0;
    }
    const { positionals } = parse(argv, {}, USAGE);
    if (positionals.length !== 2) throw new BadInput(`expected a source notebook and an output file, or a source folder and a release folder\n${USAGE}`);
    const [src, out] = positionals as [string, string];
    if (path.resolve(src) === path.resolve(out)) throw new BadInput(`refusing to overwrite the source ${src} with the student version; pick another OUT`);
    if (isDirectory(src)) return assignFolder(src, out);
    const { notebook, report } = studentVersion(readNotebook(src, "source notebook"), src);
    for (const w of report.warnings) process.stderr.write(`otp-lab assign: warning: ${w}\n`);
    writeNotebook(out, notebook);
    process.stderr.write(`otp-lab assign: wrote ${out} (${describe(report)})\n`);
    return 0;
  });
}

function assignFolder(src: string, out: string): number {
  const relOut = path.relative(path.resolve(src), path.resolve(out));
  if (relOut === "" || (!relOut.startsWith("..") && !path.isAbsolute(relOut))) {
    throw new BadInput(`the release folder ${out} is inside the source folder ${src}; the next assign would take the student versions for sources. Pick a folder outside it`);
  }
  if (isFile(out)) throw new BadInput(`${out} is a file; give a folder for the student versions of the folder ${src}`);
  const files = findNotebooks(src);
  if (!files.length) throw new BadInput(`the source folder ${src} holds no .ipynb file`);
  // Everything is checked before anything is written.
  const done: { rel: string; notebook: Notebook; report: AssignReport }[] = [];
  const problems: string[] = [];
  for (const rel of files) {
    const file = path.join(src, rel);
    try {
      done.push({ rel, ...studentVersion(readNotebook(file, "source notebook"), file) });
    } catch (err) {
      if (!(err instanceof BadInput)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) {
    throw new BadInput(`${problems.length} of the ${files.length} notebooks in ${src} cannot be assigned; nothing was written:\n  ${problems.join("\n  ")}`);
  }
  for (const { rel, notebook, report } of done) {
    for (const w of report.warnings) process.stderr.write(`otp-lab assign: warning: ${rel}: ${w}\n`);
    writeNotebook(path.join(out, rel), notebook);
    process.stderr.write(`otp-lab assign: wrote ${path.join(out, rel)} (${describe(report)})\n`);
  }
  const solutions = done.reduce((a, d) => a + d.report.solutions, 0);
  const hidden = done.reduce((a, d) => a + d.report.hiddenBlocks, 0);
  process.stderr.write(`otp-lab assign: ${done.length} student notebook${done.length === 1 ? "" : "s"} in ${out} (${describe({ solutions, hiddenBlocks: hidden, warnings: [] })})\n`);
  return 0;
}

function describe(r: AssignReport): string {
  return `${r.solutions} solution block${r.solutions === 1 ? "" : "s"} stubbed, ${r.hiddenBlocks} hidden test block${r.hiddenBlocks === 1 ? "" : "s"} removed`;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
