"""Model files: a folder with weights in safetensors and everything else in JSON.

    my-model/
        model.safetensors   weights (no pickle: loading never runs code)
        config.json         architecture, model config, feature config, metadata
        vocab.json          the tokenizer (characters and text normalisation)

A Whisper folder (``"architecture": "whisper"``) has ``tokenizer.json`` (Whisper's
byte-level BPE, Hugging Face format) instead of ``vocab.json``, no feature config
(Whisper's log-mel front end is fixed; ``n_mels`` is in the model config) and a
``"whisper"`` section: alignment heads, language and suppressed token ids, source.

Each family writes and reads its own parts (``engine/<family>/files.py``) through
its backend (:mod:`engine.backends`); this module holds what all folders share.
The folder alone rebuilds the model; nothing is looked up elsewhere. Every file is
written atomically, so an interrupted save leaves the previous model intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from engine import __version__
from engine.errors import ConfigError, ModelFileError
from engine.feature_config import FeatureConfig

FORMAT = "parcero-model"
FORMAT_VERSION = 1
WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.json"
TOKENIZER = "tokenizer.json"  # Whisper's tokenizer, in place of vocab.json


@dataclass
class LoadedModel:
    """A model ready to run, with everything needed to feed it and read its output."""

    model: Any  # a family's network (engine.speech_transformer.model, engine.whisper.model)
    tokenizer: Any  # the family's tokenizer (CharTokenizer, WhisperTokenizer)
    feature_config: FeatureConfig | None  # None when the family's front end is fixed (Whisper)
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # config.json's "metadata": name, training, ...
    extra: dict[str, Any] = field(default_factory=dict)  # the family's own section of config.json, if any

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def architecture(self) -> str:
        """The family, as config.json names it ("speech-transformer", "whisper")."""
        return self.model.ARCHITECTURE

    @property
    def backend(self):
        """The :class:`engine.backends.Backend` that drives this model."""
        from engine.backends import backend_of

        return backend_of(self.model)

    @property
    def name(self) -> str:
        return self.metadata.get("name") or (self.path.name if self.path else "unsaved model")


def save_trained(
    directory: str | Path,
    model,
    tokenizer: Any,
    feature_config: FeatureConfig | None,
    metadata: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save a model of any family, as the trainer and ``parcero average`` do.

    ``extra`` is the family's own section of the folder the model came from (for
    Whisper: language ids, suppressed tokens, source); it is carried over.
    """
    from engine.backends import backend_of

    return backend_of(model).save(directory, model, tokenizer, feature_config, metadata, extra)


def resolve_model_dir(path: str | Path) -> Path:
    """Accept the model folder or any file inside it."""
    path = Path(path).expanduser()
    if path.is_file():
        path = path.parent
    if not path.exists():
        raise ModelFileError(path, "no such model folder", "missing")
    if not path.is_dir():
        raise ModelFileError(path, "not a model folder", "not_a_model", {"missing": ""})
    # The tokenizer file depends on the architecture, so load_model checks it after the config.
    missing = [n for n in (WEIGHTS, CONFIG) if not (path / n).is_file()]
    if missing:
        raise ModelFileError(path, f"not a Parcero model folder: missing {', '.join(missing)}", "not_a_model",
                             {"missing": ", ".join(missing)})
    return path


def read_model_config(directory: Path) -> dict[str, Any]:
    try:
        config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(directory / CONFIG, f"cannot read model config: {e}", "bad_config") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(directory / CONFIG, f"not a Parcero model config (expected \"format\": \"{FORMAT}\")",
                             "bad_config")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            directory / CONFIG, f"made by a newer Parcero (format {config['format_version']}); please upgrade",
            "too_new",
        )
    return config


def load_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a model from its folder, in eval mode on ``device``.

    Raises :class:`ModelFileError` naming the file for a missing or truncated file,
    a config that does not match the weights, or a vocabulary of the wrong size.
    The family named by config.json's ``architecture`` does the rebuilding.
    """
    from engine.backends import backend_for_config

    directory = resolve_model_dir(path)
    config = read_model_config(directory)
    backend = backend_for_config(directory, config)
    if not (directory / backend.tokenizer_file).is_file():
        raise ModelFileError(directory, f"not a Parcero model folder: missing {backend.tokenizer_file}",
                             "not_a_model", {"missing": backend.tokenizer_file})
    return backend.load(directory, config, device)


def model_config_from(directory: Path, config: dict[str, Any], config_cls):
    """``config_cls.from_dict`` of config.json's "model" section, errors naming config.json."""
    try:
        return config_cls.from_dict(config.get("model", {}))
    except (ConfigError, TypeError) as e:
        raise ModelFileError(directory / CONFIG, str(e), "bad_config") from None


def config_json(architecture: str, model_config, metadata: dict[str, Any] | None, **sections) -> dict[str, Any]:
    """The config.json of a model folder: format, architecture, model config, the family's sections, metadata."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "architecture": architecture,
            "parcero_version": __version__, "model": model_config.to_dict(), **sections,
            "metadata": metadata or {}}


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(path, f"cannot read weights (truncated or corrupt?): {e}", "bad_weights") from None


def check_state_dict(path: Path, model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Raise ModelFileError naming ``path`` unless ``state`` has exactly the model's tensors and shapes."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensor(s), e.g. {missing[0]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[0]}")
    if wrong:
        k = wrong[0]
        problems.append(
            f"{len(wrong)} tensor(s) of the wrong shape, e.g. {k}: "
            f"file {tuple(state[k].shape)} vs config {tuple(expected[k].shape)}"
        )
    if problems:
        raise ModelFileError(path, "weights do not match config.json: " + "; ".join(problems), "mismatch")
