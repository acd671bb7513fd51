/**
 * The README's Distribution cell is a claim: run with the runtime's and the widgets' exports in scope (as the
 * kernel puts them), it draws the picture the README shows (lab/screenshots/distribution-cluster.svg), and the shell
 * gets the `DOWN ... noconnection` the comment promises. Set UPDATE_README_PICTURE=1 to redraw the picture.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import * as runtime from "../runtime/index.js";
import * as widgets from "../widgets/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PICTURE = path.join(ROOT, "lab", "screenshots", "distribution-cluster.svg");

it("the Distribution cell runs and draws the README's picture", async () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.split("\n## Distribution\n")[1].split("\n## ")[0];
  const cell = /```ts\n([\s\S]*?)```/.exec(section)![1].trim().split("\n");
  const last = cell.pop()!;
  const scope: Record<string, unknown> = { ...runtime, ...widgets };
  const rt = runtime.setRuntime(new runtime.Runtime());
  runtime.Ref.resetNumbering();
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  const run = new AsyncFunction(...Object.keys(scope), `${cell.join("\n")}\nreturn (${last.replace(/;?\s*(\/\/.*)?$/, "")});`);
  const picture = (await run(...Object.values(scope))) as { svg: string; text: string };
  rt.settle();
  expect(runtime.formatTerm(rt.shell.mailbox!.shift())).toMatch(/^\{:DOWN, #Reference<\d+>, :process, #PID<\d+\.\d+\.0>, :noconnection\}$/);
  expect(picture.text).toContain("cut: a@lab x b@lab, a@lab x c@lab");
  expect(picture.text).toMatch(/global :counter -> <\d+\.\d+\.0> on b@lab \(seen by b@lab, c@lab\)/);
  if (process.env.UPDATE_README_PICTURE || !existsSync(PICTURE)) writeFileSync(PICTURE, picture.svg);
  expect(picture.svg).toBe(readFileSync(PICTURE, "utf8"));
});
