#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm packages, build, Debian's Jupyter clients and Chromium,
# bubblewrap for the grader's OS sandbox, and Debian's jupyter_server for OTP Lab's JupyterLab), builds the
# JupyterLab app (lab/), then runs every test with vitest. End-to-end tests drive real Jupyter clients and
# JupyterLab in Chromium, and the grader refuses to grade without its sandbox, so the packages are not optional.
set -euo pipefail
cd "$(dirname "$0")/.."
bash kernel/scripts/setup.sh python3-jupyter-client jupyter-client python3-nbclient jupyter-nbconvert python3-jupyter-kernel-test jupyter-notebook python3-jupyter-server python3-jupyterlab-server chromium fonts-dejavu-core bubblewrap
node lab/ensure.mjs
node lab/ensure-site.mjs
exec npx --no-install vitest run "$@"
