"""engine/ never imports Qt: the CLI, torchrun jobs and the worker process run without it.

Two checks: a static one over every import statement (catches imports inside
functions too, with file and line), and a dynamic one that imports every
engine module in a fresh interpreter and looks for Qt in ``sys.modules``
(catches Qt pulled in indirectly through a third-party package).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "engine"
FORBIDDEN = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "pyqtgraph", "qtpy")


def _engine_files() -> list[Path]:
    return sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


def _is_forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


def _forbidden_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if _is_forbidden(name):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: imports {name}")
    return found


def test_engine_source_has_no_qt_imports():
    files = _engine_files()
    assert files, "no engine sources found"
    offences = [line for path in files for line in _forbidden_imports(path)]
    assert not offences, "engine/ must not import Qt:\n" + "\n".join(offences)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Runs in the child: import each module, report failures and any Qt module loaded.
_CHILD = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
forbidden = set(json.loads(sys.argv[2]))
qt = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(json.dumps({"failed": failed, "qt": qt}))
"""


def test_importing_the_engine_loads_no_qt():
    # __main__ modules run a program when imported; they are covered by the AST check.
    modules = [_module_name(p) for p in _engine_files() if p.stem != "__main__"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(modules), json.dumps(FORBIDDEN)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not report["failed"], "engine modules failed to import:\n" + "\n".join(
        f"{name}:\n{tb}" for name, tb in report["failed"].items()
    )
    assert not report["qt"], f"importing the engine loaded Qt modules: {report['qt']}"
