"""Helpers shared by the reliability tests: running the CLI, checking messages, tiny training configs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from engine.training.config import RunConfig, run_config_from_dict
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus

REPO = Path(__file__).resolve().parents[2]
TINY = {"preset": "tiny", "d_model": 96, "d_ff": 384, "n_enc_layers": 2, "n_dec_layers": 2, "dropout": 0.0}


def run_cli(args: list[str], cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``parcero ARGS`` in a fresh process, arguments as a list (no shell); output captured as text."""
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=cwd or REPO, env=environment,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_clean_failure(stderr: str) -> None:
    """What the user sees is Parcero's one-line message, never a Python traceback."""
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]


def assert_names(message: str, path: str | Path, problem: str) -> None:
    """``message`` names ``path`` and then says ``problem`` (a regex) about it."""
    path = str(path)
    assert path in message, f"{path!r} not named in {message!r}"
    after = message[message.index(path) + len(path):]
    assert re.search(problem, after), f"problem {problem!r} not said in {message!r}"


def tiny_config(folder: Path, train_manifest: Path | None = None, dev_manifest: Path | None = None,
                **train) -> dict:
    """A tiny-model run over ``train_manifest`` (default: tone renderings of OVERFIT_TEXTS), as a TOML dict."""
    if train_manifest is None:
        train_manifest = write_tone_corpus(folder / "data", OVERFIT_TEXTS, "train")
    d = {
        "run": {"name": "fiable", "dir": str(folder / "runs" / "fiable")},
        "data": {"train": str(train_manifest), "num_workers": 0, "max_frames": 100_000, "num_buckets": 1},
        "model": dict(TINY),
        "text": {"lowercase": False, "punctuation": "keep"},
        "train": {"max_steps": 10, "warmup": 10, "lr_factor": 0.2, "label_smoothing": 0.0, "log_every": 1,
                  "eval_every": 1000, "checkpoint_every": 1000, "device": "cpu", **train},
        "spec_augment": {"enabled": False},
    }
    if dev_manifest is not None:
        d["data"]["dev"] = str(dev_manifest)
    return d


def tiny_run_config(folder: Path, train_manifest: Path | None = None, dev_manifest: Path | None = None,
                    **train) -> RunConfig:
    """:func:`tiny_config` as a RunConfig."""
    return run_config_from_dict(tiny_config(folder, train_manifest, dev_manifest, **train), base_dir=folder)


def write_config(path: Path, config: dict) -> Path:
    import tomli_w

    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path
