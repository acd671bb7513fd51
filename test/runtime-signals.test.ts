/** Exit signals, links and monitors (otp-semantics.md §1.A, R1–R13). */
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, spawn, spawnLink, send, receive, exit, link, monitor, trapExit, self, Pid, Crash, ErlangError, type Term } from "../runtime/index.js";

let rt: Runtime;
beforeEach(() => {
  rt = setRuntime(new Runtime({ clock: "virtual" }));
});

/** A process that records every message it receives. */
function recorder(trap: boolean): { pid: Pid; got: Term[] } {
  const got: Term[] = [];
  const pid = spawn(function* () {
    trapExit(trap);
    for (;;) got.push(yield* receive());
  });
  rt.settle();
  return { pid, got };
}

describe("exit signals sent with exit/2", () => {
  it("R1: normal is ignored by a process that does not trap exits", () => {
    const r = recorder(false);
    rt.exit(r.pid, "normal");
    rt.settle();
    expect(r.pid.alive).toBe(true);
  });
  it("R2: normal reaches a trapping process as an EXIT message", () => {
    const r = recorder(true);
    rt.exit(r.pid, "normal");
    rt.settle();
    expect(r.got).toEqual([["EXIT", rt.shell, "normal"]]);
  });
  it("R3: exit(self(), normal) terminates the caller", () => {
    const p = spawn(function* () {
      exit(self(), "normal");
      yield* receive();
    });
    rt.settle();
    expect(p.dead).toBe(true);
    expect(p.exitReason).toBe("normal");
  });
  it("R4: kill is untrappable and reads killed", () => {
    const r = recorder(true);
    rt.exit(r.pid, "kill");
    rt.settle();
    expect(r.pid.exitReason).toBe("killed");
    expect(r.got).toEqual([]);
  });
  it("R5: another reason kills a non-trapping process and is a message for a trapping one", () => {
    const a = recorder(false);
    const b = recorder(true);
    rt.exit(a.pid, ["shutdown", "x"]);
    rt.exit(b.pid, "shutdown");
    rt.settle();
    expect(a.pid.exitReason).toEqual(["shutdown", "x"]);
    expect(b.got).toEqual([["EXIT", rt.shell, "shutdown"]]);
  });
});

describe("links and monitors", () => {
  it("R6/R7: a killed process's links see killed; normal is ignored by non-trapping links", () => {
    const watcher = recorder(true);
    const bystander = recorder(false);
    const victim = spawn(function* () {
      yield* receive();
    });
    rt.link(victim, watcher.pid);
    rt.link(victim, bystander.pid);
    rt.exit(victim, "kill");
    rt.settle();
    expect(watcher.got).toEqual([["EXIT", victim, "killed"]]);
    expect(bystander.pid.exitReason).toBe("killed");
  });
  it("R8: exit(kill) of oneself propagates as an ordinary kill reason", () => {
    const watcher = recorder(true);
    const bystander = recorder(false);
    const p = spawn(function* () {
      yield* receive();
      exit("kill");
    });
    rt.link(p, watcher.pid);
    rt.link(p, bystander.pid);
    send(p, "go");
    rt.settle();
    expect(p.exitReason).toBe("kill");
    expect(watcher.pid.alive).toBe(true);
    expect(watcher.got).toEqual([["EXIT", p, "kill"]]);
    expect(bystander.pid.exitReason).toBe("kill");
  });
  it("R9: linking to a dead process gives noproc (message when trapping, error exception otherwise)", () => {
    // erl (test/fidelity/link_monitor.erl): try link(Dead) catch C:E -> {C,E} end  gives  {error,noproc}
    const dead = spawn(function* () {});
    rt.settle();
    const got: Term[] = [];
    const trapping = spawn(function* () {
      trapExit(true);
      link(dead);
      got.push(yield* receive());
    });
    let caught: Term;
    spawn(function* () {
      try {
        link(dead);
      } catch (e) {
        caught = (e as ErlangError).original;
      }
    });
    rt.settle();
    expect(got).toEqual([["EXIT", dead, "noproc"]]);
    expect(caught!).toBe("noproc");
    expect(trapping.dead).toBe(true);
  });
  it("R10/R11: monitors deliver one DOWN with the links' reason, noproc for a dead target", () => {
    const got: Term[] = [];
    const target = spawn(function* () {
      yield* receive();
    });
    const dead = spawn(function* () {});
    rt.settle();
    spawn(function* () {
      const r1 = monitor(target);
      const r2 = monitor(dead);
      got.push(yield* receive());
      rt.exit(target, "kill");
      got.push(yield* receive());
      expect(got[0]).toEqual(["DOWN", r2, "process", dead, "noproc"]);
      expect(got[1]).toEqual(["DOWN", r1, "process", target, "killed"]);
    });
    rt.settle();
    expect(got).toHaveLength(2);
  });
  it("R12: an exception escaping a process becomes {Error, Stacktrace}; a thrown term {{nocatch, T}, Stack}", () => {
    const a = spawn(function* () {
      throw new TypeError("bad");
    });
    const b = spawn(function* () {
      throw "oops";
    });
    rt.settle();
    expect(a.exitReason).toBeInstanceOf(Crash);
    expect(((a.exitReason as Crash).error as Error).name).toBe("TypeError");
    expect((b.exitReason as Crash).error).toEqual(["nocatch", "oops"]);
  });
  it("R13: messages between one pair of processes arrive in send order", () => {
    const r = recorder(false);
    spawn(function* () {
      for (let i = 0; i < 100; i++) send(r.pid, i);
    });
    rt.settle();
    expect(r.got).toEqual([...Array(100).keys()]);
  });
  it("a crashing linked process kills a non-trapping parent and never the host", () => {
    const parent = spawn(function* () {
      spawnLink(function* () {
        throw new Error("child failed");
      });
      yield* receive();
    });
    rt.settle();
    expect(parent.dead).toBe(true);
    expect(parent.exitReason).toBeInstanceOf(Crash);
  });
  it("selective receive leaves other messages queued, in order", () => {
    const got: Term[] = [];
    const p = spawn(function* () {
      got.push(yield* receive((m) => m === "b"));
      got.push(yield* receive());
      got.push(yield* receive());
    });
    send(p, "a");
    send(p, "b");
    send(p, "c");
    rt.settle();
    expect(got).toEqual(["b", "a", "c"]);
  });
  it("receive with a timeout resolves to TIMEOUT in virtual time", async () => {
    const { TIMEOUT } = await import("../runtime/index.js");
    let got: Term;
    spawn(function* () {
      got = yield* receive(null, 1000);
    });
    rt.settle();
    expect(got!).toBeUndefined();
    rt.advance(999);
    expect(got!).toBeUndefined();
    rt.advance(1);
    expect(got!).toBe(TIMEOUT);
  });
});

describe("scheduler", () => {
  it("is fair: a process with a long queue yields to others after its budget", () => {
    const order: string[] = [];
    const busy = spawn(function* () {
      for (;;) order.push(`busy:${yield* receive()}`);
    });
    const other = spawn(function* () {
      for (;;) order.push(`other:${yield* receive()}`);
    });
    rt.settle();
    for (let i = 0; i < 1000; i++) send(busy, i);
    send(other, "hello");
    rt.settle();
    expect(order).toHaveLength(1001);
    expect(order.indexOf("other:hello")).toBeLessThan(500);
  });
  it("gives the same event order on every run", () => {
    const run = () => {
      const r = setRuntime(new Runtime());
      const sup = spawn(function* () {
        trapExit(true);
        for (let i = 0; i < 5; i++) spawnLink(function* () { yield* receive(null, 10 * i); throw new Error("x" + i); });
        for (;;) yield* receive();
      });
      r.advance(100);
      void sup;
      return r.events.all().map((e) => JSON.stringify(e)).join("\n");
    };
    expect(run()).toBe(run());
  });
});
