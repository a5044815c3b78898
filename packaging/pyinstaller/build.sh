#!/usr/bin/env bash
# Build Parcero as one folder with PyInstaller: dist/parcero/parcero (run it directly; no Python needed).
#
#   bash packaging/pyinstaller/build.sh            # after `make test` or `make run` created .venv
#   DIST=/tmp/dist WORK=/tmp/work bash packaging/pyinstaller/build.sh
#
# PyInstaller is not a dependency of Parcero: it is installed into build/pyinstaller-tool
# (once) and put on PYTHONPATH for the build only. The bundle holds the torch of .venv;
# see parcero.spec for its size.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
tool=${PYINSTALLER_TARGET:-$repo/build/pyinstaller-tool}
dist=${DIST:-$repo/dist}
work=${WORK:-$repo/build/pyinstaller}

say() { printf 'parcero: %s\n' "$*" >&2; }

if [ ! -x "$python" ]; then
    say "no Python at $python: run \`make test\` first, or set PYTHON=/path/to/python"
    exit 1
fi
if ! PYTHONPATH=$tool "$python" -c "import PyInstaller" 2>/dev/null; then
    say "installing PyInstaller into $tool"
    "$python" -m pip install --quiet --target "$tool" "pyinstaller>=6.10,<7"
fi

start=$(date +%s)
PYTHONPATH=$tool "$python" -m PyInstaller --noconfirm --clean \
    --distpath "$dist" --workpath "$work" "$repo/packaging/pyinstaller/parcero.spec"
say "built $dist/parcero in $(($(date +%s) - start)) s; size: $(du -sh "$dist/parcero" | cut -f1)"
"$dist/parcero/parcero" --version
