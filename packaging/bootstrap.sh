#!/usr/bin/env bash
# Set up Parcero on Debian or Ubuntu, then run the app or its tests.
#
#   bash packaging/bootstrap.sh run  [parcero arguments...]
#   bash packaging/bootstrap.sh test [pytest arguments...]
#   bash packaging/bootstrap.sh lock [pytest arguments...]   refresh constraints.txt on purpose, then test
#
# Each step is skipped when already done, so a second call starts at once:
#   1. Python 3.11+ is there (python3, or the interpreter named in $PYTHON);
#   2. the system libraries Qt and PortAudio need are installed (apt-get,
#      through sudo when not root; never prompts, works without a terminal);
#   3. .venv exists and holds `pip install -c constraints.txt -e ".[test]"`: the
#      exact versions of the lock file. When pyproject.toml or the lock changed
#      (their sha256 is kept in .venv/.parcero-installed) it is installed again
#      and checked against the lock (packaging/lock.py check); an environment
#      that still differs is rebuilt from nothing, so an old .venv never hides
#      a lock that does not install;
#   4. run: .venv/bin/parcero "$@"; test: pytest on an offscreen Qt platform;
#      lock: a new environment with the newest releases pyproject.toml allows
#      is frozen into constraints.txt, becomes .venv, and the tests run.
set -euo pipefail

usage() {
    echo "usage: bash packaging/bootstrap.sh run|test|lock [arguments...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
mode=$1
shift
case "$mode" in run | test | lock) ;; *) usage ;; esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
venv="$repo/.venv"
stamp="$venv/.parcero-installed"
lock="$repo/constraints.txt"
export DEBIAN_FRONTEND=noninteractive

say() { printf 'parcero: %s\n' "$*" >&2; }

# ---- system packages ----------------------------------------------------------

# Libraries the Python wheels load but do not bundle. "a|b" means either
# package will do (Ubuntu 24.04 renamed some libraries with a t64 suffix).
# Tests need QtGui's own libraries too: they run Qt on its offscreen platform.
common_packages=(
    libportaudio2 # sounddevice (recording and playback)
    espeak-ng     # parcero data synth: synthetic Spanish speech
    libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libx11-6
    "libglib2.0-0t64|libglib2.0-0"
)
# Qt's xcb platform plugin, for a real window on X11 (or XWayland).
window_packages=(
    libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
    libxcb-sync1 libxcb-xfixes0 libxcb-shm0 libxcb-render0 libxcb-util1 libx11-xcb1
)

is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null || true)
    [[ "$status" == *" installed"* ]]
}

# Print the entries of "$@" of which no alternative is installed.
missing_packages() {
    local entry alt found
    local -a alts
    for entry in "$@"; do
        found=no
        IFS='|' read -ra alts <<<"$entry"
        for alt in "${alts[@]}"; do
            if is_installed "$alt"; then found=yes && break; fi
        done
        [ "$found" = yes ] || printf '%s\n' "$entry"
    done
}

# The first alternative of "a|b" that apt can install.
pick_alternative() {
    local alt policy
    local -a alts
    IFS='|' read -ra alts <<<"$1"
    for alt in "${alts[@]}"; do
        policy=$(apt-cache policy "$alt" 2>/dev/null || true)
        if [[ "$policy" =~ Candidate:\ [^\(] ]]; then
            echo "$alt"
            return
        fi
    done
    echo "${alts[-1]}"
}

apt_updated=no
apt_install() {
    local -a apt_cmd=() packages=()
    local entry log
    # apt_cmd: apt-get, run directly as root or through sudo
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            apt_cmd=(sudo -n env DEBIAN_FRONTEND=noninteractive)
        else
            for entry in "$@"; do packages+=("$(pick_alternative "$entry")"); done
            say "these system packages are missing: ${packages[*]}"
            say "install them with the line below, then run this again:"
            echo "    sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
            exit 1
        fi
    fi
    # Wait for another apt or an unattended upgrade to finish instead of failing.
    apt_cmd+=(apt-get -o DPkg::Lock::Timeout=300)
    log=$(mktemp)
    if [ "$apt_updated" = no ]; then
        say "updating the package lists (apt-get update)"
        apt_quietly "$log" "${apt_cmd[@]}" update -qq
        apt_updated=yes
    fi
    for entry in "$@"; do packages+=("$(pick_alternative "$entry")"); done
    say "installing system packages: ${packages[*]}"
    apt_quietly "$log" "${apt_cmd[@]}" install -y -q --no-install-recommends \
        -o Dpkg::Use-Pty=0 "${packages[@]}"
    rm -f "$log"
}

# Run an apt command with its chatter in log file $1; show the log if it fails.
apt_quietly() {
    local log=$1
    shift
    if ! "$@" </dev/null >"$log" 2>&1; then
        say "failed: $*"
        tail -n 20 "$log" >&2
        rm -f "$log"
        exit 1
    fi
}

ensure_system_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian or Ubuntu system: skipping the system package check;"
        say "if Qt or sounddevice fail to load, install PortAudio and Qt 6's xcb libraries."
        return
    fi
    local -a wanted=("${common_packages[@]}") missing=()
    if [ "$mode" = run ]; then wanted+=("${window_packages[@]}"); fi
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# ---- Python and the virtual environment ------------------------------------------

# Set $python to an interpreter of version 3.11 or newer, or explain and exit.
find_python() {
    local candidate found_versions=""
    local -a candidates=(python3 python3.13 python3.12 python3.11)
    if [ -n "${PYTHON:-}" ]; then candidates=("$PYTHON"); fi
    for candidate in "${candidates[@]}"; do
        if ! command -v "$candidate" >/dev/null 2>&1; then
            found_versions+=" ${candidate} (not found)"
            continue
        fi
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            python=$("$candidate" -c 'import sys; print(sys.executable)')
            return
        fi
        found_versions+=" $candidate ($("$candidate" --version 2>&1))"
    done
    say "Parcero needs Python 3.11 or newer; tried:${found_versions}."
    say "Debian 12 / Ubuntu 24.04: sudo apt-get install python3 python3-venv"
    say "Ubuntu 22.04: install python3.11 and python3.11-venv, then: PYTHON=python3.11 make ${mode}"
    exit 1
}

create_venv() {
    local log ver
    find_python
    say "creating .venv with $python"
    log=$(mktemp)
    if "$python" -m venv "$venv" 2>"$log"; then
        rm -f "$log"
        return
    fi
    rm -rf "$venv"
    # Debian and Ubuntu ship venv's pip bootstrap (ensurepip) separately.
    if [[ "$python" == /usr/bin/* ]] && command -v dpkg-query >/dev/null 2>&1; then
        ver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        apt_install "python${ver}-venv|python3-venv"
        if "$python" -m venv "$venv" 2>"$log"; then
            rm -f "$log"
            return
        fi
        rm -rf "$venv"
    fi
    say "could not create .venv with $python:"
    cat "$log" >&2
    rm -f "$log"
    exit 1
}

# pip install into .venv, showing only the big downloads; the whole log stays in .venv/pip-install.log.
pip_install() {
    local log="$venv/pip-install.log"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 |
        tee "$log" | { grep --line-buffered -E 'Downloading .*\([0-9.]+ [MG]B\)' >&2 || true; }; then
        say "pip install failed; the end of $log:"
        tail -n 25 "$log" >&2
        exit 1
    fi
}

ensure_venv() {
    local created=no
    if [ ! -f "$lock" ]; then
        say "constraints.txt (the lock file) is missing: restore it with git, or write one with 'make lock'."
        exit 1
    fi
    if [ ! -e "$venv" ]; then
        create_venv
        created=yes
    elif ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say ".venv is broken or older than Python 3.11; remove it with 'make clean' and try again."
        exit 1
    fi

    local want have
    want=$(cat pyproject.toml "$lock" | sha256sum | cut -d' ' -f1)
    have=$(cat "$stamp" 2>/dev/null || true)
    if [ "$want" = "$have" ]; then return; fi

    if [ "$created" = yes ]; then
        say "installing Parcero and its dependencies (the versions in constraints.txt) into .venv;"
        say "this first install downloads about 4.6 GB (PyTorch with CUDA) and takes a while."
    elif [ -z "$have" ]; then
        say "installing Parcero into the existing .venv"
    else
        say "pyproject.toml or constraints.txt changed: updating .venv"
    fi
    pip_install -c "$lock" -e ".[test]"
    if ! "$venv/bin/python" packaging/lock.py check; then
        if [ "$created" = yes ]; then
            say "a new .venv does not match constraints.txt (above); the lock is broken: 'make lock' rewrites it."
            exit 1
        fi
        say ".venv still differs from constraints.txt (above): rebuilding it from nothing"
        rm -rf "$venv"
        ensure_venv
        return
    fi
    echo "$want" >"$stamp"
    say "installed."
}

# Refresh the lock on purpose: .venv made anew with the newest releases that pyproject.toml allows,
# frozen into constraints.txt; the caller then runs the tests on it.
refresh_lock() {
    say "make lock: a new .venv with the newest releases pyproject.toml allows"
    rm -rf "$venv"
    create_venv
    pip_install -e ".[test]"
    "$venv/bin/python" packaging/lock.py write
    cat pyproject.toml "$lock" | sha256sum | cut -d' ' -f1 >"$stamp"
    say "constraints.txt rewritten (git diff constraints.txt shows what moved); running the tests"
}

# ---- the two commands ---------------------------------------------------------------

# `parcero` with no command (or `parcero gui`) opens the window; subcommands
# such as `parcero transcribe` need no display.
wants_window() { [ $# -eq 0 ] || [ "$1" = gui ]; }

check_display() {
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${QT_QPA_PLATFORM:-}" ]; then
        return
    fi
    cat >&2 <<'EOF'
parcero: there is no display to open the window on (neither DISPLAY nor
WAYLAND_DISPLAY is set), so the window cannot open. Ways forward:
  - on a desktop, run `make run` in a terminal of your graphical session;
  - over SSH, connect with `ssh -X` (or `ssh -Y`) to show the window locally;
  - on a headless machine, use a virtual display:
        sudo apt-get install xvfb && xvfb-run -a make run
  - or use the command line, which needs no display:
        make run ARGS="transcribe grabacion.wav --model modelos/mi-modelo"
EOF
    exit 1
}

case "$mode" in
run)
    # Fail before a long first install that could not end in a window anyway.
    if wants_window "$@"; then check_display; fi
    ensure_system_packages
    ensure_venv
    exec "$venv/bin/parcero" "$@"
    ;;
test)
    ensure_system_packages
    ensure_venv
    QT_QPA_PLATFORM=offscreen exec "$venv/bin/python" -m pytest "$@"
    ;;
lock)
    ensure_system_packages
    refresh_lock
    QT_QPA_PLATFORM=offscreen exec "$venv/bin/python" -m pytest "$@"
    ;;
esac
