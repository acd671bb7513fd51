/** `otp-lab scenario`: the CLI contract (trace on stdout, exit 0/1/2, clear messages for malformed files). */
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureBuilt } from "./kernel/helpers.js";

const root = resolve(__dirname, "..");
const cli = join(root, "dist/kernel/cli.js");
const shared = resolve(root, "../shared/conformance/scenarios/s03_rest_for_one.json");
const dir = mkdtempSync(join(tmpdir(), "otp-lab-scn-"));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, "scenario", ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, content: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content));
  return f;
}

const tree = { id: "root", strategy: "one_for_one", children: [{ id: "a" }] };

// Under the build lock, and only when a source is newer (see ensureBuilt): never while other files run dist/.
beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe("otp-lab scenario", () => {
  it("prints one sorted-key JSON event per line and checks a real-OTP trace", () => {
    const r = run(existsSync(shared) ? shared : file("s.json", { tree, steps: [], expect: [{ ev: "start", path: "root" }] }), "--check");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ ev: "start", path: "root", inc: 1 });
    expect(Object.keys(lines[0])).toEqual([...Object.keys(lines[0])].sort());
    expect(r.err).toContain("CHECK OK");
  });

  it("exits 1 with the first difference when the trace does not match", () => {
    const f = file("mismatch.json", { tree, steps: [{ op: "crash", target: "root/a", reason: "boom" }], expect: [{ ev: "start", path: "root" }, { ev: "start", path: "root/a" }, { ev: "result", op: "start_root" }, { ev: "terminate", path: "root/a" }, { ev: "exit", path: "root/a", reason: "normal" }] });
    const r = run(f, "--check");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/CHECK FAILED: expected .*"reason":"normal".* got .*"reason":"boom"/);
  });

  const malformed: Array<[string, unknown, RegExp]> = [
    ["not JSON", "{ tree: ", /\(document\): expected valid JSON/],
    ["no tree", { steps: [] }, /tree: expected an object describing a process/],
    ["bad strategy", { tree: { ...tree, strategy: "all_for_one" } }, /tree\.strategy: expected one of "one_for_one", "one_for_all", "rest_for_one"; got "all_for_one"/],
    ["unknown op", { tree, steps: [{ op: "krash", target: "root/a" }] }, /steps\[0\]\.op: expected one of crash, raise/],
    ["missing field", { tree, steps: [{ op: "crash" }] }, /steps\[0\]\.target: expected a value \(op crash needs target\)/],
    ["bad child", { tree: { id: "root", children: [{ id: "a", shutdown: "soon" }] } }, /tree\.children\[0\]\.shutdown: expected milliseconds/],
    ["bad start result", { tree, steps: [{ op: "set_start_results", path: "root/a", results: ["maybe"] }] }, /steps\[0\]\.results\[0\]: expected "ok", "ignore"/],
  ];
  for (const [name, content, message] of malformed) {
    it(`exits 2 and names the file and field for a malformed scenario: ${name}`, () => {
      const f = file(`${name.replace(/ /g, "_")}.json`, content);
      const r = run(f, "--check");
      expect(r.code).toBe(2);
      expect(r.err).toContain(f);
      expect(r.err).toMatch(message);
    });
  }

  it("refuses --check, exit 2, for a scenario that expects nothing: nothing would be checked", () => {
    for (const [name, content] of [["no-expect.json", { tree, steps: [] }], ["empty-expect.json", { tree, steps: [], expect: [] }], ["empty-group.json", { tree, expect: [{ any_order: [] }] }]] as const) {
      const f = file(name, content);
      const r = run(f, "--check");
      expect(r.code).toBe(2);
      expect(r.err).not.toContain("CHECK OK");
      expect(r.err).toContain(f);
      expect(r.err).toMatch(/nothing to check: the scenario has (no|an empty) "expect" list of events\. Run it without --check to print its trace/);
      expect(r.out).toBe("");
      // Without --check it runs and prints the trace, as before.
      const plain = run(f);
      expect(plain.code).toBe(0);
      expect(JSON.parse(plain.out.split("\n")[0]!)).toMatchObject({ ev: "start", path: "root" });
    }
  });

  it("exits 2 for a missing file and for no file", () => {
    expect(run(join(dir, "nope.json")).code).toBe(2);
    expect(run().code).toBe(2);
  });
});
