/**
 * Shared by the grader tests: the built CLI (`dist/`, as users run it), fixture notebooks, and edited copies.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/kernel/cli.js");
export const FIXTURES = path.join(ROOT, "test/grader");
export const SOURCE = path.join(FIXTURES, "exercises.source.ipynb");

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, "dist/kernel/grader/grade-command.js"))) {
    throw new Error("dist/ has no grader: build first with `npx tsc -p .`");
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `otp-lab ARGS` from dist/ (asynchronously, so vitest's timeouts still work). */
export function otpLab(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function tempDir(prefix = "otp-lab-grader-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type Nb = {
  cells: { cell_type: string; id?: string; source: string | string[]; metadata: Record<string, any>; outputs?: any[]; execution_count?: number | null }[];
  metadata: Record<string, any>;
  nbformat: number;
  nbformat_minor: number;
};

export function readNb(file: string): Nb {
  return JSON.parse(readFileSync(file, "utf8")) as Nb;
}

export function writeNb(file: string, nb: Nb): string {
  writeFileSync(file, JSON.stringify(nb, null, 1));
  return file;
}

export const text = (s: string | string[]) => (Array.isArray(s) ? s.join("") : s);

export function gradeIdOf(c: Nb["cells"][number]): string | undefined {
  return c.metadata?.nbgrader?.grade_id;
}

export function cellById(nb: Nb, gradeId: string) {
  const c = nb.cells.find((x) => gradeIdOf(x) === gradeId);
  if (!c) throw new Error(`no cell ${gradeId}`);
  return c;
}

/** The student version of the fixture, made by the real `otp-lab assign`. */
export async function studentVersion(dir: string, source = SOURCE): Promise<string> {
  const out = path.join(dir, "student.ipynb");
  const r = await otpLab(["assign", source, out]);
  if (r.code !== 0) throw new Error(`assign failed: ${r.stderr}`);
  return out;
}

/** A copy of `base` with the given cells' sources replaced (by grade_id) and extra edits applied. */
export function submission(base: string, file: string, sources: Record<string, string>, edit?: (nb: Nb) => void): string {
  const nb = readNb(base);
  for (const [id, src] of Object.entries(sources)) cellById(nb, id).source = src;
  edit?.(nb);
  return writeNb(file, nb);
}

export function codeCell(source: string, nbgrader?: Record<string, unknown>): Nb["cells"][number] {
  return { cell_type: "code", execution_count: null, metadata: nbgrader ? { nbgrader } : {}, outputs: [], source };
}

/** Checks a notebook against the nbformat schema with Debian's nbformat; returns the error text or "". */
export function nbformatErrors(file: string): string {
  const r = spawnSync("/usr/bin/python3", ["-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", file], {
    encoding: "utf8",
  });
  if (r.error) throw r.error;
  return r.status === 0 ? "" : r.stderr || `exit ${r.status}`;
}

/** Parses XML with Python's expat; returns the error text or "". */
export function xmlErrors(file: string): string {
  const r = spawnSync("/usr/bin/python3", ["-c", "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])", file], { encoding: "utf8" });
  if (r.error) throw r.error;
  return r.status === 0 ? "" : r.stderr || `exit ${r.status}`;
}

/** Every progress line `[i/n] cell NAME ... STATUS (N ms)` on stderr, as [name, status]. */
export function progressLines(stderr: string): [string, string][] {
  return [...stderr.matchAll(/^\[(\d+)\/(\d+)\] cell (\S+) \.\.\. (.+?)(?: \(\d+ ms\))?$/gm)].map((m) => [m[3]!, m[4]!]);
}
