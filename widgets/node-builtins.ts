/**
 * Node's built-in modules, reached at run time (`process.getBuiltinModule`, Node 20.16+) instead of through static
 * `import ... from "node:..."`: the widgets' modules then load unchanged in a browser or a Web Worker (the static
 * site's kernel), where these return null and the widgets leave out what needs Node (`backends.ts`).
 */
import type * as NodeFs from "node:fs";
import type * as NodeModule from "node:module";
import type * as NodeWorkerThreads from "node:worker_threads";

interface Builtins {
  "node:fs": typeof NodeFs;
  "node:module": typeof NodeModule;
  "node:worker_threads": typeof NodeWorkerThreads;
}

/** The built-in module `id`, or null outside Node. */
export function nodeBuiltin<K extends keyof Builtins>(id: K): Builtins[K] | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== "function") return null;
  return (proc.getBuiltinModule(id) as Builtins[K] | undefined) ?? null;
}

/** `nodeBuiltin`, for code that runs only in Node: throws with the fix elsewhere. */
export function requireNodeBuiltin<K extends keyof Builtins>(id: K, what: string): Builtins[K] {
  const m = nodeBuiltin(id);
  if (!m) {
    throw new Error(
      `${what} needs Node.js 20.16 or later (${id} through process.getBuiltinModule); outside Node, ` +
        "pass your own renderer to setRenderBackends() from otp-lab/widgets/backends",
    );
  }
  return m;
}
