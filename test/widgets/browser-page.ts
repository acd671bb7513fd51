/**
 * The browser test page: our SVGs and PNGs as images (the way JupyterLab and nbconvert show them), our SVG
 * inlined (the way classic Notebook does), and our Mermaid sources rendered by the real `mermaid` package
 * with `securityLevel: 'strict'` (the way JupyterLab's Mermaid renderer does). Served from localhost by a tiny
 * HTTP server; files come from memory or from node_modules/mermaid.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface PageWidget {
  name: string;
  bundle: Record<string, unknown>;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON that can sit inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export function pageHtml(widgets: PageWidget[]): string {
  const sections = widgets.map((w) => {
    const parts = [`<h2>${escapeHtml(w.name)}</h2>`];
    if (w.bundle["image/svg+xml"]) parts.push(`<figure><figcaption>SVG as image</figcaption><img data-kind="svg" data-widget="${escapeHtml(w.name)}" src="/files/${encodeURIComponent(w.name)}.svg"></figure>`);
    if (w.bundle["image/png"]) parts.push(`<figure><figcaption>PNG</figcaption><img data-kind="png" data-widget="${escapeHtml(w.name)}" src="/files/${encodeURIComponent(w.name)}.png"></figure>`);
    if (w.bundle["text/vnd.mermaid"]) parts.push(`<figure class="wide"><figcaption>Mermaid (strict)</figcaption><div class="mermaid-out" data-widget="${escapeHtml(w.name)}"></div></figure>`);
    if (w.bundle["text/html"]) parts.push(`<figure><figcaption>HTML</figcaption><div class="html-out">${String(w.bundle["text/html"])}</div></figure>`);
    return `<section>${parts.join("\n")}</section>`;
  });
  const mermaidSources = Object.fromEntries(widgets.filter((w) => w.bundle["text/vnd.mermaid"]).map((w) => [w.name, w.bundle["text/vnd.mermaid"]]));
  const inlineSvg = Object.fromEntries(widgets.filter((w) => w.bundle["image/svg+xml"]).map((w) => [w.name, w.bundle["image/svg+xml"]]));
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>OTP Lab widgets</title>
<style>body{font-family:sans-serif;margin:16px;background:#fafafa} figure{margin:8px 0;background:#fff;border:1px solid #ddd;padding:8px;display:inline-block;vertical-align:top;max-width:1500px} img{max-width:1480px} h2{margin:16px 0 4px} figure.wide{display:block;width:1480px}</style>
<script src="/mermaid.min.js"></script></head>
<body><h1>OTP Lab widgets in a real browser</h1>
${sections.join("\n")}
<script type="application/json" id="mermaid-sources">${scriptJson(mermaidSources)}</script>
<script type="application/json" id="inline-svg">${scriptJson(inlineSvg)}</script>
<script>
(async () => {
  const errors = [];
  const parsed = {};
  try {
    // Our SVG must parse as XML: that is how browsers read image/svg+xml.
    const svgs = JSON.parse(document.getElementById("inline-svg").textContent);
    for (const [name, text] of Object.entries(svgs)) {
      const doc = new DOMParser().parseFromString(text, "image/svg+xml");
      const err = doc.querySelector("parsererror");
      parsed[name] = err ? "parsererror: " + err.textContent : doc.documentElement.localName;
    }
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
    const sources = JSON.parse(document.getElementById("mermaid-sources").textContent);
    let i = 0;
    for (const el of document.querySelectorAll(".mermaid-out")) {
      const name = el.dataset.widget;
      try {
        const { svg } = await mermaid.render("mermaid-" + i++, sources[name]);
        el.innerHTML = svg;
      } catch (e) {
        errors.push(name + ": " + (e && e.message ? e.message : String(e)));
      }
    }
    await Promise.all([...document.images].map((img) => img.decode().catch((e) => errors.push("image " + img.src + ": " + e))));
  } catch (e) {
    errors.push(String(e && e.stack || e));
  }
  window.__done = { errors, parsed };
})();
</script></body></html>`;
}

/** Serve the page, our files, and mermaid.min.js on 127.0.0.1 at a free port. */
export async function servePage(widgets: PageWidget[]): Promise<{ url: string; close(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const mermaidJs = readFileSync(join(dirname(require.resolve("mermaid/package.json")), "dist", "mermaid.min.js"));
  const files = new Map<string, { type: string; body: Buffer }>();
  files.set("/", { type: "text/html; charset=utf-8", body: Buffer.from(pageHtml(widgets)) });
  files.set("/mermaid.min.js", { type: "text/javascript; charset=utf-8", body: mermaidJs });
  for (const w of widgets) {
    if (w.bundle["image/svg+xml"]) files.set(`/files/${encodeURIComponent(w.name)}.svg`, { type: "image/svg+xml", body: Buffer.from(String(w.bundle["image/svg+xml"])) });
    if (w.bundle["image/png"]) files.set(`/files/${encodeURIComponent(w.name)}.png`, { type: "image/png", body: Buffer.from(String(w.bundle["image/png"]), "base64") });
  }
  const server: Server = createServer((req, res) => {
    const file = files.get((req.url ?? "/").split("?")[0]!);
    if (!file) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
