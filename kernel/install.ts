/**
 * `otp-lab install [--user | --sys-prefix | --prefix DIR] [--name NAME]`: writes the Jupyter kernelspec.
 *
 * Locations follow jupyter_client's KernelSpecManager:
 *   --user (default)  the user's Jupyter data dir ($JUPYTER_DATA_DIR, else ~/.local/share/jupyter on Linux,
 *                     ~/Library/Jupyter on macOS, %APPDATA%\jupyter on Windows) + /kernels/otp-lab
 *   --prefix DIR      DIR/share/jupyter/kernels/otp-lab (e.g. a virtualenv, or a test's temporary prefix)
 *   --sys-prefix      sys.prefix/share/jupyter of the Python that runs `jupyter`
 *
 * `interrupt_mode` is "message": the frontend sends `interrupt_request` on the control channel, which the
 * kernel's protocol thread turns into a safe in-process interrupt (see interrupt.ts). SIGINT works too.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KERNEL_VERSION } from "./kernel-info.js";
import { LOGO_SVG, logoPng } from "./logo.js";
import { NODE_FLAGS } from "../runtime/node-flags.js";

export const KERNEL_NAME = "otp-lab";
export const DISPLAY_NAME = "TypeScript (OTP Lab)";

export function kernelSpec(): Record<string, unknown> {
  const cli = fileURLToPath(new URL("./cli.js", import.meta.url));
  return {
    // Node runs with the V8 flags the runtime is tuned for (runtime/node-flags.ts).
    argv: [process.execPath, ...NODE_FLAGS, cli, "kernel", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "message",
    env: {},
    metadata: {
      debugger: false,
      "otp-lab": { version: KERNEL_VERSION, node: process.version },
    },
  };
}

/** Writes kernel.json and the logos into `dir` (created if needed). */
export function writeKernelSpec(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(kernelSpec(), null, 2) + "\n");
  writeFileSync(path.join(dir, "logo-32x32.png"), logoPng(32));
  writeFileSync(path.join(dir, "logo-64x64.png"), logoPng(64));
  writeFileSync(path.join(dir, "logo-svg.svg"), LOGO_SVG);
}

export function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  if (process.platform === "darwin") return path.join(homedir(), "Library", "Jupyter");
  if (process.platform === "win32") return path.join(process.env.APPDATA ?? homedir(), "jupyter");
  return path.join(process.env.XDG_DATA_HOME || path.join(homedir(), ".local", "share"), "jupyter");
}

/**
 * `sys.prefix/share/jupyter` of the Python that runs `jupyter` (found on PATH; its shebang names the Python),
 * which is where `jupyter kernelspec install --sys-prefix` would write.
 */
function sysPrefixDataDir(): string {
  const jupyter = (process.env.PATH ?? "")
    .split(path.delimiter)
    .map((d) => path.join(d, "jupyter"))
    .find((p) => existsSync(p));
  if (!jupyter) throw new Error("--sys-prefix needs Jupyter on PATH; install Jupyter, or use --user or --prefix DIR");
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(readFileSync(jupyter, "utf8").split("\n", 1)[0] ?? "");
  if (!shebang) throw new Error(`cannot tell which Python runs ${jupyter}; use --prefix DIR`);
  // "#!/usr/bin/env python3" names the interpreter in its argument.
  const [cmd, args] = path.basename(shebang[1]!) === "env" && shebang[2] ? [shebang[2], []] : [shebang[1]!, shebang[2] ? [shebang[2]] : []];
  let prefix: string;
  try {
    prefix = execFileSync(cmd, [...args, "-c", "import sys; print(sys.prefix)"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new Error(`could not ask ${cmd} for sys.prefix; use --prefix DIR`);
  }
  return path.join(prefix, "share", "jupyter");
}

export async function main(argv: string[]): Promise<number> {
  let where: "user" | "sys-prefix" | "prefix" = "user";
  let prefix = "";
  let name = KERNEL_NAME;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--user") where = "user";
    else if (a === "--sys-prefix") where = "sys-prefix";
    else if (a === "--prefix" || a.startsWith("--prefix=")) {
      where = "prefix";
      prefix = a.includes("=") ? a.slice("--prefix=".length) : (argv[++i] ?? "");
      if (!prefix) {
        console.error("otp-lab install: --prefix needs a directory, e.g. --prefix /tmp/jupyter-prefix");
        return 2;
      }
    } else if (a === "--name" || a.startsWith("--name=")) {
      name = a.includes("=") ? a.slice("--name=".length) : (argv[++i] ?? "");
    } else if (a === "-h" || a === "--help") {
      console.log("usage: otp-lab install [--user | --sys-prefix | --prefix DIR] [--name NAME]");
      return 0;
    } else {
      console.error(`otp-lab install: unknown option '${a}'. usage: otp-lab install [--user | --sys-prefix | --prefix DIR]`);
      return 2;
    }
  }
  if (!/^[a-z0-9._-]+$/i.test(name)) {
    console.error(`otp-lab install: invalid kernel name '${name}' (letters, digits, '.', '_', '-')`);
    return 2;
  }
  const dataDir =
    where === "user" ? userDataDir() : where === "prefix" ? path.join(path.resolve(prefix), "share", "jupyter") : sysPrefixDataDir();
  const dir = path.join(dataDir, "kernels", name);
  writeKernelSpec(dir);
  console.log(`Installed kernelspec ${name} ("${DISPLAY_NAME}") in ${dir}`);
  return 0;
}
