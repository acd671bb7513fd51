/**
 * Crash and supervisor reports in a real kernel, seen by Debian's jupyter_client (test/kernel/reports_driver.py):
 * a GenServer crash shows Elixir's `GenServer ... terminating` report in the output of the cell that made it
 * crash, with the stack frame of the cell's own line (`Cell In[1], line 4: handleCall`) and no frame of the
 * runtime; a supervisor restart shows `terminated` and `started`; a plain process's exception shows in the cell
 * during which it happens; `Logger.level = "error"` keeps only error reports, `"none"` silences them, and
 * `resetRuntime()` starts again at the default level.
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
}
interface Cell {
  status: string;
  outputs: Output[];
}

const result = (c: Cell) => c.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"] as string | undefined;
const reports = (c: Cell) => c.outputs.filter((o) => o.type === "display_data").map((o) => o.data?.["text/plain"] as string);

const CHILD_A = "Start Call: GenServer.startLink(Counter, 0)\nRestart: :permanent\nShutdown: 5000\nType: :worker";

const env = useJupyterEnv();

describe("crash reports in cell outputs", () => {
  let r: { cells: Record<string, Cell>; kernel_stderr: string };
  beforeAll(async () => {
    const out = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "reports_driver.py")], { env: env.env, timeoutMs: 200_000 });
    const line = out.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (out.code !== 0 || !line) throw new Error(`reports_driver.py failed (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
    r = JSON.parse(line);
  }, 240_000);

  it("reports are on by default (level info)", () => {
    expect(r.cells.define!.status).toBe("ok");
    expect(result(r.cells.define!)).toBe("'info'");
    expect(reports(r.cells.define!)).toEqual([]);
  });

  it("a GenServer crash: Elixir's report, with the cell's line as the stack, before the caller's error", () => {
    const c = r.cells.crash!;
    expect(c.status).toBe("error");
    expect(reports(c)).toEqual([
      [
        "[error] GenServer #PID<0.81.0> terminating",
        "** (RuntimeError) boom",
        "    Cell In[1], line 4: handleCall",
        "Last message (from #PID<0.80.0>): :crash",
        "State: 7",
        "Client #PID<0.80.0> is alive",
      ].join("\n"),
    ]);
    expect(c.outputs.map((o) => o.type)).toEqual(["execute_input", "display_data", "error"]);
    const html = c.outputs.find((o) => o.type === "display_data")!.data!["text/html"] as string;
    expect(html).toMatch(/^<pre class="otp-lab-report otp-lab-report-error"/);
    expect(html).toContain("GenServer #PID&lt;0.81.0&gt; terminating");
    // No frame of the runtime, the kernel or Node: only the learner's code.
    expect(reports(c)[0]).not.toMatch(/dist\/|node:|gen_server|runtime\.js/);
  });

  it("a supervisor restart: the child terminated (error), then started again (info)", () => {
    const c = r.cells.restart!;
    expect(c.status).toBe("ok");
    expect(reports(c)).toEqual([
      `[error] Child :a of Supervisor #PID<0.82.0> (Supervisor.Default) terminated\n** (exit) killed\nPid: #PID<0.83.0>\n${CHILD_A}`,
      `[info] Child :a of Supervisor #PID<0.82.0> (Supervisor.Default) started\nPid: #PID<0.84.0>\n${CHILD_A}`,
    ]);
  });

  it("a plain process's exception is reported in the cell during which it happens", () => {
    const c = r.cells.spawned!;
    expect(c.status).toBe("ok");
    expect(reports(c)).toEqual(["[error] Process #PID<0.85.0> raised an exception\n** (RangeError) late\n    Cell In[4], line 3"]);
    expect(result(c)).toBe("'slept'");
  });

  it('Logger.level = "error" keeps the error report and drops the restart\'s info report', () => {
    expect(reports(r.cells.errors_only!)).toEqual([
      `[error] Child :a of Supervisor #PID<0.82.0> (Supervisor.Default) terminated\n** (exit) killed\nPid: #PID<0.84.0>\n${CHILD_A}`,
    ]);
  });

  it('Logger.level = "none" silences every report; resetRuntime() restores the default', () => {
    expect(r.cells.quiet!.status).toBe("ok");
    expect(r.cells.quiet!.outputs.filter((o) => o.type !== "execute_input" && o.type !== "execute_result")).toEqual([]);
    expect(result(r.cells.reset!)).toBe("'info'");
  });

  it("writes nothing to stderr: no stream output, nothing on the kernel's own stderr", () => {
    for (const c of Object.values(r.cells)) expect(c.outputs.filter((o) => o.type === "stream")).toEqual([]);
    expect(r.kernel_stderr).toBe("");
  });
});
