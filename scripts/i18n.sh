#!/usr/bin/env bash
# Extract the pages' messages and bring every catalogue up to date with them.
#   bash scripts/i18n.sh            extract into arena/locale/messages.pot, update the .po files
#   bash scripts/i18n.sh init xx    start a catalogue for a new language (gettext name, e.g. ja)
# Translators edit arena/locale/<lang>/LC_MESSAGES/messages.po; the arena compiles it in memory
# when it starts, so there is no compile step. tests/test_i18n.py fails while a message has no
# Chinese translation.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
[ -x "$PYBABEL" ] || PYBABEL=pybabel
POT=arena/locale/messages.pot

"$PYBABEL" -q extract -F babel.cfg --no-location --sort-output \
  --add-comments=TRANSLATORS: --project=arena --version=0.1.0 -o "$POT" . >/dev/null

if [ "${1:-}" = "init" ]; then
  "$PYBABEL" -q init -i "$POT" -d arena/locale -l "$2"
  exit 0
fi
# --ignore-obsolete: a message that left the code leaves the catalogue too (git keeps its history).
"$PYBABEL" -q update -i "$POT" -d arena/locale --no-fuzzy-matching --ignore-obsolete
# The arena only reads the catalogues that exist; say which messages still need a translation.
for po in arena/locale/*/LC_MESSAGES/messages.po; do
  lang=$(basename "$(dirname "$(dirname "$po")")")
  [ "$lang" = en ] && continue
  missing=$(.venv/bin/python - "$po" <<'PY'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as fp:
    catalog = read_po(fp)
print(sum(1 for m in catalog if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))))
PY
)
  echo "$lang: $missing message(s) without a translation"
done
