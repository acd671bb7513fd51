// What a build of lab/ is made from: the app's own sources and the exact packages installed (the lockfile).
// ensure.mjs rebuilds when this changes; build.mjs records it in build/stamp.json.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCES = ['package.json', 'package-lock.json', 'index.js', 'build.mjs', 'rspack.config.mjs', 'stamp.mjs'];

export function sourceStamp() {
  const hash = createHash('sha256');
  for (const f of SOURCES) hash.update(f).update('\0').update(readFileSync(path.join(HERE, f))).update('\0');
  return hash.digest('hex');
}
