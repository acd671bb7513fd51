/**
 * `import` in cells: resolved from the notebook's directory, loaded by Node's own ESM loader.
 *
 * Cells are scripts, not modules, so the cell transform turns `import ... from "x"` into
 * `await __otp.import("x")`. Here "x" is resolved the way Node resolves it for a module living in the notebook's
 * directory (built-ins; relative paths; packages through `node_modules` and their `exports` with the
 * `node`/`import`/`default` conditions, else `main`) and the file URL is handed to `import()`. Loading through
 * `import()` is what makes ESM-only packages work (a `require`-based kernel cannot load them); CommonJS
 * packages come through Node's CommonJS interop, with `named()` filling names Node's static analysis missed.
 *
 * Local TypeScript files (`./helper.ts`, or `./helper.js` when only `helper.ts` exists) are compiled on load by
 * loader hooks, registered the first time one is imported (so that kernels that never need them do not pay
 * for the hooks thread).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire, isBuiltin, register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const CONDITIONS = ["node", "import", "module-sync", "default"];
const TS_EXT = /\.(ts|mts|cts)$/;

export class ModuleImporter {
  readonly require: NodeJS.Require;
  readonly meta: { url: string; filename: string; dirname: string; resolve(spec: string): string };

  constructor(readonly cwd: string) {
    const anchor = path.join(cwd, "__otp_lab_cell__.js");
    this.require = createRequire(anchor);
    this.meta = {
      url: pathToFileURL(anchor).href,
      filename: anchor,
      dirname: cwd,
      resolve: (spec: string) => this.resolve(spec),
    };
  }

  import = (specifier: unknown, options?: ImportCallOptions): Promise<unknown> => {
    const spec = String(specifier);
    let url: string;
    try {
      url = this.resolve(spec);
    } catch (err) {
      return Promise.reject(err);
    }
    if (url.startsWith("file:") && TS_EXT.test(url)) ensureTsHooks();
    return import(url, options);
  };

  /** A proxy over a module namespace that falls back to `default`'s properties (CommonJS named imports). */
  named = (ns: unknown): unknown => {
    if (!ns || typeof ns !== "object") return ns;
    const d = (ns as { default?: unknown }).default;
    if (!d || (typeof d !== "object" && typeof d !== "function")) return ns;
    return new Proxy(ns as object, {
      get: (target, key) => (key in target ? Reflect.get(target, key) : Reflect.get(d as object, key)),
    });
  };

  /** Resolves a specifier as if imported by a module in the notebook's directory. */
  resolve(spec: string): string {
    if (spec.startsWith("node:") || isBuiltin(spec)) return spec;
    if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec; // file:, data:, ...
    if (spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === ".." || path.isAbsolute(spec)) {
      return pathToFileURL(resolveFile(path.resolve(this.cwd, spec), spec)).href;
    }
    return pathToFileURL(resolvePackage(this.cwd, spec)).href;
  }
}

/** A file path, trying the TypeScript source for a `.js` name and the usual extensions for a bare one. */
function resolveFile(file: string, spec: string): string {
  const candidates = [file];
  const m = /\.(m|c)?js$/.exec(file);
  if (m) candidates.push(file.slice(0, -m[0].length) + `.${m[1] ?? ""}ts`);
  if (!path.extname(file)) candidates.push(`${file}.ts`, `${file}.mts`, `${file}.js`, `${file}.mjs`, path.join(file, "index.ts"), path.join(file, "index.js"));
  for (const c of candidates) if (isFile(c)) return c;
  throw moduleNotFound(spec, `no file ${file}`);
}

function resolvePackage(cwd: string, spec: string): string {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  const subpath = "." + spec.slice(name.length);
  for (let dir = cwd; ; ) {
    const pkgDir = path.join(dir, "node_modules", name);
    const pkgJson = path.join(pkgDir, "package.json");
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as { exports?: unknown; main?: string };
      if (pkg.exports !== undefined && pkg.exports !== null) {
        const target = resolveExports(pkg.exports, subpath);
        if (target === null) throw moduleNotFound(spec, `'${subpath}' is not exported by ${name}/package.json`);
        return path.join(pkgDir, target);
      }
      if (subpath === ".") {
        const main = pkg.main ? path.join(pkgDir, pkg.main) : path.join(pkgDir, "index.js");
        return resolveFile(main, spec);
      }
      return resolveFile(path.join(pkgDir, subpath), spec);
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Not installed beside the notebook: let Node look from the kernel's own installation (e.g. typescript).
  try {
    return createRequire(import.meta.url).resolve(spec);
  } catch {
    throw moduleNotFound(spec, `install it next to the notebook with 'npm install ${name}'`);
  }
}

/** Node's PACKAGE_EXPORTS_RESOLVE for one subpath; null when not exported. */
function resolveExports(exports: unknown, subpath: string): string | null {
  const isConditions = (o: unknown) => !!o && typeof o === "object" && !Array.isArray(o) && Object.keys(o).every((k) => !k.startsWith("."));
  let map: Record<string, unknown>;
  if (typeof exports === "string" || Array.isArray(exports) || isConditions(exports)) map = { ".": exports };
  else map = exports as Record<string, unknown>;
  if (subpath in map && !subpath.includes("*")) return resolveTarget(map[subpath], "");
  let best: { key: string; match: string } | null = null;
  for (const key of Object.keys(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const before = key.slice(0, star);
    const after = key.slice(star + 1);
    if (subpath.startsWith(before) && subpath.endsWith(after) && subpath.length >= key.length - 1) {
      if (!best || key.length > best.key.length) best = { key, match: subpath.slice(before.length, subpath.length - after.length) };
    }
  }
  return best ? resolveTarget(map[best.key], best.match) : null;
}

function resolveTarget(target: unknown, match: string): string | null {
  if (typeof target === "string") return target.replace(/\*/g, match);
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = resolveTarget(t, match);
      if (r !== null) return r;
    }
    return null;
  }
  if (target && typeof target === "object") {
    for (const [cond, t] of Object.entries(target)) {
      if (CONDITIONS.includes(cond)) {
        const r = resolveTarget(t, match);
        if (r !== null) return r;
      }
    }
  }
  return null;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function moduleNotFound(spec: string, why: string): Error {
  const err = new Error(`Cannot find module '${spec}': ${why}`) as Error & { code: string };
  err.code = "ERR_MODULE_NOT_FOUND";
  return err;
}

let hooksRegistered = false;
function ensureTsHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  // Stack traces from local .ts files then point at their TypeScript lines (the hooks inline source maps).
  process.setSourceMapsEnabled(true);
  register(new URL("./ts-hooks.js", import.meta.url));
}
