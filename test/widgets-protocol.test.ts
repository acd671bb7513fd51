/**
 * The widgets protocol's state handling (widgets/jupyter/model.ts) through the kernel's own comm layer
 * (kernel/comm.ts), in process: what goes out on comm_open and update, binary buffers and their paths, and
 * what a front end's messages do. The kernel-level behaviour is in widgets-interactive.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { receiveCommClose, receiveCommMsg, receiveCommOpen } from "../kernel/comm.js";
import { output } from "../kernel/output.js";
import { joinBuffers, modelById, splitBuffers, WidgetModel } from "../widgets/jupyter/model.js";
import { Button, Dropdown, HBox, Output } from "../widgets/jupyter/controls.js";

interface Sent {
  type: string;
  content: Record<string, any>;
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

let sent: Sent[] = [];
const run = (fn: () => void) => fn();

beforeEach(() => {
  sent = [];
  output.active = { comm: (type, content, metadata, buffers) => sent.push({ type, content, metadata, buffers }) };
});
afterEach(() => {
  output.active = null;
});

const header = { _model_name: "M", _model_module: "m", _model_module_version: "1.0.0", _view_name: "V", _view_module: "m", _view_module_version: "1.0.0" };

function fromFrontend(commId: string, data: unknown, buffers: Uint8Array[] = []): void {
  receiveCommMsg({ comm_id: commId, data }, { data, metadata: {}, buffers }, run);
}

describe("buffer paths", () => {
  it("takes binary values out of a state at any depth and puts them back", () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Float32Array([1.5]);
    const { state, bufferPaths, buffers } = splitBuffers({ x: a, y: { z: [0, b, "k"] }, w: "plain" });
    expect(state).toEqual({ y: { z: [0, null, "k"] }, w: "plain" });
    expect(bufferPaths).toEqual([["x"], ["y", "z", 1]]);
    expect(buffers.map((x) => [...x])).toEqual([[1, 2, 3], [...new Uint8Array(b.buffer)]]);
    const back = joinBuffers(state, bufferPaths, buffers);
    expect([...(back.x as Uint8Array)]).toEqual([1, 2, 3]);
    expect(((back.y as any).z as unknown[])[2]).toBe("k");
    expect(((back.y as any).z as unknown[])[1]).toBeInstanceOf(Uint8Array);
  });
});

describe("WidgetModel over the kernel's comms", () => {
  it("opens with the whole state, the protocol version and buffers; sends only changed keys", () => {
    const m = new WidgetModel({ ...header, value: 1, data: new Uint8Array([9]) });
    const open = sent.find((s) => s.type === "comm_open" && s.content.comm_id === m.modelId)!;
    expect(open.content.target_name).toBe("jupyter.widget");
    expect(open.metadata).toEqual({ version: "2.1.0" });
    expect(open.content.data).toEqual({ state: { ...header, value: 1 }, buffer_paths: [["data"]] });
    expect([...open.buffers[0]!]).toEqual([9]);
    sent = [];
    m.set({ value: 1, other: "x" });
    expect(sent.map((s) => s.content.data)).toEqual([{ method: "update", state: { other: "x" }, buffer_paths: [] }]);
    sent = [];
    m.set({ value: 1 });
    expect(sent).toEqual([]);
  });

  it("applies a front end's update after echoing it, answers request_state, and forgets a closed model", () => {
    const m = new WidgetModel({ ...header, value: 1 });
    const seen: unknown[] = [];
    m.observe("value", (v, old, source) => seen.push([v, old, source]));
    sent = [];
    fromFrontend(m.modelId, { method: "update", state: { value: 5 }, buffer_paths: [] });
    expect(sent.map((s) => s.content.data)).toEqual([{ method: "echo_update", state: { value: 5 }, buffer_paths: [] }]);
    expect(m.get("value")).toBe(5);
    expect(seen).toEqual([[5, 1, "frontend"]]);
    sent = [];
    fromFrontend(m.modelId, { method: "request_state" });
    expect(sent[0]!.content.data).toEqual({ method: "update", state: { ...header, value: 5 }, buffer_paths: [] });
    expect(modelById(m.modelId)).toBe(m);
    receiveCommClose({ comm_id: m.modelId, data: {} }, { data: {}, metadata: {}, buffers: [] }, run);
    expect(m.closed).toBe(true);
    expect(modelById(m.modelId)).toBeUndefined();
  });

  it("a button's click, a dropdown's index, a box's references and an Output's outputs", () => {
    const b = new Button({ description: "go", tooltip: "go now" });
    let clicks = 0;
    b.onClick(() => clicks++);
    fromFrontend(b.modelId, { method: "custom", content: { event: "click" } });
    fromFrontend(b.modelId, { method: "custom", content: { event: "hover" } });
    expect(clicks).toBe(1);
    const d = new Dropdown({ options: ["x", "y"], value: "y" });
    expect(d.get("index")).toBe(1);
    const chosen: unknown[] = [];
    d.onChange((v) => chosen.push(v));
    fromFrontend(d.modelId, { method: "update", state: { index: 0 }, buffer_paths: [] });
    expect(chosen).toEqual(["x"]);
    expect(() => new Dropdown({ options: ["x"], value: "nope" })).toThrow(/not one of the options/);
    const box = new HBox([b, d]);
    expect(box.getState().children).toEqual([`IPY_MODEL_${b.modelId}`, `IPY_MODEL_${d.modelId}`]);
    expect(box.getState().layout).toMatch(/^IPY_MODEL_/);
    const out = new Output();
    sent = [];
    out.appendStdout("hi\n");
    expect(sent[0]!.content.data.state.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hi\n" }]);
  });

  it("answers request_states on jupyter.widget.control with every open model", () => {
    const m = new WidgetModel({ ...header, value: 42 });
    expect(receiveCommOpen({ comm_id: "ctl", target_name: "jupyter.widget.control", data: {} }, { data: {}, metadata: {}, buffers: [] }, run)).toBe(true);
    sent = [];
    fromFrontend("ctl", { method: "request_states" });
    const reply = sent[0]!.content.data;
    expect(reply.method).toBe("update_states");
    expect(reply.states[m.modelId]).toEqual({ model_name: "M", model_module: "m", model_module_version: "1.0.0", state: { ...header, value: 42 } });
  });

  it("request_states carries binary values as buffers with [model id, 'state', key] paths", () => {
    const m = new WidgetModel({ ...header, blob: new Uint8Array([4, 5]) });
    receiveCommOpen({ comm_id: "ctl2", target_name: "jupyter.widget.control", data: {} }, { data: {}, metadata: {}, buffers: [] }, run);
    sent = [];
    fromFrontend("ctl2", { method: "request_states" });
    const msg = sent[0]!;
    const i = (msg.content.data.buffer_paths as unknown[][]).findIndex((p) => p[0] === m.modelId);
    expect(msg.content.data.buffer_paths[i]).toEqual([m.modelId, "state", "blob"]);
    expect([...msg.buffers[i]!]).toEqual([4, 5]);
    expect(msg.content.data.states[m.modelId].state.blob).toBeUndefined();
  });

  it("keeps a model the front end creates on jupyter.widget, with its buffers", () => {
    const data = { state: { ...header, value: 3 }, buffer_paths: [["blob"]] };
    expect(receiveCommOpen({ comm_id: "front1", target_name: "jupyter.widget", data }, { data, metadata: { version: "2.1.0" }, buffers: [new Uint8Array([7])] }, run)).toBe(true);
    const m = modelById("front1")!;
    expect(m.get("value")).toBe(3);
    expect([...(m.get("blob") as Uint8Array)]).toEqual([7]);
  });
});
