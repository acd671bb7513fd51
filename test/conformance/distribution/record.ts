/**
 * Records multi-node scenarios on real OTP: `npx vite-node test/conformance/distribution/record.ts [--runs N] [FILE...]`.
 * Each scenario is run N times (default 3); the runs must agree line for line, else nothing is written and the
 * differences are printed. The result goes to recorded/NAME.json with every run, and is compared with the model.
 */

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { validateDistScenario, type DistRecording } from "../../../runtime/scenario/dist-format.js";
import { runDistScenario } from "../../../runtime/scenario/dist-run.js";
import { otpRelease, runOnOtp } from "./oracle.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let runs = 3;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else files.push(args[i]);
}
const all = files.length > 0 ? files : readdirSync(join(here, "scenarios")).filter((f) => f.endsWith(".json")).sort().map((f) => join(here, "scenarios", f));
const otp = otpRelease();
let failed = 0;
for (const file of all) {
  const s = validateDistScenario(JSON.parse(readFileSync(file, "utf8")), basename(file));
  const got = [];
  for (let i = 0; i < runs; i++) got.push(runOnOtp(s));
  const first = JSON.stringify(got[0]);
  const disagree = got.findIndex((g) => JSON.stringify(g) !== first);
  if (disagree >= 0) {
    failed++;
    console.log(`DISAGREE ${basename(file)}: run 1 vs run ${disagree + 1}\n${JSON.stringify(got[0], null, 1)}\n${JSON.stringify(got[disagree], null, 1)}`);
    continue;
  }
  const rec: DistRecording = { scenario: basename(file), otp, runs: got };
  writeFileSync(join(here, "recorded", basename(file)), JSON.stringify(rec, null, 1) + "\n");
  const model = runDistScenario(s);
  const same = JSON.stringify(model) === first;
  if (!same) failed++;
  console.log(`${same ? "ok      " : "MODEL≠OTP"} ${basename(file)}`);
  if (!same) console.log(`  otp:   ${first}\n  model: ${JSON.stringify(model)}`);
}
process.exit(failed > 0 ? 1 : 0);
