"""A CSV or TSV table with a header row: one utterance a row.

Columns are found by name, case-insensitively:

=========  ==========================================  ========
meaning    accepted names                              required
=========  ==========================================  ========
audio      path, audio, file, filename, wav            yes
text       text, sentence, transcript, transcription   yes
id         id, utt_id, utterance_id                    no (default: the audio path below the table's folder)
speaker    speaker, client_id, speaker_id              no
gender     gender, sex                                 no
segment    offset (or start), end                      no
=========  ==========================================  ========

Audio paths are relative to the table's folder (or absolute). A ``duration``
column is accepted but not trusted: the audio header is read anyway, to check
the file, and its duration is the true one. Any other non-empty column is kept
in ``Utterance.extra``.

The delimiter is a tab for ``.tsv`` files; otherwise the first of ``,`` tab
``;`` ``|`` that splits the header into recognisable columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

from engine.data.importers.common import (
    ImportLog,
    PendingUtterance,
    absolute,
    line_where,
    normalize_gender,
    split_row,
    utterance_id_from_path,
)
from engine.data.manifest import KNOWN
from engine.errors import ParceroError

TABLE_SUFFIXES = (".csv", ".tsv")
COLUMN_ALIASES = {
    "audio": ("path", "audio", "file", "filename", "wav"),
    "text": ("text", "sentence", "transcript", "transcription"),
    "id": ("id", "utt_id", "utterance_id"),
    "speaker": ("speaker", "client_id", "speaker_id"),
    "gender": ("gender", "sex"),
    "offset": ("offset", "start"),
    "end": ("end",),
}
REQUIRED = ("audio", "text")
DELIMITERS = (",", "\t", ";", "|")
_NOT_EXTRA = set(KNOWN) | {"duration"} | {name for names in COLUMN_ALIASES.values() for name in names}


def find_table(src: Path) -> Path | None:
    """``src`` when it is a table file, else the only .csv/.tsv file directly in it."""
    if src.is_file():
        return src if src.suffix.lower() in TABLE_SUFFIXES else None
    if not src.is_dir():
        return None
    tables = [p for p in src.iterdir() if p.suffix.lower() in TABLE_SUFFIXES and p.is_file()]
    return tables[0] if len(tables) == 1 else None


def _split_header(line: str, delimiter: str) -> list[str]:
    try:
        return [c.strip().lower() for c in split_row(line, delimiter)]
    except csv.Error:
        return []


def _columns_for(header: list[str]) -> dict[str, int]:
    """Meaning → column index, the first matching alias in header order."""
    found: dict[str, int] = {}
    for meaning, aliases in COLUMN_ALIASES.items():
        for i, name in enumerate(header):
            if name in aliases:
                found[meaning] = i
                break
    return found


def parse_header(table: Path, header_line: str) -> tuple[str, list[str], dict[str, int]]:
    """(delimiter, column names, meaning → index); missing required columns leave gaps in the dict."""
    delimiters = ("\t",) if table.suffix.lower() == ".tsv" else DELIMITERS
    best = None
    for delimiter in delimiters:
        header = _split_header(header_line, delimiter)
        columns = _columns_for(header)
        if all(m in columns for m in REQUIRED):
            return delimiter, header, columns
        if best is None or len(header) > len(best[1]):
            best = (delimiter, header, columns)
    return best


def _read_header(table: Path) -> str | None:
    try:
        with open(table, "rb") as f:
            return f.readline().decode("utf-8-sig").rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return None


def detect(src: Path) -> str | None:
    table = find_table(src)
    header_line = _read_header(table) if table else None
    if not header_line:
        return None
    _, header, columns = parse_header(table, header_line)
    if not all(m in columns for m in REQUIRED):
        return None
    names = f"{header[columns['audio']]} and {header[columns['text']]}"
    return f"{table.name} has a header with columns {names}"


def _seconds(value: str, column: str) -> float | None:
    """Seconds from a cell, None when it is empty; raises ValueError unless a number >= 0."""
    if not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0:  # NaN fails this too
        raise ValueError(f"'{column}' must be a number of seconds >= 0, got '{value}'")
    return seconds


def _split_line(line: str, delimiter: str) -> list[str]:
    """A row's fields: CSV quoting read as the csv module does (``"Dijo ""sí""."`` → ``Dijo "sí".``);
    balanced quotes that are no CSV quoting (``"Hola" dijo``) kept as written.

    Raises csv.Error on an unclosed quote.
    """
    try:
        return split_row(line, delimiter, strict=True)
    except csv.Error:
        if line.count('"') % 2:
            raise
        return split_row(line, delimiter, csv.QUOTE_NONE)


def collect(src: Path, log: ImportLog) -> None:
    table = find_table(src)
    if table is None:
        raise ParceroError(f"{src}: give one .csv or .tsv file (the folder holds none or several)")
    lines = log.read_lines(table)
    first = next(lines, None)
    if first is None:
        raise ParceroError(f"{table}: the file is empty")
    delimiter, header, columns = parse_header(table, first[1])
    missing = [m for m in REQUIRED if m not in columns]
    if missing:
        wanted = "; ".join(f"{m}: {' or '.join(COLUMN_ALIASES[m])}" for m in missing)
        raise ParceroError(f"{table}: the header lacks a required column ({wanted}); "
                           f"found columns: {', '.join(header) or '(none)'}")
    extras = [(name, i) for i, name in enumerate(header) if name and name not in _NOT_EXTRA]
    folder = table.parent
    for line_no, line in lines:
        where = line_where(table, line_no)
        try:
            row = _split_line(line, delimiter)
        except csv.Error as e:
            log.bad_line(where, f"cannot split into fields: {e}")
            continue
        if len(row) != len(header):
            log.bad_line(where, f"expected {len(header)} fields, found {len(row)}")
            continue
        cell = {meaning: row[i] for meaning, i in columns.items()}
        if not cell["audio"].strip():
            log.bad_line(where, f"the '{header[columns['audio']]}' field is empty")
            continue
        audio = absolute(folder / cell["audio"].strip())
        try:
            offset, end = _seconds(cell.get("offset", ""), "offset"), _seconds(cell.get("end", ""), "end")
        except ValueError as e:
            log.bad_line(where, str(e))
            continue
        if offset is not None and end is not None and end <= offset:
            log.bad_line(where, f"'end' ({end}) must be after 'offset' ({offset})")
            continue
        utterance_id = cell.get("id", "").strip() or utterance_id_from_path(audio, folder)
        log.add(PendingUtterance(
            id=utterance_id, audio=audio, text=cell["text"], where=where,
            speaker=cell.get("speaker", "").strip(), gender=normalize_gender(cell.get("gender", "")),
            offset=offset, end=end,
            extra={name: row[i].strip() for name, i in extras if row[i].strip()},
        ))
