"""Whisper's decoding rules on top of our shared beam search.

The search itself is :func:`engine.decode.decode_encoded` (beam search, KV cache,
attention streaming), given Whisper's prompt as a multi-token prefix and
:class:`WhisperLogitsFilter` for the rules Whisper decodes under:

- the first token may not be a bare space or <|endoftext|> (``suppress_blank``);
- speaker tags, music notes and task tokens are never written (``suppress_tokens``);
- with timestamps: the text opens with a timestamp no later than
  ``max_initial_timestamp``; timestamps come in pairs (a segment's end and the
  next one's start), except right before <|endoftext|>; they never go back and a
  segment is never empty; and when the timestamps together are more probable than
  any single text token, a timestamp it is.

The filter renormalises what is left, as Whisper and CTranslate2 do (they mask
logits before the softmax), so beam scores and ``avg_logprob`` match theirs.

When a window's text looks wrong, it is decoded again, as Whisper does
(:func:`decode_with_fallback`): too repetitive (``compression_ratio`` above
``compression_ratio_threshold``) or too improbable (``avg_logprob`` below
``logprob_threshold``), unless the window is probably silence. The first attempt
is the beam search at temperature 0; the next ones sample ``best_of`` candidates
at each of the rising ``temperatures`` (seeded: the same audio gives the same
transcript). After a window that needed a temperature above 0.5, the next window
is not conditioned on the text before it, so a loop does not carry over.
"""

from __future__ import annotations

import codecs
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from engine.decode import DecodeOptions, StepCallback, StepInfo, decode_encoded
from engine.transcript import Chunk, TimedText, Transcript
from engine.whisper.word_timing import Alignment, WordTiming, add_word_timestamps
from engine.whisper.audio import (
    ENCODER_STRIDE, FRAMES_PER_SECOND, N_FRAMES, N_SAMPLES, SAMPLE_RATE, TIME_PRECISION, log_mel, pad_or_trim,
)
from engine.whisper.tokenizer import WhisperTokenizer

NEG_INF = float("-inf")


@dataclass(frozen=True)
class WhisperOptions:
    """How to transcribe with Whisper; the defaults are those of OpenAI's command line.

    ``length_penalty`` None ranks finished beams by log-probability per token;
    a number α divides by length ** α instead (CTranslate2's convention).
    ``suppress_tokens`` is a comma-separated id list where -1 stands for the
    model's own list (stored with it, or Whisper's non-speech tokens).
    """

    language: str | None = "es"  # None: detect from the first 30 s
    task: str = "transcribe"  # or "translate" (into English)
    beam_size: int = 5
    length_penalty: float | None = None
    timestamps: bool = True
    suppress_blank: bool = True
    suppress_tokens: str = "-1"
    no_speech_threshold: float | None = 0.6  # skip a window this likely silent ...
    logprob_threshold: float | None = -1.0  # ... unless its text averages above this log-probability
    condition_on_previous_text: bool = True
    max_initial_timestamp: float | None = 1.0  # seconds
    word_timestamps: bool = True
    initial_prompt: str | None = None  # text that "came before", e.g. names and spellings to prefer
    capture_attention: bool = True  # keep every head's cross-attention of a one-window transcript
    step_attention: bool = True  # on_step gets each step's cross-attention (False: tokens only, faster)
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # one attempt each until the text passes
    compression_ratio_threshold: float | None = 2.4  # a window's text compressing better than this is a loop
    best_of: int = 5  # candidates sampled per window at a temperature above 0


@dataclass
class WindowResult:
    """One 30 s window decoded."""

    tokens: list[int]  # text and timestamp tokens, without the prompt and <|endoftext|>
    sot_sequence: list[int]
    avg_logprob: float  # per token, <|endoftext|> counted, as Whisper reports it
    no_speech_prob: float
    score: float  # the beam's ranking score
    text: str = ""  # the text tokens decoded, for the fallback's checks
    temperature: float = 0.0  # of the attempt that produced it


def compression_ratio(text: str) -> float:
    """Bytes of text per byte of its zlib compression: above ~2.4 the text is looping."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


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
        self.timestamps = timestamps
        self.max_initial = max_initial_timestamp_index

    def __call__(self, tokens: Tensor, logp: Tensor) -> None:
        """Apply the rules to ``logp`` (N, V) in place, given ``tokens`` (N, L) with the prompt."""
        n_sampled = tokens.shape[1] - self.sample_begin
        if n_sampled == 0 and self.blank_ids:
            logp[:, self.blank_ids] = NEG_INF
        if self.suppress_ids:
            logp[:, self.suppress_ids] = NEG_INF
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


class _SotProbe:
    """Stands in for the model inside ``decode_encoded`` to keep the logits at <|startoftranscript|>.

    Whisper's no-speech probability is read there: before the language and task
    tokens, the model can still say "<|nocaptions|>".
    """

    def __init__(self, model, sot_index: int):
        self._model = model
        self._sot_index = sot_index
        self.sot_logits: Tensor | None = None

    def decode(self, tokens, xa, enc_lens, cache=None, recorder=None):
        logits = self._model.decode(tokens, xa, enc_lens, cache, recorder)
        if self.sot_logits is None and tokens.shape[1] > self._sot_index:
            self.sot_logits = logits[0, self._sot_index].float()
        return logits

    def __getattr__(self, name):
        return getattr(self._model, name)


def language_probs(model, tokenizer: WhisperTokenizer, xa: Tensor) -> dict[str, float]:
    """Probability of each language given a window's encoder output xa (1, T, D)."""
    if not tokenizer.is_multilingual:
        return {"en": 1.0}
    x = torch.tensor([[tokenizer.sot]], device=xa.device)
    with torch.inference_mode():
        logits = model.decode(x, xa, torch.tensor([xa.shape[1]], device=xa.device))[0, -1].float()
    codes = list(tokenizer.languages)
    ids = torch.tensor([tokenizer.languages[c] for c in codes], device=logits.device)
    probs = logits[ids].softmax(-1).tolist()
    return dict(sorted(zip(codes, probs), key=lambda kv: -kv[1]))


def detect_language(model, tokenizer: WhisperTokenizer, mel: Tensor) -> tuple[str, dict[str, float]]:
    """The most probable language of the first 30 s of ``mel`` (T, n_mels), and every language's probability."""
    window = pad_or_trim(mel[:N_FRAMES]).to(_param(model).device, _param(model).dtype)
    with torch.inference_mode():
        xa, _ = model.encode(window[None], torch.tensor([N_FRAMES], device=window.device))
    probs = language_probs(model, tokenizer, xa)
    return next(iter(probs)), probs


def build_prompt(tokenizer: WhisperTokenizer, previous: list[int], sot_sequence: list[int],
                 n_text_ctx: int) -> list[int]:
    """<|startofprev|> + the last previous tokens (at most half the context) + the sot sequence."""
    prompt = []
    if previous:
        prompt = [tokenizer.sot_prev, *previous[-(n_text_ctx // 2 - 1):]]
    return prompt + list(sot_sequence)


def decode_window(
    model,
    tokenizer: WhisperTokenizer,
    xa: Tensor,
    options: WhisperOptions,
    *,
    language: str,
    previous: list[int] | None = None,
    suppress_ids=(),
    blank_ids=None,
    on_step: StepCallback | None = None,
    temperature: float = 0.0,
) -> WindowResult:
    """Decode one window's encoder output xa (1, T, D) under Whisper's rules.

    ``previous`` are earlier tokens to condition on (the prompt); ``suppress_ids``
    never to emit; ``blank_ids`` not first (default: a space and <|endoftext|>).
    ``temperature`` 0 is the beam search; above 0, ``options.best_of`` sampled candidates.
    """
    n_ctx = model.config.n_text_ctx
    sot_sequence = tokenizer.sot_sequence(language, options.task, timestamps=options.timestamps)
    prompt = build_prompt(tokenizer, previous or [], sot_sequence, n_ctx)
    sample_begin = len(prompt)
    # As Whisper: at most half the context of new tokens, and never past its end.
    max_new = min(n_ctx // 2, n_ctx + 1 - sample_begin)
    enc_lens = torch.tensor([xa.shape[1]], device=xa.device)
    max_initial = None
    if options.max_initial_timestamp is not None:
        max_initial = round(options.max_initial_timestamp / TIME_PRECISION)
    rules = WhisperLogitsFilter(
        tokenizer, sample_begin, suppress_ids,
        (blank_ids if blank_ids is not None else tokenizer.blank_tokens) if options.suppress_blank else None,
        timestamps=options.timestamps, max_initial_timestamp_index=max_initial,
    )
    decode_options = DecodeOptions(
        beam_size=options.beam_size,
        length_penalty=1.0 if options.length_penalty is None else options.length_penalty,
        # decode_encoded allows enc_len * ratio + 10 tokens; the 0.5 guards the float rounding.
        max_len_ratio=(max_new - 10 + 0.5) / xa.shape[1],
        length_counts_eos=False,  # as Whisper and CTranslate2 rank finished beams
        step_attention=options.step_attention,
        temperature=temperature,
        best_of=options.best_of,
    )
    probe = _SotProbe(model, prompt.index(tokenizer.sot))
    [hyp] = decode_encoded(probe, xa, enc_lens, prompt, tokenizer.eot, decode_options,
                           on_step=on_step, logits_filter=rules)
    tokens = [t for t in hyp.tokens if t != tokenizer.eot]
    no_speech = 0.0
    if probe.sot_logits is not None and tokenizer.no_speech is not None:
        no_speech = float(probe.sot_logits.softmax(-1)[tokenizer.no_speech])
    text = tokenizer.decode([t for t in tokens if t < tokenizer.timestamp_begin])
    return WindowResult(tokens, sot_sequence, hyp.log_prob / (len(tokens) + 1), no_speech, hyp.score, text,
                        temperature)


def decode_with_fallback(model, tokenizer: WhisperTokenizer, xa: Tensor, options: WhisperOptions,
                         **kwargs) -> WindowResult:
    """:func:`decode_window` at each of ``options.temperatures`` until the text passes Whisper's checks.

    The result of the last attempt is kept when none passes (as Whisper does).
    ``kwargs`` go to :func:`decode_window`.
    """
    *tries, last = options.temperatures or (0.0,)
    for temperature in tries:
        result = decode_window(model, tokenizer, xa, options, temperature=temperature, **kwargs)
        if not needs_fallback(result, options):
            return result
    return decode_window(model, tokenizer, xa, options, temperature=last, **kwargs)


def needs_fallback(result: WindowResult, options: WhisperOptions) -> bool:
    """Whether a window's text is too repetitive or improbable to keep, and not just silence."""
    if options.no_speech_threshold is not None and result.no_speech_prob > options.no_speech_threshold:
        return False  # probably silence: _is_silence decides what to do with it
    ratio = options.compression_ratio_threshold
    too_repetitive = ratio is not None and compression_ratio(result.text) > ratio
    too_improbable = options.logprob_threshold is not None and result.avg_logprob < options.logprob_threshold
    return too_repetitive or too_improbable


def token_pieces(tokenizer: WhisperTokenizer, tokens: list[int]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """A label per token, for heatmap rows: its BPE piece as text, and whether it is special.

    A character split over tokens (an "ó" may take two) is written on the token that
    completes it, "" on the others, as :class:`WhisperTranscript` does, so a character
    still half-decoded shows nothing rather than "\ufffd"; a timestamp reads "<|0.00|>"
    and another special token its name (e.g. "<|endoftext|>").
    """
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")  # holds a character's first bytes
    texts: list[str] = []
    for t in tokens:
        if t >= tokenizer.timestamp_begin:
            texts.append(f"<|{tokenizer.timestamp(t):.2f}|>")
        elif t >= tokenizer.eot:
            texts.append(tokenizer.tokenizer.id_to_token(int(t)) or "")
        else:
            texts.append(utf8.decode(tokenizer.token_bytes(t)))
    return tuple(texts), tuple(t >= tokenizer.eot for t in tokens)


def split_segments(tokenizer: WhisperTokenizer, tokens: list[int], seek: int, segment_size: int
                   ) -> tuple[list[tuple[float, float, list[int]]], int, bool]:
    """Cut a window's tokens into timed segments and say where the next window starts.

    Parameters
    ----------
    tokens : the window's tokens (text and timestamps, no <|endoftext|>).
    seek : the window's first mel frame in the whole audio.
    segment_size : mel frames of audio in the window.

    Returns
    -------
    segments : (start s, end s, tokens) each, times in the whole audio.
    next_seek : the next window's first mel frame: after the last complete
        segment, or the window's end when the text ended with a lone timestamp
        (nothing more was said) or had no timestamps at all.
    single_timestamp_ending : the text ended with a lone timestamp.
    """
    tb = tokenizer.timestamp_begin
    offset = seek / FRAMES_PER_SECOND
    is_ts = [t >= tb for t in tokens]
    single_ending = len(tokens) >= 2 and not is_ts[-2] and is_ts[-1]
    cuts = [i for i in range(1, len(tokens)) if is_ts[i] and is_ts[i - 1]]  # between a segment's end and the next start
    segments = []
    if cuts:
        bounds = cuts + ([len(tokens)] if single_ending else [])
        last = 0
        for cut in bounds:
            part = tokens[last:cut]
            start = offset + tokenizer.timestamp(part[0])
            end = offset + tokenizer.timestamp(part[-1])
            segments.append((start, end, part))
            last = cut
        if single_ending:
            next_seek = seek + segment_size
        else:  # the text after the last complete segment is decoded again in the next window
            next_seek = seek + (tokens[last - 1] - tb) * ENCODER_STRIDE
    else:
        duration = segment_size / FRAMES_PER_SECOND
        stamps = [t for t in tokens if t >= tb]
        if stamps and stamps[-1] != tb:
            duration = tokenizer.timestamp(stamps[-1])
        segments.append((offset, offset + duration, list(tokens)))
        next_seek = seek + segment_size
    return segments, next_seek, single_ending


@dataclass
class WhisperSegment:
    """A stretch of text between two timestamps, as Whisper writes it."""

    start: float  # seconds in the whole audio
    end: float
    text: str
    tokens: list[int]  # text tokens and the timestamps around them
    words: list[WordTiming] = field(default_factory=list)
    avg_logprob: float = 0.0  # of the window the segment came from
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float = 0.0  # of the attempt that produced the window (above 0: a fallback)


@dataclass
class WhisperTranscript(Transcript):
    """A :class:`engine.transcript.Transcript` with Whisper's segments and the language it used.

    ``tokens`` has one entry per text token (timestamps left out), its text on the
    token that completes a character and "" on the others, so that the rows of
    ``cross_attention`` (layers, H, len(tokens) + 1, frames), from the word-timing
    pass of a one-window transcript, line up with it; the last row is <|endoftext|>.
    ``score`` is the mean ``avg_logprob`` of the windows that produced text.
    """

    language: str = ""
    language_probability: float | None = None  # when the language was detected rather than given
    segments: list[WhisperSegment] = field(default_factory=list)


def transcribe_whisper(
    loaded,
    samples: np.ndarray,
    options: WhisperOptions = WhisperOptions(),
    *,
    on_step: Callable[[Chunk, StepInfo], None] | None = None,
    on_chunk: Callable[[Chunk, Transcript], None] | None = None,
    source: str | Path | None = None,
) -> WhisperTranscript:
    """Transcribe audio of any length the way Whisper does.

    The audio is read in 30 s windows. Each window is decoded with the text so far
    as a prompt (``condition_on_previous_text``); the next window starts after the
    last complete segment, so a sentence cut by the window's edge is heard again
    whole. A window that is probably silence (``no_speech_threshold``) and whose
    text is improbable (``logprob_threshold``) is skipped.

    Parameters
    ----------
    loaded : has ``.model`` (our Whisper), ``.tokenizer`` (a :class:`WhisperTokenizer`)
        and optionally ``.extra`` (the "whisper" section of a model folder's config.json,
        which may hold the model's ``suppress_ids`` and ``suppress_ids_begin``).
    samples : (n,) mono float32 at 16 kHz.
    on_step : ``(chunk, step_info)`` after every decoding step of a window.
    on_chunk : ``(chunk, transcript)`` after every window, times in the whole audio.
        Either callback may raise (e.g. JobCancelled) to stop.
    """
    model, tok = loaded.model, loaded.tokenizer
    stored = getattr(loaded, "extra", None) or {}
    suppress_ids = tok.suppress_tokens(options.suppress_tokens, stored.get("suppress_ids"))
    blank_ids = stored.get("suppress_ids_begin")
    param = _param(model)
    mel = log_mel(samples, model.config.n_mels, padding=N_SAMPLES)  # (T, n_mels); the padding is silence to read
    content_frames = mel.shape[0] - N_FRAMES
    language = options.language if tok.is_multilingual else "en"
    language_probability = None
    previous = tok.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
    prompt_from = 0
    last_speech = 0.0
    seek, index = 0, 0
    segments: list[WhisperSegment] = []
    windows: list[WhisperTranscript] = []
    while seek < content_frames:
        segment_size = min(N_FRAMES, content_frames - seek)
        chunk = Chunk(index, seek / FRAMES_PER_SECOND, (seek + segment_size) / FRAMES_PER_SECOND,
                      index + math.ceil((content_frames - seek) / N_FRAMES))
        window = pad_or_trim(mel[seek: seek + segment_size]).to(param.device, param.dtype)
        with torch.inference_mode():
            xa, _ = model.encode(window[None], torch.tensor([N_FRAMES], device=param.device))
        if language is None:
            language, language_probability = next(iter(language_probs(model, tok, xa).items()))
        step = (lambda info, chunk=chunk: on_step(chunk, info)) if on_step is not None else None
        result = decode_with_fallback(
            model, tok, xa, options, language=language,
            previous=previous[prompt_from:] if options.condition_on_previous_text else [],
            suppress_ids=suppress_ids, blank_ids=blank_ids, on_step=step,
        )
        if _is_silence(result, options):
            window_segments, next_seek, alignment = [], seek + segment_size, None
        else:
            window_segments, next_seek, alignment, last_speech = _window_segments(
                model, tok, xa, result, seek, segment_size, options, last_speech)
        kept = [s for s in window_segments if _says_something(s)]
        segments += kept
        previous += [t for s in kept for t in s.tokens]
        if not options.condition_on_previous_text or result.temperature > 0.5:
            prompt_from = len(previous)  # a text that needed a high temperature is no prompt to follow
        part = _transcript(tok, window_segments, alignment, segment_size / FRAMES_PER_SECOND,
                           result.avg_logprob, language, chunk.start)
        windows.append(part)
        if on_chunk is not None:
            on_chunk(chunk, part)
        seek = next_seek if next_seek > seek else seek + segment_size  # always move on
        index += 1
    out = WhisperTranscript(
        text="".join(s.text for s in segments).strip(),
        tokens=[t for w in windows for t in w.tokens],
        words=[w for part in windows for w in part.words],
        duration=len(samples) / SAMPLE_RATE,
        score=float(np.mean(scores)) if (scores := [w.score for w in windows if w.segments]) else 0.0,
        source=str(source) if source is not None else None,
        cross_attention=windows[0].cross_attention if len(windows) == 1 and options.capture_attention else None,
        language=language or "",
        language_probability=language_probability,
        segments=segments,
    )
    return out


def _is_silence(result: WindowResult, options: WhisperOptions) -> bool:
    if options.no_speech_threshold is None or result.no_speech_prob <= options.no_speech_threshold:
        return False
    # Probably silence, but a confident text overrules that.
    return options.logprob_threshold is None or result.avg_logprob <= options.logprob_threshold


def _window_segments(model, tok, xa, result: WindowResult, seek: int, segment_size: int,
                     options: WhisperOptions, last_speech: float):
    timed, next_seek, single_ending = split_segments(tok, result.tokens, seek, segment_size)
    segments = [WhisperSegment(a, b, tok.decode(toks), toks, [], result.avg_logprob, result.no_speech_prob,
                               compression_ratio(tok.decode(toks)), result.temperature) for a, b, toks in timed]
    alignment = None
    if options.word_timestamps:
        sot = [t for t in result.sot_sequence if t != tok.no_timestamps]
        last_speech, alignment = add_word_timestamps(
            model, tok, xa, sot, segments, segment_size, seek / FRAMES_PER_SECOND, last_speech,
            keep_attention=options.capture_attention,
        )
        ends = [s.words[-1].end for s in segments if s.words]
        # Start the next window where the last word ended: finer than the last timestamp.
        if not single_ending and ends and ends[-1] > seek / FRAMES_PER_SECOND:
            next_seek = round(ends[-1] * FRAMES_PER_SECOND)
    return segments, next_seek, alignment, last_speech


def _says_something(s: WhisperSegment) -> bool:
    # An instantaneous or empty segment says nothing (and must not become a prompt).
    return s.start != s.end and bool(s.text.strip())


def _transcript(tok, segments: list[WhisperSegment], alignment: Alignment | None, duration: float,
                avg_logprob: float, language: str, window_start: float) -> WhisperTranscript:
    """One window's transcript: a timed entry per text token (the text on the token that
    completes a character) and the words, times in the whole audio.

    ``segments`` are all the window's segments, in the order the alignment covered them;
    those that say nothing are left out here.
    """
    tokens: list[TimedText] = []
    starts = alignment.token_starts + window_start if alignment is not None else None
    k = 0  # index into the aligned tokens, which cover every segment of the window
    for s in segments:
        text_tokens = [t for t in s.tokens if t < tok.eot]
        if not _says_something(s):
            k += len(text_tokens)
            continue
        step = (s.end - s.start) / max(len(text_tokens), 1)
        m = 0  # index within the segment
        for piece, group in zip(*tok.split_on_characters(text_tokens)):
            for j, _ in enumerate(group):
                if starts is not None and k + 1 < len(starts):
                    a, b = float(starts[k]), float(starts[k + 1])
                else:  # no word timings: spread evenly over the segment
                    a, b = s.start + m * step, s.start + (m + 1) * step
                tokens.append(TimedText(piece if j == len(group) - 1 else "", round(a, 3), round(b, 3)))
                k, m = k + 1, m + 1
    segments = [s for s in segments if _says_something(s)]
    words = [TimedText(w.text.strip(), w.start, w.end) for s in segments for w in s.words]
    attention = alignment.cross_attention if alignment is not None else None
    return WhisperTranscript(
        text="".join(s.text for s in segments).strip(), tokens=tokens, words=words, duration=duration,
        score=avg_logprob, cross_attention=attention, language=language, segments=segments,
    )


def _param(model) -> Tensor:
    return next(model.parameters())
