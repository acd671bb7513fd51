/**
 * Shared by the kernel's end-to-end tests: build `dist/` once, install the kernelspec into a temporary prefix
 * (never the real home), and run Debian's Python drivers against it.
 */
import { afterAll, beforeAll } from "vitest";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const KERNEL_TEST_DIR = path.join(ROOT, "test", "kernel");
export const PYTHON = "/usr/bin/python3";

function newestSource(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `tsc -p .` unless dist is newer than every source. Test files run in parallel, so the build is
 * serialized with a lock directory; errors in other folders (being written concurrently) do not stop the
 * kernel's tests, errors in `kernel/*.ts` do.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = path.join(tmpdir(), `otp-lab-build-${createHash("sha1").update(ROOT).digest("hex").slice(0, 10)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone already
      }
      await sleep(200);
    }
  }
  try {
    const sources = Math.max(...["kernel", "runtime", "widgets", "client"].map((d) => newestSource(path.join(ROOT, d))));
    // tsc rewrites every output, so a build is current when its oldest key output is newer than every source
    // (whoever ran it: this helper, `npm run build` or CI).
    const outputs = ["kernel/cli.js", "kernel/executor.js", "runtime/index.js", "widgets/index.js"].map((f) => path.join(ROOT, "dist", f));
    if (outputs.every((f) => existsSync(f) && statSync(f).mtimeMs > sources)) return;
    const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
      cwd: ROOT,
      encoding: "utf8",
    });
    const kernelErrors = (r.stdout + r.stderr).split("\n").filter((l) => /^kernel\/[^/]+\.ts\(/.test(l));
    if (kernelErrors.length) throw new Error(`tsc reports errors in kernel/:\n${kernelErrors.join("\n")}`);
    if (!existsSync(path.join(ROOT, "dist", "kernel", "cli.js"))) throw new Error(`tsc produced no dist/kernel/cli.js:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface JupyterEnv {
  prefix: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/**
 * Installs the kernelspec with `otp-lab install --prefix TMP` and returns an environment in which Jupyter
 * finds it and writes nothing to the real home (runtime, data and config dirs are temporary).
 */
export function jupyterEnv(): JupyterEnv {
  const prefix = mkdtempSync(path.join(tmpdir(), "otp-lab-jupyter-"));
  execFileSync(process.execPath, [path.join(ROOT, "dist", "kernel", "cli.js"), "install", "--prefix", prefix], { encoding: "utf8" });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
    JUPYTER_DATA_DIR: path.join(prefix, "data"),
    JUPYTER_RUNTIME_DIR: path.join(prefix, "runtime"),
    JUPYTER_CONFIG_DIR: path.join(prefix, "config"),
    JUPYTER_PLATFORM_DIRS: "1",
    IPYTHONDIR: path.join(prefix, "ipython"),
    // The kernel keeps a code cache for TypeScript there (kernel/ts-load.ts).
    XDG_CACHE_HOME: path.join(prefix, "cache"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    PYTHONWARNINGS: "ignore",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  return { prefix, env, cleanup: () => rmSync(prefix, { recursive: true, force: true }) };
}

/**
 * For a test file that talks to the kernel through Jupyter: builds `dist/` and installs the kernelspec before
 * its tests, removes it after. Use the returned object's `env` (and `prefix`) inside tests.
 */
export function useJupyterEnv(): { readonly env: NodeJS.ProcessEnv; readonly prefix: string } {
  let current: JupyterEnv | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    current = jupyterEnv();
  }, 300_000);
  afterAll(() => current?.cleanup());
  const get = (): JupyterEnv => {
    if (!current) throw new Error("the Jupyter environment is not ready: useJupyterEnv() must be called at the top of the test file");
    return current;
  };
  return {
    get env() {
      return get().env;
    },
    get prefix() {
      return get().prefix;
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: options.env, cwd: options.cwd ?? KERNEL_TEST_DIR, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20, encoding: "utf8" },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Executes `input` with Debian's `jupyter nbconvert --execute --to notebook` on the otp-lab kernel. */
export function nbconvertExecute(
  input: string,
  output: string,
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutSec?: number },
): Promise<RunResult> {
  const timeoutSec = options.timeoutSec ?? 240;
  const args = ["nbconvert", "--execute", "--to", "notebook", `--ExecutePreprocessor.timeout=${timeoutSec}`, "--ExecutePreprocessor.kernel_name=otp-lab", "--output", output, input];
  return run("/usr/bin/jupyter", args, { env: options.env, cwd: options.cwd, timeoutMs: (timeoutSec + 40) * 1000 });
}

/** Runs `driver.py SCENARIO` and returns the JSON object it prints last. */
export async function scenario<T = Record<string, unknown>>(env: NodeJS.ProcessEnv, name: string, timeoutMs = 120_000): Promise<T> {
  const r = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "driver.py"), name], { env, timeoutMs });
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.code !== 0 || !line) {
    throw new Error(`driver.py ${name} failed (exit ${r.code}):\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return JSON.parse(line) as T;
}

/** Strips ANSI colour codes from tracebacks. */
export function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
