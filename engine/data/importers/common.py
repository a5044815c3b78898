"""What every corpus importer shares: reading metadata lines, checking audio, collecting problems.

An importer parses its layout's metadata into :class:`PendingUtterance` records
and hands them to an :class:`ImportLog`, which rejects empty texts and repeated
ids at once. :meth:`ImportLog.finish` then reads each audio file's header (never
its samples) to get the duration, and turns every file that cannot be used into
a :class:`~engine.data.manifest.DataProblem` instead of an exception.

Where a problem is reported (``DataProblem.where``):

* problems with an audio file (``missing_audio``, ``unreadable_audio``,
  ``empty_audio``, ``audio_without_transcript``) name the audio file's path;
* problems with a line of metadata (``bad_line``, ``empty_text``,
  ``duplicate_id``, ``transcript_without_audio``) name ``file:line``.
"""

from __future__ import annotations

import codecs
import csv
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from engine.audio import SUPPORTED_EXTENSIONS, AudioInfo, audio_info
from engine.data.manifest import DataProblem, Utterance
from engine.errors import AudioError, ParceroError

ProgressCallback = Callable[[int, int], None]  # (items done, items in all)

# Kaldi's extract-segments lets a segment end this far past the end of its
# recording (and cuts it there): segment ends are often rounded up.
MAX_SEGMENT_OVERSHOOT = 0.5

_GENDERS = {
    "male": "male", "m": "male", "male_masculine": "male", "masculine": "male",
    "masculino": "male", "hombre": "male",
    "female": "female", "f": "female", "female_feminine": "female", "feminine": "female",
    "femenino": "female", "mujer": "female",
}


@dataclass
class PendingUtterance:
    """An utterance read from metadata whose audio header has not been checked yet."""

    id: str
    audio: Path  # absolute
    text: str
    where: str  # the metadata line it came from, "file:line"
    speaker: str = ""
    gender: str = ""
    offset: float | None = None  # segment start, seconds
    end: float | None = None  # segment end, seconds; None with an offset = to the end of the file
    extra: dict[str, Any] = field(default_factory=dict)
    segment_where: str = ""  # the line that defined the segment, when not ``where``


def clean_text(text: str) -> str:
    """Strip surrounding whitespace and compose accents (NFC); nothing else.

    Accents, ñ, ¿ ¡ and punctuation are kept: normalising for training is the
    job of :mod:`engine.text`, and a manifest should keep what the corpus says.
    """
    return unicodedata.normalize("NFC", text.strip())


def normalize_gender(value: str) -> str:
    """``"male"``, ``"female"`` or ``""`` from the spellings corpora use (m, F, male_masculine...)."""
    return _GENDERS.get(value.strip().lower(), "")


def absolute(path: str | Path) -> Path:
    """An absolute, normalised path that keeps symlinks as the user named them."""
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def is_audio_name(name: str) -> bool:
    # Names starting with a dot are hidden files, notably the "._clip.wav"
    # AppleDouble files that macOS leaves in zipped corpora: not audio.
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_EXTENSIONS


def audio_files_by_stem(folder: Path) -> dict[str, Path]:
    """The audio files directly in ``folder``, keyed by name without extension.

    One directory listing, so checking thousands of ids against it costs no
    file-system calls. When a stem has several extensions, the first in
    ``SUPPORTED_EXTENSIONS`` order (.wav first) wins.
    """
    rank = {ext: i for i, ext in enumerate(SUPPORTED_EXTENSIONS)}
    found: dict[str, tuple[int, Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return {}
    for entry in entries:
        if not is_audio_name(entry.name) or not entry.is_file():
            continue
        stem, ext = os.path.splitext(entry.name)
        order = rank[ext.lower()]
        if stem not in found or order < found[stem][0]:
            found[stem] = (order, folder / entry.name)
    return {stem: path for stem, (_, path) in found.items()}


def walk_files(root: Path) -> Iterator[tuple[Path, list[str]]]:
    """Every folder under ``root`` (itself included) with its sorted file names, in sorted order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        yield Path(dirpath), sorted(filenames)


def utterance_id_from_path(audio: Path, root: Path) -> str:
    """An id from an audio path: its path below ``root`` without extension, folders joined by ``-``.

    Using the whole relative path keeps ids unique when speakers' folders reuse
    names such as ``0001.wav``; a flat folder gets plain file stems.
    """
    try:
        relative = audio.relative_to(root)
    except ValueError:
        return audio.stem
    return "-".join(relative.with_suffix("").parts)


def line_where(path: Path, line_no: int) -> str:
    return f"{path.as_posix()}:{line_no}"


def split_row(line: str, delimiter: str, quoting: int = csv.QUOTE_MINIMAL, strict: bool = False) -> list[str]:
    """Split one line of a delimited table; raises csv.Error on a malformed line.

    Each line is parsed on its own, never as part of a multi-line record: an
    unbalanced quote then spoils one row instead of swallowing the rest of the
    file, and transcripts spanning lines are not wanted anyway. ``strict`` also
    refuses a quoted field followed by more text (``"Hola" dijo``), which the
    lenient reader would read as ``Hola dijo``.
    """
    return next(csv.reader((line,), delimiter=delimiter, quoting=quoting, strict=strict), [])


def unquote(field: str) -> str:
    """A field as a CSV writer quoted it (``"El ""Frederick Henry""."``) back to its text, as csv reads it.

    Only a well-formed quoted field is unquoted: one that starts and ends with ``"`` and
    whose inner quotes are all doubled. Anything else is text as written (``"Hola" dijo``),
    where a lenient csv reader would silently eat the quotes.
    """
    if len(field) >= 2 and field[0] == field[-1] == '"':
        inner = field[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return field


class ImportLog:
    """Utterances and problems gathered while importing one corpus."""

    def __init__(self) -> None:
        self.pending: list[PendingUtterance] = []
        self.problems: list[DataProblem] = []
        self._first_seen: dict[str, str] = {}  # id -> where it was first read

    def problem(self, kind: str, where: str | Path, message: str) -> None:
        if isinstance(where, Path):
            where = where.as_posix()
        self.problems.append(DataProblem(kind, where, message))

    def bad_line(self, where: str, message: str) -> None:
        self.problem("bad_line", where, message)

    def read_lines(self, path: Path) -> Iterator[tuple[int, str]]:
        """Decoded, non-blank lines of a UTF-8 text file as ``(line number, line)``.

        A UTF-8 byte-order mark is dropped and ``\\r\\n`` endings are accepted.
        A line that is not valid UTF-8 is reported as ``bad_line`` and skipped:
        replacing its bytes would quietly put wrong letters in a transcript.

        Raises
        ------
        ParceroError
            The file cannot be opened (checked at once, not on first iteration).
        """
        try:
            handle = open(path, "rb")
        except OSError as e:
            raise ParceroError(f"{path}: cannot read ({e.strerror or e})") from e
        return self._decoded_lines(handle, path)

    def _decoded_lines(self, handle: BinaryIO, path: Path) -> Iterator[tuple[int, str]]:
        with handle:
            for line_no, raw in enumerate(handle, 1):
                raw = raw.rstrip(b"\r\n")
                if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    self.bad_line(line_where(path, line_no), f"not UTF-8 text ({e.reason} at byte {e.start})")
                    continue
                yield line_no, line

    def add(self, item: PendingUtterance) -> None:
        """Queue one utterance, unless its id was already used or its text is empty."""
        first = self._first_seen.get(item.id)
        if first is not None:
            # The first occurrence wins: the source is ambiguous and guessing
            # which transcript is right would hide the problem.
            self.problem("duplicate_id", item.where, f"id '{item.id}' was already used at {first}; left out")
            return
        self._first_seen[item.id] = item.where
        item.text = clean_text(item.text)
        if not item.text:
            self.problem("empty_text", item.where, f"'{item.id}' has an empty transcript")
            return
        self.pending.append(item)

    def finish(self, on_progress: ProgressCallback | None = None) -> list[Utterance]:
        """Read the header of every queued utterance's audio; return those that are usable.

        Calls ``on_progress(done, total)`` once before the first item and after each one.
        """
        total = len(self.pending)
        if on_progress is not None:
            on_progress(0, total)
        # Segments of one recording share its header: read (or fail) once per file.
        segment_headers: dict[Path, AudioInfo | None] = {}
        utterances = []
        for done, item in enumerate(self.pending, 1):
            utterance = self._check(item, segment_headers)
            if utterance is not None:
                utterances.append(utterance)
            if on_progress is not None:
                on_progress(done, total)
        self.pending = []
        return utterances

    def _header(self, item: PendingUtterance, segmented: bool) -> AudioInfo | None:
        try:
            return audio_info(item.audio)
        except AudioError as e:
            if segmented:
                left_out = f"every segment of it is left out ('{item.id}' at {item.where} first)"
            else:
                left_out = f"'{item.id}' ({item.where}) is left out"
            self.problem(audio_problem_kind(item.audio, e), item.audio, f"{e.problem}; {left_out}")
            return None

    def _check(self, item: PendingUtterance, segment_headers: dict[Path, AudioInfo | None]) -> Utterance | None:
        segmented = item.offset is not None or item.end is not None
        if not segmented:
            info = self._header(item, segmented=False)
        elif item.audio in segment_headers:
            info = segment_headers[item.audio]
        else:
            info = segment_headers[item.audio] = self._header(item, segmented=True)
        if info is None:
            return None
        offset = end = None
        duration = info.duration
        if segmented:
            span = self._segment_span(item, info)
            if span is None:
                return None
            offset, end = span
            duration = end - offset
        return Utterance(
            id=item.id, audio=item.audio.as_posix(), duration=duration, text=item.text,
            speaker=item.speaker, gender=item.gender, sample_rate=info.sample_rate,
            offset=offset, end=end, extra=item.extra,
        )

    def _segment_span(self, item: PendingUtterance, info: AudioInfo) -> tuple[float, float] | None:
        where = item.segment_where or item.where
        start = item.offset or 0.0
        if start >= info.duration:
            self.bad_line(where, f"segment '{item.id}' starts at {start:.3f} s, at or past the end of "
                                 f"{item.audio.name} ({info.duration:.3f} s long)")
            return None
        end = info.duration if item.end is None else item.end
        if end > info.duration + MAX_SEGMENT_OVERSHOOT:
            self.bad_line(where, f"segment '{item.id}' ends at {end:.3f} s, past the end of "
                                 f"{item.audio.name} ({info.duration:.3f} s long)")
            return None
        return start, min(end, info.duration)


def audio_problem_kind(path: Path, error: AudioError) -> str:
    """The DataProblem kind for an audio file that audio_info refused."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing_audio"
    except OSError:
        return "unreadable_audio"
    # audio_info says "contains no audio samples" for a valid header with zero
    # frames; a 0-byte file has no samples either.
    if size == 0 or error.kind in ("no_samples", "empty_file"):
        return "empty_audio"
    return "unreadable_audio"
