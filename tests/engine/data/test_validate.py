"""Tests for engine.data.validate: every planted fault is found, named and handled as documented."""

from __future__ import annotations

import json

import pytest

from engine.data import measure as measure_module
from engine.data import validate as validate_module
from engine.data.manifest import Utterance
from engine.data.measure import file_sha1
from engine.data.validate import (
    ValidationOptions,
    default_charset,
    format_report,
    validate_manifest,
    validate_utterances,
)
from engine.errors import ConfigError
from engine.text import TextConfig
from tests.engine.data import fixtures_audio as fx

# (kind, where, excluded) of every problem planted in the zoo below.
EXPECTED_PROBLEMS = {
    ("bad_line", "LINE:21", True),
    ("bad_line", "LINE:22", True),
    ("missing_audio", "missing", True),
    ("unreadable_audio", "corrupt", True),
    ("empty_audio", "zero-bytes", True),
    ("empty_audio", "seg-past-end", True),
    ("silent_audio", "zeros", True),
    ("silent_audio", "quiet", True),
    ("nan_audio", "nan", True),
    ("clipped_audio", "clipped", False),
    ("extreme_duration", "short", True),
    ("extreme_duration", "long", False),
    ("empty_text", "no-text", True),
    ("empty_text", "only-punct", True),
    ("unknown_chars", "strasse", False),
    ("duplicate_id", "dup", True),
    ("duplicate_audio", "copy", True),
    ("duplicate_audio", "seg-a-again", True),
}
KEPT = ["good1", "good2", "good3", "clipped", "long", "strasse", "dup", "seg-a", "seg-b"]


def build_zoo(root):
    """A manifest with one item per fault, plus good items; returns its path."""
    clips = root / "clips"
    clips.mkdir()
    fx.wav(clips / "good1.wav", fx.tone(1.0, 220))
    fx.flac(clips / "good2.flac", fx.tone(2.0, 330))
    fx.wav(clips / "good3.wav", fx.tone(0.5, 440))
    fx.copy(clips / "good1.wav", clips / "copy.wav")
    fx.corrupt(clips / "corrupt.wav")
    fx.empty_file(clips / "zero.wav")
    fx.wav(clips / "zeros.wav", fx.tone(1.0, amplitude=0.0))
    fx.wav(clips / "quiet.wav", fx.tone(1.0, amplitude=3e-4))  # about -73 dBFS
    fx.float_wav_with_nan(clips / "nan.wav")
    fx.wav(clips / "clipped.wav", fx.square(1.0))
    fx.wav(clips / "short.wav", fx.tone(0.05))
    fx.wav(clips / "long.wav", fx.tone(31.0, sr=8000), sr=8000)
    for name, freq in (("t1", 500), ("t2", 600), ("t3", 700), ("t4", 800), ("t5", 900)):
        fx.wav(clips / f"{name}.wav", fx.tone(1.0, freq))
    fx.wav(clips / "session.wav", fx.tone(3.0, 250))
    r = fx.record
    lines = [
        r("good1", "clips/good1.wav", "El niño come piña.", speaker="ana", gender="female"),
        r("good2", "clips/good2.flac", "Señor Núñez", speaker="beto", gender="male"),
        r("good3", str(clips / "good3.wav"), "¿Qué tal?", speaker="ana", gender="female"),  # absolute path
        r("missing", "clips/nope.wav"),
        r("corrupt", "clips/corrupt.wav"),
        r("zero-bytes", "clips/zero.wav"),
        r("zeros", "clips/zeros.wav"),
        r("quiet", "clips/quiet.wav"),
        r("nan", "clips/nan.wav"),
        r("clipped", "clips/clipped.wav", "grito", speaker="caro", gender="female"),
        r("short", "clips/short.wav"),
        r("long", "clips/long.wav", "una historia larga", speaker="beto", gender="male"),
        r("no-text", "clips/t1.wav", "   "),
        r("only-punct", "clips/t2.wav", "¿?"),
        r("strasse", "clips/t3.wav", "Straße", speaker="dora"),
        r("dup", "clips/t4.wav", "primero"),
        r("dup", "clips/t5.wav", "segundo"),
        r("copy", "clips/copy.wav", "copia"),
        r("seg-a", "clips/session.wav", "uno", offset=0.0, end=1.0),
        r("seg-b", "clips/session.wav", "dos", offset=1.0, end=2.5),
        '{"id": "broken", "audio": ',  # line 21: not JSON
        json.dumps(r("no-audio-field", "x.wav") | {"audio": 3}),  # line 22: wrong type
        r("seg-a-again", "clips/session.wav", "uno otra vez", offset=0.0, end=1.0),
        r("seg-past-end", "clips/session.wav", "nada", offset=5.0),
    ]
    return fx.write_jsonl(root / "all.jsonl", lines)


@pytest.fixture
def zoo(tmp_path):
    path = build_zoo(tmp_path)
    return path, validate_manifest(path, ValidationOptions(workers=1))


def test_every_planted_fault_is_found_with_kind_where_and_effect(zoo):
    path, report = zoo
    found = {(p.kind, p.where, e) for p, e in zip(report.problems, report.excluding)}
    expected = {(k, w.replace("LINE", str(path)), e) for k, w, e in EXPECTED_PROBLEMS}
    assert found == expected
    assert len(report.problems) == len(expected)  # nothing reported twice


def test_exactly_the_faulty_items_are_excluded(zoo):
    _, report = zoo
    assert [u.id for u in report.kept] == KEPT
    assert report.total == 22  # bad lines are not items
    assert report.excluded == 13
    assert report.excluded_ids == {
        "missing", "corrupt", "zero-bytes", "zeros", "quiet", "nan", "short", "no-text", "only-punct",
        "dup", "copy", "seg-a-again", "seg-past-end",
    }


def test_messages_name_the_cause(zoo):
    _, report = zoo
    msg = {p.where: p.message for p in report.problems if p.kind != "bad_line"}
    assert "'ß' U+00DF" in msg["strasse"]
    assert msg["zeros"] == "every sample is zero"
    assert "near-silent" in msg["quiet"] and "dBFS" in msg["quiet"]
    assert "NaN" in msg["nan"] and "nan.wav" in msg["nan"]
    assert "not found" in msg["missing"] and "nope.wav" in msg["missing"]
    assert "0 bytes" in msg["zero-bytes"]
    assert msg["copy"] == "same audio as 'good1' (identical bytes: clips/copy.wav and clips/good1.wav)"
    assert msg["seg-a-again"] == "same audio as 'seg-a' (same file and segment)"
    assert msg["dup"] == "id used again (item 17; the kept one is item 16)"
    assert msg["short"] == "only 0.050 s long (minimum 0.1 s)"
    assert "100.0% of samples at full scale" in msg["clipped"]


def test_kept_items_carry_measured_durations_and_stats_are_right(zoo):
    _, report = zoo
    durations = {u.id: u.duration for u in report.kept}
    assert durations == pytest.approx({"good1": 1.0, "good2": 2.0, "good3": 0.5, "clipped": 1.0, "long": 31.0,
                                       "strasse": 1.0, "dup": 1.0, "seg-a": 1.0, "seg-b": 1.5})
    s = report.stats
    assert s.utterances == 9
    assert s.hours == pytest.approx(40.0 / 3600)
    assert s.speakers == 4  # ana, beto, caro, dora
    assert s.hours_by_gender == pytest.approx({"female": 2.5 / 3600, "male": 33.0 / 3600, "unknown": 4.5 / 3600})
    assert s.utterances_by_gender == {"female": 3, "male": 2, "unknown": 4}
    assert s.char_counts["ñ"] == 4  # niño, piña, señor, núñez
    assert s.char_counts["ß"] == 1
    assert "¿" not in s.char_counts  # stripped by the default TextConfig
    assert report.unknown_chars == {"ß": 1}


def test_report_dict_is_json_and_flags_each_problem(zoo):
    _, report = zoo
    d = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert d["kept"] == 9 and d["excluded"] == 13 and d["total"] == 22
    assert d["counts"]["extreme_duration"] == {"excluded": 1, "warned": 1}
    assert d["counts"]["duplicate_audio"] == {"excluded": 2, "warned": 0}
    assert d["unknown_chars"] == [{"char": "ß", "code_point": "U+00DF", "count": 1}]
    flagged = {(p["where"], p["kind"]): p["excluded"] for p in d["problems"]}
    assert flagged[("clipped", "clipped_audio")] is False
    assert flagged[("nan", "nan_audio")] is True
    assert d["stats"]["speakers"] == 4


def test_format_report_shows_table_counts_and_stats(zoo):
    _, report = zoo
    text = format_report(report, max_rows=5)
    assert text.startswith("Checked 22 utterances in ")
    assert "9 kept, 13 excluded, 3 warnings, 2 unreadable manifest lines." in text
    assert "effect" in text and "kind" in text and "where" in text and "message" in text
    assert "... and 13 more problems not shown" in text
    assert "  silent_audio         2 excluded" in text
    assert "  extreme_duration     1 excluded, 1 warned" in text
    assert "'ß' U+00DF ×1" in text
    assert "Kept data:" in text and "ñ " in text and "speakers: 4" in text


def test_header_only_mode_skips_decoding_checks(tmp_path):
    path = build_zoo(tmp_path)
    report = validate_manifest(path, ValidationOptions(decode_audio=False, workers=1))
    kinds = {(p.kind, p.where) for p in report.problems}
    assert ("silent_audio", "zeros") not in kinds
    assert ("nan_audio", "nan") not in kinds
    assert ("clipped_audio", "clipped") not in kinds
    assert ("duplicate_audio", "copy") not in kinds  # needs the content hash
    assert ("duplicate_audio", "seg-a-again") in kinds  # the path is enough
    assert ("extreme_duration", "short") in kinds  # the header gives the duration
    assert {"zeros", "quiet", "nan", "copy"} <= {u.id for u in report.kept}


def test_process_pool_gives_the_same_report(tmp_path, monkeypatch):
    path = build_zoo(tmp_path)
    serial = validate_manifest(path, ValidationOptions(workers=1))
    monkeypatch.setattr(validate_module, "POOL_MIN_FILES", 2)
    pools = []

    class SpyPool(validate_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(validate_module, "ProcessPoolExecutor", SpyPool)
    calls = []
    pooled = validate_manifest(path, ValidationOptions(workers=2), on_progress=lambda d, t: calls.append((d, t)))
    assert pools == [2]
    assert pooled.problems == serial.problems
    assert [u.to_dict() for u in pooled.kept] == [u.to_dict() for u in serial.kept]
    assert calls[-1] == (22, 22)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_reports_every_file(tmp_path):
    path = build_zoo(tmp_path)
    calls = []
    validate_manifest(path, ValidationOptions(workers=1), on_progress=lambda d, t: calls.append((d, t)))
    # 22 items use 19 distinct files: session.wav (4 segments) counts once, in one step of 4.
    assert len(calls) == 19
    assert calls[-1] == (22, 22)


def test_progress_callback_can_cancel(tmp_path):
    path = build_zoo(tmp_path)

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        validate_manifest(path, ValidationOptions(workers=1), on_progress=cancel)


def test_a_good_duplicate_is_kept_over_a_broken_first_one(tmp_path):
    fx.wav(tmp_path / "a.wav", fx.tone(1.0))
    items = [Utterance("x", "nope.wav", 1.0, "hola"), Utterance("x", "a.wav", 1.0, "hola")]
    report = validate_utterances(items, tmp_path, ValidationOptions(workers=1))
    assert [(p.kind, p.where) for p in report.problems] == [("missing_audio", "x"), ("duplicate_id", "x")]
    assert [u.audio for u in report.kept] == ["a.wav"]


def test_segments_are_checked_as_segments(tmp_path):
    x = fx.tone(3.0)
    x[16000:32000] = 0.0  # the middle second is silent
    fx.wav(tmp_path / "s.wav", x)
    items = [Utterance(f"s{k}", "s.wav", 0.0, "hola", offset=float(k), end=float(k + 1)) for k in range(3)]
    report = validate_utterances(items, tmp_path, ValidationOptions(workers=1))
    assert [(p.kind, p.where) for p in report.problems] == [("silent_audio", "s1")]
    assert [(u.id, u.duration) for u in report.kept] == [("s0", 1.0), ("s2", 1.0)]


def test_long_files_are_decoded_in_windows(tmp_path, monkeypatch):
    monkeypatch.setattr(measure_module, "LEVEL_WINDOW_SECONDS", 0.25)
    x = fx.tone(1.0)
    x[-100:] = 1.0  # clipping only in the last window
    fx.wav(tmp_path / "w.wav", x)
    report = validate_utterances([Utterance("w", "w.wav", 0.0, "hola")], tmp_path,
                                 ValidationOptions(workers=1, clip_fraction=0.005))
    assert [(p.kind, p.where) for p in report.problems] == [("clipped_audio", "w")]
    assert report.kept[0].duration == 1.0


def test_kept_punctuation_digits_and_emoji_are_unknown(tmp_path):
    fx.wav(tmp_path / "a.wav", fx.tone(1.0))
    fx.wav(tmp_path / "b.wav", fx.tone(1.0, 300))
    items = [Utterance("a", "a.wav", 1.0, "¡Hola! 😀"), Utterance("b", "b.wav", 1.0, "tengo 23 años")]
    options = ValidationOptions(workers=1, text_config=TextConfig(punctuation="keep"))
    report = validate_utterances(items, tmp_path, options)
    msg = {p.where: p.message for p in report.problems}
    assert set(msg) == {"a", "b"}
    assert "'😀' U+1F600" in msg["a"] and "¡" not in msg["a"].split(" in ")[0]
    assert "'2' U+0032, '3' U+0033" in msg["b"]
    assert len(report.kept) == 2  # unknown characters only warn


def test_default_charset_follows_the_text_config():
    assert default_charset() == "abcdefghijklmnopqrstuvwxyzáéíóúüñ "
    assert "Ñ" in default_charset(TextConfig(lowercase=False))
    assert "¿" in default_charset(TextConfig(punctuation="keep"))
    assert set(ValidationOptions(charset="ab").allowed_chars()) == {"a", "b", " "}


def test_options_are_checked():
    with pytest.raises(ConfigError):
        ValidationOptions(min_duration=5.0, max_duration=1.0)
    with pytest.raises(ConfigError):
        ValidationOptions(workers=-1)


def test_file_sha1_streams_file_bytes(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    assert file_sha1(p) == "a9993e364706816aba3e25717850c26c9cd0d89d"
