"""How waveforms become features and how training masks them: the settings, without torch.

Every Speech-Transformer checkpoint stores its :class:`FeatureConfig`; run configs
and the window read these, and :mod:`engine.features` computes with them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from engine import configio
from engine.errors import ConfigError

NORMALIZE_MODES = ("utterance", "none")


@dataclass(frozen=True)
class FeatureConfig:
    """How waveforms become log-mel features. Stored in every checkpoint.

    The defaults are the usual ASR front end: 25 ms windows every 10 ms at
    16 kHz, 80 mel bins from 20 Hz to 7.6 kHz (just under Nyquist, where
    anti-aliasing filters of resampled audio leave little energy).
    """

    sample_rate: int = 16000
    n_mels: int = 80
    n_fft: int = 400
    hop_length: int = 160
    win_length: int = 400
    f_min: float = 20.0
    f_max: float = 7600.0
    log_eps: float = 1e-6
    normalize: str = "utterance"  # "utterance" or "none"
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZE_MODES:
            raise ConfigError(
                f"FeatureConfig.normalize: expected one of {NORMALIZE_MODES}, "
                f"got {self.normalize!r}"
            )
        for name in ("sample_rate", "n_mels", "n_fft", "hop_length", "win_length"):
            if getattr(self, name) <= 0:
                value = getattr(self, name)
                raise ConfigError(f"FeatureConfig.{name}: must be positive, got {value}")
        if self.win_length > self.n_fft:
            raise ConfigError(
                f"FeatureConfig.win_length ({self.win_length}) must not exceed n_fft ({self.n_fft})"
            )
        if not 0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise ConfigError(
                f"FeatureConfig: need 0 <= f_min < f_max <= sample_rate/2, "
                f"got f_min={self.f_min}, f_max={self.f_max}, sample_rate={self.sample_rate}"
            )
        if self.log_eps <= 0 or self.norm_eps <= 0:
            raise ConfigError("FeatureConfig.log_eps and norm_eps must be positive")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "features") -> FeatureConfig:
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)


@dataclass(frozen=True)
class SpecAugmentConfig:
    """Masking applied to training features (Park et al., 2019), no time warp.

    ``time_mask_max_ratio`` caps each time mask at that fraction of the
    utterance, so a one-second clip is not blanked out by a 40-frame mask.
    """

    n_freq_masks: int = 2
    freq_mask_width: int = 27
    n_time_masks: int = 2
    time_mask_width: int = 40
    time_mask_max_ratio: float = 0.05

    def __post_init__(self) -> None:
        for name in ("n_freq_masks", "freq_mask_width", "n_time_masks", "time_mask_width"):
            if getattr(self, name) < 0:
                value = getattr(self, name)
                raise ConfigError(f"SpecAugmentConfig.{name}: must be >= 0, got {value}")
        if not 0.0 <= self.time_mask_max_ratio <= 1.0:
            raise ConfigError(
                "SpecAugmentConfig.time_mask_max_ratio: must be in [0, 1], "
                f"got {self.time_mask_max_ratio}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "spec_augment") -> SpecAugmentConfig:
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)
