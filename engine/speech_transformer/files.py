"""Speech-Transformer model folders: weights, config.json with the feature settings, vocab.json.

The folder layout is :mod:`engine.models.io`'s; this module writes and reads the
parts that are the Speech-Transformer's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from engine.errors import ConfigError, ModelFileError, ParceroError
from engine.feature_config import FeatureConfig
from engine.fileio import atomic_path, write_json_atomic
from engine.models.io import (
    CONFIG, FORMAT, VOCAB, WEIGHTS, LoadedModel, check_state_dict, config_json, model_config_from, read_weights,
)
from engine.speech_transformer.config import ARCHITECTURE, ModelConfig
from engine.speech_transformer.model import SpeechTransformer
from engine.text import CharTokenizer


def save_model(
    directory: str | Path,
    model: SpeechTransformer,
    tokenizer: CharTokenizer,
    feature_config: FeatureConfig,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a model folder; returns its path. Weights are saved as float32 on CPU."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if model.config.vocab_size != len(tokenizer):
        raise ValueError(f"model vocabulary ({model.config.vocab_size}) differs from tokenizer ({len(tokenizer)})")
    state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT})
    tokenizer.save(directory / VOCAB)
    config = config_json(ARCHITECTURE, model.config, metadata, features=feature_config.to_dict())
    write_json_atomic(directory / CONFIG, config)
    return directory


def load_speech_transformer(directory: Path, config: dict[str, Any], device) -> LoadedModel:
    """The model of a checked folder (see :func:`engine.models.io.load_model`)."""
    model_config = model_config_from(directory, config, ModelConfig)
    try:
        feature_config = FeatureConfig.from_dict(config.get("features", {}))
    except (ConfigError, TypeError) as e:
        raise ModelFileError(directory / CONFIG, str(e), "bad_config") from None
    try:
        tokenizer = CharTokenizer.load(directory / VOCAB)
    except ModelFileError:
        raise  # names vocab.json already
    except ParceroError as e:
        raise ModelFileError(directory / VOCAB, str(e)) from None
    if len(tokenizer) != model_config.vocab_size:
        raise ModelFileError(
            directory / VOCAB,
            f"vocabulary has {len(tokenizer)} entries but the model expects {model_config.vocab_size}",
        )
    state = read_weights(directory / WEIGHTS)
    model = SpeechTransformer(model_config)
    check_state_dict(directory / WEIGHTS, model, state)
    model.load_state_dict(state)
    model.to(device).eval()
    return LoadedModel(model, tokenizer, feature_config, directory, dict(config.get("metadata") or {}))
