#!/usr/bin/env bash
# `npm start`: installs OTP Lab's kernelspec for this user and serves the lessons (notebooks/) in OTP Lab's
# JupyterLab 4 (lab/: built from JupyterLab's npm packages, served by Debian's jupyter_server).
#   npm start -- --no-browser --port 8899     every other argument goes to the Jupyter server
#   npm start -- --expose-app-in-browser      window.jupyterapp for UI tests (as `jupyter lab` has it)
#   npm start -- --classic                    Debian's classic Notebook 6 instead (no Mermaid or Vega rendering:
#                                             it shows the diagrams' and charts' SVG and PNG)
# OTP_LAB_NO_SETUP=1 skips the install and build steps, for a caller that has just run them (`npm test` runs
# this script from a test: rebuilding dist/ there would rewrite files other tests' kernels are loading).
set -euo pipefail
cd "$(dirname "$0")/../.."

classic=0
args=()
for a in "$@"; do
  if [ "$a" = --classic ]; then classic=1; else args+=("$a"); fi
done

if [ "${OTP_LAB_NO_SETUP:-}" != 1 ]; then
  if [ $classic = 1 ]; then
    bash kernel/scripts/setup.sh jupyter-notebook python3-jupyter-client fonts-dejavu-core
  else
    bash kernel/scripts/setup.sh python3-jupyter-server python3-jupyterlab-server python3-jupyter-client fonts-dejavu-core
    node lab/ensure.mjs
  fi
fi
node dist/kernel/cli.js install --user

# Open on the lessons unless told where.
dir=(--notebook-dir=notebooks)
for a in ${args[@]+"${args[@]}"}; do
  case "$a" in --notebook-dir*|--ServerApp.root_dir*|--NotebookApp.notebook_dir*) dir=() ;; esac
done
# Jupyter refuses to run as root unless told; a root shell is common on fresh machines and containers.
[ "$(id -u)" = 0 ] && dir+=(--allow-root)

if [ $classic = 1 ]; then
  exec jupyter notebook "${dir[@]}" ${args[@]+"${args[@]}"}
fi
# Debian's python3, where apt put jupyter_server: a python3 earlier on PATH (pyenv, a venv) may lack it.
exec /usr/bin/python3 lab/server.py "${dir[@]}" ${args[@]+"${args[@]}"}
