/**
 * `otp-lab site serve [--dir DIR] [--port N] [--host H]`: serves the static site (`npm run build:site` writes it to
 * site/) on 127.0.0.1 for a look, with the headers that make the page cross-origin isolated
 * (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`): then the browser
 * kernel gets a SharedArrayBuffer and an interrupt stops a cell without restarting the kernel. Any static host
 * serves the same folder; without those headers everything works except that an interrupt restarts the kernel.
 * `createSiteServer` is what the tests use.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".ipynb": "application/x-ipynb+json; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

/** The headers every response gets: cross-origin isolation, and no caching (a rebuilt site is seen at once). */
export const SITE_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-cache",
};

export function defaultSiteDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "site");
}

export function createSiteServer(dir: string, options: { isolate?: boolean } = {}): Server {
  const root = path.resolve(dir);
  return createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    let file = path.join(root, path.normalize(url));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!existsSync(file)) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${url}\n`);
      return;
    }
    const headers: Record<string, string> = { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" };
    if (options.isolate !== false) Object.assign(headers, SITE_HEADERS);
    else headers["cache-control"] = "no-cache";
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : readFileSync(file));
  });
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "serve") {
    console.error("usage: otp-lab site serve [--dir DIR] [--port N] [--host H] [--no-isolation]   (build the site first: npm run build:site)");
    return 2;
  }
  const opt = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const dir = path.resolve(opt("--dir") ?? defaultSiteDir());
  if (!existsSync(path.join(dir, "lab", "index.html"))) {
    console.error(`otp-lab site: ${dir} holds no site (no lab/index.html): build it with \`npm run build:site\`, or pass --dir`);
    return 1;
  }
  const host = opt("--host") ?? "127.0.0.1";
  const port = Number(opt("--port") ?? 8000);
  const server = createSiteServer(dir, { isolate: !rest.includes("--no-isolation") });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address() as { port: number };
  console.log(`otp-lab site: serving ${dir} on http://${host}:${addr.port}/lab/index.html (Ctrl-C stops)`);
  await new Promise<void>((resolve) => process.once("SIGINT", () => server.close(() => resolve())));
  return 0;
}
