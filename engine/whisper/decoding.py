"""Whisper's decoding rules on top of our shared beam search.

The search itself is :func:`engine.decode.decode_encoded` (beam search, KV cache,
attention streaming), given Whisper's prompt as a multi-token prefix and
:class:`engine.whisper.logits_filter.WhisperLogitsFilter` for the rules Whisper
decodes under (no blank first token, suppressed tokens, timestamp pairs). A
window's tokens become timed segments and a transcript in
:mod:`engine.whisper.segments`.

When a window's text looks wrong, it is decoded again, as Whisper does
(:func:`decode_with_fallback`): too repetitive (``compression_ratio`` above
``compression_ratio_threshold``), too long for the audio (more than
``max_chars_per_second``) or too improbable (``avg_logprob`` below
``logprob_threshold``), unless the window is probably silence (the no-speech
probability is high and the text improbable). The first attempt is the beam
search at temperature 0; the next ones sample ``best_of`` candidates at each of
the rising ``temperatures`` (seeded: the same audio gives the same transcript).
When every attempt fails, the most probable one that is neither repetitive nor
too long is kept (faster-whisper's rule, :func:`choose_attempt`), not the last,
hottest one. After a window whose attempts went above 0.5, the next window is
not conditioned on the text before it, so a loop does not carry over.

A window whose loudest 20 ms stays below ``silence_level_db`` holds no speech and
is not decoded at all: on digital silence Whisper writes "y y y ..." with
confidence, which no threshold above catches.
"""

from __future__ import annotations

import codecs
import math
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from engine.decode import StepCallback, StepInfo, decode_encoded
from engine.models.attention import AttentionRecorder
from engine.transcript import DecodeOptions
from engine.transcript import Chunk, Transcript
from engine.whisper.audio import (
    FRAMES_PER_SECOND, HOP_LENGTH, N_FRAMES, N_SAMPLES, SAMPLE_RATE, TIME_PRECISION, log_mel, pad_or_trim,
)
from engine.whisper.logits_filter import WhisperLogitsFilter
from engine.whisper.segments import (
    WhisperSegment, WhisperTranscript, capped_segment, capped_timed, says_something, split_segments,
    window_transcript,
)
from engine.whisper.tokenizer import WhisperTokenizer
from engine.whisper.word_timing import add_word_timestamps


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
    # Text the first window's transcript starts with, forced (faster-whisper's ``prefix``): decoded in
    # one pass with the prompt, not token by token; live passes give it the words already final.
    prefix: str | None = None
    capture_attention: bool = True  # keep every head's cross-attention of a one-window transcript
    step_attention: bool = True  # on_step gets each step's cross-attention (False: tokens only, faster)
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # one attempt each until the text passes
    compression_ratio_threshold: float | None = 2.4  # a window's text compressing better than this is a loop
    best_of: int = 5  # candidates sampled per window at a temperature above 0
    # When every temperature fails: "best", the most probable attempt that is neither too repetitive nor too
    # long (faster-whisper), or "last", the last, hottest one (openai/whisper).
    fallback_keeps: str = "best"
    # A window's text longer than this many characters per second of its audio (at least 1 s) is a
    # hallucination, and needs a fallback like a repetitive one. Real Spanish reads at 26 at most
    # (cv-es-sample and cajal-es, speech span); None: no limit.
    max_chars_per_second: float | None = 50.0
    # A window whose loudest 20 ms (RMS) stays below this level, in dB below full scale, is silence and is not
    # decoded (the quietest real speech in cv-es-sample peaks at -48 dB); None: decode every window.
    silence_level_db: float | None = -70.0
    # At most this many tokens a second of a window's audio (at least 1 s), plus 8; None: half the context (224).
    max_tokens_per_second: float | None = None

    def __post_init__(self):
        if self.fallback_keeps not in ("best", "last"):
            raise ValueError(f"WhisperOptions.fallback_keeps must be 'best' or 'last', got {self.fallback_keeps!r}")
        if self.max_chars_per_second is not None and not self.max_chars_per_second > 0:
            raise ValueError(f"WhisperOptions.max_chars_per_second must be above 0 or None, "
                             f"got {self.max_chars_per_second}")


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
    last_temperature: float = 0.0  # of the window's last attempt (above 0.5: the next window is not prompted)


def compression_ratio(text: str) -> float:
    """Bytes of text per byte of its zlib compression: above ~2.4 the text is looping."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


class _SotProbe:
    """Stands in for the model inside ``decode_encoded`` to keep the logits at <|startoftranscript|>.

    Whisper's no-speech probability is read there: before the language and task
    tokens, the model can still say "<|nocaptions|>". One row per window: the
    search runs the shared prompt once per window before copying it to the beams.
    """

    def __init__(self, model, sot_index: int):
        self._model = model
        self._sot_index = sot_index
        self.sot_logits: Tensor | None = None

    def decode(self, tokens, xa, enc_lens, cache=None, recorder=None):
        logits = self._model.decode(tokens, xa, enc_lens, cache, recorder)
        if self.sot_logits is None and tokens.shape[1] > self._sot_index:
            self.sot_logits = logits[:, self._sot_index].float()
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


def forced_tokens(tokenizer: WhisperTokenizer, options: WhisperOptions) -> list[int] | None:
    """``options.prefix`` as tokens (after a first timestamp <|0.00|> when timestamps are on), or None."""
    text = (options.prefix or "").strip()
    if not text:
        return None
    return ([tokenizer.timestamp_begin] if options.timestamps else []) + tokenizer.encode(" " + text)


def decode_window(model, tokenizer: WhisperTokenizer, xa: Tensor, options: WhisperOptions, **kwargs) -> WindowResult:
    """Decode one window's encoder output xa (1, T, D) under Whisper's rules (:func:`decode_windows`)."""
    [result] = decode_windows(model, tokenizer, xa, options, **kwargs)
    return result


def decode_windows(
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
    max_new_tokens: int | None = None,
    forced: list[int] | None = None,
) -> list[WindowResult]:
    """Decode windows' encoder output xa (B, T, D) under Whisper's rules, all B in one search.

    Every window gets the same prompt: ``previous`` earlier tokens to condition on;
    ``suppress_ids`` are never emitted; ``blank_ids`` not first (default: a space and
    <|endoftext|>). ``temperature`` 0 is the beam search (B x beam_size rows a step);
    above 0, ``options.best_of`` sampled candidates per window. ``forced`` tokens begin
    every result as if decoded (the timestamp rules see them so), read in one pass with
    the prompt; the results' tokens hold them, their log-probability only the rest.
    """
    n_ctx = model.config.n_text_ctx
    sot_sequence = tokenizer.sot_sequence(language, options.task, timestamps=options.timestamps)
    prompt = build_prompt(tokenizer, previous or [], sot_sequence, n_ctx)
    sample_begin = len(prompt)
    forced = list(forced or [])[: max(0, n_ctx // 2 - 8)]
    # As Whisper: at most half the context of new tokens, and never past its end.
    max_new = min(n_ctx // 2 - len(forced), n_ctx + 1 - sample_begin - len(forced), max_new_tokens or n_ctx)
    B = xa.shape[0]
    enc_lens = torch.full((B,), xa.shape[1], device=xa.device)
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
    hyps = decode_encoded(probe, xa, enc_lens, prompt + forced, tokenizer.eot, decode_options,
                          on_step=on_step, logits_filter=rules)
    no_speech = [0.0] * B
    if probe.sot_logits is not None and tokenizer.no_speech is not None:
        no_speech = probe.sot_logits.softmax(-1)[:, tokenizer.no_speech].tolist()
    results = []
    for hyp, p_silent in zip(hyps, no_speech):
        new = [t for t in hyp.tokens if t != tokenizer.eot]
        tokens = forced + new
        text = tokenizer.decode([t for t in tokens if t < tokenizer.timestamp_begin])
        results.append(WindowResult(tokens, sot_sequence, hyp.log_prob / (len(new) + 1), float(p_silent),
                                    hyp.score, text, temperature, temperature))
    return results


def decode_with_fallback(model, tokenizer: WhisperTokenizer, xa: Tensor, options: WhisperOptions, *,
                         audio_seconds: float | None = None, first: WindowResult | None = None,
                         **kwargs) -> WindowResult:
    """:func:`decode_window` at each of ``options.temperatures`` until the text passes Whisper's checks.

    When none passes, :func:`choose_attempt` picks which attempt to keep.
    ``audio_seconds`` is how much audio the window holds, for the length check
    (None: no length check); ``first`` is the attempt at the first temperature when
    it was decoded already (in a batch); ``kwargs`` go to :func:`decode_window`.
    """
    if first is not None and not needs_fallback(first, options, audio_seconds):
        return first
    if options.max_tokens_per_second is not None and audio_seconds is not None:
        kwargs["max_new_tokens"] = int(options.max_tokens_per_second * max(audio_seconds, 1.0)) + 8
    attempts: list[WindowResult] = [first] if first is not None else []
    for temperature in (options.temperatures or (0.0,))[len(attempts):]:
        result = decode_window(model, tokenizer, xa, options, temperature=temperature, **kwargs)
        attempts.append(result)
        if not needs_fallback(result, options, audio_seconds):
            return result
    if len(attempts) == 1:
        return attempts[0]
    kept = choose_attempt(attempts, options, audio_seconds)
    return kept if kept is attempts[-1] else replace(kept, last_temperature=attempts[-1].temperature)


def choose_attempt(attempts: list[WindowResult], options: WhisperOptions,
                   audio_seconds: float | None = None) -> WindowResult:
    """Which of a window's attempts to keep when every one failed its checks.

    ``fallback_keeps="best"`` (faster-whisper's ``generate_with_fallback``): the
    highest ``avg_logprob`` among the attempts that are neither too repetitive
    nor too long, or among all of them if none is; the first on a tie.
    ``"last"`` (openai/whisper): the last attempt, the hottest sample.
    """
    if options.fallback_keeps == "last":
        return attempts[-1]
    plausible = [a for a in attempts if not too_repetitive(a, options) and not too_long(a, options, audio_seconds)]
    return max(plausible or attempts, key=lambda a: a.avg_logprob)


def too_repetitive(result: WindowResult, options: WhisperOptions) -> bool:
    ratio = options.compression_ratio_threshold
    return ratio is not None and compression_ratio(result.text.strip()) > ratio


def too_long(result: WindowResult, options: WhisperOptions, audio_seconds: float | None) -> bool:
    """More characters than ``max_chars_per_second`` allows for ``audio_seconds`` of audio (counted as 1 s at least)."""
    rate = options.max_chars_per_second
    if rate is None or audio_seconds is None:
        return False
    return len(result.text.strip()) > rate * max(audio_seconds, 1.0)


def needs_fallback(result: WindowResult, options: WhisperOptions, audio_seconds: float | None = None) -> bool:
    """Whether a window's text is too repetitive, too long or too improbable to keep, and not just silence.

    As openai/whisper and faster-whisper decide it: a window that is probably
    silence (no-speech probability above ``no_speech_threshold``) and whose text
    is improbable needs no fallback (:func:`_is_silence` drops it), but a
    probable text there is still checked for loops.
    """
    improbable = options.logprob_threshold is not None and result.avg_logprob < options.logprob_threshold
    if improbable and options.no_speech_threshold is not None and result.no_speech_prob > options.no_speech_threshold:
        return False  # silence
    return improbable or too_repetitive(result, options) or too_long(result, options, audio_seconds)


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


def transcribe_whisper(
    loaded,
    samples: np.ndarray,
    options: WhisperOptions = WhisperOptions(),
    *,
    on_step: Callable[[Chunk, StepInfo], None] | None = None,
    on_chunk: Callable[[Chunk, Transcript], None] | None = None,
    source: str | Path | None = None,
    pieces: list[tuple[int, int]] | None = None,
    on_encode: Callable[[Chunk], AttentionRecorder | None] | None = None,
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
    pieces : sample ranges [start, end) to read (the speech that voice-activity detection
        found, :mod:`engine.vad`), in order; the text carries over from one to the next as
        a prompt. None: the whole audio.
    on_encode : ``(chunk) -> recorder or None`` before a window is encoded; a recorder
        records that encoding's self-attention (for a heatmap, without a second pass).
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
    forced = forced_tokens(tok, options)  # the first window decoded starts with them
    prompt_from = 0
    last_speech = 0.0
    index = 0
    segments: list[WhisperSegment] = []
    windows: list[WhisperTranscript] = []
    regions = [(0, content_frames)] if pieces is None else [
        (a // HOP_LENGTH, min(content_frames, -(-b // HOP_LENGTH))) for a, b in pieces]
    # Windows still to come after each region, for the progress's count of windows.
    after = [sum(math.ceil((b - a) / N_FRAMES) for a, b in regions[i + 1:]) for i in range(len(regions))]
    seek, end, region = 0, 0, -1
    while True:
        if seek >= end:  # the next region of speech
            region += 1
            if region == len(regions):
                break
            seek, end = regions[region]
            continue
        segment_size = min(N_FRAMES, end - seek)
        chunk = Chunk(index, seek / FRAMES_PER_SECOND, (seek + segment_size) / FRAMES_PER_SECOND,
                      index + math.ceil((end - seek) / N_FRAMES) + after[region])
        if options.silence_level_db is not None and is_quiet(
                samples[seek * HOP_LENGTH: (seek + segment_size) * HOP_LENGTH], options.silence_level_db):
            part = window_transcript(tok, [], None, segment_size / FRAMES_PER_SECOND, 0.0, language or "", chunk.start)
            windows.append(part)
            if on_chunk is not None:
                on_chunk(chunk, part)
            seek, index = seek + segment_size, index + 1
            continue
        window = pad_or_trim(mel[seek: seek + segment_size]).to(param.device, param.dtype)
        recorder = on_encode(chunk) if on_encode is not None else None
        with torch.inference_mode():
            xa, _ = model.encode(window[None], torch.tensor([N_FRAMES], device=param.device), recorder)
        if language is None:
            language, language_probability = next(iter(language_probs(model, tok, xa).items()))
        step = (lambda info, chunk=chunk: on_step(chunk, info)) if on_step is not None else None
        result = decode_with_fallback(
            model, tok, xa, options, language=language,
            previous=previous[prompt_from:],  # without conditioning: the initial prompt, first window only
            suppress_ids=suppress_ids, blank_ids=blank_ids, on_step=step,
            audio_seconds=segment_size / FRAMES_PER_SECOND, forced=forced,
        )
        forced = None
        silent = _is_silence(result, options)
        if silent:
            window_segments, next_seek, alignment = [], seek + segment_size, None
        else:
            window_segments, next_seek, alignment, last_speech = _window_segments(
                model, tok, xa, result, seek, segment_size, options, last_speech)
        kept = [s for s in window_segments if says_something(s)]
        segments += kept
        previous += [t for s in kept for t in s.tokens]
        if not options.condition_on_previous_text or (result.last_temperature > 0.5 and not silent):
            prompt_from = len(previous)  # a window that needed a high temperature is no prompt to follow
        part = window_transcript(tok, window_segments, alignment, segment_size / FRAMES_PER_SECOND,
                           result.avg_logprob, language, chunk.start)
        windows.append(part)
        if on_chunk is not None:
            on_chunk(chunk, part)
        seek = next_seek if next_seek > seek else seek + segment_size  # always move on
        index += 1
    return whole_transcript(windows, segments, len(samples) / SAMPLE_RATE, options, source, language,
                            language_probability)


def whole_transcript(windows: list[WhisperTranscript], segments: list[WhisperSegment], duration: float,
                     options: WhisperOptions, source, language: str | None,
                     language_probability: float | None) -> WhisperTranscript:
    """The recording's transcript from its windows' (times already the recording's) and the segments kept.

    Every time is capped at ``duration``, the recording's length in seconds (copies; the inputs are untouched).
    """
    return WhisperTranscript(
        text="".join(s.text for s in segments).strip(),
        tokens=capped_timed([t for w in windows for t in w.tokens], duration),
        words=capped_timed([w for part in windows for w in part.words], duration),
        duration=duration,
        score=float(np.mean(scores)) if (scores := [w.score for w in windows if w.segments]) else 0.0,
        source=str(source) if source is not None else None,
        cross_attention=windows[0].cross_attention if len(windows) == 1 and options.capture_attention else None,
        language=language or "",
        language_probability=language_probability,
        segments=[capped_segment(s, duration) for s in segments],
    )


def is_quiet(samples: np.ndarray, level_db: float) -> bool:
    """Whether no 20 ms of ``samples`` (16 kHz) reaches ``level_db`` dB below full scale (RMS): silence."""
    if len(samples) == 0:
        return True
    starts = np.arange(0, len(samples), SAMPLE_RATE // 50)
    power = np.add.reduceat(np.square(samples, dtype=np.float64), starts) / np.diff(starts, append=len(samples))
    return bool(power.max() < 10 ** (level_db / 10))


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


def _param(model) -> Tensor:
    return next(model.parameters())
