/**
 * A lesson runs through a standard client: Debian's `jupyter nbconvert --execute`, with the otp-lab kernel
 * installed into a temporary prefix. Lesson 1 is the one: it uses processes, diagrams, the shell's mailbox and
 * both kinds of exercise cells.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { ROOT, nbconvertExecute, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

interface Output {
  output_type: string;
  name?: string;
  data?: Record<string, unknown>;
}

it("lesson 1 executes with jupyter nbconvert --execute on the otp-lab kernel, without errors", async () => {
  const out = path.join(env.prefix, "lesson1.out.ipynb");
  const r = await nbconvertExecute(path.join(ROOT, "notebooks", "01-processes-links-monitors.ipynb"), out, {
    env: env.env,
    cwd: path.join(ROOT, "notebooks"),
  });
  expect(r.code, r.stderr).toBe(0);
  const nb = JSON.parse(readFileSync(out, "utf8")) as { cells: { cell_type: string; id: string; execution_count: number | null; outputs?: Output[] }[] };
  const code = nb.cells.filter((c) => c.cell_type === "code");
  expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
  const outputs = code.flatMap((c) => c.outputs ?? []);
  expect(outputs.filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"))).toEqual([]);
  // The sequence diagrams arrived as Mermaid with SVG and PNG fallbacks, the signal table as Markdown.
  const kinds = new Set(outputs.flatMap((o) => Object.keys(o.data ?? {})));
  for (const mime of ["text/vnd.mermaid", "image/svg+xml", "image/png", "text/markdown", "text/plain"]) expect(kinds).toContain(mime);
}, 320_000);
