"""Whisper's log-mel front end: the same numbers faster-whisper feeds the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.whisper import audio as wa
from engine.whisper.audio import N_FRAMES, log_mel, mel_filters, pad_or_trim

CAJAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"
fw_features = pytest.importorskip("faster_whisper.feature_extractor")


def _reference(samples: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """faster-whisper's features, (n_mels, T); it appends 160 zero samples."""
    return fw_features.FeatureExtractor(feature_size=n_mels)(samples)


@pytest.mark.parametrize("n_mels", [80, 128])
def test_filterbank_matches_librosa_slaney(n_mels):
    ours = mel_filters(n_mels).numpy().T  # (n_mels, 201)
    theirs = fw_features.FeatureExtractor.get_mel_filters(16000, 400, n_mels)
    assert np.abs(ours - theirs).max() < 1e-6


def test_tone_matches_faster_whisper():
    t = np.arange(3 * 16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t)).astype(np.float32)
    ours = log_mel(tone, padding=160).numpy().T
    theirs = _reference(tone)
    assert ours.shape == theirs.shape == (80, 301)  # (48000 + 160) // 160
    assert np.abs(ours - theirs).max() < 1e-3


def test_real_clip_matches_faster_whisper():
    if not CAJAL.is_dir():
        pytest.skip("../shared/data/cajal-es is absent")
    from engine.audio import load_audio

    wav = sorted((CAJAL / "wavs").glob("*.wav"))[0]
    samples = load_audio(wav, 16000)
    for n_mels in (80, 128):
        ours = log_mel(samples, n_mels, padding=160).numpy().T
        theirs = _reference(samples, n_mels)
        assert ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() < 1e-3


def test_blocks_give_the_same_spectrogram_as_one_stft(monkeypatch):
    # Long audio is computed a block of frames at a time; the seams must not show.
    x = (0.1 * np.random.default_rng(0).standard_normal(16000 * 7)).astype(np.float32)
    whole = log_mel(x, padding=wa.N_SAMPLES)
    monkeypatch.setattr(wa, "_BLOCK_FRAMES", 997)
    assert torch.equal(log_mel(x, padding=wa.N_SAMPLES), whole)


def test_shapes_padding_and_dynamic_range():
    x = np.zeros(16000, dtype=np.float32)
    x[8000] = 1.0  # one click in silence
    mel = log_mel(x)
    assert mel.shape == (100, 80) and mel.dtype == torch.float32
    # Everything sits within 8 decades (2.0 after scaling by 1/4) under the loudest bin.
    assert float(mel.max() - mel.min()) <= 2.0 + 1e-6
    assert log_mel(x, padding=wa.N_SAMPLES).shape == (100 + N_FRAMES, 80)
    assert log_mel(np.zeros(100, dtype=np.float32)).shape == (0, 80)
    with pytest.raises(ValueError):
        log_mel(np.zeros((2, 1000), dtype=np.float32))


def test_pad_or_trim_tensors_and_arrays():
    m = torch.ones(10, 80)
    assert pad_or_trim(m, 30).shape == (30, 80) and float(pad_or_trim(m, 30)[10:].abs().sum()) == 0.0
    assert pad_or_trim(m, 4).shape == (4, 80)
    assert pad_or_trim(m, 90, axis=1).shape == (10, 90)
    a = np.ones(5, dtype=np.float32)
    assert pad_or_trim(a, 8).tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert pad_or_trim(a, 2).shape == (2,)
