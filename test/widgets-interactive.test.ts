/**
 * `control(sup)` and `strategyLab(children)` over the Jupyter widgets protocol, on a real kernel driven by
 * Debian's jupyter_client as a widgets manager would drive it (test/kernel/widgets_driver.py): comm_open with
 * the protocol version, a `custom` click, `update` with `echo_update`, `request_state`, `request_states`,
 * `comm_close`, and re-running the cell.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_TEST_DIR, nbconvertExecute, PYTHON, run, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

async function widgetsScenario(name: string): Promise<Record<string, any>> {
  const r = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "widgets_driver.py"), name], { env: env.env, timeoutMs: 240_000 });
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.code !== 0 || !line) throw new Error(`widgets_driver.py ${name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line);
}

const VIEW = "application/vnd.jupyter.widget-view+json";

describe("control(sup) through the widgets protocol", () => {
  let res: Record<string, any>;

  it("opens every model with protocol 2.1.0 and a full state, and displays the root with fallbacks", async () => {
    res = await widgetsScenario("control");
    expect(res.setup.errors).toEqual([]);
    expect(res.shown.errors).toEqual([]);
    const opens = res.opens as Array<{ comm_id: string; data: { state: Record<string, unknown>; buffer_paths: unknown[] }; metadata: { version: string } }>;
    expect(opens.length).toBeGreaterThan(20);
    for (const o of opens) {
      expect(o.metadata.version).toBe("2.1.0");
      expect(o.data.buffer_paths).toEqual([]);
      for (const k of ["_model_name", "_model_module", "_model_module_version", "_view_name", "_view_module", "_view_module_version"]) {
        expect(typeof o.data.state[k], `${k} of ${JSON.stringify(o.data.state).slice(0, 100)}`).toBe("string");
      }
    }
    const byId = new Map(opens.map((o) => [o.comm_id, o.data.state]));
    const kill = opens.find((o) => o.data.state.tooltip === "kill a")!.data.state;
    expect(kill).toMatchObject({ _model_name: "ButtonModel", _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0", description: "kill", disabled: false });
    // References point at models opened before (the front end resolves them on arrival).
    const order = new Map(opens.map((o, i) => [o.comm_id, i]));
    for (const o of opens) {
      const refs = JSON.stringify(o.data.state).match(/IPY_MODEL_[0-9a-f]+/g) ?? [];
      for (const ref of refs) expect(order.get(ref.slice("IPY_MODEL_".length))!).toBeLessThan(order.get(o.comm_id)!);
    }
    expect(byId.get(String(kill.layout).slice("IPY_MODEL_".length))).toMatchObject({ _model_name: "LayoutModel", _model_module: "@jupyter-widgets/base" });
    // One display: the widget view (version 2.0) plus text and pictures for front ends without widgets.
    expect(res.shown.displays).toHaveLength(1);
    const shown = res.shown.displays[0];
    expect(shown[VIEW]).toEqual({ model_id: expect.any(String), version_major: 2, version_minor: 0 });
    expect(byId.get(shown[VIEW].model_id)).toMatchObject({ _model_name: "VBoxModel" });
    expect(shown["text/plain"]).toContain("control panel of");
    expect(shown["image/svg+xml"]).toContain("<svg");
    expect(Buffer.from(shown["image/png"], "base64").subarray(1, 4).toString()).toBe("PNG");
    expect(res.tooltips).toEqual(expect.arrayContaining([
      "kill a", "crash a", "restart a", "terminate a", "delete a", "kill b", "crash b", "advance 100 ms", "advance 1 s", "advance 5 s", "play real time",
    ]));
  });

  it("control and strategyLab are in scope with completion and hover docs", () => {
    expect(res.complete).toContain("strategyLab");
    expect(res.complete_control).toContain("control");
    expect(res.inspect.found).toBe(true);
    expect(res.inspect.data["text/plain"]).toMatch(/control\(sup: PidInput/);
    expect(res.inspect.data["text/plain"]).toMatch(/An interactive panel for a live supervision tree/);
    expect(res.inspect_lab.data["text/plain"]).toMatch(/A teaching aid for restart strategies/);
  });

  it("a click on 'kill a' kills a, its supervisor restarts it, and the picture and log are updated in the click's replies", () => {
    const { a: before } = res.before;
    const { a: after, b } = res.after_kill;
    expect(after).not.toBe(before);
    expect(b).toBe(res.before.b);
    expect(res.restarts).toBe("1");
    expect(res.picture_before).toContain(escape(before));
    expect(res.picture_after).toContain(escape(after));
    expect(res.picture_after).not.toContain(escape(before));
    const updates = (res.kill_msgs as Array<{ data: { method: string; state: Record<string, unknown> } }>).filter((m) => m.data.method === "update");
    expect(updates.some((m) => String(m.data.state.value ?? "").includes(escape(after)))).toBe(true);
    expect(res.log_after).toContain(`restart a: ${escape(before)} -&gt; ${escape(after)}`);
  });

  it("the reason chosen in the dropdown is echoed and used by the crash buttons", () => {
    expect(res.reason_labels).toEqual(["error", "normal", "shutdown", "kill"]);
    expect(res.reason_msgs[0].data).toEqual({ method: "echo_update", state: { index: 2 }, buffer_paths: [] });
    expect(res.after_crash.b).not.toBe(res.after_kill.b);
    expect(res.log_after_crash).toContain("report child_terminated b");
    expect(res.log_after_crash).toContain(": :shutdown");
  });

  it("moves virtual time and terminates and restarts a child", () => {
    expect(Number(res.t_after) - Number(res.t_before)).toBe(1000);
    expect(res.after_terminate.a).toBeNull();
    expect(res.after_restart.a).toMatch(/^<0\.\d+\.0>$/);
    expect(res.after_restart.b).toBe(res.after_crash.b);
  });

  it("answers request_state and request_states with the full states", () => {
    const st = res.request_state[0].data;
    expect(st.method).toBe("update");
    expect(st.state).toMatchObject({ _model_name: "DropdownModel", index: 2, description: "crash reason" });
    expect(res.control_open).toEqual([]);
    const states = res.request_states[0].data;
    expect(states.method).toBe("update_states");
    expect(Object.keys(states.states)).toHaveLength(res.model_count);
    for (const entry of Object.values(states.states) as Array<Record<string, any>>) {
      expect(entry.model_name).toBe(entry.state._model_name);
      expect(entry.model_module).toBe(entry.state._model_module);
      expect(entry.model_module_version).toBe(entry.state._model_module_version);
    }
  });

  it("keeps its widgets when the cell is re-run, and cleans up when the front end closes it", () => {
    expect(res.rerun.displays[0][VIEW].model_id).toBe(res.root_id);
    expect(res.reason_after_rerun).toBe(2);
    expect(res.comms_before_close).toBe(res.model_count);
    expect(res.close_msgs.length).toBe(res.model_count - 1);
    expect(res.comms_after_close).toBe(0);
    expect(res.reopened.displays[0][VIEW].model_id).not.toBe(res.root_id);
    expect(res.reason_after_reopen).toBe(2);
    expect(res.kernel_stderr).toBe("");
  });
});

describe("strategyLab(children)", () => {
  it("restarts one child under one_for_one and the later ones under rest_for_one after the dropdown changes", async () => {
    const res = await widgetsScenario("strategy_lab");
    expect(res.shown.errors).toEqual([]);
    expect(res.shown.displays[0][VIEW].version_major).toBe(2);
    const o1 = [res.one_for_one_before, res.one_for_one_after];
    expect(o1[1].a).toBe(o1[0].a);
    expect(o1[1].b).not.toBe(o1[0].b);
    expect(o1[1].c).toBe(o1[0].c);
    expect(res.labels).toEqual(["one_for_one", "one_for_all", "rest_for_one"]);
    expect(res.choose_msgs[0].data.method).toBe("echo_update");
    expect(res.sup_after).not.toBe(res.sup_before);
    expect(res.strategy_now).toBe("'rest_for_one'");
    const r = [res.rest_for_one_before, res.rest_for_one_after];
    expect(r[1].a).toBe(r[0].a);
    expect(r[1].b).not.toBe(r[0].b);
    expect(r[1].c).not.toBe(r[0].c);
    // Re-running the cell keeps the chosen strategy.
    expect(res.rerun.displays[0]["text/plain"]).toContain("strategy lab (rest_for_one)");
    expect(res.kernel_stderr).toBe("");
  });
});

describe("without a widgets manager: jupyter nbconvert --execute", () => {
  it("keeps the picture and text in the outputs, and nbclient records every widget's state in the notebook", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "otp-lab-widgets-nbconvert-"));
    try {
      const cells = [
        'const W = defmodule("W", { init: (n: number) => ["ok", n] });\nconst [, sup] = await Supervisor.startLink([{ id: "a", start: () => GenServer.startLink(W, 0) }, { id: "b", start: () => GenServer.startLink(W, 0) }]);',
        "control(sup)",
        'strategyLab([{ id: "x", start: () => GenServer.startLink(W, 0) }])',
      ];
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "otp-lab", display_name: "TypeScript (OTP Lab)", language: "typescript" } },
        cells: cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
      };
      const input = path.join(dir, "panel.ipynb");
      writeFileSync(input, JSON.stringify(nb));
      const r = await nbconvertExecute(input, path.join(dir, "out.ipynb"), { env: env.env, cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(readFileSync(path.join(dir, "out.ipynb"), "utf8"));
      const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v));
      for (const i of [1, 2]) {
        const result = out.cells[i].outputs.find((o: Record<string, any>) => o.output_type === "execute_result");
        expect(Object.keys(result.data).sort()).toEqual([VIEW, "image/png", "image/svg+xml", "text/plain"].sort());
        expect(Buffer.from(text(result.data["image/png"]), "base64").subarray(1, 4).toString()).toBe("PNG");
      }
      const widgets = out.metadata.widgets["application/vnd.jupyter.widget-state+json"];
      expect(widgets.version_major).toBe(2);
      const states = Object.values(widgets.state) as Array<{ model_name: string; state: Record<string, unknown> }>;
      const tooltips = states.map((s) => s.state.tooltip).filter(Boolean);
      expect(tooltips).toEqual(expect.arrayContaining(["kill a", "crash b", "restart a", "advance 5 s", "kill x"]));
      const control = out.cells[1].outputs.find((o: Record<string, any>) => o.output_type === "execute_result");
      expect(widgets.state[control.data[VIEW].model_id].model_name).toBe("VBoxModel");
      expect(states.some((s) => s.model_name === "HTMLModel" && String(s.state.value).includes("<svg"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function escape(pid: string): string {
  return pid.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
