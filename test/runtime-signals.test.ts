/** Exit signals, links and monitors (otp-semantics.md §1.A, R1–R13, R92). */
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

describe("R92: signals are queued per receiver and take effect when it handles them", () => {
  it("exit(kill) returns before the target dies; the target dies when the scheduler runs it, in run-queue order", () => {
    // The example (test/fidelity/signal_order.out, case 1): the BEAM gives [normal, killed].
    const a = spawnLink(function* () {});
    const b = spawnLink(function* () {
      yield* receive();
    });
    rt.exit(b, "kill");
    expect(b.dead).toBe(false); // not inside the sender's call
    rt.settle();
    const exits = (rt.shell.mailbox?.toArray() ?? []).filter((m) => Array.isArray(m) && m[0] === "EXIT");
    expect(exits).toEqual([["EXIT", a, "normal"], ["EXIT", b, "killed"]]);
  });
  it("a link's exit signal has no effect once the receiver has unlinked (deliverSignal, as another node would send it)", () => {
    const a = recorder(false);
    const b = recorder(false);
    rt.link(a.pid, b.pid);
    rt.settle();
    rt.unlink(a.pid, b.pid);
    rt.deliverSignal(b.pid, a.pid, { kind: "link-exit", reason: "boom" });
    rt.settle();
    expect(a.pid.alive).toBe(true);
    rt.link(a.pid, b.pid);
    rt.deliverSignal(b.pid, a.pid, { kind: "link-exit", reason: "boom" });
    rt.settle();
    expect(a.pid.exitReason).toBe("boom");
  });
  it("a DOWN still on its way is dropped after demonitor; one that arrives first is a message", () => {
    const w = recorder(false);
    const t = recorder(false);
    const ref = rt.monitor(w.pid, t.pid);
    rt.demonitor(w.pid, ref);
    rt.deliverSignal(t.pid, w.pid, { kind: "down", ref, reason: "gone" });
    rt.settle();
    expect(w.got).toEqual([]);
    const ref2 = rt.monitor(w.pid, t.pid);
    rt.deliverSignal(t.pid, w.pid, { kind: "down", ref: ref2, reason: "gone" });
    rt.settle();
    expect(w.got).toEqual([["DOWN", ref2, "process", t.pid, "gone"]]);
  });
  it("signals behind a pending kill wait for it: a link made then is answered with an exit signal noproc", () => {
    // erts: a process that is exiting answers a link signal with an exit signal noproc. A caller that does not
    // trap exits dies of it (the BEAM races here on several schedulers, the runtime does not).
    const g = recorder(false);
    let caller: Pid | null = null;
    caller = spawn(function* () {
      exit(g.pid, "kill");
      link(g.pid);
      yield* receive();
    });
    rt.settle();
    expect(g.pid.exitReason).toBe("killed");
    expect(caller.exitReason).toBe("noproc");
  });
  it("a message sent after a pending kill is never handled, and a message before it is not either", () => {
    const r = recorder(true);
    spawn(function* () {
      send(r.pid, "before");
      exit(r.pid, "kill");
      send(r.pid, "after");
    });
    rt.settle();
    expect(r.pid.exitReason).toBe("killed");
    expect(r.got).toEqual([]);
  });
  it("queued signals keep runs deterministic: the same program gives the same events every time", () => {
    const run = () => {
      const r = setRuntime(new Runtime());
      r.events.traceMessages = true;
      const ps: Pid[] = [];
      for (let i = 0; i < 6; i++) {
        ps.push(spawn(function* () {
          trapExit(i % 2 === 0);
          for (;;) yield* receive();
        }));
      }
      spawn(function* () {
        for (let i = 0; i < 5; i++) link(ps[i]);
        monitor(ps[5]);
        exit(ps[1], "kill");
        send(ps[2], "hello");
        exit(ps[2], "boom");
        exit(ps[3], "kill");
        monitor(ps[3]);
        exit("bye");
      });
      r.settle();
      return r.events.all().map((e) => JSON.stringify(e)).join("\n");
    };
    const first = run();
    expect(first).toContain("killed");
    expect(run()).toBe(first);
  });
  it("a chain of 20,000 linked processes dies one per turn, without deep recursion", () => {
    const first = spawn(function* () {
      yield* receive();
    });
    let prev = first;
    const all = [first];
    for (let i = 0; i < 20000; i++) {
      const p = spawn(function* () {
        yield* receive();
      });
      rt.link(prev, p);
      all.push(p);
      prev = p;
    }
    rt.settle();
    rt.exit(first, "boom");
    rt.settle();
    expect(all.every((p) => p.exitReason === "boom")).toBe(true);
  });
});
