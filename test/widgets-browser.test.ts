/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Tests what a learner sees in a real browser: Debian's chromium, headless, loads our SVGs and PNGs and
 * renders our Mermaid sources with the real mermaid package in strict mode. The screenshot is kept in
 * test/artifacts/widgets-browser.png (look at it when changing a renderer).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { restartsChart } from "../widgets/charts.js";
import { processTable } from "../widgets/process-table.js";
import { sequenceDiagram } from "../widgets/sequence-diagram.js";
import { treeDiagram } from "../widgets/tree-diagram.js";
import { treeDiff } from "../widgets/tree-diff.js";
import { servePage, type PageWidget } from "./widgets/browser-page.js";
import { shopAfter, shopBefore, shopEvents, shopProcesses } from "./widgets/fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACT = join(dirname(fileURLToPath(import.meta.url)), "artifacts", "widgets-browser.png");

interface PageResult {
  errors: string[];
  parsed: Record<string, string>;
  images: Array<{ widget: string; kind: string; width: number; height: number }>;
  mermaid: Record<string, { nodes: number; edges: number; text: string; actors: string[]; messages: string[]; notes: string[] }>;
}

describe("widgets in a real browser (Debian chromium, headless)", () => {
  let context: BrowserContext | null = null;
  let profile = "";
  let server: { url: string; close(): Promise<void> } | null = null;
  let loading: Promise<PageResult> | null = null;

  // Loaded once, by whichever test runs first; every test awaits it, so a missing browser fails each test
  // (with the install hint) instead of skipping them.
  const page = () => (loading ??= load());

  async function load(): Promise<PageResult> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium; install it with \`apt-get install -y chromium\``);
    }
    const widgets: PageWidget[] = [
      { name: "tree", bundle: treeDiagram(shopAfter()).bundle },
      { name: "diff", bundle: treeDiff(shopBefore(), shopAfter()).bundle },
      { name: "sequence", bundle: sequenceDiagram(shopEvents()).bundle },
      { name: "restarts", bundle: restartsChart(shopEvents(), { limits: shopBefore() }).bundle },
      { name: "table", bundle: processTable(shopProcesses()).bundle },
    ];
    server = await servePage(widgets);
    profile = mkdtempSync(join(tmpdir(), "otp-lab-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1600, height: 1000 },
    });
    const tab = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    tab.on("pageerror", (e) => consoleErrors.push(String(e)));
    await tab.goto(server.url);
    await tab.waitForFunction(() => (window as unknown as { __done?: unknown }).__done, undefined, { timeout: 60_000 });
    const result: PageResult = await tab.evaluate(() => {
      const done = (window as unknown as { __done: { errors: string[]; parsed: Record<string, string> } }).__done;
      const images = [...document.querySelectorAll<HTMLImageElement>("img[data-widget]")].map((img) => ({
        widget: img.dataset.widget!, kind: img.dataset.kind!, width: img.naturalWidth, height: img.naturalHeight,
      }));
      const mermaid: Record<string, unknown> = {};
      for (const el of document.querySelectorAll<HTMLElement>(".mermaid-out")) {
        const svg = el.querySelector("svg");
        mermaid[el.dataset.widget!] = {
          nodes: svg ? svg.querySelectorAll("g.node").length : 0,
          edges: svg ? svg.querySelectorAll("path.flowchart-link, .edgePaths path").length : 0,
          text: svg ? svg.textContent : "",
          actors: svg ? [...new Set([...svg.querySelectorAll("text.actor")].map((t) => t.textContent))] : [],
          messages: svg ? [...svg.querySelectorAll("text.messageText")].map((t) => t.textContent) : [],
          notes: svg ? [...svg.querySelectorAll("text.noteText")].map((t) => t.textContent) : [],
        };
      }
      return { errors: done.errors, parsed: done.parsed, images, mermaid } as never;
    });
    result.errors.push(...consoleErrors);
    mkdirSync(dirname(ARTIFACT), { recursive: true });
    await tab.screenshot({ path: ARTIFACT, fullPage: true });
    return result;
  }

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("renders the page without errors", async () => {
    expect((await page()).errors).toEqual([]);
  }, 120_000);

  it("parses every SVG we draw as image/svg+xml", async () => {
    expect((await page()).parsed).toEqual({ tree: "svg", diff: "svg", sequence: "svg", restarts: "svg", table: "svg" });
  }, 120_000);

  it("decodes every SVG and PNG as an image of the right size", async () => {
    const result = await page();
    expect(result.images.length).toBe(10);
    for (const img of result.images) {
      expect(img.width, `${img.widget} ${img.kind}`).toBeGreaterThan(200);
      expect(img.height, `${img.widget} ${img.kind}`).toBeGreaterThan(100);
    }
    const size = (widget: string, kind: string) => result.images.find((i) => i.widget === widget && i.kind === kind)!;
    expect(size("tree", "png")).toEqual({ ...size("tree", "svg"), kind: "png" });
  }, 120_000);

  it("renders our Mermaid tree with strict security: every node, with labels intact", async () => {
    const result = await page();
    const tree = result.mermaid.tree!;
    expect(tree.nodes).toBe(6);
    expect(tree.edges).toBe(5);
    for (const label of ["Shop.Sup", "supervisor · one_for_one · limit 3 in 5s", "<0.95.0> · running", "no pid · restarting",
      "last exit {:shutdown, :timeout}", 'restarts 2 · last exit %RuntimeError{message: "<boom> & \\"…', "Shop.Cache v2 · old code"]) {
      expect(tree.text).toContain(label);
    }
    // Entity codes were decoded by Mermaid, not shown raw.
    expect(tree.text).not.toMatch(/#(lt|gt|quot|amp|35|59);/);
  }, 120_000);

  it("renders the diff with its removed node and the sequence diagram with user text intact", async () => {
    const result = await page();
    expect(result.mermaid.diff!.nodes).toBe(7);
    expect(result.mermaid.diff!.text).toContain("REMOVED (was <0.85.0>)");
    const seq = result.mermaid.sequence!;
    expect(seq.actors).toEqual(expect.arrayContaining(["outside", "Shop.Sup <0.80.0>", "cache <0.95.0>", "code server"]));
    expect(seq.messages).toContain('120 ms · {:charge, "<card>"; 42 & more #tag}');
    expect(seq.messages).toContain("200 ms · EXIT %RuntimeError{message: \"boom\"}");
    expect(seq.notes).toContain("3,000 ms · SUPERVISOR REPORT shutdown gateway reached_max_restart_intensity");
    expect(seq.messages.length + seq.notes.length).toBe(shopEvents().length);
  }, 120_000);
});
