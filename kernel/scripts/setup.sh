#!/usr/bin/env bash
# Brings a checkout to a runnable state: npm dependencies, the TypeScript build, and the Debian packages named
# on the command line (installed with apt-get when running as root, otherwise printed with the exact command).
# Used by both README commands (`npm start`, `npm test`), so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "otp-lab setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# Incremental enough for every run: tsc only rewrites what changed.
npx --no-install tsc -p tsconfig.json
chmod +x dist/kernel/cli.js

missing=()
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "otp-lab setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "otp-lab setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
