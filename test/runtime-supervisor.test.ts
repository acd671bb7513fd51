/** Supervisor flags, child specs and start-up results (R31–R37, R68–R71), code change, and real-time mode. */
import { describe, expect, it } from "vitest";
import { Runtime, setRuntime, defmodule, GenServer, Supervisor, sys, hotSwap, ChildRecord, list, type Pid, type Term, spawn, receive, send, sleep } from "../runtime/index.js";

const fresh = () => setRuntime(new Runtime({ clock: "virtual" }));
const W = () => defmodule("W", { init: (a: Term) => ["ok", a] });
const spec = (id: string, extra: Record<string, unknown> = {}) => ({ id, start: () => GenServer.startLink(W(), id), ...extra });

describe("validation with OTP's tagged errors", () => {
  it("R32: flags", async () => {
    fresh();
    const cases: Array<[Record<string, unknown>, Term]> = [
      [{ strategy: "all_for_one" }, ["invalid_strategy", "all_for_one"]],
      [{ intensity: -1 }, ["invalid_intensity", -1]],
      [{ period: 0 }, ["invalid_period", 0]],
      [{ period: "infinity" }, ["invalid_period", "infinity"]],
      [{ autoShutdown: "sometimes" }, ["invalid_auto_shutdown", "sometimes"]],
    ];
    for (const [flags, reason] of cases) {
      expect(await Supervisor.startLink([], flags)).toEqual(["error", ["supervisor_data", reason]]);
    }
  });
  it("R33/R34: child specs, in start_child and in init", async () => {
    fresh();
    const [, sup] = (await Supervisor.startLink([], { strategy: "one_for_one" })) as [string, Pid];
    const cases: Array<[unknown, Term]> = [
      [{ start: () => "ignore" }, "missing_id"],
      [{ id: "x" }, "missing_start"],
      [{ id: "x", start: 42 }, ["invalid_mfa", 42]],
      [spec("x", { restart: "sometimes" }), ["invalid_restart_type", "sometimes"]],
      [spec("x", { shutdown: -5 }), ["invalid_shutdown", -5]],
      [spec("x", { type: "manager" }), ["invalid_child_type", "manager"]],
      [spec("x", { significant: true, restart: "transient" }), ["bad_combination", list<Term>(["auto_shutdown", "never"], ["significant", true])]],
      ["just a string", ["invalid_child_spec", "just a string"]],
    ];
    for (const [s, reason] of cases) expect(await Supervisor.startChild(sup, s as never)).toEqual(["error", reason]);
    expect(await Supervisor.startLink([spec("a"), spec("a")])).toEqual(["error", ["start_spec", ["duplicate_child_name", "a"]]]);
    const [, sig] = (await Supervisor.startLink([], { autoShutdown: "any_significant" })) as [string, Pid];
    expect(await Supervisor.startChild(sig, spec("p", { significant: true }) as never)).toStrictEqual(["error", ["bad_combination", list<Term>(["restart", "permanent"], ["significant", true])]]);
  });
  it("R33/R71: get_childspec fills in the defaults", async () => {
    fresh();
    const [, sup] = (await Supervisor.startLink([spec("w"), spec("s", { type: "supervisor" })])) as [string, Pid];
    const [, w] = (await Supervisor.getChildspec(sup, "w")) as [string, Record<string, Term>];
    const [, s] = (await Supervisor.getChildspec(sup, "s")) as [string, Record<string, Term>];
    expect([w.restart, w.type, w.shutdown, w.significant]).toEqual(["permanent", "worker", 5000, false]);
    expect(s.shutdown).toBe("infinity");
    expect(await Supervisor.getChildspec(sup, "zz")).toEqual(["error", "not_found"]);
  });
});

describe("start-up (R35–R37, R68)", () => {
  it("init results: ignore, bad return, failed child rolls back in reverse order", async () => {
    const rt = fresh();
    expect(await Supervisor.startLink(defmodule("S1", { init: () => "ignore" }))).toBe("ignore");
    expect(await Supervisor.startLink(defmodule("S2", { init: () => "bad" }))).toEqual(["error", ["bad_return", ["S2", "init", "bad"]]]);
    const exits: string[] = [];
    rt.events.subscribe((e) => e.type === "exit" && exits.push(e.reason));
    const r = await Supervisor.startLink([spec("a"), { id: "b", start: () => ["error", "boom"] }, spec("c")]);
    expect(r).toEqual(["error", ["shutdown", ["failed_to_start_child", "b", "boom"]]]);
    expect(exits).toEqual([":shutdown", "{:shutdown, {:failed_to_start_child, :b, :boom}}"]); // a, then the supervisor
  });
  it("a failing start_child returns the raw child record (OTP 25) and stores nothing", async () => {
    fresh();
    const [, sup] = (await Supervisor.startLink([])) as [string, Pid];
    const r = (await Supervisor.startChild(sup, { id: "x", start: () => ["error", "nope"] })) as [string, [Term, Term]];
    expect(r[0]).toBe("error");
    expect(r[1][0]).toBe("nope");
    expect(r[1][1]).toBeInstanceOf(ChildRecord);
    expect(await Supervisor.whichChildren(sup)).toEqual([]);
  });
});

describe("code change of a supervisor", () => {
  it("re-reads init: new flags, new specs added unstarted, running pids kept", async () => {
    fresh();
    const Sup = defmodule("MySup", { init: () => ["ok", [{ strategy: "one_for_one", intensity: 1 }, [spec("a")]]] });
    const [, sup] = (await Supervisor.startLink(Sup)) as [string, Pid];
    const [{ child: a }] = await Supervisor.whichChildren(sup);
    defmodule("MySup", { init: () => ["ok", [{ strategy: "one_for_all", intensity: 5 }, [spec("a"), spec("b")]]] });
    const res = await hotSwap(Sup);
    expect(res.map((r) => r.result)).toEqual(["ok"]);
    const state = (await sys.getState(sup)) as { strategy: string; intensity: number };
    expect([state.strategy, state.intensity]).toEqual(["one_for_all", 5]);
    const list = await Supervisor.whichChildren(sup);
    expect(list.map((c) => [c.id, c.child === a ? "same" : c.child])).toEqual([["b", "undefined"], ["a", "same"]]);
    defmodule("MySup", { init: () => ["ok", [{ strategy: "bogus" }, []]] });
    await sys.suspend(sup);
    expect(await sys.changeCode(sup, Sup, 1, [])).toEqual(["error", ["error", ["invalid_strategy", "bogus"]]]);
    await sys.resume(sup);
  });
});

describe("real-time mode", () => {
  it("runs processes and timers by itself on the wall clock", async () => {
    const rt = setRuntime(new Runtime({ clock: "real", autoDrive: true }));
    const got: Term[] = [];
    const p = spawn(function* () {
      got.push(yield* receive(null, 30));
      got.push(yield* receive());
    });
    await new Promise((r) => setTimeout(r, 60));
    send(p, "late");
    await sleep(5);
    expect(got.length).toBe(2);
    expect(typeof got[0]).toBe("symbol");
    expect(got[1]).toBe("late");
    expect(rt.now()).toBeGreaterThanOrEqual(60);
  });
});
