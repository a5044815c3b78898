"""A plain folder: every audio file with a same-named ``.txt`` transcript beside it.

::

    grabaciones/ana/0001.wav   grabaciones/ana/0001.txt   ("¿Dónde está la estación?")
    grabaciones/luis/0001.flac grabaciones/luis/0001.txt

Subfolders are searched too. The id is the file's path below the source folder
without extension, folders joined by ``-`` (``ana-0001``), so speakers' folders
may reuse file names. A file in a subfolder gets that first-level folder's
name as its speaker (``ana``), the usual way people sort recordings by
voice; files directly in the source folder have no speaker. Gender is unknown.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from engine.data.importers.common import (
    ImportLog,
    PendingUtterance,
    is_audio_name,
    line_where,
    utterance_id_from_path,
    walk_files,
)
from engine.errors import ParceroError

TRANSCRIPT_SUFFIX = ".txt"


def _transcript_name(audio_name: str, names: set[str]) -> str | None:
    stem = os.path.splitext(audio_name)[0]
    for suffix in (TRANSCRIPT_SUFFIX, TRANSCRIPT_SUFFIX.upper()):
        if stem + suffix in names:
            return stem + suffix
    return None


def detect(src: Path) -> str | None:
    if not src.is_dir():
        return None
    for folder, names in walk_files(src):
        name_set = set(names)
        for name in names:
            if is_audio_name(name):
                transcript = _transcript_name(name, name_set)
                if transcript is not None:
                    example = (folder / name).relative_to(src).as_posix()
                    return f"found audio files with same-named .txt transcripts (e.g. {example})"
    return None


def read_transcript(path: Path, log: ImportLog) -> str | None:
    """The whole text of a transcript file, lines joined by spaces; None (reported) when unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        log.bad_line(path.as_posix(), f"cannot read ({e.strerror or e})")
        return None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line_no = raw[:e.start].count(b"\n") + 1
        log.bad_line(line_where(path, line_no), f"not UTF-8 text ({e.reason} at byte {e.start})")
        return None
    # A transcript wrapped over several lines is one utterance; a newline
    # inside a training text would only be noise.
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def collect(src: Path, log: ImportLog) -> None:
    if not src.is_dir():
        raise ParceroError(f"{src}: the 'folder' layout needs a folder")
    for folder, names in walk_files(src):
        name_set = set(names)
        for name in names:
            if not is_audio_name(name):
                continue
            audio = folder / name
            transcript_name = _transcript_name(name, name_set)
            if transcript_name is None:
                log.problem("audio_without_transcript", audio, f"no {os.path.splitext(name)[0]}.txt beside it")
                continue
            transcript = folder / transcript_name
            text = read_transcript(transcript, log)
            if text is None:
                continue
            rel = audio.relative_to(src).parts
            log.add(PendingUtterance(
                id=utterance_id_from_path(audio, src), audio=audio, text=text, where=transcript.as_posix(),
                speaker=rel[0] if len(rel) > 1 else "",
            ))
