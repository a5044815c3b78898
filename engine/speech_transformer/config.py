"""A Speech-Transformer's size and shape: :class:`ModelConfig` and the presets, without torch.

The window's Train page and the run configs read these; importing them costs
nothing, while :mod:`engine.speech_transformer.model` (the network) loads torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from engine import configio
from engine.errors import ConfigError

ARCHITECTURE = "speech-transformer"  # as config.json names the family (engine.backends.FAMILIES)


@dataclass
class ModelConfig:
    vocab_size: int
    n_mels: int = 80
    d_model: int = 256
    n_head: int = 4
    d_ff: int = 1024
    n_enc_layers: int = 12
    n_dec_layers: int = 6
    dropout: float = 0.1
    stochastic_depth: float = 0.0  # p of the deepest layer; 0 disables
    encoder: str = "transformer"  # "transformer" or "conformer"
    conv_kernel: int = 15  # Conformer depthwise convolution width
    ctc: bool = True

    def __post_init__(self) -> None:
        if self.encoder not in ("transformer", "conformer"):
            raise ConfigError(f"model.encoder: expected 'transformer' or 'conformer', got {self.encoder!r}")
        if self.d_model % self.n_head:
            raise ConfigError(f"model.d_model ({self.d_model}) must be divisible by model.n_head ({self.n_head})")
        if not 0.0 <= self.stochastic_depth < 1.0:
            raise ConfigError(f"model.stochastic_depth must be in [0, 1), got {self.stochastic_depth}")
        if self.conv_kernel % 2 == 0:
            raise ConfigError(f"model.conv_kernel must be odd, got {self.conv_kernel}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, where: str = "model") -> "ModelConfig":
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)


# Parameter counts with a 64-character vocabulary (checked in tests/engine/test_speech_transformer.py):
#   tiny  ~ 2.3 M   (CPU-friendly; trains on a laptop)
#   small ~ 17.7 M  (the Speech-Transformer size; one GPU)
#   base  ~ 70.5 M  (GPU)
PRESETS: dict[str, dict] = {
    "tiny": dict(d_model=144, n_head=4, d_ff=576, n_enc_layers=4, n_dec_layers=2),
    "small": dict(d_model=256, n_head=4, d_ff=1024, n_enc_layers=12, n_dec_layers=6),
    "base": dict(d_model=512, n_head=8, d_ff=2048, n_enc_layers=12, n_dec_layers=6),
}


def preset_config(name: str, vocab_size: int, **overrides) -> ModelConfig:
    """Model configuration of the named preset, with any field overridden."""
    if name not in PRESETS:
        raise ConfigError(f"unknown model preset {name!r}; choose one of {', '.join(PRESETS)}")
    return ModelConfig(vocab_size=vocab_size, **{**PRESETS[name], **overrides})
