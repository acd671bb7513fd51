/**
 * A learner's mistakes, seen by a real client (Debian's jupyter_client, test/kernel/learner_driver.py): an error
 * raised after its cell finished says where it came from, `name?` says when no such name exists, a `let` keeps
 * its type across cells, and an Op never awaited gets a warning naming the call and its line.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { KERNEL_TEST_DIR, PYTHON, run, useJupyterEnv } from "./kernel/helpers.js";

interface Output {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string;
}
interface Cell {
  status: string;
  execution_count: number;
  outputs: Output[];
  reply: Record<string, unknown>;
  traceback?: string;
}

const env = useJupyterEnv();

let r: Record<string, Cell> & { kernel_stderr: string };
beforeAll(async () => {
  const out = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "learner_driver.py")], { env: env.env, timeoutMs: 250_000 });
  const line = out.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (out.code !== 0 || !line) throw new Error(`learner_driver.py failed (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  r = JSON.parse(line);
}, 300_000);

const errors = (c: Cell) => c.outputs.filter((o) => o.type === "error");
const result = (c: Cell) => c.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"];
const stderr = (c: Cell) => c.outputs.filter((o) => o.type === "stream" && o.name === "stderr").map((o) => o.text).join("");

describe("errors raised after their cell finished", () => {
  it("shows a timer's throw in the next cell with where the timer was set, and says that cell did not raise it", () => {
    expect(errors(r.timer_set!)).toEqual([]);
    const [e] = errors(r.timer_shown!);
    expect(e!.evalue).toBe("late boom (from a timer set in Cell In[1], line 2)");
    expect(e!.traceback!.split("\n")[0]).toBe("Cell In[1] had finished when this error was raised, before this cell started: this cell did not raise it.");
    expect(e!.traceback).toContain("Cell In[1], line 2, column 26");
    expect(r.timer_shown!.status).toBe("ok");
    expect(result(r.timer_shown!)).toBe("'next'");
  });

  it("shows a timer of an earlier cell firing while another cell runs in that cell, naming both", () => {
    const [e] = errors(r.timer_during!);
    expect(e!.ename).toBe("RangeError");
    expect(e!.evalue).toBe("during another cell (from a timer set in Cell In[3], line 1)");
    expect(e!.traceback!.split("\n")[0]).toBe("Cell In[3] had finished when this error was raised: Cell In[4] did not raise it.");
    expect(e!.traceback).toContain("Cell In[3], line 2, column 9");
    expect(result(r.timer_during!)).toBe("'waited'");
  });

  it("shows a promise rejected after its cell finished with the timer of that cell that rejected it", () => {
    expect(errors(r.rejection_set!)).toEqual([]);
    const [e] = errors(r.rejection_shown!);
    expect(e!.evalue).toBe("rejected late (unhandled promise rejection, from a timer set in Cell In[5], line 1)");
    expect(e!.traceback!.split("\n")[0]).toContain("Cell In[5] had finished when this error was raised");
    expect(e!.traceback).toContain("Cell In[5], line 1, column 72");
    // A rejection with no stack (a plain string, thrown by an async function after it awaited a timer).
    const [s] = errors(r.rejection_string_shown!);
    expect(s!.evalue).toBe("Uncaught 'a plain string' (unhandled promise rejection, from a timer set in Cell In[7], line 2)");
    expect(s!.traceback!.split("\n")[0]).toContain("Cell In[7] had finished when this error was raised");
  });
});

it("says that no such name exists for nosuchThing?, as IPython does", () => {
  expect(r.help_missing!.status).toBe("ok");
  expect(r.help_missing!.reply.payload).toEqual([]);
  expect(r.help_missing!.outputs.filter((o) => o.type === "stream")).toEqual([{ type: "stream", name: "stdout", text: "Object `nosuchThing` not found.\n" }]);
});

it("keeps a let's type across cells: assigning another type is a type error at its line, redeclaring is allowed", () => {
  expect(r.let_declare!.status).toBe("ok");
  expect(r.let_wrong_type!.status).toBe("error");
  const [e] = errors(r.let_wrong_type!);
  expect(e!.ename).toBe("TSError");
  expect(e!.evalue).toMatch(/^Type 'string' is not assignable to type 'number'\.\n'q' keeps the type an earlier cell declared it with; .* \(Cell In\[11\]:2:1\)$/s);
  expect(result(r.let_after_error!)).toBe("1"); // the cell did not run
  expect(result(r.let_same_type!)).toBe("5");
  expect(result(r.let_redeclare!)).toBe("'s'");
  expect(result(r.let_new_type!)).toBe("'t'");
});

describe("Ops never awaited", () => {
  it("warns at the end of the cell, naming the call and its line, and nothing ran", () => {
    const warning = stderr(r.ops_not_awaited!);
    expect(warning).toMatch(/^Warning: DynamicSupervisor\.startChild\(#PID<0\.\d+\.0>, .*\) was never awaited \(Cell In\[17\], line 2, 3 times\): nothing ran\. /);
    expect(warning).toContain("Write `await DynamicSupervisor.startChild(...)` in a cell, `yield* ...` inside a process.\n");
    expect(warning.split("\n").filter(Boolean)).toHaveLength(1);
    expect(result(r.ops_not_awaited!)).toBe("0");
    expect(result(r.ops_started!)).toBe("0");
  });

  it("says nothing when every Op is awaited, and names a single call with its arguments", () => {
    expect(stderr(r.ops_awaited!)).toBe("");
    expect(result(r.ops_awaited!)).toBe("3");
    expect(stderr(r.ops_one_call!)).toMatch(/^Warning: GenServer\.call\(#PID<0\.\d+\.0>, "get"\) was never awaited \(Cell In\[20\], line 2\): nothing ran\./);
    // An Op that is the cell's value says so itself ("did you forget `await`?"): no warning on top.
    expect(stderr(r.ops_value!)).toBe("");
    expect(String(result(r.ops_value!))).toContain("did you forget `await`?");
    expect(r.kernel_stderr).toBe("");
  });
});
