"""JSONL manifests: one utterance a line, the currency of every data job.

    {"id": "cv-0001", "audio": "clips/0001.mp3", "duration": 3.42, "text": "¿Qué tal?",
     "speaker": "a1b2", "gender": "female", "sample_rate": 48000, "accent": "andino"}

``audio`` may be relative to the manifest's folder, so a dataset folder can be
moved or shared as a whole. ``offset``/``end`` (seconds) cut a segment out of a
longer file. Keys beyond the known ones (``age``, ``accent``, ``locale``...) are
kept in ``Utterance.extra`` and written back unchanged.

Reading never stops at a bad line: each one becomes a :class:`DataProblem`
naming the file, line and field, and the rest is read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from engine.errors import ParceroError
from engine.fileio import atomic_path

GENDERS = ("male", "female", "")
REQUIRED = ("id", "audio", "text")
KNOWN = ("id", "audio", "duration", "text", "speaker", "gender", "sample_rate", "offset", "end")
MAX_LINE_BYTES = 16 * 2**20  # an utterance's line is well under a kilobyte; this is room for an audiobook chapter
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class Utterance:
    id: str
    audio: str  # path as written in the manifest: relative to its folder, or absolute
    duration: float  # seconds of this utterance (of the segment when offset/end are set)
    text: str
    speaker: str = ""
    gender: str = ""  # "male", "female" or "" (unknown)
    sample_rate: int = 0  # of the audio file; 0 = unknown
    offset: float | None = None  # segment start in the file, seconds
    end: float | None = None  # segment end in the file, seconds
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "audio": self.audio, "duration": round(self.duration, 4), "text": self.text,
            "speaker": self.speaker, "gender": self.gender, "sample_rate": self.sample_rate,
        }
        if self.offset is not None:
            d["offset"] = self.offset
        if self.end is not None:
            d["end"] = self.end
        d.update({k: v for k, v in self.extra.items() if k not in d})
        return d

    def audio_path(self, base: str | Path | None) -> Path:
        """The audio file's path, resolving a relative one against ``base`` (the manifest's folder)."""
        p = Path(self.audio).expanduser()
        return p if p.is_absolute() or base is None else Path(base) / p

    def load_samples(self, base: str | Path | None, sample_rate: int):
        """The utterance's samples at ``sample_rate``, shape (n,): its segment only when it has ``offset``/``end``.

        Raises AudioError (a ParceroError) naming the file when it cannot be read.
        """
        from engine.audio import load_audio

        offset = self.offset or 0.0
        duration = None if self.end is None else self.end - offset
        return load_audio(self.audio_path(base), sample_rate, offset=offset, duration=duration)


@dataclass(frozen=True)
class DataProblem:
    """One thing wrong with one item of a dataset.

    ``kind`` is a short code for filtering (see KINDS); ``where`` names the item: an
    utterance id, a file path, or ``file:line``.
    """

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "message": self.message}


KINDS = {
    "bad_line": "manifest or metadata line that cannot be read",
    "missing_audio": "audio file not found",
    "unreadable_audio": "audio file corrupt or not audio",
    "empty_audio": "audio with no samples",
    "silent_audio": "all-zero or near-silent audio",
    "nan_audio": "NaN or Inf samples",
    "clipped_audio": "heavy clipping",
    "extreme_duration": "implausibly short or long",
    "empty_text": "empty transcript",
    "unknown_chars": "characters outside the target character set",
    "duplicate_id": "id used more than once",
    "duplicate_audio": "same audio content as another utterance",
    "audio_without_transcript": "audio file with no transcript",
    "transcript_without_audio": "transcript with no audio file",
}


@dataclass
class ManifestReadResult:
    utterances: list[Utterance]
    problems: list[DataProblem]


def utterance_from_dict(d: Any, where: str) -> Utterance:
    """Build an utterance from one decoded JSON line; raises ValueError naming the field."""
    if not isinstance(d, dict):
        raise ValueError(f"expected a JSON object, got {type(d).__name__}")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    for key in ("id", "audio", "text"):
        if not isinstance(d[key], str):
            raise ValueError(f"field '{key}' must be a string, got {type(d[key]).__name__}")
    if not d["id"].strip():
        raise ValueError("field 'id' is empty")
    for key in ("speaker", "gender"):
        if key in d and d[key] is not None and not isinstance(d[key], str):
            raise ValueError(f"field '{key}' must be a string, got {type(d[key]).__name__}")
    gender = (d.get("gender") or "").strip().lower()
    if gender not in GENDERS:
        raise ValueError(f"field 'gender' must be 'male', 'female' or empty, got {d['gender']!r}")
    numbers = {}
    for key in ("duration", "offset", "end"):
        v = d.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"field '{key}' must be a non-negative number of seconds, got {v!r}")
        numbers[key] = float(v)
    sr = d.get("sample_rate", 0) or 0
    if isinstance(sr, bool) or not isinstance(sr, int) or sr < 0:
        raise ValueError(f"field 'sample_rate' must be a non-negative integer, got {sr!r}")
    if "offset" in numbers and "end" in numbers and numbers["end"] <= numbers["offset"]:
        raise ValueError(f"field 'end' ({numbers['end']}) must be after 'offset' ({numbers['offset']})")
    return Utterance(
        id=d["id"], audio=d["audio"], duration=numbers.get("duration", 0.0), text=d["text"],
        speaker=d.get("speaker") or "", gender=gender, sample_rate=sr,
        offset=numbers.get("offset"), end=numbers.get("end"),
        extra={k: v for k, v in d.items() if k not in KNOWN},
    )


def read_manifest(path: str | Path) -> ManifestReadResult:
    """Read every good line of a manifest; bad lines become problems, never exceptions.

    Raises OSError only when the file itself cannot be opened.
    """
    path = Path(path)
    utterances, problems = [], []
    with open(path, "rb") as f:
        for line_no, raw in _lines(f):
            where = f"{path}:{line_no}"
            if isinstance(raw, int):
                problems.append(DataProblem("bad_line", where, f"line of {raw / 2**20:,.0f} MB is too long "
                                            f"(one utterance takes at most {MAX_LINE_BYTES >> 20} MB); left out"))
                continue
            if line_no == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM):]  # Notepad and Excel's "UTF-8" save starts with one
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(DataProblem("bad_line", where, f"not UTF-8 text ({e.reason} at byte {e.start})"))
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(DataProblem("bad_line", where, f"not valid JSON: {e.msg} (column {e.colno})"))
                continue
            try:
                utterances.append(utterance_from_dict(d, where))
            except ValueError as e:
                problems.append(DataProblem("bad_line", where, str(e)))
    return ManifestReadResult(utterances, problems)


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes | int]]:
    """``(line number, bytes)`` for each line; ``(line number, length)`` for a line over MAX_LINE_BYTES.

    A too-long line is skipped a megabyte at a time, never held whole: a broken
    export can write a single line of gigabytes, and reading it in one piece
    would take the memory of the machine.
    """
    line_no = 0
    while raw := f.readline(MAX_LINE_BYTES + 1):
        line_no += 1
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield line_no, raw
            continue
        length = len(raw)
        while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
            length += len(rest)
        yield line_no, length + len(rest)


def open_manifest(path: str | Path, warn=None) -> ManifestReadResult:
    """:func:`read_manifest` for commands: an unreadable file is a ParceroError naming it.

    ``warn`` (e.g. a print to stderr) gets each bad line.
    """
    try:
        result = read_manifest(path)
    except OSError as e:
        raise ParceroError(f"{path}: cannot read the manifest: {e.strerror or e}", code="manifest.unreadable",
                           params={"path": str(path), "reason": str(e.strerror or e)}) from None
    if warn is not None:
        for problem in result.problems:
            warn(problem)
    return result


def write_manifest(path: str | Path, utterances: Iterable[Utterance]) -> int:
    """Write utterances as UTF-8 JSONL atomically; returns the number written."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for u in utterances:
            f.write(json.dumps(u.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n


def relative_audio(audio: str | Path, manifest_dir: str | Path) -> str:
    """``audio`` relative to the manifest's folder when it lies inside it, else absolute (POSIX separators)."""
    audio, base = Path(audio).resolve(), Path(manifest_dir).resolve()
    try:
        return audio.relative_to(base).as_posix()
    except ValueError:
        return audio.as_posix()
