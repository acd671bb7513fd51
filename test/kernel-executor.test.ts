/**
 * Tests the cell executor on its own, without ZeroMQ or Jupyter, as the grader's sandboxed child uses it
 * (test/kernel/executor-driver.mjs runs it in a child process and prints what the callbacks received).
 */
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { KERNEL_TEST_DIR, ensureBuilt, run } from "./kernel/helpers.js";

interface Out {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  transient?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string;
  wait?: boolean;
}
type Res = Record<string, { status: string; count: number; outputs: Out[] }> & { zeromq_loaded: boolean; banner: string };

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

async function drive(...args: string[]): Promise<Res> {
  const r = await run(process.execPath, [path.join(KERNEL_TEST_DIR, "executor-driver.mjs"), ...args], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0); // and it exited by itself after dispose()
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Res;
}

it("runs cells through callbacks for streams, displays, results and errors, without ZeroMQ", async () => {
  const r = await drive();
  expect(r.zeromq_loaded).toBe(false);
  expect(r.print!.outputs).toEqual([
    { type: "stream", name: "stdout", text: "out\n" },
    { type: "stream", name: "stderr", text: "err\n" },
    { type: "stream", name: "stdout", text: "raw\n" },
    { type: "result", data: { "text/plain": "42" } },
  ]);
  expect(r.display!.outputs.map((o) => o.type)).toEqual(["display", "clear", "display", "update"]);
  expect(r.error!.outputs[0]).toMatchObject({ type: "error", ename: "TypeError" });
  expect(r.error!.outputs[0]!.traceback).toContain("Cell In[3], line 2, column 9");
  expect(r.type_error!.outputs[0]).toMatchObject({ ename: "TSError" });
  expect(r.redeclare!.outputs).toEqual([{ type: "result", data: { "text/plain": "'again'" } }]);
  // The grader can stop a runaway cell from another thread through the executor's interrupt buffer.
  expect(r.interrupted!.outputs).toEqual([
    { type: "error", ename: "KeyboardInterrupt", evalue: "Execution interrupted", traceback: "KeyboardInterrupt: Execution interrupted" },
  ]);
  expect(r.after!.outputs).toEqual([{ type: "result", data: { "text/plain": "'again!'" } }]);
  expect(r.after!.count).toBe(7);
  // spawn() in a cell has run by the time the cell's result is drawn: the runtime settled.
  expect(r.settled!.outputs).toEqual([{ type: "result", data: { "text/plain": "ran: true" } }]);
  // A cell run again after a later cell declared a name it uses is checked again, not taken as before.
  expect(r.rerun_missing!.outputs[0]).toMatchObject({ type: "error", ename: "TSError", evalue: expect.stringContaining("Cannot find name 'later'") });
  expect(r.rerun_found!.outputs).toEqual([{ type: "result", data: { "text/plain": "42" } }]);
  expect(r.rerun_fits!.outputs).toEqual([{ type: "result", data: { "text/plain": "1" } }]);
  expect(r.rerun_misfits!.outputs[0]).toMatchObject({ type: "error", ename: "TSError", evalue: expect.stringContaining("'number' is not assignable to type 'string'") });
  // A grader's replay (`checked`) runs without a new check, and the checker knows what it declared.
  expect(r.checked_runs!.outputs).toEqual([{ type: "result", data: { "text/plain": "42" } }]);
  expect(r.checked_declares!.outputs[0]).toMatchObject({ type: "error", ename: "TSError", evalue: expect.stringContaining("'number' is not assignable to type 'string'") });
  expect(r.checked_not_reused!.outputs[0]).toMatchObject({ type: "error", ename: "TSError", evalue: expect.stringContaining("'number' is not assignable to type 'string'") });
}, 200_000);

it("skips a preloaded module that fails to load, says so in the banner, and keeps the others", async () => {
  const r = await drive("--broken-module");
  expect(r.banner).toMatch(/broken: not loaded \(.*\); its names are not in scope\./);
  expect(r.banner).toMatch(/runtime: \d+ names in scope/);
  expect(r.redeclare!.outputs).toEqual([{ type: "result", data: { "text/plain": "'again'" } }]);
}, 200_000);

it("can run without type checking", async () => {
  const r = await drive("--no-typecheck");
  expect(r.type_error!.status).toBe("ok");
  expect(r.type_error!.outputs).toEqual([{ type: "result", data: { "text/plain": "'ran'" } }]);
}, 200_000);
