"""The women − men gap with its bootstrap interval: known answers, determinism, and the report's field."""

import numpy as np
import pytest

from engine.evaluate import EvalRow, scored
from engine.gap import MIN_UTTERANCES_FOR_INTERVAL, RateGap, rate_gaps
from engine.metrics import error_rates
from engine.text import TextConfig

SENTENCES = ["el perro come pan", "la casa es azul", "hola señor Núñez", "mañana llueve", "qué tal estás hoy",
             "el pingüino nada", "sí, claro", "vamos a la playa"]


def rows(gender: str, hypotheses: list[str], prefix: str) -> list[EvalRow]:
    return [EvalRow(f"{prefix}{i}", ref, hyp, speaker=prefix, gender=gender)
            for i, (ref, hyp) in enumerate(zip(SENTENCES, hypotheses))]


def test_identical_groups_have_no_gap_and_an_interval_around_zero():
    # half the utterances right, half with a wrong word: the same errors on both sides
    hyps = [s if i % 2 else s.replace(s.split()[0], "x") for i, s in enumerate(SENTENCES)]
    report = scored(rows("female", hyps, "f") + rows("male", hyps, "m"), [], TextConfig())
    gap = report.gender_gap
    assert gap.utterances == {"female": len(SENTENCES), "male": len(SENTENCES)}
    for g in (gap.cer, gap.wer):
        assert g.estimate == 0.0
        assert g.low < 0.0 < g.high and g.includes_zero


def test_a_large_gap_excludes_zero_and_its_estimate_is_the_direct_one():
    women = [" ".join("x" * len(w) for w in s.split()[:-1]) for s in SENTENCES]  # every word wrong but the last
    unknown = rows("", SENTENCES, "u")  # no gender: in the overall rates, not in the gap
    report = scored(rows("female", women, "f") + rows("male", SENTENCES, "m") + unknown, [], TextConfig())
    gap = report.gender_gap
    direct_women = error_rates(SENTENCES, women)
    assert gap.cer.estimate == pytest.approx(direct_women.cer - 0.0)
    assert gap.wer.estimate == pytest.approx(direct_women.wer)
    assert gap.cer.estimate == pytest.approx(report.by_gender["female"].cer - report.by_gender["male"].cer)
    assert gap.wer.estimate > 0.5
    for g in (gap.cer, gap.wer):
        assert 0.0 < g.low <= g.estimate <= g.high and not g.includes_zero
    d = report.to_dict()["gender_gap"]
    assert d["utterances"] == {"female": 8, "male": 8} and d["groups"] == ["female", "male"]
    assert (d["resamples"], d["confidence"]) == (1000, 0.95)
    assert d["wer"] == {"estimate": gap.wer.estimate, "low": gap.wer.low, "high": gap.wer.high}


def test_equal_rates_in_every_utterance_give_a_point_interval():
    # every woman's utterance 2 errors in 10, every man's 1 in 10: no resample can differ
    n = 7
    [g] = rate_gaps(np.full(n, 2), np.full(n, 10), np.full(n + 3, 1), np.full(n + 3, 10))
    assert g.estimate == pytest.approx(0.1) and g.low == pytest.approx(0.1) and g.high == pytest.approx(0.1)


def test_the_interval_matches_the_normal_approximation_for_proportions():
    # one-character utterances, each right or wrong: the CER of a group is a proportion, and the
    # difference of two proportions has a well-known standard error
    rng = np.random.default_rng(1)
    a, b = (rng.random(400) < 0.30).astype(int), (rng.random(300) < 0.20).astype(int)
    [g] = rate_gaps(a, np.ones_like(a), b, np.ones_like(b), resamples=4000)
    p, q = a.mean(), b.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / len(a) + q * (1 - q) / len(b))
    assert g.estimate == pytest.approx(p - q)
    assert g.low == pytest.approx(p - q - half, abs=0.15 * half)
    assert g.high == pytest.approx(p - q + half, abs=0.15 * half)


def test_the_same_rows_give_the_same_interval_in_any_order_and_seeds_differ():
    rng = np.random.default_rng(2)
    errors_a, lengths_a = rng.integers(0, 6, (30, 2)), rng.integers(6, 20, (30, 2))
    errors_b, lengths_b = rng.integers(0, 4, (25, 2)), rng.integers(6, 20, (25, 2))
    first = rate_gaps(errors_a, lengths_a, errors_b, lengths_b)
    assert rate_gaps(errors_a, lengths_a, errors_b, lengths_b) == first
    order = rng.permutation(30)
    assert rate_gaps(errors_a[order], lengths_a[order], errors_b, lengths_b) == first
    assert rate_gaps(errors_a, lengths_a, errors_b, lengths_b, seed=1) != first
    assert all(isinstance(g, RateGap) and g.low < g.estimate < g.high for g in first)


def test_one_gender_gives_no_gap_and_a_few_clips_give_no_interval():
    assert scored(rows("female", SENTENCES, "f"), [], TextConfig()).gender_gap is None
    assert scored(rows("female", SENTENCES, "f") + rows("", SENTENCES, "u"), [], TextConfig()).gender_gap is None
    assert scored([], [], TextConfig()).to_dict()["gender_gap"] is None
    few = MIN_UTTERANCES_FOR_INTERVAL - 1
    women = ["x"] * few
    gap = scored(rows("female", women, "f") + rows("male", SENTENCES, "m"), [], TextConfig()).gender_gap
    assert gap.utterances == {"female": few, "male": len(SENTENCES)}
    assert gap.cer.estimate > 0 and (gap.cer.low, gap.cer.high, gap.wer.low) == (None, None, None)
    assert gap.cer.includes_zero  # no interval: nothing is ruled out


def test_bad_arguments_are_refused():
    ones = np.ones(6, dtype=int)
    with pytest.raises(ValueError):
        rate_gaps(ones, ones, ones, ones, resamples=0)
    with pytest.raises(ValueError):
        rate_gaps(ones, ones, ones, ones, confidence=1.0)
    with pytest.raises(ValueError):
        rate_gaps(ones[:0], ones[:0], ones, ones)
