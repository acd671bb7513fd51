/** Elixir's Agent, Task.Supervisor, Registry and PartitionSupervisor (R75–R83). */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, Agent, TaskSupervisor, Task, Registry, PartitionSupervisor, DynamicSupervisor, defmodule, GenServer, spawn, receive, sys, sleep, kill, type Pid, type Term } from "../runtime/index.js";

let rt: Runtime;
beforeEach(() => {
  rt = setRuntime(new Runtime({ clock: "virtual" }));
});

describe("Agent (R82, R83)", () => {
  it("runs functions in the agent; a bad get_and_update stops it and exits the caller", async () => {
    const [, a] = (await Agent.startLink(() => 1)) as [string, Pid];
    expect(await Agent.update(a, (n: number) => n + 1)).toBe("ok");
    expect(await Agent.get(a, (n: number) => n * 10)).toBe(20);
    expect(await Agent.getAndUpdate(a, (n: number) => [n, n + 5])).toBe(2);
    Agent.cast(a, (n: number) => n * 2);
    expect(await Agent.get(a, (n: number) => n)).toBe(14);
    await sys.suspend(a);
    expect(await sys.changeCode(a, "Agent.Server", 1, (s: number) => s + 100)).toBe("ok");
    await sys.resume(a);
    expect(await Agent.get(a, (n: number) => n)).toBe(114);
    await expect(Agent.getAndUpdate(a, () => "oops" as never)).rejects.toMatchObject({ reason: [["bad_return_value", "oops"], expect.anything()] });
    expect(a.dead).toBe(true);
  });
});

describe("Task.Supervisor (R75–R77)", () => {
  it("async_nolink: the reply comes before the DOWN; failures only as DOWN; await and yield", async () => {
    const [, sup] = (await TaskSupervisor.startLink()) as [string, Pid];
    const t = await TaskSupervisor.asyncNolink(sup, () => 42);
    rt.settle();
    const msgs = rt.shell.mailbox!.toArray();
    expect(msgs[0]).toEqual([t.ref, 42]);
    expect(await Task.await(t)).toBe(42);
    const bad = await TaskSupervisor.asyncNolink(sup, () => {
      throw new Error("task failed");
    });
    const r = (await Task.yield(bad)) as [string, Term];
    expect(r[0]).toBe("exit");
    const slow = await TaskSupervisor.asyncNolink(sup, function* () {
      yield* sleep(10_000);
      return 1;
    });
    expect(await Task.yield(slow, 100)).toBeNull();
    expect(await Task.shutdown(slow)).toBeNull();
  });
  it("start_child tasks are temporary unless told; permanent ones restart", async () => {
    const [, sup] = (await TaskSupervisor.startLink()) as [string, Pid];
    await TaskSupervisor.startChild(sup, function* () { yield* receive(); }, { restart: "permanent" });
    const [c1] = await DynamicSupervisor.whichChildren(sup);
    kill(c1.child as Pid);
    rt.settle();
    const [c2] = await DynamicSupervisor.whichChildren(sup);
    expect(c2.child).not.toBe(c1.child);
    expect((await DynamicSupervisor.countChildren(sup)).active).toBe(1);
  });
  it("max_children exhaustion raises in the caller", async () => {
    const [, sup] = (await TaskSupervisor.startLink({ maxChildren: 1 })) as [string, Pid];
    await TaskSupervisor.asyncNolink(sup, function* () { yield* receive(); });
    await expect(TaskSupervisor.asyncNolink(sup, () => 1)).rejects.toThrow(/maximum number of tasks/);
  });
});

describe("Registry (R80, R81)", () => {
  it("unique keys, self re-registration, stale entries, asynchronous clean-up", async () => {
    const [, reg] = (await Registry.startLink({ keys: "unique", name: "reg" })) as [string, Pid];
    const results: Term[] = [];
    const owner = spawn(function* () {
      results.push(Registry.register("reg", "k", 1));
      results.push(Registry.register("reg", "k", 2));
      yield* receive();
    });
    rt.settle();
    expect(results).toEqual([["ok", reg], ["error", ["already_registered", owner]]]);
    expect(Registry.whereisName("reg", "k")).toBe(owner);
    kill(owner);
    rt.settle();
    expect(Registry.lookup("reg", "k")).toEqual([]);
    expect(Registry.whereisName("reg", "k")).toBeUndefined();
  });
});

describe("PartitionSupervisor (R78, R79)", () => {
  it("one child per partition, with_arguments, integer routing", async () => {
    const W = defmodule("PartWorker", { init: (a: Term) => ["ok", a], handleCall: (_r: Term, _f: unknown, s: Term) => ["reply", s, s] });
    await PartitionSupervisor.startLink({ name: "parts", childSpec: [W, "base"], partitions: 4, withArguments: (a, p) => [a, p] });
    expect(PartitionSupervisor.partitionOf("parts", -6)).toBe(2);
    const p = PartitionSupervisor.whereisName("parts", 7)!;
    expect(await GenServer.call(p, "state")).toEqual(["base", 3]);
    const ids = (await (await import("../runtime/index.js")).Supervisor.whichChildren("parts")).map((c) => c.id);
    expect(ids).toEqual([3, 2, 1, 0]);
  });

  it("child_spec: DynamicSupervisor runs a dynamic supervisor per partition, started with_arguments, as supervisor children", async () => {
    const { Supervisor } = await import("../runtime/index.js");
    const W = defmodule("PartChild", { init: (a: Term) => ["ok", a] });
    await PartitionSupervisor.startLink({ name: "dyns", childSpec: [DynamicSupervisor, { maxChildren: 1 }], partitions: 2 });
    const kids = await Supervisor.whichChildren("dyns");
    expect(kids.map((c) => [c.id, c.type])).toEqual([[1, "supervisor"], [0, "supervisor"]]);
    const via = (k: Term) => ["via", "PartitionSupervisor", ["dyns", k]] as const;
    const spec = { id: "w", start: () => GenServer.startLink(W, null) };
    expect((await DynamicSupervisor.startChild(via(0) as never, spec))[0]).toBe("ok");
    expect((await DynamicSupervisor.startChild(via(1) as never, spec))[0]).toBe("ok");
    // max_children 1 per partition: the options reached each DynamicSupervisor
    expect(await DynamicSupervisor.startChild(via(2) as never, spec)).toEqual(["error", "max_children"]);
    for (const c of kids) expect((await DynamicSupervisor.countChildren(c.child as Pid)).active).toBe(1);
  });
});
