/**
 * The kernel process the grader starts for one notebook (see `sandbox.ts` for the permissions it runs with).
 * It holds one `Executor`, runs the cells it is sent one at a time and streams their outputs back.
 *
 * The cells share this process with this file (that is what lets state carry from cell to cell), so nothing
 * here is secret from them: the sandbox is what keeps the source notebook out of reach, not this code.
 */
import { Worker } from "node:worker_threads";
import { EXIT_DISCONNECTED, type ChildMessage, type ParentMessage, type CellEvent } from "./protocol.js";
import type { ExecuteCallbacks, Executor as ExecutorType } from "../executor.js";

// Kept before any cell runs, so a cell that replaces `process.send` does not cut the grader off.
const send: (m: ChildMessage) => void = process.send
  ? (process.send.bind(process) as (m: ChildMessage) => void)
  : () => {
      throw new Error("sandbox-child.js runs under the grader (it needs an IPC channel); use `otp-lab run` instead");
    };

/** Set by the grader (`SandboxOptions.grading`): cells are untrusted and run confined (`confine.ts`). */
const grading = process.env.OTP_LAB_GRADING === "1";

/**
 * What one cell may send to the grader, and what the whole notebook may. The grader caps outputs itself
 * (`outputs.ts`); these larger caps only keep a flooding cell from burying the grader in messages. Past them
 * the cell's outputs are dropped and one note says so.
 */
const CELL_CAP = { bytes: 8 * 1024 * 1024, events: 20_000 };
const NOTEBOOK_CAP = { bytes: 64 * 1024 * 1024, events: 200_000 };
const sent = { bytes: 0, events: 0 };

const queue: ParentMessage[] = [];
let executor: ExecutorType | null = null;
let busy = false;

process.on("message", (m: ParentMessage) => {
  queue.push(m);
  void pump();
});
// Taken before the executor makes `process.exit` throw for cells.
const exit = process.exit.bind(process);
// The grader going away (or a cell calling process.disconnect()) ends this process, whatever the cells left
// running.
process.on("disconnect", () => exit(EXIT_DISCONNECTED));
// That needs a free event loop; a cell stuck in `while (true) {}` when the grader is killed would spin on as an
// orphan. So a watchdog thread also ends the process once its parent is gone (it is re-parented).
const watchdog = new Worker(
  `const { workerData } = require("node:worker_threads");
   setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, "SIGKILL"); }, 500);`,
  { eval: true, workerData: process.ppid, stdout: true, stderr: true },
);
watchdog.unref();

async function pump(): Promise<void> {
  if (busy || !executor) return;
  busy = true;
  try {
    for (let m = queue.shift(); m; m = queue.shift()) await run(m);
  } finally {
    busy = false;
  }
}

async function run(m: ParentMessage): Promise<void> {
  const ex = executor!;
  const id = m.id;
  const cell = { bytes: 0, events: 0, cut: false };
  const emit = (event: CellEvent) => {
    if (cell.cut) return;
    const size = approximateSize(event);
    cell.bytes += size;
    cell.events++;
    sent.bytes += size;
    sent.events++;
    if (cell.bytes > CELL_CAP.bytes || cell.events > CELL_CAP.events || sent.bytes > NOTEBOOK_CAP.bytes || sent.events > NOTEBOOK_CAP.events) {
      cell.cut = true;
      const text = `\n[otp-lab: output truncated: this cell produced more than the kernel sends (${CELL_CAP.bytes / 1048576} MB or ${CELL_CAP.events} outputs a cell, ${NOTEBOOK_CAP.bytes / 1048576} MB a notebook)]\n`;
      send({ type: "event", id, event: { kind: "stream", name: "stderr", text } });
      return;
    }
    send({ type: "event", id, event });
  };
  const callbacks: ExecuteCallbacks = m.silent
    ? {}
    : {
        stream: (name, text) => emit({ kind: "stream", name, text }),
        display: (data, metadata, transient, update) => emit({ kind: "display", data, metadata, displayId: transient.display_id, update }),
        clearOutput: (wait) => emit({ kind: "clear", wait }),
        result: (data, metadata) => emit({ kind: "result", data, metadata, executionCount: ex.executionCount }),
        error: (content) => emit({ kind: "error", content }),
      };
  // Replayed cells are stored in history too: later cells are type-checked against their declarations.
  const scope = m.locked ? (m.test ? "test" : "locked") : "student";
  const outcome = await ex.execute(m.code, callbacks, { silent: m.silent, storeHistory: true, scope, checked: m.checked === true });
  send({ type: "done", id, status: outcome.status, executionCount: outcome.executionCount });
}

/** Bytes an event takes on the channel, roughly (strings count their length; the rest is JSON). */
function approximateSize(event: CellEvent): number {
  if (event.kind === "stream") return event.text.length;
  try {
    return JSON.stringify(event).length;
  } catch {
    return 1024;
  }
}

try {
  if (grading) {
    // First of all: freeze the intrinsics before any module that cells can reach is loaded.
    const { lockdownOnce } = await import("../confine.js");
    lockdownOnce();
  }
  const { Executor } = await import("../executor.js");
  executor = await Executor.create({ cwd: process.cwd(), protectProcess: true, confine: grading });
  // Warm the TypeScript service now, so that the first cell's time limit is spent on the cell.
  await executor.execute("void 0;", {}, { silent: true, storeHistory: false });
  send({ type: "ready", banner: executor.banner() });
  void pump();
} catch (err) {
  send({ type: "startup-failed", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.disconnect();
}
