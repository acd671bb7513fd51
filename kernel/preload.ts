/**
 * The notebook's preloaded scope: every export of the runtime, of the widgets and of the kernel's cell API
 * becomes a global, so lessons need no setup cell.
 *
 * Modules are treated as namespaces and copied generically: the kernel does not depend on their exact surface.
 * A module that fails to load is skipped with its error in the banner, never a crash. A name that would hide a
 * JavaScript or Node global (say a runtime export called `Map`) is skipped too, and listed.
 *
 * One runtime per kernel: when the runtime module offers `Runtime` and `setRuntime`, a runtime with the
 * virtual clock, automatic driving and the kernel's interrupt guard is installed as the default one. When it
 * offers a `Logger`, its crash and supervisor reports are shown in the running cell's output (`reports.ts`).
 */
import { fileURLToPath } from "node:url";
import { setDisplaySink, type DisplaySink } from "../widgets/display-sink.js";
import { output } from "./output.js";
// Static imports (not loaded on demand): the browser kernel's bundle must contain them (kernel/browser/worker.ts).
import { installReports, type LoggerLike } from "./reports.js";

export interface PreloadedModule {
  label: string;
  /** Absolute path of the module file (its `.d.ts` sits beside it). */
  path: string;
  loaded: boolean;
  error?: string;
  /** Value exports made global. */
  values: string[];
  /** Exports not made global because a global of that name exists. */
  skipped: string[];
  namespace?: Record<string, unknown>;
}

export interface PreloadResult {
  modules: PreloadedModule[];
  /** `settle()` of the kernel's runtime, or null when the runtime does not offer it. */
  settle: (() => unknown) | null;
  notes: string[];
}

export interface PreloadOptions {
  guard: (run: () => void) => void;
  /** Registers the runtime's repair after an interrupt (`InterruptController.onRecover`). */
  onRecover?: (recover: () => string | null | undefined) => void;
  /** Module URLs to load, in priority order (an earlier module's name wins). */
  modules?: { label: string; url: URL }[];
}

export const DEFAULT_MODULES = (): { label: string; url: URL }[] => [
  { label: "runtime", url: new URL("../runtime/index.js", import.meta.url) },
  { label: "widgets", url: new URL("../widgets/index.js", import.meta.url) },
  { label: "kernel", url: new URL("./cell-api.js", import.meta.url) },
];

/** Names that cells may shadow although they exist before preload (none of Node's). */
const existingGlobals = new Set(Object.getOwnPropertyNames(globalThis));

export async function preload(options: PreloadOptions): Promise<PreloadResult> {
  const specs = options.modules ?? DEFAULT_MODULES();
  const loaded = await Promise.all(
    specs.map(async (s) => {
      try {
        return { s, ns: (await import(/* webpackIgnore: true */ s.url.href)) as Record<string, unknown> };
      } catch (err) {
        return { s, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return installScope(
    loaded.map(({ s, ns, error }) => ({ label: s.label, path: fileURLToPath(s.url), ns, error })),
    options,
  );
}

/** A module as loaded (by Node's `import()`, or statically by the browser kernel's bundle): its namespace or why not. */
export interface LoadedModule {
  label: string;
  path: string;
  ns?: Record<string, unknown>;
  error?: string;
}

/**
 * Makes loaded modules the notebook's scope: their exports become globals, the runtime gets the kernel's
 * runtime (virtual clock, the interrupt guard), reports and live views go to the running cell. Shared by the
 * Node kernel (`preload`) and the browser kernel (`kernel/browser/worker.ts`), so both have the same scope.
 */
export async function installScope(loaded: LoadedModule[], options: Omit<PreloadOptions, "modules">): Promise<PreloadResult> {
  const notes: string[] = [];
  const modules: PreloadedModule[] = [];
  const taken = new Set<string>();
  for (const { label, path, ns, error } of loaded) {
    const m: PreloadedModule = { label, path, loaded: !!ns, values: [], skipped: [] };
    modules.push(m);
    if (!ns) {
      m.error = error;
      notes.push(`${label}: not loaded (${firstLine(error ?? "")}); its names are not in scope.`);
      continue;
    }
    m.namespace = ns;
    for (const [name, value] of Object.entries(ns)) {
      if (name === "default" || taken.has(name)) continue;
      if (existingGlobals.has(name)) {
        m.skipped.push(name);
        continue;
      }
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
      taken.add(name);
      m.values.push(name);
    }
    if (m.skipped.length) notes.push(`${label}: ${m.skipped.join(", ")} not made global (would hide a JavaScript global).`);
  }

  let settle: (() => unknown) | null = null;
  const rt = modules.find((m) => m.label === "runtime")?.namespace;
  if (rt) {
    try {
      const Runtime = rt.Runtime as (new (o: object) => { settle?: () => unknown }) | undefined;
      const setRuntime = rt.setRuntime as ((r: unknown) => unknown) | undefined;
      const getRuntime = rt.getRuntime as (() => { settle?: () => unknown } | null) | undefined;
      if (typeof Runtime === "function" && typeof setRuntime === "function") {
        setRuntime(new Runtime({ clock: "virtual", autoDrive: true, guard: options.guard }));
      } else {
        notes.push("runtime: no Runtime/setRuntime exports; the default runtime is left as the module creates it.");
      }
      const Active = Runtime as unknown as { active?: { recoverFromInterrupt?: () => { label?: string; toString(): string } | null } | null };
      options.onRecover?.(() => {
        // The runtime that was driving when the interrupt came (it stays "active": its clean-up did not run).
        const rt = Active.active ?? (typeof getRuntime === "function" ? getRuntime() : null);
        const killed = (rt as { recoverFromInterrupt?: () => { toString(): string } | null } | null)?.recoverFromInterrupt?.();
        return killed ? `the process ${String(killed)} was running and was killed (exit reason killed)` : null;
      });
      if (typeof getRuntime === "function") {
        // The runtime may be replaced by a lesson (resetRuntime), so look it up at every cell.
        settle = () => {
          const r = getRuntime();
          return typeof r?.settle === "function" ? r.settle() : undefined;
        };
      }
    } catch (err) {
      notes.push(`runtime: could not create the kernel's runtime (${firstLine(err instanceof Error ? err.message : String(err))}).`);
    }
  }

  // The runtime's crash and supervisor reports (Elixir's Logger) go to the running cell's output.
  const runtimeLogger = rt?.Logger as { addHandler?: unknown } | undefined;
  if (runtimeLogger && typeof runtimeLogger.addHandler === "function") {
    try {
      installReports(runtimeLogger as LoggerLike);
    } catch (err) {
      notes.push(`runtime: crash reports are not shown (${firstLine(err instanceof Error ? err.message : String(err))}).`);
    }
  }

  // Widgets' live views send their updates through the kernel.
  try {
    setDisplaySink({
      display(bundle, opts = {}) {
        const transient = opts.displayId ? { display_id: opts.displayId } : {};
        output.target?.display?.(bundle, opts.metadata ?? {}, transient, opts.update === true && !!opts.displayId);
      },
    });
  } catch (err) {
    notes.push(`widgets: no display sink (${firstLine(err instanceof Error ? err.message : String(err))}); live views will not update.`);
  }
  return { modules, settle, notes };
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.slice(0, 200);
}
