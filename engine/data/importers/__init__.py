"""Turn a speech corpus in a known layout into utterances, and say what was left out and why.

Layouts (``FORMATS``, also the order in which ``"auto"`` tries them):

=============  ==========================================================
commonvoice    ``validated.tsv`` (or train/dev/test.tsv) + ``clips/*.mp3``
openslr        ``line_index.tsv`` + ``<id>.wav`` per dialect/gender folder
ljspeech       ``metadata.csv`` (``id|text``) + ``wavs/<id>.wav``
librispeech    ``<spk>/<chapter>/<spk>-<chapter>.trans.txt`` + ``.flac``
kaldi          ``wav.scp`` + ``text`` (+ utt2spk, spk2gender, segments)
csv            a .csv/.tsv table with a header naming path and text columns
folder         audio files, each with a same-named ``.txt`` beside it
=============  ==========================================================

Importing never stops at a bad item: each missing, unreadable or empty file,
malformed line, empty text or repeated id becomes a
:class:`~engine.data.manifest.DataProblem` and the rest is read. Only a source
that is not the chosen layout at all raises :class:`~engine.errors.ParceroError`.

Audio paths come out absolute; the caller makes them relative to the manifest
it writes (:func:`engine.data.manifest.relative_audio`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from engine.data.importers import commonvoice, folder, kaldi, librispeech, ljspeech, openslr, table
from engine.data.importers.common import ImportLog, ProgressCallback, absolute
from engine.data.manifest import DataProblem, Utterance
from engine.errors import ParceroError

# Each module has detect(src) -> reason | None and collect(src, log).
_LAYOUTS: dict[str, ModuleType] = {
    "commonvoice": commonvoice,
    "openslr": openslr,
    "ljspeech": ljspeech,
    "librispeech": librispeech,
    "kaldi": kaldi,
    "csv": table,
    "folder": folder,
}
FORMATS: tuple[str, ...] = tuple(_LAYOUTS)

_LOOKED_FOR = (
    "validated.tsv (or train/dev/test.tsv) with clips/ (commonvoice)",
    "line_index.tsv here or in a subfolder (openslr)",
    "metadata.csv with wavs/ (ljspeech)",
    "*.trans.txt files (librispeech)",
    "wav.scp with text (kaldi)",
    "one .csv/.tsv file with path and text columns (csv)",
    "audio files with same-named .txt files (folder)",
)


@dataclass
class ImportResult:
    """What an import found.

    Attributes
    ----------
    format : str
        The layout used, one of ``FORMATS``.
    detected : bool
        True when the layout was detected (``format="auto"``), not named.
    utterances : list of Utterance
        The usable items, audio paths absolute (POSIX separators).
    problems : list of DataProblem
        Every item left out, with the reason.
    source : Path
        The imported file or folder, absolute.
    """

    format: str
    detected: bool
    utterances: list[Utterance]
    problems: list[DataProblem]
    source: Path


def detect_format(src: str | Path) -> tuple[str, str]:
    """Guess a corpus's layout from its distinctive files.

    Parameters
    ----------
    src : str or Path
        The corpus folder (or, for Common Voice and csv, one table file).

    Returns
    -------
    (str, str)
        The format, one of ``FORMATS``, and the reason in words,
        e.g. ``("commonvoice", "found validated.tsv and clips/")``.

    Raises
    ------
    ParceroError
        ``src`` does not exist, or no layout matches; the message lists what was looked for.
    """
    src = absolute(src)
    if not src.exists():
        raise ParceroError(f"{src}: no such file or folder", code="data.missing", params={"path": str(src)})
    for name, layout in _LAYOUTS.items():
        reason = layout.detect(src)
        if reason is not None:
            return name, reason
    looked_for = "; ".join(_LOOKED_FOR)
    raise ParceroError(f"{src}: cannot tell which corpus layout this is. Looked for: {looked_for}. "
                       f"Name the format explicitly (one of {', '.join(FORMATS)}).",
                       code="data.unknown_layout", params={"path": str(src), "looked_for": looked_for})


def import_corpus(
    src: str | Path,
    format: str = "auto",
    *,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Read a corpus into utterances, reporting each unusable item as a problem.

    Only the audio headers are read (for durations and to check every file),
    never the samples, so a corpus of 100k clips imports in a minute or so.

    Parameters
    ----------
    src : str or Path
        The corpus folder, or a table file for ``commonvoice`` and ``csv``.
    format : str
        ``"auto"`` or one of ``FORMATS``.
    on_progress : callable, optional
        Called as ``on_progress(done, total)`` once before the audio checks
        and after each utterance; raising from it aborts the import.

    Returns
    -------
    ImportResult

    Raises
    ------
    ParceroError
        Unknown format, missing source, undetectable layout, or a source
        lacking the layout's essential files or columns.
    """
    if format != "auto" and format not in _LAYOUTS:
        raise ParceroError(f"unknown corpus format '{format}' (choose auto or one of {', '.join(FORMATS)})")
    source = absolute(src)
    if not source.exists():
        raise ParceroError(f"{source}: no such file or folder", code="data.missing", params={"path": str(source)})
    detected = format == "auto"
    if detected:
        format, _ = detect_format(source)
    log = ImportLog()
    _LAYOUTS[format].collect(source, log)
    utterances = log.finish(on_progress)
    return ImportResult(format=format, detected=detected, utterances=utterances,
                        problems=log.problems, source=source)


__all__ = ["FORMATS", "ImportResult", "detect_format", "import_corpus"]
