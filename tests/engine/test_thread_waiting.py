"""How OpenMP threads wait is chosen per process when `engine` is imported (engine/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = ("import sys; sys.argv = {argv!r}; import engine, os; "
        "print(os.environ['OMP_WAIT_POLICY'], os.environ.get('GOMP_SPINCOUNT'))")


def waiting(argv: list[str], **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "PARCERO_OMP_DEFAULTS")}
    out = subprocess.run([sys.executable, "-c", SHOW.format(argv=argv)], capture_output=True, text=True,
                         env={**clean, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_decoding_processes_spin_briefly_and_training_sleeps_at_once():
    assert waiting(["parcero", "transcribe", "a.wav"]) == "ACTIVE 20000"
    assert waiting(["parcero", "train", "--config", "x.toml"]) == "PASSIVE None"
    assert waiting([str(ROOT / "engine" / "train.py"), "--config", "x.toml"]) == "PASSIVE None"  # torchrun -m


def test_a_training_run_started_from_the_window_chooses_again_and_a_users_choice_wins():
    inherited = {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "20000", "PARCERO_OMP_DEFAULTS": "1"}
    assert waiting(["parcero", "train"], **inherited) == "PASSIVE None"
    assert waiting(["parcero", "transcribe"], OMP_WAIT_POLICY="PASSIVE") == "PASSIVE None"
    assert waiting(["parcero", "train"], OMP_WAIT_POLICY="ACTIVE", GOMP_SPINCOUNT="5") == "ACTIVE 5"
