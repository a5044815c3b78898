"""Batches of (features, transcript) and the joint CTC-attention loss.

The loss is that of Watanabe et al. (2017) / Karita et al. (2019):
    L = (1 - w) * CE_smoothed(decoder) + w * CTC(encoder),  w = 0.3 by default,
with label smoothing 0.1 on the decoder's cross-entropy as in Vaswani et al.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

IGNORE = -100  # target positions the cross-entropy skips (padding)


@dataclass
class Batch:
    feats: Tensor  # (B, T_in, n_mels)
    feat_lens: Tensor  # (B,)
    tokens_in: Tensor  # (B, L + 1): <sos> t1 ... tL, padded with <eos>
    tokens_out: Tensor  # (B, L + 1): t1 ... tL <eos>, padded with IGNORE
    targets: Tensor  # (B, L): t1 ... tL for CTC, padded with 0
    target_lens: Tensor  # (B,)

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(*(t.to(device, non_blocking=True) for t in vars(self).values()))


def collate(feats: list[Tensor], token_ids: list[list[int]], sos_id: int, eos_id: int) -> Batch:
    """Pad a list of (T_i, n_mels) features and their token ids into one :class:`Batch`."""
    feat_lens = torch.tensor([f.shape[0] for f in feats])
    padded = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    B, L = len(token_ids), max((len(t) for t in token_ids), default=0)
    tokens_in = torch.full((B, L + 1), eos_id, dtype=torch.long)
    tokens_out = torch.full((B, L + 1), IGNORE, dtype=torch.long)
    targets = torch.zeros((B, max(L, 1)), dtype=torch.long)
    for i, ids in enumerate(token_ids):
        n = len(ids)
        tokens_in[i, 0] = sos_id
        tokens_in[i, 1 : n + 1] = torch.tensor(ids, dtype=torch.long)
        tokens_out[i, :n] = torch.tensor(ids, dtype=torch.long)
        tokens_out[i, n] = eos_id
        targets[i, :n] = torch.tensor(ids, dtype=torch.long)
    target_lens = torch.tensor([len(t) for t in token_ids])
    return Batch(padded, feat_lens, tokens_in, tokens_out, targets, target_lens)


@dataclass
class LossParts:
    total: Tensor
    attention: Tensor  # label-smoothed cross-entropy per target token
    ctc: Tensor | None  # CTC per target token, or None without a CTC head


def joint_loss(
    logits: Tensor,
    ctc_log_probs: Tensor | None,
    enc_lens: Tensor,
    batch: Batch,
    ctc_weight: float = 0.3,
    label_smoothing: float = 0.1,
    blank_id: int = 0,
) -> LossParts:
    """Joint loss of one batch.

    Parameters
    ----------
    logits : (B, L + 1, V) decoder output for ``batch.tokens_in``.
    ctc_log_probs : (B, T, V) or None.
    enc_lens : (B,) valid encoder frames.
    """
    ce = F.cross_entropy(
        logits.float().transpose(1, 2), batch.tokens_out, ignore_index=IGNORE, label_smoothing=label_smoothing
    )
    if ctc_log_probs is None or ctc_weight == 0:
        return LossParts(ce, ce, None)
    # zero_infinity: a clip too short for its transcript contributes nothing
    # instead of an infinite loss that would poison the whole run.
    ctc = F.ctc_loss(
        ctc_log_probs.float().transpose(0, 1), batch.targets, enc_lens, batch.target_lens,
        blank=blank_id, reduction="mean", zero_infinity=True,
    )
    return LossParts((1 - ctc_weight) * ce + ctc_weight * ctc, ce, ctc)
