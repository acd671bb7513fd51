/**
 * Re-runs the multi-node scenarios on real distributed Erlang when `erl` is installed (OTP 25: `peer` nodes on
 * 127.0.0.1; epmd starts itself; nothing leaves the machine) and checks that OTP still prints what was recorded
 * and what the model prints. Without `erl` the tests are skipped (test/dist-scenarios.test.ts still checks the
 * model against the recordings). One run per scenario, about 5 s each.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateDistScenario, type DistRecording } from "../runtime/scenario/dist-format.js";
import { runDistScenario } from "../runtime/scenario/dist-run.js";
import { haveErlang, runOnOtp } from "./conformance/distribution/oracle.js";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "conformance", "distribution");
const files = readdirSync(path.join(DIR, "scenarios")).filter((f) => f.endsWith(".json")).sort();

describe.skipIf(!haveErlang())("multi-node scenarios on real OTP", () => {
  for (const f of files) {
    it(f, () => {
      const s = validateDistScenario(JSON.parse(readFileSync(path.join(DIR, "scenarios", f), "utf8")), f);
      const rec = JSON.parse(readFileSync(path.join(DIR, "recorded", f), "utf8")) as DistRecording;
      const otp = runOnOtp(s);
      expect(otp).toEqual(rec.runs[0]);
      expect(runDistScenario(s)).toEqual(otp);
    }, 120_000);
  }
});
