/**
 * The multi-node fuzz campaign (see fuzz.ts): one line per seed in OUT/results.jsonl (agree, disagree,
 * nondeterministic, error), and the scenario of every seed that did not agree in OUT/seed_N.json.
 */
import { spawn as spawnChild } from "node:child_process";
import { mkdirSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDistScenario } from "../../../runtime/scenario/dist-run.js";
import { generateDistScenario } from "./fuzz.js";
import { runOnOtp } from "./oracle.js";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  const from = Number(arg("from", "1"));
  const count = Number(arg("count", "300"));
  const jobs = Number(arg("jobs", "1"));
  const job = arg("job", "");
  const out = arg("out", "/tmp/dist-fuzz");
  mkdirSync(out, { recursive: true });
  if (job === "" && jobs > 1) {
    // The driver: one child per job, each with its own node names (suffix), seeds dealt round-robin.
    const self = fileURLToPath(import.meta.url);
    await Promise.all(Array.from({ length: jobs }, (_, k) => new Promise<void>((resolve) => {
      const c = spawnChild("npx", ["vite-node", self, "--", "--from", String(from), "--count", String(count), "--jobs", String(jobs), "--job", String(k), "--out", out], { stdio: "inherit" });
      c.on("exit", () => resolve());
    })));
    return;
  }
  const k = job === "" ? 0 : Number(job);
  for (let seed = from; seed < from + count; seed++) {
    if ((seed - from) % jobs !== k) continue;
    const s = generateDistScenario(seed);
    let status: string;
    let detail: unknown;
    try {
      const model = JSON.stringify(runDistScenario(s));
      const otp = JSON.stringify(runOnOtp(s, `_f${k}`));
      detail = { otp: JSON.parse(otp) };
      if (otp === model) status = "agree";
      else {
        const again = [JSON.stringify(runOnOtp(s, `_f${k}`)), JSON.stringify(runOnOtp(s, `_f${k}`))];
        status = again.every((x) => x === otp) ? "disagree" : "nondeterministic";
        detail = { otp: JSON.parse(otp), model: JSON.parse(model), again: again.map((x) => JSON.parse(x)) };
        writeFileSync(join(out, `seed_${seed}.json`), JSON.stringify(s, null, 1) + "\n");
      }
    } catch (err) {
      status = "error";
      detail = String(err).slice(0, 2000);
    }
    appendFileSync(join(out, "results.jsonl"), JSON.stringify({ seed, status, ...(detail ? { detail } : {}) }) + "\n");
    console.log(`seed ${seed}: ${status}`);
  }
}

await main();
