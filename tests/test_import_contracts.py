"""Who may import whom: the contracts in pyproject.toml's [tool.importlinter], no import circles, no Qt in the engine.

- import-linter checks the contracts (engine without Qt or app but for the window's launcher,
  model families independent, pages without the worker, the window without CLI modules, shared
  engine modules reaching a family only through engine.backends). It reads every import
  statement, those inside functions included, and names file, line and chain of a break.
- grimp (import-linter's graph) finds import circles among engine modules.
- A run-time check imports every engine module in a fresh interpreter and looks for Qt in
  ``sys.modules``: import-linter sees our imports only, not Qt reached through a third-party package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import tomli_w

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "engine"
LINT_IMPORTS = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())"]


def _settings() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _contract(settings: dict, contract_id: str) -> dict:
    return next(c for c in settings["contracts"] if c["id"] == contract_id)


def _lint_imports(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # --no-cache: nothing written into the checkout; the whole check takes well under a second.
    return subprocess.run([*LINT_IMPORTS, "--no-logo", "--no-cache", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    proc = _lint_imports(str(REPO / "pyproject.toml"))
    assert proc.returncode == 0, f"import contracts broken (pyproject.toml [tool.importlinter]):\n{proc.stdout}" \
                                 f"{proc.stderr}"
    ids = {c["id"] for c in _settings()["contracts"]}
    assert {"engine-without-qt", "families-independent", "pages-without-worker", "app-without-cli",
            "shared-without-families"} <= ids
    assert "0 broken" in proc.stdout


def test_the_contracts_see_imports_inside_functions(tmp_path):
    # engine.cli imports app.main inside main(), the one exception the contract allows: without
    # that exception the same check must fail and name the import, with its line.
    settings = _settings()
    contract = _contract(settings, "engine-without-qt")
    contract["ignore_imports"] = [i for i in contract.get("ignore_imports", []) if i != "engine.cli -> app.main"]
    config = tmp_path / "contracts.toml"
    config.write_text(tomli_w.dumps({"tool": {"importlinter": settings}}), encoding="utf-8")
    proc = _lint_imports(str(config), "--contract", "engine-without-qt")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "engine.cli -> app.main (l." in proc.stdout
    assert "PySide6" in proc.stdout  # the window's modules bring Qt: the chain is followed, not just the first step


def _cycles(graph: grimp.ImportGraph, modules: list[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    edges = {m: sorted(x for x in graph.find_modules_directly_imported_by(m) if x in modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the engine's import depth is small
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                found.append(sorted(component))

    for m in modules:
        if m not in index:
            visit(m)
    return found


def _describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    lines = []
    for a in component:
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            if b in component:
                where = ", ".join(str(d["line_number"]) for d in graph.get_import_details(importer=a, imported=b))
                lines.append(f"  {a} -> {b} (line {where})")
    return "\n".join(lines)


def test_no_import_circles_among_engine_modules():
    # Imports inside functions count (they are circles a refactoring trips on); those under
    # `if TYPE_CHECKING:` do not (they never run), as in the contracts.
    graph = grimp.build_graph("engine", cache_dir=None, exclude_type_checking_imports=True)
    modules = sorted(m for m in graph.modules if m.split(".")[0] == "engine")
    assert len(modules) > 50, modules  # the graph holds the engine, not an empty package
    cycles = _cycles(graph, modules)
    assert not cycles, "import circles among engine modules:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_the_cycle_finder_finds_a_circle():
    # A two-module circle written by hand (a and b import each other inside functions): the finder must see it.
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b", line_number=3, line_contents="from pkg import b")
    graph.add_import(importer="pkg.b", imported="pkg.a", line_number=9, line_contents="from pkg import a")
    graph.add_import(importer="pkg.c", imported="pkg.a", line_number=1, line_contents="from pkg import a")
    assert _cycles(graph, ["pkg", "pkg.a", "pkg.b", "pkg.c"]) == [["pkg.a", "pkg.b"]]
    assert "pkg.b -> pkg.a (line 9)" in _describe(graph, ["pkg.a", "pkg.b"])


def _engine_modules() -> list[str]:
    names = []
    for path in sorted(ENGINE.rglob("*.py")):
        # __main__ modules run a program when imported; the contracts cover their import statements.
        if "__pycache__" in path.parts or path.stem == "__main__":
            continue
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


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
    # The Qt names are the contract's, so the two checks cannot drift apart.
    qt_names = [m for m in _contract(_settings(), "engine-without-qt")["forbidden_modules"] if m != "app"]
    assert "PySide6" in qt_names and "pyqtgraph" in qt_names
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(_engine_modules()), json.dumps(qt_names)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not report["failed"], "engine modules failed to import:\n" + "\n".join(
        f"{name}:\n{tb}" for name, tb in report["failed"].items())
    assert not report["qt"], f"importing the engine loaded Qt modules: {report['qt']}"
