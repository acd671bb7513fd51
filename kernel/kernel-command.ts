/**
 * `otp-lab kernel CONNECTION_FILE`: runs the kernel (Jupyter starts it this way, from the kernelspec's argv).
 *
 * The protocol thread is spawned first, before the rest of the kernel is even loaded, so that binding the
 * sockets overlaps with loading the runtime: start-up is the longer of the two, not their sum. The TypeScript
 * threads start right after it, for the same reason.
 */
import { readFileSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { createInterruptBuffer } from "./interrupt.js";
import { prestartTypeScript } from "./ts-client.js";
import type { ConnectionInfo } from "./wire.js";

export async function main(argv: string[]): Promise<number> {
  const file = argv.find((a) => !a.startsWith("-"));
  if (!file) {
    console.error("usage: otp-lab kernel CONNECTION_FILE\n(Jupyter passes the connection file; install the kernelspec with 'otp-lab install'.)");
    return 2;
  }
  let connection: ConnectionInfo;
  try {
    connection = JSON.parse(readFileSync(file, "utf8")) as ConnectionInfo;
  } catch (err) {
    console.error(`otp-lab kernel: cannot read connection file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const interruptBuffer = createInterruptBuffer();
  const protocol = new Worker(new URL("./protocol-thread.js", import.meta.url), {
    workerData: { connection, interruptBuffer },
    // The thread's own console output must not reach the kernel's stderr.
    stdout: true,
    stderr: true,
  });
  protocol.stdout.resume();
  protocol.stderr.resume();
  // A worker's message that arrives while no listener is attached is lost, and the protocol thread may bind its
  // sockets, say "ready" and forward a client's first requests before kernel.js has loaded: kept here until
  // startKernel takes over (without this, a kernel that lost "ready" never answered kernel_info).
  const buffered: unknown[] = [];
  const buffer = (m: unknown) => buffered.push(m);
  protocol.on("message", buffer);
  // The TypeScript threads load while the kernel starts: the first cell then needs no wait (ts-client.ts). The
  // executor takes them over if its options match (the notebook's folder, type checking on or off).
  prestartTypeScript({ cwd: process.cwd(), typecheck: process.env.OTP_LAB_TYPECHECK !== "0" });
  try {
    // For the test of the race above (kernel-protocol.test.ts): holds kernel.js back until the sockets are bound.
    const delay = Number(process.env.OTP_LAB_TEST_KERNEL_LOAD_DELAY_MS ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const { startKernel } = await import("./kernel.js");
    await startKernel({ protocol, interruptBuffer, buffered: { messages: buffered, stop: () => protocol.off("message", buffer) } });
  } catch (err) {
    // Without this the protocol thread would keep a kernel that cannot work alive. The message goes straight
    // to fd 2: the kernel has already routed `console` to notebook output, and Jupyter logs a dead kernel's stderr.
    await protocol.terminate();
    writeSync(2, `otp-lab kernel: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // The kernel runs until shutdown; the process exits from there.
  return await new Promise<number>(() => {});
}
