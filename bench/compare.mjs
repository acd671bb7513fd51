#!/usr/bin/env node
/**
 * Compares builds of the runtime on one workload, alternating them like `npm run bench` does:
 *
 *   node bench/compare.mjs restart 10000 dist /tmp/fix-a/dist /tmp/fix-b/dist [--reps 7] [--b 100] [--shared]
 *
 * Prints each build's median (ms for the timed part, or bytes per process for `memory`) and its ratio to the
 * first build. For checking that a proposed change to runtime/ helps before it lands.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Side } from "./lib/host.mjs";
import { median } from "./lib/stats.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const reps = Number(opt("reps", 7));
const b = Number(opt("b", 100));
const shared = args.includes("--shared");
if (shared) args.splice(args.indexOf("--shared"), 1);
const [op, nText, ...dists] = args;
if (!op || !nText || dists.length === 0) {
  console.error("usage: node bench/compare.mjs <op> <n> <dist> [<dist>...] [--reps 7] [--b 100]");
  process.exit(2);
}
const n = Number(nText);
const metric = (v) => (op === "memory" ? v.bytes / v.n : op === "dynsup" ? v.start_ms + v.stop_ms : v.ms);
const sides = dists.map(
  (d) =>
    new Side(d, process.execPath, ["--expose-gc", path.join(here, "workers/runtime-worker.mjs")], undefined, {
      env: { ...process.env, OTP_LAB_DIST: new URL(`file://${path.resolve(d)}/`).href },
    }),
);
const values = dists.map(() => []);
try {
  for (const s of sides) await s.request({ op, n: Math.max(1, Math.round(n / 10)), b, shared }, 300_000);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      values[i].push(metric(await sides[i].request({ op, n, b, shared }, 300_000)));
    }
  }
} finally {
  await Promise.all(sides.map((s) => s.close()));
}
const base = median(values[0]);
for (let i = 0; i < dists.length; i++) {
  const m = median(values[i]);
  console.log(`${dists[i].padEnd(28)} median ${m.toFixed(1).padStart(9)}  (${(m / base).toFixed(2)}x the first)  runs: ${values[i].map((x) => x.toFixed(0)).join(" ")}`);
}
