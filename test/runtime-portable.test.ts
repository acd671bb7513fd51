/// <reference lib="dom" />
/**
 * The runtime is plain TypeScript that runs unchanged in Node and in a browser's Web Worker (the static-site
 * kernel depends on it):
 *   - every file of runtime/ type-checks with a browser's libraries only (ES2023 + DOM, no @types/node), and that
 *     check does catch Node-only names;
 *   - the built runtime (dist/runtime, plain ES modules) runs in a module Web Worker in Debian's Chromium: the
 *     demos' event traces (virtual clock) are the same as in Node, and a wall-clock, auto-driven runtime runs
 *     processes and timers by itself there (no setImmediate in a browser).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = "/usr/bin/chromium";

const BROWSER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
  types: [],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
};

function browserDiagnostics(rootNames: string[], host?: ts.CompilerHost): string[] {
  const program = ts.createProgram({ rootNames, options: BROWSER_OPTIONS, host });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : "";
    return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
  });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("runtime/ needs nothing of Node", () => {
  it("type-checks with a browser's libraries only (ES2023 + DOM, no @types/node)", () => {
    const files = tsFiles(path.join(ROOT, "runtime"));
    expect(files.length).toBeGreaterThan(30);
    expect(browserDiagnostics(files)).toEqual([]);
  });

  it("imports no node: module and no package", () => {
    for (const f of tsFiles(path.join(ROOT, "runtime"))) {
      const specifiers = [...readFileSync(f, "utf8").matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
      for (const s of specifiers) expect(s, `${path.relative(ROOT, f)} imports ${s}`).toMatch(/^\.\.?\//);
    }
  });

  it("the check catches Node-only names (setImmediate, NodeJS types, process)", () => {
    const file = path.join(ROOT, "runtime", "__probe__.ts");
    const source = "setImmediate(() => {});\nlet t: NodeJS.Timeout | null = null;\nexport const cwd = process.cwd();\n";
    const host = ts.createCompilerHost(BROWSER_OPTIONS);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
    host.fileExists = ((exists) => (name: string) => name === file || exists(name))(host.fileExists.bind(host));
    const found = browserDiagnostics([file], host).join("\n");
    expect(found).toMatch(/Cannot find name 'setImmediate'/);
    expect(found).toMatch(/Cannot find namespace 'NodeJS'/);
    expect(found).toMatch(/Cannot find name 'process'/);
  });
});

/** What the worker (and Node) compute with the runtime: the demos' traces, then a wall-clock auto-driven run. */
const PROGRAM = `
export async function exercise(otp) {
  const out = {};
  out.hasProcess = typeof globalThis.process !== "undefined";
  out.hasSetImmediate = typeof globalThis.setImmediate === "function";
  out.demos = [otp.demoOneForOne(), otp.demoOneForAll(), otp.demoRestForOne(), otp.demoRestartTypes(), otp.demoIntensity()]
    .map((d) => d.summary());
  // A runtime nobody drives by hand: processes and timers run by themselves, on the wall clock.
  otp.setRuntime(new otp.Runtime({ clock: "real", autoDrive: true }));
  const got = [];
  const p = otp.spawn(function* () {
    const first = yield* otp.receive(null, 30);
    got.push(typeof first === "symbol" ? first.description : first);
    got.push(yield* otp.receive());
  });
  await new Promise((r) => setTimeout(r, 80));
  otp.send(p, "late");
  await new Promise((r) => setTimeout(r, 40));
  out.got = got;
  return out;
}
`;

const WORKER = `
import * as otp from "/dist/runtime/index.js";
import { exercise } from "/program.js";
exercise(otp).then((r) => postMessage({ ok: true, r }), (e) => postMessage({ ok: false, error: String(e && e.stack || e) }));
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>runtime in a worker</title><script type="module">
const w = new Worker("/worker.js", { type: "module" });
window.result = new Promise((resolve) => {
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ ok: false, error: "worker error: " + (e.message || "failed to load") });
});
</script>`;

describe("the built runtime in a browser's Web Worker (Debian chromium, headless)", () => {
  let server: Server | null = null;
  let profile = "";
  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(null)));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("runs the demos with the same traces as in Node, and drives itself on the wall clock", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    const dist = path.join(ROOT, "dist", "runtime", "index.js");
    if (!existsSync(dist)) throw new Error("dist/runtime is missing: run `npm run build` first");

    // Node first, on the same built files, in a fresh module instance (a query string).
    const programFile = path.join(mkdtempSync(path.join(tmpdir(), "otp-lab-portable-")), "program.mjs");
    profile = path.dirname(programFile);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(programFile, PROGRAM);
    const { exercise } = (await import(programFile)) as { exercise: (otp: unknown) => Promise<Record<string, unknown>> };
    const inNode = await exercise(await import(`${dist}?node`));

    server = createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0]!;
      const send = (type: string, body: string | Buffer) => {
        res.writeHead(200, { "content-type": type });
        res.end(body);
      };
      if (url === "/") return send("text/html", PAGE);
      if (url === "/worker.js") return send("text/javascript", WORKER);
      if (url === "/program.js") return send("text/javascript", PROGRAM);
      const file = path.join(ROOT, path.normalize(url));
      if (url.startsWith("/dist/runtime/") && file.startsWith(path.join(ROOT, "dist", "runtime")) && existsSync(file)) return send("text/javascript", readFileSync(file));
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;

    const browser = await chromium.launchPersistentContext(path.join(profile, "chromium"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const result = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as { ok: boolean; r?: Record<string, unknown>; error?: string };
      expect(result.error).toBeUndefined();
      const inBrowser = result.r!;
      expect(inBrowser.hasProcess).toBe(false);
      expect(inBrowser.hasSetImmediate).toBe(false);
      expect(inNode.hasSetImmediate).toBe(true);
      // Same traces, to the pid and the virtual millisecond.
      expect((inBrowser.demos as string[]).length).toBe(5);
      expect(inBrowser.demos).toEqual(inNode.demos);
      expect((inBrowser.demos as string[]).join("\n")).toMatch(/restart/);
      // The receive timed out (30 ms) and then the late message arrived, with nobody driving.
      expect(inBrowser.got).toEqual(["timeout", "late"]);
      expect(inNode.got).toEqual(["timeout", "late"]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
