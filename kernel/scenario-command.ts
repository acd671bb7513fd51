/**
 * `otp-lab scenario FILE.json [--check]`: runs a conformance scenario on the runtime, prints the trace (one
 * JSON event per line, keys sorted, like the oracle) and with `--check` compares it with the file's `expect`.
 * Exit codes: 0 match (or no --check), 1 mismatch, 2 unreadable or malformed scenario, or `--check` of a
 * scenario that expects no event (nothing would be checked: saying "CHECK OK" would be a lie).
 */

import { readFileSync } from "node:fs";
import { parseScenario, ScenarioFormatError } from "../runtime/scenario/format.js";
import { runScenario } from "../runtime/scenario/run.js";
import { matchTrace } from "../runtime/scenario/match.js";
import { stableStringify } from "../runtime/scenario/terms.js";

export async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const files = argv.filter((a) => !a.startsWith("--"));
  if (files.length !== 1) {
    console.error("usage: otp-lab scenario FILE.json [--check]");
    return 2;
  }
  const file = files[0];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    console.error(`otp-lab scenario: cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  let scn;
  try {
    scn = parseScenario(file, text);
  } catch (e) {
    if (e instanceof ScenarioFormatError) {
      console.error(`otp-lab scenario: malformed scenario: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (check && expectedEvents(scn.expect ?? []) === 0) {
    console.error(
      `otp-lab scenario: ${file}: nothing to check: the scenario has ${scn.expect === undefined ? "no \"expect\"" : "an empty \"expect\""} list of events. ` +
        "Run it without --check to print its trace, or add the events it must produce under \"expect\".",
    );
    return 2;
  }
  const { events } = runScenario(scn);
  process.stdout.write(events.map((e) => stableStringify(e)).join("\n") + (events.length ? "\n" : ""));
  if (!check) return 0;
  const r = matchTrace(events, scn.expect ?? []);
  if (r.ok) {
    console.error("CHECK OK");
    return 0;
  }
  console.error(`CHECK FAILED: ${r.message}`);
  return 1;
}

/** How many events `expect` asks for (an `any_order` group counts its members). */
function expectedEvents(expect: unknown[]): number {
  let n = 0;
  for (const e of expect) {
    const group = (e as { any_order?: unknown }).any_order;
    n += Array.isArray(group) ? group.length : 1;
  }
  return n;
}
