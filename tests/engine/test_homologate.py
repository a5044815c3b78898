"""Tests for engine.homologate: frequency warps, the voice measure and warped audio."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio

from engine import homologate as h

SR = 16000
CV_SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cv-es-sample"
# Spanish vowels of an adult man: F1-F4 in Hz (Quilis); bandwidths 80, 100, 150, 200 Hz.
VOWELS = {"a": (700, 1220, 2600, 3500), "e": (460, 1900, 2500, 3500), "i": (280, 2250, 2900, 3600),
          "o": (480, 900, 2500, 3400), "u": (300, 750, 2300, 3300)}
BANDWIDTHS = (80, 100, 150, 200)


def vowels(scale: float = 1.0, f0: float = 110.0, sr: int = SR, seconds_each: float = 0.3, seed: int = 0) -> np.ndarray:
    """Vowel-like speech: the five vowels in turn, harmonics of ``f0`` through formants times ``scale``.

    Returns float32, shape = (n,), peak 0.5. A woman's voice is roughly ``scale=1.17, f0=200``.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds_each * sr)
    t = np.arange(n) / sr
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    pieces = [np.zeros(int(0.2 * sr))]
    for name in "aeiouaeiou":
        pitch = f0 * (1 + 0.03 * np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6.3)))  # a little intonation
        phase = 2 * np.pi * np.cumsum(pitch) / sr
        x = np.zeros(n)
        for k in range(1, int(0.45 * sr / f0)):
            f = k * f0
            gain = 1.0 / k  # glottal source with lip radiation: -6 dB an octave
            for formant, bandwidth in zip(VOWELS[name], BANDWIDTHS):
                fi, bi = formant * scale, bandwidth * scale
                gain *= fi * fi / np.sqrt((fi * fi - f * f) ** 2 + (bi * f) ** 2)
            x += gain * np.sin(k * phase + rng.uniform(0, 6.3))
        pieces.append(x * fade)
    pieces.append(np.zeros(int(0.2 * sr)))
    x = np.concatenate(pieces)
    x = x / np.abs(x).max() * 0.5 + 1e-4 * rng.standard_normal(x.size)
    return x.astype(np.float32)


# --- warps and filterbanks ---------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.8, 0.9, 1.0, 1.1, 1.2])
def test_warp_is_monotonic_with_fixed_ends(alpha):
    f = np.linspace(0, 8000, 2001)
    w = h.warp_frequencies(f, alpha, f_max=7600)
    assert w[0] == 0.0 and np.isclose(w[np.searchsorted(f, 7600)], 7600)
    assert np.all(np.diff(w) > 0)
    low = f < 0.8 * 7600 / max(1, alpha)
    assert np.allclose(w[low], alpha * f[low])  # below the knee: exactly alpha * f
    assert np.array_equal(w[f > 7600], f[f > 7600])  # above f_max: untouched


def test_filterbank_equals_torchaudio_without_warp():
    for n_freqs, sr, n_mels, f_min, f_max in [(201, 16000, 80, 20.0, 7600.0), (257, 8000, 40, 0.0, 4000.0)]:
        ours = h.warped_mel_filterbank(n_freqs, sr, n_mels, f_min, f_max)
        theirs = torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sr, norm=None, mel_scale="htk")
        assert ours.dtype == np.float32 and ours.shape == (n_freqs, n_mels)
        # torchaudio computes in float32 (its mel points are off by up to 1e-3 Hz); ours in float64, then rounded.
        np.testing.assert_allclose(ours, theirs.numpy(), atol=2e-5)


def test_warped_filterbank_hears_the_scaled_voice():
    # A tone at f through the bank warped by alpha lights the filter a tone at alpha * f lights unwarped.
    fb1 = h.warped_mel_filterbank(201, SR, 80, 20.0, 7600.0)
    fb = h.warped_mel_filterbank(201, SR, 80, 20.0, 7600.0, alpha=1.15)
    freqs = np.linspace(0, SR // 2, 201)
    for i in (20, 40, 60):
        j = int(np.argmin(np.abs(freqs - 1.15 * freqs[i])))
        assert abs(int(np.argmax(fb[i])) - int(np.argmax(fb1[j]))) <= 1
    assert np.all(np.isfinite(fb)) and fb.max() <= 1.0


# --- the voice measure ----------------------------------------------------------------


@pytest.mark.parametrize("f0", [110.0, 200.0])
def test_formants_scaled_by_1_15_give_a_warp_of_1_over_1_15(f0):
    base, scaled = vowels(1.0, f0), vowels(1.15, f0, seed=1)
    ratio = h.voice_frequency(scaled, SR) / h.voice_frequency(base, SR)
    assert ratio == pytest.approx(1.15, abs=0.04)
    reference = h.voice_frequency(base, SR)
    assert h.estimate_warp(scaled, SR, reference) == pytest.approx(1 / 1.15, abs=0.03)
    assert h.estimate_warp(base, SR, reference) == pytest.approx(1.0, abs=1e-9)


def test_voice_frequency_separates_a_woman_from_a_man_at_any_rate():
    man, woman = vowels(1.0, 110.0), vowels(1.17, 210.0, seed=2)
    assert h.voice_frequency(woman, SR) > 1.1 * h.voice_frequency(man, SR)
    man_48k = torchaudio.functional.resample(torch.from_numpy(man), SR, 48000).numpy()
    assert h.voice_frequency(man_48k, 48000) == pytest.approx(h.voice_frequency(man, SR), rel=0.03)


def test_silence_and_noise_have_no_voice():
    for x in (np.zeros(SR, np.float32), np.zeros(10, np.float32), np.array([], np.float32),
              np.random.default_rng(0).normal(0, 0.1, SR).astype(np.float32)):
        assert h.voice_frequency(x, SR) is None
        assert h.estimate_warp(x, SR) == 1.0
    assert h.reference_frequency([np.zeros(SR)], SR) == h.DEFAULT_REFERENCE_HZ
    t = np.arange(2 * SR) / SR
    for x in (0.5 * np.sin(2 * np.pi * 200 * t), 0.5 * np.sign(np.sin(2 * np.pi * 150 * t)), 1e-7 * np.sin(t * 1e3)):
        v = h.voice_frequency(x, SR)  # a tone is periodic but has no formants: never NaN, never a crash
        assert v is None or np.isfinite(v)
        assert np.isfinite(h.estimate_warp(x, SR))


def test_estimates_are_clipped_and_reference_is_a_median():
    man = vowels(1.0, 110.0)
    assert h.estimate_warp(man, SR, reference_hz=10.0) == h.ALPHA_MIN
    assert h.estimate_warp(man, SR, reference_hz=1e5) == h.ALPHA_MAX
    clips = [vowels(s, 150.0, seed=i) for i, s in enumerate((0.95, 1.0, 1.1))]
    assert h.reference_frequency(clips + [np.zeros(SR)], SR) == pytest.approx(h.voice_frequency(clips[1], SR))


# --- warped audio -----------------------------------------------------------------------


def test_warp_audio_keeps_length_and_peak_and_moves_the_voice():
    man = vowels(1.0, 110.0)
    assert np.array_equal(h.warp_audio(man, SR, 1.0), man)
    for alpha in (0.85, 1.18):
        y = h.warp_audio(man, SR, alpha)
        assert y.dtype == np.float32 and y.shape == man.shape
        assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0
        ratio = h.voice_frequency(y, SR) / h.voice_frequency(man, SR)
        assert ratio == pytest.approx(alpha, abs=0.05)
    loud = h.warp_audio(man * 1.9, SR, 1.1)
    assert np.abs(loud).max() <= 1.0
    assert np.array_equal(h.warp_audio(np.zeros(0, np.float32), SR, 0.9), np.zeros(0, np.float32))
    silent = h.warp_audio(np.zeros(SR, np.float32), SR, 0.9)
    assert np.all(silent == 0)


def test_real_womens_voices_measure_higher_than_mens():
    """Common Voice clips with the speaker's sex in the manifest (see the module docstring for all 72)."""
    if not CV_SAMPLE.is_dir():
        pytest.skip(f"shared corpus not found: {CV_SAMPLE}")
    from engine.audio import load_audio

    with open(CV_SAMPLE / "validated.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    values: dict[str, list[float]] = {"female": [], "male": []}
    for gender in values:
        for row in [r for r in rows if r["gender"] == gender][:12]:
            v = h.voice_frequency(load_audio(CV_SAMPLE / "clips" / row["path"], SR), SR)
            if v is not None:
                values[gender].append(v)
    women, men = np.array(values["female"]), np.array(values["male"])
    assert len(women) >= 10 and len(men) >= 10
    assert 1.1 < np.median(women) / np.median(men) < 1.3  # a vocal-tract ratio, not a pitch ratio (1.7)
    assert np.mean(women[:, None] > men[None, :]) > 0.8
