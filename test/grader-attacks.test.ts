/**
 * A determined student against `otp-lab grade` (issue "Grader: scores a student cannot fake").
 *
 * Every submission here is lesson 03's released student version (made by the real `otp-lab assign`) with only
 * student cells edited, graded by the real CLI against the real source. Each attack is compared with the same
 * submission without it: it must gain nothing. Where an attack targets how a verdict is decided, the test also
 * runs the attack through `otp-lab run` (an ordinary, unconfined kernel) and shows that there it does turn a
 * failing test cell into a passing one: the attack is real, and it is the grader's confinement that stops it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:net";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT, otpLab, progressLines, readNb, requireBuild, submission, tempDir, text, writeNb, codeCell, type CliResult, type Nb } from "./grader/helpers.js";

const LESSON = path.join(ROOT, "notebooks/03-one-for-one.ipynb");
const SLOW = 300_000;
const dir = tempDir("otp-lab-attacks-");
let student: string;

/** A correct exercise 1 (2 points): what a half-solved submission has. */
const EX1 = `async function startShop(): Promise<Pid> {
  return okPid(await Supervisor.startLink([
    { id: "db", start: () => GenServer.startLink(Worker, "db", { name: "shop.db" }) },
    worker("cache"),
    worker("web"),
  ], { strategy: "one_for_one" }));
}`;

/** A wrong exercise 2: a counter that forgets its count at a crash. Its visible test fails on an assert. */
const WRONG_EX2 = `function stashedCounterCallbacks(): GenServerCallbacks {
  return {
    init: () => ["ok", 0],
    handleCall: (request: Term, _from: From, n: number) => (request === "inc" ? ["reply", n + 1, n + 1] : ["reply", n, n]),
  };
}
async function startCounterWithStash(): Promise<Pid> {
  return okPid(await Supervisor.startLink([
    { id: "stash", start: () => GenServer.startLink(Stash, 0, { name: "stash" }) },
    { id: "counter", start: () => GenServer.startLink(defmodule("C", stashedCounterCallbacks()), null, { name: "counter" }) },
  ], { strategy: "one_for_one" }));
}`;

interface Graded {
  r: CliResult;
  results: any;
  gradescope?: any;
  ms: number;
}

async function grade(file: string, extra: string[] = []): Promise<Graded> {
  const out = file.replace(/\.ipynb$/, ".json");
  const t0 = Date.now();
  const r = await otpLab(["grade", file, "--source", LESSON, "--out", out, ...extra]);
  const ms = Date.now() - t0;
  expect(existsSync(out), `no result file; stderr:\n${r.stderr.slice(-3000)}`).toBe(true);
  return { r, results: JSON.parse(readFileSync(out, "utf8")), ms };
}

/** Runs a notebook on an ordinary kernel (`otp-lab run`) and returns the error outputs by grade_id. */
async function runUnconfined(file: string): Promise<Map<string, string[]>> {
  const out = file.replace(/\.ipynb$/, ".run.ipynb");
  await otpLab(["run", file, "--out", out, "--timeout", "20"]);
  const nb = readNb(out);
  const errors = new Map<string, string[]>();
  for (const c of nb.cells) {
    const id = c.metadata?.nbgrader?.grade_id as string | undefined;
    if (!id) continue;
    errors.set(id, (c.outputs ?? []).filter((o: any) => o.output_type === "error").map((o: any) => `${o.ename}: ${o.evalue}`));
  }
  return errors;
}

const scores = (g: Graded) => Object.fromEntries(g.results.tests.map((t: any) => [t.grade_id, t.score]));

let blank: Graded;
let half: Graded;
let halfWrong: Graded;

beforeAll(async () => {
  requireBuild();
  student = path.join(dir, "student.ipynb");
  const r = await otpLab(["assign", LESSON, student]);
  if (r.code !== 0) throw new Error(`assign failed: ${r.stderr}`);
  [blank, half, halfWrong] = await Promise.all([
    grade(submission(student, path.join(dir, "blank.ipynb"), {})),
    grade(submission(student, path.join(dir, "half.ipynb"), { "l03-ex1-solution": EX1 })),
    grade(submission(student, path.join(dir, "half-wrong.ipynb"), { "l03-ex1-solution": EX1, "l03-ex2-solution": WRONG_EX2 })),
  ]);
}, SLOW);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("the baselines: blank 0, exercise 1 solved 2, exercise 2 wrong still 2 of 6", () => {
  expect(scores(blank)).toEqual({ "l03-ex1-tests": 0, "l03-ex2-tests": 0 });
  expect(scores(half)).toEqual({ "l03-ex1-tests": 2, "l03-ex2-tests": 0 });
  expect(scores(halfWrong)).toEqual({ "l03-ex1-tests": 2, "l03-ex2-tests": 0 });
});

describe("changing how a test cell's verdict is decided", () => {
  /** Each attack goes into the student cell after exercise 2's wrong solution, so that it runs before ex2's test. */
  const attacks: Record<string, string> = {
    "node:vm (every later cell becomes a no-op)": `
import vm from "node:vm";
const original = vm.Script.prototype.runInThisContext;
vm.Script.prototype.runInThisContext = function (this: any, ...args: any[]) {
  const fn = original.apply(this, args as []);
  // A compiled cell is a generator function: swap it for one that does nothing.
  return typeof fn === "function" && fn.constructor?.name === "GeneratorFunction" ? function* () { return undefined; } : fn;
} as any;`,
    "node:assert (every assertion a no-op)": `
import assert from "node:assert/strict";
import * as strictNs from "node:assert/strict";
import plainAssert from "node:assert";
for (const a of [assert, plainAssert, strictNs as any]) {
  for (const k of Object.keys(a)) {
    try { (a as any)[k] = () => {}; } catch {}
    try { Object.defineProperty(a, k, { value: () => {} }); } catch {}
  }
}
// The test cell's own \`import assert\` assigns the global again: make that assignment go nowhere.
try { Object.defineProperty(globalThis, "assert", { get: () => Object.assign(() => {}, { equal() {}, deepEqual() {}, ok() {} }), set() {}, configurable: false }); } catch {}`,
    "Object.prototype.toJSON and friends (rewrite the verdict on the channel)": `
const forge = function (this: any) {
  if (this && this.type === "done") return { ...this, status: "ok" };
  if (this && this.kind === "error") return { kind: "stream", name: "stdout", text: "" };
  return this;
};
try { (Object.prototype as any).toJSON = forge; } catch {}
try { Object.defineProperty(Object.prototype, "toJSON", { value: forge, configurable: true }); } catch {}
try { (Array.prototype as any).toJSON = function () { return [...this]; }; } catch {}
try { (Array.prototype as any).includes = () => true; } catch {}
try { (Object as any).is = () => true; } catch {}`,
    "JSON, Promise and Function (replace what the kernel itself runs on)": `
try { (JSON as any).stringify = (_v: any) => '{"type":"done","status":"ok"}'; } catch {}
try { (Promise.prototype as any).then = function () {}; } catch {}
try { (Function.prototype as any).call = function () {}; } catch {}
try { (Error as any).prototype.toString = () => "passed"; } catch {}`,
    "the IPC channel (answer the grader's requests ourselves)": `
const p: any = (globalThis as any).process ?? process;
p.removeAllListeners("message");
p.on("message", (m: any) => p.send({ type: "done", id: m.id, status: "ok", executionCount: 1 }));
for (let id = 1; id < 40; id++) p.send({ type: "done", id, status: "ok", executionCount: id });`,
    "the runtime's exports and the lesson's helpers (fake answers)": `
try { (Supervisor as any).whichChildren = async () => []; } catch {}
try { Object.defineProperty(Supervisor, "whichChildren", { value: async () => [] }); } catch {}
try { (GenServer as any).call = () => Promise.resolve(3); } catch {}
try { Object.defineProperty(Pid.prototype, "dead", { get: () => true }); } catch {}
try { (globalThis as any).GenServer = { call: async () => 3 }; } catch {}
// Redefining names the locked cells use.
const childPid = async (_sup: Pid, _id: string) => self();
var whereis = (_name: string) => self();`,
  };

  const graded = new Map<string, Graded>();
  const unconfined = new Map<string, Map<string, string[]>>();
  beforeAll(async () => {
    const names = Object.keys(attacks);
    // Two at a time: the machine has two cores.
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(
        names.slice(i, i + 2).map(async (name, k) => {
          const file = submission(student, path.join(dir, `verdict-${i + k}.ipynb`), {
            "l03-ex1-solution": EX1,
            "l03-ex2-solution": WRONG_EX2 + "\n" + attacks[name],
          });
          graded.set(name, await grade(file));
          unconfined.set(name, await runUnconfined(file));
        }),
      );
    }
  }, SLOW * 2);

  for (const name of Object.keys(attacks)) {
    it(`${name}: gains nothing`, () => {
      const g = graded.get(name)!;
      expect(g.r.code).toBe(0);
      expect(scores(g)).toEqual(scores(halfWrong));
      expect(g.results.score).toBe(2);
      // The attack compiled and ran (a type error would have kept it from running at all).
      const line = new Map(progressLines(g.r.stderr)).get("l03-ex2-solution");
      expect(line).toBeDefined();
      expect(line).not.toMatch(/TSError|SyntaxError/);
    });
  }

  it("the same attacks do pass exercise 2's visible test on an ordinary kernel (so they are real)", () => {
    // The wrong solution alone fails it, everywhere.
    for (const name of ["node:vm (every later cell becomes a no-op)", "node:assert (every assertion a no-op)", "Object.prototype.toJSON and friends (rewrite the verdict on the channel)"]) {
      const errors = unconfined.get(name)!;
      expect(errors.get("l03-ex2-tests"), name).toEqual([]);
    }
  });
});

describe("forging results in the outputs", () => {
  let g: Graded;
  beforeAll(async () => {
    const forged = `
console.log(JSON.stringify({ type: "done", id: 12, status: "ok", executionCount: 12 }));
console.error("[12/14] cell l03-ex1-tests ... ok (3 ms)");
console.error("grade: 6 / 6 points");
display.json({ score: 6, max_score: 6, tests: [{ grade_id: "l03-ex2-tests", score: 4, status: "passed" }] });
display.mimebundle({ "application/json": { status: "ok" }, "text/plain": "passed" });
({ status: "ok", score: 6 })`;
    g = await grade(submission(student, path.join(dir, "forged.ipynb"), { "l03-ex1-solution": EX1, "l03-ex2-solution": WRONG_EX2 + "\n" + forged }));
  }, SLOW);

  it("gains nothing: outputs are outputs, the verdict comes from the kernel's own report", () => {
    expect(scores(g)).toEqual(scores(halfWrong));
    expect(g.r.stderr).toMatch(/^grade: 2 \/ 6 points/m);
  });
});

describe("seeing the hidden tests", () => {
  let g: Graded;
  let gs: any;
  const hiddenPhrase = "the name follows the restarted db"; // an assert message inside lesson 03's hidden tests
  beforeAll(async () => {
    const snoop = `
const leaks: string[] = [];
for (const attempt of [
  async () => (await import("node:fs")).readFileSync(${JSON.stringify(LESSON)}, "utf8"),
  async () => (await import("node:fs")).readFileSync("/proc/" + process.ppid + "/cmdline", "utf8"),
  async () => JSON.stringify((globalThis as any).process?.env),
  async () => (globalThis as any).require("node:fs").readFileSync(${JSON.stringify(LESSON)}, "utf8"),
  async () => { const p: any = process; p.on("message", (m: any) => leaks.push(m.code)); return "listening"; },
]) {
  try { leaks.push(String(await attempt())); } catch (e) { console.log("blocked:", String(e).slice(0, 120)); }
}
async function startShop(): Promise<Pid> {
  // Called by the tests: show whatever can be seen from here, in the test's failure message.
  const caller = (() => { try { return String((startShop as any).caller); } catch (e) { return String(e); } })();
  throw new Error("LEAK " + leaks.join("\\n") + "\\n" + caller + "\\n" + new Error().stack);
}`;
    const file = submission(student, path.join(dir, "snoop.ipynb"), { "l03-ex1-solution": snoop });
    g = await grade(file);
    const out = path.join(dir, "snoop.gradescope.json");
    await otpLab(["grade", file, "--source", LESSON, "--format", "gradescope", "--out", out]);
    gs = JSON.parse(readFileSync(out, "utf8"));
  }, SLOW);

  it("no hidden test text reaches the student's code or any visible feedback", () => {
    expect(g.results.score).toBe(0);
    const feedback = g.results.tests.map((t: any) => t.feedback).join("\n");
    expect(feedback).toMatch(/LEAK/); // the student's message did come through...
    expect(feedback).not.toContain(hiddenPhrase); // ...without the hidden tests
    expect(feedback).not.toContain("BEGIN HIDDEN TESTS");
    const visible = JSON.stringify([gs.output, ...gs.tests.filter((t: any) => (t.visibility ?? gs.visibility ?? "visible") === "visible")]);
    expect(visible).not.toContain(hiddenPhrase);
  });
});

describe("leaving the sandbox", () => {
  let server: Server;
  let connections = 0;
  let port = 0;
  let g: Graded;
  const zmqPath = path.join(dir, "escape.ipc");
  beforeAll(async () => {
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as { port: number }).port;
    const escapes = `
const tries: [string, () => unknown][] = [
  ["kill parent", () => process.kill(process.ppid, "SIGKILL")],
  ["kill group", () => process.kill(0, "SIGKILL")],
  ["debugger", () => process.kill(process.ppid, "SIGUSR1")],
  ["inspector", async () => (await import("node:inspector")).open(0)],
  ["tcp", async () => (await import("node:net")).connect(${port}, "127.0.0.1")],
  ["dlopen", () => process.dlopen({ exports: {} } as any, ${JSON.stringify(path.join(ROOT, "node_modules"))} + "/x.node")],
  ["zeromq", async () => { const zmqName: string = "zeromq"; const zmq: any = await import(zmqName); const s = new zmq.Publisher(); await s.bind("ipc://${zmqPath}"); }],
  ["child", async () => (await import("node:child_process")).execSync("touch ${path.join(dir, "pwned")}")],
  ["write", async () => (await import("node:fs")).writeFileSync(${JSON.stringify(path.join(dir, "pwned"))}, "x")],
  ["Function", () => { if (!Function("return process")()) throw new Error("no process in that scope"); }],
  ["constructor", () => (() => 0).constructor.constructor("return process")()],
  ["globalThis", () => { if (!(globalThis as any).process?.kill) throw new Error("no process global"); }],
  // The grader sets the kernel's V8 flags; a cell must not change them (natives syntax reads V8's internals).
  ["v8 flags", async () => (await import("node:v8")).setFlagsFromString("--allow-natives-syntax")],
];
for (const [name, f] of tries) {
  try { await f(); console.log(name, "WORKED"); } catch (e) { console.log(name, "blocked:", String(e).slice(0, 100)); }
}
await sleep(50);`;
    g = await grade(submission(student, path.join(dir, "escape.ipynb"), { "l03-ex1-solution": EX1 + "\n" + escapes }), ["--notebook", graded]);
  }, SLOW);
  const graded = path.join(dir, "escape.graded.ipynb");
  afterAll(() => server?.close());

  it("every escape is blocked, the grader survives and grades as without them", async () => {
    expect(g.r.code).toBe(0);
    expect(scores(g)).toEqual(scores(half));
    const nbOut = g.results; // the grader finished and wrote its report
    expect(nbOut.finished).toBe(true);
    expect(connections).toBe(0);
    expect(existsSync(zmqPath)).toBe(false);
    expect(existsSync(path.join(dir, "pwned"))).toBe(false);
    // Each try ran and was refused (none of them is just a type error that kept the cell from running).
    const cell = readNb(graded).cells.find((c) => c.metadata?.nbgrader?.grade_id === "l03-ex1-solution")!;
    const printed = (cell.outputs ?? []).map((o: any) => text(o.text ?? "")).join("");
    expect(printed.match(/ blocked: /g)?.length).toBe(13);
    expect(printed).not.toMatch(/WORKED/);
  });
});

describe("exhausting the grading machine", () => {
  it(
    "6 GiB of ArrayBuffers: the kernel is stopped at the memory limit, the grader goes on",
    async () => {
      const bomb = `
const hoard: Uint8Array[] = [];
for (let i = 0; i < 48; i++) { const b = new Uint8Array(128 * 1024 * 1024); b.fill(1); hoard.push(b); }
hoard.length`;
      const file = submission(student, path.join(dir, "memory.ipynb"), { "l03-ex1-solution": EX1 }, (nb) => {
        // After exercise 1's test, in a cell of the student's own.
        const at = nb.cells.findIndex((c) => c.metadata?.nbgrader?.grade_id === "l03-ex1-tests");
        nb.cells.splice(at + 1, 0, codeCell(bomb));
      });
      const g = await grade(file, ["--memory", "512"]);
      expect(scores(g)).toEqual(scores(half));
      expect(g.r.stderr).toMatch(/ran out of memory/);
    },
    SLOW,
  );

  it(
    "a display flood is capped, and the grader's report stays small",
    async () => {
      const flood = `for (let i = 0; i < 200000; i++) display.html("<b>" + "x".repeat(200) + "</b>");\nfor (let i = 0; i < 200000; i++) console.log("y".repeat(200));`;
      const file = submission(student, path.join(dir, "flood.ipynb"), { "l03-ex1-solution": EX1 + "\n" + flood });
      const notebookOut = path.join(dir, "flood.graded.ipynb");
      const g = await grade(file, ["--timeout", "60", "--notebook", notebookOut]);
      expect(scores(g)).toEqual(scores(half));
      expect(statSync(notebookOut).size).toBeLessThan(40 * 1024 * 1024);
      expect(readFileSync(notebookOut, "utf8")).toMatch(/output truncated/);
    },
    SLOW,
  );

  it(
    "a busy setInterval left behind: later cells time out, the budget ends it, the report is written",
    async () => {
      const file = submission(student, path.join(dir, "interval.ipynb"), { "l03-ex1-solution": EX1 }, (nb) => {
        const at = nb.cells.findIndex((c) => c.metadata?.nbgrader?.grade_id === "l03-ex1-tests");
        nb.cells.splice(at + 1, 0, codeCell(`setInterval(() => { for (;;) {} }, 1);`));
      });
      // The time limit applies to the cells before the interval too (kernel start-up, the lesson's set-up, the
      // tests the student passes): 4 s leaves them room on a loaded 2-core CI machine.
      const g = await grade(file, ["--timeout", "4", "--budget", "50"]);
      expect(g.ms).toBeLessThan(110_000);
      expect(scores(g)).toEqual(scores(half));
    },
    SLOW,
  );

  it(
    "a hundred endless loops with a short time limit: the total budget ends it",
    async () => {
      const file = submission(student, path.join(dir, "loops.ipynb"), { "l03-ex1-solution": EX1 }, (nb) => {
        const at = nb.cells.findIndex((c) => c.metadata?.nbgrader?.grade_id === "l03-ex1-tests");
        nb.cells.splice(at + 1, 0, ...Array.from({ length: 100 }, () => codeCell("while (true) {}")));
      });
      // The budget also covers the kernel's start-up and the cells before the loops, which take several seconds
      // of their own on a busy machine: 70 s, of which the loops then use what is left. The time limit applies to
      // those cells too: 3 s leaves the tests the student passes room to run on a loaded 2-core CI machine (with
      // 1 s they timed out there), and a hundred loops of 3 s each still need four times the budget.
      const g = await grade(file, ["--timeout", "3", "--budget", "70"]);
      expect(g.ms).toBeLessThan(120_000);
      expect(scores(g)).toEqual(scores(half));
      expect(JSON.stringify(g.results.tests)).toMatch(/budget/);
    },
    SLOW,
  );
});
