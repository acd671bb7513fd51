/**
 * The multi-node scenarios of test/conformance/distribution/, run on OTP Lab's model without Erlang: each must
 * print, node by node and line by line, what real distributed Erlang (OTP 25) printed in the recorded runs,
 * and the recorded runs must agree with each other (at least three per scenario).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateDistScenario, DistFormatError, toErlangTerms, type DistRecording } from "../runtime/scenario/dist-format.js";
import { runDistScenario } from "../runtime/scenario/dist-run.js";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "conformance", "distribution");
const files = readdirSync(path.join(DIR, "scenarios")).filter((f) => f.endsWith(".json")).sort();

describe("multi-node scenarios recorded on real OTP 25", () => {
  it("has at least 25 scenarios, each recorded", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    const recorded = new Set(readdirSync(path.join(DIR, "recorded")));
    expect(files.filter((f) => !recorded.has(f))).toEqual([]);
  });

  for (const f of files) {
    it(f, () => {
      const s = validateDistScenario(JSON.parse(readFileSync(path.join(DIR, "scenarios", f), "utf8")), f);
      const rec = JSON.parse(readFileSync(path.join(DIR, "recorded", f), "utf8")) as DistRecording;
      expect(rec.runs.length).toBeGreaterThanOrEqual(3);
      for (const run of rec.runs) expect(run).toEqual(rec.runs[0]);
      expect(runDistScenario(s)).toEqual(rec.runs[0]);
    });
  }
});

describe("the scenario format", () => {
  it("names the file, the field, what was expected and what came", () => {
    const bad = { name: "x", nodes: ["b"], steps: [{ op: "spawn", by: "a", on: "z", as: "w", body: "echo" }] };
    expect(() => validateDistScenario(bad, "x.json")).toThrow(DistFormatError);
    expect(() => validateDistScenario(bad, "x.json")).toThrow('x.json: steps[0].on: expected node(s) of this scenario (a, b); got "z"');
    expect(() => validateDistScenario({ name: "x", steps: [{ op: "spwan" }] }, "y.json")).toThrow(/y\.json: steps\[0\]\.op: expected one of spawn, send/);
    expect(() => validateDistScenario({ name: "x", steps: [{ op: "heal", extra: 1 }] }, "z.json")).toThrow(/z\.json: steps\[0\]\.extra: expected no such field/);
  });

  it("writes a scenario as one Erlang term the oracle reads with file:consult", () => {
    const s = validateDistScenario({ name: "x", nodes: ["b"], steps: [{ op: "send", by: "a", to: "w", msg: ["n", 1, "$w", { list: [1] }] }] }, "x.json");
    expect(toErlangTerms(s)).toBe("#{'nodes' => ['b'],'steps' => [#{'op' => 'send','by' => 'a','to' => 'w','msg' => ['n',1,'$w',#{'list' => [1]}]}]}.\n");
  });
});
