"""Measuring one audio file for validation: header, content hash and levels, in a worker process.

A worker returns a few numbers per item (never samples), so validating 100k files
in a process pool moves almost nothing between processes. Long files are read a
minute at a time, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import CLIP_LEVEL, RMS_EPSILON, AudioInfo, audio_info, load_audio
from engine.errors import AudioError

def file_sha1(path: str | Path) -> str:
    """SHA-1 hex digest of a file's bytes, read in chunks (constant memory)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()


# --- measuring one file (runs in worker processes) ------------------------------

# Long files are decoded this many seconds at a time, so checking an
# hour-long recording never holds the whole of it in memory.
LEVEL_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class FileJob:
    path: str  # resolved
    segments: tuple[tuple[float | None, float | None], ...]  # (offset, end) of each item using the file
    decode: bool


@dataclass(frozen=True)
class SegmentMeasure:
    """What a worker sends back for one item: a few numbers, never samples."""

    duration: float = 0.0
    error: tuple[str, str] | None = None  # (kind, message) when the item's audio is unusable
    rms_dbfs: float | None = None  # None when not decoded
    peak: float = 0.0
    clipped_fraction: float = 0.0


@dataclass(frozen=True)
class FileMeasure:
    sha1: str | None
    segments: tuple[SegmentMeasure, ...]


def _levels(path: Path, rate: int, start: float, length: float | None) -> SegmentMeasure:
    """Decode a stretch window by window and sum up its level; ``length=None`` reads to the end."""
    window = max(1, int(LEVEL_WINDOW_SECONDS * rate))
    first = round(start * rate)
    want = None if length is None else max(1, round(length * rate))
    n = clipped = 0
    sumsq = peak = 0.0
    while want is None or n < want:
        take = window if want is None else min(window, want - n)
        try:
            x = load_audio(path, rate, offset=(first + n) / rate, duration=take / rate)
        except AudioError as e:
            if n > 0 and e.kind == "past_end":
                break  # the stretch ended exactly on a window boundary
            raise
        magnitude = np.abs(x)
        sumsq += float(np.dot(x.astype(np.float64), x.astype(np.float64)))
        peak = max(peak, float(magnitude.max()))
        clipped += int(np.count_nonzero(magnitude >= CLIP_LEVEL))
        n += x.size
        if x.size < take:
            break
    return SegmentMeasure(
        duration=n / rate,
        rms_dbfs=20.0 * math.log10(math.sqrt(sumsq / n) + RMS_EPSILON),  # same scale as audio.signal_stats
        peak=peak,
        clipped_fraction=clipped / n,
    )


def measure_segment(path: Path, info: AudioInfo, offset: float | None, end: float | None,
                     decode: bool) -> SegmentMeasure:
    start = offset or 0.0
    if start >= info.duration:
        return SegmentMeasure(error=("empty_audio", f"{path}: segment starts at {start:.3f} s, at or past "
                                                     f"the end of the file ({info.duration:.3f} s)"))
    stop = info.duration if end is None else min(end, info.duration)
    if not decode:
        return SegmentMeasure(duration=stop - start)
    try:
        return _levels(path, info.sample_rate, start, None if end is None else stop - start)
    except AudioError as e:
        kind = "nan_audio" if e.kind == "non_finite" else "unreadable_audio"
        return SegmentMeasure(duration=stop - start, error=(kind, str(e)))


def measure_file(job: FileJob) -> FileMeasure:
    """Header, content hash and levels of every segment of one file. Never raises."""
    path = Path(job.path)

    def fail(kind: str, message: str) -> FileMeasure:
        return FileMeasure(None, tuple(SegmentMeasure(error=(kind, message)) for _ in job.segments))

    try:
        # Checked here rather than left to libsndfile, which calls all three "format not recognised".
        if not path.exists():
            return fail("missing_audio", f"{path}: audio file not found")
        if path.is_dir():
            return fail("unreadable_audio", f"{path}: is a directory, not an audio file")
        if path.stat().st_size == 0:
            return fail("empty_audio", f"{path}: file is empty (0 bytes)")
        try:
            info = audio_info(path)
        except AudioError as e:
            return fail("empty_audio" if e.kind in ("no_samples", "empty_file") else "unreadable_audio", str(e))
        digest = file_sha1(path) if job.decode else None
        return FileMeasure(digest, tuple(measure_segment(path, info, off, end, job.decode)
                                          for off, end in job.segments))
    except Exception as e:  # noqa: BLE001 - one odd file (permissions, a decoder bug) must not end the run
        return fail("unreadable_audio", f"{path}: {type(e).__name__}: {e}")


# --- checks and the report ---------------------------------------------------------
