"""Pitch, spectrum, level and alignment on synthetic signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.pitch import (
    OVERLAY_RMS_DBFS,
    align_segments,
    f0_stats,
    f0_track,
    level_stats,
    long_term_spectrum,
    voice_profile,
)

SR = 16000


def harmonic(f0, seconds: float = 1.0, sr: int = SR, amplitude: float = 0.3) -> np.ndarray:
    """Eight harmonics falling as 1/k, like a voiced vowel; ``f0`` may be an array (a glide) of shape (n,)."""
    n = int(seconds * sr)
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(np.asarray(f0, float), (n,))) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 9))
    return (amplitude * x / np.abs(x).max()).astype(np.float32)


def syllables(seconds: float, rate: float = 2.5, sr: int = SR) -> np.ndarray:
    """A loudness envelope rising and falling like syllables, shape (n,)."""
    t = np.arange(int(seconds * sr)) / sr
    return (np.clip(np.sin(2 * np.pi * rate * t), 0, None) ** 2 * (t > 0.1)).astype(np.float32)


@pytest.mark.parametrize("hz", [100.0, 150.0, 220.0])
@pytest.mark.parametrize("sr", [16000, 48000])
def test_f0_of_a_harmonic_tone(hz, sr):
    times, f0 = f0_track(harmonic(hz, sr=sr), sr)
    assert times.shape == f0.shape == (101,)  # one second, a frame every 10 ms and one at the end
    stats = f0_stats(f0)
    assert stats.median == pytest.approx(hz, abs=1.0)
    assert stats.p10 == pytest.approx(hz, abs=2.0) and stats.p90 == pytest.approx(hz, abs=2.0)
    assert stats.voiced_fraction > 0.9  # only the half-empty frames at the very ends drop out


def test_f0_follows_a_glide():
    t = np.arange(SR) / SR
    truth = 100.0 + 100.0 * t  # 100 -> 200 Hz in one second
    times, f0 = f0_track(harmonic(truth), SR)
    inner = slice(5, -5)
    np.testing.assert_allclose(f0[inner], np.interp(times, t, truth)[inner], atol=3.0)


def test_silence_and_noise_are_unvoiced():
    rng = np.random.default_rng(0)
    for x in (np.zeros(SR, np.float32), 0.1 * rng.standard_normal(SR).astype(np.float32)):
        _, f0 = f0_track(x, SR)
        assert np.isnan(f0).all()
        assert np.isnan(f0_stats(f0).median) and f0_stats(f0).voiced_frames == 0


def test_pauses_between_voiced_stretches_are_unvoiced():
    x = np.concatenate([harmonic(120.0, 0.5), np.zeros(SR // 2, np.float32), harmonic(200.0, 0.5)])
    times, f0 = f0_track(x, SR)
    assert np.nanmedian(f0[(times > 0.05) & (times < 0.45)]) == pytest.approx(120, abs=1)
    assert np.isnan(f0[(times > 0.55) & (times < 0.95)]).all()
    assert np.nanmedian(f0[(times > 1.05) & (times < 1.45)]) == pytest.approx(200, abs=1)
    # A clip is taken as one voice: two an octave apart look like octave errors, unless cleaning is off.
    x = np.concatenate([harmonic(120.0, 0.5), harmonic(240.0, 0.6)])
    _, f0 = f0_track(x, SR)
    assert np.nanmin(f0) > 200
    _, f0 = f0_track(x, SR, clean=False)
    assert np.nanmin(f0) == pytest.approx(120, abs=1)


def test_mains_hum_in_the_pauses_is_not_a_voice():
    # As on real crowd recordings: 60 Hz hum 35 dB under the vowels, heard in every pause.
    t = np.arange(2 * SR) / SR
    hum = 0.006 * np.sin(2 * np.pi * 60 * t)
    voice = harmonic(200.0, 2.0) * ((t % 0.5) < 0.25)
    times, f0 = f0_track(voice + hum, SR)
    assert np.nanmedian(f0) == pytest.approx(200, abs=1)
    assert np.nanmin(f0) > 150  # no frame reads the hum
    _, hum_alone = f0_track(hum, SR, fmin=50)
    assert np.nanmedian(hum_alone) == pytest.approx(60, abs=1)  # periodic, and alone it is the loudest thing


def test_octave_errors_and_blips_are_cleaned():
    # 80 ms at half the pitch inside a 200 Hz voice, as creaky voice reads.
    x = np.concatenate([harmonic(200.0, 0.4), harmonic(100.0, 0.08), harmonic(200.0, 0.4)])
    times, raw = f0_track(x, SR, clean=False)
    assert np.nanmin(raw) == pytest.approx(100, abs=1)
    _, cleaned = f0_track(x, SR)
    assert np.nanmin(cleaned) > 190 and np.isfinite(cleaned).sum() > 70

    from engine.data.pitch import _clean

    f0 = np.full(20, 200.0)
    f0[[5, 8]] = np.nan  # leaves a two-frame run at 6-7
    kept = _clean(f0.copy())
    assert np.isnan(kept[5:9]).all() and np.isfinite(kept[:5]).all() and np.isfinite(kept[9:]).all()


def test_f0_track_edge_cases():
    times, f0 = f0_track(np.zeros(0, np.float32), SR)
    assert times.shape == f0.shape == (1,) and np.isnan(f0).all()
    with pytest.raises(ValueError):
        f0_track(np.zeros(100), SR, fmin=500, fmax=400)


def test_long_term_spectrum_peaks_at_the_tone():
    t = np.arange(SR) / SR
    x = 0.5 * np.sin(2 * np.pi * 1000 * t)
    freqs, db = long_term_spectrum(x, SR, n_fft=1024)
    assert freqs.shape == db.shape == (513,)
    assert freqs[np.argmax(db)] == pytest.approx(1000, abs=SR / 1024)
    assert db.max() == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.5)  # a sine's RMS level
    _, shape_only = long_term_spectrum(x, SR, normalize=True)
    assert shape_only.max() == pytest.approx(-1.76, abs=0.2)  # Hann: 2/3 of the power in the middle bin


def test_long_term_spectrum_ignores_pauses_and_short_clips():
    tone = 0.5 * np.sin(2 * np.pi * 500 * np.arange(SR) / SR)
    _, alone = long_term_spectrum(tone, SR)
    _, with_pause = long_term_spectrum(np.concatenate([tone, np.zeros(3 * SR)]), SR)
    assert with_pause.max() == pytest.approx(alone.max(), abs=0.5)
    freqs, db = long_term_spectrum(tone[:300], SR)  # shorter than n_fft: padded, not an error
    assert freqs.shape == db.shape == (513,) and np.isfinite(db).all()


def test_level_stats():
    t = np.arange(SR) / SR
    x = np.concatenate([0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(SR)])
    level = level_stats(x, SR)
    assert level.peak == pytest.approx(0.5, abs=1e-3)
    assert level.peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert level.active_rms_dbfs == pytest.approx(-9.03, abs=0.1)  # the tone alone
    assert level.rms_dbfs == pytest.approx(-12.04, abs=0.1)  # half of the time is silence
    silent = level_stats(np.zeros(100))
    assert silent.rms_dbfs == silent.active_rms_dbfs == pytest.approx(-120)


@pytest.mark.parametrize("delay", [0.237, -0.1, 0.0])
def test_alignment_recovers_a_known_delay(delay):
    rng = np.random.default_rng(1)
    a = syllables(1.5) * harmonic(150.0, 1.5)
    n = int(abs(delay) * SR)
    b = 0.2 * (np.concatenate([np.zeros(n, np.float32), a]) if delay >= 0 else a[n:])
    b = b + 0.002 * rng.standard_normal(b.size).astype(np.float32)
    pair = align_segments(a, b, SR)
    assert pair.lag == pytest.approx(delay, abs=0.003)
    assert pair.score > 0.8


def test_alignment_of_two_voices_saying_the_same_rhythm():
    # Same syllables, a woman's and a man's pitch, recorded 12 dB apart: the
    # envelopes line up and the pair comes back at one level.
    env = syllables(1.2)
    a = env * harmonic(220.0, 1.2)
    b = np.concatenate([np.zeros(int(0.15 * SR), np.float32), 0.25 * env * harmonic(110.0, 1.2)])
    pair = align_segments(a, b, SR, max_lag=0.5)
    assert pair.lag == pytest.approx(0.15, abs=0.003)
    for x in (pair.a, pair.b):
        assert 20 * np.log10(np.sqrt(np.mean(x.astype(float) ** 2))) == pytest.approx(OVERLAY_RMS_DBFS, abs=0.01)
    assert pair.b_times[0] == pytest.approx(-pair.lag)
    assert pair.a_times.shape == pair.a.shape and pair.b_times.shape == pair.b.shape


def test_voice_profile_tells_high_and_low_voices_apart():
    high = voice_profile([syllables(1.0) * harmonic(220.0), syllables(1.0) * harmonic(230.0)], SR)
    low = voice_profile([0.1 * syllables(1.0) * harmonic(110.0)], SR)
    assert high.clips == 2 and low.clips == 1
    assert high.f0_stats.median == pytest.approx(225, abs=6)
    assert low.f0_stats.median == pytest.approx(110, abs=2)
    np.testing.assert_allclose(high.durations, [1.0, 1.0])
    assert low.active_rms_dbfs[0] < high.active_rms_dbfs.min() - 15
    assert high.freqs.shape == high.spectrum_db.shape == low.spectrum_db.shape
    # Level-normalised spectra: the difference is in the shape, near 110 Hz.
    near_110 = np.argmin(np.abs(low.freqs - 110))
    assert low.spectrum_db[near_110] > high.spectrum_db[near_110] + 10
    empty = voice_profile([], SR)
    assert empty.clips == 0 and empty.f0.size == 0 and np.isnan(empty.f0_stats.median)
