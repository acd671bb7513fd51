/**
 * The event log's storage: a ring buffer whose spawn and exit events are kept compactly and made into objects
 * when read. What a reader sees must not depend on how an event was stored.
 */
import { describe, expect, it } from "vitest";
import { EventLog } from "../runtime/event-log.js";
import { Runtime, setRuntime, spawn, receive, exit, spawnLink, Supervisor, GenServer, okPid } from "../runtime/index.js";
import type { RuntimeEvent } from "../runtime/observe.js";

describe("EventLog", () => {
  it("reads compact and object events back in order, with the keys the object form has", () => {
    const log = new EventLog();
    log.pushSpawn(0, 81, 80, "process");
    log.push({ type: "code_load", t: 1, module: "M", version: 1 });
    log.pushSpawn(2, 82, -1, undefined);
    log.pushExit(3, 81, ":normal");
    expect(log.all()).toEqual([
      { type: "spawn", t: 0, pid: "<0.81.0>", parent: "<0.80.0>", behaviour: "process" },
      { type: "code_load", t: 1, module: "M", version: 1 },
      { type: "spawn", t: 2, pid: "<0.82.0>" },
      { type: "exit", t: 3, pid: "<0.81.0>", reason: ":normal" },
    ]);
    expect(JSON.stringify(log.all()[0])).toBe('{"type":"spawn","t":0,"pid":"<0.81.0>","parent":"<0.80.0>","behaviour":"process"}');
    expect(log.ofType("exit")).toEqual([{ type: "exit", t: 3, pid: "<0.81.0>", reason: ":normal" }]);
    expect(log.ofType("code_load")).toHaveLength(1);
    expect(log.between(1, 2).map((e) => e.t)).toEqual([1, 2]);
    expect(log.length).toBe(4);
  });

  it.each([1000, 10_000])("keeps the newest %i events across growth and wrap-around, and counts the dropped ones", (capacity) => {
    const log = new EventLog(capacity);
    const total = capacity * 2 + capacity / 2;
    for (let i = 0; i < total; i++) {
      if (i % 3 === 0) log.push({ type: "code_load", t: i, module: "M", version: i });
      else if (i % 3 === 1) log.pushSpawn(i, i, -1, "process");
      else log.pushExit(i, i, `r${i}`);
    }
    const all = log.all();
    const first = total - capacity;
    expect(all).toHaveLength(capacity);
    expect(log.length).toBe(capacity);
    expect(log.dropped).toBe(first);
    expect(all.map((e) => e.t)).toEqual(Array.from({ length: capacity }, (_, k) => first + k));
    const spawn = all.find((e) => e.type === "spawn")!;
    expect(spawn).toEqual({ type: "spawn", t: spawn.t, pid: `<0.${spawn.t}.0>`, behaviour: "process" });
    const exit = all.find((e) => e.type === "exit")!;
    expect(exit).toEqual({ type: "exit", t: exit.t, pid: `<0.${exit.t}.0>`, reason: `r${exit.t}` });
    expect(log.ofType("code_load").map((e) => e.version)).toEqual(all.filter((e) => e.type === "code_load").map((e) => e.t));
    log.clear();
    expect(log.all()).toEqual([]);
    log.pushExit(7, 9, ":normal");
    expect(log.all()).toEqual([{ type: "exit", t: 7, pid: "<0.9.0>", reason: ":normal" }]);
  });

  it("gives listeners the same objects a reader gets", () => {
    const log = new EventLog();
    const seen: RuntimeEvent[] = [];
    const off = log.subscribe((e) => seen.push(e));
    log.pushSpawn(5, 90, 80, "process");
    log.pushExit(6, 90, ":killed");
    off();
    log.pushExit(7, 91, ":normal");
    expect(seen).toEqual(log.all().slice(0, 2));
  });

  it("records a runtime's spawns and exits, named and unnamed, as the object form did", () => {
    const rt = setRuntime(new Runtime({ clock: "virtual" }));
    const shell = rt.shell.label;
    const a = spawn(function* () {
      yield* receive();
    });
    const b = spawnLink(
      function* () {
        yield* receive();
      },
      { name: "b_proc" },
    );
    rt.settle();
    exit(a, "kill");
    exit(b, "boom");
    rt.settle();
    const mine = rt.events.all().filter((e) => (e.type === "spawn" || e.type === "exit") && e.pid !== shell);
    expect(mine).toEqual([
      { type: "spawn", t: 0, pid: a.label, parent: shell, behaviour: "process" },
      { type: "spawn", t: 0, pid: b.label, parent: shell, name: "b_proc", behaviour: "process" },
      { type: "exit", t: 0, pid: a.label, reason: ":killed" },
      { type: "exit", t: 0, pid: b.label, reason: ":boom", name: "b_proc" },
    ]);
    expect(rt.procs.size).toBe(1); // the shell
    expect([...rt.procs.values()]).toEqual([rt.shell]);
  });

  it("reads restart, report and module spawn events back with the keys and order of the object form", () => {
    const log = new EventLog();
    log.pushSpawn(1, 90, 80, "gen_server", "anonymous#1", 1);
    log.pushRestart(2, 85, "worker", 90, 91, 1);
    log.pushRestart(3, 85, "worker", -1, -1, 2);
    log.pushReport(4, 85, "child_terminated", 90, "worker", ":killed");
    log.pushReport(5, 85, "shutdown", -1, undefined, ":reached_max_restart_intensity");
    expect(log.all().map((e) => JSON.stringify(e))).toEqual([
      '{"type":"spawn","t":1,"pid":"<0.90.0>","parent":"<0.80.0>","behaviour":"gen_server","module":"anonymous#1","version":1}',
      '{"type":"restart","t":2,"sup":"<0.85.0>","id":"worker","oldPid":"<0.90.0>","newPid":"<0.91.0>","reaction":1}',
      '{"type":"restart","t":3,"sup":"<0.85.0>","id":"worker","reaction":2}',
      '{"type":"report","t":4,"sup":"<0.85.0>","context":"child_terminated","child":"<0.90.0>","id":"worker","reason":":killed"}',
      '{"type":"report","t":5,"sup":"<0.85.0>","context":"shutdown","reason":":reached_max_restart_intensity"}',
    ]);
    expect(log.ofType("restart")).toHaveLength(2);
    expect(log.ofType("report").map((e) => e.context)).toEqual(["child_terminated", "shutdown"]);
  });

  it("records a supervisor's restart as spawn, exit, report and restart events in order", () => {
    const rt = setRuntime(new Runtime({ clock: "virtual" }));
    const Worker = { init: (arg: unknown) => ["ok", arg] };
    const sup = okPid(Supervisor.startLink([{ id: "w", start: () => GenServer.startLink(Worker, 0) }], { strategy: "one_for_one" }).sync());
    const [child] = Supervisor.whichChildren(sup).sync() as { child: { label: string } }[];
    const old = child.child;
    const before = rt.events.length;
    exit(old as never, "kill");
    rt.settle();
    const after = rt.events.all().slice(before);
    const [again] = Supervisor.whichChildren(sup).sync() as { child: { label: string } }[];
    expect(after).toEqual([
      { type: "exit", t: 0, pid: old.label, reason: ":killed" },
      { type: "report", t: 0, sup: sup.label, context: "child_terminated", child: old.label, id: "w", reason: ":killed" },
      { type: "spawn", t: 0, pid: again.child.label, parent: sup.label, behaviour: "gen_server", module: expect.stringMatching(/^anonymous#/), version: 1 },
      { type: "restart", t: 0, sup: sup.label, id: "w", oldPid: old.label, newPid: again.child.label, reaction: 1 },
    ]);
  });
});
