/**
 * The multi-node fuzzer's generator (test/conformance/distribution/fuzz.ts): the same program for the same seed,
 * only valid scenarios, and the model runs all 300 seeds of the campaign without a step failing. The campaign
 * itself (real OTP against the model) is `fuzz-run.ts`; fuzz-summary.ts keeps what OTP printed for each seed in
 * fuzz-results.json, and the model is checked against it here.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateDistScenario } from "./conformance/distribution/fuzz.js";
import { runDistScenario } from "../runtime/scenario/dist-run.js";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "conformance", "distribution");

/**
 * Seeds where the model is known to differ from OTP, and why. Not distribution bugs: the one-node signal order of
 * runtime.ts (a rewrite of signal delivery is under way elsewhere). When it is fixed this list must shrink.
 */
const KNOWN: Record<number, string> = {};
// Seed 133 disagreed in the recorded campaign (a process that links to and monitors another, then kills it, got the
// DOWN before the EXIT); signals delivered in order per receiver (R92) fixed it, and the check below shows it.

describe("multi-node fuzzing", () => {
  it("generates the same program for the same seed and different ones for different seeds", () => {
    expect(generateDistScenario(42)).toEqual(generateDistScenario(42));
    expect(generateDistScenario(42)).not.toEqual(generateDistScenario(43));
  });

  it("runs 300 seeds on the model without a step failing in JavaScript (Erlang errors, such as pg's nolocal, are data)", () => {
    const failed: number[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      if (/\{step_failed,\w+,'/.test(JSON.stringify(runDistScenario(generateDistScenario(seed))))) failed.push(seed);
    }
    expect(failed).toEqual([]);
  });

  it("records a campaign of 300 seeds on real OTP where the model agrees with every deterministic one", () => {
    const r = JSON.parse(readFileSync(path.join(DIR, "fuzz-results.json"), "utf8")) as {
      seeds: number; agree: number; disagree: number[]; nondeterministic: number[]; errors: number[]; otp_logs: Record<string, unknown>;
    };
    expect(r.seeds).toBe(300);
    const now = (seed: number) => JSON.stringify(runDistScenario(generateDistScenario(seed)));
    // What disagreed when the campaign ran is known, or agrees with OTP's log now (fixed since).
    expect(r.disagree.filter((seed) => !(seed in KNOWN) && now(seed) !== JSON.stringify(r.otp_logs[String(seed)]))).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.agree + r.disagree.length + r.nondeterministic.length).toBe(300);
    expect(r.nondeterministic.length).toBeLessThan(15);
    // The model as it is now, against what OTP printed for each deterministic seed.
    const differ = Object.entries(r.otp_logs).filter(([seed, otp]) => JSON.stringify(runDistScenario(generateDistScenario(Number(seed)))) !== JSON.stringify(otp));
    expect(differ.map(([seed]) => Number(seed))).toEqual(Object.keys(KNOWN).map(Number).filter((seed) => seed in r.otp_logs));
    expect(Object.keys(r.otp_logs)).toHaveLength(r.agree + r.disagree.length);
  });
});
