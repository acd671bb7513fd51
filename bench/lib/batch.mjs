/**
 * The "batch" side of `npm run bench`: grading a class at once. Each request makes a folder of lesson 03
 * submissions (an equal mix of solved, blank, half done, an endless loop, a kernel crash and invalid JSON),
 * grades it with `otp-lab grade DIR --source ... --out-dir ...` at `-j jobs` and at `-j 1` in the same
 * repetition (which goes first alternates), and times `otp-lab run` of the solved notebook for reference.
 * Every figure is a whole CLI run, as course staff would time it; the scores in grades.csv are checked.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const KINDS = ["solved", "blank", "half", "loop", "crash", "invalid"];
/** What each kind must get: score out of 6, and status. */
const EXPECTED = { solved: [6, "ok"], blank: [0, "ok"], half: [2, "ok"], loop: [4, "timeout"], crash: [2, "crashed"], invalid: [0, "invalid"] };
const NORMAL = new Set(["solved", "blank", "half"]);

const text = (s) => (Array.isArray(s) ? s.join("") : s);
const gradeIdOf = (c) => c.metadata?.nbgrader?.grade_id;

export class BatchSide {
  constructor(root) {
    this.name = "batch";
    this.exited = null;
    this.turn = 0;
    this.root = root;
    this.cli = path.join(root, "dist/kernel/cli.js");
    this.dir = mkdtempSync(path.join(os.tmpdir(), "otp-lab-bench-batch-"));
  }

  /**
   * Runs the CLI; with `countCpu`, inside a cgroup v1 cpuacct group of its own (where there is one and we may
   * make it: root), which counts the CPU time of everything it starts, sandboxed kernels included (their own
   * cgroups are memory and pids ones). On a shared machine, that says how much of the cores a batch got.
   */
  cliRun(args, what, countCpu = false) {
    const group = countCpu ? cpuGroup() : null;
    const t0 = performance.now();
    const r = group
      ? spawnSync("/bin/sh", ["-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', group, process.execPath, this.cli, ...args], { cwd: this.dir, encoding: "utf8", timeout: 1_800_000 })
      : spawnSync(process.execPath, [this.cli, ...args], { cwd: this.dir, encoding: "utf8", timeout: 1_800_000 });
    const ms = performance.now() - t0;
    let cpuMs;
    if (group) {
      try {
        cpuMs = Number(readFileSync(path.join(group, "cpuacct.usage"), "utf8")) / 1e6;
      } catch {
        // Not counted.
      }
      removeGroup(group);
    }
    if (r.error) throw new Error(`${what}: ${r.error.message}`);
    return { ms, cpuMs, status: r.status, stderr: String(r.stderr) };
  }

  /** `n` submissions, the kinds in turn, as students/<kind>-<k>/03-one-for-one.ipynb. */
  makeSubmissions(source, n) {
    const students = path.join(this.dir, "students");
    rmSync(students, { recursive: true, force: true });
    const student = path.join(this.dir, "student.ipynb");
    const a = this.cliRun(["assign", source, student], "assign");
    if (a.status !== 0) throw new Error(`otp-lab assign failed: ${a.stderr.slice(-300)}`);
    const solutions = Object.fromEntries(JSON.parse(readFileSync(source, "utf8")).cells.filter((c) => c.metadata?.nbgrader?.solution).map((c) => [gradeIdOf(c), text(c.source)]));
    const base = readFileSync(student, "utf8");
    const edits = {
      solved: { "l03-ex1-solution": solutions["l03-ex1-solution"], "l03-ex2-solution": solutions["l03-ex2-solution"] },
      blank: {},
      half: { "l03-ex1-solution": solutions["l03-ex1-solution"] },
      loop: { "l03-ex1-solution": `${solutions["l03-ex1-solution"]}\nwhile (true) {}`, "l03-ex2-solution": solutions["l03-ex2-solution"] },
      // Buffers fill the kernel's cgroup in a few seconds; arrays of numbers would first make V8 collect garbage
      // for longer than --timeout on a busy machine (the cell would time out instead of crashing).
      crash: { "l03-ex1-solution": solutions["l03-ex1-solution"], "l03-ex2-solution": `${solutions["l03-ex2-solution"]}\nconst hog: Uint8Array[] = [];\nfor (;;) hog.push(new Uint8Array(64 * 2 ** 20).fill(1));` },
    };
    const kinds = {};
    for (let k = 0; k < n; k++) {
      const kind = KINDS[k % KINDS.length];
      const name = `${kind}-${String(Math.floor(k / KINDS.length) + 1).padStart(2, "0")}`;
      mkdirSync(path.join(students, name), { recursive: true });
      const file = path.join(students, name, "03-one-for-one.ipynb");
      kinds[`${name}/03-one-for-one`] = kind;
      if (kind === "invalid") {
        writeFileSync(file, '{"cells": [ not json');
        continue;
      }
      const nb = JSON.parse(base);
      for (const [id, src] of Object.entries(edits[kind])) nb.cells.find((c) => gradeIdOf(c) === id).source = src;
      writeFileSync(file, JSON.stringify(nb));
    }
    return { students, kinds };
  }

  grade(req, source, students, kinds, jobs) {
    const out = path.join(this.dir, `results-j${jobs}`);
    rmSync(out, { recursive: true, force: true });
    const r = this.cliRun(["grade", students, "--source", source, "--out-dir", out, "-j", String(jobs), "--timeout", String(req.timeout), "--memory", String(req.memory)], `grade -j ${jobs}`, true);
    // Exit 1: the invalid submissions could not be graded (the others were).
    if (r.status !== 1 && r.status !== 0) throw new Error(`otp-lab grade -j ${jobs} exited ${r.status}: ${r.stderr.trim().slice(-400)}`);
    const [header, ...rows] = readFileSync(path.join(out, "grades.csv"), "utf8").trim().split(/\r?\n/).map((l) => l.split(","));
    const col = (row, name) => row[header.indexOf(name)];
    if (rows.length !== Object.keys(kinds).length) throw new Error(`grades.csv has ${rows.length} rows for ${Object.keys(kinds).length} submissions`);
    const wrong = [];
    const statuses = [];
    const normal = [];
    for (const row of rows) {
      const kind = kinds[row[0]];
      const [score, status] = EXPECTED[kind];
      // A wrong score counts; a different status alone does not (on a starved machine the memory hog may still be
      // filling the kernel's memory when its cell's time limit ends it: "timeout" then, with the same score).
      if (Number(col(row, "score")) !== score) wrong.push(`${row[0]}: ${col(row, "score")} ${col(row, "status")}`);
      else if (col(row, "status") !== status) statuses.push(`${row[0]}: ${col(row, "status")} (expected ${status})`);
      if (NORMAL.has(kind)) normal.push(Number(col(row, "duration_s")) * 1000);
    }
    return { ms: r.ms, cpuMs: r.cpuMs, wrong, statuses, normal };
  }

  request(req) {
    const source = path.join(this.root, req.notebook);
    const { students, kinds } = this.makeSubmissions(source, req.n);
    const run = this.cliRun(["run", source, "--out", path.join(this.dir, "executed.ipynb")], "run");
    if (run.status !== 0) throw new Error(`otp-lab run exited ${run.status}: ${run.stderr.trim().slice(-400)}`);
    let parallel;
    let sequential;
    if (this.turn++ % 2 === 0) {
      parallel = this.grade(req, source, students, kinds, req.jobs);
      sequential = this.grade(req, source, students, kinds, 1);
    } else {
      sequential = this.grade(req, source, students, kinds, 1);
      parallel = this.grade(req, source, students, kinds, req.jobs);
    }
    const median = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    const normalMs = median(parallel.normal);
    const cores = os.cpus().length;
    return Promise.resolve({
      n: req.n,
      jobs: req.jobs,
      cores,
      parallel_ms: parallel.ms,
      sequential_ms: sequential.ms,
      run_ms: run.ms,
      normal_ms: normalMs,
      normal_sequential_ms: median(sequential.normal),
      ...(parallel.cpuMs !== undefined ? { parallel_cpu_ms: parallel.cpuMs } : {}),
      ...(sequential.cpuMs !== undefined ? { sequential_cpu_ms: sequential.cpuMs } : {}),
      // Per core: `jobs` gradings share `cores` cores.
      normal_per_min_per_core: (60_000 / normalMs) * (req.jobs / cores),
      wrong: parallel.wrong.length + sequential.wrong.length,
      wrong_detail: [...parallel.wrong.map((w) => `-j ${req.jobs} ${w}`), ...sequential.wrong.map((w) => `-j 1 ${w}`)].slice(0, 10),
      other_status: [...parallel.statuses.map((w) => `-j ${req.jobs} ${w}`), ...sequential.statuses.map((w) => `-j 1 ${w}`)].slice(0, 10),
    });
  }

  kill() {}
  close() {
    rmSync(this.dir, { recursive: true, force: true });
    return Promise.resolve();
  }
}

const CPUACCT = "/sys/fs/cgroup/cpuacct";

/** A fresh cgroup v1 cpuacct group, or null (cgroup v2, not root, ...). */
function cpuGroup() {
  if (!existsSync(path.join(CPUACCT, "cpuacct.usage"))) return null;
  const dir = path.join(CPUACCT, `otp-lab-bench-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch {
    return null;
  }
}

/** Removes the group once its processes are gone (a killed sandbox may take a moment). */
function removeGroup(dir) {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      spawnSync("sleep", ["0.1"]);
    }
  }
}
