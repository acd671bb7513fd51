/**
 * The TypeScript thread: compiles cells, type-checks them, answers completion, hover and is_complete.
 *
 * TypeScript is large (loading it takes a third of a second, its language service a second more), so it lives
 * on its own thread: the kernel answers `kernel_info` without waiting for it, and the main thread, which runs
 * user code, never blocks on it (an interrupt can stop a cell that waits for a slow check).
 *
 * Requests are handled one at a time, in order. See `ts-client.ts` for the message shapes. The kernel also runs
 * this file without type checking (`typecheck: false`), as a light thread that compiles the first cell while the
 * checker warms up (ts-client.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import type * as TS from "typescript";
import { compileCell, type CellScript, type CompileError } from "./transform.js";
import { CellLanguageService, type Dependencies, type PreloadModule } from "./language-service.js";
import { isComplete } from "./is-complete.js";
import { log } from "./log.js";
import { loadTypeScript, saveTypeScriptCache } from "./ts-load.js";
import type { TsRequest, TsResponse } from "./ts-client.js";

interface ThreadData {
  cwd: string;
  typecheck: boolean;
}

const data = workerData as ThreadData;
let ts: typeof TS;
let service: CellLanguageService | null = null;
let preload: PreloadModule[] | null = null;
const queue: TsRequest[] = [];
let busy = false;

/** The language service, created on first use, with every cell executed so far committed. */
function languageService(): CellLanguageService {
  if (!service) {
    service = new CellLanguageService(ts, data.cwd);
    service.warmUp();
    log("language service: libraries loaded");
    if (preload) service.setPreload(preload);
    log("language service: preloaded modules loaded");
  }
  for (const code of pendingCommits.splice(0)) service.commit(code);
  return service;
}

function handle(req: TsRequest): unknown {
  switch (req.op) {
    case "preload":
      preload = req.modules;
      if (service) service.setPreload(req.modules);
      return null;
    case "restore":
      pendingCommits.push(...req.cells);
      return null;
    case "commit":
      commit(req.code);
      return null;
    case "prepare": {
      const compiled = compile(req.code, req.expression === true);
      // A syntax error, like the compiled script, depends on the text alone.
      if (!compiled.ok) return { ok: false, kind: "syntax", errors: compiled.errors, deps: TEXT_ONLY } satisfies PrepareResult;
      let deps = TEXT_ONLY;
      if (req.typecheck) {
        const t0 = performance.now();
        let errors: CompileError[] = [];
        try {
          const ls = languageService();
          deps = ls.dependencies(req.code);
          errors = ls.check(req.code);
          checked = true;
        } catch (err) {
          // A crash inside the type checker must not stop the learner's code from running (nor be reused).
          log("type check failed", err);
          deps = { uses: null, declares: deps.declares };
        }
        log(`checked in ${(performance.now() - t0).toFixed(1)} ms`);
        if (errors.length > 0) {
          // A cell checked after it ran (the first cell, see ts-client.ts): its declarations exist all the same.
          if (req.ran && req.commit) commit(req.code);
          return { ok: false, kind: "type", errors, deps } satisfies PrepareResult;
        }
      }
      if (req.commit) commit(req.code);
      return { ok: true, script: compiled.script, deps } satisfies PrepareResult;
    }
    case "complete":
      return languageService().completions(req.code, req.cursor);
    case "inspect":
      return languageService().quickInfo(req.code, req.cursor, req.detail);
    case "isComplete":
      return isComplete(ts, req.code);
  }
}

/**
 * A cell with the common constructs (declarations, generics, closures, a class, an await) to warm the compiler and
 * the type checker with. Its results are thrown away: no cache ever holds them.
 */
const WARM_UP_CELL = `const xs: number[] = [1, 2, 3].map((n) => n * 2);
class Box<T> { constructor(readonly value: T) {} }
const box = new Box({ name: "x", size: xs.length });
async function later(ms: number): Promise<string> { return \`\${ms}\`; }
const text = await later(box.value.size);
({ text, total: xs.reduce((a, b) => a + b, 0) })`;

/** Whether a cell has been type-checked (the warm-up then has nothing left to do). */
let checked = false;

/** Compiled cells by source: running a cell again does not compile it again. */
const compiled = new Map<string, ReturnType<typeof compileCell>>();
function compile(code: string, expression: boolean): ReturnType<typeof compileCell> {
  const key = (expression ? "e" : "c") + code;
  let r = compiled.get(key);
  if (!r) {
    // The file name only appears in the source map's "sources", which the kernel does not use.
    r = compileCell(ts, code, { fileName: "cell.ts", expression });
    if (compiled.size >= 500) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, r);
  }
  return r;
}

/** Executed cells not yet given to the language service (it is created lazily, or was restarted). */
const pendingCommits: string[] = [];

function commit(code: string): void {
  pendingCommits.push(code);
  // Without type checking the language service may not exist yet; completion will catch up.
  if (service) languageService();
}

/**
 * A result that depends on the cell's text alone: a syntax error, or any cell when type checking is off. (Its
 * declarations then matter to no result, so they are not listed.)
 */
const TEXT_ONLY: Dependencies = { uses: [], declares: [] };

/**
 * `deps`: what the result depends on besides the text (see `CellLanguageService.dependencies`). `late`: set on the
 * main thread (never sent) for a cell compiled before the type checker was ready, which runs before its check:
 * the check's errors (see ts-client.ts).
 */
export type PrepareResult =
  | { ok: true; script: CellScript; deps: Dependencies; late?: Promise<CompileError[]> }
  | { ok: false; kind: "syntax" | "type"; errors: CompileError[]; deps: Dependencies };

function pump(): void {
  if (busy) return;
  busy = true;
  try {
    while (queue.length > 0) {
      const req = queue.shift()!;
      let res: TsResponse;
      try {
        res = { id: req.id, ok: true, value: handle(req) };
      } catch (err) {
        res = { id: req.id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err) };
      }
      // Id 0: a notification (a commit), nobody waits for the answer.
      if (req.id !== 0) parentPort!.postMessage(res);
      else if (!res.ok) log(`${req.op} failed`, res.error);
    }
  } finally {
    busy = false;
  }
}

parentPort!.on("message", (req: TsRequest) => {
  queue.push(req);
  if (ts) pump();
});

// With a V8 code cache where there is one (ts-load.ts).
ts = loadTypeScript();
pump();
// Warm up while the learner reads the first cell (requests that arrive meanwhile wait): the compiler's first run
// and the language service (libraries, preloaded modules, a first check) would otherwise all fall on it.
// Only what no cell has done yet: when the first cells came before the warm-up (they were waiting for TypeScript),
// the next cell must not wait for a warm-up that is no longer needed.
setImmediate(() => {
  try {
    if (compiled.size === 0) compileCell(ts, WARM_UP_CELL, { fileName: "cell.ts" });
    log("compiler warm");
    pump();
    if (!data.typecheck) {
      parentPort!.postMessage({ id: 0, event: "warm" } satisfies TsResponse);
      saveTypeScriptCache();
      return;
    }
    if (!checked) languageService().warmCheck(WARM_UP_CELL);
    log("type checker warm");
  } catch (err) {
    // Only a warm-up: the cells themselves report what goes wrong.
    log("warm-up failed", err);
  }
  pump();
  // The client may now stop sending the first cell to the compile-only thread (ts-client.ts).
  parentPort!.postMessage({ id: 0, event: "warm" } satisfies TsResponse);
  saveTypeScriptCache();
});
