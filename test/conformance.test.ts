/**
 * Conformance: every scenario (the shared ones recorded on real OTP 25, and ours in test/conformance/scenarios,
 * recorded with the same oracle) must produce the trace real OTP produced.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseScenario } from "../runtime/scenario/format.js";
import { runScenario } from "../runtime/scenario/run.js";
import { matchTrace } from "../runtime/scenario/match.js";

/** Recorded scenarios the runtime does not pass yet, each with its reason (test/conformance/skip.json). */
const skip: Record<string, string> = JSON.parse(readFileSync(resolve(__dirname, "conformance/skip.json"), "utf8"));

const dirs = [resolve(__dirname, "../../shared/conformance/scenarios"), resolve(__dirname, "conformance/scenarios")];

for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  describe(`scenarios in ${dir}`, () => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".json")).sort()) {
      if (dir.endsWith("conformance/scenarios") && skip[f]) {
        // Still recorded and still run: the skip must stay needed, so a runtime that catches up says so.
        it(`${f} still disagrees with OTP (skipped: ${skip[f]}); remove it from skip.json once it passes`, () => {
          const scn = parseScenario(f, readFileSync(join(dir, f), "utf8"));
          expect(matchTrace(runScenario(scn).events, scn.expect ?? []).ok).toBe(false);
        });
        continue;
      }
      it(f, () => {
        const scn = parseScenario(f, readFileSync(join(dir, f), "utf8"));
        expect(scn.expect?.length ?? 0).toBeGreaterThan(0);
        const { events } = runScenario(scn);
        const r = matchTrace(events, scn.expect ?? []);
        expect(r.ok ? "match" : r.message).toBe("match");
      });
    }
  });
}

describe("the skip list", () => {
  it("names only recorded scenarios, each with a reason", () => {
    const files = new Set(readdirSync(resolve(__dirname, "conformance/scenarios")));
    for (const [f, why] of Object.entries(skip)) {
      if (f.startsWith("_")) continue;
      expect(files.has(f), `${f} in skip.json is not a scenario file`).toBe(true);
      expect(why.length).toBeGreaterThan(10);
    }
  });
});
