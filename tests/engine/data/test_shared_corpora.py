"""Importers on the real Spanish corpora in ``../shared/data`` (skipped when that folder is absent).

Expected values are worked out here from the raw files with plain Python, so
the tests check the importers against the data, not against its README.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from engine.data.importers import import_corpus

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CV_SAMPLE = SHARED_DATA / "cv-es-sample"
CAJAL = SHARED_DATA / "cajal-es"


def require(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"shared corpus not found: {folder}")
    return folder


def raw_cv_rows(folder: Path) -> list[dict[str, str]]:
    # Common Voice writes its tables with CSV quoting ("El ""Frederick Henry""."): read them as csv does.
    with open(folder / "validated.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_common_voice_sample_imports_every_clip_with_its_text_and_gender():
    folder = require(CV_SAMPLE)
    rows = raw_cv_rows(folder)
    result = import_corpus(folder)
    assert (result.format, result.detected, result.problems) == ("commonvoice", True, [])
    assert len(rows) == len(result.utterances) == 100
    by_id = {u.id: u for u in result.utterances}
    for row in rows:
        utterance = by_id[Path(row["path"]).stem]
        assert utterance.text == unicodedata.normalize("NFC", row["sentence"].strip())
        assert utterance.speaker == row["client_id"]
    assert by_id["common_voice_es_21304806"].text == (
        'Aquí Olivier van Noort perdió el contacto con el "Frederick Henry".')  # not ""Frederick Henry""
    assert not any('""' in u.text for u in result.utterances)
    texts = " ".join(by_id[Path(r["path"]).stem].text for r in rows)
    for char in "ñ¿¡áéíóú":
        assert char in texts, char
    genders = Counter(u.gender for u in result.utterances)
    assert genders == Counter(row["gender"] for row in rows) == Counter(male=58, female=18, **{"": 24})
    assert all(u.duration > 0.5 and u.sample_rate == 48000 for u in result.utterances)
    assert 7 * 60 < sum(u.duration for u in result.utterances) < 9 * 60  # "about 8 minutes"


def cajal_lines(folder: Path) -> list[str]:
    return (folder / "metadata.csv").read_text(encoding="utf-8").splitlines()


def test_cajal_imports_each_transcribed_wav_and_reports_each_untranscribed_one():
    folder = require(CAJAL)
    lines = cajal_lines(folder)
    transcribed = {line.split("|")[0] for line in lines}
    wavs = {p.stem: p for p in (folder / "wavs").glob("*.wav")}
    assert len(wavs) == 195
    result = import_corpus(folder, "ljspeech")
    assert sorted(u.id for u in result.utterances) == sorted(transcribed & wavs.keys())
    orphans = sorted(wavs.keys() - transcribed)
    assert [(p.kind, p.where) for p in result.problems] == [
        ("audio_without_transcript", wavs[stem].as_posix()) for stem in orphans]
    assert len(result.utterances) + len(orphans) == 195
    assert {(u.speaker, u.gender, u.sample_rate) for u in result.utterances} == {("cajal-es", "", 22050)}
    assert all(2.0 < u.duration < 10.0 for u in result.utterances)
    texts = {line.split("|")[0]: line.split("|")[1] for line in lines}
    assert all(u.text == texts[u.id] for u in result.utterances)
    assert any("ó" in u.text for u in result.utterances)


def test_cajal_with_one_metadata_line_removed_reports_exactly_that_wav(tmp_path):
    folder = require(CAJAL)
    lines = cajal_lines(folder)
    dropped = lines[10].split("|")[0]
    view = tmp_path / "cajal-es"
    view.mkdir()
    (view / "wavs").symlink_to(folder / "wavs", target_is_directory=True)
    (view / "metadata.csv").write_text("\n".join(lines[:10] + lines[11:]) + "\n", encoding="utf-8")
    result = import_corpus(view)
    assert (result.format, len(result.utterances)) == ("ljspeech", len(lines) - 1)
    assert [(p.kind, p.where) for p in result.problems] == [
        ("audio_without_transcript", (view / "wavs" / f"{dropped}.wav").as_posix())]
