// Makes lab/ ready to serve: installs its npm packages (`npm ci` from lab/package-lock.json) when they are
// missing or the lockfile changed, and builds lab/build (build.mjs) when it is missing or was made from other
// sources (stamp.mjs). Called by `npm start` and `npm test` (and the browser tests), so the two README commands
// are all a fresh machine needs. Runs are serialized with a lock directory: a test run and `npm start` may
// start together.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from './stamp.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOCK = path.join(HERE, '.ensure.lock');

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: HERE, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`otp-lab lab: ${what} failed (${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}); run it in lab/ to see why`);
  }
}

const installed = path.join(HERE, 'node_modules', '.package-lock.json');
const needsInstall = () => !existsSync(installed) || statSync(path.join(HERE, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
function needsBuild() {
  try {
    return JSON.parse(readFileSync(path.join(HERE, 'build', 'stamp.json'), 'utf8')).sources !== sourceStamp() || !existsSync(path.join(HERE, 'build', 'bundle.js'));
  } catch {
    return true;
  }
}

async function lock() {
  for (const start = Date.now(); ; ) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      // A lock older than any install and build is left over from a run that was killed.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 15 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() - start > 20 * 60_000) throw new Error(`otp-lab lab: ${LOCK} is held for 20 minutes; if no install or build is running, remove it`);
      await new Promise(r => setTimeout(r, 500));
    }
  }
}

await lock();
try {
  if (needsInstall()) {
    console.log('otp-lab setup: installing the JupyterLab app\'s npm packages (npm ci in lab/)');
    // No package the app uses needs an install script; skipping them keeps the install the same everywhere.
    run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], 'npm ci');
  }
  if (needsBuild()) {
    console.log('otp-lab setup: building the JupyterLab app (lab/build)');
    run(process.execPath, ['build.mjs'], 'the JupyterLab build');
  }
} finally {
  rmSync(LOCK, { recursive: true, force: true });
}
