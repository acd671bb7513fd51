/**
 * Runs python3-jupyter-kernel-test's KernelTests suite (Debian's package) against the otp-lab kernel, in full:
 * test/kernel/test_kernel.py gives a sample for every optional test, and this asserts that none was skipped.
 */
import { expect, it } from "vitest";
import { KERNEL_TEST_DIR, PYTHON, run, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

it("passes jupyter_kernel_test's KernelTests with no test skipped", async () => {
  const r = await run(PYTHON, ["-m", "unittest", "-v", "test_kernel"], { env: env.env, cwd: KERNEL_TEST_DIR, timeoutMs: 280_000 });
  const report = r.stderr;
  const ran = /Ran (\d+) tests? in/.exec(report);
  const summary = report.trim().split("\n").pop() ?? "";
  console.log(report.split("\n").filter((l) => /\.\.\. |^Ran |^OK|^FAILED/.test(l)).join("\n"));
  expect(ran, report).not.toBeNull();
  expect(Number(ran![1])).toBeGreaterThanOrEqual(12);
  expect(summary, report).toBe("OK"); // not "OK (skipped=N)", not "FAILED (...)"
  expect(report).not.toMatch(/skipped/i);
  expect(r.code).toBe(0);
}, 300_000);
