/**
 * Module loader hooks (registered with `module.register`) that let cells import local TypeScript files.
 *
 * `resolve`: a relative `./x.js` that does not exist but `./x.ts` does resolves to the `.ts` file (TypeScript's
 * own convention for ESM imports). `load`: `.ts`/`.mts` files are compiled with `transpileModule` (types
 * removed, nothing else changed) and loaded as ES modules; `.cts` as CommonJS. TypeScript is loaded on first use.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type * as TS from "typescript";

type Resolve = (specifier: string, context: { parentURL?: string; conditions?: string[] }) => Promise<{ url: string; format?: string | null }>;
type Load = (url: string, context: { format?: string | null }) => Promise<{ format: string; source?: string | Buffer | ArrayBuffer | null }>;

let ts: typeof TS | undefined;

export async function resolve(specifier: string, context: { parentURL?: string; conditions?: string[] }, next: Resolve) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL;
    if (parent && /^\.\.?\//.test(specifier) && /\.(m|c)?js$/.test(specifier)) {
      const url = new URL(specifier.replace(/\.(m|c)?js$/, (_m, k: string | undefined) => `.${k ?? ""}ts`), parent);
      if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
    }
    throw err;
  }
}

export async function load(url: string, context: { format?: string | null }, next: Load) {
  const m = /\.(m|c)?ts$/.exec(url.split("?")[0]!);
  if (!url.startsWith("file:") || !m) return next(url, context);
  ts ??= ((await import("typescript")) as unknown as { default: typeof TS }).default;
  const file = fileURLToPath(url);
  const source = await readFile(file, "utf8");
  const commonjs = m[1] === "c";
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: commonjs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
      inlineSourceMap: true,
      inlineSources: true,
      esModuleInterop: true,
      useDefineForClassFields: true,
    },
  });
  return { format: commonjs ? "commonjs" : "module", source: out.outputText, shortCircuit: true };
}
