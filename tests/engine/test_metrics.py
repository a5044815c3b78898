import pytest

from engine.metrics import base_letter, error_rate, error_rates, utterance_errors
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


def test_utterance_errors_add_up_to_the_corpus_counts():
    refs = ["El pingüino comió ñoquis.", "uno dos tres", "", "hola"]
    hyps = ["el pinguino comio", "uno tres tres cuatro", "algo", ""]
    each = utterance_errors(refs, hyps)
    whole = error_rates(refs, hyps)
    for unit in ("words", "chars"):
        for part in ("substitutions", "deletions", "insertions", "hits"):
            assert sum(getattr(getattr(u, unit), part) for u in each) == getattr(getattr(whole, unit), part)
    assert each[0].reference == "el pingüino comió ñoquis" and each[0].hypothesis == "el pinguino comio"
    assert (each[0].words.substitutions, each[0].words.deletions, each[0].words.rate) == (2, 1, 0.75)
    assert (each[1].words.substitutions, each[1].words.insertions, each[1].words.errors) == (1, 1, 2)
    assert each[2].words.rate == 1.0 and each[2].words.insertions == 1  # said something for an empty reference
    assert each[3].chars.deletions == 4 and each[3].chars.rate == 1.0
    assert utterance_errors([], []) == []
    with pytest.raises(ValueError):
        utterance_errors(["a"], [])


def test_error_rate_of_an_empty_reference():
    assert error_rate(0, 0) == 0.0 and error_rate(2, 0) == 1.0 and error_rate(1, 4) == 0.25
