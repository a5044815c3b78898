"""Mozilla Common Voice: ``validated.tsv`` (or train/dev/test.tsv) beside ``clips/*.mp3``.

Columns are found by header name, so old releases (``accent``, genders
``male``/``female``) and new ones (``accents``, ``variant``, ``sentence_id``,
genders ``male_masculine``/``female_feminine``) both read::

    client_id  path  sentence  up_votes  down_votes  age  gender  accent  locale  segment

The speaker is ``client_id`` and the utterance id the clip's file stem. Age,
accent(s), locale and variant go to ``Utterance.extra`` when not empty.
"""

from __future__ import annotations

import csv
from pathlib import Path

from engine.data.importers.common import (
    ImportLog,
    PendingUtterance,
    line_where,
    normalize_gender,
    split_row,
    unquote,
)
from engine.errors import ParceroError

# Every release has validated.tsv, the clips that enough listeners accepted;
# custom exports sometimes have only the train/dev/test splits.
PREFERRED_TABLES = ("validated.tsv",)
SPLIT_TABLES = ("train.tsv", "dev.tsv", "test.tsv")
# Clips listeners rejected or have not rated yet: imported only when named as SRC.
OTHER_TABLES = ("other.tsv", "invalidated.tsv")
REQUIRED_COLUMNS = ("path", "sentence")
# (column in the TSV, key in Utterance.extra); the first present column wins per key.
EXTRA_COLUMNS = (("age", "age"), ("accents", "accent"), ("accent", "accent"), ("locale", "locale"),
                 ("variant", "variant"))


def _header_columns(table: Path) -> list[str] | None:
    try:
        with open(table, "rb") as f:
            first = f.readline().decode("utf-8-sig").rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return None
    return [c.strip() for c in first.split("\t")]


def _is_cv_table(table: Path) -> bool:
    columns = _header_columns(table)
    return columns is not None and all(c in columns for c in REQUIRED_COLUMNS)


def find_tables(src: Path) -> list[Path]:
    """The TSV files to import from ``src`` (a release folder or one .tsv file)."""
    if src.is_file():
        return [src]
    preferred = [src / name for name in PREFERRED_TABLES if (src / name).is_file()]
    if preferred:
        return preferred
    return [src / name for name in SPLIT_TABLES if (src / name).is_file()]


def detect(src: Path) -> str | None:
    """A reason when ``src`` looks like a Common Voice release or one of its TSV files."""
    if src.is_file():
        if src.suffix.lower() == ".tsv" and (src.parent / "clips").is_dir() and _is_cv_table(src):
            return f"{src.name} has Common Voice columns (path, sentence) and clips/ is beside it"
        return None
    if not (src / "clips").is_dir():
        return None
    tables = find_tables(src) or [src / n for n in OTHER_TABLES if (src / n).is_file()]
    if not tables:
        return None
    return f"found {', '.join(t.name for t in tables)} and clips/"


def collect(src: Path, log: ImportLog) -> None:
    tables = find_tables(src)
    if not tables:
        names = ", ".join(PREFERRED_TABLES + SPLIT_TABLES)
        others = [n for n in OTHER_TABLES if (src / n).is_file()]
        hint = f"; to import {others[0]} anyway, give that file as the source" if others else ""
        raise ParceroError(f"{src}: no Common Voice table here (looked for {names}){hint}")
    for table in tables:
        _read_table(table, log)


def _read_table(table: Path, log: ImportLog) -> None:
    clips = table.parent / "clips"
    lines = log.read_lines(table)
    header = next(lines, None)
    if header is None:
        raise ParceroError(f"{table}: the file is empty")
    columns = [c.strip() for c in split_row(header[1], "\t", csv.QUOTE_NONE)]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ParceroError(f"{table}: not a Common Voice table: no column {', '.join(missing)} "
                           f"(found: {', '.join(columns)})")
    index = {name: i for i, name in reversed(list(enumerate(columns)))}  # first of a repeated name wins
    extras = [(key, index[column]) for column, key in EXTRA_COLUMNS if column in index]
    for line_no, line in lines:
        where = line_where(table, line_no)
        try:
            # Common Voice writes its tables with CSV quoting: a sentence holding a quote is
            # quoted and its quotes doubled ("El ""Frederick Henry""."). Fields are split on
            # tabs alone (a sentence never holds one), then each well-formed quoted field is
            # unquoted; a stray quote in a hand-edited table stays as written.
            row = [unquote(field) for field in split_row(line, "\t", csv.QUOTE_NONE)]
        except csv.Error as e:
            log.bad_line(where, f"cannot split into tab-separated fields: {e}")
            continue
        while len(row) > len(columns) and not row[-1].strip():
            row.pop()  # trailing empty fields from a tool that pads rows
        if len(row) != len(columns):
            log.bad_line(where, f"expected {len(columns)} tab-separated fields, found {len(row)}")
            continue
        clip = row[index["path"]].strip()
        if not clip:
            log.bad_line(where, "the 'path' field is empty")
            continue
        if not Path(clip).suffix:
            clip += ".mp3"  # the first releases listed clips without their extension
        extra = {}
        for key, i in extras:
            if key not in extra and row[i].strip():
                extra[key] = row[i].strip()
        log.add(PendingUtterance(
            id=Path(clip).stem, audio=clips / clip, text=row[index["sentence"]], where=where,
            speaker=row[index["client_id"]].strip() if "client_id" in index else "",
            gender=normalize_gender(row[index["gender"]]) if "gender" in index else "",
            extra=extra,
        ))
