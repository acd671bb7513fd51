#!/usr/bin/env node
/**
 * `node bench/site.mjs [--lesson 03-one-for-one.ipynb] [--reps 3]`: the static site (site/, `npm run build:site`)
 * in headless Chromium, side by side with the Node kernel:
 *   - cold load: a fresh browser profile opens the site until the otp-lab kernel answers kernel_info; bytes the
 *     page and its worker fetched (uncompressed: `otp-lab site serve` does not compress);
 *   - first cell: `1 + 1` on that kernel;
 *   - a lesson's cells run one after the other on a fresh browser kernel ("Run All"), vs `otp-lab run` of the same
 *     lesson (a fresh Node kernel, type checking on, as a learner's `npm start` has it).
 * Medians of --reps runs, as a Markdown table on stdout. `npm run bench` runs it after its groups (`--only site`).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const lesson = opt('--lesson', '03-one-for-one.ipynb');
const reps = Number(opt('--reps', 3));
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(path.join(ROOT, 'site', 'lab', 'index.html'))) throw new Error('site/ is missing: run `npm run build:site` first');
const { createSiteServer } = await import(path.join(ROOT, 'dist', 'kernel', 'site-command.js'));
const server = createSiteServer(path.join(ROOT, 'site'));
await new Promise(r => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/lab/index.html?expose-app`;
const nb = JSON.parse(readFileSync(path.join(ROOT, 'notebooks', lesson), 'utf8'));
const cells = nb.cells.filter(c => c.cell_type === 'code').map(c => (Array.isArray(c.source) ? c.source.join('') : c.source));

const rows = { load: [], bytes: [], gzip: [], first: [], lesson: [], node: [] };
for (let i = 0; i < reps; i++) {
  const profile = mkdtempSync(path.join(tmpdir(), 'otp-lab-bench-site-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  let bytes = 0;
  let gzip = 0;
  context.on('response', async r => {
    try {
      const body = await r.body();
      bytes += body.length;
      // What a host that compresses (GitHub Pages, Netlify, nginx with gzip on) would send.
      gzip += gzipSync(body).length;
    } catch {
      // redirects and aborted requests have no body
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.jupyterapp, undefined, { timeout: 120_000 });
  const r = await page.evaluate(async cells => {
    await window.jupyterapp.restored;
    const kernel = await window.jupyterapp.serviceManager.kernels.startNew({ name: 'otp-lab' });
    await kernel.info;
    const ready = performance.now();
    await kernel.requestExecute({ code: '1 + 1' }).done;
    const first = performance.now() - ready;
    const fresh = await window.jupyterapp.serviceManager.kernels.startNew({ name: 'otp-lab' });
    await fresh.info;
    const t = performance.now();
    for (const code of cells) await fresh.requestExecute({ code }).done;
    return { ready, first, lesson: performance.now() - t };
  }, cells);
  rows.load.push(Date.now() - t0 - r.first - r.lesson);
  rows.bytes.push(bytes);
  rows.gzip.push(gzip);
  rows.first.push(r.first);
  rows.lesson.push(r.lesson);
  await context.close();
  rmSync(profile, { recursive: true, force: true });

  const copy = path.join(mkdtempSync(path.join(tmpdir(), 'otp-lab-bench-node-')), lesson);
  cpSync(path.join(ROOT, 'notebooks', lesson), copy);
  const n0 = Date.now();
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'kernel', 'cli.js'), 'run', copy], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`otp-lab run failed: ${run.stderr}`);
  rows.node.push(Date.now() - n0);
  rmSync(path.dirname(copy), { recursive: true, force: true });
}
server.close();

const ms = x => `${Math.round(median(x))} ms`;
console.log(`| site (headless Chromium), median of ${reps} | value |`);
console.log('|---|---|');
console.log(`| cold load of the site to a ready otp-lab kernel (new profile) | ${ms(rows.load)} |`);
console.log(`| bytes fetched by the cold load and the first cell: uncompressed / gzipped | ${(median(rows.bytes) / 1e6).toFixed(1)} MB / ${(median(rows.gzip) / 1e6).toFixed(1)} MB |`);
console.log(`| first cell (\`1 + 1\`) after the kernel is ready | ${ms(rows.first)} |`);
console.log(`| ${lesson}: every cell in order, fresh browser kernel | ${ms(rows.lesson)} |`);
console.log(`| ${lesson}: \`otp-lab run\` (fresh Node kernel, start-up included) | ${ms(rows.node)} |`);
