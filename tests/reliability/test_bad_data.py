"""Bad transcripts and bad manifest lines: read past, named by file and line, and the rest still read.

Each case is one or more manifest lines written between two good ones; it goes
through manifest reading, dataset validation and the tokenizer a training run
would build from what was kept.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.audio import save_wav
from engine.cli import main
from engine.data.manifest import MAX_LINE_BYTES, read_manifest
from engine.data.validate import ValidationOptions, validate_manifest
from engine.errors import ParceroError
from engine.text import CharTokenizer, TextConfig, normalize_text
from engine.training.loop import Trainer
from tests.helpers import SR, tone_speech
from tests.reliability.tools import tiny_run_config

KEEP = TextConfig(lowercase=False, punctuation="keep")  # the mode in which odd characters matter


def rec(id: str, text: str = "señor Núñez", audio: str | None = None, **fields) -> bytes:
    """One manifest line (no newline) for a distinct audio file ``wavs/<id>.wav`` unless told otherwise."""
    d = {"id": id, "audio": audio or f"wavs/{id}.wav", "duration": 1.0, "text": text, **fields}
    return json.dumps(d, ensure_ascii=False).encode()


@dataclass(frozen=True)
class LineCase:
    """Manifest line(s) and what reading and validating must make of them.

    ``bad_line``: regex of the read problem, reported at ``file:2`` (None: the lines read fine).
    ``validate``/``excluded``: the problem kind validation reports for the case's items, and its effect.
    ``normalized``: the case's text once normalised (case and punctuation kept).
    """

    name: str
    what: str
    lines: tuple[bytes, ...]
    bad_line: str | None = None
    validate: str | None = None
    excluded: bool = False
    normalized: str | None = None

    def __str__(self) -> str:
        return self.name


NFC, NFD = unicodedata.normalize("NFC", "qué pingüino"), unicodedata.normalize("NFD", "qué pingüino")

CASES = [
    # transcripts
    LineCase("emoji", "a transcript with emoji", (rec("emoji", "¡Hola! 😀 señor"),),
             validate="unknown_chars", normalized="¡Hola! 😀 señor"),
    LineCase("control-chars", "a transcript with control and zero-width characters (BEL, NUL, ESC, ZWSP)",
             (rec("control", "se\u0007ñor\u0000 Nú\u200bñez\u001b"),), normalized="señor Núñez"),
    LineCase("invalid-utf8", "a line in Latin-1, not UTF-8", (rec("latin").decode().encode("latin-1"),),
             bad_line=r"not UTF-8 text \(invalid .* at byte \d+\)"),
    LineCase("nfc-nfd", "the same words in composed (NFC) and decomposed (NFD) accents",
             (rec("nfc", NFC), rec("nfd", NFD)), normalized=NFC),
    LineCase("empty-text", "an empty transcript", (rec("vacío", ""),), validate="empty_text", excluded=True),
    LineCase("only-punctuation", "a transcript of punctuation only", (rec("signos", "¿¡…!?"),),
             validate="empty_text", excluded=True),
    # manifest lines
    LineCase("missing-fields", "a line without 'text'", (b'{"id": "sin-texto", "audio": "wavs/a.wav"}',),
             bad_line=r"missing field\(s\) text"),
    LineCase("missing-id-and-audio", "a line with only 'text'", (b'{"text": "hola"}',),
             bad_line=r"missing field\(s\) id, audio"),
    LineCase("duration-as-string", "duration \"3.2\" (a string)", (rec("cadena", duration="3.2"),),
             bad_line="field 'duration' must be a non-negative number of seconds, got '3.2'"),
    LineCase("id-as-number", "id 17 (a number)", (b'{"id": 17, "audio": "wavs/x.wav", "text": "hola"}',),
             bad_line="field 'id' must be a string, got int"),
    LineCase("duration-nan", "duration NaN", (b'{"id": "n", "audio": "wavs/n.wav", "duration": NaN, "text": "a"}',),
             bad_line="field 'duration' must be a non-negative number of seconds, got nan"),
    LineCase("negative-offset", "offset -1", (rec("negativo", offset=-1.0),),
             bad_line="field 'offset' must be a non-negative number"),
    LineCase("end-before-offset", "end before offset", (rec("al-revés", offset=2.0, end=1.0),),
             bad_line=r"field 'end' \(1.0\) must be after 'offset' \(2.0\)"),
    LineCase("bad-gender", "gender 'm'", (rec("género", gender="m"),),
             bad_line="field 'gender' must be 'male', 'female' or empty, got 'm'"),
    LineCase("not-an-object", "a JSON list instead of an object", (b'["id", "audio", "text"]',),
             bad_line="expected a JSON object, got list"),
    LineCase("truncated-line", "a line cut short by a crash mid-write", (rec("cortado")[:25],),
             bad_line=r"not valid JSON: .* \(column \d+\)"),
    LineCase("duplicate-ids", "two utterances with one id", (rec("doble", audio="wavs/doble-a.wav"),
                                                            rec("doble", audio="wavs/doble-b.wav")),
             validate="duplicate_id", excluded=True),
    LineCase("path-outside", "an audio path outside the dataset folder (../)",
             (rec("fuera", audio="../fuera/lejos.wav"),)),
    LineCase("path-outside-missing", "an audio path outside the dataset folder that does not exist",
             (rec("perdido", audio="../../no/existe.wav"),), validate="missing_audio", excluded=True),
    LineCase("crlf", "Windows line endings (CRLF)", (rec("crlf") + b"\r",)),
]


def _write(folder: Path, lines: list[bytes]) -> Path:
    """The manifest plus a distinct tone WAV for every audio path its lines name."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "lista.jsonl"
    manifest.write_bytes(b"\n".join(lines) + b"\n")
    for seed, line in enumerate(lines):
        try:
            audio = json.loads(line.decode("utf-8"))["audio"]
        except (ValueError, KeyError, TypeError):
            continue
        target = folder / audio
        if "no/existe" not in audio:
            target.parent.mkdir(parents=True, exist_ok=True)
            save_wav(target, tone_speech("señor", seed=seed), SR)
    return manifest


@pytest.fixture
def manifest(case, tmp_path) -> Path:
    return _write(tmp_path / "datos", [rec("bueno-a"), *case.lines, rec("bueno-b")])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_read_manifest(case, manifest):
    read = read_manifest(manifest)
    ids = [u.id for u in read.utterances]
    assert ids[0] == "bueno-a" and ids[-1] == "bueno-b"  # the lines around the bad one are read
    if case.bad_line is None:
        assert read.problems == []
        assert len(ids) == 2 + len(case.lines)
    else:
        [problem] = read.problems
        assert problem.kind == "bad_line" and problem.where == f"{manifest}:2"
        assert_match(case.bad_line, problem.message)
        assert ids == ["bueno-a", "bueno-b"]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_validate(case, manifest):
    report = validate_manifest(manifest, ValidationOptions(text_config=KEEP, workers=1))
    kept = {u.id: u for u in report.kept}
    assert {"bueno-a", "bueno-b"} <= set(kept)
    mine = [(p, e) for p, e in zip(report.problems, report.excluding) if not p.where.startswith("bueno-")]
    if case.bad_line is not None:
        assert [p.kind for p, _ in mine] == ["bad_line"]
    elif case.validate is None:
        assert mine == []
    else:
        hits = [(p, e) for p, e in mine if p.kind == case.validate]
        assert hits and all(e == case.excluded for _, e in hits)
        if case.validate == "unknown_chars":
            assert "U+1F600" in hits[0][0].message
        if case.validate == "missing_audio":
            assert str((manifest.parent / "../../no/existe.wav").resolve()) in hits[0][0].message
    if case.normalized is not None:
        texts = [normalize_text(u.text, KEEP) for i, u in kept.items() if not i.startswith("bueno-")]
        assert texts and set(texts) == {case.normalized}
        # what a training run would build: no invisible characters or loose combining accents
        vocab = CharTokenizer.build([u.text for u in report.kept], KEEP).tokens
        assert not [c for c in vocab if len(c) == 1 and unicodedata.category(c) in ("Cc", "Cf", "Mn")]


def assert_match(pattern: str, text: str) -> None:
    import re

    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"


# ---- whole-file cases --------------------------------------------------------------------------------


def test_a_one_gigabyte_line_is_skipped_in_bounded_memory(tmp_path):
    """A 1 GB line (a sparse file: no disk used) between two good ones."""
    manifest = _write(tmp_path, [rec("bueno-a"), rec("bueno-b")])
    good_a, good_b = manifest.read_bytes().splitlines(keepends=True)
    with open(manifest, "wb") as f:
        f.write(good_a + b'{"id": "enorme", "audio": "wavs/bueno-a.wav", "text": "')
        f.seek(2**30, os.SEEK_CUR)
        f.write(b'"}\n' + good_b)
    start = time.perf_counter()
    tracemalloc.start()
    try:
        read = read_manifest(manifest)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 60
    assert peak < 2 * MAX_LINE_BYTES + 8 * 2**20, f"held {peak / 1e6:.0f} MB"
    assert [u.id for u in read.utterances] == ["bueno-a", "bueno-b"]
    [problem] = read.problems
    assert problem.where == f"{manifest}:2" and "line of 1,024 MB is too long" in problem.message


def test_a_manifest_with_a_byte_order_mark_loses_no_line(tmp_path):
    manifest = _write(tmp_path, [b"\xef\xbb\xbf" + rec("bom"), rec("bueno-b")])
    read = read_manifest(manifest)
    assert read.problems == [] and [u.id for u in read.utterances] == ["bom", "bueno-b"]


def test_an_empty_manifest_is_reported_not_crashed_on(tmp_path, capsys):
    empty = tmp_path / "vacío.jsonl"
    empty.write_bytes(b"")
    assert main(["data", "validate", str(empty)]) == 0
    assert "Checked 0 utterances" in capsys.readouterr().out
    with pytest.raises(ParceroError, match=f"{empty}: the train manifest has no usable utterances"):
        Trainer(tiny_run_config(tmp_path, empty))


def test_parcero_data_validate_reads_past_every_case_at_once(tmp_path, capsys):
    lines = [rec("bueno-a")] + [line for case in CASES for line in case.lines] + [rec("bueno-b")]
    manifest = _write(tmp_path / "todo", lines)
    clean = tmp_path / "limpio.jsonl"
    assert main(["data", "validate", str(manifest), "--out", str(clean), "--keep-punctuation"]) == 0
    out = capsys.readouterr()
    n_bad = sum(case.bad_line is not None for case in CASES)
    assert f"{n_bad:,} unreadable manifest lines" in out.out
    kept = [json.loads(line)["id"] for line in clean.read_text(encoding="utf-8").splitlines()]
    assert kept[0] == "bueno-a" and kept[-1] == "bueno-b"
