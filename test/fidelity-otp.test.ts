/**
 * "OTP fidelity, round two": behaviours where the runtime used to differ from the BEAM. Every expected value was
 * printed by Erlang/OTP 25.2.3 or Elixir 1.14.0; the programs and their output are in test/fidelity/ (README
 * there), and each test quotes the line it checks. Pids and refs are the runtime's own.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  Runtime,
  setRuntime,
  spawn,
  spawnLink,
  exit,
  isAlive,
  TIMEOUT,
  receive,
  link,
  monitor,
  demonitor,
  trapExit,
  register,
  whereis,
  send,
  kill,
  sleep,
  flush,
  Crash,
  ErlangError,
  ExitSignal,
  GenServer,
  Supervisor,
  DynamicSupervisor,
  Registry,
  PartitionSupervisor,
  Agent,
  Global,
  Task,
  sys,
  defmodule,
  list,
  ErlList,
  Bin,
  type Pid,
  type Ref,
  type Term,
} from "../runtime/index.js";

let rt: Runtime;
beforeEach(() => {
  rt = setRuntime(new Runtime({ clock: "virtual" }));
});

function deadProcess(): Pid {
  const dead = spawn(function* () {});
  rt.settle();
  return dead;
}

/** A process that waits for `stop` (the `idle/0` of signal_order.erl). */
function* idle() {
  yield* receive((m) => m === "stop");
}

/** The reasons of the EXIT messages in the shell's mailbox, in order, named by `names` (the rest is dropped). */
function exitReasons(msgs: Term[], names: Map<Pid, string> | null = null): Term[] {
  const out: Term[] = [];
  for (const m of msgs) {
    if (!Array.isArray(m) || m[0] !== "EXIT") continue;
    out.push(names ? [names.get(m[1] as Pid) ?? "?", m[2]] : m[2]);
  }
  return out;
}

describe("1. signals in order, acted on when handled (signal_order.erl)", () => {
  it("a linked process's normal exit reaches the trapping shell before a kill the shell sent later", () => {
    // signal_order.out:  1 issue example: [normal,killed]
    const a = spawnLink(function* () {});
    const b = spawnLink(idle);
    exit(b, "kill");
    rt.settle();
    expect(exitReasons(flush(), new Map([[a, "a"], [b, "b"]]))).toEqual([["a", "normal"], ["b", "killed"]]);
  });

  it("a crash caused by an earlier message comes before a later kill", () => {
    // signal_order.out:  2 crash then kill: [boom,killed]
    const c = spawnLink(function* () {
      yield* receive((m) => m === "go");
      exit("boom");
    });
    const d = spawnLink(idle);
    send(c, "go");
    exit(d, "kill");
    rt.settle();
    expect(exitReasons(flush(), new Map([[c, "c"], [d, "d"]]))).toEqual([["c", "boom"], ["d", "killed"]]);
  });

  it("messages and exit signals from one sender reach a trapping process in send order", () => {
    // signal_order.out:  3 same sender order: [m1,{'EXIT',snd,reason1},m2,{'EXIT',snd,normal},m3]
    let got: Term[] = [];
    const rcv = spawn(function* () {
      trapExit(true);
      yield* receive((m) => m === "go");
      yield* sleep(20);
      for (let m = yield* receive(null, 0); m !== TIMEOUT; m = yield* receive(null, 0)) got.push(m);
    });
    rt.settle();
    const snd = spawn(function* () {
      send(rcv, "m1");
      exit(rcv, "reason1");
      send(rcv, "m2");
      exit(rcv, "normal");
      send(rcv, "m3");
      send(rcv, "go");
    });
    rt.advance(50);
    got = got.map((m) => (Array.isArray(m) && m[1] === snd ? ["EXIT", "snd", m[2]] : m));
    expect(got).toEqual(["m1", ["EXIT", "snd", "reason1"], "m2", ["EXIT", "snd", "normal"], "m3"]);
  });

  it("monitor then exit(kill): DOWN killed; exit(kill) then monitor: DOWN noproc", () => {
    // signal_order.out:  4a monitor then kill: killed / 4b kill then monitor: noproc
    const e = spawn(idle);
    const me = monitor(e);
    exit(e, "kill");
    rt.settle();
    expect(flush()).toEqual([["DOWN", me, "process", e, "killed"]]);
    const f = spawn(idle);
    exit(f, "kill");
    const mf = monitor(f);
    rt.settle();
    expect(flush()).toEqual([["DOWN", mf, "process", f, "noproc"]]);
  });

  it("exit(kill) then link from a trapping process: link returns true, then {'EXIT', Pid, noproc}", () => {
    // signal_order.out:  5 kill then link (trapping): true [{'EXIT',g,noproc}]
    const g = spawn(idle);
    exit(g, "kill");
    expect(link(g)).toBe(true);
    rt.settle();
    expect(flush()).toEqual([["EXIT", g, "noproc"]]);
  });

  it("a process that does not trap exits dies on the exit signal without handling messages queued before it", () => {
    // signal_order.out:  6 queued message then exit: boom []
    const h = spawn(function* () {
      yield* sleep(20);
      const m = yield* receive(null, 0);
      if (m !== TIMEOUT) send(rt.shell, ["handled", m]);
    });
    const mh = monitor(h);
    send(h, "hello");
    exit(h, "boom");
    rt.advance(50);
    expect(flush()).toEqual([["DOWN", mh, "process", h, "boom"]]);
  });

  it("a process killed right after spawn never runs", () => {
    // signal_order.out:  7 killed before it ran: killed []
    const i = spawn(function* () {
      send(rt.shell, "i_ran");
    });
    const mi = monitor(i);
    exit(i, "kill");
    rt.advance(50);
    expect(flush()).toEqual([["DOWN", mi, "process", i, "killed"]]);
  });

  it("is_process_alive after exit(kill) is false: the caller's signals are handled first", () => {
    // signal_order.out:  8 alive after kill: false
    const j = spawn(idle);
    rt.settle();
    exit(j, "kill");
    expect(isAlive(j)).toBe(false);
    expect(j.exitReason).toBe("killed");
  });

  it("a third process sees a link's normal exit before a kill sent after the message that ended it", () => {
    // signal_order.out:  9 observer: [{k1,normal},{k2,killed}]
    let seen: Term[] = [];
    const obs = spawn(function* () {
      trapExit(true);
      const [, l1, l2] = (yield* receive((m) => Array.isArray(m) && m[0] === "link")) as [string, Pid, Pid];
      link(l1);
      link(l2);
      yield* receive((m) => m === "go");
      yield* sleep(30);
      for (let m = yield* receive(null, 0); m !== TIMEOUT; m = yield* receive(null, 0)) seen.push(m);
    });
    const k1 = spawn(function* () {
      yield* receive((m) => m === "go");
    });
    const k2 = spawn(idle);
    send(obs, ["link", k1, k2]);
    rt.settle();
    send(k1, "go");
    exit(k2, "kill");
    send(obs, "go");
    rt.advance(50);
    seen = exitReasons(seen, new Map([[k1, "k1"], [k2, "k2"]]));
    expect(seen).toEqual([["k1", "normal"], ["k2", "killed"]]);
  });
});

describe("2. link to a dead process", () => {
  it("exits a non-trapping caller with {noproc, Stack}, an error exception it could catch", () => {
    // link_monitor.out:  link-dead-nontrap: {noproc, [{erlang,link,[<0.79.0>],...}, ...]}
    //                    try link: {error,noproc}          (try link(Dead) catch C:E -> {C,E} end)
    const dead = deadProcess();
    const p = spawn(function* () {
      link(dead);
      yield* receive();
    });
    let caught: unknown;
    spawn(function* () {
      try {
        link(dead);
      } catch (e) {
        caught = e;
      }
    });
    rt.settle();
    expect(p.exitReason).toBeInstanceOf(Crash);
    expect((p.exitReason as Crash).error).toBe("noproc");
    expect(caught).toBeInstanceOf(ErlangError);
    expect((caught as ErlangError).original).toBe("noproc");
  });

  it("returns true to a trapping caller and sends it {'EXIT', Dead, noproc}", () => {
    // link_monitor.out:  trap link result true msg {'EXIT',<0.79.0>,noproc}
    const dead = deadProcess();
    let result: unknown;
    let msg: Term;
    spawn(function* () {
      trapExit(true);
      result = link(dead);
      msg = yield* receive();
    });
    rt.settle();
    expect(result).toBe(true);
    expect(msg!).toEqual(["EXIT", dead, "noproc"]);
  });
});

describe("3. monitor by registered name", () => {
  it("of a name nobody has: DOWN at once, naming {Name, Node}, reason noproc", async () => {
    // link_monitor.out:  monitor name: {'DOWN',#Ref<...>,process,{no_such_name,nonode@nohost},noproc} ref_match=true
    const ref = monitor("no_such_name");
    expect(await receive()).toEqual(["DOWN", ref, "process", ["no_such_name", "nonode@nohost"], "noproc"]);
  });

  it("of a registered process: its DOWN names {Name, Node} too", async () => {
    // code_change_child_spec.out:  monitor existing name: {:DOWN, #Reference<...>, :process, {:reg_a, :nonode@nohost}, :killed}
    const [, a] = (await Agent.start(() => 0, { name: "reg_a" })) as [string, Pid];
    const ref = monitor("reg_a");
    kill(a);
    expect(await receive()).toEqual(["DOWN", ref, "process", ["reg_a", "nonode@nohost"], "killed"]);
  });
});

describe("6. demonitor options", () => {
  it("info tells whether the monitor was active; flush removes a DOWN already received", async () => {
    // link_monitor.out:  demonitor info: true / demonitor info again: false
    //                    demonitor flush,info after DOWN: false, mailbox: {messages,[]}
    //                    demonitor info after DOWN no flush: false, mailbox: {messages,[{'DOWN',...,killed}]}
    const waiter = () => spawn(function* () {
      yield* receive();
    });
    const p = waiter();
    const r1 = monitor(p);
    expect(demonitor(r1, ["info"])).toBe(true);
    expect(demonitor(r1, ["info"])).toBe(false);
    expect(demonitor(r1)).toBe(true); // without info, always true

    const q = waiter();
    const r2 = monitor(q);
    kill(q);
    rt.settle();
    expect(demonitor(r2, ["flush", "info"])).toBe(false);
    expect(flush()).toEqual([]);

    const s = waiter();
    const r3 = monitor(s);
    kill(s);
    rt.settle();
    expect(demonitor(r3, { info: true })).toBe(false);
    expect(flush()).toEqual([["DOWN", r3, "process", s, "killed"]]);
    expect(() => demonitor(r3, ["flush", "nope" as "info"])).toThrow(ErlangError);
  });
});

describe("4. a failing code_change", () => {
  async function changeWith(codeChange: () => Term): Promise<[Term, Pid]> {
    const M = defmodule(`CC${Math.random()}`, { init: (s: Term) => ["ok", s], codeChange });
    const [, s] = (await GenServer.start(M, 1)) as [string, Pid];
    await sys.suspend(s);
    return [await sys.changeCode(s, M, "old", "extra"), s];
  }

  it("raise: {error, {'EXIT', {Reason, Stack}}}; the server lives on", async () => {
    // code_change_child_spec.out:  change_code raise: {:error, {:EXIT, {%RuntimeError{message: "nope"}, [...]}}}
    //                              alive after failing change_code: true
    const [r, s] = await changeWith(() => {
      throw new Error("nope");
    });
    expect((r as Term[])[0]).toBe("error");
    const [tag, crash] = (r as Term[])[1] as [string, Crash];
    expect(tag).toBe("EXIT");
    expect(crash).toBeInstanceOf(Crash);
    expect((crash.error as Error).message).toBe("nope");
    expect(s.alive).toBe(true);
  });

  it("other results and exceptions: {error, Result}, {error, {'EXIT', R}} for exit, {error, T} for throw", async () => {
    // code_change_child_spec.out:  change_code error: {:error, {:error, :why}}
    //   change_code weird: {:error, :weird}   change_code throw: {:error, :t}   change_code exit: {:error, {:EXIT, :x}}
    expect((await changeWith(() => ["error", "why"]))[0]).toEqual(["error", ["error", "why"]]);
    expect((await changeWith(() => "weird"))[0]).toEqual(["error", "weird"]);
    expect(
      (
        await changeWith(() => {
          throw "t"; // a JS throw of a non-Error is Erlang's throw(t)
        })
      )[0],
    ).toEqual(["error", "t"]);
    expect(
      (
        await changeWith(() => {
          throw new ExitSignal("x");
        })
      )[0],
    ).toEqual(["error", ["EXIT", "x"]]);
  });
});

describe("6. child specs", () => {
  const W = () => defmodule("W", { init: (s: Term) => ["ok", s] });

  it("modules defaults to [Module]: the module of the process a start function started", async () => {
    // code_change_child_spec.out:  get_childspec map no modules: {:ok, %{id: :x, modules: [W], ...}}
    // (t7 in erl: supervisor:get_childspec(S, q) gives modules => [t7] for start {t7, w, []})
    const M = W();
    const [, sup] = (await Supervisor.startLink([{ id: "x", start: () => GenServer.startLink(M, 1) }], { strategy: "one_for_one" })) as [string, Pid];
    expect(((await Supervisor.getChildspec(sup, "x")) as [string, { modules: Term }])[1].modules).toEqual(["W"]);
    expect((await Supervisor.whichChildren(sup))[0].modules).toEqual(["W"]);
    const [, dyn] = (await DynamicSupervisor.startLink()) as [string, Pid];
    await DynamicSupervisor.startChild(dyn, { id: "d", start: () => GenServer.startLink(M, 2) });
    expect((await DynamicSupervisor.whichChildren(dyn))[0].modules).toEqual(["W"]);
  });

  it("bad_combination carries a property list, as OTP's", async () => {
    // code_change_child_spec.out:  bad_combination: {:error, {:bad_combination, [auto_shutdown: :never, significant: true]}}
    // erl (auto_shutdown any_significant): {error,{bad_combination,[{restart,permanent},{significant,true}]}}
    const M = W();
    const [, sup] = (await Supervisor.startLink([], { strategy: "one_for_one" })) as [string, Pid];
    const r = (await Supervisor.startChild(sup, { id: "y", start: () => GenServer.startLink(M, 1), restart: "temporary", significant: true })) as Term[];
    expect(r).toStrictEqual(["error", ["bad_combination", list<Term>(["auto_shutdown", "never"], ["significant", true])]]);
    expect((r[1] as Term[])[1]).toBeInstanceOf(ErlList);
  });
});

describe("6. Task.async without a supervisor", () => {
  it("await, yield, shutdown of a running and of a finished task", async () => {
    // tasks_partitions.out:  await: 42 / yield nil: nil / shutdown running: nil / shutdown finished: {:ok, :done}
    const t = Task.async(() => 42);
    expect(t.owner).toBe(rt.shell);
    expect(t.mfa).toEqual(["erlang", "apply", 2]);
    expect(await Task.await(t)).toBe(42);
    const slow = Task.async(function* () {
      yield* sleep(1000);
      return "late";
    });
    expect(await Task.yield(slow, 10)).toBe(null);
    expect(await Task.shutdown(slow)).toBe(null);
    expect(slow.pid.alive).toBe(false);
    const done = Task.async(() => "done");
    rt.settle();
    expect(await Task.shutdown(done)).toEqual(["ok", "done"]);
    // Replies and DOWNs were all taken; the shell traps exits, so the linked tasks' ends are EXIT messages.
    expect(flush()).toEqual([["EXIT", t.pid, "normal"], ["EXIT", done.pid, "normal"]]);
  });

  it("await timeout exits the caller with {timeout, {Task, await, [task, T]}}, which ends the linked task", () => {
    // tasks_partitions.out:  await timeout exit: {:timeout, {Task, :await, [%Task{...}, 50]}}
    //                        task alive after owner exit: false
    let task: ReturnType<typeof Task.async> | undefined;
    const owner = spawn(function* () {
      task = Task.async(function* () {
        yield* sleep(1000);
      });
      yield* Task.await(task, 50);
    });
    rt.advance(100);
    expect(owner.exitReason).toEqual(["timeout", ["Elixir.Task", "await", list<Term>(task!, 50)]]);
    expect(task!.pid.alive).toBe(false);
  });

  it("a task that raises takes its non-trapping caller down with the same reason (the link)", () => {
    // tasks_partitions.out:  crashing task kills caller: {%RuntimeError{message: "boom"}, [...]}
    const owner = spawn(function* () {
      const t = Task.async(() => {
        throw new Error("boom");
      });
      yield* Task.await(t);
    });
    rt.settle();
    expect(owner.exitReason).toBeInstanceOf(Crash);
    expect(((owner.exitReason as Crash).error as Error).message).toBe("boom");
  });

  it("a trapping caller's await exits with {Reason, {Task, await, [task, 5000]}}", () => {
    // tasks_partitions.out:  trapping caller await exit: {:bad, {Task, :await, [%Task{...}, 5000]}}
    let task: ReturnType<typeof Task.async> | undefined;
    const owner = spawn(function* () {
      trapExit(true);
      task = Task.async(() => {
        throw new ExitSignal("bad");
      });
      yield* Task.await(task);
    });
    rt.settle();
    expect(owner.exitReason).toEqual(["bad", ["Elixir.Task", "await", list<Term>(task!, 5000)]]);
  });

  it("shutdown after a caught await timeout stops the task (its own monitor: await dropped the task's)", () => {
    // Elixir 1.14 / OTP 25.2.3:
    //   elixir -e 't = Task.async(fn -> Process.sleep(10000) end); r = try do Task.await(t, 100) catch :exit, e -> {:caught, elem(e,0)} end;
    //     IO.inspect(r); IO.inspect(Task.shutdown(t, :brutal_kill)); IO.inspect(Process.alive?(t.pid)); t2 = Task.async(fn -> Process.sleep(10000) end);
    //     try do Task.await(t2, 100) catch :exit, _ -> :ok end; IO.inspect(Task.shutdown(t2, 500)); IO.inspect(Process.alive?(t2.pid)); IO.inspect(Process.info(self(), :messages))'
    //   {:caught, :timeout} / nil / false / nil / false / {:messages, []}
    const results: Term[] = [];
    let tasks: ReturnType<typeof Task.async>[] = [];
    const caller = spawn(function* () {
      for (const how of ["brutal_kill", 500] as const) {
        const t = Task.async(function* () {
          yield* sleep(10_000);
        });
        tasks.push(t);
        try {
          yield* Task.await(t, 100);
        } catch (e) {
          results.push(((e as ExitSignal).reason as Term[])[0]!);
        }
        results.push(yield* Task.shutdown(t, how));
        results.push(t.pid.alive);
      }
      results.push(flush().length);
    });
    rt.advance(2000);
    expect(caller.exitReason).toBe("normal");
    expect(results).toEqual(["timeout", null, false, "timeout", null, false, 0]);
    tasks = [];
  });

  it("only the owner may await", async () => {
    const t = Task.async(() => 1);
    let err: unknown;
    spawn(function* () {
      try {
        yield* Task.await(t);
      } catch (e) {
        err = e;
      }
    });
    rt.settle();
    expect((err as Error).name).toBe("ArgumentError");
    expect(String((err as Error).message)).toMatch(/must be queried from the owner/);
    expect(await Task.await(t)).toBe(1);
  });
});

describe("5. via names", () => {
  const W = () =>
    defmodule("VW", {
      init: (s: Term) => ["ok", s],
      handleCall: (req: Term, _from: unknown, s: Term) => (req === "get" ? ["reply", s, s] : ["reply", "ok", s]),
      handleCast: (msg: Term[], _s: Term) => ["noreply", msg[1]],
    });

  it("Registry: start registers in the registry; call, cast, whereis, already_started, clean-up", async () => {
    // via_names.out:  lookup finds: true / already_started: true / call via: 1 / after cast: 5 / whereis: true
    //   cast to missing via: :ok / call missing via: {:exit, {:noproc, {GenServer, :call, [{:via, Registry, {:reg, "nobody"}}, :get, 5000]}}}
    //   whereis missing: nil / lookup after stop: []
    await Registry.startLink({ keys: "unique", name: "reg" });
    const M = W();
    const name: Term = ["via", "Registry", ["reg", "alice"]];
    const [, p] = (await GenServer.start(M, 1, { name: name as never })) as [string, Pid];
    expect(Registry.lookup("reg", "alice")).toEqual([[p, null]]);
    expect(whereis("reg")).toBeDefined();
    expect(rt.names.has("alice")).toBe(false);
    expect(await GenServer.start(M, 2, { name: name as never })).toEqual(["error", ["already_started", p]]);
    expect(await GenServer.call(name as never, "get")).toBe(1);
    expect(GenServer.cast(name as never, ["set", 5])).toBe("ok");
    expect(await GenServer.call(name as never, "get")).toBe(5);
    expect(GenServer.whereis(name as never)).toBe(p);
    expect(whereis(name as never)).toBe(p);
    const nobody = ["via", "Registry", ["reg", "nobody"]];
    expect(GenServer.cast(nobody as never, "x")).toBe("ok");
    await expect(GenServer.call(nobody as never, "get")).rejects.toMatchObject({ reason: ["noproc", ["Elixir.GenServer", "call", list<Term>(nobody, "get", 5000)]] });
    expect(GenServer.whereis(nobody as never)).toBe(undefined);
    await GenServer.stop(name as never);
    rt.settle();
    expect(Registry.lookup("reg", "alice")).toEqual([]);
  });

  it("send to a via name is an invalid destination, as erlang:send/2 says; Registry.send and register_name", async () => {
    // via_names.out:  send via: %ArgumentError{message: "... 1st argument: invalid destination\n"}
    //   register_name self: :yes / register_name twice: :no / Registry.send missing: %ArgumentError{message: "argument error"}
    await Registry.startLink({ keys: "unique", name: "reg" });
    expect(() => send(["via", "Registry", ["reg", "k"]] as never, "hi")).toThrow(/invalid destination/);
    expect(Registry.registerName(["reg", "k"], rt.shell)).toBe("yes");
    expect(Registry.registerName(["reg", "k"], rt.shell)).toBe("no");
    Registry.send(["reg", "k"], "m");
    expect(flush()).toEqual(["m"]);
    expect(() => Registry.send(["reg", "none"], "m")).toThrow(ErlangError);
  });

  it("global: {global, Name} and {via, global, Name}; register, send, unregister", async () => {
    // via_names.out:  global call: 7 / via global call: 7 / global whereis: true / global already: true
    //   global after kill: :undefined / global register: :yes / global register twice: :no / global send: true
    //   global send missing: {:exit, {:badarg, {:nope, :m}}} / global unregister: :ok
    const M = W();
    const [, g] = (await GenServer.start(M, 7, { name: ["global", "g1"] })) as [string, Pid];
    expect(await GenServer.call(["global", "g1"], "get")).toBe(7);
    expect(await GenServer.call(["via", "global", "g1"], "get")).toBe(7);
    expect(Global.whereisName("g1")).toBe(g);
    expect(await GenServer.start(M, 7, { name: ["via", "global", "g1"] })).toEqual(["error", ["already_started", g]]);
    kill(g); // Process.exit(g, :kill); Process.sleep(10): the kill takes effect when g is scheduled (R92)
    rt.settle();
    expect(Global.whereisName("g1")).toBe("undefined");
    expect(Global.registerName("g2", rt.shell)).toBe("yes");
    expect(Global.registerName("g2", rt.shell)).toBe("no");
    expect(Global.send("g2", "m")).toBe(rt.shell);
    expect(flush()).toEqual(["m"]);
    expect(() => Global.send("nope", "m")).toThrow(expect.objectContaining({ reason: ["badarg", ["nope", "m"]] }));
    expect(Global.unregisterName("g2")).toBe("ok");
    expect(Global.whereisName("g2")).toBe("undefined");
  });

  it("{via, PartitionSupervisor, {name, key}} reaches the key's partition", async () => {
    // via_names.out:  partition via: :st      (Agent.get({:via, PartitionSupervisor, {:ps, 3}}, & &1))
    const A = defmodule("PA", {
      init: (s: Term) => ["ok", s],
      handleCall: (_r: Term, _f: unknown, s: Term) => ["reply", s, s],
    });
    await PartitionSupervisor.startLink({ name: "ps", childSpec: [A, "st"] });
    expect(await GenServer.call(["via", "PartitionSupervisor", ["ps", 3]], "get")).toBe("st");
    expect(GenServer.whereis(["via", "PartitionSupervisor", ["ps", 3]])).toBe(PartitionSupervisor.whereisName("ps", 3));
  });

  it("Agent and Supervisor take via names too (they are GenServers)", async () => {
    // via_names.out:  partition via: :st   (Agent.get on a via name)
    await Registry.startLink({ keys: "unique", name: "reg" });
    const an: Term = ["via", "Registry", ["reg", "agent"]];
    const [, a] = (await Agent.start(() => 10, { name: an as never })) as [string, Pid];
    expect(await Agent.get(an as never, (n: number) => n + 1)).toBe(11);
    const sn: Term = ["global", "sup"];
    const [, sup] = (await Supervisor.startLink([], { strategy: "one_for_one", name: sn as never })) as [string, Pid];
    expect(await Supervisor.countChildren(sn as never)).toMatchObject({ specs: 0 });
    expect(Registry.lookup("reg", "agent")).toEqual([[a, null]]);
    expect(Global.whereisName("sup")).toBe(sup);
  });

  it("an unknown via module is a TypeError that says what a via module needs", () => {
    expect(() => GenServer.whereis(["via", "Nope", "x"])).toThrow(/registerName, unregisterName, whereisName and send/);
  });

  it("a via module of one's own", async () => {
    const table = new Map<Term, Pid>();
    const mine = {
      registerName: (n: Term, p: Pid) => (table.has(n) ? "no" : (table.set(n, p), "yes")) as "yes" | "no",
      unregisterName: (n: Term) => (table.delete(n), "ok"),
      whereisName: (n: Term) => table.get(n) ?? "undefined",
      send: (n: Term, m: Term) => (send(table.get(n)!, m), m),
    };
    const [, p] = (await GenServer.start(W(), 3, { name: ["via", mine, "x"] })) as [string, Pid];
    expect(table.get("x")).toBe(p);
    expect(await GenServer.call(["via", mine, "x"], "get")).toBe(3);
  });
});

describe("a GenServer started without a link", () => {
  it("is its own parent: an EXIT from its starter goes to handleInfo, and getStatus says Parent is itself", async () => {
    // unlinked_parent.out:  unlinked-started server alive after its starter's EXIT: true
    //                       server reported: {:info, {:EXIT, #PID<0.103.0>, :bye}}
    //                       Parent is the server itself: true
    const got: Term[] = [];
    const T = defmodule("T", {
      init: () => {
        trapExit(true);
        return ["ok", null];
      },
      handleInfo: (m: Term, s: Term) => (got.push(m), ["noreply", s]),
      terminate: (r: Term) => void got.push(["terminate", r]),
    });
    let server: Pid | undefined;
    const starter = spawn(function* () {
      server = ((yield* GenServer.start(T)) as [string, Pid])[1];
      link(server);
      yield* receive();
      throw new ExitSignal("bye");
    });
    rt.settle();
    send(starter, "go");
    rt.settle();
    expect(server!.alive).toBe(true);
    expect(got).toEqual([["EXIT", starter, "bye"]]);
    const st = (await sys.getStatus(server!)) as Term[];
    expect((st[3] as Term[])[2]).toBe(server);
    expect(((st[3] as Term[])[0] as Term[][])[1]).toEqual(["$ancestors", list(starter)]);
  });
});

describe("sys.trace and sys.getStatus", () => {
  const Counter = () =>
    defmodule("Counter", {
      init: (n: number) => ["ok", n],
      handleCall: (req: Term, _f: unknown, n: number) => (req === "get" ? ["reply", n, n] : ["reply", "ok", n + (req as [string, number])[1]]),
      handleCast: (msg: [string, number], n: number) => ["noreply", n + msg[1]],
      handleInfo: (_m: Term, n: number) => ["noreply", n],
    });

  it("prints each message in and each reply or new state out, as OTP 25's gen_server does", async () => {
    // sys_trace_status.out:
    //   *DBG* counter got call get from <0.96.0>
    //   *DBG* counter sent 0 to <0.96.0>, new state 0
    //   *DBG* counter got cast {add,2}
    //   *DBG* counter new state 2
    //   *DBG* counter got hello
    //   *DBG* counter new state 2
    //   *DBG* counter got call {add,1} from <0.96.0>
    //   *DBG* counter sent ok to <0.96.0>, new state 3
    const lines: string[] = [];
    const [, s] = (await GenServer.start(Counter(), 0, { name: "counter" })) as [string, Pid];
    await sys.trace(s, true, { print: (l) => lines.push(l) });
    const me = rt.shell.toString().replace("#PID", "");
    await GenServer.call(s, "get");
    GenServer.cast(s, ["add", 2]);
    send(s, "hello");
    await GenServer.call("counter", ["add", 1]);
    await sys.trace(s, false);
    await GenServer.call(s, "get");
    expect(lines).toEqual([
      `*DBG* counter got call get from ${me}`,
      `*DBG* counter sent 0 to ${me}, new state 0`,
      "*DBG* counter got cast {add,2}",
      "*DBG* counter new state 2",
      "*DBG* counter got hello",
      "*DBG* counter new state 2",
      `*DBG* counter got call {add,1} from ${me}`,
      `*DBG* counter sent ok to ${me}, new state 3`,
    ]);
  });

  it("an unnamed server prints as its pid; terms in Erlang syntax, or Elixir's on request", async () => {
    // sys_trace_status2.out:  *DBG* <0.103.0> got {hello,[1,2],<<"bin">>,1.5}
    //                         *DBG* <0.103.0> new state #{a => 1,b => <<"x">>}
    const lines: string[] = [];
    const M = defmodule("M2", { init: (s: Term) => ["ok", s], handleInfo: (_m: Term, s: Term) => ["noreply", s] });
    const [, s] = (await GenServer.start(M, { a: 1, b: new Bin("x") })) as [string, Pid];
    await sys.trace(s, true, { print: (l) => lines.push(l) });
    send(s, ["hello", list(1, 2), new Bin("bin"), 1.5]);
    rt.settle();
    const pid = s.toString().replace("#PID", "");
    expect(lines).toEqual([`*DBG* ${pid} got {hello,[1,2],<<"bin">>,1.5}`, `*DBG* ${pid} new state #{a => 1,b => <<"x">>}`]);
    lines.length = 0;
    await sys.trace(s, true, { style: "elixir", print: (l) => lines.push(l) });
    send(s, ["hello", 1]);
    rt.settle();
    expect(lines).toEqual([`*DBG* ${s} got {:hello, 1}`, `*DBG* ${s} new state %{a: 1, b: "x"}`]);
  });

  it("a server with a via or global name is called by the name inside it", async () => {
    // via_trace_status.out:
    //   *DBG* {reg,<<"alice">>} got call get from <0.96.0>
    //   *DBG* {reg,<<"alice">>} sent 1 to <0.96.0>, new state 1
    //   via header: {'Status for generic server', {:reg, "alice"}}
    //   *DBG* gname got call get from <0.96.0>
    //   global header: 'Status for generic server gname'
    await Registry.startLink({ keys: "unique", name: "reg" });
    const M = defmodule("VT", { init: (s: Term) => ["ok", s], handleCall: (_r: Term, _f: unknown, s: Term) => ["reply", s, s] });
    const lines: string[] = [];
    const me = rt.shell.toString().replace("#PID", "");
    const [, p] = (await GenServer.start(M, 1, { name: ["via", "Registry", ["reg", new Bin("alice")]] })) as [string, Pid];
    await sys.trace(p, true, { print: (l) => lines.push(l) });
    await GenServer.call(p, "get");
    const header = (s: Term) => (((s as Term[])[3] as Term[])[4] as Term[][])[0][1];
    expect(header(await sys.getStatus(p))).toEqual(["Status for generic server", ["reg", new Bin("alice")]]);
    const [, g] = (await GenServer.start(M, 2, { name: ["global", "gname"] })) as [string, Pid];
    await sys.trace(g, true, { print: (l) => lines.push(l) });
    await GenServer.call(g, "get");
    expect(header(await sys.getStatus(g))).toBe("Status for generic server gname");
    expect(lines).toEqual([
      `*DBG* {reg,<<"alice">>} got call get from ${me}`,
      `*DBG* {reg,<<"alice">>} sent 1 to ${me}, new state 1`,
      `*DBG* gname got call get from ${me}`,
      `*DBG* gname sent 2 to ${me}, new state 2`,
    ]);
  });

  it("getStatus has OTP 25's shape, with [{trace, true}] while tracing", async () => {
    // sys_trace_status2.out (get_status while tracing):
    //   {:status, #PID<0.103.0>, {:module, :gen_server},
    //    [["$initial_call": {W, :init, 1}, "$ancestors": [#PID<0.96.0>]], :running, #PID<0.96.0>, [trace: true],
    //     [header: 'Status for generic server <0.103.0>',
    //      data: [{'Status', :running}, {'Parent', #PID<0.96.0>}, {'Logged events', []}],
    //      data: [{'State', %{a: 1, b: "x"}}]]]}
    const [, s] = (await GenServer.startLink(Counter(), 5)) as [string, Pid];
    await sys.trace(s, true, { print: () => {} });
    const st = await sys.getStatus(s);
    const parent = rt.shell;
    expect(st).toStrictEqual([
      "status",
      s,
      ["module", "gen_server"],
      list<Term>(
        list<Term>(["$initial_call", ["Counter", "init", 1]], ["$ancestors", list(parent)]),
        "running",
        parent,
        list<Term>(["trace", true]),
        list<Term>(
          ["header", `Status for generic server ${s.toString().replace("#PID", "")}`],
          ["data", list<Term>(["Status", "running"], ["Parent", parent], ["Logged events", list()])],
          ["data", list<Term>(["State", 5])],
        ),
      ),
    ]);
    await sys.suspend(s);
    expect(((await sys.getStatus(s)) as Term[][])[3][1]).toBe("suspended");
  });
});

export type { Ref };

describe("the order in which a dying process's links get its exit signal (test/fidelity/link_exit_order.erl)", () => {
  // Each line of link_exit_order.out: the partners in creation (pid) order, the order X linked them, the order
  // they died when X was killed (erts walks its red-black tree of links in post-order).
  const out = readFileSync(new URL("./fidelity/link_exit_order.out", import.meta.url), "utf8").trim().split("\n");
  it.each(out.map((l) => [l] as const))("%s", (line) => {
    const m = /create=\[([a-z,]+)\] link=\[([a-z,]+)\] died=\[([a-z,]+)\]/.exec(line)!;
    const [create, order, died] = [m[1]!.split(","), m[2]!.split(","), m[3]!.split(",")];
    const rt = setRuntime(new Runtime({ clock: "virtual" }));
    const partners = new Map(create.map((n) => [n, spawn(function* () { yield* receive(() => false); })]));
    const x = spawn(function* () {
      for (const n of order) link(partners.get(n)!);
      yield* receive(() => false);
    });
    rt.settle();
    const deaths: string[] = [];
    rt.onExit((p) => {
      for (const [n, q] of partners) if (q === p) deaths.push(n);
    });
    exit(x, "kill");
    rt.settle();
    expect(deaths).toEqual(died);
  });
});
