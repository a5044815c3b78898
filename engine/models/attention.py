"""Attention machinery shared by every model family: multi-head attention, the KV cache, the recorder.

The beam search (:mod:`engine.decode`) and each family's network use these: a
decoding step appends to the :class:`KVCache` and, when asked, hands its
attention weights to an :class:`AttentionRecorder` for the heatmaps.

Shapes use B = batch, T = frames, L = tokens, D = d_model, H = heads.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AttentionRecorder:
    """Collects attention weights as the model runs, for heatmaps.

    ``frames`` holds ``(kind, layer, weights)`` with kind one of "encoder_self",
    "decoder_self", "decoder_cross" and weights of shape (B, H, T_q, T_k).

    ``reduce(kind, weights)``, when given, is what is kept of each layer's weights (e.g.
    the heads' mean), taken as the layer is recorded: a 30 s Whisper window's encoder
    self-attention is 432 MB with every head of every layer, 4.5 MB a layer as a float16 mean.

    ``mean_heads``: the heads' mean is all that is wanted, so a model may record a layer's
    weights already averaged, (B, 1, T_q, T_k), which long inputs compute faster (see
    :func:`attention_with_weights`).
    """

    def __init__(self, kinds: tuple[str, ...] = ("encoder_self", "decoder_self", "decoder_cross"),
                 reduce: Callable[[str, Tensor], Tensor] | None = None, mean_heads: bool = False):
        self.kinds = kinds
        self.reduce = reduce
        self.mean_heads = mean_heads
        self.frames: list[tuple[str, int, Tensor]] = []

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def need(self, kind: str) -> bool | str:
        """What an attention module is asked for (its ``need_weights``): False, True, or "mean" (heads averaged)."""
        if kind not in self.kinds:
            return False
        return "mean" if self.mean_heads else True

    def record(self, kind: str, layer: int, weights: Tensor) -> None:
        weights = weights.detach()
        self.frames.append((kind, layer, self.reduce(kind, weights) if self.reduce is not None else weights))

    def of_kind(self, kind: str) -> list[Tensor]:
        """Weights of one kind, in layer order."""
        return [w for k, _, w in self.frames if k == kind]


class KVCache:
    """Keys and values of earlier decoding steps, one entry per attention module.

    Self-attention entries grow by one position a step; cross-attention entries
    are computed once from the encoder output. ``length`` counts decoded tokens
    so positional encodings continue where the last step stopped. Everything is
    stored head-major, (B, H, T, head_dim), the layout attention reads.

    Self-attention keys and values live in buffers that double when full, so a step
    writes its new position in place: concatenating everything cached at every step
    cost an eighth of the Speech-Transformer's greedy decoding on the CPU.
    """

    def __init__(self) -> None:
        # self-attention: (keys, values) buffers (B, H, capacity, hd) and the positions used
        self.store: dict[nn.Module, tuple[Tensor, Tensor, int]] = {}
        self.cross: dict[nn.Module, tuple[Tensor, Tensor]] = {}  # cross-attention: fixed per utterance
        self.length = 0

    def append(self, attn: nn.Module, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Cache the new keys and values (B, H, L, hd) of ``attn``; returns all of its so far, (B, H, n, hd) views."""
        B, H, L, hd = k.shape
        k_buf, v_buf, n = self.store.get(attn, (None, None, 0))
        if k_buf is None or n + L > k_buf.shape[2]:
            capacity = max(32, 2 * (n + L))
            grown_k, grown_v = k.new_empty(B, H, capacity, hd), v.new_empty(B, H, capacity, v.shape[-1])
            if n:
                grown_k[:, :, :n], grown_v[:, :, :n] = k_buf[:, :, :n], v_buf[:, :, :n]
            k_buf, v_buf = grown_k, grown_v
        k_buf[:, :, n:n + L] = k
        v_buf[:, :, n:n + L] = v
        self.store[attn] = (k_buf, v_buf, n + L)
        return k_buf[:, :, :n + L], v_buf[:, :, :n + L]

    def reorder(self, index: Tensor, shared: int = 0) -> None:
        """Keep the rows ``index`` (B',) of the self-attention entries, e.g. after a beam step.

        Beam search only ever moves rows between the beams of one utterance, whose
        cross-attention keys and values are identical, so those are left alone
        (re-indexing them every step cost about a fifth of Whisper's decoding time).
        For the same reason the first ``shared`` positions (the prompt every beam of an
        utterance starts from) are left where they are when the rows keep their number:
        only the decoded positions move, in place. Copying the whole cache each step cost
        Whisper a fifth of its long-form decoding, with a 224-token prompt of earlier text.
        """
        moved = {}
        rows = sources = None
        if self.store and index.shape[0] == next(iter(self.store.values()))[0].shape[0]:
            # Only the rows that take another's place are copied (40 % of a batched step's): copying
            # all of them cost batched decoding a tenth of its time, this half of that.
            rows = (index != torch.arange(index.shape[0], device=index.device)).nonzero().flatten()
            sources = index[rows]
        for m, (k, v, n) in self.store.items():
            if 0 < shared < n and index.shape[0] == k.shape[0]:
                if rows.numel():
                    for buf in (k, v):
                        view = buf[:, :, shared:n]
                        view.index_copy_(0, rows, view.index_select(0, sources))  # sources read before any write
                moved[m] = (k, v, n)
            elif shared >= n and index.shape[0] == k.shape[0]:
                moved[m] = (k, v, n)
            else:
                moved[m] = (k.index_select(0, index), v.index_select(0, index), n)
        self.store = moved

    def keep(self, rows: Tensor, utterances: Tensor) -> None:
        """Keep only ``rows`` (B',) of the self-attention entries and ``utterances`` (B_a',) of the
        cross-attention ones, in that order: the search drops the rows of utterances that have ended."""
        self.store = {m: (k.index_select(0, rows), v.index_select(0, rows), n) for m, (k, v, n) in self.store.items()}
        self.cross = {m: (k.index_select(0, utterances), v.index_select(0, utterances))
                      for m, (k, v) in self.cross.items()}


# Attention weights of this many query rows or more are computed apart from the output (see attention_with_weights).
LONG_QUERIES = 64
WEIGHT_ROWS = 128  # query rows a block when they are


def attention_with_weights(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                           need: bool | str = True) -> tuple[Tensor, Tensor]:
    """Attention (B, H, T_q, hd) and its weights: (B, H, T_q, T_k), or (B, 1, T_q, T_k) the heads' mean for "mean".

    ``mask`` is boolean, True where a query may attend, broadcastable to (B, H, T_q, T_k).
    A decoding step's few query rows are computed explicitly: one softmax serves the output
    and the weights. Long queries (an encoder's: 1500 x 1500 a head for Whisper's 30 s) get
    the output from the fused kernel, the same numbers as without weights, and the weights
    apart, ``WEIGHT_ROWS`` query rows at a time so that each block's scores stay in the cache:
    a Whisper base encoder layer's weights, heads averaged, 122 -> 35 ms on 2 cores.
    """
    scale = math.sqrt(q.shape[-1])
    T_q = q.shape[-2]
    if T_q < LONG_QUERIES:
        scores = (q @ k.transpose(-2, -1)) / scale
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        w = scores.float().softmax(-1).to(q.dtype)
        return w @ v, (w.mean(dim=1, keepdim=True) if need == "mean" else w)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    B, H, T_k = q.shape[0], q.shape[1], k.shape[-2]
    w = q.new_empty(B, 1 if need == "mean" else H, T_q, T_k)
    kt = k.transpose(-2, -1)
    for a in range(0, T_q, WEIGHT_ROWS):
        scores = (q[:, :, a:a + WEIGHT_ROWS] @ kt).div_(scale)
        if mask is not None:
            rows = mask if mask.shape[-2] == 1 else mask[..., a:a + WEIGHT_ROWS, :]
            scores.masked_fill_(~rows, float("-inf"))
        block = scores.float().softmax(-1).to(q.dtype)
        w[:, :, a:a + WEIGHT_ROWS] = block.mean(dim=1, keepdim=True) if need == "mean" else block
    return y, w


def split_heads(t: Tensor, n_head: int) -> Tensor:
    """(B, T, D) -> (B, H, T, D / H), a view."""
    B, T, D = t.shape
    return t.view(B, T, n_head, D // n_head).transpose(1, 2)


def keys_and_values(
    attn: nn.Module, x: Tensor, xa: Tensor | None, cache: KVCache | None, kv: tuple[Tensor, Tensor] | None = None
) -> tuple[Tensor, Tensor]:
    """Keys and values (B, H, T_k, hd) of an attention module with ``key``/``value`` layers and ``n_head``.

    Self-attention (``xa`` None) appends the new positions (``kv``, (B, L, D) each, when
    the caller computed them already) to the cached ones; cross-attention computes them
    from the encoder output once and reuses them, since that output does not change
    between decoding steps. Cached cross-attention keys and values are made contiguous
    per head: every step reads them whole, and strided reads cost a greedy step of
    `small` 9 % more.
    """
    H = attn.n_head
    if xa is None:
        k, v = kv if kv is not None else (attn.key(x), attn.value(x))
        k, v = split_heads(k, H), split_heads(v, H)
        return cache.append(attn, k, v) if cache is not None else (k, v)
    if cache is not None and attn in cache.cross:
        return cache.cross[attn]
    k, v = split_heads(attn.key(xa), H), split_heads(attn.value(xa), H)
    if cache is not None:
        k, v = k.contiguous(), v.contiguous()
        cache.cross[attn] = (k, v)
    return k, v


def fold_beams(attn: nn.Module, x: Tensor, xa: Tensor, mask, cache, need_weights: bool) -> tuple[Tensor, Tensor | None]:
    """Cross-attention of B = B_a * g query rows over xa (B_a, T, D): each utterance's g beams together.

    Beam search passes each utterance's encoder output once (``engine.decode``); its beams'
    queries, rows b * g ... b * g + g - 1 of x (B, T_q, D), attend to it as g * T_q positions
    of one row. The keys and values are computed and read once per utterance instead of
    once per beam (for Whisper base with 5 beams that was a fifth of decoding time).
    Returns what ``attn`` returns: (B, T_q, D) and the weights (B, H, T_q, T) or None.
    """
    B, T_q, D = x.shape
    B_a = xa.shape[0]
    y, w = attn(x.reshape(B_a, -1, D), xa, mask=mask, cache=cache, need_weights=need_weights)
    if w is not None:
        w = w.view(B_a, w.shape[1], B // B_a, T_q, -1).transpose(1, 2).reshape(B, w.shape[1], T_q, -1)
    return y.reshape(B, T_q, D), w


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, dropout: float):
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.qkv: nn.Linear | None = None  # query, key and value in one product, for inference (fuse_qkv)

    def fuse_qkv(self) -> None:
        """Compute self-attention's query, key and value with one matrix product (for inference).

        A decoding step then makes one call instead of three per layer; the products
        are the same numbers. The separate layers stay, for cross-attention and for
        the state dict; training does not use the fused one.
        """
        D = self.query.in_features
        fused = nn.Linear(D, 3 * D).to(self.query.weight.device, self.query.weight.dtype)
        with torch.no_grad():
            fused.weight.copy_(torch.cat([self.query.weight, self.key.weight, self.value.weight]))
            fused.bias.copy_(torch.cat([self.query.bias, self.key.bias, self.value.bias]))
        self.qkv = fused.requires_grad_(False)

    def forward(
        self,
        x: Tensor,  # (B, T_q, D)
        xa: Tensor | None = None,  # (B, T_k, D) for cross-attention, None for self-attention
        mask: Tensor | None = None,  # bool, True = may attend, broadcastable to (B, H, T_q, T_k)
        cache: KVCache | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        B, T_q, D = x.shape
        if xa is not None and xa.shape[0] != B:  # beams sharing their utterance's encoder output
            return fold_beams(self, x, xa, mask, cache, need_weights)
        if xa is None and self.qkv is not None and not self.training:
            q, k, v = self.qkv(x).split(D, dim=-1)
            k, v = keys_and_values(self, x, xa, cache, kv=(k, v))
        else:
            q = self.query(x)
            k, v = keys_and_values(self, x, xa, cache)
        q = split_heads(q, self.n_head)
        p = self.dropout if self.training else 0.0
        if need_weights and not self.training:
            y, weights = attention_with_weights(q, k, v, mask, need_weights)
        elif need_weights:
            # The fused kernel does not return weights, so compute them explicitly.
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, T_q, T_k)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            y = F.dropout(weights, p, self.training) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            weights = None
        y = y.transpose(1, 2).reshape(B, T_q, D)
        return self.out(y), weights
