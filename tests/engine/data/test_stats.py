"""Tests for engine.data.stats on hand-made utterances (no audio needed)."""

from __future__ import annotations

import json

import pytest

from engine.data.manifest import Utterance
from engine.data.stats import DatasetStats, dataset_stats, format_stats
from engine.text import TextConfig


def corpus():
    return [
        Utterance("a", "a.wav", 3600.0, "Año", speaker="s1", gender="female"),
        Utterance("b", "b.wav", 1800.0, "¿Ñu?", speaker="s1", gender="female"),
        Utterance("c", "c.wav", 900.0, "pingüino", speaker="s2", gender="male"),
        Utterance("d", "d.wav", 900.0, "sí no", speaker="", gender=""),
    ]


def test_hours_speakers_and_genders():
    s = dataset_stats(corpus())
    assert s.utterances == 4
    assert s.hours == pytest.approx(2.0)
    assert s.speakers == 2
    assert s.utterances_without_speaker == 1
    assert s.hours_by_gender == pytest.approx({"male": 0.25, "female": 1.5, "unknown": 0.25})
    assert s.utterances_by_gender == {"male": 1, "female": 2, "unknown": 1}
    assert (s.duration_min, s.duration_mean, s.duration_max) == (900.0, 1800.0, 3600.0)


def test_char_counts_are_normalised_and_sorted_by_count():
    s = dataset_stats(corpus())
    # "año" "ñu" "pingüino" "sí no": punctuation stripped, lower-cased, accents kept.
    assert s.char_counts == {
        "n": 3, "o": 3, "i": 2, "ñ": 2, "a": 1, " ": 1, "g": 1, "p": 1, "s": 1, "u": 1, "í": 1, "ü": 1,
    }
    assert list(s.char_counts)[:4] == ["n", "o", "i", "ñ"]
    kept = dataset_stats(corpus(), TextConfig(lowercase=False, punctuation="keep"))
    assert kept.char_counts["¿"] == 1 and kept.char_counts["Ñ"] == 1 and kept.char_counts["ñ"] == 1


def test_empty_dataset_is_all_zero():
    s = dataset_stats([])
    assert s == DatasetStats()
    assert s.hours_by_gender == {"male": 0.0, "female": 0.0, "unknown": 0.0}
    assert format_stats(s).startswith("Utterances: 0")


def test_to_dict_is_plain_json():
    d = json.loads(json.dumps(dataset_stats(corpus()).to_dict(), ensure_ascii=False))
    assert d["hours"] == 2.0 and d["speakers"] == 2
    assert d["char_counts"]["ñ"] == 2
    assert list(d["char_counts"])[0] == "n"


def test_small_amounts_are_shown_in_minutes_or_seconds():
    items = [Utterance("a", "a.wav", 90.0, "hola", gender="male"), Utterance("b", "b.wav", 2.5, "sí", gender="female")]
    assert "By gender: male 1.5 min (1 utt.), female 2.5 s (1 utt.), unknown 0.0 s (0 utt.)" in format_stats(
        dataset_stats(items))


def test_format_shows_spanish_letters_and_space_visibly():
    text = format_stats(dataset_stats(corpus()))
    lines = text.splitlines()
    assert lines[0] == "Utterances: 4   hours: 2.00 h   speakers: 2 (1 utterance without speaker)"
    assert lines[1] == "By gender: male 0.25 h (1 utt.), female 1.50 h (2 utt.), unknown 0.25 h (1 utt.)"
    assert lines[2] == "Duration: min 900.00 s, mean 1800.00 s, max 3600.00 s"
    assert lines[3] == "Spanish letters: á 0.0%  é 0.0%  í 5.6%  ó 0.0%  ú 0.0%  ü 5.6%  ñ 11.1%"
    assert lines[4] == "Characters (12 distinct, 18 in all):"
    assert lines[5] == "  n 16.7%  o 16.7%  i 11.1%  ñ 11.1%  ␠ 5.6%  a 5.6%  g 5.6%  p 5.6%"


def test_format_warns_when_accents_look_stripped():
    items = [Utterance(f"u{k}", "x.wav", 1.0, "el nino come pina manana " * 3) for k in range(20)]
    assert "were the accents stripped upstream?" in format_stats(dataset_stats(items))
