/**
 * Tests that a notebook runs headless on the otp-lab kernel with Debian's `jupyter nbconvert --execute`
 * (nbclient), the way CI and graders execute notebooks.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { KERNEL_TEST_DIR, nbconvertExecute, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

const joined = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join("") : (t ?? ""));

it("executes a notebook with jupyter nbconvert --execute on the otp-lab kernel", async () => {
  const out = path.join(env.prefix, "smoke.out.ipynb");
  const r = await nbconvertExecute(path.join(KERNEL_TEST_DIR, "fixtures", "smoke.ipynb"), out, { env: env.env });
  expect(r.code, r.stderr).toBe(0);
  const nb = JSON.parse(readFileSync(out, "utf8")) as { cells: { cell_type: string; execution_count: number | null; outputs?: NbOutput[] }[] };
  const code = nb.cells.filter((c) => c.cell_type === "code");
  expect(code.map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5]);
  const outs = code.map((c) => c.outputs ?? []);
  expect(outs.flat().filter((o) => o.output_type === "error")).toEqual([]);
  expect(outs.flat().filter((o) => o.output_type === "stream" && o.name === "stderr")).toEqual([]);
  expect(joined(outs[0]![0]!.text)).toBe("origin { x: 0, y: 0 }\n");
  expect(joined(outs[1]![0]!.data!["text/plain"])).toBe("3");
  expect(outs[2]!.map((o) => Object.keys(o.data ?? {}).sort().join(","))).toEqual(["text/markdown,text/plain", "text/html,text/plain"]);
  expect(joined(outs[3]![0]!.data!["text/plain"])).toBe("[ 10, 20, 30 ]");
  expect(joined(outs[4]![0]!.data!["text/plain"])).toBe("'function'");
}, 300_000);
