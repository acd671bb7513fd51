/** GenServer (R16–R28), hot code loading (R84–R88), fault injection and introspection. */
import { beforeEach, describe, expect, it } from "vitest";
import {
  Runtime, setRuntime, defmodule, GenServer, Supervisor, DynamicSupervisor, sys, spawn, receive, trapExit, hotSwap, purgeModule, softPurgeModule,
  loadNewVersion, kill, crash, injectDelay, chaos, processInfo, snapshot, ExitSignal, Crash, sleep, type Term, type Pid,
} from "../runtime/index.js";

let rt: Runtime;
beforeEach(() => {
  rt = setRuntime(new Runtime({ clock: "virtual" }));
});

const log: Term[] = [];
const Counter = () =>
  defmodule("Counter", {
    init: (n: number) => (n < 0 ? ["stop", "negative"] : n === 0 ? "ignore" : ["ok", n]),
    handleCall(req: Term, _from: unknown, n: number) {
      if (req === "get") return ["reply", n, n];
      if (req === "bad") return "nonsense";
      if (req === "stop") return ["stop", "normal", "bye", n];
      if (Array.isArray(req) && req[0] === "slow") return (function* () { yield* sleep(req[1] as number); return ["reply", "done", n]; })();
      if (req === "raise") throw new Error("kaboom");
      return ["reply", "ok", n + 1];
    },
    handleCast: (msg: Term, n: number) => ["noreply", n + (msg as number)],
    handleInfo: (msg: Term, n: number) => (msg === "timeout" ? (log.push(["timeout", n]), ["noreply", n]) : ["noreply", n, 100]),
    terminate: (reason: Term, n: number) => void log.push(["terminate", reason, n]),
  });

describe("start (R16)", () => {
  it("maps init results to start results", async () => {
    const C = Counter();
    const [tag, pid] = (await GenServer.start(C, 5)) as [string, Pid];
    expect(tag).toBe("ok");
    expect(await GenServer.call(pid, "get")).toBe(5);
    expect(await GenServer.start(C, 0)).toBe("ignore");
    expect(await GenServer.start(C, -1)).toEqual(["error", "negative"]);
    const Bad = defmodule("Bad", { init: () => 42 });
    expect(await GenServer.start(Bad)).toEqual(["error", ["bad_return_value", 42]]);
    const Boom = defmodule("Boom", { init: () => { throw new Error("no"); } });
    const r = (await GenServer.start(Boom)) as [string, Crash];
    expect(r[0]).toBe("error");
    expect(r[1]).toBeInstanceOf(Crash);
  });
  it("a name can be registered once", async () => {
    const C = Counter();
    const [, pid] = (await GenServer.start(C, 1, { name: "c" })) as [string, Pid];
    expect(await GenServer.start(C, 1, { name: "c" })).toEqual(["error", ["already_started", pid]]);
    expect(await GenServer.call("c", "get")).toBe(1);
  });
});

describe("calls (R17–R21)", () => {
  it("fail with the OTP reason shapes: noproc, timeout, server exit", async () => {
    const C = Counter();
    const [, pid] = (await GenServer.start(C, 1)) as [string, Pid];
    await expect(GenServer.call("nobody", "get")).rejects.toMatchObject({ reason: ["noproc", ["Elixir.GenServer", "call", ["nobody", "get", 5000]]] });
    await expect(GenServer.call(pid, ["slow", 6000], 5000)).rejects.toMatchObject({ reason: ["timeout", expect.anything()] });
    expect(rt.now()).toBe(5000);
    await expect(GenServer.call(pid, "raise")).rejects.toBeInstanceOf(ExitSignal);
    expect(pid.dead).toBe(true);
    expect(log.some((l) => Array.isArray(l) && l[0] === "terminate" && l[1] instanceof Crash)).toBe(true);
  });
  it("R19: a late reply never lands in the caller's mailbox", async () => {
    const C = Counter();
    const [, pid] = (await GenServer.start(C, 1)) as [string, Pid];
    let caller: Pid | undefined;
    caller = spawn(function* () {
      try {
        yield* GenServer.call(pid, ["slow", 200], 100);
      } catch {
        yield* receive(null, 500);
      }
    });
    rt.advance(150);
    rt.advance(100);
    expect(caller.mailbox?.length ?? 0).toBe(0);
  });
  it("R20: a bad return stops the server with bad_return_value", async () => {
    const [, pid] = (await GenServer.start(Counter(), 1)) as [string, Pid];
    await expect(GenServer.call(pid, "bad")).rejects.toMatchObject({ reason: [["bad_return_value", "nonsense"], expect.anything()] });
  });
  it("R21: {stop, Reason, Reply, S} runs terminate before the reply", async () => {
    log.length = 0;
    const [, pid] = (await GenServer.start(Counter(), 3)) as [string, Pid];
    expect(await GenServer.call(pid, "stop")).toBe("bye");
    expect(log).toEqual([["terminate", "normal", 3]]);
    expect(pid.dead).toBe(true);
  });
  it("R22: a timeout result delivers handleInfo('timeout') unless a message comes first", async () => {
    log.length = 0;
    const [, pid] = (await GenServer.start(Counter(), 3)) as [string, Pid];
    rt.send(pid, "ping"); // handleInfo returns a 100 ms timeout
    rt.advance(50);
    GenServer.cast(pid, 1); // cancels it
    rt.advance(200);
    expect(log).toEqual([]);
    rt.send(pid, "ping");
    rt.advance(100);
    expect(log).toEqual([["timeout", 4]]);
  });
  it("R26/R27: stop runs terminate without trapping; cast never fails", async () => {
    log.length = 0;
    const [, pid] = (await GenServer.start(Counter(), 7)) as [string, Pid];
    expect(GenServer.cast("nobody", 1)).toBe("ok");
    expect(await GenServer.stop(pid, "shutdown")).toBe("ok");
    expect(log).toEqual([["terminate", "shutdown", 7]]);
  });
  it("R23/R24: the parent's exit reaches terminate only when trapping", async () => {
    log.length = 0;
    const Trapper = defmodule("Trapper", { init: () => (trapExit(true), ["ok", 0]), terminate: (r: Term) => void log.push(["t", r]) });
    const parent = spawn(function* () {
      yield* GenServer.startLink(Trapper);
      yield* GenServer.startLink(Counter(), 1);
      yield* receive();
    });
    rt.settle();
    rt.exit(parent, "normal_exit_of_parent");
    rt.settle();
    expect(log).toEqual([["t", "normal_exit_of_parent"]]);
  });
});

describe("sys and hot code swap (R28, R84–R88)", () => {
  it("change_code works only while suspended, and hotSwap migrates state", async () => {
    const V1 = defmodule("Acc", { init: () => ["ok", 10], handleCall: (_r: Term, _f: unknown, s: number) => ["reply", s, s] });
    const [, pid] = (await GenServer.start(V1)) as [string, Pid];
    expect(await sys.changeCode(pid, V1, 1, [])).toEqual(["error", ["unknown_system_msg", ["change_code", "Acc", 1, []]]]);
    const V2 = defmodule("Acc", {
      init: () => ["ok", { total: 0 }],
      handleCall: (_r: Term, _f: unknown, s: { total: number }) => ["reply", s.total, s],
      codeChange: (old: Term, s: number) => ["ok", { total: s, from: old }],
    });
    expect(V2).toBe(V1);
    expect(processInfo(pid)?.oldCode).toBe(true);
    const res = await hotSwap(V2);
    expect(res.map((r) => r.result)).toEqual(["ok"]);
    expect(await GenServer.call(pid, "x")).toBe(10);
    expect(await sys.getState(pid)).toEqual({ total: 10, from: 1 });
    expect(processInfo(pid)?.version).toBe(2);
  });
  it("purge kills processes still in old code; soft purge refuses; load_file needs a purge", () => {
    const Loop = defmodule("Loop", {
      *loop(): Generator<any, void, any> {
        for (;;) yield* receive();
      },
    });
    const p = spawn([Loop, "loop", []]);
    rt.settle();
    expect(loadNewVersion(Loop, { *loop() {} })).toEqual(["module", "Loop"]);
    expect(loadNewVersion(Loop, { *loop() {} })).toEqual(["error", "not_purged"]);
    expect(softPurgeModule(Loop)).toBe(false);
    expect(purgeModule(Loop)).toBe(true);
    rt.settle();
    expect(p.exitReason).toBe("killed");
    expect(purgeModule(Loop)).toBe(false);
  });
});

describe("faults and introspection", () => {
  it("crash runs terminate; kill does not; injectDelay slows handling in virtual time", async () => {
    log.length = 0;
    const [, a] = (await GenServer.start(Counter(), 1)) as [string, Pid];
    const [, b] = (await GenServer.start(Counter(), 2)) as [string, Pid];
    crash(a, "boom");
    kill(b);
    rt.settle();
    expect(a.exitReason).toBe("boom");
    expect(b.exitReason).toBe("killed");
    expect(log).toEqual([["terminate", "boom", 1]]);
    const [, c] = (await GenServer.start(Counter(), 3)) as [string, Pid];
    injectDelay(c, 250);
    const t0 = rt.now();
    expect(await GenServer.call(c, "get")).toBe(3);
    expect(rt.now() - t0).toBe(250);
  });
  it("chaos with a seed kills the same workers at the same times", async () => {
    const run = async () => {
      const r = setRuntime(new Runtime());
      const W = defmodule("W", { init: () => ["ok", 0] });
      const [, sup] = (await Supervisor.startLink(
        ["a", "b", "c", "d"].map((id) => ({ id, start: () => GenServer.startLink(W) })),
        { strategy: "one_for_one", intensity: 100, period: 5 },
      )) as [string, Pid];
      const monkey = chaos(sup, { seed: 7, rate: 4 });
      r.advance(3000);
      monkey.stop();
      return monkey.kills.map((k) => `${k.t}:${k.id}`);
    };
    const first = await run();
    expect(first).toHaveLength(12);
    expect(await run()).toEqual(first);
  });
  it("snapshots show restarts, restarting children and dynamic children", async () => {
    const W = defmodule("W2", { init: () => ["ok", 0] });
    const [, dyn] = (await DynamicSupervisor.startLink({})) as [string, Pid];
    const [, sup] = (await Supervisor.startLink(
      [{ id: "w", start: () => GenServer.startLink(W) }, { id: "dyn", type: "supervisor", start: () => ["ok", dyn] }],
      { strategy: "one_for_one" },
    )) as [string, Pid];
    await DynamicSupervisor.startChild(dyn, { id: "x", start: () => GenServer.startLink(W) });
    const [{ child }] = await Supervisor.whichChildren(sup);
    void child;
    const w = snapshot(sup).root.children![0];
    kill(rt.whereis(w.pid!) ?? (rt.processes().find((p) => p.label === w.pid) as Pid));
    rt.settle();
    const snap = snapshot(sup);
    expect(snap.root.strategy).toBe("one_for_one");
    expect(snap.root.children!.map((c) => [c.id, c.status, c.restarts])).toEqual([["w", "running", 1], ["dyn", "running", 0]]);
    expect(snap.root.children![0].lastExitReason).toBe(":killed");
    expect(snap.root.children![1].children!.map((c) => c.id)).toEqual(["x"]);
    expect(processInfo(snap.root.children![0].pid!)).toBeUndefined(); // a label is not a registered name
  });
});

describe("continue and extra arguments", () => {
  it("handleContinue runs right after init and after a callback, before the next message", async () => {
    const seen: Term[] = [];
    const M = defmodule("Cont", {
      init: () => ["ok", 0, ["continue", "warm_up"]],
      handleContinue: (c: Term, s: number) => (seen.push(c), ["noreply", s + 1]),
      handleCall: (req: Term, _f: unknown, s: number) => (req === "again" ? ["reply", s, s, ["continue", "again"]] : ["reply", s, s, "hibernate"]),
    });
    const [, pid] = (await GenServer.start(M)) as [string, Pid];
    expect(await GenServer.call(pid, "again")).toBe(1);
    expect(await GenServer.call(pid, "get")).toBe(2);
    expect(seen).toEqual(["warm_up", "again"]);
  });
  it("DynamicSupervisor prepends extra_arguments on start and on restart (R72, R73)", async () => {
    const args: Term[] = [];
    const M = defmodule("Extra", { init: (a: Term) => (args.push(a), ["ok", a]) });
    const [, dyn] = (await DynamicSupervisor.startLink({ extraArguments: ["tenant-1"] })) as [string, Pid];
    const [, child] = (await DynamicSupervisor.startChild(dyn, { id: "x", start: (tenant: string, n: number) => GenServer.startLink(M, [tenant, n]) , restart: "permanent", ...{} } as never)) as [string, Pid];
    void child;
    expect(args).toEqual([["tenant-1", undefined]]);
    const r = await DynamicSupervisor.startChild(dyn, { id: "y", start: ["Extra" as never, "x", [7]] });
    expect(r).toEqual(["error", ["EXIT", ["undef", ["Extra", "x", ["tenant-1", 7]]]]]);
    kill(child);
    rt.settle();
    expect(args).toEqual([["tenant-1", undefined], ["tenant-1", undefined]]);
  });
});
