"""Token and word timings from a CTC forced alignment or from cross-attention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Span:
    """Frames [start, end) of one token in the encoder's time base."""

    start: int
    end: int


def ctc_forced_align(log_probs: np.ndarray, targets: list[int], blank_id: int = 0) -> list[Span] | None:
    """Most likely CTC path that spells ``targets``; one frame span per target token.

    Parameters
    ----------
    log_probs : (T, V) CTC log-probabilities of one utterance (valid frames only).
    targets : token ids, no blanks.

    Returns None when the audio has too few frames to spell the targets.
    """
    T = log_probs.shape[0]
    L = len(targets)
    if L == 0:
        return []
    repeats = sum(1 for a, b in zip(targets, targets[1:]) if a == b)
    if T < L + repeats:
        return None
    ext = np.full(2 * L + 1, blank_id, dtype=np.int64)  # blank, t1, blank, t2, ..., blank
    ext[1::2] = targets
    S = ext.size
    # A state may be entered from itself, from the one before, or skip a blank between two different tokens.
    can_skip = np.zeros(S, dtype=bool)
    can_skip[2:] = (ext[2:] != blank_id) & (ext[2:] != ext[:-2])
    emit = log_probs[:, ext].astype(np.float64)  # (T, S)
    score = np.full(S, -np.inf)
    score[:2] = emit[0, :2]
    back = np.zeros((T, S), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, T):
        stay = score
        step = np.concatenate([[-np.inf], score[:-1]])
        skip = np.where(can_skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choices = np.stack([stay, step, skip])
        back[t] = choices.argmax(axis=0)
        score = choices.max(axis=0) + emit[t]
    s = S - 1 if score[S - 1] >= score[S - 2] else S - 2
    if not np.isfinite(score[s]):
        return None
    states = np.empty(T, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        states[t] = s
        s -= int(back[t, s])  # a Python int: numpy 2 would keep int8 and overflow past state 127
    spans = []
    for i in range(L):
        frames = np.nonzero(states == 2 * i + 1)[0]
        spans.append(Span(int(frames[0]), int(frames[-1]) + 1))
    return spans


def attention_spans(cross_attention: np.ndarray, n_tokens: int, n_frames: int) -> list[Span]:
    """Token spans from cross-attention peaks, made monotonic.

    Parameters
    ----------
    cross_attention : (n_layers, H, n_steps, T) weights; averaged over layers and heads.
    """
    if n_tokens == 0:
        return []
    weights = cross_attention.astype(np.float32).mean(axis=(0, 1))[:n_tokens, :n_frames]  # (n_tokens, T)
    peaks = np.maximum.accumulate(weights.argmax(axis=1))
    ends = np.append(peaks[1:], n_frames)
    return [Span(int(s), int(max(e, s + 1))) for s, e in zip(peaks, ends)]


def uniform_spans(n_tokens: int, n_frames: int) -> list[Span]:
    """Spread tokens evenly: the honest fallback when nothing better is known."""
    edges = np.linspace(0, n_frames, n_tokens + 1)
    return [Span(int(a), int(max(b, a + 1))) for a, b in zip(edges[:-1], edges[1:])]
