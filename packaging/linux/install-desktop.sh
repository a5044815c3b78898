#!/usr/bin/env bash
# Put Parcero in the desktop's application menu, for the current user only.
#
#   bash packaging/linux/install-desktop.sh [--exec COMMAND] [--uninstall]
#
# Installs under ${XDG_DATA_HOME:-~/.local/share}:
#   applications/io.github.parcero.Parcero.desktop    the launcher (Exec= the parcero found below)
#   metainfo/io.github.parcero.Parcero.metainfo.xml   AppStream data for software centres
#   icons/hicolor/<size>/apps/io.github.parcero.Parcero.{svg,png}
# The launcher runs COMMAND (default: `parcero` on PATH, else this checkout's .venv/bin/parcero).
# Nothing needs root; --uninstall removes exactly these files.
set -euo pipefail

app_id=io.github.parcero.Parcero
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
icons_src="$repo/resources/icons/hicolor"
exec_cmd=""
uninstall=no

say() { printf 'parcero: %s\n' "$*" >&2; }
usage() {
    echo "usage: bash packaging/linux/install-desktop.sh [--exec COMMAND] [--uninstall]" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --exec)
        [ $# -ge 2 ] || usage
        exec_cmd=$2
        shift 2
        ;;
    --uninstall) uninstall=yes && shift ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
done

# Every icon file, as paths relative to hicolor/ (e.g. 48x48/apps/io.github.parcero.Parcero.png).
icon_files() {
    (cd "$icons_src" && find . -path "*/apps/$app_id.*" -type f | sed 's|^\./||' | sort)
}

refresh_caches() {
    # Menus pick the launcher up without these on most desktops; they only speed things up.
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$data/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$data/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "$uninstall" = yes ]; then
    rm -f "$data/applications/$app_id.desktop" "$data/metainfo/$app_id.metainfo.xml"
    while IFS= read -r icon; do
        rm -f "$data/icons/hicolor/$icon"
    done < <(icon_files)
    refresh_caches
    say "removed Parcero's launcher, metadata and icons from $data"
    exit 0
fi

if [ -z "$exec_cmd" ]; then
    if command -v parcero >/dev/null; then
        exec_cmd=$(command -v parcero)
    elif [ -x "$repo/.venv/bin/parcero" ]; then
        exec_cmd="$repo/.venv/bin/parcero"
    else
        say "no parcero command found: install Parcero first (make run, or pip install), or pass --exec COMMAND"
        exit 1
    fi
fi
# The desktop entry spec wants a path with spaces or shell characters in double quotes; the characters
# it would need escaped inside the quotes (and %, a field code) are refused rather than half-handled.
case "$exec_cmd" in
*[\"\`\$\\%]*)
    say "--exec $exec_cmd: a path with \", \`, \$, \\ or % cannot go in a launcher; use a link without them"
    exit 1
    ;;
esac
case "$exec_cmd" in
*[[:space:]\'\>\<~\|\&\;\*?#\(\)]*) exec_line="\"$exec_cmd\" gui" ;;
*) exec_line="$exec_cmd gui" ;;
esac

install -d "$data/applications" "$data/metainfo"
# Written beside the target and renamed, so a menu never reads half a file.
tmp=$(mktemp "$data/applications/.$app_id.XXXXXX")
trap 'rm -f "$tmp"' EXIT
sed_escape() { printf '%s' "$1" | sed 's/[&|\\]/\\&/g'; }
sed -e "s|^Exec=.*|Exec=$(sed_escape "$exec_line")|" -e "s|^TryExec=.*|TryExec=$(sed_escape "$exec_cmd")|" \
    "$here/$app_id.desktop" >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$data/applications/$app_id.desktop"
install -m 644 "$here/$app_id.metainfo.xml" "$data/metainfo/$app_id.metainfo.xml"
n=0
while IFS= read -r icon; do
    install -D -m 644 "$icons_src/$icon" "$data/icons/hicolor/$icon"
    n=$((n + 1))
done < <(icon_files)
refresh_caches
say "installed the launcher ($data/applications/$app_id.desktop, runs: $exec_line), metadata and $n icons"
