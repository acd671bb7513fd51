/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * OTP Lab's JupyterLab (lab/), as a learner gets it from `npm start`, driven in Debian's chromium (headless):
 *   - `kernel/scripts/start.sh` (what `npm start` runs) prints the URL with a token, listens on 127.0.0.1 and
 *     serves notebooks/, whose lessons the contents API lists;
 *   - every lesson, opened in the app (on a copy: the lesson files are never written), runs all its cells on
 *     the otp-lab kernel with no error or stderr output, and every Mermaid diagram and Vega-Lite chart the
 *     kernel sent is drawn (`@jupyterlab/mermaid` and `@jupyterlab/vega5-extension`); a full-page screenshot of
 *     each is kept in test/artifacts/lab/ (look at them when changing the app or a lesson);
 *   - the dark theme applies and a lesson's pictures still render in it.
 * The app is driven through `window.jupyterapp` (`--expose-app-in-browser`) and its commands
 * (`docmanager:open`, `notebook:run-all-cells`, `apputils:change-theme`), JupyterLab's UI-testing convention.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, jupyterEnv, ROOT, type JupyterEnv } from "./kernel/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const NOTEBOOKS = path.join(ROOT, "notebooks");
const ARTIFACTS = path.join(ROOT, "test", "artifacts", "lab");
const KERNEL_LOG = path.join(ARTIFACTS, "kernels.log");
const SUMMARY: Record<string, unknown> = {};
const LESSONS = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort();

interface Server {
  url: string;
  token: string;
  port: number;
  log: () => string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs `kernel/scripts/start.sh ARGS` as `npm start -- ARGS` would, with Jupyter's dirs in the test's temporary
 * prefix, and waits for the URL Jupyter prints. OTP_LAB_NO_SETUP: beforeAll has built dist/ and lab/ already.
 */
async function startLab(env: NodeJS.ProcessEnv, args: string[], page = /\/lab\?token=/): Promise<Server> {
  const child: ChildProcess = spawn("bash", [path.join(ROOT, "kernel", "scripts", "start.sh"), ...args], {
    cwd: ROOT,
    env: { ...env, OTP_LAB_NO_SETUP: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const m = new RegExp(`http://127\\.0\\.0\\.1:(\\d+)${page.source}([0-9a-f]{32,})`).exec(out);
    if (m) {
      return {
        url: m[0],
        port: Number(m[1]),
        token: m[2]!,
        log: () => out,
        async stop() {
          if (child.exitCode === null) {
            // The server and the kernels it started: the whole process group this test made.
            process.kill(-child.pid!, "SIGTERM");
            const t = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, "SIGKILL"), 10_000);
            await exited;
            clearTimeout(t);
          }
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`start.sh exited ${child.exitCode} before printing a URL:\n${out}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`start.sh printed no URL with a token in 90 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function runEnsure(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, "lab", "ensure.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 1_200_000 });
  if (r.status !== 0) throw new Error(`lab/ensure.mjs failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

let jenv: JupyterEnv;
let work = "";

beforeAll(async () => {
  await ensureBuilt();
  runEnsure();
  jenv = jupyterEnv();
  work = mkdtempSync(path.join(tmpdir(), "otp-lab-lab-notebooks-"));
  for (const f of LESSONS) copyFileSync(path.join(NOTEBOOKS, f), path.join(work, f));
  // Every cell in the DOM (JupyterLab attaches only visible cells by default), so the outputs can be counted
  // and a full-page screenshot shows the whole lesson. A user setting, in the test's own config dir.
  const settings = path.join(jenv.env.JUPYTER_CONFIG_DIR!, "lab", "user-settings", "@jupyterlab", "notebook-extension");
  mkdirSync(settings, { recursive: true });
  writeFileSync(path.join(settings, "tracker.jupyterlab-settings"), JSON.stringify({ windowingMode: "none" }));
  mkdirSync(ARTIFACTS, { recursive: true });
  // The kernels' own log, kept with the screenshots: what a kernel that hangs or dies was doing.
  rmSync(KERNEL_LOG, { force: true });
  jenv.env.OTP_LAB_KERNEL_LOG = KERNEL_LOG;
}, 1_300_000);

afterAll(() => {
  jenv?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm start (kernel/scripts/start.sh)", () => {
  it("prints the URL with a token, on 127.0.0.1, and serves the lessons of notebooks/ through the contents API", async () => {
    const server = await startLab(jenv.env, ["--no-browser", "--port", String(await freePort())]);
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const contents = await fetch(`${base}/api/contents?token=${server.token}`);
      expect(contents.status).toBe(200);
      const listing = (await contents.json()) as { content: { name: string; type: string }[] };
      const notebooks = listing.content.filter((c) => c.type === "notebook").map((c) => c.name).sort();
      expect(notebooks).toEqual(LESSONS);
      expect(LESSONS.length).toBe(14);
      // The token is required.
      expect((await fetch(`${base}/api/contents`)).status).toBe(403);
      // The page is our JupyterLab bundle, with the config JupyterLab reads; the kernelspec is installed.
      const page = await (await fetch(server.url)).text();
      expect(page).toContain("/bundle.js");
      expect(page).toContain('"appName": "OTP Lab"');
      const specs = (await (await fetch(`${base}/api/kernelspecs?token=${server.token}`)).json()) as { kernelspecs: Record<string, unknown> };
      expect(Object.keys(specs.kernelspecs)).toContain("otp-lab");
      // server.py's stand-in for jupyter_server 2's /api/me, which JupyterLab's user manager polls.
      const me = (await (await fetch(`${base}/api/me?token=${server.token}`)).json()) as { identity: { username: string } };
      expect(me.identity.username).toBeTruthy();
    } finally {
      await server.stop();
    }
  }, 180_000);

  it("--classic serves Debian's classic Notebook on the lessons instead", async () => {
    const server = await startLab(jenv.env, ["--classic", "--no-browser", "--port", String(await freePort()), "--ip=127.0.0.1"], /\/\?token=/);
    try {
      const listing = (await (await fetch(`http://127.0.0.1:${server.port}/api/contents?token=${server.token}`)).json()) as { content: { name: string; type: string }[] };
      expect(listing.content.filter((c) => c.type === "notebook").map((c) => c.name).sort()).toEqual(LESSONS);
      // Notebook 6's page, not ours.
      const page = await (await fetch(`http://127.0.0.1:${server.port}/tree?token=${server.token}`)).text();
      expect(page).toContain("notebook");
      expect(page).not.toContain("/bundle.js");
    } finally {
      await server.stop();
    }
  }, 180_000);
});

interface LessonResult {
  codeCells: number;
  unexecuted: number;
  errors: string[];
  mermaidSent: number;
  vegaSent: number;
  mermaidDrawn: number;
  vegaDrawn: number;
  mermaidBroken: number;
}

describe("OTP Lab's JupyterLab in chromium", () => {
  let context: BrowserContext | null = null;
  let profile = "";
  let server: Server | null = null;
  let page: Page;
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];
  let opening: Promise<Page> | null = null;

  // Opened once, by whichever test runs first; each test awaits it, so a failure to start fails every test
  // with its reason instead of skipping them.
  const app = () => (opening ??= open());

  async function open(): Promise<Page> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium; install it with \`apt-get install -y chromium\``);
    }
    server = await startLab(jenv.env, ["--no-browser", "--port", String(await freePort()), "--expose-app-in-browser", `--notebook-dir=${work}`]);
    profile = mkdtempSync(path.join(tmpdir(), "otp-lab-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    // Every request the app makes to its server should be answered: a 404 is a missing schema, theme, asset
    // or API (jupyter_server 1.23 lacks some of version 2's; server.py adds the ones JupyterLab polls).
    page.on("response", (r) => {
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url().replace(/token=[0-9a-f]+/, "token=...")}`);
    });
    page.on("requestfailed", (r) => failedRequests.push(`failed ${r.method()} ${r.url().replace(/token=[0-9a-f]+/, "token=...")}: ${r.failure()?.errorText}`));
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { jupyterapp?: unknown }).jupyterapp, undefined, { timeout: 120_000 });
    await page.evaluate(() => (window as any).jupyterapp.restored);
    return page;
  }

  /** Opens a lesson, runs all its cells, and reports what the kernel sent and what the page drew. */
  async function runLesson(p: Page, name: string): Promise<LessonResult> {
    await p.evaluate(async (file) => {
      const lab = (window as any).jupyterapp;
      const panel = await lab.commands.execute("docmanager:open", { path: file, factory: "Notebook" });
      // The helpers below find the lesson here, not as the shell's current widget: when the previous lesson's
      // panel closed, the main area was empty and JupyterLab opens a Launcher there, which can land on top of
      // this notebook after it opened (CI saw every later step look at the Launcher).
      (window as any).otpLabLesson = panel;
      lab.shell.activateById(panel.id);
      await panel.context.ready;
      await panel.sessionContext.ready;
    }, name);
    // A kernel that never answers kernel_info would leave run-all waiting forever: fail with what happened.
    await p
      .waitForFunction(() => (window as any).otpLabLesson?.sessionContext?.session?.kernel?.connectionStatus === "connected"
        && ["idle", "busy"].includes((window as any).otpLabLesson.sessionContext.session.kernel.status), undefined, { timeout: 90_000, polling: 250 })
      .catch((e: Error) => {
        throw new Error(`${name}: the otp-lab kernel did not become ready in 90 s (its log: ${KERNEL_LOG}): ${e.message.split("\n")[0]}`);
      });
    // run-all-cells resolves when every cell has run (or one failed and stopped the rest).
    await p.evaluate(() => {
      const lab = (window as any).jupyterapp;
      lab.shell.activateById((window as any).otpLabLesson.id);
      return lab.commands.execute("notebook:run-all-cells");
    });
    await p.waitForFunction(
      () => (window as any).otpLabLesson?.sessionContext?.session?.kernel?.status === "idle",
      undefined,
      { timeout: 120_000, polling: 250 },
    );
    const count = () =>
      p.evaluate(() => {
        const panel = (window as any).otpLabLesson;
        const cells = [...panel.model.cells].filter((c: any) => c.type === "code");
        const outputs: any[] = cells.flatMap((c: any) => c.outputs.toJSON());
        const errors = outputs
          .filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"))
          .map((o) => `${o.ename ?? "stderr"}: ${o.evalue ?? o.text}`.slice(0, 500));
        const imgs = [...panel.node.querySelectorAll(".jp-RenderedMermaid img")] as HTMLImageElement[];
        return {
          codeCells: cells.length,
          unexecuted: cells.filter((c: any) => c.executionCount === null).length,
          errors,
          mermaidSent: outputs.filter((o) => o.data && "text/vnd.mermaid" in o.data).length,
          vegaSent: outputs.filter((o) => o.data && "application/vnd.vegalite.v5+json" in o.data).length,
          mermaidDrawn: imgs.filter((i) => i.src.startsWith("data:image/svg+xml") && i.complete && i.naturalWidth > 0).length,
          mermaidBroken: panel.node.querySelectorAll(".jp-RenderedMermaid .jp-mod-warning, .jp-RenderedMermaid .error-icon").length,
          vegaDrawn: panel.node.querySelectorAll(".vega-embed svg.marks, .vega-embed canvas.marks").length,
        };
      }) as Promise<LessonResult>;
    // Mermaid and Vega load and draw asynchronously after the outputs arrive.
    const deadline = Date.now() + 60_000;
    let r = await count();
    while ((r.mermaidDrawn < r.mermaidSent || r.vegaDrawn < r.vegaSent) && Date.now() < deadline) {
      await p.waitForTimeout(500);
      r = await count();
    }
    return r;
  }

  /**
   * The whole notebook in one picture: the viewport grows to the notebook's height (Chromium's limit 16,000).
   * A picture is an artifact for people, not a check: it runs in `finally` blocks, so it never throws, or its
   * error would replace the test's own.
   */
  async function screenshot(p: Page, file: string): Promise<void> {
    try {
      // The notebook scrolls inside its own panel (.jp-WindowedPanel-outer), not the page.
      const height = await p.evaluate(() => {
        const panel = (window as any).otpLabLesson;
        (window as any).jupyterapp.shell.activateById(panel.id);
        const scroller = panel.content.node.querySelector(".jp-WindowedPanel-outer") as HTMLElement | null;
        if (!scroller) return window.innerHeight;
        scroller.scrollTop = 0;
        return scroller.scrollHeight - scroller.clientHeight + window.innerHeight;
      });
      await p.setViewportSize({ width: 1400, height: Math.min(16_000, height + 100) });
      await p.waitForTimeout(500);
      await p.screenshot({ path: path.join(ARTIFACTS, file), fullPage: true });
    } catch (e) {
      console.warn(`screenshot ${file} not taken: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      await p.setViewportSize({ width: 1400, height: 1000 }).catch(() => undefined);
    }
  }

  /** Shuts the lesson's kernel down and closes it unsaved (it is a copy; nothing needs to be written). */
  async function closeLesson(p: Page): Promise<void> {
    await p.evaluate(async () => {
      const panel = (window as any).otpLabLesson;
      (window as any).otpLabLesson = null;
      if (!panel) return; // the lesson never opened: the test's own error says why
      await panel.sessionContext.shutdown();
      panel.context.model.dirty = false;
      panel.dispose();
    });
  }

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("opens on the lessons: the file browser lists every one", async () => {
    const p = await app();
    await p.waitForSelector(".jp-DirListing-itemName", { timeout: 60_000 });
    const names = await p.$$eval(".jp-DirListing-itemName", (els) => els.map((e) => e.textContent));
    expect(names).toEqual(expect.arrayContaining(LESSONS));
    await p.screenshot({ path: path.join(ARTIFACTS, "00-file-browser.png") });
  }, 300_000);

  it("has the parts the README promises, each plugin activated", async () => {
    const p = await app();
    const plugins = [
      "@jupyterlab/filebrowser-extension:widget",
      "@jupyterlab/notebook-extension:tracker",
      "@jupyterlab/console-extension:tracker",
      "@jupyterlab/markdownviewer-extension:plugin",
      "@jupyterlab/mermaid-extension:factory",
      "@jupyterlab/vega5-extension:factory",
      "@jupyterlab/json-extension:factory",
      "@jupyter-widgets/jupyterlab-manager:plugin",
      "@jupyterlab/settingeditor-extension:form-ui",
      "@jupyterlab/theme-light-extension:plugin",
      "@jupyterlab/theme-dark-extension:plugin",
      "@jupyterlab/help-extension:about",
    ];
    // Plugins that nothing requires activate when the app starts (autoStart) or on first use; ask for each.
    const states = await p.evaluate(async (ids) => {
      const lab = (window as any).jupyterapp;
      const out: Record<string, string> = {};
      for (const id of ids) {
        if (!lab.hasPlugin(id)) out[id] = "missing";
        else {
          try {
            await lab.activatePlugin(id);
            out[id] = lab.isPluginActivated(id) ? "active" : "inactive";
          } catch (e) {
            out[id] = `failed: ${e}`;
          }
        }
      }
      return out;
    }, plugins);
    expect(states).toEqual(Object.fromEntries(plugins.map((id) => [id, "active"])));
  }, 120_000);

  it.each(LESSONS)("%s: runs every cell, no error output, every Mermaid diagram and Vega-Lite chart drawn", async (name) => {
    const p = await app();
    let r: LessonResult;
    try {
      r = await runLesson(p, name);
    } finally {
      // Also when it failed: the picture shows why (a dialog, an error output, a diagram not drawn).
      await screenshot(p, name.replace(/\.ipynb$/, ".png"));
      await closeLesson(p);
    }
    SUMMARY[name] = r;
    writeFileSync(path.join(ARTIFACTS, "summary.json"), JSON.stringify(SUMMARY, null, 1));
    expect(r.codeCells).toBeGreaterThan(0);
    expect(r.unexecuted).toBe(0);
    expect(r.errors).toEqual([]);
    // Every lesson shows its processes as a tree at least once.
    expect(r.mermaidSent).toBeGreaterThan(0);
    expect(r.mermaidBroken).toBe(0);
    expect(r.mermaidDrawn).toBeGreaterThanOrEqual(r.mermaidSent);
    expect(r.vegaDrawn).toBeGreaterThanOrEqual(r.vegaSent);
  }, 300_000);

  it("the dark theme applies, and a lesson's diagrams and charts still render in it", async () => {
    const p = await app();
    await p.evaluate(() => (window as any).jupyterapp.commands.execute("apputils:change-theme", { theme: "JupyterLab Dark" }));
    await p.waitForFunction(() => document.body.dataset.jpThemeLight === "false", undefined, { timeout: 60_000 });
    const lesson = "07-intensity-escalation.ipynb";
    const r = await runLesson(p, lesson);
    const background = await p.evaluate(() => getComputedStyle((window as any).otpLabLesson.content.node).backgroundColor);
    try {
      await screenshot(p, "07-intensity-escalation-dark.png");
    } finally {
      await closeLesson(p);
      await p.evaluate(() => (window as any).jupyterapp.commands.execute("apputils:change-theme", { theme: "JupyterLab Light" }));
    }
    const [red, green, blue] = background.match(/\d+/g)!.map(Number);
    expect(0.2126 * red! + 0.7152 * green! + 0.0722 * blue!, background).toBeLessThan(80);
    expect(r.errors).toEqual([]);
    expect(r.vegaSent).toBeGreaterThan(0);
    expect(r.mermaidDrawn).toBeGreaterThanOrEqual(r.mermaidSent);
    expect(r.vegaDrawn).toBeGreaterThanOrEqual(r.vegaSent);
  }, 300_000);

  it("control(sup): a click on \"kill a\" kills a, the supervisor restarts it, and the tree redraws with a new pid", async () => {
    const p = await app();
    const cell = (source: string) => ({ cell_type: "code", metadata: {}, source, outputs: [], execution_count: null });
    const nb = {
      cells: [
        cell(
          'const Counter = defmodule("Counter", {\n  init: (n: number) => ["ok", n],\n  handleCall: (_req: unknown, _from: unknown, n: number) => ["reply", n, n + 1],\n});\n' +
            'const [, sup] = await Supervisor.startLink(\n  [{ id: "a", start: () => GenServer.startLink(Counter, 0) }, { id: "b", start: () => GenServer.startLink(Counter, 10) }],\n  { strategy: "one_for_one" },\n);',
        ),
        cell("control(sup)"),
      ],
      metadata: { kernelspec: { name: "otp-lab", display_name: "TypeScript (OTP Lab)", language: "typescript" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    writeFileSync(path.join(work, "control.ipynb"), JSON.stringify(nb));
    // The pids the drawn tree shows (each node names its pid in its label and its tooltip: counted once).
    const pidsIn = () => p.evaluate(() => [...new Set((document.querySelector(".otp-lab-tree")?.textContent ?? "").match(/<\d+\.\d+\.\d+>/g) ?? [])]);
    try {
      const r = await runLesson(p, "control.ipynb");
      expect(r.errors).toEqual([]);
      // The widgets manager drew the panel: the tree and a button per action, found by its tooltip.
      const kill = p.locator('button[title="kill a"]');
      await p.evaluate(() => (window as any).jupyterapp.shell.activateById((window as any).otpLabLesson.id));
      await kill.waitFor({ timeout: 60_000 });
      await expect.poll(pidsIn, { timeout: 30_000 }).toHaveLength(3);
      const before = await pidsIn();
      await kill.click();
      // Redrawn in place: one pid gone (a's), one new (its restart), the others unchanged.
      await expect.poll(async () => (await pidsIn()).filter((x) => !before.includes(x)).length, { timeout: 30_000 }).toBe(1);
      const after = await pidsIn();
      expect(after).toHaveLength(3);
      expect(before.filter((x) => !after.includes(x))).toHaveLength(1);
      await expect.poll(() => p.evaluate(() => document.querySelector(".otp-lab-log")?.textContent ?? ""), { timeout: 30_000 }).toMatch(/kill a <\d+\.\d+\.\d+>/);
      // The README's picture of the panel.
      const output = p.locator(".jp-OutputArea-output", { has: p.locator(".otp-lab-tree") });
      // The README's picture is replaced only on request (OTP_LAB_UPDATE_SCREENSHOTS=1), so a test run leaves the
      // tree as it found it; every run keeps its own copy with the artifacts.
      const where = process.env.OTP_LAB_UPDATE_SCREENSHOTS === "1" ? path.join(ROOT, "lab", "screenshots") : path.join(ROOT, "test", "artifacts", "lab");
      mkdirSync(where, { recursive: true });
      // (test/artifacts/lab/control.png is the whole page, below: this one is the panel alone.)
      await output.screenshot({ path: path.join(where, where.endsWith("screenshots") ? "control.png" : "readme-control.png") });
    } finally {
      await screenshot(p, "control.png");
      await closeLesson(p);
    }
  }, 300_000);

  it("no uncaught error in the page, and no request the server did not answer, through all of it", async () => {
    await app();
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
  });
});
