/**
 * Smoke test of `npm run bench` (bench/run.mjs) at tiny sizes: the harness runs every side, writes valid
 * results and a Markdown table. It never asserts speed: benchmarks are not timed tests.
 */
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

interface Side {
  measured: boolean;
  median?: number;
  values?: number[];
  reps?: number;
  why?: string;
}
interface Row {
  id: string;
  group: string;
  title: string;
  unit: string;
  ours: string;
  sides: Record<string, Side>;
  ratios: Record<string, number>;
  goals: Array<{ text: string; value: number | null; met: boolean | null }>;
}
interface Results {
  quick: boolean;
  machine: { cores: number; node: string; beam: { otp: string; schedulers: number } | null };
  rows: Row[];
}

function runBench(only: string[]): { results: Results; stdout: string } {
  const out = join(mkdtempSync(join(tmpdir(), "otp-lab-bench-test-")), "results.json");
  // --no-build: `npm test` builds dist/ first; --no-install: a test does not install Debian packages.
  const r = spawnSync(process.execPath, ["bench/run.mjs", "--quick", "--no-build", "--no-install", "--only", only.join(","), "--out", out], {
    cwd: root,
    encoding: "utf8",
    timeout: 240_000,
  });
  expect(r.status, `bench/run.mjs failed:\n${r.stderr.slice(-3000)}`).toBe(0);
  return { results: JSON.parse(readFileSync(out, "utf8")) as Results, stdout: r.stdout };
}

/**
 * As `runBench`, without blocking the test worker for minutes (vitest's worker must keep answering its main
 * thread, or the run fails with "Timeout calling onTaskUpdate").
 */
function runBenchAsync(only: string[], timeoutMs: number): Promise<{ results: Results; stdout: string }> {
  const out = join(mkdtempSync(join(tmpdir(), "otp-lab-bench-test-")), "results.json");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["bench/run.mjs", "--quick", "--no-build", "--no-install", "--only", only.join(","), "--out", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        expect(code, `bench/run.mjs failed:\n${stderr.slice(-3000)}`).toBe(0);
        resolvePromise({ results: JSON.parse(readFileSync(out, "utf8")) as Results, stdout });
      } catch (err) {
        reject(err);
      }
    });
  });
}

function expectMeasured(row: Row, side: string): void {
  const s = row.sides[side];
  expect(s, `${row.id} has no ${side} side`).toBeDefined();
  expect(s.measured, `${row.id} / ${side}: ${s.why}`).toBe(true);
  expect(s.values!.length).toBeGreaterThanOrEqual(1);
  expect(Number.isFinite(s.median) && s.median! > 0).toBe(true);
}

describe("npm run bench (quick mode)", () => {
  it("measures the runtime against BEAM and xstate and writes results.json and a table", () => {
    const { results, stdout } = runBench(["spawn", "spawn-shared", "memory", "pingpong", "call", "restart", "dynsup"]);
    expect(results.quick).toBe(true);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.rows.map((r) => r.id)).toEqual(["spawn", "spawn-floor", "spawn-shared", "memory", "pingpong", "call", "restart", "dynsup-start", "dynsup-stop"]);
    for (const row of results.rows) {
      expectMeasured(row, "runtime");
      if (has("erl")) {
        expectMeasured(row, "beam");
        expect(Number.isFinite(row.ratios.beam)).toBe(true);
        expect(row.ratios.beam).toBeCloseTo(row.sides.runtime.median! / row.sides.beam.median!, 9);
      } else {
        expect(row.sides.beam.why).toMatch(/not measured: .*erlang-nox/);
      }
      for (const g of row.goals) expect(g.met === null || typeof g.met === "boolean").toBe(true);
    }
    if (has("erl")) expect(results.machine.beam!.schedulers).toBe(1);
    for (const id of ["spawn-shared", "pingpong"]) expectMeasured(results.rows.find((r) => r.id === id)!, "xstate");
    // The V8 reference row is its own figure, not the spawn row's again.
    const floor = results.rows.find((r) => r.id === "spawn-floor")!;
    expect(floor.sides.runtime.median).not.toBe(results.rows.find((r) => r.id === "spawn")!.sides.runtime.median);
    expect(floor.goals).toEqual([]);
    // An idle GenServer cannot cost less than its process record; a quick sanity bound, not a goal.
    expect(results.rows.find((r) => r.id === "memory")!.sides.runtime.median!).toBeGreaterThan(50);

    expect(stdout).toMatch(/^Machine: \d+ cores .*Node v\d+/m);
    expect(stdout).toContain("| what | unit | ours | BEAM | xstate / tslab | ours ÷ peer | goal | met |");
    expect(stdout).toContain("spawn + exit of a minimal process (2,000)");
    expect(stdout).toContain("≥ 2x xstate");
  }, 240_000);

  it("draws the widgets rows and reports the kernel rows, measured or with the reason they are not", () => {
    const { results, stdout } = runBench(["widgets", "kernel"]);
    const ids = results.rows.map((r) => r.id);
    expect(ids).toEqual(["kernel-startup", "kernel-cell", "kernel-new-cell", "kernel-first-cell", "kernel-startup-first-cell", "widgets-tree", "widgets-tree-bundle", "widgets-chart", "widgets-chart-cold"]);
    for (const row of results.rows.filter((r) => r.group === "widgets")) {
      const s = row.sides.widgets;
      // The widgets are written alongside; when they do not build yet the row must say why, not vanish.
      if (s.measured) expect(s.median!).toBeGreaterThan(0);
      else expect(s.why).toMatch(/^not measured: /);
    }
    for (const row of results.rows.filter((r) => r.group === "kernel")) {
      for (const side of ["otp-lab", "tslab"]) {
        const s = row.sides[side];
        if (s.measured) expect(s.median!).toBeGreaterThan(0);
        else {
          expect(s.why).toMatch(/^not measured: /);
          expect(stdout).toContain("Not measured:");
        }
      }
    }
    // tslab is a devDependency: with node_modules installed, it must have answered.
    expectMeasured(results.rows.find((r) => r.id === "kernel-startup")!, "tslab");
  }, 240_000);

  it("times grading with the sandbox against `otp-lab run` without it, with the 0.5 s goal", () => {
    const { results, stdout } = runBench(["grader"]);
    expect(results.rows.map((r) => r.id)).toEqual(["grader-graded", "grader-run", "grader-added", "grader-ratio"]);
    // The difference may come out below zero on a noisy machine; the others are times and a ratio.
    for (const row of results.rows.filter((r) => r.id !== "grader-added")) expectMeasured(row, "grader");
    expect(results.rows[2]!.sides.grader.measured).toBe(true);
    const [graded, run, added] = results.rows;
    // Measured in the same repetition: the difference is of the two figures of that run.
    expect(added!.sides.grader.median!).toBeCloseTo(graded!.sides.grader.median! - run!.sides.grader.median!, 6);
    expect(added!.goals.map((g) => g.text)).toEqual(["≤ 0.5 s"]);
    expect(stdout).toContain("time isolation adds per submission");
  }, 240_000);

  it("grades a class with -j 2 and -j 1 in the same repetition, and reports the speed-up and the rate per core", async () => {
    const { results, stdout } = await runBenchAsync(["batch"], 400_000);
    expect(results.rows.map((r) => r.id)).toEqual(["batch-parallel", "batch-sequential", "batch-speedup", "batch-share", "batch-cores", "batch-cores-sequential", "batch-ceiling", "batch-rate", "batch-wrong"]);
    // The cores rows need a cgroup v1 cpuacct group (root); elsewhere they say why not.
    for (const row of results.rows.filter((r) => !["batch-wrong", "batch-cores", "batch-cores-sequential", "batch-ceiling"].includes(r.id))) expectMeasured(row, "batch");
    const [parallel, sequential, speedup, , , coresSequential, ceiling] = results.rows;
    // The ceiling is min(jobs, cores) over the cores one grading at a time kept busy, when those were counted.
    if (coresSequential!.sides.batch.measured) {
      expect(ceiling!.sides.batch.median!).toBeCloseTo(Math.min(2, cpus().length) / coresSequential!.sides.batch.median!, 6);
    }
    expect(speedup!.sides.batch.median!).toBeCloseTo(sequential!.sides.batch.median! / parallel!.sides.batch.median!, 6);
    expect(speedup!.goals.map((g) => g.text)).toEqual(["≥ 1.7x"]);
    // How many were scored wrong is a count (0 when all is well); it is measured, whatever it is.
    expect(results.rows[8]!.sides.batch.measured).toBe(true);
    expect(stdout).toContain("`otp-lab grade` of 6 submissions of lesson 03");
  }, 420_000);
});
