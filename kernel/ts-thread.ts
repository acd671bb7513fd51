/**
 * The TypeScript thread: compiles cells, type-checks them, answers completion, hover and is_complete.
 *
 * TypeScript is large (loading it takes a third of a second, its language service a second more), so it lives
 * on its own thread: the kernel answers `kernel_info` without waiting for it, and the main thread, which runs
 * user code, never blocks on it (an interrupt can stop a cell that waits for a slow check).
 *
 * Requests are handled one at a time, in order. See `ts-client.ts` for the message shapes.
 */
import { parentPort, workerData } from "node:worker_threads";
import type * as TS from "typescript";
import { compileCell, type CellScript, type CompileError } from "./transform.js";
import { CellLanguageService, type PreloadModule } from "./language-service.js";
import { isComplete } from "./is-complete.js";
import { log } from "./log.js";
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
    if (preload) service.setPreload(preload);
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
    case "prepare": {
      const compiled = compile(req.code, req.expression === true);
      if (!compiled.ok) return { ok: false, kind: "syntax", errors: compiled.errors } satisfies PrepareResult;
      if (req.typecheck) {
        const t0 = performance.now();
        let errors: CompileError[] = [];
        try {
          errors = languageService().check(req.code);
        } catch (err) {
          // A crash inside the type checker must not stop the learner's code from running.
          log("type check failed", err);
        }
        log(`checked in ${(performance.now() - t0).toFixed(1)} ms`);
        if (errors.length > 0) return { ok: false, kind: "type", errors } satisfies PrepareResult;
      }
      // Without type checking the language service may not exist yet; completion will catch up.
      if (req.commit) pendingCommits.push(req.code);
      if (req.commit && service) languageService();
      return { ok: true, script: compiled.script } satisfies PrepareResult;
    }
    case "complete":
      return languageService().completions(req.code, req.cursor);
    case "inspect":
      return languageService().quickInfo(req.code, req.cursor, req.detail);
    case "isComplete":
      return isComplete(ts, req.code);
  }
}

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

export type PrepareResult =
  | { ok: true; script: CellScript }
  | { ok: false; kind: "syntax" | "type"; errors: CompileError[] };

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
      parentPort!.postMessage(res);
    }
  } finally {
    busy = false;
  }
}

parentPort!.on("message", (req: TsRequest) => {
  queue.push(req);
  if (ts) pump();
});

const mod = (await import("typescript")) as unknown as { default: typeof TS };
ts = mod.default;
pump();
// Warm the language service while the learner reads the first cell (requests that arrive meanwhile wait).
if (data.typecheck) {
  setImmediate(() => {
    languageService();
    pump();
  });
}
