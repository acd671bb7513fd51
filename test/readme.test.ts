/**
 * The README's notebook example is a claim: its cells, run in order on a real kernel (`otp-lab run`), give no
 * error and the pictures it promises.
 */
import { beforeAll, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureBuilt } from "./kernel/helpers.js";

const root = resolve(__dirname, "..");

// Not `tsc` itself: it rewrites every file of dist/ while other test files run kernels from it, and a kernel
// that loads a module half written fails to start (CI saw nbconvert's kernel never answer). ensureBuilt builds
// only when a source is newer, under the lock the other test files take.
beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

it("the 'In a notebook' cells run without error and render a tree and a diff", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.split("## In a notebook")[1].split("\n## ")[0];
  const cells = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(cells.length).toBeGreaterThanOrEqual(2);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "otp-lab", display_name: "TypeScript (OTP Lab)", language: "typescript" } },
    cells: cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
  const dir = mkdtempSync(join(tmpdir(), "otp-lab-readme-"));
  const file = join(dir, "readme.ipynb");
  writeFileSync(file, JSON.stringify(nb));
  const r = spawnSync(process.execPath, [join(root, "dist/kernel/cli.js"), "run", file], { encoding: "utf8", timeout: 120_000 });
  const out = JSON.parse(readFileSync(file, "utf8"));
  const outputs = out.cells.map((c: { outputs: Array<Record<string, any>> }) => c.outputs);
  const errors = outputs.flat().filter((o: Record<string, unknown>) => o.output_type === "error");
  expect(errors).toEqual([]);
  expect(r.status).toBe(0);
  const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v));
  const tree = outputs[0].find((o: Record<string, any>) => o.output_type === "execute_result");
  expect(text(tree.data["text/vnd.mermaid"])).toMatch(/flowchart/);
  expect(text(tree.data["image/svg+xml"])).toContain("<svg");
  const diff = outputs[1].find((o: Record<string, any>) => o.output_type === "execute_result");
  expect(text(diff.data["text/plain"])).toMatch(/restarted/i);
});

it("the quick start names the Debian packages that npm start and npm test install", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const quickStart = readme.split("## Quick start")[1].split("\n## ")[0];
  const named = new Set([...quickStart.matchAll(/`((?:python3-|jupyter-|fonts-)[a-z0-9-]+|chromium|bubblewrap)`/g)].map((m) => m[1]));
  // The packages each script passes to setup.sh (which installs them, or prints the apt-get line).
  const installed = new Set<string>();
  for (const script of ["kernel/scripts/start.sh", "test/run-all.sh"]) {
    for (const m of readFileSync(join(root, script), "utf8").matchAll(/setup\.sh ([^\n|&;]+)/g)) {
      for (const pkg of m[1].trim().split(/\s+/)) installed.add(pkg);
    }
  }
  expect(installed.size).toBeGreaterThan(5);
  expect([...named].sort()).toEqual([...installed].sort());
});
