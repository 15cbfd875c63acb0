#!/usr/bin/env bash
# Puts the pinned htmx and htmx-ext-sse into web/static/vendor (for offline sites and tests), from the
# npm registry with npm itself, and checks each file against the SRI hash the pages pin.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
dest=web/static/vendor
mkdir -p "$dest"
if "$PY" -c "from arena.web.assets import local_available, VENDOR; import sys; sys.exit(0 if local_available() else 1)" 2>/dev/null; then
  "$PY" -m arena.web.assets verify && exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed to fetch htmx (apt-get install npm), or set htmx_source = \"cdn\"" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -m arena.web.assets specs | while read -r pkg version path name; do
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null 2>&1)
  tarball=$(ls "$tmp"/"$pkg"-"$version".tgz)
  tar -xzf "$tarball" -C "$tmp" "package/$path"
  mv "$tmp/package/$path" "$dest/$name"
  rm -rf "$tmp/package" "$tarball"
done
"$PY" -m arena.web.assets verify
