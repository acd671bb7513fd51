/**
 * The control channel (comm target `otp-lab.control`, kernel/control-channel.ts) on a real kernel, driven by a
 * Python script through Debian's jupyter_client (test/kernel/widgets_driver.py, scenario control_channel).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_TEST_DIR, PYTHON, run, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

describe("otp-lab.control from jupyter_client", () => {
  let res: Record<string, any>;

  it("lists supervisors and their trees", async () => {
    const r = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "widgets_driver.py"), "control_channel"], { env: env.env, timeoutMs: 240_000 });
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (r.code !== 0 || !line) throw new Error(`widgets_driver.py control_channel failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    res = JSON.parse(line);
    expect(res.setup.errors).toEqual([]);
    // The target exists: the kernel does not close the comm it was asked to open.
    expect(res.open_msgs).toEqual([]);
    expect(res.list).toMatchObject({ id: 1, ok: true });
    expect(res.list.result).toEqual([{ pid: expect.stringMatching(/^<0\.\d+\.0>$/), behaviour: "supervisor", strategy: "one_for_one", children: 2 }]);
    expect(res.tree.result.root.children.map((c: { id: string }) => c.id)).toEqual(["a", "b"]);
  });

  it("kill and crash restart the children and push the supervisor's events to the subscriber; virtual time stands still", () => {
    expect(res.subscribe.result).toEqual({ subscription: "s1", topic: "supervisor" });
    expect(res.kill).toEqual({ id: 4, ok: true, result: { pid: res.pids_before.a } });
    expect(res.kill_events.map((e: any) => [e.event, e.data.type, e.data.id])).toEqual([["supervisor", "report", "a"], ["supervisor", "restart", "a"]]);
    expect(res.kill_events[1].data).toMatchObject({ oldPid: res.pids_before.a, newPid: res.pids_after.a });
    expect(res.crash_events[0].data).toMatchObject({ type: "report", id: "b", reason: ":shutdown" });
    expect(res.pids_after.a).not.toBe(res.pids_before.a);
    expect(res.pids_after.b).not.toBe(res.pids_before.b);
    expect(res.t_after_kills).toBe("0");
  });

  it("starts a supervisor from data and manages its children", () => {
    expect(res.start.ok).toBe(true);
    expect(res.start.result.tree.root).toMatchObject({ id: "Remote", strategy: "one_for_all" });
    expect(res.state_x.result).toBe(5);
    expect(res.info_x.result).toMatchObject({ behaviour: "gen_server", module: "Counter", links: [res.start.result.pid] });
    expect(res.add.result).toEqual(["ok", expect.stringMatching(/^<0\.\d+\.0>$/)]);
    expect(res.state_z.result).toEqual({ k: [1, 2] });
    expect(res.restart.result[0]).toBe("ok");
    expect(res.restart.result[1]).not.toBe(res.add.result[1]);
    expect(res.remove).toMatchObject({ ok: true, result: "ok" });
    expect(res.remote_ids).toEqual(["x", "y"]);
    expect(res.delay).toMatchObject({ ok: true, result: { ms: 50 } });
  });

  it("answers bad requests with ok: false and a message saying how to fix them, and leaves the runtime as it was", () => {
    const bad = res.bad as Record<string, any>;
    for (const [name, reply] of Object.entries(bad)) {
      const r = Array.isArray(reply) ? reply[0] : reply;
      expect(r.ok, name).toBe(false);
      expect(typeof r.error.message, name).toBe("string");
    }
    expect(bad.unknown_op.error.message).toMatch(/unknown op "explode"; use one of list_supervisors/);
    expect(bad.no_id[0]).toMatchObject({ id: null, ok: false });
    expect(bad.dead_pid.error.message).toMatch(/no live process/);
    expect(bad.not_supervisor.error.message).toMatch(/is not a supervisor; list_supervisors/);
    expect(bad.bad_strategy.error.message).toMatch(/strategy must be one of one_for_one/);
    expect(bad.unknown_module.error.message).toMatch(/define it in a cell with defmodule/);
    expect(bad.existing_child.error.reason).toEqual(["already_started", res.info_x.result.pid]);
    expect(bad.unknown_child.error.reason).toBe("not_found");
    expect(res.bad_events).toEqual([]);
    expect(res.undisturbed).toBe(true);
  });

  it("pushes a followed process's state when a cell changes it, and code loads; unsubscribe stops the pushes", () => {
    expect(res.first_state).toEqual([{ event: "process", subscription: "s2", pid: res.pids_after.a, alive: true, state: 0 }]);
    expect(res.state_events).toEqual([{ event: "process", subscription: "s2", pid: res.pids_after.a, alive: true, state: 1 }]);
    expect(res.reload.result).toMatchObject({ module: "Counter", version: 2 });
    expect(res.reload.result.servers.map((s: any) => s.result)).toEqual(["ok", "ok", "ok"]);
    expect(res.code_events[0]).toEqual({ event: "code", subscription: "s3", data: { type: "code_load", t: expect.any(Number), module: "Counter", version: 2 } });
    expect(res.code_events.filter((e: any) => e.data.type === "code_change")).toHaveLength(3);
    expect(res.unsubscribe.ok).toBe(true);
    expect(res.after_unsubscribe).toEqual([]);
    expect(res.kernel_stderr).toBe("");
  });
});
