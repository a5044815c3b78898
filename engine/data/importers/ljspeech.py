"""LJSpeech layout: ``metadata.csv`` beside ``wavs/<id>.wav``, one speaker.

``metadata.csv`` has no header; each UTF-8 line is ``id|text`` or
``id|text|normalized text``. The original text (second column) is used because
it keeps what the reader saw, accents and punctuation included; the normalized
column, where one exists, has numbers spelled out in LJSpeech's English
conventions and serves only when the original is empty. The speaker is the
dataset folder's name.
"""

from __future__ import annotations

from pathlib import Path

from engine.data.importers.common import ImportLog, PendingUtterance, audio_files_by_stem, line_where
from engine.errors import ParceroError

METADATA_NAME = "metadata.csv"
AUDIO_FOLDER = "wavs"


def detect(src: Path) -> str | None:
    if src.is_dir() and (src / METADATA_NAME).is_file() and (src / AUDIO_FOLDER).is_dir():
        return f"found {METADATA_NAME} and {AUDIO_FOLDER}/"
    return None


def collect(src: Path, log: ImportLog) -> None:
    metadata, wavs = src / METADATA_NAME, src / AUDIO_FOLDER
    if not metadata.is_file() or not wavs.is_dir():
        raise ParceroError(f"{src}: an LJSpeech folder needs {METADATA_NAME} and a {AUDIO_FOLDER}/ folder")
    audio = audio_files_by_stem(wavs)
    speaker = src.name
    referenced: set[str] = set()
    for line_no, line in log.read_lines(metadata):
        where = line_where(metadata, line_no)
        fields = line.split("|")
        if len(fields) not in (2, 3):
            found = f"{len(fields)} field{'s' if len(fields) != 1 else ''}"
            log.bad_line(where, f"expected 'id|text' or 'id|text|normalized text', found {found}")
            continue
        utterance_id = fields[0].strip()
        if not utterance_id:
            log.bad_line(where, "the id (first field) is empty")
            continue
        text = fields[1] if fields[1].strip() or len(fields) == 2 else fields[2]
        referenced.add(utterance_id)
        path = audio.get(utterance_id)
        if path is None:
            log.problem("transcript_without_audio", where, f"no {AUDIO_FOLDER}/{utterance_id}.wav")
            continue
        log.add(PendingUtterance(id=utterance_id, audio=path, text=text, where=where, speaker=speaker))
    for stem in sorted(audio.keys() - referenced):
        log.problem("audio_without_transcript", audio[stem], f"no line for '{stem}' in {METADATA_NAME}")
