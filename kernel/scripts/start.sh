#!/usr/bin/env bash
# `npm start`: installs OTP Lab's kernelspec for this user and opens Jupyter on the lessons.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash kernel/scripts/setup.sh jupyter-notebook python3-jupyter-client fonts-dejavu-core || {
  echo "OTP Lab needs Jupyter. On Debian/Ubuntu: sudo apt-get install -y jupyter-notebook (or: pip install jupyterlab)" >&2
  exit 1
}
node dist/kernel/cli.js install --user
# Jupyter refuses to run as root unless told; a root shell is common on fresh machines and containers.
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
if command -v jupyter-lab >/dev/null 2>&1; then
  exec jupyter lab --notebook-dir=notebooks "${extra[@]}" "$@"
elif command -v jupyter-notebook >/dev/null 2>&1; then
  exec jupyter notebook --notebook-dir=notebooks "${extra[@]}" "$@"
else
  echo "No Jupyter front end found. Install one: sudo apt-get install -y jupyter-notebook (or: pip install jupyterlab)" >&2
  exit 1
fi
