/**
 * Golden files: the exact bytes a widget produced for a fixed fixture, reviewed once (by looking at the
 * picture) and then kept, so any change to the output is a visible diff. Regenerate on purpose with
 * `UPDATE_GOLDEN=1 npx vitest run test/widgets-*.test.ts`, then look at the pictures again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const dir = join(dirname(fileURLToPath(import.meta.url)), "golden");

export function expectGolden(name: string, actual: string): void {
  const file = join(dir, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing; create it with UPDATE_GOLDEN=1 and review the output`);
  }
  // Compare as strings so a failure shows a readable diff.
  expect(actual).toBe(readFileSync(file, "utf8"));
}
