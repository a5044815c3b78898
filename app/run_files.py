"""Reading a run folder that another process is writing: metrics.jsonl, samples, checkpoints.

No Qt here. The Train page polls these on a timer, so a run started with
``parcero train`` or ``torchrun`` (on this machine or a shared filesystem) can
be followed as it goes. Everything is read defensively: the writer may be
half-way through a line, may have been restarted (a new, shorter file), or may
not have created a file yet.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

METRICS = "metrics.jsonl"
_SAMPLE = re.compile(r"^step-(\d+)\.npz$")


@dataclass
class MetricsTail:
    """Follow ``metrics.jsonl``: each :meth:`read_new` returns the records completed since the last call.

    Only whole lines (ending in a newline) are parsed; a partial last line is
    left for the next call. If the file shrank or was replaced (a new inode),
    the tail starts again from the top and :attr:`restarted` is set, so the
    caller can clear what it drew.
    """

    path: Path
    offset: int = 0
    restarted: bool = False
    bad_lines: int = 0  # lines that were complete but not JSON objects (skipped)
    _inode: int | None = field(default=None, repr=False)

    def read_new(self, max_bytes: int = 8 << 20) -> list[dict[str, Any]]:
        """Records appended since the last call (at most ``max_bytes`` read per call, so a huge log never stalls)."""
        self.restarted = False
        try:
            stat = os.stat(self.path)
        except OSError:
            return []
        if (self._inode is not None and stat.st_ino != self._inode) or stat.st_size < self.offset:
            self.offset = 0
            self.restarted = True
        self._inode = stat.st_ino
        if stat.st_size == self.offset:
            return []
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(max_bytes)
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # no complete line yet
        self.offset += end + 1
        records = []
        for line in chunk[: end + 1].splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.bad_lines += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                self.bad_lines += 1
        return records


def sample_steps(run_dir: str | Path) -> list[int]:
    """Steps with saved cross-attention samples (``samples/step-N.npz``), ascending."""
    folder = Path(run_dir) / "samples"
    if not folder.is_dir():
        return []
    steps = []
    for p in folder.iterdir():
        m = _SAMPLE.match(p.name)
        if m:
            steps.append(int(m.group(1)))
    return sorted(steps)


@dataclass
class Sample:
    """One dev utterance's transcript and cross-attention at one evaluation step."""

    step: int
    id: str
    reference: str
    hypothesis: str
    attention: np.ndarray  # (layers, H, tokens, T) float16


def load_samples(run_dir: str | Path, step: int) -> dict[str, Sample]:
    """The samples saved at ``step``, by utterance id; {} if the files are missing or unreadable."""
    folder = Path(run_dir) / "samples"
    texts: dict[str, dict[str, Any]] = {}
    try:
        data = json.loads((folder / f"step-{step:06d}.json").read_text(encoding="utf-8"))
        texts = {row["id"]: row for row in data.get("samples", []) if isinstance(row, dict) and "id" in row}
    except (OSError, ValueError, AttributeError):
        pass  # the attention alone is still worth showing
    try:
        with np.load(folder / f"step-{step:06d}.npz") as arrays:
            matrices = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, EOFError):
        return {}
    samples = {}
    for uid, attention in matrices.items():
        if attention.ndim != 4:
            continue
        row = texts.get(uid, {})
        samples[uid] = Sample(step, uid, str(row.get("reference", "")), str(row.get("hypothesis", "")),
                              trim_padding(attention))
    return samples


def trim_padding(attention: np.ndarray) -> np.ndarray:
    """Drop the trailing encoder frames no token attends to, shape (L, H, N, T) -> (L, H, N, T').

    Dev utterances are decoded in padded batches, so a saved matrix is as wide
    as the longest utterance of its batch; attention to the padding is masked
    to exactly zero, which is how the padding is recognised.
    """
    used = np.flatnonzero(np.any(attention != 0, axis=(0, 1, 2)))
    return attention[..., : used[-1] + 1] if used.size else attention


def token_labels(hypothesis: str, n_tokens: int) -> list[str]:
    """Row labels for a character model's cross-attention: its characters, then ⏎ for end-of-text."""
    labels = [c for c in hypothesis][:n_tokens]
    return labels + ["⏎"] * (n_tokens - len(labels))


def has_checkpoints(run_dir: str | Path) -> bool:
    """Whether the run folder holds a complete checkpoint to resume from."""
    from engine.training.checkpoint import list_checkpoints

    return bool(list_checkpoints(Path(run_dir)))
