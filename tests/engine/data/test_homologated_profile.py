"""Groups of voices measured as recorded and homologated, on synthetic vowels whose formants are known."""

from __future__ import annotations

import numpy as np
import pytest

from engine import homologate
from engine.data import homologated_profile
from engine.data.homologated_profile import HOMOLOGATING, MEASURING, homologated_clip, measure_groups
from engine.data.pitch import voice_profile
from engine.errors import AudioError

SR = 16000
MAN_FORMANTS = (700.0, 1220.0, 2600.0, 3300.0, 3750.0)  # an /a/ (Peterson & Barney's men; F4, F5 Klatt's)
BANDWIDTHS = (80.0, 90.0, 120.0, 250.0, 200.0)  # Hz
WOMAN_FORMANTS = tuple(1.17 * f for f in MAN_FORMANTS)  # a shorter vocal tract: all formants ~17 % higher


def vowel(f0: float, formants, seconds: float = 1.2, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Syllables of a vowel: harmonics of ``f0`` shaped by resonances at ``formants`` (Hz), float32 (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    jitter = f0 * (1 + 0.02 * np.sin(2 * np.pi * 3.1 * t))  # a living voice, not a steady tone
    phase = 2 * np.pi * np.cumsum(jitter) / sr
    x = np.zeros_like(t)
    for k in range(1, int(0.45 * sr / f0)):
        f = k * f0
        # A cascade of two-pole resonances (Klatt's) over a source falling as 1/k.
        gain = np.prod([fc**2 / np.hypot(fc**2 - f**2, b * f) for fc, b in zip(formants, BANDWIDTHS)]) / k
        x += gain * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    envelope = np.clip(np.sin(2 * np.pi * 1.5 * (t - 0.1)), 0, None) * (t > 0.1)
    x = x * envelope
    return (0.3 * x / np.abs(x).max() + 0.001 * rng.standard_normal(t.size)).astype(np.float32)


def women_and_men(n: int = 3) -> tuple[list[np.ndarray], list[np.ndarray]]:
    women = [vowel(210.0 + 10 * i, WOMAN_FORMANTS, 1.2 + 0.1 * i, seed=i) for i in range(n)]
    men = [vowel(105.0 + 8 * i, MAN_FORMANTS, 1.3 + 0.1 * i, seed=10 + i) for i in range(n)]
    return women, men


def test_as_recorded_only_measures_profiles_and_counts_unreadable_clips():
    women, men = women_and_men(2)

    def load(item):
        if item is None:
            raise AudioError("broken.wav", "cannot be read", "unreadable")
        return item

    steps = []
    m = measure_groups([women + [None], men], load, SR, lambda *step: steps.append(step))
    assert not m.is_homologated and m.homologated == () and m.alphas == () and m.mean_alphas() == ()
    assert m.skipped == 1 and [p.clips for p in m.profiles] == [2, 2]
    assert steps == [(MEASURING, i, 5) for i in range(1, 6)]
    assert m.profiles[0].f0_stats.median == pytest.approx(voice_profile(women, SR).f0_stats.median)


def test_homologated_groups_are_warped_onto_the_common_reference():
    women, men = women_and_men()
    steps = []
    m = measure_groups([women, men], lambda clip: clip, SR, lambda *step: steps.append(step), homologate=True)
    # One reference for both groups: the median of all clips; each clip's own estimated warp.
    assert m.reference_hz == pytest.approx(homologate.reference_frequency(women + men, SR))
    for clips, alphas in zip((women, men), m.alphas):
        assert alphas.shape == (3,)
        assert alphas == pytest.approx([homologate.estimate_warp(c, SR, m.reference_hz) for c in clips])
    mean_women, mean_men = m.mean_alphas()
    assert mean_women < 1.0 < mean_men  # women's higher formants come down, men's go up
    assert mean_women == pytest.approx(np.mean(m.alphas[0]))
    # What is measured "after" is the resynthesised clips.
    expected = voice_profile([homologate.warp_audio(c, SR, a) for c, a in zip(women, m.alphas[0])], SR)
    assert m.homologated[0].spectrum_db == pytest.approx(expected.spectrum_db)
    # The groups' long-term spectra move together; pitch moves with them (all the spectrum is warped).
    band = (m.profiles[0].freqs > 300) & (m.profiles[0].freqs < 4000)

    def gap(a, b):
        return np.mean(np.abs(a.spectrum_db[band] - b.spectrum_db[band]))

    assert gap(*m.homologated) < 0.8 * gap(*m.profiles)
    assert m.homologated[0].f0_stats.median < m.profiles[0].f0_stats.median
    assert m.homologated[1].f0_stats.median > m.profiles[1].f0_stats.median
    # Progress: every clip measured, then every clip once for the reference and once warped.
    assert [s for s in steps if s[0] == MEASURING][-1] == (MEASURING, 6, 6)
    assert [s for s in steps if s[0] == HOMOLOGATING] == [(HOMOLOGATING, i, 12) for i in range(1, 13)]


def test_clips_beyond_the_memory_budget_are_loaded_again(monkeypatch):
    women, men = women_and_men(2)
    kept = measure_groups([women, men], lambda clip: clip, SR, homologate=True)
    loads = []
    monkeypatch.setattr(homologated_profile, "MAX_KEPT_SECONDS", 0.0)
    reloaded = measure_groups([women, men], lambda clip: loads.append(1) or clip, SR, homologate=True)
    assert len(loads) == 3 * 4  # measured, reference, warped
    assert reloaded.reference_hz == kept.reference_hz
    for a, b in zip(kept.alphas, reloaded.alphas):
        assert a == pytest.approx(b)


class Cancelled(Exception):
    pass


def test_a_cancelled_run_stops_at_the_next_progress_call():
    women, men = women_and_men(2)

    def progress(stage, done, total):
        if stage == HOMOLOGATING:
            raise Cancelled()  # as the window's progress callback does

    with pytest.raises(Cancelled):
        measure_groups([women, men], lambda clip: clip, SR, progress, homologate=True)


def test_one_clip_homologated_for_listening():
    women, men = women_and_men(1)
    reference = homologate.reference_frequency(women + men, SR)
    alpha, warped = homologated_clip(women[0], SR, reference)
    assert alpha == pytest.approx(homologate.estimate_warp(women[0], SR, reference)) and alpha < 1
    assert warped.dtype == np.float32 and warped.shape == women[0].shape
    assert np.array_equal(warped, homologate.warp_audio(women[0], SR, alpha))
