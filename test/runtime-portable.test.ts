/// <reference lib="dom" />
/**
 * The runtime is plain TypeScript that runs unchanged in Node and in a browser's Web Worker (the static-site
 * kernel depends on it):
 *   - every file of runtime/ type-checks with a browser's libraries only (ES2023 + DOM, no @types/node), and that
 *     check does catch Node-only names;
 *   - the built runtime (dist/runtime, plain ES modules) runs in a module Web Worker in Debian's Chromium: the
 *     demos' event traces (virtual clock) are the same as in Node, and a wall-clock, auto-driven runtime runs
 *     processes and timers by itself there (no setImmediate in a browser);
 *   - so do the widgets (dist/widgets): the same trees and chart specs, without the fallbacks that need Node
 *     (PNG, Vega's SVG) unless a back end is injected (`widgets/backends.ts`).
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
export async function exercise(otp, widgets, backends) {
  const out = {};
  out.hasProcess = typeof globalThis.process !== "undefined";
  out.hasSetImmediate = typeof globalThis.setImmediate === "function";
  const demos = [otp.demoOneForOne(), otp.demoOneForAll(), otp.demoRestForOne(), otp.demoRestartTypes(), otp.demoIntensity()];
  out.demos = demos.map((d) => d.summary());
  // The widgets: the same pictures; PNG and Vega's SVG only where a back end can draw them.
  const demo = demos[1];
  const tree = widgets.treeDiagram(demo.after);
  const chart = widgets.restartsChart(demo.events, { limits: demo.before });
  out.tree = { types: Object.keys(tree.bundle).sort(), text: tree.text, mermaid: tree.mermaid, svg: tree.svg };
  out.chart = { types: Object.keys(chart.bundle).sort(), text: chart.text, spec: chart.spec };
  const previous = backends.setRenderBackends({ png: (svg, w, h) => "injected " + w + "x" + h });
  out.injectedPng = widgets.treeDiagram(demo.after).bundle["image/png"];
  backends.setRenderBackends(previous);
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
import * as widgets from "/dist/widgets/index.js";
import * as backends from "/dist/widgets/backends.js";
import { exercise } from "/program.js";
exercise(otp, widgets, backends).then((r) => postMessage({ ok: true, r }), (e) => postMessage({ ok: false, error: String(e && e.stack || e) }));
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

  it("runs the demos with the same traces as in Node, drives itself on the wall clock, and draws the widgets without Node's back ends", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    const dist = path.join(ROOT, "dist", "runtime", "index.js");
    if (!existsSync(dist)) throw new Error("dist/runtime is missing: run `npm run build` first");

    // Node first, on the same built files, in a fresh module instance (a query string).
    const programFile = path.join(mkdtempSync(path.join(tmpdir(), "otp-lab-portable-")), "program.mjs");
    profile = path.dirname(programFile);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(programFile, PROGRAM);
    const { exercise } = (await import(programFile)) as { exercise: (...modules: unknown[]) => Promise<Record<string, any>> };
    const inNode = await exercise(await import(dist), await import(path.join(ROOT, "dist", "widgets", "index.js")), await import(path.join(ROOT, "dist", "widgets", "backends.js")));

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
      const served = ["runtime", "widgets"].some((d) => url.startsWith(`/dist/${d}/`) && file.startsWith(path.join(ROOT, "dist", d)));
      if (served && existsSync(file)) return send("text/javascript", readFileSync(file));
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
      const result = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as { ok: boolean; r?: Record<string, any>; error?: string };
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

      // Widgets: in Node every fallback; in the browser no PNG and no Vega SVG, the rest identical.
      expect(inNode.tree.types).toEqual(["image/png", "image/svg+xml", "text/plain", "text/vnd.mermaid"]);
      expect(inBrowser.tree.types).toEqual(["image/svg+xml", "text/plain", "text/vnd.mermaid"]);
      expect(inBrowser.tree.text).toBe(inNode.tree.text);
      expect(inBrowser.tree.mermaid).toBe(inNode.tree.mermaid);
      expect(inBrowser.tree.svg).toBe(inNode.tree.svg);
      expect(inNode.chart.types).toEqual(["application/vnd.vegalite.v5+json", "image/png", "image/svg+xml", "text/plain"]);
      expect(inBrowser.chart.types).toEqual(["application/vnd.vegalite.v5+json", "text/plain"]);
      expect(inBrowser.chart.spec).toEqual(inNode.chart.spec);
      expect(inBrowser.chart.text).toBe(inNode.chart.text);
      // An injected PNG back end is used, in both.
      expect(inBrowser.injectedPng).toMatch(/^injected \d+x\d+$/);
      expect(inNode.injectedPng).toBe(inBrowser.injectedPng);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
