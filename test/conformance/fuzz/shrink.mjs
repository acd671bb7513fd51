#!/usr/bin/env node
// Greedy delta debugging of one disagreeing fuzz scenario (see README.md in this folder).
//
//   node test/conformance/fuzz/shrink.mjs IN.json OUT.json [--runs 3]
//
// Repeatedly tries to drop one step (never the trailing wait), then one body step or optional field of a
// process-level step, then one tree child, then one tree field of a node; a candidate is kept when OTP still records it deterministically (record.py: RUNS agreeing runs plus a
// --check) and the TypeScript runtime still fails --check on it. Stops when a whole pass removes nothing.
// OUT.json ends up recorded (its "expect" is OTP's trace). Run from the repository root after `npx tsc -p .`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../../..");
const RECORD = path.join(ROOT, "test/conformance/record.py");
const CLI = path.join(ROOT, "dist/kernel/cli.js");

const [inFile, outFile] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const ri = process.argv.indexOf("--runs");
const runs = ri >= 0 ? process.argv[ri + 1] : "3";
if (!inFile || !outFile) {
  console.error("usage: node shrink.mjs IN.json OUT.json [--runs 3]");
  process.exit(2);
}

const tmp = path.join(path.dirname(path.resolve(outFile)), `.shrink_${process.pid}.json`);

/** True when OTP is deterministic on `doc` and the TS runtime disagrees with it. */
function stillFails(doc) {
  const d = structuredClone(doc);
  delete d.expect;
  fs.writeFileSync(tmp, JSON.stringify(d, null, 1) + "\n");
  const rec = spawnSync("/usr/bin/python3", [RECORD, "--runs", runs, tmp], { cwd: ROOT, encoding: "utf8" });
  if (rec.status !== 0) return false;
  const ts = spawnSync("node", [CLI, "scenario", tmp, "--check"], { cwd: ROOT, encoding: "utf8" });
  return ts.status === 1;
}

// Every tree node with a parent, as [parentNode, index] pairs.
function childSlots(node, out = []) {
  (node.children ?? []).forEach((c, i) => {
    out.push([node, i]);
    childSlots(c, out);
  });
  return out;
}

const OPTIONAL = ["trap_exit", "terminate_ms", "shutdown", "significant", "auto_shutdown", "max_children", "restart"];
function fieldSlots(node, out = []) {
  for (const k of OPTIONAL) if (k in node) out.push([node, k]);
  for (const c of node.children ?? []) fieldSlots(c, out);
  return out;
}

// Body steps (as [bodyArray, index]) and optional step fields (as [step, key]) of process-level steps.
const STEP_OPTIONAL = ["by", "link", "monitor", "trap_exit", "timeout", "shutdown", "options"];
function stepSlots(steps, out = []) {
  for (const st of steps) {
    for (const k of STEP_OPTIONAL) if (k in st) out.push([st, k]);
    if (Array.isArray(st.body)) {
      st.body.forEach((_, i) => out.push([st.body, i]));
      stepSlots(st.body, out);
    }
  }
  return out;
}

let doc = JSON.parse(fs.readFileSync(inFile, "utf8"));
delete doc._fuzz;
if (!stillFails(doc)) {
  console.error(`${inFile}: the TS runtime does not disagree with OTP on it (or OTP is nondeterministic); nothing to shrink`);
  process.exit(1);
}
for (let changed = true; changed; ) {
  changed = false;
  for (let i = doc.steps.length - 2; i >= 0; i--) {
    const cand = structuredClone(doc);
    cand.steps.splice(i, 1);
    if (stillFails(cand)) {
      doc = cand;
      changed = true;
      console.log(`dropped step ${i + 1}; ${doc.steps.length} left`);
    }
  }
  // Process-level steps: a step of a body, then an optional field of a step (who runs it, link, monitor, trap).
  for (let k = stepSlots(doc.steps).length - 1; k >= 0; k--) {
    const cand = structuredClone(doc);
    const [owner, key] = stepSlots(cand.steps)[k];
    if (typeof key === "number") owner.splice(key, 1);
    else delete owner[key];
    if (stillFails(cand)) {
      doc = cand;
      changed = true;
      console.log(`dropped ${typeof key === "number" ? "a body step" : `field ${key} of a step`}`);
    }
  }
  for (let k = childSlots(doc.tree).length - 1; k >= 0; k--) {
    const cand = structuredClone(doc);
    const [parent, i] = childSlots(cand.tree)[k];
    parent.children.splice(i, 1);
    if (stillFails(cand)) {
      doc = cand;
      changed = true;
      console.log(`dropped a tree child`);
    }
  }
  for (let k = fieldSlots(doc.tree).length - 1; k >= 0; k--) {
    const cand = structuredClone(doc);
    const [node, key] = fieldSlots(cand.tree)[k];
    delete node[key];
    if (stillFails(cand)) {
      doc = cand;
      changed = true;
      console.log(`dropped field ${key} of ${node.id}`);
    }
  }
}
stillFails(doc); // leaves tmp recorded
fs.renameSync(tmp, outFile);
console.log(`wrote ${outFile}: ${doc.steps.length} steps`);
