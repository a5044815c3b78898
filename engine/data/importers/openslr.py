"""OpenSLR crowdsourced Spanish dialect sets (SLR71–SLR75, e.g. SLR72 Colombian).

Each download unpacks to one folder per dialect and gender::

    es_co_female/line_index.tsv      cof_02436_01372133427<TAB>Texto de la frase
    es_co_female/cof_02436_01372133427.wav   (48 kHz)
    es_co_male/...

``line_index.tsv`` lines are ``<file id><TAB><text>``; some releases have an
extra empty column or spaces around the fields. The source folder may hold
several such folders or be one of them. The gender comes from the folder name,
the speaker from the file id's first two parts (``cof_02436``), and the folder
name's dialect becomes ``extra["locale"]`` (``es_co`` → ``es-CO``).
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.data.importers.common import ImportLog, PendingUtterance, audio_files_by_stem, line_where
from engine.errors import ParceroError

INDEX_NAME = "line_index.tsv"
_DIALECT_FOLDER = re.compile(r"^([a-z]{2})_([a-z]{2})(?:_|$)", re.IGNORECASE)


def speaker_folders(src: Path) -> list[Path]:
    """``src`` itself when it holds a line_index.tsv, else its subfolders that do."""
    if not src.is_dir():
        return []
    if (src / INDEX_NAME).is_file():
        return [src]
    return sorted(d for d in src.iterdir() if d.is_dir() and (d / INDEX_NAME).is_file())


def detect(src: Path) -> str | None:
    folders = speaker_folders(src)
    if not folders:
        return None
    if folders == [src]:
        return f"found {INDEX_NAME}"
    shown = ", ".join(f"{d.name}/" for d in folders[:4]) + (", ..." if len(folders) > 4 else "")
    return f"found {INDEX_NAME} in {shown}"


def gender_from_folder(name: str) -> str:
    tokens = re.split(r"[_\-\s]+", name.lower())
    if "female" in tokens:
        return "female"
    if "male" in tokens:
        return "male"
    return ""


def speaker_from_id(file_id: str) -> str:
    """``cof_02436_01372133427`` → ``cof_02436``: the recording prefix plus the speaker number."""
    parts = file_id.split("_")
    return "_".join(parts[:2]) if len(parts) >= 3 else parts[0]


def collect(src: Path, log: ImportLog) -> None:
    folders = speaker_folders(src)
    if not folders:
        raise ParceroError(f"{src}: no {INDEX_NAME} here or in its subfolders")
    for folder in folders:
        _read_folder(folder, log)


def _split_line(line: str) -> tuple[str, list[str]]:
    if "\t" in line:
        fields = [f.strip() for f in line.split("\t")]
    else:
        # A few hand-edited indexes use spaces; the id never contains one.
        fields = line.strip().split(None, 1)
    return fields[0], [f for f in fields[1:] if f]


def _read_folder(folder: Path, log: ImportLog) -> None:
    index = folder / INDEX_NAME
    gender = gender_from_folder(folder.name)
    dialect = _DIALECT_FOLDER.match(folder.name)
    locale = f"{dialect.group(1).lower()}-{dialect.group(2).upper()}" if dialect else ""
    audio = audio_files_by_stem(folder)
    referenced: set[str] = set()
    try:
        lines = log.read_lines(index)
    except ParceroError as e:
        log.bad_line(index.as_posix(), str(e))
        return
    for line_no, line in lines:
        where = line_where(index, line_no)
        file_id, texts = _split_line(line)
        if not file_id:
            log.bad_line(where, "the line has no file id")
            continue
        if len(texts) > 1:
            log.bad_line(where, f"expected '<file id><TAB><text>', found {len(texts) + 1} non-empty fields")
            continue
        referenced.add(file_id)
        path = audio.get(file_id)
        if path is None:
            log.problem("transcript_without_audio", where, f"no audio file {file_id}.wav in {folder.name}/")
            continue
        log.add(PendingUtterance(
            id=file_id, audio=path, text=texts[0] if texts else "", where=where,
            speaker=speaker_from_id(file_id), gender=gender,
            extra={"locale": locale} if locale else {},
        ))
    for stem in sorted(audio.keys() - referenced):
        log.problem("audio_without_transcript", audio[stem], f"no line for '{stem}' in {INDEX_NAME}")
