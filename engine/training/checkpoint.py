"""Checkpoints of a run: complete model folders plus the trainer's state, written atomically.

    runs/<name>/checkpoints/step-000500/
        model.safetensors, config.json, vocab.json   a loadable model folder (engine.models.io)
        trainer.pt                                   optimizer, scheduler, scaler, RNG states, sampler position
    runs/<name>/best/                                copy of the checkpoint with the lowest dev CER

A checkpoint is written into a hidden temporary folder and renamed into place,
so a crash, a kill or a full disk mid-write never leaves a half checkpoint
that a resume would pick up. ``trainer.pt`` is our own file, read back with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain
containers, so even a tampered file cannot run code.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError

from engine.errors import ModelFileError, ParceroError
from engine.feature_config import FeatureConfig
from engine.models.io import CONFIG, TOKENIZER, VOCAB, WEIGHTS, save_trained
from engine.text import CharTokenizer

TRAINER_STATE = "trainer.pt"
WRITE_ERRORS = (OSError, RuntimeError, SafetensorError)  # what a full disk raises through each writer
_STEP = re.compile(r"^step-(\d+)$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: torch.nn.Module,
    tokenizer: CharTokenizer,
    feature_config: FeatureConfig,
    trainer_state: dict[str, Any],
    metadata: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``checkpoints/step-N`` atomically and return its path; ``extra`` is the family's config section."""
    ckpt_root = run_dir / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / checkpoint_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=ckpt_root))
    try:
        save_trained(tmp, model, tokenizer, feature_config, metadata, extra)
        torch.save(trainer_state, tmp / TRAINER_STATE)
        _fsync_dir(tmp)
        if final.exists():  # re-saving the same step (e.g. stop right after a periodic save)
            _remove(final)
        os.replace(tmp, final)
    except WRITE_ERRORS as e:
        # A full disk or a lost permission: going on would train without saving, so the run
        # stops here, with the last good checkpoint named. safetensors and torch.save report
        # a failed write as their own errors, not as OSError.
        shutil.rmtree(tmp, ignore_errors=True)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        previous = latest_checkpoint(run_dir)
        kept = f"the last complete checkpoint, {previous}, is intact" if previous else "no checkpoint was saved before"
        raise ParceroError(f"{final}: cannot write the checkpoint ({reason}); {kept}. Free some disk space (or "
                           "fix the folder's permissions) and continue with --resume", code="disk.checkpoint",
                           params={"path": str(final), "reason": reason,
                                   "previous": str(previous) if previous else ""}) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _remove(path: Path) -> None:
    """Delete a checkpoint folder without ever leaving a half-deleted one under its own name.

    Renamed first (atomic), then deleted: a kill during the delete leaves a hidden
    ``.step-N.*.tmp`` folder, which resume ignores and the next prune sweeps away.
    """
    doomed = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.replace(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    for f in path.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def is_complete(path: Path) -> bool:
    has_text = (path / VOCAB).is_file() or (path / TOKENIZER).is_file()  # Whisper has tokenizer.json
    return has_text and all((path / n).is_file() for n in (WEIGHTS, CONFIG, TRAINER_STATE))


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP.match(p.name)
        if m and p.is_dir() and is_complete(p):
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def prune_checkpoints(run_dir: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints (and stale temporary folders)."""
    removed = []
    for _, p in list_checkpoints(run_dir)[:-keep_last]:
        _remove(p)
        removed.append(p)
    root = run_dir / "checkpoints"
    if root.is_dir():
        for p in root.glob(".step-*.tmp"):
            shutil.rmtree(p, ignore_errors=True)
    return removed


def update_best(run_dir: Path, checkpoint: Path) -> Path:
    """Make ``run_dir/best`` a copy of ``checkpoint`` (model files only), replacing it atomically."""
    best = run_dir / "best"
    tmp = Path(tempfile.mkdtemp(prefix=".best.", suffix=".tmp", dir=run_dir))
    try:
        for name in (WEIGHTS, CONFIG, VOCAB, TOKENIZER):
            if name in (WEIGHTS, CONFIG) or (checkpoint / name).is_file():
                shutil.copy2(checkpoint / name, tmp / name)
        _fsync_dir(tmp)
        old = None
        if best.exists():
            old = run_dir / f".best.old.{os.getpid()}"
            os.replace(best, old)
        os.replace(tmp, best)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return best


def load_trainer_state(checkpoint: Path) -> dict[str, Any]:
    path = checkpoint / TRAINER_STATE
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelFileError(path, "no trainer state: this is a model folder, not a resumable checkpoint") from None
    except Exception as e:  # noqa: BLE001 - any unpickling refusal or corruption is the file's fault
        raise ModelFileError(path, f"cannot read trainer state: {e}") from None


def rng_state() -> dict[str, Any]:
    """Every random number generator a run draws from, as tensors and plain values."""
    import random

    import numpy as np

    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {"keys": torch.from_numpy(keys.copy()), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached": float(cached)},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import random

    import numpy as np

    torch.set_rng_state(state["torch"])
    random.setstate(_tuplify(state["python"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy(), n["pos"], n["has_gauss"], n["cached"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuplify(x):
    # weights_only loading gives lists where tuples were saved; random.setstate wants tuples.
    return tuple(_tuplify(v) for v in x) if isinstance(x, (list, tuple)) else x


def average_checkpoints(paths: list[Path]) -> dict[str, torch.Tensor]:
    """Element-wise mean of the weights of several checkpoints of one model."""
    from safetensors.torch import load_file

    if not paths:
        raise ValueError("no checkpoints to average")
    total: dict[str, torch.Tensor] = {}
    for p in paths:
        state = load_file(str(p / WEIGHTS))
        if total and set(state) != set(total):
            raise ModelFileError(p, "cannot average checkpoints of different models")
        for k, v in state.items():
            total[k] = total[k] + v.double() if k in total else v.double()
    return {k: (v / len(paths)).float() for k, v in total.items()}
