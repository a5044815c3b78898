"""Whisper (Radford et al. 2022) in our own code, with the Speech-Transformer's interface.

The architecture follows the published design: two Conv1d layers with GELU
(the second with stride 2: 20 ms frames), sinusoidal positions, pre-LayerNorm
encoder blocks; a decoder with learned positions, masked self-attention,
cross-attention and an output layer tied to the token embedding. Parameter
names match OpenAI's checkpoints, so their weights load without renaming.

What makes it a Parcero model: ``encode``/``decode`` take the same arguments
as :class:`engine.speech_transformer.model.SpeechTransformer` (padding lengths,
a :class:`KVCache`, an :class:`AttentionRecorder`), so decoding, streaming
attention and training code serve both. Input features are Whisper's own
log-mel (engine.whisper.audio), 30 s windows of 3000 frames.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine import configio
from engine.errors import ConfigError
from engine.models.attention import (
    AttentionRecorder, KVCache, attention_with_weights, fold_beams, keys_and_values, split_heads,
)


@dataclass
class WhisperConfig:
    """Model sizes, as OpenAI's ``ModelDimensions`` (stored with every Whisper model)."""

    n_mels: int = 80
    n_audio_ctx: int = 1500
    n_audio_state: int = 512
    n_audio_head: int = 8
    n_audio_layer: int = 6
    n_vocab: int = 51865
    n_text_ctx: int = 448
    n_text_state: int = 512
    n_text_head: int = 8
    n_text_layer: int = 6

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ConfigError(f"WhisperConfig.{f.name} must be a positive integer, got {getattr(self, f.name)!r}")

    @property
    def vocab_size(self) -> int:
        return self.n_vocab

    @property
    def d_model(self) -> int:
        return self.n_text_state

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, where: str = "model") -> "WhisperConfig":
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)


def whisper_sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> Tensor:
    """Whisper's encoder positions: all sines then all cosines, shape (length, channels).

    (Not the interleaved layout of Vaswani et al.; imported checkpoints carry the
    table anyway, but a Whisper built from scratch must match the original.)
    """
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-increment * torch.arange(channels // 2, dtype=torch.float32))
    t = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class WhisperAttention(nn.Module):
    def __init__(self, n_state: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_state, n_state)
        self.key = nn.Linear(n_state, n_state, bias=False)
        self.value = nn.Linear(n_state, n_state)
        self.out = nn.Linear(n_state, n_state)

    def forward(self, x, xa=None, mask=None, cache: KVCache | None = None, need_weights=False):
        B, T_q, D = x.shape
        if xa is not None and xa.shape[0] != B:  # beams sharing their window's encoder output
            return fold_beams(self, x, xa, mask, cache, need_weights)
        q = split_heads(self.query(x), self.n_head)
        k, v = keys_and_values(self, x, xa, cache)  # (B, H, T_k, hd)
        if need_weights:  # True, or "mean" for the heads' mean
            y, w = attention_with_weights(q, k, v, mask, need_weights)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            w = None
        return self.out(y.transpose(1, 2).reshape(B, T_q, D)), w


class WhisperBlock(nn.Module):
    def __init__(self, n_state: int, n_head: int, cross_attention: bool):
        super().__init__()
        self.attn = WhisperAttention(n_state, n_head)
        self.attn_ln = nn.LayerNorm(n_state)
        self.cross_attn = WhisperAttention(n_state, n_head) if cross_attention else None
        self.cross_attn_ln = nn.LayerNorm(n_state) if cross_attention else None
        self.mlp = nn.Sequential(nn.Linear(n_state, 4 * n_state), nn.GELU(), nn.Linear(4 * n_state, n_state))
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(self, x, xa=None, self_mask=None, cross_mask=None, cache=None, need_self=False, need_cross=False):
        y, w_self = self.attn(self.attn_ln(x), mask=self_mask, cache=cache, need_weights=need_self)
        x = x + y
        w_cross = None
        if self.cross_attn is not None:
            y, w_cross = self.cross_attn(self.cross_attn_ln(x), xa, mask=cross_mask, cache=cache,
                                         need_weights=need_cross)
            x = x + y
        return x + self.mlp(self.mlp_ln(x)), w_self, w_cross


class WhisperEncoder(nn.Module):
    def __init__(self, c: WhisperConfig):
        super().__init__()
        self.conv1 = nn.Conv1d(c.n_mels, c.n_audio_state, 3, padding=1)
        self.conv2 = nn.Conv1d(c.n_audio_state, c.n_audio_state, 3, stride=2, padding=1)
        self.register_buffer("positional_embedding", whisper_sinusoids(c.n_audio_ctx, c.n_audio_state))
        self.blocks = nn.ModuleList(WhisperBlock(c.n_audio_state, c.n_audio_head, False) for _ in range(c.n_audio_layer))
        self.ln_post = nn.LayerNorm(c.n_audio_state)


class WhisperDecoder(nn.Module):
    def __init__(self, c: WhisperConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.n_vocab, c.n_text_state)
        self.positional_embedding = nn.Parameter(torch.empty(c.n_text_ctx, c.n_text_state))
        nn.init.normal_(self.positional_embedding, std=0.01)
        self.blocks = nn.ModuleList(WhisperBlock(c.n_text_state, c.n_text_head, True) for _ in range(c.n_text_layer))
        self.ln = nn.LayerNorm(c.n_text_state)


ARCHITECTURE = "whisper"  # as config.json names the family (engine.backends.FAMILIES)


class Whisper(nn.Module):
    """Whisper encoder-decoder. Features: (B, T_in, n_mels) with T_in = 3000 (30 s) for trained models."""

    ARCHITECTURE = ARCHITECTURE

    MIN_FRAMES = 2
    ctc_head = None  # Whisper has no CTC head: joint CTC scoring and CTC timings do not apply

    def __init__(self, config: WhisperConfig):
        super().__init__()
        self.config = config
        self.encoder = WhisperEncoder(config)
        self.decoder = WhisperDecoder(config)
        self.output_layer: nn.Module | None = None  # inference's own vocabulary projection (set_output_layer)
        # Heads whose cross-attention follows the audio (used for word timings by DTW);
        # (layer, head) pairs. Default as Whisper's: every head of the upper half of the decoder.
        self.alignment_heads: list[tuple[int, int]] = [
            (layer, head) for layer in range(config.n_text_layer // 2, config.n_text_layer)
            for head in range(config.n_text_head)
        ]

    def encode(self, feats: Tensor, feat_lens: Tensor, recorder: AttentionRecorder | None = None):
        """(B, T_in, n_mels) -> xa (B, T_in / 2, D), enc_lens (B,).

        Whisper was trained on whole 30 s windows padded with silence and no mask, so the
        encoder attends over the padding too (as the original does); ``enc_lens`` only
        tells later stages where the real audio ends.
        """
        e = self.encoder
        x = F.gelu(e.conv1(feats.transpose(1, 2).to(e.conv1.weight.dtype)))  # bf16 models take bf16 features
        x = F.gelu(e.conv2(x)).transpose(1, 2)  # (B, T, D)
        if x.shape[1] > e.positional_embedding.shape[0]:
            raise ValueError(f"input of {feats.shape[1]} frames is longer than Whisper's 30 s window")
        x = x + e.positional_embedding[: x.shape[1]].to(x.dtype)
        need = recorder.need("encoder_self") if recorder is not None else False
        for i, block in enumerate(e.blocks):
            x, w, _ = block(x, need_self=need)
            if need:
                recorder.record("encoder_self", i, w)
        enc_lens = ((feat_lens + 1) // 2).clamp(min=1, max=x.shape[1])
        return e.ln_post(x), enc_lens

    def decode(self, tokens: Tensor, xa: Tensor, enc_lens: Tensor, cache: KVCache | None = None,
               recorder: AttentionRecorder | None = None) -> Tensor:
        """Next-token logits (B, L, V) for ``tokens`` (B, L); with a cache, only the new tokens.

        xa may have fewer rows than ``tokens``, shared by consecutive rows (the beams of a window).
        """
        d = self.decoder
        offset = cache.length if cache is not None else 0
        L = tokens.shape[1]
        if offset + L > d.positional_embedding.shape[0]:
            raise ValueError(f"Whisper decodes at most {d.positional_embedding.shape[0]} tokens")
        x = d.token_embedding(tokens) + d.positional_embedding[offset: offset + L].to(xa.dtype)
        # One new token sees everything cached: no mask, which keeps SDPA on its fastest path.
        self_mask = torch.ones(L, offset + L, dtype=torch.bool, device=x.device).tril(offset) if L > 1 else None
        need_self = recorder is not None and recorder.wants("decoder_self")
        need_cross = recorder is not None and recorder.wants("decoder_cross")
        for i, block in enumerate(d.blocks):
            x, w_self, w_cross = block(x, xa, self_mask, None, cache, need_self, need_cross)
            if need_self:
                recorder.record("decoder_self", i, w_self)
            if need_cross:
                recorder.record("decoder_cross", i, w_cross)
        if cache is not None:
            cache.length += L
        if self.output_layer is not None:  # inference's own copy of the projection (engine.quantize)
            return self.output_layer(d.ln(x)).float()
        if cache is not None:
            # Incremental decoding projects a few rows onto 51865 tokens. On the CPU, MKL runs that
            # product 3x faster as (V, D) @ (D, rows) than as (rows, D) @ (D, V): 11 ms instead of
            # 32 ms for 5 beams, a third of a decoding step. The logits come out as a transposed view.
            h = d.ln(x).reshape(-1, x.shape[-1])  # (B * L, D)
            return (d.token_embedding.weight.to(x.dtype) @ h.T).T.reshape(*tokens.shape, -1).float()
        return (d.ln(x) @ d.token_embedding.weight.to(x.dtype).T).float()

    def tied_output_weight(self) -> Tensor:
        """The output projection's weight (V, D): the token embedding's."""
        return self.decoder.token_embedding.weight

    def set_output_layer(self, layer: nn.Module | None) -> None:
        """Project onto the vocabulary with ``layer`` (the tied weight's copy, e.g. packed); None: the tied weight."""
        self.output_layer = layer

    def ctc_log_probs(self, xa: Tensor) -> Tensor:
        raise RuntimeError("Whisper has no CTC head")

    def forward(self, feats: Tensor, feat_lens: Tensor, tokens: Tensor):
        """Teacher-forced pass for fine-tuning: (logits (B, L, V), None, enc_lens)."""
        xa, enc_lens = self.encode(feats, feat_lens)
        return self.decode(tokens, xa, enc_lens), None, enc_lens

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
