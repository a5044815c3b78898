"""Write transcripts as plain text, SRT and WebVTT subtitles, or JSON.

One module for the CLI and the GUI, so ``parcero transcribe --format srt`` and
the window's "Export…" produce the same bytes. Everything is UTF-8 with accents
and ``¿ ¡ ñ`` as they are: SRT has no declared encoding, and every current
player reads UTF-8 (the old Windows-1252 habit mangles Spanish).

Subtitle cues are built from the transcript's timed words. A cue ends at
sentence punctuation, before its words would need more than ``max_lines``
lines of ``max_chars`` characters or last more than ``max_seconds`` seconds,
and at a pause, so each cue is readable and appears while its words are
spoken. Words are never split; a cue's lines are made as even as they can be.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import engine
from engine.fileio import write_text_atomic
from engine.transcript import TimedText, Transcript, spread_words

EXPORT_FORMATS = ("txt", "srt", "vtt", "json")
JSON_FORMAT_NAME = "parcero-transcript"
JSON_FORMAT_VERSION = 1

# Words ending in one of these close a cue (and a line of the text export).
# Spanish opens questions and exclamations with ¿ ¡, but they end like English.
SENTENCE_END = (".", "?", "!", "…", ";")
# A silence this long between two words starts a new cue even mid-sentence:
# a subtitle left on screen through a long pause reads as out of sync.
MAX_GAP_SECONDS = 1.0
# Players drop or flash cues that end where they start; give them this much.
MIN_CUE_SECONDS = 0.2


@dataclass(frozen=True)
class Cue:
    """One subtitle: text shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str


def format_timestamp(seconds: float, decimal_marker: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT) or, with ``decimal_marker="."``, ``HH:MM:SS.mmm`` (WebVTT).

    Hours are not wrapped at 24: a 30-hour recording gives ``30:00:00,000``.
    """
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


def make_cues(
    transcript: Transcript,
    max_chars: int = 42,
    max_seconds: float = 6.0,
    max_gap: float = MAX_GAP_SECONDS,
    max_lines: int = 1,
) -> list[Cue]:
    """Group the transcript's words into subtitle cues of one or more lines.

    Parameters
    ----------
    transcript : Transcript
        Its ``words`` give the timing; when it has text but no timed words
        (a model that gave no alignment, Whisper without word timestamps),
        the words are spread evenly over each of its timed ``segments`` if it
        has them, else over ``transcript.duration``.
    max_chars : int
        Longest line, spaces included; 42 is the usual limit (Netflix, TED).
        A single longer word gets a line of its own.
    max_seconds : float
        Longest cue duration.
    max_gap : float
        A pause longer than this between words starts a new cue.
    max_lines : int
        Most lines in a cue; the lines of a cue are ``\n``-separated in its text.

    Returns
    -------
    list of Cue
        In time order, not overlapping, each at least ``MIN_CUE_SECONDS`` long
        where the audio allows; joining their texts with spaces (line breaks
        read as spaces) gives the transcript's words in order.
    """
    if max_chars < 1 or max_seconds <= 0 or max_lines < 1:
        raise ValueError(f"need max_chars >= 1, max_seconds > 0 and max_lines >= 1, "
                         f"got {max_chars}, {max_seconds}, {max_lines}")
    words = [w for w in timed_words(transcript) if w.text.strip()]
    groups: list[list[TimedText]] = []
    current: list[TimedText] = []
    for word in words:
        if current:
            too_long = (len(wrap_words([w.text for w in current + [word]], max_chars)) > max_lines
                        or word.end - current[0].start > max_seconds)
            if too_long or word.start - current[-1].end > max_gap:
                groups.append(current)
                current = []
        current.append(word)
        if word.text.endswith(SENTENCE_END):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    texts = ["\n".join(" ".join(line) for line in balanced_lines([w.text for w in g], max_chars)) for g in groups]
    return _timed_cues(groups, texts, transcript.duration)


def wrap_words(words: list[str], width: int) -> list[list[str]]:
    """Fill lines of at most ``width`` characters with whole words, in order (a longer word: a line to itself).

    Filling each line as far as it goes gives the fewest lines any split can.
    """
    lines: list[list[str]] = []
    length = 0
    for word in words:
        if lines and length + 1 + len(word) <= width:
            lines[-1].append(word)
            length += 1 + len(word)
        else:
            lines.append([word])
            length = len(word)
    return lines


def balanced_lines(words: list[str], width: int) -> list[list[str]]:
    """As few lines of at most ``width`` as :func:`wrap_words` needs, made as even as they can be.

    Two lines of 20 read better than one of 40 and a word on the next: the
    narrowest width that still needs no more lines is used.
    """
    lines = wrap_words(words, width)
    if len(lines) < 2:
        return lines
    narrowest = max(max(map(len, words)), -(-sum(map(len, words)) // len(lines)))
    for narrower in range(min(narrowest, width), width):
        if len(even := wrap_words(words, narrower)) <= len(lines):
            return even
    return lines


def timed_words(transcript: Transcript) -> list[TimedText]:
    """The transcript's timed words; without word timings, its words spread over each of its timed
    segments (Whisper's), or over the whole audio."""
    if transcript.words or not transcript.text.strip():
        return list(transcript.words)
    spans = [(s.start, s.end, s.text) for s in getattr(transcript, "segments", None) or []]
    words: list[TimedText] = []
    for start, end, text in spans or [(0.0, max(transcript.duration, 0.0), transcript.text)]:
        words += spread_words(text, start, end)
    return words


def _timed_cues(groups: list[list[TimedText]], texts: list[str], duration: float) -> list[Cue]:
    """Give each group of words a start and end that never run backwards or overlap.

    Times from attention alignment can overlap by a frame or run backwards
    at chunk joins; subtitle players misbehave on either.
    """
    cues: list[Cue] = []
    previous_end = 0.0
    for group, text in zip(groups, texts):
        start = max(min(w.start for w in group), previous_end)
        end = max(max(w.end for w in group), start + MIN_CUE_SECONDS)
        if duration > start:
            end = min(end, max(duration, start + 0.001))
        cues.append(Cue(round(start, 3), round(end, 3), text))
        previous_end = cues[-1].end
    return cues


def to_txt(transcript: Transcript) -> str:
    """The text, one sentence a line; joining the lines with spaces gives ``transcript.text``."""
    lines: list[str] = []
    current: list[str] = []
    for word in transcript.text.split():
        current.append(word)
        if word.endswith(SENTENCE_END):
            lines.append(" ".join(current))
            current = []
    if current:
        lines.append(" ".join(current))
    return "".join(line + "\n" for line in lines)


def to_srt(transcript: Transcript, max_chars: int = 42, max_seconds: float = 6.0, max_lines: int = 1) -> str:
    """SubRip subtitles: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, blank line between.

    An empty transcript gives an empty file, which players accept as "no subtitles".
    ``max_chars``, ``max_seconds`` and ``max_lines`` shape the cues (:func:`make_cues`).
    """
    blocks = []
    for number, cue in enumerate(make_cues(transcript, max_chars, max_seconds, max_lines=max_lines), start=1):
        span = f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}"
        blocks.append(f"{number}\n{span}\n{cue.text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript, max_chars: int = 42, max_seconds: float = 6.0, max_lines: int = 1) -> str:
    """WebVTT subtitles: the ``WEBVTT`` header, then cues timed ``HH:MM:SS.mmm``.

    Cue text is escaped (``&``, ``<``, ``>``) because WebVTT reads it as markup.
    """
    parts = ["WEBVTT\n"]
    for cue in make_cues(transcript, max_chars, max_seconds, max_lines=max_lines):
        span = f"{format_timestamp(cue.start, '.')} --> {format_timestamp(cue.end, '.')}"
        parts.append(f"{span}\n{_escape_vtt(cue.text)}\n")
    return "\n".join(parts)


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_json(
    transcript: Transcript,
    model_name: str | None = None,
    settings: dict[str, Any] | None = None,
    max_chars: int = 42,
    max_seconds: float = 6.0,
    max_lines: int = 1,
) -> str:
    """Everything about a transcript as JSON: text, words, characters, cues and how it was made.

    Parameters
    ----------
    model_name : str or None
        The model's name or folder, recorded so a result can be traced back.
    settings : dict or None
        Decoding settings (beam size, chunk length, ...). Paths and dataclasses
        in it are written as strings and objects.

    The cross-attention array is left out: it is large and belongs in a
    ``.npy`` file if anyone needs it.
    """
    document = {
        "format": JSON_FORMAT_NAME,
        "version": JSON_FORMAT_VERSION,
        "parcero_version": engine.__version__,
        "model": model_name,
        "settings": settings or {},
        **transcript.to_dict(),
        "cues": [dataclasses.asdict(c) for c in make_cues(transcript, max_chars, max_seconds, max_lines=max_lines)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def format_for_path(path: str | Path) -> str | None:
    """The export format a file name asks for (``"srt"`` for ``clase.SRT``), or None."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in EXPORT_FORMATS else None


def render(transcript: Transcript, fmt: str, **meta: Any) -> str:
    """The text of ``transcript`` in format ``fmt`` (one of ``EXPORT_FORMATS``).

    ``meta`` goes to the format's function: ``max_chars``/``max_seconds``/``max_lines``
    for subtitles and JSON, ``model_name``/``settings`` for JSON. Keys a format
    does not use are ignored, so callers can pass one set for any format.
    """
    if fmt == "txt":
        return to_txt(transcript)
    subtitle = {k: meta[k] for k in ("max_chars", "max_seconds", "max_lines") if k in meta}
    if fmt == "srt":
        return to_srt(transcript, **subtitle)
    if fmt == "vtt":
        return to_vtt(transcript, **subtitle)
    if fmt == "json":
        return to_json(transcript, meta.get("model_name"), meta.get("settings"), **subtitle)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def write_export(path: str | Path, transcript: Transcript, fmt: str | None = None, **meta: Any) -> Path:
    """Write ``transcript`` to ``path`` atomically; returns the path.

    ``fmt`` defaults to the file's extension. A crash or a full disk leaves any
    earlier file at ``path`` as it was, never half-written.
    """
    path = Path(path)
    fmt = fmt or format_for_path(path)
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the export format from the extension; "
                         f"use one of {', '.join(EXPORT_FORMATS)}")
    write_text_atomic(path, render(transcript, fmt, **meta))
    return path
