"""Kaldi data directories: ``wav.scp`` + ``text`` (+ ``utt2spk``, ``spk2gender``, ``segments``).

::

    wav.scp     <recording-id> <path>
    text        <utterance-id> <transcript>
    utt2spk     <utterance-id> <speaker-id>
    spk2gender  <speaker-id> m|f
    segments    <utterance-id> <recording-id> <start seconds> <end seconds>

Without ``segments`` every utterance id is also a recording id. With it, each
utterance is a stretch of its recording (``offset``/``end``); an end of ``-1``
means the end of the file, as in Kaldi's ``extract-segments``.

``wav.scp`` lines that are pipe commands (``sph2pipe -f wav x.sph |``) name no
file Parcero can read: each is reported, as is every utterance that needed it.
Relative paths are relative to the directory Kaldi was run from, usually the
recipe folder two levels above ``data/train``; they are tried against the data
directory, its parent and its grandparent, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.data.importers.common import ImportLog, PendingUtterance, absolute, line_where
from engine.errors import ParceroError


@dataclass(frozen=True)
class _Entry:
    value: str
    where: str


@dataclass(frozen=True)
class _Segment:
    recording: str
    start: float
    end: float | None  # None: to the end of the recording
    where: str


def detect(src: Path) -> str | None:
    if src.is_dir() and (src / "wav.scp").is_file() and (src / "text").is_file():
        return "found wav.scp and text"
    return None


def _read_key_values(path: Path, log: ImportLog, *, report_duplicates: bool = True) -> dict[str, _Entry]:
    """``<key> <rest of line>`` files; the first line of a repeated key wins."""
    table: dict[str, _Entry] = {}
    for line_no, line in log.read_lines(path):
        where = line_where(path, line_no)
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            log.bad_line(where, f"expected '<id> <value>', found only '{parts[0]}'")
            continue
        key, value = parts[0], parts[1].strip()
        if key in table:
            if report_duplicates:
                log.problem("duplicate_id", where, f"'{key}' was already listed at {table[key].where}; left out")
            continue
        table[key] = _Entry(value, where)
    return table


def _read_segments(path: Path, log: ImportLog) -> dict[str, _Segment]:
    segments: dict[str, _Segment] = {}
    for line_no, line in log.read_lines(path):
        where = line_where(path, line_no)
        fields = line.split()
        if len(fields) != 4:
            log.bad_line(where, f"expected '<utterance> <recording> <start> <end>', found {len(fields)} fields")
            continue
        utterance_id, recording = fields[0], fields[1]
        try:
            start, end = float(fields[2]), float(fields[3])
        except ValueError:
            log.bad_line(where, f"start and end must be numbers of seconds, got '{fields[2]}' and '{fields[3]}'")
            continue
        if start < 0 or (end != -1 and end <= start):
            log.bad_line(where, f"segment {start} – {end} s is empty or negative")
            continue
        if utterance_id in segments:
            log.problem("duplicate_id", where, f"'{utterance_id}' was already listed at "
                                               f"{segments[utterance_id].where}; left out")
            continue
        segments[utterance_id] = _Segment(recording, start, None if end == -1 else end, where)
    return segments


def _resolve_audio(value: str, src: Path) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute():
        return absolute(path)
    candidates = [absolute(base / path) for base in (src, src.parent, src.parent.parent)]
    # When none exists, the first is reported as missing.
    return next((c for c in candidates if c.exists()), candidates[0])


def collect(src: Path, log: ImportLog) -> None:
    scp, text = src / "wav.scp", src / "text"
    if not scp.is_file() or not text.is_file():
        raise ParceroError(f"{src}: a Kaldi data directory needs wav.scp and text")
    recordings: dict[str, Path | None] = {}  # None: a pipe command
    pipes: dict[str, str] = {}
    for recording, entry in _read_key_values(scp, log).items():
        if entry.value.endswith("|"):
            log.bad_line(entry.where, f"pipe commands are not supported ('{entry.value}'); convert "
                                      "the audio to .wav or .flac files and list their paths")
            recordings[recording], pipes[recording] = None, entry.where
        else:
            recordings[recording] = _resolve_audio(entry.value, src)
    speakers = {k: e.value for k, e in _read_key_values(src / "utt2spk", log).items()} \
        if (src / "utt2spk").is_file() else {}
    genders = {k: {"m": "male", "f": "female"}.get(e.value.lower(), "")
               for k, e in _read_key_values(src / "spk2gender", log).items()} \
        if (src / "spk2gender").is_file() else {}
    segments = _read_segments(src / "segments", log) if (src / "segments").is_file() else None

    used: set[str] = set()
    for line_no, line in log.read_lines(text):
        where = line_where(text, line_no)
        parts = line.strip().split(None, 1)
        utterance_id = parts[0]
        segment = None
        if segments is not None:
            segment = segments.get(utterance_id)
            if segment is None:
                log.problem("transcript_without_audio", where, f"'{utterance_id}' has no line in segments")
                continue
        recording = segment.recording if segment else utterance_id
        used.add(recording)
        if recording not in recordings:
            log.problem("transcript_without_audio", where, f"recording '{recording}' is not in wav.scp")
            continue
        audio = recordings[recording]
        if audio is None:
            log.problem("transcript_without_audio", where,
                        f"recording '{recording}' is a pipe command ({pipes[recording]}), not a file")
            continue
        speaker = speakers.get(utterance_id, "")
        log.add(PendingUtterance(
            id=utterance_id, audio=audio, text=parts[1] if len(parts) > 1 else "", where=where,
            speaker=speaker, gender=genders.get(speaker, ""),
            offset=segment.start if segment else None, end=segment.end if segment else None,
            segment_where=segment.where if segment else "",
        ))
    if segments is None:
        # With segments, a recording may rightly hold no transcribed speech.
        for recording in sorted(recordings.keys() - used):
            audio = recordings[recording]
            if audio is not None:
                log.problem("audio_without_transcript", audio, f"recording '{recording}' has no line in text")
