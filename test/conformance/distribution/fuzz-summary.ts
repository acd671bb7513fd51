/**
 * Summarises a fuzz campaign into fuzz-results.json: `npx vite-node test/conformance/distribution/fuzz-summary.ts -- DIR`.
 * The model is run again on every seed and compared with the OTP log the campaign stored (so a model fixed after
 * the campaign started is judged as it is now). Seeds on which OTP disagreed with itself are listed apart.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDistScenario } from "../../../runtime/scenario/dist-run.js";
import { generateDistScenario } from "./fuzz.js";
import { otpRelease } from "./oracle.js";

const dir = process.argv[process.argv.length - 1]!;
const rows = readFileSync(join(dir, "results.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { seed: number; status: string; detail?: { otp?: unknown } });
const agree: number[] = [];
const disagree: number[] = [];
const nondeterministic: number[] = [];
const errors: number[] = [];
const logs: Record<number, unknown> = {};
for (const r of rows.sort((a, b) => a.seed - b.seed)) {
  if (r.status === "nondeterministic") nondeterministic.push(r.seed);
  else if (r.status === "error" || !r.detail?.otp) errors.push(r.seed);
  else if ((logs[r.seed] = r.detail.otp) && JSON.stringify(runDistScenario(generateDistScenario(r.seed))) === JSON.stringify(r.detail.otp)) agree.push(r.seed);
  else disagree.push(r.seed);
}
const out = {
  otp: otpRelease(),
  seeds: rows.length,
  from: Math.min(...rows.map((r) => r.seed)),
  agree: agree.length,
  disagree,
  nondeterministic,
  errors,
  note: "nondeterministic: OTP itself printed different logs in 3 runs of the seed (a race on real nodes), so it judges nothing. otp_logs: what OTP printed for every other seed.",
  otp_logs: logs,
};
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "fuzz-results.json"), JSON.stringify(out, null, 1) + "\n");
console.log(JSON.stringify({ ...out, otp_logs: undefined }));
