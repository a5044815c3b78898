"""A decoded window's tokens as Whisper's timed segments, and the transcript they make.

:func:`split_segments` cuts a window's text at its timestamp pairs and says where
the next window starts; :func:`window_transcript` turns a window's segments
(with word timings, when they were aligned) into a
:class:`WhisperTranscript`, times in the whole audio. Times are capped at the end of
the audio they describe (:func:`capped_segment`): a window's last timestamp token
can say 30.0 s where its audio ends at 12.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.transcript import TimedText, Transcript
from engine.whisper.audio import ENCODER_STRIDE, FRAMES_PER_SECOND
from engine.whisper.tokenizer import WhisperTokenizer
from engine.whisper.word_timing import Alignment, WordTiming


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


def says_something(s: WhisperSegment) -> bool:
    # An instantaneous or empty segment says nothing (and must not become a prompt).
    return s.start != s.end and bool(s.text.strip())


def cap_times(start: float, end: float, limit: float) -> tuple[float, float]:
    """``(start, end)`` no later than ``limit``, with start <= end."""
    start = min(start, limit)
    return start, min(max(start, end), limit)


def capped_segment(s: WhisperSegment, limit: float) -> WhisperSegment:
    """A copy of ``s`` whose times, and its words', end no later than ``limit`` (seconds).

    Whisper can time text past the audio's end (into the window's padding); the
    text stays, its times stop where the audio does.
    """
    words = [replace(w, start=a, end=b) for w in s.words for a, b in [cap_times(w.start, w.end, limit)]]
    start, end = cap_times(s.start, s.end, limit)
    return replace(s, start=start, end=end, words=words)


def capped_timed(timed: list[TimedText], limit: float) -> list[TimedText]:
    """Copies of ``timed`` ending no later than ``limit`` (seconds)."""
    return [TimedText(t.text, *cap_times(t.start, t.end, limit)) for t in timed]


def window_transcript(tok, segments: list[WhisperSegment], alignment: Alignment | None, duration: float,
                avg_logprob: float, language: str, window_start: float) -> WhisperTranscript:
    """One window's transcript: a timed entry per text token (the text on the token that
    completes a character) and the words, times in the whole audio.

    ``segments`` are all the window's segments, in the order the alignment covered them;
    those that say nothing (by their own times) are left out here. Every time is capped
    at the window's end, ``window_start + duration``, where its audio ends; the
    transcript's segments are capped copies.
    """
    limit = window_start + duration
    tokens: list[TimedText] = []
    starts = alignment.token_starts + window_start if alignment is not None else None
    k = 0  # index into the aligned tokens, which cover every segment of the window
    kept: list[WhisperSegment] = []
    for s in segments:
        text_tokens = [t for t in s.tokens if t < tok.eot]
        if not says_something(s):
            k += len(text_tokens)
            continue
        s = capped_segment(s, limit)
        kept.append(s)
        step = (s.end - s.start) / max(len(text_tokens), 1)
        m = 0  # index within the segment
        for piece, group in zip(*tok.split_on_characters(text_tokens)):
            for j, _ in enumerate(group):
                if starts is not None and k + 1 < len(starts):
                    a, b = float(starts[k]), float(starts[k + 1])
                else:  # no word timings: spread evenly over the segment
                    a, b = s.start + m * step, s.start + (m + 1) * step
                a, b = cap_times(round(a, 3), round(b, 3), limit)
                tokens.append(TimedText(piece if j == len(group) - 1 else "", a, b))
                k, m = k + 1, m + 1
    segments = kept
    words = [TimedText(w.text.strip(), w.start, w.end) for s in segments for w in s.words]
    attention = alignment.cross_attention if alignment is not None else None
    return WhisperTranscript(
        text="".join(s.text for s in segments).strip(), tokens=tokens, words=words, duration=duration,
        score=avg_logprob, cross_attention=attention, language=language, segments=segments,
    )
