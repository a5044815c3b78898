import pytest

from engine.metrics import base_letter, error_rates
from engine.text import TextConfig


def test_accents_count_as_errors_and_are_reported():
    r = error_rates(["El pingüino comió ñoquis."], ["el pinguino comio ñoquis"])
    # normalised: punctuation stripped, lower case; 2 of 4 words wrong
    assert r.wer == pytest.approx(0.5)
    assert r.words.substitutions == 2 and r.words.hits == 2
    assert r.chars.substitutions == 2
    assert r.cer == pytest.approx(2 / len("el pingüino comió ñoquis"))
    assert r.accent_substitutions == 2
    assert r.confusions == {"ü→u": 1, "ó→o": 1}


def test_perfect_and_empty_cases():
    assert error_rates(["¿Qué tal?"], ["qué tal"]).wer == 0.0
    keep = error_rates(["¿Qué tal?"], ["qué tal"], TextConfig(lowercase=False, punctuation="keep"))
    assert keep.wer == 1.0 and keep.cer > 0
    assert error_rates([], []).utterances == 0
    r = error_rates(["hola"], [""])
    assert r.wer == 1.0 and r.words.deletions == 1
    with pytest.raises(ValueError):
        error_rates(["a"], [])


def test_corpus_level_rates_weight_by_length():
    r = error_rates(["uno dos tres cuatro", "cinco"], ["uno dos tres cuatro", "seis"])
    assert r.wer == pytest.approx(1 / 5)
    assert r.utterances == 2
    d = r.to_dict()
    assert d["words"]["rate"] == pytest.approx(0.2)


def test_base_letter():
    assert [base_letter(c) for c in "áéíóúüñÑ"] == list("aeiouunN")
