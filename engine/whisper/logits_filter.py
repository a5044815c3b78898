"""Whisper's token rules, as a ``logits_filter`` for the shared search (:func:`engine.decode.decode_encoded`).

- the first token may not be a bare space or <|endoftext|> (``suppress_blank``);
- speaker tags, music notes and task tokens are never written (``suppress_tokens``);
- with timestamps: the text opens with a timestamp no later than
  ``max_initial_timestamp``; timestamps come in pairs (a segment's end and the
  next one's start), except right before <|endoftext|>; they never go back and a
  segment is never empty; and when the timestamps together are more probable than
  any single text token, a timestamp it is.

The filter renormalises what is left, as Whisper and CTranslate2 do (they mask
logits before the softmax), so beam scores and ``avg_logprob`` match theirs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from engine.whisper.tokenizer import WhisperTokenizer

NEG_INF = float("-inf")


class WhisperLogitsFilter:
    """Whisper's token rules as a ``logits_filter`` for :func:`engine.decode.decode_encoded`.

    Parameters
    ----------
    sample_begin : prompt length: tokens from this index on were chosen by the search.
    suppress_ids : never allowed.
    blank_ids : not allowed as the first token (None: no such rule).
    timestamps : apply the timestamp rules (the prompt has no <|notimestamps|>).
    max_initial_timestamp_index : last allowed first timestamp, in 20 ms steps (None: any).
    """

    def __init__(self, tokenizer: WhisperTokenizer, sample_begin: int, suppress_ids, blank_ids=None,
                 timestamps: bool = True, max_initial_timestamp_index: int | None = 50):
        self.sample_begin = sample_begin
        self.eot = tokenizer.eot
        self.no_timestamps = tokenizer.no_timestamps
        self.ts_begin = tokenizer.timestamp_begin
        self.suppress_ids = sorted(int(t) for t in suppress_ids)
        self.blank_ids = sorted(int(t) for t in blank_ids) if blank_ids else []
        self._removed_first = sorted(set(self.blank_ids) | set(self.suppress_ids))  # at the first step, once each
        self.timestamps = timestamps
        self.max_initial = max_initial_timestamp_index

    def __call__(self, tokens: Tensor, logp: Tensor) -> None:
        """Apply the rules to ``logp`` (N, V) in place, given ``tokens`` (N, L) with the prompt."""
        n_sampled = tokens.shape[1] - self.sample_begin
        removed = self._removed_first if n_sampled == 0 else self.suppress_ids
        if not self.timestamps and removed:
            # Only these columns go: what is left sums to 1 minus their probability (logp is a
            # log-softmax), found from them alone. The vocabulary's logsumexp cost a batched step
            # of 40 rows 1.6 ms (4 %); it is kept below for rows where the subtraction would lose digits.
            gone = logp[:, removed].exp().sum(-1, keepdim=True)  # (N, 1)
            logp[:, removed] = NEG_INF
            if bool((gone < 0.5).all()):
                logp.sub_(torch.log1p(-gone))
                return
        elif removed:
            logp[:, removed] = NEG_INF
        if self.timestamps:
            self._timestamp_rules(tokens[:, self.sample_begin:], logp)
        # Renormalise: the beam adds these up, and Whisper masks before its softmax. A row with
        # nothing left (a dead beam) stays -inf rather than becoming NaN.
        total = logp.logsumexp(-1, keepdim=True)
        logp.sub_(total.nan_to_num(nan=0.0, neginf=0.0))

    def _timestamp_rules(self, sampled: Tensor, logp: Tensor) -> None:
        # Row by row with slices: N is the beam size, and each rule touches a few contiguous
        # column ranges; whole (N, V) masks cost more than the decoder step on the CPU.
        tb = self.ts_begin
        logp[:, self.no_timestamps] = NEG_INF
        if sampled.shape[1] == 0:
            logp[:, :tb] = NEG_INF  # a transcript opens with its first segment's start time
            if self.max_initial is not None:
                logp[:, tb + self.max_initial + 1:] = NEG_INF
            return
        is_ts = sampled >= tb
        last = is_ts[:, -1].tolist()
        penultimate = is_ts[:, -2].tolist() if sampled.shape[1] > 1 else [True] * len(last)
        latest = torch.where(is_ts, sampled, torch.full_like(sampled, -1)).max(dim=1).values.tolist()  # (N,)
        for i, (ts_last, ts_before, newest) in enumerate(zip(last, penultimate, latest)):
            row = logp[i]
            if ts_last and ts_before:
                row[tb:] = NEG_INF  # a pair just closed: text (or the end) comes next
            elif ts_last:
                row[:self.eot] = NEG_INF  # a segment just ended: its pair, or the end
            # Never back in time. After text the segment's end must come strictly after its
            # start (no empty segments, which could loop); right after a segment's end, the
            # next segment may start at that same time.
            if newest >= 0:
                row[tb:newest if ts_last and not ts_before else newest + 1] = NEG_INF
        # If all timestamps together beat every single text token, take a timestamp. (Compared
        # before renormalising: both sides shift by the same constant.)
        ts_mass = logp[:, tb:].logsumexp(-1)
        text_best = logp[:, :tb].max(-1).values
        for i in (ts_mass > text_best).nonzero().flatten().tolist():
            logp[i, :tb] = NEG_INF
