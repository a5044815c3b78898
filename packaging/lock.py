"""The lock file (``constraints.txt``): exact versions of everything the README's commands install.

    python packaging/lock.py write [--out constraints.txt]   freeze this environment into the lock
    python packaging/lock.py check [--lock constraints.txt]  does this environment match the lock?

``make lock`` (packaging/bootstrap.sh) refreshes the lock on purpose: a new environment with the newest
releases pyproject.toml allows, frozen here, then the whole test suite. ``make run`` and ``make test``
install with ``pip install -c constraints.txt`` and run ``check`` whenever the lock or pyproject.toml
changed, so an old ``.venv`` can never hide a lock that does not install.

Only the standard library: it runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "constraints.txt"
# The installer's own tools and the project itself are not locked.
UNLOCKED = {"pip", "setuptools", "wheel", "parcero"}
HEADER = """\
# Exact versions of everything `make run` and `make test` install (pip constraints file).
# Written by `make lock` (packaging/lock.py write); edit pyproject.toml's ranges, not this file.
# Versions without a local label (+cu130): pip then takes the build its index serves for the platform.
"""


def normalise(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """The version without its local label: 2.11.0+cu130 -> 2.11.0."""
    return version.split("+", 1)[0]


def installed() -> dict[str, str]:
    """Every distribution of this environment but the unlocked ones: {normalised name: version}."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name and normalise(name) not in UNLOCKED:
            found[normalise(name)] = public_version(dist.version)
    return found


def read_lock(path: Path) -> dict[str, str]:
    """{normalised name: version} of a constraints file; a line that is not ``name==version`` is an error."""
    pins = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)", line)
        if match is None:
            raise SystemExit(f"lock: {path}:{number}: expected name==version, found {line!r}")
        pins[normalise(match[1])] = match[2]
    return pins


def write(out: Path) -> int:
    pins = installed()
    text = HEADER + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: a failed write never leaves half a lock
    print(f"lock: wrote {len(pins)} pins to {out}", file=sys.stderr)
    return 0


def mismatches(pins: dict[str, str], have: dict[str, str]) -> list[str]:
    """What differs between a lock and an environment, one line each (empty: they agree).

    A pinned package that is not installed is fine (platform-specific ones such as CUDA's libraries
    are not installed everywhere); an installed one with another version, or one the lock lacks, is not.
    """
    problems = []
    for name, version in sorted(have.items()):
        if name not in pins:
            problems.append(f"{name} {version} is installed but not in the lock")
        elif pins[name] != version:
            problems.append(f"{name} {version} is installed, the lock says {pins[name]}")
    return problems


def check(lock: Path) -> int:
    if not lock.is_file():
        print(f"lock: {lock} is missing; `make lock` writes it", file=sys.stderr)
        return 1
    problems = mismatches(read_lock(lock), installed())
    for line in problems:
        print(f"lock: {line}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/lock.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="freeze this environment into the lock")
    w.add_argument("--out", type=Path, default=LOCK)
    c = sub.add_parser("check", help="exit 1 unless this environment matches the lock")
    c.add_argument("--lock", type=Path, default=LOCK)
    args = parser.parse_args(argv)
    return write(args.out) if args.command == "write" else check(args.lock)


if __name__ == "__main__":
    sys.exit(main())
