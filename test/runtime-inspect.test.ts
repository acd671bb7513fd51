/**
 * Values a learner can read: the runtime's values print in their short OTP form wherever a learner sees them
 * (`util.inspect`, `console.log`, a cell's result through kernel/display.ts, inside arrays, objects and the EXIT
 * and DOWN messages links and monitors deliver), never as a dump of their fields and stacks; `processInfo`
 * gives Pids and has a form for a process that must be alive; `textTree` takes what a learner has at hand.
 */
import { Console } from "node:console";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import * as rt from "../runtime/index.js";
import { plainText, toBundle } from "../kernel/display.js";
import "../widgets/index.js";

const { GenServer, Supervisor, defmodule, spawn, spawnLink, monitor, trapExit, flush, sleep, kill, processInfo, snapshot, textTree } = rt;

const Counter = () =>
  defmodule("Counter", {
    init: (n: number) => ["ok", n],
    handleCall: (req: string, _from: unknown, n: number) => ["reply", req === "get" ? n : "ok", n],
  });

/** What `console.log(...values)` prints. */
function logged(...values: unknown[]): string {
  let out = "";
  const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
  new Console({ stdout: sink, colorMode: false }).log(...values);
  return out.trimEnd();
}

const PID = /^#PID<0\.\d+\.0>$/;

describe("short forms", () => {
  beforeEach(() => {
    rt.resetRuntime();
  });

  it("a Pid and a Ref print as #PID<0.N.0> and #Reference<N>, alone and nested", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    const ref = monitor(pid);
    expect(inspect(pid)).toMatch(PID);
    expect(inspect(ref)).toMatch(/^#Reference<\d+>$/);
    expect(logged(pid, ref)).toBe(`${pid} ${ref}`);
    expect(inspect(["ok", pid])).toBe(`[ 'ok', ${pid} ]`);
    expect(inspect({ pid, ref })).toBe(`{ pid: ${pid}, ref: ${ref} }`);
    expect(inspect([ref])).not.toContain("watcher");
  });

  it("a Crash prints as {exception, [stacktrace]}, without its JS stack, in an EXIT message too", () => {
    trapExit(true);
    const w = spawnLink(function* () {
      throw new rt.RuntimeError("boom");
    });
    rt.settle();
    const [msg] = flush() as rt.Term[][];
    const crash = msg![2] as rt.Crash;
    expect(crash).toBeInstanceOf(rt.Crash);
    expect(inspect(crash)).toBe('{%RuntimeError{message: "boom"}, [stacktrace]}');
    expect(inspect(msg, { breakLength: Infinity })).toBe(`[ 'EXIT', ${w}, {%RuntimeError{message: "boom"}, [stacktrace]} ]`);
    expect(logged(msg)).toBe(inspect(msg));
    expect(inspect({ got: [msg] }, { depth: 10 })).not.toMatch(/stack:|at .*runtime|Generator/);
  });

  it("a Crash of a thrown non-Error term prints it as nocatch", () => {
    trapExit(true);
    spawnLink(function* () {
      throw "oops";
    });
    rt.settle();
    const [msg] = flush() as rt.Term[][];
    expect(inspect(msg![2])).toBe('{{:nocatch, :oops}, [stacktrace]}');
  });

  it("an ExitSignal prints as %ExitSignal{reason: ...}, not as an Error with a stack", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    kill(pid);
    rt.settle();
    let caught: unknown;
    try {
      await GenServer.call(pid, "get");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(rt.ExitSignal);
    expect(inspect(caught)).toBe(`%ExitSignal{reason: {:noproc, {:"Elixir.GenServer", :call, [${pid}, :get, 5000]}}}`);
    expect(inspect([new rt.ExitSignal("killed")])).toBe("[ %ExitSignal{reason: :killed} ]");
    expect(rt.formatTerm(new rt.ExitSignal(["shutdown", "x"]))).toBe("%ExitSignal{reason: {:shutdown, :x}}");
  });

  it("an Op that was never run says so and suggests await; one that ran says it ran", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    const op = GenServer.call(pid, "get");
    expect(inspect(op)).toBe(`Op GenServer.call(${pid}, "get") — not run: did you forget \`await\`?`);
    expect(String(op)).toBe(inspect(op));
    expect(inspect([op], { breakLength: Infinity })).toBe(`[ ${inspect(op)} ]`);
    expect(inspect(op)).not.toContain("Runtime");
    expect(await op).toBe(0);
    expect(inspect(op)).toBe(`Op GenServer.call(${pid}, "get") — already run; each \`await\` runs it again`);
  });

  it("Ops name their operation and arguments as a cell writes them", async () => {
    const C = Counter();
    const [, sup] = (await Supervisor.startLink([{ id: "a", start: () => GenServer.startLink(C, 0) }], { strategy: "one_for_one" })) as [string, rt.Pid];
    const forgot = "— not run: did you forget `await`?";
    expect(inspect(Supervisor.whichChildren(sup))).toBe(`Op Supervisor.whichChildren(${sup}) ${forgot}`);
    expect(inspect(Supervisor.terminateChild(sup, "a"))).toBe(`Op Supervisor.terminateChild(${sup}, "a") ${forgot}`);
    expect(inspect(GenServer.startLink(C, 5))).toBe(`Op GenServer.startLink(Counter, 5) ${forgot}`);
    expect(inspect(GenServer.call(sup, ["push", 1], 100))).toBe(`Op GenServer.call(${sup}, ["push", 1], 100) ${forgot}`);
    expect(inspect(sleep(5))).toBe(`Op sleep(5) ${forgot}`);
    expect(inspect(rt.receive())).toBe(`Op receive() ${forgot}`);
    expect(inspect(rt.sys.getState(sup))).toBe(`Op sys.getState(${sup}) ${forgot}`);
    expect(inspect(GenServer.call(sup, "x".repeat(200)))).toMatch(/"x+…\) — not run/);
  });
});

describe("the kernel's text of a value (kernel/display.ts)", () => {
  beforeEach(() => {
    rt.resetRuntime();
  });

  it("EXIT and DOWN messages print as OTP terms, alone, in arrays and in objects", () => {
    trapExit(true);
    const w = spawnLink(function* () {
      throw new rt.RuntimeError("boom");
    });
    const m = spawn(function* () {
      yield* sleep(10);
    });
    const ref = monitor(m);
    rt.getRuntime().advance(20);
    const msgs = flush() as rt.Term[][];
    const exitText = `{:EXIT, ${w}, {%RuntimeError{message: "boom"}, [stacktrace]}}`;
    const downText = `{:DOWN, ${ref}, :process, ${m}, :normal}`;
    expect(plainText(msgs[0])).toBe(exitText);
    expect(plainText(msgs[1])).toBe(downText);
    expect(plainText(msgs)).toBe(`[\n  ${exitText},\n  ${downText}\n]`);
    expect(plainText({ got: msgs[1], n: 1 })).toBe(`{ got: ${downText}, n: 1 }`);
    expect(toBundle([["EXIT", w, "killed"]])).toEqual({ "text/plain": `[ {:EXIT, ${w}, :killed} ]` });
    // The value itself is untouched; other values print as before.
    expect(Array.isArray(msgs[0])).toBe(true);
    expect(plainText(["EXIT", "not a pid", "x"])).toBe("[ 'EXIT', 'not a pid', 'x' ]");
    expect(plainText([1, "a", { x: [2] }])).toBe("[ 1, 'a', { x: [ 2 ] } ]");
  });

  it("leaves objects with getters alone and stays bounded on large values", () => {
    let read = 0;
    const withGetter = {
      get msg() {
        read++;
        return ["EXIT", rt.getRuntime().shell, "x"];
      },
    };
    plainText(withGetter);
    expect(read).toBe(0);
    const many = Array.from({ length: 100_000 }, () => ["EXIT", rt.getRuntime().shell, "normal"]);
    expect(plainText(many)).toContain(`{:EXIT, ${rt.getRuntime().shell}, :normal}`);
  });

  it("a Pid's result text starts with #PID<...>; a dead one says how it died", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    const text = String(toBundle(pid)["text/plain"]);
    expect(text.split("\n")[0]).toBe(String(pid));
    expect(text).toContain("gen_server");
    kill(pid);
    rt.settle();
    expect(toBundle(pid)["text/plain"]).toBe(`${pid} (dead: :killed)`);
    const [, sup] = (await Supervisor.startLink([], { strategy: "one_for_one" })) as [string, rt.Pid];
    expect(String(toBundle(sup)["text/plain"]).split("\n").slice(0, 2)).toEqual([String(sup), expect.stringMatching(/^Supervision tree at/)]);
  });

  it("an un-awaited Op as a cell's result says did you forget await", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    expect(toBundle(GenServer.call(pid, "get"))).toEqual({ "text/plain": `Op GenServer.call(${pid}, "get") — not run: did you forget \`await\`?` });
  });
});

describe("processInfo", () => {
  beforeEach(() => {
    rt.resetRuntime();
  });

  it("lists links, monitors and monitoredBy as Pids", async () => {
    const C = Counter();
    const [, sup] = (await Supervisor.startLink([{ id: "a", start: () => GenServer.startLink(C, 0) }], { strategy: "one_for_one" })) as [string, rt.Pid];
    const [child] = await Supervisor.whichChildren(sup);
    const a = child!.child as rt.Pid;
    const shell = rt.getRuntime().shell;
    const ref = monitor(a);
    const info = processInfo.of(a);
    expect(info.links).toEqual([sup]);
    expect(info.links[0]).toBe(sup);
    expect(info.monitoredBy[0]).toBe(shell);
    expect(processInfo(shell)?.monitors[0]).toBe(a);
    expect(processInfo(sup)?.links).toContain(shell);
    expect(info.pid).toBe(a.label);
    // As JSON the pids are strings, as before.
    expect(JSON.parse(JSON.stringify(info)).links).toEqual([sup.label]);
    rt.demonitor(ref);
  });

  it("processInfo is undefined for a dead process; processInfo.of throws saying why", async () => {
    const [, pid] = (await GenServer.startLink(Counter(), 0)) as [string, rt.Pid];
    expect(processInfo.of(pid).status).toBe("waiting");
    kill(pid);
    rt.settle();
    expect(processInfo(pid)).toBeUndefined();
    expect(() => processInfo.of(pid)).toThrow(`processInfo.of(${pid}): the process is dead (exit reason :killed)`);
    expect(processInfo("nobody")).toBeUndefined();
    expect(() => processInfo.of("nobody")).toThrow('processInfo.of("nobody"): no process is registered as "nobody"');
    expect(processInfo(rt.whereis("nobody"))).toBeUndefined();
    expect(() => processInfo(["ok", pid] as never)).toThrow(`processInfo: expected a pid or a registered name; got {:ok, ${pid}}`);
  });
});

describe("textTree", () => {
  beforeEach(() => {
    rt.resetRuntime();
  });

  it("takes a supervisor pid, a registered name, a snapshot or a node, and says 'kept, not running' for a stopped child", async () => {
    const C = Counter();
    const [, sup] = (await Supervisor.startLink(
      [{ id: "a", start: () => GenServer.startLink(C, 0) }, { id: "t", restart: "transient", start: () => GenServer.startLink(C, 1) }],
      { strategy: "one_for_one", name: "shop" },
    )) as [string, rt.Pid];
    const snap = snapshot(sup);
    const [a, t] = snap.root.children!;
    expect(textTree(sup)).toBe([`shop ${sup.label} [running, one_for_one]`, `├─ a ${a!.pid} [running]`, `└─ t ${t!.pid} [running]`].join("\n"));
    expect(textTree("shop")).toBe(textTree(sup));
    expect(textTree(snap)).toBe(textTree(sup));
    expect(textTree(snap.root)).toBe(textTree(sup));
    expect(textTree(sup)).not.toContain("undefined");
    await Supervisor.terminateChild(sup, "t");
    expect(textTree(sup).split("\n")[2]).toBe("└─ t (no pid) [kept, not running]");
    expect(textTree(snapshot(sup).root.children![1]!)).toBe("t (no pid) [kept, not running]");
    expect(() => textTree(["ok", sup] as never)).toThrow(`textTree: expected a supervisor pid or name, a snapshot or a tree node; got {:ok, ${sup}}`);
  });

  it("of a supervisor that gave up: dead, with its strategy", async () => {
    const demo = rt.demoIntensity();
    expect(textTree(demo.sup)).toBe(`${demo.sup.label} ${demo.sup.label} [dead, one_for_one]`);
  });
});
