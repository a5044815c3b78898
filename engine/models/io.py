"""Model files: a folder with weights in safetensors and everything else in JSON.

    my-model/
        model.safetensors   weights (no pickle: loading never runs code)
        config.json         architecture, model config, feature config, metadata
        vocab.json          the tokenizer (characters and text normalisation)

A Whisper folder (``"architecture": "whisper"``) has ``tokenizer.json`` (Whisper's
byte-level BPE, Hugging Face format) instead of ``vocab.json``, no feature config
(Whisper's log-mel front end is fixed; ``n_mels`` is in the model config) and a
``"whisper"`` section: alignment heads, language and suppressed token ids, source.

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
from safetensors.torch import load_file, save_file

from engine import __version__
from engine.errors import ConfigError, ModelFileError, ParceroError
from engine.features import FeatureConfig
from engine.fileio import atomic_path, write_json_atomic, write_text_atomic
from engine.models.speech_transformer import ModelConfig, SpeechTransformer
from engine.models.whisper import Whisper, WhisperConfig
from engine.text import CharTokenizer

FORMAT = "parcero-model"
FORMAT_VERSION = 1
WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.json"
TOKENIZER = "tokenizer.json"  # Whisper's tokenizer, in place of vocab.json
ARCHITECTURES = {"speech-transformer": (ModelConfig, SpeechTransformer), "whisper": (WhisperConfig, Whisper)}
TOKENIZER_FILES = {"speech-transformer": VOCAB, "whisper": TOKENIZER}


@dataclass
class LoadedModel:
    """A model ready to run, with everything needed to feed it and read its output."""

    model: SpeechTransformer | Whisper
    tokenizer: CharTokenizer | None  # None for Whisper until its tokenizer is wired (see load_model)
    feature_config: FeatureConfig | None  # None for Whisper: its log-mel front end is fixed
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def architecture(self) -> str:
        """"speech-transformer" or "whisper"."""
        return "whisper" if isinstance(self.model, Whisper) else "speech-transformer"

    @property
    def name(self) -> str:
        return self.metadata.get("name") or (self.path.name if self.path else "unsaved model")


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
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": "speech-transformer",
        "parcero_version": __version__,
        "model": model.config.to_dict(),
        "features": feature_config.to_dict(),
        "metadata": metadata or {},
    }
    write_json_atomic(directory / CONFIG, config)
    return directory


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
    write_json_atomic(directory / CONFIG, {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": "whisper",
        "parcero_version": __version__,
        "model": config.to_dict(),
        "whisper": whisper,
        "metadata": metadata or {},
    })
    return directory


def save_trained(
    directory: str | Path,
    model: SpeechTransformer | Whisper,
    tokenizer: Any,
    feature_config: FeatureConfig | None,
    metadata: dict[str, Any] | None = None,
    whisper_extra: dict[str, Any] | None = None,
) -> Path:
    """Save a model of either architecture, as the trainer and ``parcero average`` do.

    ``whisper_extra`` is the ``"whisper"`` section of the folder the Whisper model
    came from (language ids, suppressed tokens, source); it is carried over.
    """
    if isinstance(model, Whisper):
        extra = {k: v for k, v in (whisper_extra or {}).items() if k != "alignment_heads"}
        return save_whisper(directory, (model, tokenizer.tokenizer.to_str(), extra), metadata)
    return save_model(directory, model, tokenizer, feature_config, metadata)


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
    """
    directory = resolve_model_dir(path)
    config = read_model_config(directory)
    arch = config.get("architecture")
    if arch not in ARCHITECTURES:
        raise ModelFileError(directory / CONFIG, f"unknown architecture {arch!r}", "bad_config")
    if not (directory / TOKENIZER_FILES[arch]).is_file():
        raise ModelFileError(directory, f"not a Parcero model folder: missing {TOKENIZER_FILES[arch]}", "not_a_model",
                             {"missing": TOKENIZER_FILES[arch]})
    config_cls, model_cls = ARCHITECTURES[arch]
    try:
        model_config = config_cls.from_dict(config.get("model", {}))
        feature_config = FeatureConfig.from_dict(config.get("features", {})) if arch != "whisper" else None
    except (ConfigError, TypeError) as e:
        raise ModelFileError(directory / CONFIG, str(e), "bad_config") from None
    if arch == "whisper":
        return _load_whisper(directory, config, model_config, device)
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
    state = _read_weights(directory / WEIGHTS)
    model = model_cls(model_config)
    check_state_dict(directory / WEIGHTS, model, state)
    model.load_state_dict(state)
    model.to(device).eval()
    return LoadedModel(model, tokenizer, feature_config, directory, dict(config.get("metadata") or {}))


def _load_whisper(directory: Path, config: dict, model_config: WhisperConfig, device) -> LoadedModel:
    whisper = config.get("whisper") or {}
    try:
        heads = [(int(layer), int(head)) for layer, head in whisper.get("alignment_heads") or []]
    except (TypeError, ValueError):
        raise ModelFileError(directory / CONFIG, "whisper.alignment_heads must be [layer, head] pairs") from None
    if any(not (0 <= layer < model_config.n_text_layer and 0 <= head < model_config.n_text_head)
           for layer, head in heads):
        raise ModelFileError(directory / CONFIG, "whisper.alignment_heads name a head the decoder does not have")
    state = _read_weights(directory / WEIGHTS)
    # Built on the meta device and given the loaded tensors: no time spent on a random init.
    with torch.device("meta"):
        model = Whisper(model_config)
    check_state_dict(directory / WEIGHTS, model, state)
    model.load_state_dict({k: v.float() for k, v in state.items()}, assign=True)
    if heads:
        model.alignment_heads = heads
    model.to(device).eval()
    metadata = dict(config.get("metadata") or {})
    metadata["whisper"] = whisper
    metadata["tokenizer_json"] = str(directory / TOKENIZER)
    from engine.whisper.tokenizer import WhisperTokenizer

    try:
        tokenizer = WhisperTokenizer.from_file(directory / TOKENIZER)
    except Exception as e:  # noqa: BLE001 - any failure to parse is the file's fault
        raise ModelFileError(directory / TOKENIZER, f"cannot read the Whisper tokenizer: {e}") from None
    # Whisper's front end is fixed (engine.whisper.audio), so there is no FeatureConfig.
    return LoadedModel(model, tokenizer, None, directory, metadata)


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
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
