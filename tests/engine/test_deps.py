"""A library that does not load is named in one line with the fix, never a traceback (engine.deps)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BROKEN = ("raise OSError('/venv/lib/python3.11/site-packages/torchaudio/lib/libtorchaudio.so: "
          "undefined symbol: torch_exception_get_what_without_backtrace')\n")


def run_parcero(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m engine.cli ARGS`` with a torchaudio on the path that fails to load as 2.11.1 did."""
    fake = tmp_path / "site"
    (fake / "torchaudio").mkdir(parents=True)
    (fake / "torchaudio" / "__init__.py").write_text(BROKEN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(REPO)]), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("transcribe", "grabación.wav"), ("info",), ()], ids=["transcribe", "info", "window"])
def test_a_torchaudio_that_does_not_load_is_one_line_naming_it_and_the_fix(tmp_path, args):
    (tmp_path / "grabación.wav").write_bytes(b"")
    result = run_parcero(tmp_path, *args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "torchaudio" in line and "does not load" in line and "undefined symbol" in line
    from importlib import metadata

    assert f"torch {metadata.version('torch')}" in line  # the pair's versions
    assert "make clean && make run" in line and "constraints.txt" in line


def test_nothing_to_say_when_everything_loads():
    from engine.deps import diagnose

    assert diagnose(gui=True) is None


def test_a_missing_package_is_named(monkeypatch):
    import engine.deps as deps

    monkeypatch.setattr(deps, "NATIVE", deps.NATIVE + (("no_such_module_xyz", "no-such-dist-xyz"),))
    line = deps.diagnose()
    assert line is not None and "no-such-dist-xyz is not installed" in line and "Fix:" in line
