// Makes site/ (the static site, build-site.mjs) ready for `npm test`: lab/'s packages (ensure.mjs) and a site
// built from the current sources. The build (about a minute on 2 cores) is redone only when what it is made of
// changes: lab/'s sources and lockfile, the site's own files, the built kernel, runtime and widgets (dist/), and
// the lessons. Arguments go to build-site.mjs (and are part of the stamp).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES } from './stamp.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const SITE = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, 'site');
const STAMP = path.join(SITE, 'stamp.json');

function run(cmd, cmdArgs, what) {
  const r = spawnSync(cmd, cmdArgs, { cwd: HERE, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`otp-lab site: ${what} failed (${cmd} ${cmdArgs.join(' ')} exited ${r.status ?? r.signal})`);
}

function files(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap(f => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? (f === 'build' || f === 'node_modules' ? [] : files(p, keep)) : keep(f) ? [p] : [];
  });
}

function stamp() {
  const hash = createHash('sha256').update(JSON.stringify(args));
  const inputs = [
    ...SOURCES.map(f => path.join(HERE, f)),
    path.join(HERE, 'build-site.mjs'),
    path.join(HERE, 'ensure-site.mjs'),
    ...files(path.join(HERE, 'site'), f => f.endsWith('.js')),
    ...['runtime', 'widgets', 'kernel'].flatMap(d => files(path.join(ROOT, 'dist', d), f => f.endsWith('.js'))),
    ...files(path.join(ROOT, 'notebooks'), f => f.endsWith('.ipynb') || f.endsWith('.md')),
  ];
  for (const f of inputs) hash.update(path.relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return hash.digest('hex');
}

run(process.execPath, ['ensure.mjs'], 'preparing lab/');
const want = stamp();
let have = null;
try {
  have = JSON.parse(readFileSync(STAMP, 'utf8')).sources;
} catch {
  // no site yet
}
if (have !== want || !existsSync(path.join(SITE, 'lab', 'index.html'))) {
  console.log('otp-lab setup: building the static site (site/)');
  run(process.execPath, ['build-site.mjs', ...args], 'the site build');
  writeFileSync(STAMP, JSON.stringify({ sources: want }, null, 1) + '\n');
}
