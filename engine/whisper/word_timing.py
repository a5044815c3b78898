"""Word timings from Whisper's cross-attention, by dynamic time warping.

Whisper predicts timestamps only at segment edges, but a few decoder heads
(``model.alignment_heads``) attend to the audio being spoken as each token is
written. Following Radford et al. (2022) and OpenAI's implementation, we run the
decoder once on ``sot sequence + <|notimestamps|> + text + <|endoftext|>``, keep
those heads' attention over the real (unpadded) frames, standardise each frame
over tokens (so a frame that every token looks at counts for nothing), smooth
along time with a median filter, average the heads, and find the monotonic
token-to-frame path of highest total attention with DTW. A token starts at the
frame where the path first reaches it; encoder frames are 20 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from engine.models.attention import AttentionRecorder
from engine.whisper.audio import TOKENS_PER_SECOND
from engine.whisper.tokenizer import WhisperTokenizer

MEDIAN_FILTER_WIDTH = 7
# Punctuation that joins the next word or the previous one: Whisper's lists, plus "¡",
# which opens a Spanish exclamation as "¿" (already in Whisper's) opens a question.
PREPEND_PUNCTUATIONS = "\"'“¿¡([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
SENTENCE_END_MARKS = ".。!！?？"


@dataclass
class WordTiming:
    text: str  # with its leading space, as Whisper writes it
    tokens: list[int]
    start: float  # seconds
    end: float
    probability: float  # mean probability of its tokens


@dataclass
class Alignment:
    """What one alignment pass gives for a window's text tokens."""

    words: list[WordTiming]
    token_starts: np.ndarray  # (n_tokens + 1,) seconds where each text token (and <|endoftext|>) starts
    token_probs: np.ndarray  # (n_tokens,) probability of each text token given the ones before
    cross_attention: np.ndarray | None = field(default=None, repr=False)  # (layers, H, n_tokens + 1, T) float16


def decoder_cross_attention(model, xa: Tensor, tokens: list[int]) -> tuple[Tensor, Tensor]:
    """Teacher-forced decoder pass over ``tokens``; the logits and every head's cross-attention.

    Parameters
    ----------
    xa : (1, T, D) encoder output of one window.
    tokens : the whole decoder input, prompt included.

    Returns
    -------
    logits : (L, V) float32.
    weights : (n_layers, H, L, T) float32, softmax over all T frames.
    """
    recorder = AttentionRecorder(("decoder_cross",))
    x = torch.tensor([tokens], device=xa.device)
    enc_lens = torch.tensor([xa.shape[1]], device=xa.device)
    with torch.inference_mode():
        logits = model.decode(x, xa, enc_lens, None, recorder)[0]
    weights = torch.stack([w[0] for w in recorder.of_kind("decoder_cross")]).float()
    return logits.float(), weights


def select_heads(cross_attention, heads: list[tuple[int, int]] | None):
    """Some heads of a (n_layers, H, L, T) attention array or tensor, stacked: (n_heads, L, T).

    ``heads`` None gives every head, layer by layer. For display: pass
    ``model.alignment_heads`` to see the heads that word timings use.
    """
    if heads is None:
        return cross_attention.reshape(-1, *cross_attention.shape[2:])
    stack = np.stack if isinstance(cross_attention, np.ndarray) else torch.stack
    return stack([cross_attention[layer, head] for layer, head in heads])


def median_filter(x: Tensor, width: int) -> Tensor:
    """Median over a sliding window of ``width`` (odd) along the last axis, edges reflected."""
    if width <= 1:
        return x
    pad = width // 2
    if x.shape[-1] <= pad:  # too short to reflect
        return x
    shape = x.shape
    y = F.pad(x.reshape(-1, 1, shape[-1]), (pad, pad), mode="reflect")
    return y.unfold(-1, width, 1).median(dim=-1).values.reshape(shape)


def alignment_matrix(
    weights: Tensor, heads: list[tuple[int, int]] | None, n_frames: int, median_width: int = MEDIAN_FILTER_WIDTH
) -> Tensor:
    """Token-by-frame attention of the alignment heads, ready for DTW.

    Parameters
    ----------
    weights : (n_layers, H, L, T) cross-attention.
    heads : (layer, head) pairs to use; None uses every head.
    n_frames : encoder frames holding real audio; the padding after them is dropped.

    Returns
    -------
    (L, n_frames) float32: higher = the token is heard there.
    """
    w = select_heads(weights, heads)[..., :n_frames]  # (n_heads, L, n_frames)
    # Renormalising over the kept frames equals a softmax over them alone, as Whisper takes it.
    w = w / w.sum(-1, keepdim=True).clamp(min=1e-12)
    std, mean = torch.std_mean(w, dim=-2, keepdim=True, unbiased=False)
    w = (w - mean) / std.clamp(min=1e-12)
    w = median_filter(w, median_width)
    return w.mean(0)


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest monotonic path through ``cost`` (N, M) from (0, 0) to (N-1, M-1).

    Moves are diagonal, down (next token, same frame) or right (same token, next
    frame). Cells on one anti-diagonal depend only on the two before it, so each
    anti-diagonal is computed at once; ties prefer right, then down, as Whisper's.

    Returns
    -------
    (text_indices, time_indices), the path's cells in order.
    """
    N, M = cost.shape
    acc = np.full((N + 1, M + 1), np.inf)
    acc[0, 0] = 0.0
    trace = np.zeros((N + 1, M + 1), dtype=np.int8)  # 0 diagonal, 1 down, 2 right
    trace[0, :] = 2
    trace[:, 0] = 1
    x = cost.astype(np.float64)
    for d in range(2, N + M + 1):
        i = np.arange(max(1, d - M), min(N, d - 1) + 1)
        j = d - i
        c0, c1, c2 = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
        t = np.where((c0 < c1) & (c0 < c2), 0, np.where((c1 < c0) & (c1 < c2), 1, 2))
        acc[i, j] = x[i - 1, j - 1] + np.choose(t, [c0, c1, c2])
        trace[i, j] = t
    i, j = N, M
    path = []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        t = trace[i, j]
        if t == 0:
            i, j = i - 1, j - 1
        elif t == 1:
            i -= 1
        else:
            j -= 1
    path = np.array(path[::-1])
    return path[:, 0], path[:, 1]


def find_alignment(
    model,
    tokenizer: WhisperTokenizer,
    xa: Tensor,
    sot_sequence: list[int],
    text_tokens: list[int],
    n_frames: int,
    median_width: int = MEDIAN_FILTER_WIDTH,
    keep_attention: bool = False,
) -> Alignment:
    """Word and token times of ``text_tokens`` (no timestamps) in one window.

    Parameters
    ----------
    xa : (1, 1500, D) the window's encoder output.
    sot_sequence : <|startoftranscript|> <|lang|> <|task|>, without <|notimestamps|>.
    n_frames : mel frames of real audio in the window (up to 3000).
    keep_attention : also return every head's attention for display.

    Times are seconds from the window's start.
    """
    eot = tokenizer.eot
    text_tokens = [int(t) for t in text_tokens if t < eot]
    tokens = [*sot_sequence, tokenizer.no_timestamps, *text_tokens, eot]
    logits, weights = decoder_cross_attention(model, xa, tokens)
    P = len(sot_sequence)  # the row at <|notimestamps|> predicts the first text token
    text_probs = logits[P:P + len(text_tokens), :eot].softmax(-1)
    token_probs = text_probs[torch.arange(len(text_tokens)), torch.tensor(text_tokens, dtype=torch.long)]
    token_probs = token_probs.cpu().numpy().astype(np.float64)
    n_enc = max(1, min(n_frames // 2, weights.shape[-1]))
    heads = list(getattr(model, "alignment_heads", None) or []) or None
    matrix = alignment_matrix(weights, heads, n_enc, median_width)[P:-1]  # (n_tokens + 1, n_enc)
    text_idx, time_idx = dtw(-matrix.cpu().numpy())
    jumps = np.diff(text_idx, prepend=-1).astype(bool)  # first cell of each token's run
    token_starts = time_idx[jumps] / TOKENS_PER_SECOND
    attention = None
    if keep_attention:
        attention = weights[:, :, P:-1, :n_enc].half().cpu().numpy()
    words = []
    if text_tokens:
        texts, groups = tokenizer.split_to_word_tokens(text_tokens + [eot])
        bounds = np.concatenate([[0], np.cumsum([len(g) for g in groups[:-1]])]).astype(int)
        for k, (text, group) in enumerate(zip(texts[:-1], groups[:-1])):
            a, b = bounds[k], bounds[k + 1]
            words.append(WordTiming(text, list(group), float(token_starts[a]), float(token_starts[b]),
                                    float(np.mean(token_probs[a:b]))))
    return Alignment(words, token_starts, token_probs, attention)


def merge_punctuations(words: list[WordTiming], prepended: str = PREPEND_PUNCTUATIONS,
                       appended: str = APPEND_PUNCTUATIONS) -> None:
    """Join opening marks to the next word and closing marks to the previous one, in place.

    Times stay those of the word that receives the mark: DTW times for a lone
    punctuation token mean little. A merged-away mark is left as a word with empty
    text and no tokens, so token counts per segment still add up.
    """
    target = len(words) - 1
    for i in range(len(words) - 2, -1, -1):
        w = words[i]
        if w.text.startswith(" ") and w.text.strip() and w.text.strip() in prepended:
            words[target].text = w.text + words[target].text
            words[target].tokens = w.tokens + words[target].tokens
            w.text, w.tokens = "", []
        else:
            target = i
    target = 0
    for j in range(1, len(words)):
        w = words[j]
        if words[target].text and not words[target].text.endswith(" ") and w.text and w.text in appended:
            words[target].text += w.text
            words[target].tokens = words[target].tokens + w.tokens
            w.text, w.tokens = "", []
        else:
            target = j


def tidy_word_durations(words: list[WordTiming]) -> tuple[float, float]:
    """Cap over-long words at sentence ends (where DTW tends to swallow the pause), in place.

    Returns (median word duration capped at 0.7 s, the longest plausible word = 2 x median).
    """
    durations = np.array([w.end - w.start for w in words])
    durations = durations[durations.nonzero()]
    median = min(0.7, float(np.median(durations))) if len(durations) else 0.0
    longest = 2 * median
    if len(durations):
        for prev, w in zip(words, words[1:]):
            if w.end - w.start > longest:
                if w.text in SENTENCE_END_MARKS:
                    w.end = w.start + longest
                elif prev.text in SENTENCE_END_MARKS:
                    w.start = w.end - longest
    return median, longest


def add_word_timestamps(
    model,
    tokenizer: WhisperTokenizer,
    xa: Tensor,
    sot_sequence: list[int],
    segments: list,
    n_frames: int,
    window_start: float,
    last_speech: float,
    keep_attention: bool = False,
) -> tuple[float, Alignment | None]:
    """Give each segment of one window its words, in place, and tidy the segment edges.

    Parameters
    ----------
    segments : objects with ``start``, ``end`` (seconds in the whole audio),
        ``tokens`` and a ``words`` list to fill; all from the window that ``xa`` encodes.
    window_start : seconds from the audio's start to the window's.
    last_speech : where the previous window's speech ended (seconds).

    Returns
    -------
    (where speech now ends, the window's :class:`Alignment` in window time, or
    None when it has no text). DTW likes to stretch the first word after a pause
    back into the silence, and the last one forward; like Whisper we cap such
    words at twice the median word length and prefer the segment timestamps
    when a word sticks out past them by more than half a second.
    """
    per_segment = [[t for t in s.tokens if t < tokenizer.eot] for s in segments]
    text = [t for toks in per_segment for t in toks]
    if not text:
        for s in segments:
            s.words = []
        return last_speech, None
    alignment = find_alignment(model, tokenizer, xa, sot_sequence, text, n_frames, keep_attention=keep_attention)
    words = [WordTiming(w.text, list(w.tokens), w.start, w.end, w.probability) for w in alignment.words]
    median, longest = tidy_word_durations(words)
    merge_punctuations(words)
    k = 0
    for segment, toks in zip(segments, per_segment):
        used, out = 0, []
        while k < len(words) and used < len(toks):
            w = words[k]
            if w.text:
                out.append(WordTiming(w.text, w.tokens, round(window_start + w.start, 2),
                                      round(window_start + w.end, 2), w.probability))
            used += len(w.tokens)
            k += 1
        if out:
            _fit_segment_edges(segment, out, median, longest, last_speech)
            last_speech = segment.end
        segment.words = out
    return last_speech, alignment


def _fit_segment_edges(segment, words: list[WordTiming], median: float, longest: float, last_speech: float) -> None:
    first = words[0]
    after_pause = first.end - last_speech > median * 4
    too_long = first.end - first.start > longest or (len(words) > 1 and words[1].end - first.start > longest * 2)
    if after_pause and too_long:
        if len(words) > 1 and words[1].end - words[1].start > longest:
            boundary = max(words[1].end / 2, words[1].end - longest)
            first.end = words[1].start = boundary
        first.start = max(0.0, first.end - longest)
    if segment.start < first.end and segment.start - 0.5 > first.start:
        first.start = max(0.0, min(first.end - median, segment.start))
    else:
        segment.start = first.start
    last = words[-1]
    if segment.end > last.start and segment.end + 0.5 < last.end:
        last.end = max(last.start + median, segment.end)
    else:
        segment.end = last.end
