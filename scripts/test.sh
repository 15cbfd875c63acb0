#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian-like machine, then runs lint, types and tests.
# Usage: bash scripts/test.sh [pytest args…]      (CI: .ci/run calls this)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

step() { printf '\n==> %s\n' "$*"; }

# --- system packages: Chromium for browser tests, PostgreSQL where none answers, npm for htmx ------
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
apt_pkgs=()
[ -x /usr/bin/chromium ] || apt_pkgs+=(chromium fonts-noto-color-emoji)
# A Chinese font, so the Chinese pages' screenshots show text rather than empty boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || apt_pkgs+=(fonts-wqy-microhei)
command -v npm >/dev/null || apt_pkgs+=(npm)
# nginx: tests/test_deployment.py tries the site of docs/deployment.md in front of the arena.
[ -x /usr/sbin/nginx ] || apt_pkgs+=(nginx)
pg_up || command -v pg_ctlcluster >/dev/null || apt_pkgs+=(postgresql)
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_pkgs+=(python3-venv)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  step "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi
if ! pg_up; then
  step "starting PostgreSQL"
  cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  # Trust local TCP connections for the test role, as on the CI machines.
  $SUDO -u postgres psql -qc "ALTER USER postgres PASSWORD NULL" >/dev/null 2>&1 || true
fi
pg_up && export ARENA_TEST_REQUIRE_PG=1

# --- Python environment ----------------------------------------------------------------------------
step "pip install -e .[test]"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

step "htmx local copy"
bash scripts/vendor_htmx.sh

if [ "${ARENA_SKIP_LOCAL_MODELS:-0}" != "1" ]; then
  step "local llama.cpp models (arena demo, real-model test)"
  bash scripts/install_local.sh .venv/bin/python
  export ARENA_TEST_REQUIRE_REAL_MODEL=1
fi

step "ruff"
.venv/bin/ruff check arena ratings tests benchmarks
.venv/bin/ruff format --check arena ratings tests benchmarks
step "mypy"
.venv/bin/mypy
step "import-linter (the architecture in pyproject.toml)"
.venv/bin/lint-imports

step "pytest"
.venv/bin/python -m pytest "$@"
