/**
 * The scenario format's process-level steps (runtime/scenario/format.ts, PROCESS_OPS): a malformed step gets one
 * message naming the file, the field and what was expected; the supervisor-level format is unchanged.
 */
import { describe, expect, it } from "vitest";
import { parseScenario, ScenarioFormatError, PROCESS_OPS } from "../runtime/scenario/format.js";
import { runScenario } from "../runtime/scenario/run.js";

const doc = (steps: unknown[]) => JSON.stringify({ tree: { id: "root", children: [] }, steps });

function errorOf(steps: unknown[]): string {
  try {
    parseScenario("s.json", doc(steps));
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioFormatError);
    return (e as Error).message;
  }
  throw new Error("expected a ScenarioFormatError");
}

describe("process-level steps: validation", () => {
  it("accepts every op of the table with its needed fields", () => {
    for (const [op, info] of Object.entries(PROCESS_OPS)) {
      const st: Record<string, unknown> = { op };
      for (const k of info.need) st[k] = k === "value" && op === "trap_exit" ? true : ["ms", "vsn"].includes(k) ? 1 : k === "body" ? [] : "x";
      const steps = info.processOnly ? [{ op: "spawn", id: "p", body: [st] }] : [st];
      expect(() => parseScenario("s.json", doc(steps)), op).not.toThrow();
    }
  });

  it("names a missing field and what the op needs", () => {
    expect(errorOf([{ op: "registry_register", reg: "r" }])).toBe(
      's.json: steps[0].key: expected a value (op registry_register needs reg, key); got nothing (the field is missing)',
    );
  });

  it("names an unknown field and the fields the op takes", () => {
    expect(errorOf([{ op: "spawn", id: "p", linked: true }])).toMatch(/^s\.json: steps\[0\]\.linked: expected no such field for op spawn \(it takes by, id, body, link, monitor, trap_exit, as\)/);
  });

  it("lists the new ops among the known ones for an unknown op", () => {
    const m = errorOf([{ op: "spwan", id: "p" }]);
    expect(m).toMatch(/^s\.json: steps\[0\]\.op: expected one of crash, .*spawn, .*task_async_nolink.*; got "spwan"$/);
  });

  it("checks steps inside a body, with their path", () => {
    expect(errorOf([{ op: "spawn", id: "p", body: [{ op: "receive" }, { op: "sleep", ms: -1 }] }])).toBe(
      "s.json: steps[0].body[1].ms: expected a number >= 0; got -1",
    );
    expect(errorOf([{ op: "spawn", id: "p", body: [{ op: "exit_self", by: "q" }] }])).toMatch(/steps\[0\]\.body\[0\]\.by: expected nothing: a body step runs/);
  });

  it("refuses ops that would end or block the runner, unless run by a process", () => {
    expect(errorOf([{ op: "exit_self", reason: "boom" }])).toMatch(/^s\.json: steps\[0\]\.by: expected a process path: op exit_self only runs inside a body or with "by"/);
    expect(() => parseScenario("s.json", doc([{ op: "spawn", id: "p" }, { op: "exit_self", by: "p" }]))).not.toThrow();
  });

  it("checks kinds: booleans, timeouts, shutdown, demonitor options, registry keys, via names", () => {
    expect(errorOf([{ op: "spawn", id: "p", link: "yes" }])).toBe('s.json: steps[0].link: expected true or false; got "yes"');
    expect(errorOf([{ op: "task_await", task: "t", timeout: "soon" }])).toBe('s.json: steps[0].timeout: expected milliseconds or "infinity"; got "soon"');
    expect(errorOf([{ op: "task_shutdown", task: "t", shutdown: "now" }])).toBe('s.json: steps[0].shutdown: expected milliseconds or "brutal_kill"; got "now"');
    expect(errorOf([{ op: "demonitor", ref: "m", options: ["flush", "later"] }])).toBe('s.json: steps[0].options: expected a list of "flush" and "info"; got ["flush","later"]');
    expect(errorOf([{ op: "registry_start", id: "r", keys: "many" }])).toBe('s.json: steps[0].keys: expected "unique" or "duplicate"; got "many"');
    expect(errorOf([{ op: "server_start", id: "s", name: { via: ["r"] } }])).toBe('s.json: steps[0].name: expected a local name (a string) or {"via": [registry, key]}; got {"via":["r"]}');
    expect(errorOf([{ op: "trap_exit", value: 1, by: "p" }])).toBe("s.json: steps[0].value: expected true or false; got 1");
    expect(errorOf([{ op: "link", target: 3 }])).toBe('s.json: steps[0].target: expected a string (a path such as "root/a" or a name); got 3');
  });

  it("keeps the supervisor-level ops as they were (send and call without by go to the runner)", () => {
    expect(errorOf([{ op: "crash" }])).toBe("s.json: steps[0].target: expected a value (op crash needs target); got nothing (the field is missing)");
    expect(() => parseScenario("s.json", doc([{ op: "send", target: "root", msg: "x" }, { op: "call", target: "root", request: "x", timeout: 10 }]))).not.toThrow();
  });
});

describe("process-level steps: the runtime runner", () => {
  const run = (steps: unknown[]) => runScenario(parseScenario("s.json", doc(steps))).events.map(({ t: _t, ...e }) => e);

  it("records a failing API call as a result, and the calling process lives on", () => {
    const evs = run([
      { op: "spawn", id: "p" },
      { op: "agent_start", id: "ag", value: 1 },
      { op: "agent_stop", target: "ag" },
      { op: "agent_get", target: "ag", by: "p" },
      { op: "is_alive", target: "p" },
    ]);
    const failed = evs.find((e) => e.op === "agent_get");
    expect(failed).toMatchObject({ by: "p", step: 4, caught: "exit" });
    expect((failed!.reason as { tuple: unknown[] }).tuple[0]).toBe("noproc");
    expect(evs.at(-1)).toMatchObject({ op: "is_alive", value: true });
  });

  it("runs a body in order, then serves: records messages and runs steps sent to it", () => {
    const evs = run([
      { op: "spawn", id: "p", body: [{ op: "receive" }, { op: "send", target: "q", msg: "fwd" }] },
      { op: "spawn", id: "q" },
      { op: "send", target: "p", msg: "one" },
      { op: "send", target: "p", msg: "two" },
    ]);
    expect(evs.filter((e) => e.ev === "recv")).toEqual([
      { ev: "recv", path: "p", msg: "one" },
      { ev: "recv", path: "q", msg: "fwd" },
      { ev: "recv", path: "p", msg: "two" },
    ]);
  });
});

describe("the fuzzer's generator (test/conformance/fuzz/generate.mjs)", () => {
  it("makes valid scenarios, process-level programs for even seeds, that the runtime runs to the end", async () => {
    // @ts-expect-error a plain ES module without types
    const { generate } = await import("./conformance/fuzz/generate.mjs");
    const ops = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const d = generate(seed);
      const scn = parseScenario(`seed_${seed}.json`, JSON.stringify(d));
      if (seed % 2 === 1) continue;
      expect(d._fuzz.kind).toBe("processes");
      for (const st of scn.steps) ops.add(st.op);
      const evs = runScenario(scn).events;
      expect(evs.at(-1)).toMatchObject({ ev: "result", op: "flush" });
      expect(generate(seed)).toEqual(d); // the same program every time
    }
    for (const op of ["spawn", "link", "monitor", "exit", "registry_register", "agent_start", "task_async_nolink"]) expect(ops.has(op), op).toBe(true);
  });
});
