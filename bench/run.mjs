#!/usr/bin/env node
/**
 * `npm run bench`: OTP Lab's runtime, kernel and widgets side by side with their peers (issue 6).
 *
 * Each comparison runs every side in its own OS process in the same run, alternating which side goes first
 * from one repetition to the next, and reports medians and ratios. Results go to bench/results.json and a
 * Markdown table on stdout, with the machine they were measured on.
 *
 *   node bench/run.mjs                 full run (about 5 minutes, and 10 more for the batch group: grading a class)
 *   node bench/run.mjs --quick         tiny sizes, one repetition (the smoke test uses this)
 *   node bench/run.mjs --only spawn,memory --reps 3 --out /tmp/r.json --no-build
 *   node bench/run.mjs --only restart --candidate /tmp/patched/dist   also runs a second build of the runtime
 *                                      (e.g. with a proposed fix), alternating with this one: "ours ÷ candidate"
 *   node bench/run.mjs --only site     the static site in headless Chromium vs the Node kernel (bench/site.mjs;
 *                                      part of every full run, after the groups)
 *
 * A side that cannot run (erl missing and not installable, the kernel not starting yet, ...) is reported as
 * "not measured: <why>" and the other rows still run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BatchSide } from "./lib/batch.mjs";
import { Side } from "./lib/host.mjs";
import { fmt, fmtRatio, median, spread } from "./lib/stats.mjs";
import { GROUPS } from "./rows.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const PYTHON = "/usr/bin/python3"; // Debian's Jupyter packages are for this one (see notes/preamble.md)

// ---------------------------------------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { quick: false, only: null, reps: null, out: path.join(here, "results.json"), build: true, install: true, candidate: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--only") o.only = argv[++i].split(",");
    else if (a === "--reps") o.reps = Number(argv[++i]);
    else if (a === "--out") o.out = path.resolve(argv[++i]);
    else if (a === "--no-build") o.build = false;
    else if (a === "--no-install") o.install = false;
    else if (a === "--candidate") o.candidate = path.resolve(argv[++i]);
    else if (a === "--help" || a === "-h") {
      console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0]);
      process.exit(0);
    } else {
      console.error(`unknown option ${a}; see node bench/run.mjs --help`);
      process.exit(2);
    }
  }
  if (o.only) {
    const known = new Set([...GROUPS.map((g) => g.id), "site"]);
    const bad = o.only.filter((x) => !known.has(x));
    if (bad.length) {
      console.error(`unknown group(s) ${bad.join(", ")}; known: ${[...known].join(", ")}`);
      process.exit(2);
    }
  }
  return o;
}

const log = (...a) => console.error("[bench]", ...a);

// ---------------------------------------------------------------------------------------------- set-up

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

/** Builds dist/ so the bench measures the sources as they are now. */
function build(opts) {
  if (!opts.build) return null;
  log("building with npx tsc -p . ...");
  const r = spawnSync("npx", ["--no-install", "tsc", "-p", "."], { cwd: root, encoding: "utf8" });
  if (r.status === 0) return null;
  const msg = `tsc -p . failed; measuring the dist/ left by the last good build. ${(r.stdout + r.stderr).trim().split("\n").slice(0, 5).join(" | ")}`;
  log(msg);
  return msg;
}

/** `erl` for the BEAM side: installs Debian's erlang-nox when it is missing and we are root. */
function ensureErlang(opts) {
  if (has("erl") && has("erlc")) return null;
  const cmd = "apt-get install -y erlang-nox";
  if (!opts.install) return `erl is not installed (install it with: sudo ${cmd})`;
  if (process.getuid?.() !== 0) {
    log(`erl is not installed; run: sudo ${cmd}`);
    return `erl is not installed and the bench is not root (install it with: sudo ${cmd})`;
  }
  log(`erl is not installed; running ${cmd} ...`);
  let r = spawnSync("sh", ["-c", `DEBIAN_FRONTEND=noninteractive ${cmd}`], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    spawnSync("apt-get", ["update"], { stdio: ["ignore", "inherit", "inherit"] });
    r = spawnSync("sh", ["-c", `DEBIAN_FRONTEND=noninteractive ${cmd}`], { stdio: ["ignore", "inherit", "inherit"] });
  }
  if (r.status !== 0 || !has("erl")) return `installing erlang-nox failed (try: sudo ${cmd})`;
  return null;
}

/** xstate and tslab come from npm (devDependencies); installs them when missing. */
function ensureNpm(opts, pkg, spec) {
  const req = createRequire(path.join(root, "package.json"));
  const resolves = () => {
    try {
      req.resolve(`${pkg}/package.json`);
      return true;
    } catch {
      return false;
    }
  };
  if (resolves()) return null;
  const cmd = `npm install --no-save ${spec}`;
  if (!opts.install) return `${pkg} is not installed (run: ${cmd})`;
  log(`${pkg} is not installed; running ${cmd} ...`);
  spawnSync("npm", ["install", "--no-save", spec], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  return resolves() ? null : `${pkg} could not be installed (run: ${cmd})`;
}

function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(createRequire(path.join(root, "package.json")).resolve(`${pkg}/package.json`), "utf8")).version;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------- sides

/** One worker process per side, created on first use and again after a timeout killed it. */
class Sides {
  constructor(setup) {
    this.setup = setup;
    this.live = new Map();
  }

  /** The side, or a string saying why it cannot run. */
  get(name) {
    const why = this.setup.unavailable[name];
    if (why) return why;
    let s = this.live.get(name);
    if (!s || s.exited) {
      s = this.make(name);
      this.live.set(name, s);
    }
    return s;
  }

  make(name) {
    const node = process.execPath;
    const env = { ...process.env, OTP_LAB_DIST: this.setup.distUrl };
    switch (name) {
      case "runtime":
        return new Side("runtime", node, [...this.setup.nodeFlags, "--expose-gc", path.join(here, "workers/runtime-worker.mjs")], undefined, { env });
      case "candidate":
        return new Side("candidate", node, [...this.setup.nodeFlags, "--expose-gc", path.join(here, "workers/runtime-worker.mjs")], undefined, {
          env: { ...env, OTP_LAB_DIST: new URL(`file://${this.setup.candidate}/`).href },
        });
      case "xstate":
        return new Side("xstate", node, [...this.setup.nodeFlags, "--expose-gc", path.join(here, "workers/xstate-worker.mjs")], undefined, { env });
      case "widgets":
        return new Side("widgets", node, [...this.setup.nodeFlags, "--expose-gc", path.join(here, "workers/widgets-worker.mjs")], undefined, { env });
      case "beam":
        // One scheduler, as the issue asks: the runtime is single-threaded too.
        return new Side("beam", "erl", ["+S", "1:1", "-noshell", "-pa", this.setup.beamDir, "-run", "bench_beam", "main"], (req) =>
          [req.op === "spawn" && req.shared ? "spawn_mfa" : req.op, req.n, req.b].filter((x) => x !== undefined).join(" "),
        );
      case "otp-lab":
      case "tslab":
        return new KernelSide(name, this.setup);
      case "grader":
        return new GraderSide();
      case "batch":
        return new BatchSide(root);
      default:
        throw new Error(`no side ${name}`);
    }
  }

  async closeAll() {
    await Promise.all([...this.live.values()].map((s) => s.close()));
    this.live.clear();
  }
}

/**
 * The grader's isolation against no isolation: each request grades a notebook with `otp-lab grade` (SES
 * confinement, bubblewrap, cgroup) and runs the same notebook with `otp-lab run` (an ordinary child process),
 * in alternating order, and reports both wall-clock times. Both are whole CLI runs, as course staff time them.
 */
class GraderSide {
  constructor() {
    this.name = "grader";
    this.exited = null;
    this.turn = 0;
    this.dir = mkdtempSync(path.join(os.tmpdir(), "otp-lab-bench-grader-"));
  }

  request(req) {
    const notebook = path.join(root, req.notebook);
    const cli = path.join(root, "dist/kernel/cli.js");
    const once = (args) => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: this.dir, encoding: "utf8", timeout: 300_000 });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`otp-lab ${args[0]} exited ${r.status}: ${String(r.stderr).trim().slice(-400)}`);
      return ms;
    };
    const grade = () => once(["grade", notebook, "--source", notebook, "--out", path.join(this.dir, "results.json")]);
    const run = () => once(["run", notebook, "--out", path.join(this.dir, "executed.ipynb")]);
    let graded_ms;
    let run_ms;
    if (this.turn++ % 2 === 0) {
      graded_ms = grade();
      run_ms = run();
    } else {
      run_ms = run();
      graded_ms = grade();
    }
    const score = JSON.parse(readFileSync(path.join(this.dir, "results.json"), "utf8"));
    if (score.score !== score.max_score) throw new Error(`the solved notebook scored ${score.score} / ${score.max_score}`);
    return Promise.resolve({ graded_ms, run_ms, added_ms: graded_ms - run_ms });
  }

  kill() {}
  close() {
    return Promise.resolve();
  }
}

/** A kernel "side": each request launches the kernel afresh under bench/kernel/driver.py. */
class KernelSide {
  constructor(name, setup) {
    this.name = name;
    this.exited = null;
    const node = process.execPath;
    this.cmd =
      name === "tslab"
        ? [node, path.join(root, "node_modules/tslab/bin/tslab"), "kernel", "--config-path", "{connection_file}"]
        : setup.kernelArgv; // as the kernelspec starts it (with the runtime's Node flags)
  }

  request(req, timeoutMs) {
    const args = [path.join(here, "kernel/driver.py"), "--cells", String(req.cells), "--code", req.code, "--new-cells", String(req.newCells ?? 0), "--timeout", String(Math.round(timeoutMs / 1000)), "--", ...this.cmd];
    return new Promise((resolve, reject) => {
      let out;
      try {
        out = execFileSync(PYTHON, args, { cwd: root, encoding: "utf8", timeout: timeoutMs + 15_000, stdio: ["ignore", "pipe", "pipe"] });
      } catch (err) {
        reject(new Error(`${this.name}: the jupyter_client driver failed: ${String(err.stderr || err.message).trim().slice(-400)}`));
        return;
      }
      const v = JSON.parse(out.trim().split("\n").pop());
      if (v.error) reject(new Error(`${this.name} kernel does not start or answer: ${v.error}${v.log ? ` — kernel output: ${v.log.trim().slice(-300)}` : ""}`));
      else resolve(v);
    });
  }

  kill() {}
  close() {
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------------- running

async function runGroup(g, sides, opts) {
  const t0 = Date.now();
  const reps = opts.reps ?? (opts.quick ? 1 : g.reps);
  const req = opts.quick ? g.quick : g.full;
  const raw = Object.fromEntries(g.sides.map((s) => [s, []]));
  const missing = {};
  const failures = {};
  const lastError = {};
  const timeout = opts.quick ? 120_000 : g.timeoutMs ?? 120_000;
  log(`${g.id}: ${g.sides.join(" vs ")} ${JSON.stringify(req)}`);

  // Untimed warm-up at a tenth of the size (JIT tiers, code loading), so repetition 1 is not an outlier.
  if (g.warmup && !opts.quick) {
    for (const name of g.sides) {
      const side = sides.get(name);
      if (typeof side === "string") continue;
      try {
        await side.request(g.warmup(req), timeout);
      } catch (err) {
        missing[name] = `not measured: ${err.message}`;
      }
    }
  }
  for (let r = 0; r < reps; r++) {
    // Rotate the order so that no side always runs first (or right after another's garbage).
    const order = g.sides.map((_, i) => g.sides[(i + r) % g.sides.length]);
    for (const name of order) {
      if (missing[name]) continue;
      const side = sides.get(name);
      if (typeof side === "string") {
        missing[name] = `not measured: ${side}`;
        continue;
      }
      try {
        const v = await side.request(g.request ? g.request(req) : req, timeout);
        raw[name].push(v);
        log(`  rep ${r + 1} ${name}: ${JSON.stringify(v).slice(0, 160)}`);
      } catch (err) {
        // One failure may be the machine (a kernel starved of CPU); a second one means the side cannot run.
        failures[name] = (failures[name] ?? 0) + 1;
        lastError[name] = `not measured: ${err.message}`;
        if (failures[name] >= 2 || typeof side === "string") missing[name] = lastError[name];
        log(`  rep ${r + 1} ${name}: ${lastError[name].slice(0, 300)}`);
      }
    }
    const used = Date.now() - t0;
    if (r + 1 < reps && used > g.budgetMs) {
      log(`  ${g.id}: stopping after ${r + 1} repetition(s), the group used ${(used / 1000).toFixed(0)} s of its ${g.budgetMs / 1000} s budget`);
      break;
    }
  }
  for (const [name, why] of Object.entries(lastError)) if (!missing[name] && raw[name].length === 0) missing[name] = why;
  const failed = Object.fromEntries(Object.entries(failures).filter(([n]) => raw[n]?.length > 0));
  return g.rows.map((row) => ({ ...summarise(g, row, req, raw, missing, Date.now() - t0), ...(Object.keys(failed).length ? { failedRuns: failed } : {}) }));
}

function summarise(g, row, req, raw, missing, elapsedMs) {
  const sides = {};
  for (const name of row.sides ?? g.sides) {
    const runs = raw[name] ?? [];
    const values = runs.map((v) => row.metric(v, req)).filter((x) => Number.isFinite(x));
    if (values.length === 0) {
      sides[name] = { measured: false, why: missing[name] ?? (runs.length ? "not measured: the workload reported no figure" : "not measured") };
      continue;
    }
    sides[name] = { measured: true, median: median(values), values, spread: spread(values), reps: values.length, ...(row.extra ? row.extra(runs) : {}) };
  }
  const ours = sides[row.ours];
  const ratios = {};
  for (const name of Object.keys(sides)) {
    if (name === row.ours || !ours?.measured || !sides[name].measured) continue;
    ratios[name] = ours.median / sides[name].median;
  }
  const goals = (row.goals ?? []).map((goal) => {
    let value;
    if (goal.vs) value = ratios[goal.vs];
    else value = ours?.measured ? ours.median : undefined;
    const met = value === undefined ? null : goal.max !== undefined ? value <= goal.max : value >= goal.min;
    return { text: goal.text, vs: goal.vs ?? null, value: value ?? null, met };
  });
  const title = row.title.replace(/\{(\w+)\}/g, (_, k) => (typeof req[k] === "number" ? req[k].toLocaleString("en-US") : String(req[k])));
  return { id: row.id, group: g.id, title, unit: row.unit, better: row.better, ours: row.ours, size: req, sides, ratios, goals, seconds: Math.round(elapsedMs / 1000) };
}

// ---------------------------------------------------------------------------------------------- report

const SIDE_LABEL = { candidate: "candidate build", runtime: "otp-lab runtime", beam: "BEAM", xstate: "xstate", "otp-lab": "otp-lab kernel", tslab: "tslab", widgets: "widgets", grader: "grader (grade vs run)", batch: "batch grading" };

function cell(s) {
  if (!s) return "";
  if (!s.measured) return "not measured";
  return `${fmt(s.median)}${s.reps > 1 ? "" : "¹"}`;
}

function oneLine(text, max = 400) {
  const t = String(text).replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

export function markdown(results) {
  const m = results.machine;
  const lines = [];
  lines.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}${m.nodeFlags?.length ? ` (${m.nodeFlags.join(" ")})` : ""}, ${m.beam ? `Erlang/OTP ${m.beam.otp} (${m.beam.emu_flavor}, +S 1:1)` : "no BEAM"}, xstate ${m.xstate ?? "–"}, tslab ${m.tslab ?? "–"}; load average ${m.loadBefore.map((x) => x.toFixed(1)).join(" ")} before, ${m.loadAfter?.map((x) => x.toFixed(1)).join(" ") ?? "?"} after. ${results.quick ? "QUICK MODE (tiny sizes, not representative)." : ""}`);
  lines.push("");
  lines.push("| what | unit | ours | BEAM | xstate / tslab | ours ÷ peer | goal | met |");
  lines.push("|---|---|---:|---:|---:|---|---|---|");
  for (const r of results.rows) {
    const peer2 = r.sides.xstate ?? r.sides.tslab;
    const ratios = Object.entries(r.ratios).map(([k, v]) => `${fmtRatio(v)} ${SIDE_LABEL[k]}`).join(", ") || "–";
    const goals = r.goals.map((g) => g.text).join("; ") || "–";
    const met = r.goals.map((g) => (g.met === null ? "?" : g.met ? "yes" : "**no**")).join(", ") || "–";
    lines.push(`| ${r.title} | ${r.unit} | ${cell(r.sides[r.ours])} | ${cell(r.sides.beam)} | ${cell(peer2)} | ${ratios} | ${goals} | ${met} |`);
  }
  // One note per group and side: the rows of a group share their runs, and so their reason.
  const notes = new Map();
  for (const r of results.rows) {
    for (const [k, s] of Object.entries(r.sides)) {
      const key = `${r.group}/${k}`;
      if (!s.measured && !notes.has(key)) notes.set(key, `- ${r.group} rows — ${SIDE_LABEL[k]}: ${oneLine(s.why)}`);
    }
  }
  if (notes.size) lines.push("", "Not measured:", ...notes.values());
  if (results.rows.some((r) => Object.values(r.sides).some((s) => s.measured && s.reps === 1))) lines.push("", "¹ one repetition only (the group ran out of its time budget, or --quick).");
  if (results.warnings.length) lines.push("", "Warnings:", ...results.warnings.map((w) => `- ${w}`));
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------- main

/** Builds the site if needed (lab/ensure-site.mjs) and runs bench/site.mjs; its Markdown table, or null with a warning. */
function runSiteBench(opts, warnings) {
  const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  if (!chromium) {
    warnings.push("site: not measured: Chromium is missing (install it with: sudo apt-get install chromium)");
    return null;
  }
  if (opts.build) {
    const b = spawnSync(process.execPath, [path.join(root, "lab", "ensure.mjs")], { cwd: root, encoding: "utf8" });
    const s = b.status === 0 ? spawnSync(process.execPath, [path.join(root, "lab", "ensure-site.mjs")], { cwd: root, encoding: "utf8" }) : b;
    if (s.status !== 0) {
      warnings.push(`site: not measured: the site build failed: ${(s.stderr || s.stdout).trim().slice(-400)}`);
      return null;
    }
  }
  const r = spawnSync(process.execPath, [path.join(here, "site.mjs"), "--reps", String(opts.reps ?? (opts.quick ? 1 : 3))], { cwd: root, encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) {
    warnings.push(`site: not measured: bench/site.mjs failed: ${(r.stderr || r.stdout).trim().slice(-400)}`);
    return null;
  }
  return { table: r.stdout.trim() };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const warnings = [];
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length,
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadBefore: os.loadavg(),
    xstate: null,
    tslab: null,
    beam: null,
  };
  if (machine.loadBefore[0] > machine.cores * 0.75) {
    warnings.push(`the machine was busy when the bench started (load average ${machine.loadBefore[0].toFixed(1)} on ${machine.cores} cores): figures are noisier than usual`);
  }
  const buildProblem = build(opts);
  if (buildProblem) warnings.push(buildProblem);

  let wanted = GROUPS.filter((g) => !opts.only || opts.only.includes(g.id));
  if (opts.candidate) {
    if (!existsSync(path.join(opts.candidate, "runtime/index.js"))) {
      console.error(`--candidate ${opts.candidate}: no runtime/index.js there (give the dist directory of the other build)`);
      process.exit(2);
    }
    wanted = wanted.map((g) => (g.sides.includes("runtime") ? { ...g, sides: [...g.sides, "candidate"] } : g));
  }
  const need = new Set(wanted.flatMap((g) => g.sides));
  const unavailable = {};
  if (need.has("beam")) {
    const why = ensureErlang(opts);
    if (why) unavailable.beam = why;
  }
  if (need.has("xstate")) {
    const why = ensureNpm(opts, "xstate", "xstate@5");
    if (why) unavailable.xstate = why;
  }
  if (need.has("tslab")) {
    const why = ensureNpm(opts, "tslab", "tslab@1.0.22");
    if (why) unavailable.tslab = why;
  }
  if (!existsSync(path.join(root, "dist/runtime/index.js"))) {
    unavailable.runtime = "dist/runtime/index.js is missing: run npx tsc -p . (the build failed)";
  }
  if (need.has("otp-lab") && !existsSync(path.join(root, "dist/kernel/cli.js"))) unavailable["otp-lab"] = "dist/kernel/cli.js is missing (kernel not built)";
  if (need.has("widgets") && !existsSync(path.join(root, "dist/widgets/index.js"))) unavailable.widgets = "dist/widgets/index.js is missing (widgets not built)";
  if (need.has("grader") && spawnSync("bwrap", ["--version"]).status !== 0) {
    unavailable.grader = "bwrap is missing (install it with: sudo apt-get install bubblewrap); the grader refuses to grade without its sandbox";
  }
  if (need.has("batch") && spawnSync("bwrap", ["--version"]).status !== 0) unavailable.batch = "bwrap is missing (install it with: sudo apt-get install bubblewrap)";
  if ((need.has("otp-lab") || need.has("tslab")) && spawnSync(PYTHON, ["-c", "import jupyter_client"]).status !== 0) {
    const why = `${PYTHON} has no jupyter_client (install it with: sudo apt-get install python3-jupyter-client)`;
    unavailable["otp-lab"] ??= why;
    unavailable.tslab ??= why;
  }

  let beamDir = null;
  if (need.has("beam") && !unavailable.beam) {
    // Compiled at bench time into a temporary directory: no .beam files in the repository.
    beamDir = mkdtempSync(path.join(os.tmpdir(), "otp-lab-bench-beam-"));
    const r = spawnSync("erlc", ["-o", beamDir, ...["bench_beam", "bench_gs", "bench_sup"].map((m) => path.join(here, "beam", `${m}.erl`))], { encoding: "utf8" });
    if (r.status !== 0) unavailable.beam = `erlc failed: ${(r.stdout + r.stderr).trim().slice(0, 400)}`;
  }

  // Every Node side runs with the flags the kernel gives Node (runtime/node-flags.ts), so the figures are a
  // notebook's; they are printed with the machine.
  const nodeFlags = existsSync(path.join(root, "dist/runtime/node-flags.js")) ? (await import(new URL(`file://${path.join(root, "dist/runtime/node-flags.js")}`).href)).NODE_FLAGS : [];
  machine.nodeFlags = nodeFlags;
  const kernelArgv = existsSync(path.join(root, "dist/kernel/install.js"))
    ? (await import(new URL(`file://${path.join(root, "dist/kernel/install.js")}`).href)).kernelSpec().argv
    : [process.execPath, path.join(root, "dist/kernel/cli.js"), "kernel", "{connection_file}"];
  const sides = new Sides({ unavailable, beamDir, distUrl: new URL(`file://${path.join(root, "dist")}/`).href, candidate: opts.candidate, nodeFlags, kernelArgv });
  const rows = [];
  try {
    for (const name of ["beam", "runtime", "xstate"]) {
      if (!need.has(name)) continue;
      const s = sides.get(name);
      if (typeof s === "string") continue;
      try {
        const info = await s.request({ op: "info" }, 60_000);
        if (name === "beam") machine.beam = info;
      } catch (err) {
        unavailable[name] = `${name} worker does not start: ${err.message}`;
      }
    }
    machine.xstate = versionOf("xstate");
    machine.tslab = versionOf("tslab");
    for (const g of wanted) {
      rows.push(...(await runGroup(g, sides, opts)));
      // Fresh workers for every group: a JIT and heap shaped by one workload (thousands of generator shapes
      // from the spawn rows, a large old generation from the memory row) would slow the next one down.
      await sides.closeAll();
    }
  } finally {
    await sides.closeAll();
  }
  // The browser site (issue 16) side by side with the Node kernel: bench/site.mjs, in Chromium, as its own table.
  let site = null;
  if (!opts.only || opts.only.includes("site")) site = runSiteBench(opts, warnings);
  machine.loadAfter = os.loadavg();
  const results = { when: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), quick: opts.quick, candidate: opts.candidate, machine, warnings, rows, site };
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(results, null, 2) + "\n");
  console.log(markdown(results));
  if (site) console.log(`\n### The static site in Chromium vs the Node kernel (bench/site.mjs)\n\n${site.table}`);
  console.log(`\n(${results.seconds} s; results in ${path.relative(process.cwd(), opts.out) || opts.out})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
