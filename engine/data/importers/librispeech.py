"""LibriSpeech-style trees: ``<spk>/<chapter>/<spk>-<chapter>.trans.txt`` beside the audio.

Each transcript file lists its chapter's utterances, one a line::

    1089-134686-0000 HE HOPED THERE WOULD BE STEW FOR DINNER

and the audio is ``1089-134686-0000.flac`` in the same folder. The tree may sit
at any depth below the source folder (``LibriSpeech/train-clean-100/...``). The
speaker is the id's first part; the gender comes from ``SPEAKERS.TXT`` when the
source folder or its parent has one (``ID | SEX | SUBSET | MINUTES | NAME``).
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.data.importers.common import (
    ImportLog,
    PendingUtterance,
    audio_files_by_stem,
    line_where,
    normalize_gender,
    walk_files,
)
from engine.errors import ParceroError

TRANSCRIPT_SUFFIX = ".trans.txt"
SPEAKER_FILE_NAMES = ("SPEAKERS.TXT", "SPEAKERS.txt", "speakers.txt")
# Detection stops looking this deep: LibriSpeech/<subset>/<spk>/<chapter>/ is four levels.
DETECT_MAX_DEPTH = 4


def _first_transcript(root: Path, depth: int = 0) -> Path | None:
    # os.scandir knows each entry's type from the listing, so a flat folder of
    # 100k clips costs one listing here, not 100k stat() calls.
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        if entry.name.endswith(TRANSCRIPT_SUFFIX) and entry.is_file():
            return Path(entry.path)
    if depth >= DETECT_MAX_DEPTH:
        return None
    for entry in entries:
        if entry.is_dir():
            found = _first_transcript(Path(entry.path), depth + 1)
            if found is not None:
                return found
    return None


def detect(src: Path) -> str | None:
    if not src.is_dir():
        return None
    found = _first_transcript(src)
    if found is None:
        return None
    return f"found {found.relative_to(src).as_posix()}"


def read_speaker_genders(src: Path, log: ImportLog) -> dict[str, str]:
    """Speaker id → ``"male"``/``"female"`` from the first SPEAKERS.TXT in ``src`` or its parent."""
    for folder in (src, src.parent):
        for name in SPEAKER_FILE_NAMES:
            path = folder / name
            if path.is_file():
                return _parse_speakers(path, log)
    return {}


def _parse_speakers(path: Path, log: ImportLog) -> dict[str, str]:
    genders: dict[str, str] = {}
    for line_no, line in log.read_lines(path):
        if line.lstrip().startswith(";"):
            continue  # comment lines, including the column header
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 2 or not fields[0]:
            log.bad_line(line_where(path, line_no), "expected 'ID | SEX | ...'")
            continue
        genders[fields[0]] = normalize_gender(fields[1])
    return genders


def collect(src: Path, log: ImportLog) -> None:
    if not src.is_dir():
        raise ParceroError(f"{src}: a LibriSpeech source must be a folder")
    genders = read_speaker_genders(src, log)
    found = False
    for folder, names in walk_files(src):
        transcripts = [folder / name for name in names if name.endswith(TRANSCRIPT_SUFFIX)]
        if transcripts:
            found = True
            _read_folder(folder, transcripts, genders, log)
    if not found:
        raise ParceroError(f"{src}: no *{TRANSCRIPT_SUFFIX} file in this folder or below")


def _read_folder(folder: Path, transcripts: list[Path], genders: dict[str, str], log: ImportLog) -> None:
    # One listing per chapter folder; ids are looked up in it, not stat()ed.
    audio = audio_files_by_stem(folder)
    referenced: set[str] = set()
    for transcript in transcripts:
        try:
            lines = log.read_lines(transcript)
        except ParceroError as e:
            log.bad_line(transcript.as_posix(), str(e))
            continue
        for line_no, line in lines:
            where = line_where(transcript, line_no)
            parts = line.strip().split(None, 1)
            utterance_id = parts[0]
            referenced.add(utterance_id)
            path = audio.get(utterance_id)
            if path is None:
                log.problem("transcript_without_audio", where, f"no audio file {utterance_id}.flac beside it")
                continue
            speaker = utterance_id.split("-")[0]
            log.add(PendingUtterance(
                id=utterance_id, audio=path, text=parts[1] if len(parts) > 1 else "", where=where,
                speaker=speaker, gender=genders.get(speaker, ""),
            ))
    names = ", ".join(t.name for t in transcripts)
    for stem in sorted(audio.keys() - referenced):
        log.problem("audio_without_transcript", audio[stem], f"no line for '{stem}' in {names}")
