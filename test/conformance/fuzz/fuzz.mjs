#!/usr/bin/env node
// Differential fuzzing driver: TypeScript runtime vs real OTP (see README.md in this folder).
//
//   node test/conformance/fuzz/fuzz.mjs [--from N] [--count N] [--jobs 2] [--out DIR] [--runs 3] [--no-final-check]
//
// For every seed: generate.mjs writes DIR/seed_N.json; test/conformance/record.py records it on OTP (3 agreeing
// runs plus a --check, else it is discarded as nondeterministic); then `node dist/kernel/cli.js scenario F
// --check` runs it on the TypeScript runtime. Results go to DIR/results.jsonl (one line per seed) and the
// disagreeing files are listed at the end. Run from the repository root after `npx tsc -p .`.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "./generate.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../../..");
const RECORD = path.join(ROOT, "test/conformance/record.py");
const CLI = path.join(ROOT, "dist/kernel/cli.js");

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const from = Number(arg("--from", 1));
const count = Number(arg("--count", 300));
const jobs = Number(arg("--jobs", 2));
const out = path.resolve(arg("--out", "/tmp/otp-fuzz"));
// Quick mode for a loaded machine: fewer agreeing oracle runs, and no final oracle --check.
const runs = Number(arg("--runs", 3));
const quick = process.argv.includes("--no-final-check");
if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npx tsc -p .\` in ${ROOT} first`);
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// Does the model's predicted start/exit count per path agree with what OTP did? When it does not, the
// generator's liveness guesses (which keep steps off dead targets) may be wrong for this seed.
function modelAgrees(doc) {
  if (!doc._fuzz.model) return undefined; // process-level programs have no model
  const counts = { starts: {}, exits: {} };
  const walk = (items) => {
    for (const e of items) {
      if (e.any_order) walk(e.any_order);
      else if (e.ev === "start") counts.starts[e.path] = (counts.starts[e.path] ?? 0) + 1;
      else if (e.ev === "exit") counts.exits[e.path] = (counts.exits[e.path] ?? 0) + 1;
    }
  };
  walk(doc.expect ?? []);
  const same = (a, b) => {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
  };
  return same(counts.starts, doc._fuzz.model.starts) && same(counts.exits, doc._fuzz.model.exits);
}

async function one(seed) {
  const file = path.join(out, `seed_${seed}.json`);
  fs.writeFileSync(file, JSON.stringify(generate(seed), null, 1) + "\n");
  const rec = await run("/usr/bin/python3", [RECORD, "--runs", String(runs), ...(quick ? ["--no-final-check"] : []), file]);
  if (rec.code !== 0) {
    const nondet = rec.stderr.includes("NONDETERMINISTIC");
    return { seed, file, status: nondet ? "nondeterministic" : "oracle_failed", detail: rec.stderr.slice(-2000) };
  }
  const doc = JSON.parse(fs.readFileSync(file, "utf8"));
  const model = modelAgrees(doc);
  const ts = await run("node", [CLI, "scenario", file, "--check"]);
  if (ts.code === 0) return { seed, file, status: "agree", model };
  fs.writeFileSync(file.replace(/\.json$/, ".ts.jsonl"), ts.stdout);
  const msg = ts.stderr.trim().split("\n").pop();
  return { seed, file, status: ts.code === 1 ? "disagree" : "ts_error", model, detail: msg };
}

const seeds = Array.from({ length: count }, (_, i) => from + i);
const results = [];
const log = fs.createWriteStream(path.join(out, "results.jsonl"), { flags: "a" });
let nextIdx = 0;
async function worker() {
  while (nextIdx < seeds.length) {
    const seed = seeds[nextIdx++];
    let r;
    try {
      r = await one(seed);
    } catch (e) {
      r = { seed, status: "generator_error", detail: String(e?.stack ?? e) };
    }
    results.push(r);
    log.write(JSON.stringify(r) + "\n");
    const tag = r.status === "agree" ? "." : `\n${r.status} seed ${seed}${r.model === false ? " (model mismatch)" : ""}: ${r.detail ?? ""}\n`;
    process.stdout.write(tag);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
log.end();

const by = {};
for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1;
const modelMiss = results.filter((r) => r.model === false).length;
console.log(`\n\nseeds ${from}..${from + count - 1}: ${JSON.stringify(by)}; model mismatches among recorded: ${modelMiss}`);
for (const r of results.filter((r) => r.status === "disagree" || r.status === "ts_error").sort((a, b) => a.seed - b.seed))
  console.log(`  ${r.status} ${r.file}${r.model === false ? " (model mismatch)" : ""}: ${r.detail}`);
