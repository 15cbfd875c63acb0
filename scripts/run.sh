#!/usr/bin/env bash
# Installs the arena and runs it on its embedded defaults (SQLite file, configs/models.toml).
# With at least two usable models configured it runs `arena serve`; with none (no provider keys)
# it installs two small local models and runs `arena demo` instead.
# Usage: bash scripts/run.sh [--port N] [--host H]   (passed on to `arena serve` / `arena demo`)
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
# A local copy of htmx when npm is around (offline sites); the pages use the pinned CDN otherwise.
if command -v npm >/dev/null 2>&1; then bash scripts/vendor_htmx.sh || true; fi

if .venv/bin/python -m arena.store.endpoints usable; then
  exec .venv/bin/arena serve "$@"
fi
echo "No models with keys are configured in ${ARENA_MODELS:-configs/models.toml}:"
echo "starting the demo with two local models (the first install compiles llama.cpp: about 10 minutes, less on a fast machine)."
bash scripts/install_local.sh .venv/bin/python
exec .venv/bin/arena demo "$@"
