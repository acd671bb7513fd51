/**
 * Tests what happens if a learner's code misbehaves: busy loops and pending awaits are interrupted (by
 * interrupt_request and by SIGINT) within a second and state survives; throws in timers, unhandled rejections,
 * stack overflows, process.exit and megabytes of output leave the kernel alive. Also the display API, stdin and
 * comms, seen by a real client (test/kernel/driver.py).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { scenario, useJupyterEnv } from "./kernel/helpers.js";

interface Output {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  transient?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string;
  content?: Record<string, unknown>;
}
interface Cell {
  status: string;
  execution_count: number;
  statuses: string[];
  outputs: Output[];
  traceback?: string;
  reply: Record<string, unknown>;
  interrupt_ms?: number;
  probe?: number | null;
  since_interrupt_ms?: number;
}

const result = (c: Cell) => c.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"];
const errorNames = (c: Cell) => c.outputs.filter((o) => o.type === "error").map((o) => o.ename);

const env = useJupyterEnv();

describe("interrupts", () => {
  let r: Record<string, Cell> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "interrupt", 280_000);
  }, 300_000);

  const interrupted = (c: Cell) => {
    expect(c.status).toBe("error");
    expect(c.reply.ename).toBe("KeyboardInterrupt");
    expect(c.interrupt_ms).toBeLessThan(1000);
    expect(c.statuses).toEqual(["busy", "idle"]);
  };

  it("stops a busy loop (interrupt_request on control) and keeps all state", () => {
    interrupted(r.busy!);
    // The heartbeat was answered while the loop ran.
    expect(r.busy!.probe).toBeLessThan(1000);
    expect(result(r.after_busy!)).toBe("[ 42, true ]");
  });

  it("stops a pending await", () => interrupted(r.await!));

  it("stops a busy loop that starts after an await in the cell", () => interrupted(r.busy_after_await!));

  it("stops a busy loop and a pending await on SIGINT", () => {
    interrupted(r.sigint_busy!);
    interrupted(r.sigint_await!);
  });

  it("throws KeyboardInterrupt into an interrupted await, where the cell can catch it", () => {
    expect(r.caught!.status).toBe("ok");
    expect(result(r.caught!)).toBe("'KeyboardInterrupt'");
  });

  it("stops a busy loop in a timer after its cell finished; the error shows in the next cell", () => {
    expect(result(r.timer_setup!)).toBe("'scheduled'");
    expect(errorNames(r.timer_after!)).toEqual(["KeyboardInterrupt"]);
    expect(result(r.timer_after!)).toBe("43");
    expect(r.timer_after!.since_interrupt_ms).toBeLessThan(3000);
  });

  it("stops a busy loop inside a runtime process (run through the kernel's guard)", () => {
    interrupted(r.process!);
    expect(result(r.alive!)).toBe("42");
    expect(r.kernel_stderr).toBe("");
  });
});

describe("the runtime after an interrupt (issue: a learner's kernel, item 1)", () => {
  type Case = Record<"reset" | "interrupted" | "call" | "spinner" | "kill" | "after_reset", Cell> & { setup?: Cell };
  let r: Record<string, Case> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "recover", 280_000);
  }, 300_000);

  // Where the loop ran, and whether a process was running it (then it is killed with reason `killed`).
  const places: [string, string, boolean][] = [
    ["spawned", "a spawned process's body (during the cell's settle)", true],
    ["handle_call", "handleCall, while the cell awaits the call", true],
    ["handle_info", "handleInfo, during settle()", true],
    ["init", "init, while the cell awaits GenServer.start", true],
    ["timer", "a timer callback, while the cell awaits", false],
    ["async_fn", "an async function after its first await (outside every guarded step)", false],
    ["settle", "a process woken by settle()", true],
    ["advance", "a process woken by advance()", true],
  ];
  for (const [name, where, processRan] of places) {
    it(`a loop in ${where}: interrupted, then calls, kills and resetRuntime() work`, () => {
      const c = r[name]!;
      if (c.setup) expect(c.setup.status, JSON.stringify(c.setup.outputs)).toBe("ok");
      expect(c.interrupted.status).toBe("error");
      expect(c.interrupted.reply.ename).toBe("KeyboardInterrupt");
      expect(c.interrupted.interrupt_ms).toBeLessThan(2500);
      if (processRan) expect(String(c.interrupted.reply.evalue)).toMatch(/the process #PID<0\.\d+\.0> was running and was killed \(exit reason killed\)/);
      expect(c.call.status, JSON.stringify(c.call.outputs)).toBe("ok");
      expect(result(c.call)).toBe("'still here'");
      if (processRan && name !== "init") expect(result(c.spinner)).toBe("'false :killed'");
      expect(result(c.kill)).toBe("':killed'");
      expect(result(c.after_reset)).toBe("'after reset'");
    });
  }

  it("writes nothing to the kernel's stderr", () => expect(r.kernel_stderr).toBe(""));
});

describe("robustness", () => {
  let r: Record<string, Cell> & { alive: string; kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "robust", 280_000);
  }, 300_000);

  it("shows a throw inside a timer as an error output of the running cell", () => {
    expect(r.timer_throw!.status).toBe("ok");
    expect(errorNames(r.timer_throw!)).toEqual(["Error"]);
    const e = r.timer_throw!.outputs.find((o) => o.type === "error")!;
    expect(e.evalue).toBe("timer boom (from a timer set in Cell In[1], line 1)");
    expect(e.traceback).toContain("Cell In[1]:1:26");
    expect(e.traceback).not.toContain("did not raise it"); // its own cell is still running
    expect(result(r.timer_throw!)).toBe("'cell done'");
  });

  it("shows a throw from a timer that fires between cells in the next cell", () => {
    expect(errorNames(r.timer_throw_idle!)).toEqual([]);
    const e = r.next_cell!.outputs.find((o) => o.type === "error")!;
    expect(e.evalue).toBe("late boom (from a timer set in Cell In[2], line 1)");
    expect(e.traceback).toContain("Cell In[2] had finished when this error was raised, before this cell started: this cell did not raise it.");
    expect(result(r.next_cell!)).toBe("'next'");
  });

  it("shows an unhandled rejection as an error output", () => {
    expect(r.rejection!.outputs.find((o) => o.type === "error")?.evalue).toBe("nobody catches me (unhandled promise rejection, from Cell In[4], line 1)");
  });

  it("survives stack overflow, process.exit, odd thrown values, a failing display method and BigInt", () => {
    expect(r.stack_overflow!.reply.ename).toBe("RangeError");
    expect(r.stack_overflow!.traceback).toMatch(/repeated \d+ more times/);
    expect(String(r.exit!.reply.evalue)).toContain("process.exit() would stop the kernel");
    expect(r.throw_string!.reply.evalue).toBe("Uncaught 'just a string'");
    expect(r.throw_null_proto!.status).toBe("error");
    expect(String(result(r.bad_display!))).toContain("display failed: cannot draw");
    expect(result(r.bigint!)).toBe("100000000000000000000n");
    expect(r.alive).toBe("'still alive'");
    expect(r.kernel_stderr).toBe("");
  });
});

describe("display, stdin, comms and large outputs", () => {
  let r: Record<string, unknown> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "io", 280_000);
  }, 300_000);
  const cell = (k: string) => r[k] as Cell;

  it("displays HTML, Markdown, SVG, JSON, PNG, LaTeX, raw bundles and values, each with a text fallback", () => {
    const shown = cell("display").outputs.filter((o) => o.type === "display_data");
    expect(shown.map((o) => Object.keys(o.data!).sort().join(","))).toEqual([
      "text/html,text/plain",
      "text/markdown,text/plain",
      "image/svg+xml,text/plain",
      "application/json,text/plain",
      "image/png,text/plain",
      "text/latex,text/plain",
      "application/vnd.custom+json,text/plain",
      "text/plain",
    ]);
    expect(shown[4]!.data!["image/png"]).toBe("AQID");
    expect(shown[4]!.metadata).toEqual({ "image/png": { width: 10 } });
    expect(shown[3]!.data!["application/json"]).toEqual({ a: [1, 2] });
    expect(result(cell("display"))).toBeUndefined(); // display(...) as last line is not shown twice
  });

  it("updates a display in place by id", () => {
    const outs = cell("update").outputs.filter((o) => o.type.includes("display"));
    expect(outs.map((o) => [o.type, o.transient?.display_id, o.data?.["text/plain"]])).toEqual([
      ["display_data", "d1", "'first'"],
      ["update_display_data", "d1", "'second'"],
      ["update_display_data", "d1", "'third'"],
    ]);
  });

  it("clears output with wait", () => {
    expect(cell("clear").outputs.map((o) => o.type)).toEqual(["execute_input", "stream", "clear_output", "stream"]);
    expect(cell("clear").outputs[2]!.content).toEqual({ wait: true });
  });

  it("asks for input on stdin with the execute request as parent", () => {
    expect(r.input_request).toEqual({ prompt: "Your name? ", password: false });
    expect(r.input_parent_matches).toBe(true);
    expect(result(cell("input"))).toBe("'hello Ada'");
    expect(String(cell("input_no_stdin").reply.evalue)).toContain("allow_stdin");
  });

  it("opens comms to a registered target, echoes messages, lists and closes them", () => {
    expect(result(cell("comm_setup"))).toBeUndefined();
    expect(r.comm_open).toEqual([{ comm_id: "c0ffee", data: { opened: { hello: 1 } } }]);
    expect(r.comm_info).toEqual({ status: "ok", comms: { c0ffee: { target_name: "echo" } } });
    expect(r.comm_msg).toEqual([{ comm_id: "c0ffee", data: { echo: { ping: 2 } } }]);
    expect(r.comm_closed).toBe("true");
    expect(r.comm_unknown).toEqual(["comm_close"]);
    const kernelSide = cell("kernel_comm").outputs.filter((o) => o.type.startsWith("comm"));
    expect(kernelSide.map((o) => o.type)).toEqual(["comm_open", "comm_msg", "comm_close"]);
    expect(kernelSide[0]!.content).toMatchObject({ target_name: "frontend-target", data: { v: 1 } });
  });

  it("sends widgets' live views through the kernel: display_data, then update_display_data in place", () => {
    const shown = cell("live").outputs.filter((o) => o.type.includes("display"));
    expect(shown.map((o) => [o.type, o.data?.["text/plain"]])).toEqual([
      ["display_data", "n=0"],
      ["update_display_data", "n=1"],
    ]);
    const id = shown[0]!.transient?.display_id;
    expect(id).toMatch(/^otp-lab-live-/);
    expect(shown[1]!.transient?.display_id).toBe(id);
    // After its cell finished, an update still goes out, with that cell as parent.
    expect(r.live_late).toEqual([{ type: "update_display_data", data: { "text/plain": "n=2" }, transient: { display_id: id } }]);
  });

  it("handles megabytes of output and floods of small writes", () => {
    expect(r.big_status).toBe("ok");
    expect(r.big_stream_chars).toBe(5_000_001);
    expect(r.many_text_lines).toBe(100_000);
    // Coalesced: far fewer messages than writes.
    expect(r.many_stream_messages).toBeLessThan(2000);
    expect(r.big_result).toBe("ok");
    expect(r.big_display).toBe("ok");
    expect(r.alive).toBe("2");
    expect(r.kernel_stderr).toBe("");
  });
});
