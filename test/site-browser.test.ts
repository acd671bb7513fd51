/**
 * The static site (`npm run build:site`, site/) in Debian's Chromium, headless, served on 127.0.0.1 by
 * `otp-lab site serve`'s server (with the COOP/COEP headers):
 *   - every lesson's source version runs cell by cell in the browser kernel (a Web Worker) without an error, and
 *     each cell's text outputs (streams, results' and displays' text/plain, errors' name and message) are those
 *     of the Node kernel (`otp-lab run` on a copy): the virtual clock makes them comparable;
 *   - the site serves the student versions by default, with its own index of them;
 *   - the lite app: a lesson saved into the browser's storage opens, "Run All" runs every cell, Mermaid trees and
 *     Vega-Lite charts are drawn, and the notebook is still there after a reload (JupyterLite's storage);
 *   - interrupt: with SharedArrayBuffer (the page is cross-origin isolated) a cell waiting in a loop of awaits stops
 *     and the kernel keeps its state; a loop that never awaits is stopped by restarting the worker, with a message.
 * `test/run-all.sh` builds the site first (`node lab/ensure-site.mjs`); so does this file when it is missing.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = "/usr/bin/chromium";
const SITE = path.join(ROOT, "site");
const LESSONS = readdirSync(path.join(ROOT, "notebooks")).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();

interface Notebook {
  cells: { cell_type: string; source: string | string[]; outputs?: Output[]; metadata?: Record<string, unknown> }[];
}
interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));

/** A cell's outputs as comparable text: streams merged by name in order, the text of results and displays, errors. */
function textOutputs(outputs: Output[]): string[] {
  const out: string[] = [];
  for (const o of outputs) {
    if (o.output_type === "stream") {
      const last = out[out.length - 1];
      const head = `${o.name}: `;
      if (last?.startsWith(head)) out[out.length - 1] = last + text(o.text);
      else out.push(head + text(o.text));
    } else if (o.output_type === "error") out.push(`error: ${o.ename}: ${o.evalue}`);
    else if (o.data) out.push(`${o.output_type}: ${text(o.data["text/plain"] as string | string[])}`);
  }
  return out;
}

function codeCells(nb: Notebook): string[] {
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => text(c.source));
}

/** The Node kernel's outputs of every lesson: `otp-lab run` on copies, three at a time. */
async function nodeOutputs(dir: string): Promise<Map<string, string[][]>> {
  const result = new Map<string, string[][]>();
  const queue = [...LESSONS];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const copy = path.join(dir, f);
      cpSync(path.join(ROOT, "notebooks", f), copy);
      const code = await new Promise<number>((resolve) => {
        const p = spawn(process.execPath, [path.join(ROOT, "dist", "kernel", "cli.js"), "run", copy, "--timeout", "300"], {
          stdio: "ignore",
          // Types are checked by the lessons' own tests; here only what cells print matters.
          env: { ...process.env, OTP_LAB_TYPECHECK: "0" },
        });
        p.on("exit", (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new Error(`otp-lab run ${f} exited ${code}`);
      const nb = JSON.parse(readFileSync(copy, "utf8")) as Notebook;
      result.set(f, nb.cells.filter((c) => c.cell_type === "code").map((c) => textOutputs(c.outputs ?? [])));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return result;
}

describe("the static site in Chromium (JupyterLite + the otp-lab browser kernel)", () => {
  let server: Server | null = null;
  let context: BrowserContext | null = null;
  let page: Page;
  let url = "";
  let profile = "";
  const pageErrors: string[] = [];
  let reference: Promise<Map<string, string[][]>>;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    if (!existsSync(path.join(SITE, "lab", "index.html"))) {
      const r = spawnSync(process.execPath, [path.join(ROOT, "lab", "ensure-site.mjs")], { stdio: "inherit" });
      if (r.status !== 0) throw new Error("the site build failed (node lab/ensure-site.mjs)");
    }
    profile = mkdtempSync(path.join(tmpdir(), "otp-lab-site-"));
    mkdirSync(path.join(profile, "node"));
    reference = nodeOutputs(path.join(profile, "node"));
    reference.catch(() => {});
    const { createSiteServer } = (await import(path.join(ROOT, "dist", "kernel", "site-command.js"))) as typeof import("../kernel/site-command.js");
    server = createSiteServer(SITE);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/lab/index.html?expose-app`;
    context = await chromium.launchPersistentContext(path.join(profile, "chromium"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => (window as any).jupyterapp, undefined, { timeout: 120_000 });
    await page.evaluate(() => (window as any).jupyterapp.restored);
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => (server ? server.close(r) : r(null)));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("serves the student versions of the lessons by default, listed in its contents index", async () => {
    const index = JSON.parse(readFileSync(path.join(SITE, "api", "contents", "all.json"), "utf8")) as { content: { name: string }[] };
    expect(index.content.map((c) => c.name).filter((n) => n.endsWith(".ipynb"))).toEqual(LESSONS);
    const student = readFileSync(path.join(SITE, "files", LESSONS[0]!), "utf8");
    expect(student).toContain("not implemented");
    expect(student).not.toContain("BEGIN HIDDEN TESTS");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const listed = await page.evaluate(async () => (await (window as any).jupyterapp.serviceManager.contents.get("")).content.map((c: { name: string }) => c.name));
    expect(listed).toEqual(expect.arrayContaining(LESSONS));
  });

  it("runs every lesson's cells in the browser kernel without an error, with the Node kernel's text outputs", async () => {
    const inBrowser = new Map<string, string[][]>();
    for (const f of LESSONS) {
      const cells = codeCells(JSON.parse(readFileSync(path.join(ROOT, "notebooks", f), "utf8")) as Notebook);
      const outputs = (await page.evaluate(async (cells) => {
        const lab = (window as any).jupyterapp;
        const kernel = await lab.serviceManager.kernels.startNew({ name: "otp-lab" });
        const all: unknown[][] = [];
        try {
          for (const code of cells) {
            const outs: unknown[] = [];
            const future = kernel.requestExecute({ code, stop_on_error: false });
            future.onIOPub = (m: any) => {
              const t = m.header.msg_type;
              if (["stream", "display_data", "execute_result", "error"].includes(t)) outs.push({ output_type: t, ...m.content });
            };
            await future.done;
            all.push(outs);
          }
        } finally {
          await kernel.shutdown();
        }
        return all;
      }, cells)) as Output[][];
      inBrowser.set(f, outputs.map(textOutputs));
    }
    const inNode = await reference;
    for (const f of LESSONS) {
      const b = inBrowser.get(f)!;
      const errors = b.flat().filter((o) => o.startsWith("error:") || o.startsWith("stderr:"));
      expect(errors, `${f}: errors in the browser kernel`).toEqual([]);
      expect(b, `${f}: text outputs, browser vs Node`).toEqual(inNode.get(f));
    }
    // The comparison has something to compare: crash reports, trees and values are printed.
    expect([...inBrowser.values()].flat(2).join("\n")).toMatch(/\[error\] GenServer .* terminating/);
  }, 900_000);

  it("opens a lesson saved in the browser's storage, runs all its cells, draws Mermaid and Vega, keeps it after a reload", async () => {
    const lesson = "07-intensity-escalation.ipynb";
    const nb = JSON.parse(readFileSync(path.join(ROOT, "notebooks", lesson), "utf8"));
    const name = `my-${lesson}`;
    await page.evaluate(
      async ({ name, nb }) => {
        await (window as any).jupyterapp.serviceManager.contents.save(name, { type: "notebook", format: "json", content: nb });
      },
      { name, nb },
    );
    await page.evaluate(async (file) => {
      const lab = (window as any).jupyterapp;
      const panel = await lab.commands.execute("docmanager:open", { path: file, factory: "Notebook" });
      await panel.context.ready;
      await panel.sessionContext.ready;
    }, name);
    await page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === "idle", undefined, { timeout: 120_000, polling: 250 });
    await page.evaluate(() => (window as any).jupyterapp.commands.execute("notebook:run-all-cells"));
    await page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === "idle", undefined, { timeout: 120_000, polling: 250 });
    const count = () =>
      page.evaluate(() => {
        const panel = (window as any).jupyterapp.shell.currentWidget;
        const cells = [...panel.model.cells].filter((c: any) => c.type === "code");
        const outputs: any[] = cells.flatMap((c: any) => c.outputs.toJSON());
        return {
          cells: cells.length,
          unexecuted: cells.filter((c: any) => c.executionCount === null).length,
          errors: outputs.filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`),
          mermaidSent: outputs.filter((o) => o.data && "text/vnd.mermaid" in o.data).length,
          vegaSent: outputs.filter((o) => o.data && "application/vnd.vegalite.v5+json" in o.data).length,
          mermaidDrawn: [...panel.node.querySelectorAll(".jp-RenderedMermaid img")].filter((i: any) => i.complete && i.naturalWidth > 0).length,
          vegaDrawn: panel.node.querySelectorAll(".vega-embed svg.marks, .vega-embed canvas.marks").length,
        };
      });
    let r = await count();
    for (const deadline = Date.now() + 60_000; (r.mermaidDrawn < r.mermaidSent || r.vegaDrawn < r.vegaSent) && Date.now() < deadline; ) {
      await page.waitForTimeout(500);
      r = await count();
    }
    expect(r.errors).toEqual([]);
    expect(r.unexecuted).toBe(0);
    expect(r.mermaidSent).toBeGreaterThan(0);
    expect(r.vegaSent).toBeGreaterThan(0);
    expect(r.mermaidDrawn).toBe(r.mermaidSent);
    expect(r.vegaDrawn).toBeGreaterThanOrEqual(r.vegaSent);
    // The README's picture: the lesson in the browser, at its first supervision tree.
    await page.evaluate(() => {
      const panel = (window as any).jupyterapp.shell.currentWidget;
      panel.node.querySelector(".jp-RenderedMermaid")?.scrollIntoView({ block: "center" });
    });
    await page.waitForTimeout(500);
    // The README's picture is replaced only on request (OTP_LAB_UPDATE_SCREENSHOTS=1); otherwise it goes with the artifacts.
    const where = process.env.OTP_LAB_UPDATE_SCREENSHOTS === "1" ? path.join(ROOT, "lab", "screenshots") : path.join(ROOT, "test", "artifacts", "site");
    mkdirSync(where, { recursive: true });
    await page.screenshot({ path: path.join(where, "site.png") });
    await page.evaluate(async () => {
      const panel = (window as any).jupyterapp.shell.currentWidget;
      await panel.context.save();
    });
    // File → Download gives the notebook as .ipynb, outputs included (for `otp-lab grade`).
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 60_000 }),
      page.evaluate(() => (window as any).jupyterapp.commands.execute("docmanager:download")),
    ]);
    expect(download.suggestedFilename()).toBe(name);
    const downloaded = JSON.parse(readFileSync(await download.path(), "utf8")) as Notebook;
    expect(downloaded.cells.filter((c) => c.cell_type === "code" && (c.outputs ?? []).length > 0).length).toBeGreaterThan(5);
    // The learner's copy is in the browser's storage: a reload still lists it, with its outputs.
    await page.goto(url);
    await page.waitForFunction(() => (window as any).jupyterapp, undefined, { timeout: 120_000 });
    await page.evaluate(() => (window as any).jupyterapp.restored);
    const saved = await page.evaluate(async (file) => {
      const m = await (window as any).jupyterapp.serviceManager.contents.get(file, { content: true });
      return m.content.cells.filter((c: any) => c.cell_type === "code" && c.outputs.length > 0).length;
    }, name);
    expect(saved).toBeGreaterThan(5);
    expect(pageErrors).toEqual([]);
  }, 400_000);

  it("completes and shows help from the TypeScript language service in the worker, with the runtime's doc comments", async () => {
    const r = await page.evaluate(async () => {
      const kernel = await (window as any).jupyterapp.serviceManager.kernels.startNew({ name: "otp-lab" });
      try {
        await kernel.requestExecute({ code: "const counterPid = spawn(function* () {});" }).done;
        const members = (await kernel.requestComplete({ code: "Supervisor.sta", cursor_pos: 14 })).content;
        const names = (await kernel.requestComplete({ code: "counterP", cursor_pos: 8 })).content;
        const info = (await kernel.requestInspect({ code: "spawnLink", cursor_pos: 5, detail_level: 0 })).content;
        const help = (await kernel.requestExecute({ code: "GenServer.call?" }).done).content;
        return { members, names, info, help };
      } finally {
        await kernel.shutdown();
      }
    });
    expect(r.members.matches).toEqual(expect.arrayContaining(["startLink", "startChild"]));
    expect(r.members.cursor_start).toBe(11);
    // A name a cell declared: the language service knows the executed cells.
    expect(r.names.matches).toContain("counterPid");
    expect(r.info.found).toBe(true);
    expect(r.info.data["text/plain"]).toMatch(/function spawnLink\(/);
    expect(r.help.payload[0].data["text/plain"]).toMatch(/call\(server: Dest, request: Term/);
  }, 120_000);

  it("interrupts: a loop of awaits stops and keeps the kernel's state; a loop that never awaits restarts the worker with a message", async () => {
    const r = await page.evaluate(async () => {
      const lab = (window as any).jupyterapp;
      const kernel = await lab.serviceManager.kernels.startNew({ name: "otp-lab" });
      const run = async (code: string) => {
        const outs: any[] = [];
        const f = kernel.requestExecute({ code, stop_on_error: false });
        f.onIOPub = (m: any) => {
          if (["stream", "execute_result", "error"].includes(m.header.msg_type)) outs.push({ type: m.header.msg_type, ...m.content });
        };
        const reply = await f.done;
        return { status: reply.content.status, outs };
      };
      const out: Record<string, unknown> = {};
      await run("const kept = 42;");
      const awaiting = run("for (;;) await new Promise((r) => setTimeout(r, 1));");
      await new Promise((r) => setTimeout(r, 500));
      await kernel.interrupt();
      out.awaiting = await awaiting;
      out.kept = await run("kept");
      const spinning = run("for (;;) {}");
      await new Promise((r) => setTimeout(r, 500));
      await kernel.interrupt();
      out.spinning = await spinning;
      out.after = await run("typeof kept");
      await kernel.shutdown();
      return out;
    });
    const awaiting = r.awaiting as { status: string; outs: { ename?: string }[] };
    expect(awaiting.status).toBe("error");
    expect(awaiting.outs.map((o) => o.ename)).toContain("KeyboardInterrupt");
    expect(JSON.stringify(r.kept)).toContain('"text/plain":"42"');
    const spinning = r.spinning as { status: string; outs: { ename?: string; evalue?: string }[] };
    expect(spinning.status).toBe("error");
    expect(spinning.outs.find((o) => o.ename === "KernelRestarted")?.evalue).toMatch(/run the notebook again from the top/);
    expect(JSON.stringify(r.after)).toContain("undefined");
  }, 120_000);

  it("without the COOP/COEP headers (no SharedArrayBuffer) an interrupt restarts the worker, saying why", async () => {
    const { createSiteServer } = (await import(path.join(ROOT, "dist", "kernel", "site-command.js"))) as typeof import("../kernel/site-command.js");
    const plain = createSiteServer(SITE, { isolate: false });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const other = await context!.newPage();
    try {
      await other.goto(`http://127.0.0.1:${(plain.address() as { port: number }).port}/lab/index.html?expose-app`);
      await other.waitForFunction(() => (window as any).jupyterapp, undefined, { timeout: 120_000 });
      const r = await other.evaluate(async () => {
        await (window as any).jupyterapp.restored;
        const kernel = await (window as any).jupyterapp.serviceManager.kernels.startNew({ name: "otp-lab" });
        // A cell first: the interrupt must find the loop running, not still waiting for the worker to start.
        await kernel.requestExecute({ code: "const before = 1;" }).done;
        const outs: any[] = [];
        const f = kernel.requestExecute({ code: "for (;;) await new Promise((r) => setTimeout(r, 1));", stop_on_error: false });
        f.onIOPub = (m: any) => m.header.msg_type === "error" && outs.push(m.content);
        await new Promise((r) => setTimeout(r, 500));
        await kernel.interrupt();
        const reply = (await f.done).content;
        const after = (await kernel.requestExecute({ code: "1 + 1" }).done).content.status;
        await kernel.shutdown();
        return { isolated: crossOriginIsolated, status: reply.status, outs, after };
      });
      expect(r.isolated).toBe(false);
      expect(r.status).toBe("error");
      // (JupyterLite's own "Kernel Interrupt" error may come with it: its client cancels the queued requests.)
      const restarted = r.outs.find((o: { ename: string }) => o.ename === "KernelRestarted");
      expect(restarted?.evalue).toMatch(/not cross-origin isolated/);
      expect(r.after).toBe("ok");
    } finally {
      await other.close();
      await new Promise((r) => plain.close(r));
    }
  }, 180_000);
});
