"""The training run configuration: one TOML file, every option with a default.

A minimal config is three lines::

    [data]
    train = "datos/train.jsonl"
    dev = "datos/dev.jsonl"

Relative paths are relative to the TOML file. The fully resolved configuration
is written to ``<run>/config.toml`` so a run documents itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.configio import check_value, from_dict, read_toml, section_to_dict
from engine.errors import ConfigError
from engine.feature_config import FeatureConfig, SpecAugmentConfig
from engine.speech_transformer.config import ARCHITECTURE, PRESETS, ModelConfig
from engine.text import TextConfig

SCHEDULES = ("auto", "noam", "cosine")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass
class DataConfig:
    train: str = ""  # training manifest (required)
    dev: str = ""  # dev manifest; without one there is no evaluation and no "best" checkpoint
    max_frames: int = 20000  # padded feature frames (10 ms) per batch: 200 s of audio
    max_batch_size: int = 0  # 0 = no cap besides max_frames
    num_buckets: int = 10
    num_workers: int = 2  # DataLoader processes computing features
    min_duration: float = 0.1  # shorter or longer utterances are left out (and counted)
    max_duration: float = 30.0


@dataclass
class TrainConfig:
    max_steps: int = 20000  # optimizer updates
    epochs: int = 0  # 0 = as many as max_steps needs
    # "noam": Vaswani et al.; "cosine": warmup then cosine decay (fine-tuning);
    # "auto": noam when training from scratch, cosine when fine-tuning (--init)
    schedule: str = "auto"
    lr_factor: float = 1.0  # k in lr = k * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)
    peak_lr: float = 0.0  # cosine schedule only; 0 = auto: 1e-4 (Speech-Transformer), 1e-5 (Whisper)
    min_lr: float = 0.0  # cosine schedule only
    warmup: int = 4000  # 4000 as Vaswani et al.; Pham et al. used 8000 for very deep models
    ctc_weight: float = 0.3
    label_smoothing: float = 0.1
    grad_clip: float = 5.0  # max global gradient norm; 0 = off
    accum_steps: int = 1  # batches per optimizer update
    precision: str = "auto"  # auto: bf16 on GPUs that support it, else fp16 with a grad scaler; fp32 on CPU
    compile: bool = False  # torch.compile the model
    freeze_encoder: bool = False  # fine-tuning: train only the decoder (and CTC head)
    language: str = "es"  # Whisper fine-tuning: the language token of the decoder prompt
    # Whisper fine-tuning: share of utterances taught with timestamps (<|0.00|> text <|end|>), as in
    # Whisper's own training; long-form transcription seeks by timestamps, so do not set it to 0
    timestamp_fraction: float = 0.5
    eval_every: int = 1000
    eval_max_utterances: int = 0  # 0 = the whole dev set
    log_every: int = 50
    checkpoint_every: int = 1000
    keep_last: int = 3
    num_samples: int = 4  # dev utterances whose transcripts and cross-attention are saved at each eval
    max_bad_batches: int = 5  # consecutive non-finite losses before the run stops
    seed: int = 0
    device: str = "auto"
    deterministic: bool = False  # bit-exact resume on CPU; slower on GPU

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.peak_lr < 0 or self.min_lr < 0:
            raise ConfigError(f"peak_lr and min_lr must not be negative, got {self.peak_lr} and {self.min_lr}")
        if not 0.0 <= self.timestamp_fraction <= 1.0:
            raise ConfigError(f"timestamp_fraction must be in [0, 1], got {self.timestamp_fraction}")
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ConfigError(f"ctc_weight must be in [0, 1], got {self.ctc_weight}")
        for name in ("max_steps", "accum_steps", "eval_every", "log_every", "checkpoint_every", "keep_last", "warmup"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class RunSection:
    """[run]: the run's name (default: the config file's) and folder (default: runs/<name>)."""

    name: str = ""
    dir: str = ""


@dataclass
class RunConfig:
    data: DataConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    model: dict[str, Any] = field(default_factory=lambda: {"preset": "small"})  # preset + ModelConfig overrides
    text: TextConfig = field(default_factory=TextConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    spec_augment: SpecAugmentConfig | None = field(default_factory=SpecAugmentConfig)
    name: str = "run"
    out_dir: str = "runs/run"  # the run directory
    base_dir: str = "."  # folder the config file was in (relative paths start there)

    def resolve(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path

    @property
    def architecture(self) -> str:
        """The family a run trains from nothing ([model] describes a Speech-Transformer)."""
        return ARCHITECTURE

    def model_config(self, vocab_size: int) -> ModelConfig:
        overrides = dict(self.model)
        preset = overrides.pop("preset", None)
        if preset is not None:
            if preset not in PRESETS:
                raise ConfigError(f"model.preset: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
            overrides = {**PRESETS[preset], **overrides}
        overrides.pop("vocab_size", None)  # always taken from the data
        return ModelConfig.from_dict({"vocab_size": vocab_size, **overrides})

    def to_dict(self) -> dict[str, Any]:
        d = {
            "run": {"name": self.name, "dir": self.out_dir},
            "data": section_to_dict(self.data),
            "model": dict(self.model),
            "text": section_to_dict(self.text),
            "features": section_to_dict(self.features),
            "train": section_to_dict(self.train),
            "spec_augment": {"enabled": self.spec_augment is not None, **(section_to_dict(self.spec_augment) if self.spec_augment else {})},
        }
        d["data"]["train"] = str(self.resolve(self.data.train).resolve())
        if self.data.dev:
            d["data"]["dev"] = str(self.resolve(self.data.dev).resolve())
        return d


SECTIONS = ("run", "data", "model", "text", "features", "spec_augment", "train")


def run_config_from_dict(d: dict[str, Any], base_dir: str | Path = ".", source: str = "config") -> RunConfig:
    unknown = sorted(set(d) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
    data = from_dict(DataConfig, d.get("data", {}), "data")
    if not data.train:
        raise ConfigError(f"{source}: data.train is required (the training manifest)")
    run = from_dict(RunSection, d.get("run", {}), "run")
    name = run.name or Path(source).stem or "run"
    spec, enabled = d.get("spec_augment", {}), True
    if isinstance(spec, dict):  # else from_dict below says it is not a table
        spec = dict(spec)
        enabled = check_value(spec.pop("enabled", True), bool, "spec_augment.enabled")
        if not enabled and spec.get("vtlp") is True:
            raise ConfigError("spec_augment.vtlp: VTLP is part of the training augmentation; "
                              "set spec_augment.enabled = true, or vtlp = false")
    model = d.get("model") or {"preset": "small"}
    if not isinstance(model, dict):
        raise ConfigError(f"[model] must be a table of settings, got {type(model).__name__}")
    config = RunConfig(
        data=data,
        train=from_dict(TrainConfig, d.get("train", {}), "train"),
        model=dict(model),
        text=from_dict(TextConfig, d.get("text", {}), "text"),
        features=from_dict(FeatureConfig, d.get("features", {}), "features"),
        spec_augment=from_dict(SpecAugmentConfig, spec, "spec_augment") if enabled else None,
        name=name,
        out_dir=run.dir or f"runs/{name}",
        base_dir=str(base_dir),
    )
    config.model_config(vocab_size=8)  # check the model section now, not after loading the data
    return config


def load_run_config(path: str | Path) -> RunConfig:
    """Read a run's TOML; every error names the file and the setting."""
    path = Path(path)
    try:
        return run_config_from_dict(read_toml(path), base_dir=path.parent, source=str(path))
    except ConfigError as e:
        if str(e).startswith(str(path)):
            raise
        raise ConfigError(f"{path}: {e}") from None
