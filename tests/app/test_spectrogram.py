"""Display spectrograms: the model's front end, in bounded columns, abandonable."""

from __future__ import annotations

import numpy as np
import pytest

from app.spectrogram import (
    SpectrogramCancelled,
    log_mel_spectrogram,
    mel_band_centres,
    mel_filterbank,
)
from tests.app.media import SR, speech_like


def test_filterbank_is_the_engines():
    torchaudio = pytest.importorskip("torchaudio")
    ours = mel_filterbank(SR, 400, 80, 20.0, 7600.0)
    theirs = torchaudio.functional.melscale_fbanks(201, 20.0, 7600.0, 80, SR, norm=None, mel_scale="htk")
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-5)


def test_values_are_the_engines_features_in_decibels():
    from engine.feature_config import FeatureConfig
    from engine.features import compute_features

    x = speech_like(1.0)
    engine = compute_features(x, FeatureConfig(normalize="none")).numpy()  # natural log, frames at i * hop
    # Our frame i is centred half a hop later; 80 samples of silence in front line the two up.
    ours = log_mel_spectrogram(np.r_[np.zeros(80, np.float32), x], SR).image.T
    power = np.clip(np.exp(engine.astype(np.float64)) - FeatureConfig().log_eps, 0, None)  # undo log(p + eps)
    np.testing.assert_allclose(ours[2:95], 10 * np.log10(power[2:95] + 1e-10), atol=0.02)


def test_a_tone_lights_its_band():
    t = np.arange(SR) / SR
    s = log_mel_spectrogram((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), SR)
    band = int(np.argmax(s.image[:, 50]))
    assert mel_band_centres(SR)[band] == pytest.approx(1000, rel=0.05)
    assert s.levels[1] - s.levels[0] == 80.0


def test_long_audio_is_averaged_into_bounded_columns():
    x = speech_like(30.0)
    full = log_mel_spectrogram(x, SR)
    small = log_mel_spectrogram(x, SR, max_columns=300)
    assert full.image.shape == (80, 3000) and small.image.shape == (80, 300)
    assert small.frames_per_column == 10.0
    assert (small.start, small.end) == (0.0, 30.0)
    # Each column is the mean power of its ten frames, not one frame picked out.
    power = 10 ** (full.image[:, :10] / 10)
    assert small.image[:, 0] == pytest.approx(10 * np.log10(power.mean(axis=1) + 1e-10), abs=1e-3)


def test_a_range_of_the_audio():
    s = log_mel_spectrogram(speech_like(10.0), SR, start=2.0, end=4.5)
    assert (s.start, s.end) == (2.0, 4.5)
    assert s.image.shape == (80, 250)
    assert s.seconds_per_column == pytest.approx(0.01)


def test_work_can_be_abandoned():
    with pytest.raises(SpectrogramCancelled):
        log_mel_spectrogram(speech_like(1.0), SR, should_stop=lambda: True)
