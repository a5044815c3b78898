"""Whisper on long audio, several pieces of speech at a time (``DecodeOptions.batch_size`` > 1).

Whisper's own algorithm (:func:`engine.whisper.decoding.transcribe_whisper`) reads
one 30 s window after another, each prompted with the text before it, so a
window waits for the one before. Here the speech is first found by voice-activity
detection (:mod:`engine.vad`) and its stretches packed, in order, into pieces of at
most 30 s of speech, the pauses between them cut out (the times are mapped back to the
file); then ``batch_size`` pieces are encoded together and decoded together,
``batch_size`` x ``beam_size`` rows at each step of one beam search. On a CPU that is
one large matrix product where there were many small ones; on a GPU it fills the
device. This is faster-whisper's ``BatchedInferencePipeline`` idea, in our own code,
with one difference measured in ``docs/benchmarks.md``: a piece whose text fails
Whisper's checks is decoded again at the fallback temperatures.

Pieces are independent: no piece is prompted with the text of another (only the
``initial_prompt``, if any), and each piece is one segment (without timestamps, as
faster-whisper's batched mode), its words timed by cross-attention when
``word_timestamps`` is on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from engine.decode import StepInfo
from engine.transcript import Chunk, Transcript
from engine.vad import VadOptions, speech_groups
from engine.whisper.audio import FRAMES_PER_SECOND, N_FRAMES, N_SAMPLES, SAMPLE_RATE, log_mel, pad_or_trim
from engine.whisper.decoding import (
    WhisperOptions, _is_silence, _param, compression_ratio, decode_windows, decode_with_fallback, language_probs,
    needs_fallback, whole_transcript,
)
from engine.whisper.segments import WhisperSegment, WhisperTranscript, window_transcript
from engine.whisper.word_timing import add_word_timestamps


def fixed_pieces(n_samples: int) -> list[tuple[int, int]]:
    """The audio in consecutive 30 s pieces, for ``vad="off"``."""
    return [(a, min(n_samples, a + N_SAMPLES)) for a in range(0, n_samples, N_SAMPLES)]


class TimeMap:
    """From a time in a group's joined audio to the time in the whole recording (its runs, in samples)."""

    def __init__(self, runs: list[tuple[int, int]]):
        self.starts = np.array([a for a, _ in runs], dtype=np.float64) / SAMPLE_RATE
        lengths = np.array([b - a for a, b in runs], dtype=np.float64) / SAMPLE_RATE
        self.offsets = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])  # where each run begins, joined
        self.duration = float(lengths.sum())

    def __call__(self, t: float, end: bool = False) -> float:
        """``t`` seconds into the joined audio, in the recording; an ``end`` on a join stays in the run before."""
        t = min(max(float(t), 0.0), self.duration)
        i = int(np.searchsorted(self.offsets, t, side="left" if end else "right")) - 1
        i = max(i, 0)
        return round(float(self.starts[i] + t - self.offsets[i]), 3)


def transcribe_batched(
    loaded,
    samples: np.ndarray,
    options: WhisperOptions,
    *,
    batch_size: int,
    vad: str,
    vad_options: VadOptions = VadOptions(),
    on_step: Callable[[Chunk, StepInfo], None] | None = None,
    on_chunk: Callable[[Chunk, Transcript], None] | None = None,
    source: str | Path | None = None,
) -> WhisperTranscript:
    """Transcribe ``samples`` (mono float32, 16 kHz) ``batch_size`` pieces of speech at a time.

    ``vad`` is "silero", "energy" or "off" (consecutive 30 s pieces). A piece is a group of
    stretches of speech joined end to end (:func:`engine.vad.speech_groups`); its times are
    mapped back to the recording. ``on_step`` follows the first piece of the batch being
    decoded; ``on_chunk`` gets each piece's transcript, in order, times in the whole audio.
    Either may raise to stop.
    """
    model, tok = loaded.model, loaded.tokenizer
    stored = getattr(loaded, "extra", None) or {}
    suppress_ids = tok.suppress_tokens(options.suppress_tokens, stored.get("suppress_ids"))
    blank_ids = stored.get("suppress_ids_begin")
    param = _param(model)
    options = replace(options, timestamps=False)  # one segment per piece: its words carry the times
    groups = ([[p] for p in fixed_pieces(len(samples))] if vad == "off"
              else speech_groups(samples, vad, vad_options))
    language = options.language if tok.is_multilingual else "en"
    language_probability = None
    prompt = tok.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
    windows: list[WhisperTranscript] = []
    segments: list[WhisperSegment] = []
    step_size = max(1, batch_size)
    for first in range(0, len(groups), step_size):
        batch = groups[first: first + step_size]
        chunks = [Chunk(first + i, runs[0][0] / SAMPLE_RATE, runs[-1][1] / SAMPLE_RATE, len(groups))
                  for i, runs in enumerate(batch)]
        maps = [TimeMap(runs) for runs in batch]
        audio = [np.concatenate([samples[a:b] for a, b in runs]) for runs in batch]
        mels = [pad_or_trim(log_mel(x, model.config.n_mels, padding=N_SAMPLES)[:N_FRAMES]) for x in audio]
        feats = torch.stack(mels).to(param.device, param.dtype)
        with torch.inference_mode():
            xa, _ = model.encode(feats, torch.full((len(batch),), N_FRAMES, device=param.device))
        if language is None:
            language, language_probability = next(iter(language_probs(model, tok, xa[:1]).items()))
        step = (lambda info, chunk=chunks[0]: on_step(chunk, info)) if on_step is not None else None
        common = dict(language=language, previous=prompt, suppress_ids=suppress_ids, blank_ids=blank_ids)
        results = decode_windows(model, tok, xa, options, on_step=step, **common)
        for i, (chunk, to_file, result) in enumerate(zip(chunks, maps, results)):
            seconds = to_file.duration
            if len(options.temperatures) > 1 and needs_fallback(result, options, seconds):
                result = decode_with_fallback(model, tok, xa[i:i + 1], options, audio_seconds=seconds,
                                              first=result, **common)
            piece_segments, alignment = [], None
            if not _is_silence(result, options) and result.text.strip():
                text_tokens = [t for t in result.tokens if t < tok.eot]
                piece_segments = [WhisperSegment(
                    0.0, seconds, tok.decode(text_tokens), text_tokens, [], result.avg_logprob,
                    result.no_speech_prob, compression_ratio(result.text), result.temperature)]
                if options.word_timestamps:
                    sot = [t for t in result.sot_sequence if t != tok.no_timestamps]
                    _, alignment = add_word_timestamps(
                        model, tok, xa[i:i + 1], sot, piece_segments, round(seconds * FRAMES_PER_SECOND), 0.0,
                        0.0, keep_attention=options.capture_attention and len(groups) == 1)
            part = window_transcript(tok, piece_segments, alignment, seconds, result.avg_logprob, language or "", 0.0)
            _to_file(part, to_file)
            part.duration = chunk.end - chunk.start
            windows.append(part)
            segments += part.segments
            if on_chunk is not None:
                on_chunk(chunk, part)
    return whole_transcript(windows, segments, len(samples) / SAMPLE_RATE, options, source, language,
                            language_probability)


def _to_file(part: WhisperTranscript, to_file: TimeMap) -> None:
    """Move a piece's times, in its joined audio, to the recording's, in place."""
    for timed in (*part.tokens, *part.words):
        timed.start, timed.end = to_file(timed.start), to_file(timed.end, end=True)
    for segment in part.segments:
        _fit_segment(segment)
        segment.start, segment.end = to_file(segment.start), to_file(segment.end, end=True)
        for w in segment.words:
            w.start, w.end = to_file(w.start), to_file(w.end, end=True)


def _fit_segment(segment: WhisperSegment) -> None:
    """A piece's segment spans its words, not the padding and pauses around them."""
    if segment.words:
        segment.start = max(segment.start, min(w.start for w in segment.words))
        segment.end = min(segment.end, max(w.end for w in segment.words))
