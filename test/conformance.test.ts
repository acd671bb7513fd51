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

const dirs = [resolve(__dirname, "../../shared/conformance/scenarios"), resolve(__dirname, "conformance/scenarios")];

for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  describe(`scenarios in ${dir}`, () => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".json")).sort()) {
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
