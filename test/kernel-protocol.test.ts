/**
 * Tests the kernel as Jupyter sees it: `otp-lab install` and `jupyter kernelspec list`, signatures (forged,
 * unsigned, tampered and replayed messages are dropped, never executed), restart and shutdown, start-up time.
 * Uses Debian's Jupyter (/usr/bin/jupyter, /usr/bin/python3 with jupyter_client).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ROOT, run, scenario, PYTHON, useJupyterEnv } from "./kernel/helpers.js";

const env = useJupyterEnv();

/** Width, height and whether the pixels decode, from a PNG's IHDR and IDAT chunks. */
function pngInfo(file: string): { width: number; height: number; pixels: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let o = 8; o < b.length; ) {
    const len = b.readUInt32BE(o);
    if (b.toString("latin1", o + 4, o + 8) === "IDAT") idat.push(b.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, pixels: (raw.length - height) / 4 };
}

describe("kernelspec", () => {
  it("installs 'otp-lab' with display name, language, interrupt mode, argv and logos", () => {
    const dir = path.join(env.prefix, "share", "jupyter", "kernels", "otp-lab");
    const spec = JSON.parse(readFileSync(path.join(dir, "kernel.json"), "utf8"));
    expect(spec.display_name).toBe("TypeScript (OTP Lab)");
    expect(spec.language).toBe("typescript");
    expect(spec.interrupt_mode).toBe("message");
    expect(spec.argv).toEqual([process.execPath, "--min-semi-space-size=32", "--max-semi-space-size=32", path.join(ROOT, "dist", "kernel", "cli.js"), "kernel", "{connection_file}"]);
    expect(spec.metadata["otp-lab"].version).toMatch(/^\d+\.\d+\.\d+/);
    expect(pngInfo(path.join(dir, "logo-32x32.png"))).toEqual({ width: 32, height: 32, pixels: 32 * 32 });
    expect(pngInfo(path.join(dir, "logo-64x64.png"))).toEqual({ width: 64, height: 64, pixels: 64 * 64 });
    expect(existsSync(path.join(dir, "logo-svg.svg"))).toBe(true);
  });

  it("is listed by `jupyter kernelspec list`", async () => {
    const hasKernelspecCommand = existsSync("/usr/bin/jupyter-kernelspec");
    // /usr/bin/jupyter-kernelspec comes from Debian's jupyter-client package; without it, jupyter_client's
    // own entry point does the same listing.
    const r = hasKernelspecCommand
      ? await run("/usr/bin/jupyter", ["kernelspec", "list", "--json"], { env: env.env })
      : await run(PYTHON, ["-m", "jupyter_client.kernelspecapp", "list", "--json"], { env: env.env });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(list.kernelspecs["otp-lab"].spec.display_name).toBe("TypeScript (OTP Lab)");
    expect(list.kernelspecs["otp-lab"].resource_dir).toBe(path.join(env.prefix, "share", "jupyter", "kernels", "otp-lab"));
  });

  it("installs with --user into the Jupyter data dir and with --sys-prefix into the prefix of jupyter's Python", async () => {
    const cli = path.join(ROOT, "dist", "kernel", "cli.js");
    const data = path.join(env.prefix, "user-data");
    const user = await run(process.execPath, [cli, "install", "--user"], { env: { ...env.env, JUPYTER_DATA_DIR: data } });
    expect(user.code, user.stderr).toBe(0);
    expect(existsSync(path.join(data, "kernels", "otp-lab", "kernel.json"))).toBe(true);
    // A stand-in `jupyter` whose "Python" reports a temporary sys.prefix.
    const bin = path.join(env.prefix, "fake-bin");
    const sysPrefix = path.join(env.prefix, "sys-prefix");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "python"), `#!/bin/sh\necho ${sysPrefix}\n`, { mode: 0o755 });
    writeFileSync(path.join(bin, "jupyter"), `#!${path.join(bin, "python")}\n`, { mode: 0o755 });
    const sys = await run(process.execPath, [cli, "install", "--sys-prefix"], { env: { ...env.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(sys.code, sys.stderr).toBe(0);
    expect(existsSync(path.join(sysPrefix, "share", "jupyter", "kernels", "otp-lab", "logo-64x64.png"))).toBe(true);
  });

  it("rejects unknown options with a usage line", async () => {
    const r = await run(process.execPath, [path.join(ROOT, "dist", "kernel", "cli.js"), "install", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("usage: otp-lab install");
  });
});

describe("signatures", () => {
  it("drops forged, unsigned, tampered and replayed messages without running them", async () => {
    const r = await scenario<{ sent: Record<string, number>; check: string; kernel_stderr: string }>(env.env, "security", 280_000);
    expect(r.sent).toEqual({ wrong_key: 0, no_signature: 0, tampered: 0, valid_first: 1, replay: 0 });
    // None of the forged cells ran; the valid one ran exactly once.
    expect(r.check).toBe("[ 'undefined', 'undefined', 'undefined', 1 ]");
    expect(r.kernel_stderr).toBe("");
  }, 300_000);
});

describe("lifecycle", () => {
  it("restarts into a fresh process and shuts down even while a cell busy-loops", async () => {
    const r = await scenario<Record<string, unknown>>(env.env, "lifecycle", 280_000);
    expect(r.pid_changed).toBe(true);
    const after = r.after_restart as { outputs: { type: string; data?: Record<string, string> }[] };
    expect(after.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"]).toBe("true");
    expect(r.count_after_restart).toBe(1);
    expect(r.exit_code).toBe(0);
    expect(r.shutdown_ms).toBeLessThan(5000);
    expect(r.kernel_stderr).toBe("");
  }, 300_000);

  it("answers kernel_info when its sockets were ready before the rest of the kernel had loaded", async () => {
    // The protocol thread's "ready" (and a client's first requests) used to be lost when they came before
    // kernel.js had attached its listener: the kernel then never answered. The test holds kernel.js back 3 s.
    const r = await scenario<{ startup_ms: number; result: string; kernel_stderr: string }>(env.env, "late_load", 280_000);
    expect(r.startup_ms).toBeGreaterThan(2500);
    expect(r.result).toBe("42");
    expect(r.kernel_stderr).toBe("");
  }, 300_000);

  it("answers kernel_info quickly after launch and runs trivial cells in milliseconds", async () => {
    const r = await scenario<{ startup_ms: number[]; trivial_ms: number[]; early_request: string }>(env.env, "startup", 280_000);
    // A request sent before kernel_info, while the kernel still loads, is answered, not lost.
    expect(r.early_request).toBe("ok");
    // Measured from KernelManager.start_kernel (including Python's side) to kernel_info_reply. The design
    // target is well under 0.5 s on an idle machine; the bound here leaves room for a loaded CI runner.
    console.log(`kernel_info after launch: ${r.startup_ms.join(", ")} ms; trivial cells: ${r.trivial_ms.join(", ")} ms`);
    expect(Math.min(...r.startup_ms)).toBeLessThan(2500);
    const steady = r.trivial_ms.slice(1).sort((a, b) => a - b);
    expect(steady[Math.floor(steady.length / 2)]).toBeLessThan(500);
  }, 300_000);
});
