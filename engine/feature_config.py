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
VTLN_MODES = ("none", "utterance", "speaker")
VTLP_LIMITS = (0.5, 1.5)  # warp factors beyond these fold the mel filters past any real voice


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
    # Speaker normalisation (VTLN, engine.homologate): "utterance" warps each clip's mel
    # filters so its voice lands on vtln_reference_hz, estimated from the clip itself;
    # "speaker" uses one factor per speaker of a manifest (the geometric mean of up to 20
    # of their clips' factors, engine.data.speaker_warp), and a lone recording's own.
    vtln: str = "none"  # "none", "utterance" or "speaker"
    # The training set's median voice frequency; 0 = not measured yet (a run measures it when it
    # starts and stores it in every checkpoint, so a model always hears what it was trained on).
    vtln_reference_hz: float = 0.0

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZE_MODES:
            raise ConfigError(
                f"FeatureConfig.normalize: expected one of {NORMALIZE_MODES}, "
                f"got {self.normalize!r}"
            )
        if self.vtln not in VTLN_MODES:
            raise ConfigError(f"FeatureConfig.vtln: expected one of {VTLN_MODES}, got {self.vtln!r}")
        if not self.vtln_reference_hz >= 0:
            raise ConfigError(
                f"FeatureConfig.vtln_reference_hz: must be 0 (measure it from the training data) "
                f"or a frequency in Hz, got {self.vtln_reference_hz}"
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
    """Masking applied to training features (Park et al., 2019), no time warp, and optional VTLP.

    ``time_mask_max_ratio`` caps each time mask at that fraction of the
    utterance, so a one-second clip is not blanked out by a 40-frame mask.

    ``vtlp`` (Jaitly & Hinton, 2013) warps each training utterance's mel filters
    by a factor drawn uniformly from ``[vtlp_min, vtlp_max]``, so the model hears
    every voice with a slightly longer or shorter vocal tract.
    """

    n_freq_masks: int = 2
    freq_mask_width: int = 27
    n_time_masks: int = 2
    time_mask_width: int = 40
    time_mask_max_ratio: float = 0.05
    vtlp: bool = False
    vtlp_min: float = 0.9
    vtlp_max: float = 1.1

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
        low, high = VTLP_LIMITS
        for name in ("vtlp_min", "vtlp_max"):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(
                    f"SpecAugmentConfig.{name}: must be a warp factor in [{low}, {high}], got {getattr(self, name)}"
                )
        if self.vtlp_min > self.vtlp_max:
            raise ConfigError(
                f"SpecAugmentConfig.vtlp_min ({self.vtlp_min}) must not exceed vtlp_max ({self.vtlp_max})"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "spec_augment") -> SpecAugmentConfig:
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)
