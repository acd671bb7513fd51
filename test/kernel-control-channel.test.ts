/**
 * kernel/control-channel.ts in process, through the kernel's comm layer: the real-clock path (operations
 * awaited, replies later) and requests that must change nothing. The end-to-end test from jupyter_client is
 * kernel-control.test.ts; the TypeScript client's is client.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { receiveCommMsg, receiveCommOpen } from "../kernel/comm.js";
import { installControlChannel } from "../kernel/control-channel.js";
import { output } from "../kernel/output.js";
import { defmodule, getRuntime, resetRuntime, snapshot } from "../runtime/index.js";

let replies: Record<string, any>[] = [];
const run = (fn: () => void) => fn();
let unregister: () => void;
let commNo = 0;

beforeAll(() => {
  unregister = installControlChannel();
  output.active = { comm: (type, content) => type === "comm_msg" && replies.push(content.data as Record<string, any>) };
});
afterAll(() => {
  unregister();
  output.active = null;
  resetRuntime({ clock: "virtual", autoDrive: false });
});
beforeEach(() => {
  replies = [];
});

function openControl(): (data: unknown) => void {
  const id = `ctl-${++commNo}`;
  expect(receiveCommOpen({ comm_id: id, target_name: "otp-lab.control", data: {} }, { data: {}, metadata: {}, buffers: [] }, run)).toBe(true);
  return (data) => receiveCommMsg({ comm_id: id, data }, { data, metadata: {}, buffers: [] }, run);
}

async function reply(id: number, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = replies.find((x) => x.id === id);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`no reply ${id}; got ${JSON.stringify(replies)}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe("with the real clock", () => {
  it("awaits blocking operations and replies when they are done", async () => {
    resetRuntime({ clock: "real", autoDrive: true });
    defmodule("Slow", { init: (n: number) => ["ok", n] });
    const send = openControl();
    send({ id: 1, op: "start_supervisor", strategy: "rest_for_one", children: [{ id: "a", module: "Slow", arg: 1 }, { id: "b" }] });
    const started = await reply(1);
    expect(started.ok).toBe(true);
    expect(started.result.tree.root.strategy).toBe("rest_for_one");
    const [a] = started.result.tree.root.children.map((c: { pid: string }) => c.pid);
    send({ id: 2, op: "restart_child", sup: started.result.pid, child: "a" });
    const restarted = await reply(2);
    expect(restarted).toMatchObject({ ok: true, result: ["ok", expect.stringMatching(/^<0\.\d+\.0>$/)] });
    expect(restarted.result[1]).not.toBe(a);
    send({ id: 3, op: "restart_child", sup: started.result.pid, child: "zz" });
    expect(await reply(3)).toMatchObject({ ok: false, error: { reason: "not_found" } });
  });
});

describe("with the virtual clock", () => {
  it("replies at once, settled, and a bad request leaves processes, time and the event log as they were", () => {
    resetRuntime({ clock: "virtual", autoDrive: false });
    defmodule("C", { init: (n: number) => ["ok", n] });
    const send = openControl();
    send({ id: 1, op: "start_supervisor", name: "Top", children: [{ id: "inner", type: "supervisor", strategy: "one_for_all", children: [{ id: "x", module: "C", arg: 2 }] }] });
    expect(replies[0]).toMatchObject({ id: 1, ok: true });
    expect(snapshot("Top").root.children![0]!.children![0]!.id).toBe("x");
    const rt = getRuntime();
    const before = JSON.stringify([snapshot("Top"), rt.now(), rt.events.all().length]);
    const bad = [
      { id: 2, op: "start_supervisor", children: [{ id: "y", type: "worker", module: 5 }] },
      { id: 3, op: "start_supervisor", children: [{ id: "y", restart: "sometimes" }] },
      { id: 4, op: "add_child", sup: "Top", spec: { id: "z", shutdown: -1 } },
      { id: 5, op: "state", pid: "<0.999.0>" },
      { id: 6, op: "process_info" },
      { id: 7, op: "subscribe", topic: "process" },
    ];
    for (const b of bad) send(b);
    expect(replies.slice(1).map((r) => [r.id, r.ok])).toEqual(bad.map((b) => [b.id, false]));
    expect(replies[1]!.error.message).toMatch(/module must be the name of a module defined with defmodule/);
    expect(replies[2]!.error.message).toMatch(/restart must be one of permanent, transient, temporary/);
    expect(replies[3]!.error.message).toMatch(/shutdown must be milliseconds/);
    expect(replies[4]!.error.message).toMatch(/no live process "<0.999.0>"/);
    expect(replies[5]!.error.message).toMatch(/give "pid" as a pid such as "<0.82.0>"/);
    expect(replies[6]!.error.message).toMatch(/give "pid" as a pid/);
    expect(JSON.stringify([snapshot("Top"), rt.now(), rt.events.all().length])).toBe(before);
  });
});
