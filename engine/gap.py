"""The gap between women's and men's error rates, with a bootstrap confidence interval.

A test set of a few dozen clips a gender can show a gap of several points just
from which clips happened to be chosen. The interval says how far the gap moves
when each gender's utterances are resampled with replacement (a percentile
bootstrap, seeded, so the same rows always give the same interval): an interval
that includes zero means these clips cannot tell the two apart.

Rates are corpus-level, as :mod:`engine.metrics` computes them (a resample's CER
is its summed character errors over its summed reference characters). A resample
only re-sums per-utterance counts with numpy; no text is aligned again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from engine.metrics import UtteranceErrors, error_rate

GAP_GROUPS = ("female", "male")  # the gap is the first's rate minus the second's
DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Below this many utterances a side, resamples repeat the same few sets and the percentiles
# come out far too narrow (one clip a side gives an "interval" of a single point): no interval.
MIN_UTTERANCES_FOR_INTERVAL = 5
_CHUNK_ELEMENTS = 1_000_000  # resampled utterances held at once (32 MB for CER and WER), whatever the set's size


@dataclass(frozen=True)
class RateGap:
    """One rate's difference, as fractions (0.042 = 4.2 points); ``low``/``high`` None when too few utterances."""

    estimate: float  # the rates of all the utterances, first group minus second
    low: float | None = None
    high: float | None = None

    @property
    def includes_zero(self) -> bool:
        """True when the interval cannot rule out no gap (or there is no interval)."""
        return self.low is None or self.high is None or self.low <= 0.0 <= self.high


@dataclass(frozen=True)
class GenderGap:
    """CER and WER of ``groups[0]`` minus ``groups[1]`` with their intervals, from the same resamples."""

    cer: RateGap
    wer: RateGap
    utterances: dict[str, int] = field(default_factory=dict)  # {"female": 40, "male": 38}: each side's sample
    groups: tuple[str, str] = GAP_GROUPS
    confidence: float = DEFAULT_CONFIDENCE
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    def to_dict(self) -> dict:
        d = asdict(self)
        d["groups"] = list(self.groups)
        return d


def rate_gaps(
    errors_a: np.ndarray, lengths_a: np.ndarray, errors_b: np.ndarray, lengths_b: np.ndarray,
    *, resamples: int = DEFAULT_RESAMPLES, confidence: float = DEFAULT_CONFIDENCE, seed: int = DEFAULT_SEED,
) -> list[RateGap]:
    """Corpus-level rate of group a minus group b, for each of ``m`` rates, with percentile bootstrap intervals.

    Parameters
    ----------
    errors_a, lengths_a : array, shape = (n_a, m) or (n_a,)
        Per utterance of group a, the errors and reference length of each rate (e.g. characters, words).
    errors_b, lengths_b : array, shape = (n_b, m) or (n_b,)
        The same for group b.
    resamples : int
        Bootstrap resamples B; each draws n_a utterances of a and n_b of b with replacement,
        the same draw for all ``m`` rates.
    confidence : float
        Central probability of the interval (0.95: the 2.5th to the 97.5th percentile).
    seed : int
        The random generator's seed. Each group's utterances are put in a canonical order
        first, so the same utterances in any order give the same interval.

    Returns
    -------
    list of RateGap, one per rate; no interval (``low``/``high`` None) when either group has
    fewer than MIN_UTTERANCES_FOR_INTERVAL utterances.
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    a = _canonical(errors_a, lengths_a)  # (n_a, 2, m)
    b = _canonical(errors_b, lengths_b)  # (n_b, 2, m)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both groups need at least one utterance")
    if a.shape[2] != b.shape[2]:
        raise ValueError(f"{a.shape[2]} rates for the first group but {b.shape[2]} for the second")
    totals_a, totals_b = a.sum(axis=0), b.sum(axis=0)  # (2, m)
    estimates = [error_rate(int(ea), int(la)) - error_rate(int(eb), int(lb))
                 for ea, la, eb, lb in zip(totals_a[0], totals_a[1], totals_b[0], totals_b[1])]
    if min(len(a), len(b)) < MIN_UTTERANCES_FOR_INTERVAL:
        return [RateGap(e) for e in estimates]
    rng = np.random.default_rng(seed)
    diffs = np.empty((resamples, a.shape[2]))  # (B, m)
    chunk = max(1, _CHUNK_ELEMENTS // max(len(a), len(b)))
    for start in range(0, resamples, chunk):
        k = min(chunk, resamples - start)
        diffs[start:start + k] = _resampled_rates(a, k, rng) - _resampled_rates(b, k, rng)
    tail = (1.0 - confidence) / 2
    lows, highs = np.quantile(diffs, [tail, 1.0 - tail], axis=0)
    return [RateGap(e, float(lo), float(hi)) for e, lo, hi in zip(estimates, lows, highs)]


def gender_gap(
    by_gender: Mapping[str, Sequence[UtteranceErrors]],
    *, resamples: int = DEFAULT_RESAMPLES, confidence: float = DEFAULT_CONFIDENCE, seed: int = DEFAULT_SEED,
) -> GenderGap | None:
    """Women's CER and WER minus men's, with intervals; None unless both have utterances.

    ``by_gender`` maps a gender ("female", "male"; others are ignored) to its utterances
    scored one by one (:func:`engine.metrics.utterance_errors`).
    """
    first, second = (list(by_gender.get(g) or ()) for g in GAP_GROUPS)
    if not first or not second:
        return None

    def counts(utts: list[UtteranceErrors]) -> tuple[np.ndarray, np.ndarray]:
        errors = np.array([(u.chars.errors, u.words.errors) for u in utts], dtype=np.int64)
        lengths = np.array([(u.chars.reference_length, u.words.reference_length) for u in utts], dtype=np.int64)
        return errors, lengths  # (n, 2): characters, words

    cer, wer = rate_gaps(*counts(first), *counts(second), resamples=resamples, confidence=confidence, seed=seed)
    return GenderGap(cer=cer, wer=wer, utterances={GAP_GROUPS[0]: len(first), GAP_GROUPS[1]: len(second)},
                     confidence=confidence, resamples=resamples, seed=seed)


def _canonical(errors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Errors and lengths stacked as (n, 2, m) int64, rows sorted so their order does not matter."""
    errors, lengths = np.asarray(errors, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    if errors.ndim == 1:
        errors, lengths = errors[:, None], lengths[:, None]
    if errors.shape != lengths.shape or errors.ndim != 2:
        raise ValueError(f"errors {errors.shape} and lengths {lengths.shape} must both be (n, m)")
    stacked = np.stack([errors, lengths], axis=1)  # (n, 2, m)
    flat = stacked.reshape(len(stacked), -1)
    return stacked[np.lexsort(flat.T[::-1])] if len(stacked) else stacked


def _resampled_rates(counts: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The corpus-level rates of ``k`` resamples of ``counts`` (n, 2, m) with replacement; shape = (k, m)."""
    n = len(counts)
    picked = counts[rng.integers(0, n, size=(k, n))].sum(axis=1)  # (k, n, 2, m) -> (k, 2, m)
    errors, lengths = picked[:, 0], picked[:, 1]
    # engine.metrics.error_rate, vectorised: an empty reference scores 1 if anything was said
    return np.where(lengths > 0, errors / np.maximum(lengths, 1), (errors > 0).astype(float))
