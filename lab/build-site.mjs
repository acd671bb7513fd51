// `npm run build:site`: writes OTP Lab as a static site to site/ (at the repository's root), which any static
// web server can serve: JupyterLab (JupyterLite's in-browser services: contents and settings in the browser's
// storage, kernels in Web Workers), the lessons, and the otp-lab browser kernel (kernel/browser/worker.ts).
//
//   site/index.html                 redirects to lab/index.html
//   site/lab/index.html             the app's page; its configuration is computed from its own URL, so the
//                                   site works from any folder of any host (GitHub Pages' /<repo>/ included)
//   site/build/                     the bundle (app + worker), settings schemas (schemas/all.json), themes
//   site/files/, site/api/contents/ the lessons and JupyterLite's index of them (all.json)
//   site/_headers                   COOP/COEP for hosts that read it (Netlify, Cloudflare Pages)
//
// Usage: node lab/build-site.mjs [--source] [--out DIR]
//   --source  the lessons' source versions (solutions and hidden tests); default: the student versions, as
//             `otp-lab assign` writes them.
// Needs dist/ (`npm run build`) and lab/node_modules (`npm ci` in lab/); ensure-site.mjs provides both.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyAssets, writeEntries } from './build.mjs';
import { appConfig, runRspack } from './rspack.config.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const require = createRequire(path.join(HERE, 'package.json'));
const pkg = JSON.parse(readFileSync(path.join(HERE, 'package.json'), 'utf8'));

const args = process.argv.slice(2);
const source = args.includes('--source');
const outIndex = args.indexOf('--out');
const SITE = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, 'site');
const BUILD = path.join(SITE, 'build');
const GENERATED = path.join(HERE, 'site', 'build');

const extensions = [...pkg.jupyterlab.extensions, ...pkg.jupyterlite.extensions];
const mimeExtensions = pkg.jupyterlab.mimeExtensions;
const disabled = pkg.jupyterlite.disabledExtensions;

const shim = name => path.join(HERE, 'site', 'shims', name);
/** The Node built-ins the shared kernel modules and the lessons import, as the worker gets them. */
const NODE_SHIMS = {
  'node:util': shim('util.js'),
  'node:url': shim('url.js'),
  'node:module': shim('module.js'),
  'node:fs': shim('fs.js'),
  'node:path': require.resolve('path-browserify'),
  'node:assert/strict': shim('assert-strict.js'),
  'node:assert': shim('assert.js'),
};
const ALIAS = {
  'assert$': require.resolve('assert'),
  'node-inspect-extracted': require.resolve('node-inspect-extracted'),
};
/** Modules TypeScript's compiler requires only when it runs in Node: nothing in a worker. */
const NODE_ONLY = ['fs', 'os', 'crypto', 'buffer', 'perf_hooks', 'inspector', 'source-map-support', 'child_process', 'worker_threads', 'readline', 'module'];

function checkInputs() {
  const worker = path.join(ROOT, 'dist', 'kernel', 'browser', 'worker.js');
  if (!existsSync(worker)) throw new Error('dist/kernel/browser/worker.js is missing: run `npm run build` first (npm run build:site does)');
  for (const name of [...extensions, ...mimeExtensions]) {
    if (!existsSync(path.join(HERE, 'node_modules', name))) {
      throw new Error(`${name} is not installed in lab/node_modules: run \`npm ci\` in lab/ (npm run build:site does)`);
    }
  }
}

/** JupyterLite's settings service reads every plugin's schema from one file. */
function writeSettingsIndex() {
  const all = [];
  const dir = path.join(BUILD, 'schemas');
  const walk = d => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.json') && f !== 'all.json') {
        const pkgName = path.relative(dir, d).split(path.sep).join('/');
        const orig = JSON.parse(readFileSync(path.join(d, 'package.json.orig'), 'utf8'));
        all.push({ id: `${pkgName}:${f.replace(/\.json$/, '')}`, raw: '{}', schema: JSON.parse(readFileSync(p, 'utf8')), settings: {}, version: orig.version });
      }
    }
  };
  walk(dir);
  writeFileSync(path.join(dir, 'all.json'), JSON.stringify(all));
  // No federated (prebuilt) extensions: JupyterLite asks for their settings all the same.
  writeFileSync(path.join(dir, 'all_federated.json'), '[]');
  // English only: the translator asks for the language list and the English pack.
  mkdirSync(path.join(SITE, 'api', 'translations'), { recursive: true });
  writeFileSync(path.join(SITE, 'api', 'translations', 'all.json'), JSON.stringify({ data: { en: { displayName: 'English', nativeName: 'English' } }, message: '' }));
  writeFileSync(path.join(SITE, 'api', 'translations', 'en.json'), JSON.stringify({ data: {}, message: '' }));
}

/**
 * What the language service in the worker reads, fetched when completion or help is first asked for: TypeScript's
 * libraries (ES2023 and the DOM, as the Node kernel uses without @types/node) and the declarations of the runtime,
 * the widgets and the cell API, under /otp-lab/ as if installed there.
 */
function writeTypes() {
  const files = {};
  const tsLib = path.join(ROOT, 'node_modules', 'typescript', 'lib');
  const libs = new Set();
  const addLib = name => {
    if (libs.has(name)) return;
    libs.add(name);
    const text = readFileSync(path.join(tsLib, name), 'utf8');
    files[`/otp-lab/node_modules/typescript/lib/${name}`] = text;
    for (const m of text.matchAll(/<reference lib="([^"]+)"/g)) addLib(`lib.${m[1].toLowerCase()}.d.ts`);
  };
  for (const name of ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.es2023.full.d.ts']) addLib(name);
  const dts = dir => readdirSync(dir).flatMap(f => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? dts(p) : f.endsWith('.d.ts') ? [p] : [];
  });
  for (const f of [...dts(path.join(ROOT, 'dist', 'runtime')), ...dts(path.join(ROOT, 'dist', 'widgets')), ...dts(path.join(ROOT, 'dist', 'kernel')).filter(f => path.dirname(f) === path.join(ROOT, 'dist', 'kernel'))]) {
    files[`/otp-lab/${path.relative(ROOT, f).split(path.sep).join('/')}`] = readFileSync(f, 'utf8');
  }
  files['/otp-lab/package.json'] = JSON.stringify({ name: 'otp-lab', type: 'module' });
  writeFileSync(path.join(BUILD, 'otp-lab-types.json'), JSON.stringify(files));
}

function writeLessons() {
  const files = path.join(SITE, 'files');
  mkdirSync(files, { recursive: true });
  const notebooks = readdirSync(path.join(ROOT, 'notebooks')).filter(f => /^\d\d-.*\.ipynb$/.test(f)).sort();
  if (source) {
    for (const f of notebooks) cpSync(path.join(ROOT, 'notebooks', f), path.join(files, f));
  } else {
    // The student versions, as `otp-lab assign` writes them for a class.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'kernel', 'cli.js'), 'assign', path.join(ROOT, 'notebooks'), files], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`otp-lab assign failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  for (const f of ['otp-semantics.md']) cpSync(path.join(ROOT, 'notebooks', f), path.join(files, f));
  const now = new Date().toISOString();
  const content = readdirSync(files)
    .sort()
    .map(name => {
      const text = readFileSync(path.join(files, name));
      const nb = name.endsWith('.ipynb');
      return {
        name,
        path: name,
        type: nb ? 'notebook' : 'file',
        created: now,
        last_modified: now,
        mimetype: nb ? 'application/x-ipynb+json' : 'text/markdown',
        format: nb ? 'json' : 'text',
        size: text.length,
        writable: true,
        content: null,
      };
    });
  mkdirSync(path.join(SITE, 'api', 'contents'), { recursive: true });
  writeFileSync(
    path.join(SITE, 'api', 'contents', 'all.json'),
    JSON.stringify({ name: '', path: '', type: 'directory', created: now, last_modified: now, format: 'json', mimetype: null, size: null, writable: true, content }),
  );
  return content.filter(c => c.type === 'notebook').length;
}

function writePages() {
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const config = {
    appName: 'OTP Lab',
    appVersion: version,
    appUrl: '/lab',
    defaultKernelName: 'otp-lab',
    contentsAllJsonFile: 'all.json',
    disabledExtensions: JSON.stringify(disabled),
    federated_extensions: [],
    mode: 'multiple-document',
    collaborative: false,
    notebookStartsKernel: true,
  };
  mkdirSync(path.join(SITE, 'lab'), { recursive: true });
  // The URLs are made absolute from the page's own address, so the folder can be served from anywhere.
  writeFileSync(
    path.join(SITE, 'lab', 'index.html'),
    `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OTP Lab</title>
<script>
(function () {
  var base = new URL('..', window.location.href).href;
  var config = ${JSON.stringify(config)};
  config.baseUrl = base;
  config.fullStaticUrl = base + 'build';
  config.settingsUrl = base + 'build/schemas';
  config.themesUrl = 'build/themes'; // joined with baseUrl by the theme manager
  config.fullLabextensionsUrl = base + 'extensions';
  config.exposeAppInBrowser = new URLSearchParams(window.location.search).has('expose-app') ? 'true' : 'false';
  var el = document.createElement('script');
  el.id = 'jupyter-config-data';
  el.type = 'application/json';
  el.textContent = JSON.stringify(config);
  document.head.appendChild(el);
})();
</script>
<script defer src="../build/bundle.js"></script>
</head>
<body class="jp-ThemedContainer"></body>
</html>
`,
  );
  writeFileSync(path.join(SITE, 'index.html'), '<!doctype html><meta charset="utf-8"><title>OTP Lab</title><meta http-equiv="refresh" content="0; url=lab/index.html"><a href="lab/index.html">OTP Lab</a>\n');
  // Hosts that read a _headers file (Netlify, Cloudflare Pages) make the site cross-origin isolated with it.
  writeFileSync(path.join(SITE, '_headers'), '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n');
  writeFileSync(path.join(SITE, '.nojekyll'), '');
  const { LOGO_SVG } = { LOGO_SVG: readFileSync(path.join(ROOT, 'kernel', 'logo.ts'), 'utf8').match(/LOGO_SVG = `([\s\S]*?)`/)[1] };
  writeFileSync(path.join(BUILD, 'otp-lab-logo.svg'), LOGO_SVG);
}

const t0 = Date.now();
checkInputs();
rmSync(SITE, { recursive: true, force: true });
rmSync(GENERATED, { recursive: true, force: true });
mkdirSync(BUILD, { recursive: true });
mkdirSync(GENERATED, { recursive: true });
writeEntries(GENERATED, extensions, mimeExtensions, 'lab/build-site.mjs from lab/package.json');
copyAssets(BUILD, extensions, mimeExtensions);
writeSettingsIndex();
await runRspack(
  appConfig({
    entry: './site/index.js',
    output: BUILD,
    alias: ALIAS,
    fallback: Object.fromEntries(NODE_ONLY.map(m => [m, false])),
    // The site is fetched over networks: minified, it loads several times faster.
    minimize: true,
    // The kernel's modules compute their own folder (`new URL(".", import.meta.url)`) to hide their frames from
    // tracebacks; that is a value, not an asset to bundle.
    plugins: [
      new (require('@rspack/core').rspack.NormalModuleReplacementPlugin)(/^node:/, resource => {
        const to = NODE_SHIMS[resource.request];
        if (!to) throw new Error(`the browser kernel imports ${resource.request}, which has no shim in lab/site/shims/: add one or drop the import`);
        resource.request = to;
      }),
    ],
    rules: [{ test: /[\\/]dist[\\/]/, parser: { url: false } }],
  }),
);
writeTypes();
const lessons = writeLessons();
writePages();
console.log(`otp-lab site build: ${path.relative(process.cwd(), SITE) || '.'} written (${lessons} lessons, ${source ? 'source' : 'student'} versions) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
