/**
 * The kernel's own log: off unless OTP_LAB_KERNEL_LOG names a file. Never stderr — graders treat any stderr
 * output of a notebook as a failure, and Jupyter shows the kernel's stderr to learners.
 */
import { appendFileSync } from "node:fs";
import { threadId } from "node:worker_threads";

const file = process.env.OTP_LAB_KERNEL_LOG || "";

export function log(...parts: unknown[]): void {
  if (!file) return;
  try {
    const text = parts.map((p) => (p instanceof Error ? (p.stack ?? p.message) : typeof p === "string" ? p : JSON.stringify(p))).join(" ");
    appendFileSync(file, `${performance.timeOrigin + performance.now() | 0} +${performance.now().toFixed(1)}ms [${threadId}] ${text}\n`);
  } catch {
    // Logging must never break the kernel.
  }
}
