"""Tests for engine.features: log-mel features and SpecAugment."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.errors import ConfigError
from engine.feature_config import FeatureConfig, SpecAugmentConfig
from engine.features import (
    LogMel,
    compute_features,
    num_frames,
    spec_augment,
)


def tone(freq: float, seconds: float = 1.0, sample_rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(n: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32))


# --- configs --------------------------------------------------------------------


@pytest.mark.parametrize("cls", [FeatureConfig, SpecAugmentConfig])
def test_config_round_trip(cls):
    config = cls()
    assert cls.from_dict(config.to_dict()) == config
    field = "n_mels" if cls is FeatureConfig else "n_time_masks"
    changed = dataclasses.replace(config, **{field: 3})
    assert cls.from_dict(changed.to_dict()) == changed


def test_config_from_dict_errors_name_the_field():
    with pytest.raises(ConfigError, match="n_melz"):
        FeatureConfig.from_dict({"n_melz": 80})
    with pytest.raises(ConfigError, match="n_mels"):
        FeatureConfig.from_dict({"n_mels": "80"})
    with pytest.raises(ConfigError, match="n_mels"):
        FeatureConfig.from_dict({"n_mels": 80.0})
    with pytest.raises(ConfigError, match="normalize"):
        FeatureConfig.from_dict({"normalize": "global"})
    with pytest.raises(ConfigError, match="time_mask_max_ratio"):
        SpecAugmentConfig.from_dict({"time_mask_max_ratio": "0.05"})
    with pytest.raises(ConfigError, match="time_mask_max_ratio"):
        SpecAugmentConfig.from_dict({"time_mask_max_ratio": 1.5})
    with pytest.raises(ConfigError, match="n_time_masks"):
        SpecAugmentConfig.from_dict({"n_time_masks": True})
    # An int is a fine float (JSON writers drop ".0").
    assert FeatureConfig.from_dict({"f_min": 0}).f_min == 0.0


# --- log-mel ----------------------------------------------------------------------


@pytest.mark.parametrize("n_samples", [1, 159, 160, 400, 16000, 16161])
def test_num_frames_matches_output(n_samples):
    config = FeatureConfig()
    feats = compute_features(noise(n_samples), config)
    assert feats.shape == (num_frames(n_samples, config), 80)
    assert num_frames(16000, config) == 101


def test_batch_shape_time_first():
    out = LogMel()(torch.stack([noise(8000, 1), noise(8000, 2)]))
    assert out.shape == (2, 51, 80)


@pytest.mark.parametrize("normalize", ["utterance", "none"])
@pytest.mark.parametrize("value", [0.0, 0.3, -1.0])
def test_silent_and_constant_clips_are_finite(normalize, value):
    config = FeatureConfig(normalize=normalize)
    feats = compute_features(np.full(16000, value, dtype=np.float32), config)
    assert feats.shape == (101, 80)
    assert torch.isfinite(feats).all()
    if normalize == "utterance" and value == 0.0:
        # Zero variance: (x - mean) / sqrt(0 + eps) is ~0 (float32 rounding
        # of the mean leaves ~1e-3), never 0/0.
        assert feats.abs().max() < 1e-2
    if normalize == "none" and value == 0.0:
        assert torch.allclose(feats, torch.full_like(feats, np.log(1e-6)))


def test_padded_batch_of_silence_is_finite():
    feats, frame_lengths = LogMel()(torch.zeros(2, 16000), torch.tensor([16000, 3000]))
    assert torch.isfinite(feats).all() and feats.abs().max() < 1e-2
    assert torch.count_nonzero(feats[1, 19:]) == 0
    assert frame_lengths.tolist() == [101, 19]


def test_utterance_normalisation_gives_zero_mean_unit_variance():
    feats = compute_features(noise(32000))
    assert feats.mean(dim=0).abs().max() < 1e-4
    assert torch.allclose(feats.std(dim=0, unbiased=False), torch.ones(80), atol=1e-3)


def htk_mel(f):
    return 2595 * np.log10(1 + np.asarray(f) / 700)


@pytest.mark.parametrize("freq", [300.0, 1000.0, 3000.0, 6000.0])
def test_tone_peaks_in_expected_mel_bin(freq):
    config = FeatureConfig(normalize="none")
    energy = compute_features(tone(freq), config).mean(dim=0)  # (n_mels,)
    centres = np.linspace(htk_mel(config.f_min), htk_mel(config.f_max), config.n_mels + 2)[1:-1]
    expected = int(np.argmin(np.abs(centres - htk_mel(freq))))
    assert abs(int(energy.argmax()) - expected) <= 1


def test_lengths_use_only_valid_frames():
    long, short = noise(16000, 1), noise(6000, 2)
    batch = torch.zeros(2, 16000)
    batch[0], batch[1, :6000] = long, short
    feats, frame_lengths = LogMel()(batch, torch.tensor([16000, 6000]))
    assert frame_lengths.tolist() == [101, 38]
    # Zero edge padding makes a padded clip's frames identical to the clip alone.
    torch.testing.assert_close(feats[1, :38], compute_features(short), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(feats[0], compute_features(long), atol=1e-4, rtol=1e-4)
    assert torch.count_nonzero(feats[1, 38:]) == 0
    # Without lengths the padding would drag the statistics: the result differs.
    unmasked = LogMel()(batch)
    assert (unmasked[1, :38] - feats[1, :38]).abs().max() > 0.1


def test_compute_features_accepts_numpy_float64_and_tensors():
    x = tone(1000)
    a = compute_features(x.astype(np.float64))
    b = compute_features(torch.from_numpy(x))
    assert a.dtype == torch.float32 and a.shape == (101, 80)
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError):
        compute_features(np.zeros((2, 100)))


# --- SpecAugment ---------------------------------------------------------------------


def ones(*shape):
    return torch.ones(*shape)


def test_spec_augment_masks_and_leaves_input_alone():
    feats = ones(300, 80)
    out = spec_augment(feats, SpecAugmentConfig(), torch.Generator().manual_seed(0))
    assert out.shape == feats.shape
    assert torch.count_nonzero(out == 0) > 0
    assert torch.all(feats == 1)
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_spec_augment_is_reproducible():
    feats = torch.randn(2, 200, 80)
    config = SpecAugmentConfig()
    a = spec_augment(feats, config, torch.Generator().manual_seed(7))
    b = spec_augment(feats, config, torch.Generator().manual_seed(7))
    c = spec_augment(feats, config, torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


def test_time_masks_respect_ratio_and_width():
    config = SpecAugmentConfig(n_freq_masks=0, n_time_masks=2, time_mask_width=40, time_mask_max_ratio=0.05)
    generator = torch.Generator().manual_seed(1)
    masked_any = False
    for _ in range(50):
        out = spec_augment(ones(200, 80), config, generator)
        masked_rows = (out == 0).all(dim=1).sum().item()
        assert (out == 0).any(dim=1).sum().item() == masked_rows  # whole frames only
        assert masked_rows <= 2 * 10  # 5 % of 200 frames per mask
        masked_any |= masked_rows > 0
    assert masked_any


def test_freq_masks_respect_width():
    config = SpecAugmentConfig(n_freq_masks=2, freq_mask_width=27, n_time_masks=0)
    generator = torch.Generator().manual_seed(2)
    widest = 0
    for _ in range(50):
        out = spec_augment(ones(100, 80), config, generator)
        masked_bins = (out == 0).all(dim=0).sum().item()
        assert (out == 0).any(dim=0).sum().item() == masked_bins
        widest = max(widest, masked_bins)
    assert 10 < widest <= 54


@pytest.mark.parametrize("frames", [0, 1, 3, 10])
def test_short_utterances(frames):
    out = spec_augment(ones(frames, 80), SpecAugmentConfig(), torch.Generator().manual_seed(0))
    assert out.shape == (frames, 80)
    # 5 % of fewer than 20 frames is 0 frames: no time mask at all.
    assert not (out == 0).all(dim=1).any()


def test_batch_lengths_keep_time_masks_inside_each_clip():
    config = SpecAugmentConfig(n_freq_masks=0, time_mask_max_ratio=0.2)
    feats = ones(2, 400, 10)
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        out = spec_augment(feats, config, generator, lengths=torch.tensor([400, 50]))
        masked = (out[1] == 0).all(dim=1)
        assert not masked[50:].any()
        assert masked.sum() <= 2 * 10  # 20 % of the clip's own 50 frames


# --- voice warping: VTLN and VTLP -------------------------------------------------------


def test_warp_settings_round_trip_and_old_dicts_load():
    fc = FeatureConfig(vtln="utterance", vtln_reference_hz=1234.5)
    assert FeatureConfig.from_dict(fc.to_dict()) == fc
    sa = SpecAugmentConfig(vtlp=True, vtlp_min=0.85, vtlp_max=1.12)
    assert SpecAugmentConfig.from_dict(sa.to_dict()) == sa
    # Checkpoints and run configs from before warping existed: no warping.
    old_features = {k: v for k, v in FeatureConfig().to_dict().items() if not k.startswith("vtln")}
    assert FeatureConfig.from_dict(old_features) == FeatureConfig() and FeatureConfig().vtln == "none"
    old_augment = {k: v for k, v in SpecAugmentConfig().to_dict().items() if not k.startswith("vtlp")}
    assert SpecAugmentConfig.from_dict(old_augment).vtlp is False


@pytest.mark.parametrize("cls, d, message", [
    (FeatureConfig, {"vtln": "sentence"},
     "features.vtln: expected one of ('none', 'utterance', 'speaker'), got 'sentence'"),
    (FeatureConfig, {"vtln_reference_hz": -1.0}, "features.vtln_reference_hz: must be 0"),
    (FeatureConfig, {"vtln": True}, "features.vtln: expected str"),
    (SpecAugmentConfig, {"vtlp": "yes"}, "spec_augment.vtlp: expected bool"),
    (SpecAugmentConfig, {"vtlp_min": 0.2}, "spec_augment.vtlp_min: must be a warp factor in [0.5, 1.5], got 0.2"),
    (SpecAugmentConfig, {"vtlp_max": 2.0}, "spec_augment.vtlp_max: must be a warp factor in [0.5, 1.5], got 2.0"),
    (SpecAugmentConfig, {"vtlp_min": 1.1, "vtlp_max": 0.9}, "spec_augment.vtlp_min (1.1) must not exceed vtlp_max"),
])
def test_warp_settings_errors_name_the_field(cls, d, message):
    with pytest.raises(ConfigError) as e:
        cls.from_dict(d)
    assert str(e.value).startswith(message)


def test_features_without_warp_are_unchanged_bit_for_bit():
    from engine.features import _log_mel_for

    x = noise(16000, 3)
    plain = _log_mel_for(FeatureConfig())(x)  # torchaudio's filterbank, as before warping existed
    assert torch.equal(compute_features(x), plain)
    assert torch.equal(compute_features(x, FeatureConfig(), warp=1.0), plain)
    # The warped path at alpha = 1 is the same filterbank to float rounding.
    nearly_one = torch.tensor(1.0 + 1e-12, dtype=torch.float64)
    torch.testing.assert_close(LogMel()(x, warps=nearly_one), plain, atol=1e-4, rtol=1e-4)


def test_a_warp_moves_a_tone_by_its_factor():
    config = FeatureConfig(normalize="none")
    plain = compute_features(tone(2000.0), config).mean(dim=0)
    warped = compute_features(tone(2000.0), config, warp=1.15).mean(dim=0)
    higher = compute_features(tone(2300.0), config).mean(dim=0)
    assert int(warped.argmax()) == int(higher.argmax()) != int(plain.argmax())


def test_batched_warps_are_per_clip():
    a, b = noise(8000, 1), noise(8000, 2)
    out = LogMel()(torch.stack([a, b]), warps=torch.tensor([1.1, 0.9]))
    torch.testing.assert_close(out[0], compute_features(a, warp=1.1), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out[1], compute_features(b, warp=0.9), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="one factor per clip"):
        LogMel()(torch.stack([a, b]), warps=torch.tensor([1.1, 0.9, 1.0]))


@pytest.mark.parametrize("normalize", ["utterance", "none"])
def test_warped_features_of_silence_are_finite(normalize):
    for config in (FeatureConfig(normalize=normalize, vtln="utterance", vtln_reference_hz=1500.0),
                   FeatureConfig(normalize=normalize)):
        for warp in (0.9, 1.0, 1.1):
            feats = compute_features(np.zeros(16000, np.float32), config, warp=warp)
            assert feats.shape == (101, 80) and torch.isfinite(feats).all()
    feats, lengths = LogMel(FeatureConfig(vtln="utterance"))(torch.zeros(2, 16000), torch.tensor([16000, 3000]))
    assert torch.isfinite(feats).all() and lengths.tolist() == [101, 19]


def test_vtln_brings_a_womans_voice_toward_a_mans():
    from engine import homologate
    from tests.engine.test_homologate import vowels

    man, woman = vowels(1.0, 110.0, seed=1), vowels(1.17, 210.0, seed=2)
    reference = homologate.voice_frequency(man, 16000)
    plain, vtln = FeatureConfig(), FeatureConfig(vtln="utterance", vtln_reference_hz=reference)
    n = min(len(man), len(woman)) // 160

    def vowel_means(feats):  # (10, n_mels): each vowel's average, blind to where the harmonics fall
        return torch.stack([feats[20 + 30 * i + 5:20 + 30 * (i + 1) - 5].mean(dim=0) for i in range(10)])

    def distance(config):  # the two say the same vowels at the same times
        return float((vowel_means(compute_features(man, config)) - vowel_means(compute_features(woman, config)))
                     .pow(2).mean())

    assert distance(vtln) < 0.6 * distance(plain)  # measured: 0.04 against 0.11
    # The man is the reference: VTLN leaves him as he was (to the warped filterbank's rounding).
    torch.testing.assert_close(compute_features(man, vtln), compute_features(man, plain), atol=2e-3, rtol=1e-3)
    # LogMel estimates the same factors by itself, clip by clip in a padded batch.
    batch = torch.zeros(2, max(len(man), len(woman)))
    batch[0, :len(man)], batch[1, :len(woman)] = torch.from_numpy(man), torch.from_numpy(woman)
    feats, _ = LogMel(vtln)(batch, torch.tensor([len(man), len(woman)]))
    torch.testing.assert_close(feats[1, :n], compute_features(woman, vtln)[:n], atol=1e-3, rtol=1e-3)
