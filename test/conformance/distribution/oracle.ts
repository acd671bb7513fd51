/**
 * Runs multi-node scenarios on real distributed Erlang (OTP 25): compiles dist_oracle.erl, starts
 * `erl -name a@127.0.0.1` (epmd starts itself; the peers are `b@127.0.0.1`, ... on this machine only) and
 * parses the observers' logs it prints. Used by record.ts and by test/dist-oracle.test.ts.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toErlangTerms, type DistLog, type DistScenario } from "../../../runtime/scenario/dist-format.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Whether `erl` and `erlc` are on PATH. */
export function haveErlang(): boolean {
  return spawnSync("erl", ["-version"], { stdio: "ignore" }).status === 0 && spawnSync("which", ["erlc"], { stdio: "ignore" }).status === 0;
}

let compiled: string | null = null;

/** Compiles the oracle once per process into a temporary directory. */
export function compileOracle(): string {
  if (compiled) return compiled;
  const dir = mkdtempSync(join(tmpdir(), "dist-oracle-"));
  execFileSync("erlc", ["-o", dir, join(here, "dist_oracle.erl")], { stdio: "pipe" });
  return (compiled = dir);
}

/**
 * One run of `s` on real nodes: each node's log. Throws with the oracle's output when it fails. Oracles running
 * at the same time need different `suffix`es: the nodes are named a<suffix>@127.0.0.1, b<suffix>@...
 */
export function runOnOtp(s: DistScenario, suffix = ""): DistLog {
  const dir = compileOracle();
  const file = join(dir, `scenario-${process.pid}-${Date.now()}.terms`);
  writeFileSync(file, toErlangTerms(s));
  const kernel = s.prevent_overlapping_partitions === false ? ["-kernel", "prevent_overlapping_partitions", "false"] : [];
  const r = spawnSync("erl", ["-name", `a${suffix}@127.0.0.1`, "-noshell", "-pa", dir, ...kernel, "-eval", `dist_oracle:main("${file}")`], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, DIST_ORACLE_SUFFIX: suffix },
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (r.status !== 0 || /ORACLE_FAILED/.test(out)) throw new Error(`the oracle failed on "${s.name}":\n${out}`);
  const log: DistLog = {};
  for (const line of (r.stdout ?? "").split("\n")) {
    const m = /^LOG (\w+) (.*)$/.exec(line);
    if (m) (log[m[1]] ??= []).push(m[2]);
  }
  return log;
}

export function otpRelease(): string {
  return execFileSync("erl", ["-noshell", "-eval", 'io:format("~s", [erlang:system_info(otp_release)]), halt().'], { encoding: "utf8" }).trim();
}
