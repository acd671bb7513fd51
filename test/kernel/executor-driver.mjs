// Runs cells through kernel/executor.ts directly — no ZeroMQ, no Jupyter — the way the grader's sandboxed
// child uses it, and prints what the callbacks received as one JSON line. Used by test/kernel-executor.test.ts.
import { createRequire } from "node:module";
import { writeSync } from "node:fs";
import { Worker } from "node:worker_threads";

const dist = new URL("../../dist/kernel/", import.meta.url);
const { Executor } = await import(new URL("executor.js", dist).href);
const typecheck = !process.argv.includes("--no-typecheck");
const { DEFAULT_MODULES } = await import(new URL("preload.js", dist).href);
// --broken-module: one preloaded module fails to load; the others must still be in scope.
const modules = process.argv.includes("--broken-module")
  ? [...DEFAULT_MODULES(), { label: "broken", url: new URL("file:///nonexistent/otp-lab-broken.js") }]
  : undefined;
const ex = await Executor.create({ typecheck, modules });

const run = async (code, options = {}) => {
  const outputs = [];
  const outcome = await ex.execute(
    code,
    {
      stream: (name, text) => outputs.push({ type: "stream", name, text }),
      display: (data, metadata, transient, update) => outputs.push({ type: update ? "update" : "display", data, transient }),
      result: (data) => outputs.push({ type: "result", data }),
      error: (e) => outputs.push({ type: "error", ename: e.ename, evalue: e.evalue, traceback: e.traceback.join("\n").replace(/\x1b\[[0-9;]*m/g, "") }),
      clearOutput: (wait) => outputs.push({ type: "clear", wait }),
    },
    options,
  );
  return { status: outcome.status, count: outcome.executionCount, outputs };
};

const res = {};
res.print = await run("console.log('out'); console.error('err'); process.stdout.write('raw\\n'); 6 * 7");
res.display = await run("display.html('<p>x</p>'); clearOutput({ wait: true }); display('y', { displayId: 'a' }).update('z')");
res.error = await run("const nothing: any = null;\nnothing.boom");
res.type_error = await run("const s: string = 1;\n'ran'");
res.redeclare = await run("const s = 'again'; s");
// An interrupt from another thread, as a grader's per-cell timeout would send it.
const worker = new Worker(
  `const { workerData } = require("node:worker_threads");
   import(workerData.url).then(({ InterruptRequester }) => {
     const r = new InterruptRequester(workerData.buffer, () => {});
     setTimeout(() => r.request(), 300);
   });`,
  { eval: true, workerData: { buffer: ex.interrupt.buffer, url: new URL("interrupt.js", dist).href } },
);
res.interrupted = await run("while (true) {}");
await worker.terminate();
res.after = await run("s + '!'");
// The runtime settles at the end of each cell, before the result is displayed.
res.settled = await run(
  "spawn(() => { (globalThis as any).ranInProcess = true });\n" +
    "({ [Symbol.for('Jupyter.display')]() { return { 'text/plain': 'ran: ' + (globalThis as any).ranInProcess } } })",
);
// A cell run again is checked again when a cell executed since declared a name it uses (the executor keeps
// prepared cells by text, and must not reuse a stale check).
res.rerun_missing = await run("later * 2");
await run("const later = 21");
res.rerun_found = await run("later * 2");
await run("interface Shape { side: number }");
res.rerun_fits = await run("const sq: Shape = { side: 1 }; sq.side");
await run("interface Shape { side: string }");
res.rerun_misfits = await run("const sq: Shape = { side: 1 }; sq.side");
// A cell the grader re-runs after a restart passed its check before (`checked`): it is not checked again (the
// type error below would stop it otherwise), its declarations reach the checker all the same, and the same text
// run later without the flag is checked as any other.
const replayedCell = "const replayed: number = 40;\nconst mistyped: string = 2;\nreplayed + 2";
res.checked_runs = await run(replayedCell, { checked: true });
res.checked_declares = await run("const asText: string = replayed");
res.checked_not_reused = await run(replayedCell);
res.banner = ex.banner();
res.zeromq_loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/zeromq/"));
await ex.dispose();
writeSync(1, JSON.stringify(res) + "\n");
// No process.exit: the executor must let a script end by itself once disposed.
