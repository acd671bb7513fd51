/**
 * `kernel_info_reply` content (messaging spec "Kernel info"). `status` is included: jupyter_kernel_test
 * validates it, and tslab's omission of it is a known failure.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PROTOCOL_VERSION } from "./wire.js";

export const KERNEL_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();

/** TypeScript's version, from its package.json (cheap; the compiler itself loads later, on its own thread). */
const TYPESCRIPT_VERSION: string = (() => {
  try {
    const file = createRequire(import.meta.url).resolve("typescript/package.json");
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "5";
  }
})();

export function kernelInfoContent(banner: string): Record<string, unknown> {
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "otp-lab",
    implementation_version: KERNEL_VERSION,
    language_info: {
      name: "typescript",
      version: TYPESCRIPT_VERSION,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner,
    debugger: false,
    help_links: [
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: "https://nodejs.org/docs/latest-v20.x/api/" },
    ],
  };
}
