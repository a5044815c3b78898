#!/usr/bin/env bash
# Regenerate the interface translations from the code, keeping the translations already made.
#
#   bash packaging/update_translations.sh
#
# 1. pyside6-lupdate reads every tr(), translate() and QT_TRANSLATE_NOOP() in app/**.py into
#    resources/translations/parcero_es.ts (new messages come in "unfinished", changed ones keep
#    their old translation as a hint, removed ones are dropped) and the plural forms only into
#    parcero_en.ts (English needs its own "1 utterance" / "2 utterances").
# 2. Translate the unfinished messages (pyside6-linguist resources/translations/parcero_es.ts,
#    or edit the XML), then run this script again so that
# 3. pyside6-lrelease compiles both to the .qm files the application loads (app/i18n.py).
#
# tests/app/test_i18n.py fails while a message is untranslated or a .qm is older than its .ts.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${PYSIDE6_BIN:-.venv/bin}"
lupdate="$bin/pyside6-lupdate"
lrelease="$bin/pyside6-lrelease"
[ -x "$lupdate" ] || lupdate="$(command -v pyside6-lupdate)"
[ -x "$lrelease" ] || lrelease="$(command -v pyside6-lrelease)"
out=resources/translations
mkdir -p "$out"

mapfile -t sources < <(find app -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)
# -locations none: the .ts changes only when messages do, not whenever code moves.
"$lupdate" -locations none -no-obsolete -source-language en -target-language es "${sources[@]}" -ts "$out/parcero_es.ts"
"$lupdate" -locations none -no-obsolete -pluralonly -source-language en -target-language en "${sources[@]}" \
    -ts "$out/parcero_en.ts"
"$lrelease" "$out/parcero_es.ts" "$out/parcero_en.ts"
