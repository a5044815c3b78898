"""The Speech-Transformer: conv subsampling, Transformer/Conformer encoder, character decoder.

Dong et al. (2018) put a Conv2d front end before the Transformer of Vaswani et al.
(2017) and emit characters. We add the pieces our papers and practice call for:

- pre-LayerNorm residual blocks (train stably without a long warm-up search),
- stochastic depth per layer (Pham et al. 2019): layer l of L is skipped with
  probability p_l = (l / L) * p while training, and a kept layer's residual
  branches are scaled by 1 / (1 - p_l) so their expected value is unchanged,
- an optional Conformer encoder (Gulati et al. 2020),
- a CTC head on the encoder output for joint CTC-attention training and decoding,
- a KV cache for incremental decoding and optional capture of attention weights.

Shapes use B = batch, T = encoder frames, L = target tokens, D = d_model,
H = heads, V = vocabulary.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.models.attention import AttentionRecorder, KVCache, MultiHeadAttention
from engine.speech_transformer.config import ARCHITECTURE, ModelConfig


def sinusoids(length: int, d: int, offset: int = 0, device=None) -> Tensor:
    """Sinusoidal positional encodings of Vaswani et al., shape (length, d)."""
    pos = torch.arange(offset, offset + length, device=device, dtype=torch.float32)[:, None]
    inv = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d, device=device)
    pe[:, 0::2] = torch.sin(pos * inv)
    pe[:, 1::2] = torch.cos(pos * inv)
    return pe


@lru_cache(maxsize=8)
def _sinusoid_table(d: int, device: torch.device, length: int = 2048) -> Tensor:
    """sinusoids(length, d) computed once: a decoding step needs one row, and building it costs ~10 ops."""
    with torch.inference_mode(False):  # a plain tensor, usable outside inference mode too
        return sinusoids(length, d, device=device)


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, d_ff: int, dropout: float, activation: type[nn.Module] = nn.ReLU):
        super().__init__(nn.Linear(d_model, d_ff), activation(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))


class StochasticLayer(nn.Module):
    """Base of every encoder/decoder layer: decides whether to skip itself while training."""

    def __init__(self, skip_prob: float, dropout: float):
        super().__init__()
        self.skip_prob = skip_prob
        self.drop = nn.Dropout(dropout)

    def skipped(self) -> bool:
        # One coin per mini-batch, as Pham et al.: a skipped layer also saves its compute.
        return self.training and self.skip_prob > 0 and bool(torch.rand(()) < self.skip_prob)

    def branch(self, y: Tensor) -> Tensor:
        """Dropout on a residual branch, scaled so its expectation matches inference."""
        if not self.training:
            return y
        y = self.drop(y)
        return y / (1.0 - self.skip_prob) if self.training and self.skip_prob > 0 else y


class EncoderLayer(StochasticLayer):
    def __init__(self, c: ModelConfig, skip_prob: float):
        super().__init__(skip_prob, c.dropout)
        self.attn_ln = nn.LayerNorm(c.d_model)
        self.attn = MultiHeadAttention(c.d_model, c.n_head, c.dropout)
        self.ff_ln = nn.LayerNorm(c.d_model)
        self.ff = FeedForward(c.d_model, c.d_ff, c.dropout)

    def forward(self, x: Tensor, mask: Tensor, pad: Tensor, need_weights: bool = False):
        if self.skipped():
            return x, None
        y, w = self.attn(self.attn_ln(x), mask=mask, need_weights=need_weights)
        x = x + self.branch(y)
        x = x + self.branch(self.ff(self.ff_ln(x)))
        return x, w


class ConformerConvModule(nn.Module):
    """Pointwise conv + GLU, depthwise conv, norm, Swish, pointwise conv (Gulati et al.)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.ln = nn.LayerNorm(c.d_model)
        self.pointwise_in = nn.Conv1d(c.d_model, 2 * c.d_model, 1)
        self.depthwise = nn.Conv1d(c.d_model, c.d_model, c.conv_kernel, padding=c.conv_kernel // 2, groups=c.d_model)
        # LayerNorm instead of the paper's BatchNorm: padded frames and the tiny
        # batches of desktop fine-tuning would otherwise skew the batch statistics.
        self.norm = nn.LayerNorm(c.d_model)
        self.pointwise_out = nn.Conv1d(c.d_model, c.d_model, 1)

    def forward(self, x: Tensor, pad: Tensor) -> Tensor:  # x (B, T, D), pad (B, T) True at padding
        y = self.ln(x).masked_fill(pad[..., None], 0.0)  # padding must not leak into valid frames
        y = F.glu(self.pointwise_in(y.transpose(1, 2)), dim=1)  # (B, D, T)
        y = self.depthwise(y.masked_fill(pad[:, None, :], 0.0))
        y = F.silu(self.norm(y.transpose(1, 2)))  # (B, T, D)
        return self.pointwise_out(y.transpose(1, 2)).transpose(1, 2)


class ConformerLayer(StochasticLayer):
    def __init__(self, c: ModelConfig, skip_prob: float):
        super().__init__(skip_prob, c.dropout)
        self.ff1_ln = nn.LayerNorm(c.d_model)
        self.ff1 = FeedForward(c.d_model, c.d_ff, c.dropout, nn.SiLU)
        self.attn_ln = nn.LayerNorm(c.d_model)
        self.attn = MultiHeadAttention(c.d_model, c.n_head, c.dropout)
        self.conv = ConformerConvModule(c)
        self.ff2_ln = nn.LayerNorm(c.d_model)
        self.ff2 = FeedForward(c.d_model, c.d_ff, c.dropout, nn.SiLU)
        self.final_ln = nn.LayerNorm(c.d_model)

    def forward(self, x: Tensor, mask: Tensor, pad: Tensor, need_weights: bool = False):
        if self.skipped():
            return x, None
        x = x + 0.5 * self.branch(self.ff1(self.ff1_ln(x)))  # macaron: half feed-forward first
        y, w = self.attn(self.attn_ln(x), mask=mask, need_weights=need_weights)
        x = x + self.branch(y)
        x = x + self.branch(self.conv(x, pad))
        x = x + 0.5 * self.branch(self.ff2(self.ff2_ln(x)))
        return self.final_ln(x), w


class DecoderLayer(StochasticLayer):
    def __init__(self, c: ModelConfig, skip_prob: float):
        super().__init__(skip_prob, c.dropout)
        self.self_ln = nn.LayerNorm(c.d_model)
        self.self_attn = MultiHeadAttention(c.d_model, c.n_head, c.dropout)
        self.cross_ln = nn.LayerNorm(c.d_model)
        self.cross_attn = MultiHeadAttention(c.d_model, c.n_head, c.dropout)
        self.ff_ln = nn.LayerNorm(c.d_model)
        self.ff = FeedForward(c.d_model, c.d_ff, c.dropout)

    def forward(self, x, xa, self_mask, cross_mask, cache=None, need_self=False, need_cross=False):
        if self.skipped():
            return x, None, None
        y, w_self = self.self_attn(self.self_ln(x), mask=self_mask, cache=cache, need_weights=need_self)
        x = x + self.branch(y)
        y, w_cross = self.cross_attn(self.cross_ln(x), xa, mask=cross_mask, cache=cache, need_weights=need_cross)
        x = x + self.branch(y)
        x = x + self.branch(self.ff(self.ff_ln(x)))
        return x, w_self, w_cross


class Conv2dSubsampling(nn.Module):
    """Two 3x3 stride-2 convolutions with ReLU: 4x fewer frames (10 ms -> 40 ms)."""

    def __init__(self, n_mels: int, d_model: int):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, d_model, 3, 2), nn.ReLU(), nn.Conv2d(d_model, d_model, 3, 2), nn.ReLU())
        f = ((n_mels - 1) // 2 - 1) // 2
        self.proj = nn.Linear(d_model * f, d_model)

    @staticmethod
    def output_lengths(lengths: Tensor) -> Tensor:
        return ((lengths - 1) // 2 - 1) // 2

    def forward(self, x: Tensor) -> Tensor:  # (B, T, n_mels) -> (B, T', D)
        x = self.conv(x.unsqueeze(1))  # (B, D, T', F')
        B, C, T, Fr = x.shape
        return self.proj(x.transpose(1, 2).reshape(B, T, C * Fr))


def layer_skip_probs(n_layers: int, p: float) -> list[float]:
    """p_l = (l / L) * p for l = 1..L: deeper layers are dropped more often."""
    return [(l / n_layers) * p for l in range(1, n_layers + 1)]


class SpeechTransformer(nn.Module):
    """Conv2d subsampling, Transformer/Conformer encoder with an optional CTC head, character decoder."""

    ARCHITECTURE = ARCHITECTURE
    MIN_FRAMES = 7  # the two stride-2 convolutions need at least 7 feature frames

    def __init__(self, config: ModelConfig):
        super().__init__()
        c = self.config = config
        self.subsample = Conv2dSubsampling(c.n_mels, c.d_model)
        layer_cls = ConformerLayer if c.encoder == "conformer" else EncoderLayer
        self.encoder = nn.ModuleList(layer_cls(c, p) for p in layer_skip_probs(c.n_enc_layers, c.stochastic_depth))
        self.enc_ln = nn.LayerNorm(c.d_model)
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        nn.init.normal_(self.embed.weight, std=c.d_model**-0.5)
        self.decoder = nn.ModuleList(DecoderLayer(c, p) for p in layer_skip_probs(c.n_dec_layers, c.stochastic_depth))
        self.dec_ln = nn.LayerNorm(c.d_model)
        self.ctc_head = nn.Linear(c.d_model, c.vocab_size) if c.ctc else None
        self.output_layer: nn.Module | None = None  # inference's own vocabulary projection (set_output_layer)
        self.drop = nn.Dropout(c.dropout)

    def encode(
        self, feats: Tensor, feat_lens: Tensor, recorder: AttentionRecorder | None = None
    ) -> tuple[Tensor, Tensor]:
        """Encode log-mel features.

        Parameters
        ----------
        feats : (B, T_in, n_mels) features, padded at the end.
        feat_lens : (B,) valid frames per utterance.

        Returns
        -------
        xa : (B, T, D) encoder output, T = ((T_in - 1) // 2 - 1) // 2.
        enc_lens : (B,) valid encoder frames.
        """
        if feats.shape[1] < self.MIN_FRAMES:
            raise ValueError(f"input of {feats.shape[1]} frames is too short (at least {self.MIN_FRAMES} needed)")
        d = self.config.d_model
        x = self.subsample(feats.to(self.subsample.conv[0].weight.dtype))  # (B, T, D); bf16 models take bf16
        enc_lens = Conv2dSubsampling.output_lengths(feat_lens).clamp(min=1, max=x.shape[1])
        x = self.drop(x * math.sqrt(d) + sinusoids(x.shape[1], d, device=x.device).to(x.dtype))
        pad = torch.arange(x.shape[1], device=x.device)[None, :] >= enc_lens[:, None]  # (B, T)
        mask = ~pad[:, None, None, :]  # (B, 1, 1, T)
        need = recorder.need("encoder_self") if recorder is not None else False
        for i, layer in enumerate(self.encoder):
            x, w = layer(x, mask, pad, need_weights=need)
            if need and w is not None:
                recorder.record("encoder_self", i, w)
        return self.enc_ln(x), enc_lens

    def decode(
        self,
        tokens: Tensor,
        xa: Tensor,
        enc_lens: Tensor,
        cache: KVCache | None = None,
        recorder: AttentionRecorder | None = None,
    ) -> Tensor:
        """Next-token logits.

        Parameters
        ----------
        tokens : (B, L) input tokens starting with <sos>; with a cache, only the new ones.
        xa : (B, T, D) encoder output; or (B_a, T, D) shared by rows b * g ... b * g + g - 1 of
            ``tokens`` (g = B / B_a beams of each utterance in beam search).
        enc_lens : (B,) valid encoder frames (B_a when xa has B_a rows).

        Returns
        -------
        logits : (B, L, V)
        """
        d = self.config.d_model
        offset = cache.length if cache is not None else 0
        L, T = tokens.shape[1], xa.shape[1]
        if cache is not None and offset + L <= 2048:
            positions = _sinusoid_table(d, tokens.device)[offset: offset + L]
        else:
            positions = sinusoids(L, d, offset, tokens.device)
        x = self.embed(tokens) * math.sqrt(d)
        x = x + positions.to(x.dtype)
        x = self.drop(x) if self.training else x
        # With a cache the new tokens see every cached position, and only earlier new ones.
        # (Incremental steps skip masks that allow everything: a decoding step of `small`
        # spent a tenth of its time building them and in the masked attention kernels.)
        self_mask = torch.ones(L, offset + L, dtype=torch.bool, device=x.device).tril(offset) if L > 1 else None
        cross_mask = (torch.arange(T, device=x.device)[None, :] < enc_lens[:, None])[:, None, None, :]
        if cache is not None and not self.training and bool(cross_mask.all()):
            cross_mask = None
        need_self = recorder is not None and recorder.wants("decoder_self")
        need_cross = recorder is not None and recorder.wants("decoder_cross")
        for i, layer in enumerate(self.decoder):
            x, w_self, w_cross = layer(x, xa, self_mask, cross_mask, cache, need_self, need_cross)
            if need_self and w_self is not None:
                recorder.record("decoder_self", i, w_self)
            if need_cross and w_cross is not None:
                recorder.record("decoder_cross", i, w_cross)
        if cache is not None:
            cache.length += L
        if self.output_layer is not None:  # inference's own copy of the projection (engine.quantize)
            return self.output_layer(self.dec_ln(x))
        return self.dec_ln(x) @ self.embed.weight.T  # tied input and output embeddings

    def tied_output_weight(self) -> Tensor:
        """The output projection's weight (V, D): the token embedding's."""
        return self.embed.weight

    def set_output_layer(self, layer: nn.Module | None) -> None:
        """Project onto the vocabulary with ``layer`` (the tied weight's copy, e.g. packed); None: the tied weight."""
        self.output_layer = layer

    def ctc_log_probs(self, xa: Tensor) -> Tensor:
        """(B, T, D) -> (B, T, V) log-probabilities of the CTC head."""
        if self.ctc_head is None:
            raise RuntimeError("this model was built without a CTC head (config.ctc = false)")
        return self.ctc_head(xa).float().log_softmax(dim=-1)

    def forward(self, feats: Tensor, feat_lens: Tensor, tokens: Tensor) -> tuple[Tensor, Tensor | None, Tensor]:
        """Teacher-forced training pass: (decoder logits (B, L, V), CTC log-probs (B, T, V) or None, enc_lens)."""
        xa, enc_lens = self.encode(feats, feat_lens)
        logits = self.decode(tokens, xa, enc_lens)
        ctc = self.ctc_log_probs(xa) if self.ctc_head is not None else None
        return logits, ctc, enc_lens

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

