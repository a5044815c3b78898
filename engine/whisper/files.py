"""Whisper model folders: weights (float16 kept), config.json with a "whisper" section, tokenizer.json.

The "whisper" section holds the alignment heads, language and suppressed token
ids and the source format. The folder layout is :mod:`engine.models.io`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from engine.errors import ModelFileError
from engine.fileio import atomic_path, write_json_atomic, write_text_atomic
from engine.models.io import (
    CONFIG, FORMAT, TOKENIZER, WEIGHTS, LoadedModel, check_state_dict, config_json, model_config_from, read_weights,
)
from engine.whisper.model import ARCHITECTURE, Whisper, WhisperConfig
from engine.whisper.tokenizer import WhisperTokenizer


def save_whisper(directory: str | Path, imported: Any, metadata: dict[str, Any] | None = None) -> Path:
    """Write a Whisper model folder; returns its path.

    Parameters
    ----------
    imported
        An :class:`engine.whisper.importers.ImportedWhisper`, or a tuple
        ``(model, tokenizer_json, extra)``: our Whisper, the text of its tokenizer.json and
        a dict with ``lang_ids``/``suppress_ids``/``suppress_ids_begin``/``source``.
        float16 weights are kept as float16 (half the disk), others saved as float32.
    """
    directory = Path(directory)
    if isinstance(imported, tuple):
        model, tokenizer_json, extra = imported
        extra = dict(extra or {})
        config, heads, source = model.config, model.alignment_heads, extra.pop("source", "")
        state = model.state_dict()
    else:
        config, heads, tokenizer_json = imported.config, imported.alignment_heads, imported.tokenizer_json
        extra, source, state = dict(imported.extra), imported.source_format, imported.state_dict
    if not isinstance(tokenizer_json, str):
        raise TypeError("tokenizer_json must be the text of a tokenizer.json")
    state = {k: (v if v.dtype == torch.float16 else v.float()).detach().cpu().contiguous() for k, v in state.items()}
    with torch.device("meta"):  # shapes only
        check_state_dict(directory / WEIGHTS, Whisper(config), state)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT})
    write_text_atomic(directory / TOKENIZER, tokenizer_json)
    whisper = {**extra, "alignment_heads": [[int(layer), int(head)] for layer, head in heads], "source": source}
    write_json_atomic(directory / CONFIG, config_json(ARCHITECTURE, config, metadata, whisper=whisper))
    return directory


def load_whisper(directory: Path, config: dict[str, Any], device) -> LoadedModel:
    """The model of a checked folder (see :func:`engine.models.io.load_model`)."""
    model_config = model_config_from(directory, config, WhisperConfig)
    whisper = config.get("whisper") or {}
    try:
        heads = [(int(layer), int(head)) for layer, head in whisper.get("alignment_heads") or []]
    except (TypeError, ValueError):
        raise ModelFileError(directory / CONFIG, "whisper.alignment_heads must be [layer, head] pairs") from None
    if any(not (0 <= layer < model_config.n_text_layer and 0 <= head < model_config.n_text_head)
           for layer, head in heads):
        raise ModelFileError(directory / CONFIG, "whisper.alignment_heads name a head the decoder does not have")
    state = read_weights(directory / WEIGHTS)
    # Built on the meta device and given the loaded tensors: no time spent on a random init.
    with torch.device("meta"):
        model = Whisper(model_config)
    check_state_dict(directory / WEIGHTS, model, state)
    model.load_state_dict({k: v.float() for k, v in state.items()}, assign=True)
    if heads:
        model.alignment_heads = heads
    model.to(device).eval()
    metadata = dict(config.get("metadata") or {})
    try:
        tokenizer = WhisperTokenizer.from_file(directory / TOKENIZER)
    except Exception as e:  # noqa: BLE001 - any failure to parse is the file's fault
        raise ModelFileError(directory / TOKENIZER, f"cannot read the Whisper tokenizer: {e}") from None
    # Whisper's front end is fixed (engine.whisper.audio), so there is no FeatureConfig.
    return LoadedModel(model, tokenizer, None, directory, metadata, whisper)
