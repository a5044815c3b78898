"""Whisper's times stop where the audio does: a window's last timestamp token can say 30.0 s
when the audio ends at 12.3 s, and no segment, word or token may be timed past that end."""

from __future__ import annotations

import numpy as np
import pytest

from engine.transcript import TimedText
from engine.whisper.audio import FRAMES_PER_SECOND
from engine.whisper.decoding import WhisperOptions, whole_transcript
from engine.whisper.segments import WhisperSegment, split_segments, window_transcript
from engine.whisper.tokenizer import WhisperTokenizer
from engine.whisper.word_timing import Alignment, WordTiming

AUDIO_END = 12.3  # seconds: one short window, the whole recording


@pytest.fixture(scope="module")
def tok(tok_json):
    return WhisperTokenizer.from_str(tok_json)


def _segments(tok) -> list[WhisperSegment]:
    """The short window's segments as decoding builds them, from tokens ending in <|30.00|>."""
    tb = tok.timestamp_begin
    first, second = tok.encode(" el pingüino"), tok.encode(" comió ñoquis")
    tokens = [tb, *first, tb + 250, tb + 250, *second, tb + 1500]  # <|0.00|> .. <|5.00|><|5.00|> .. <|30.00|>
    timed, _, _ = split_segments(tok, tokens, seek=0, segment_size=round(AUDIO_END * FRAMES_PER_SECOND))
    assert timed[-1][1] == pytest.approx(30.0)  # what the tokens say, uncapped
    return [WhisperSegment(a, b, tok.decode(t), t) for a, b, t in timed]


def _assert_within(items, limit):
    for x in items:
        assert 0.0 <= x.start <= x.end <= limit + 1e-9, (x, limit)


def test_a_window_transcript_stops_at_its_audio_end(tok):
    segments = _segments(tok)
    part = window_transcript(tok, segments, None, AUDIO_END, -0.2, "es", 0.0)
    assert [s.text for s in part.segments] == [" el pingüino", " comió ñoquis"]
    _assert_within(part.segments, AUDIO_END)
    _assert_within(part.tokens, AUDIO_END)
    assert part.segments[-1].end == pytest.approx(AUDIO_END)
    assert part.tokens[-1].end == pytest.approx(AUDIO_END)  # spread over 5.0 .. 12.3, not 5.0 .. 30.0
    assert segments[-1].end == pytest.approx(30.0)  # the caller's segments are left as they were


def test_a_later_window_is_capped_at_its_own_end_and_aligned_times_too(tok):
    segments = _segments(tok)
    start = 60.0  # the window starts a minute in; its audio ends 12.3 s later
    for s in segments:
        s.start, s.end = s.start + start, s.end + start
    n = sum(len([t for t in s.tokens if t < tok.eot]) for s in segments)
    # Alignment times are in window time: the last tokens (and <|endoftext|>) placed past 12.3 s.
    starts = np.linspace(0.0, 20.0, n + 1)
    segments[-1].words = [WordTiming(" ñoquis", [], start + 11.0, start + 19.5, 0.9)]
    alignment = Alignment([], starts, np.ones(n))
    part = window_transcript(tok, segments, alignment, AUDIO_END, -0.2, "es", start)
    limit = start + AUDIO_END
    _assert_within(part.segments, limit)
    _assert_within(part.tokens, limit)
    _assert_within(part.words, limit)
    _assert_within([w for s in part.segments for w in s.words], limit)
    assert part.words[-1].end == pytest.approx(limit) and part.words[-1].start == pytest.approx(start + 11.0)


def test_text_timed_wholly_past_the_end_keeps_its_words(tok):
    tb = tok.timestamp_begin
    late = tok.encode(" año nuevo")
    segments = [WhisperSegment(12.5, 14.0, tok.decode(late), [tb + 625, *late, tb + 700])]
    part = window_transcript(tok, segments, None, AUDIO_END, -0.2, "es", 0.0)
    assert part.text == "año nuevo"
    assert (part.segments[0].start, part.segments[0].end) == (pytest.approx(AUDIO_END), pytest.approx(AUDIO_END))
    _assert_within(part.tokens, AUDIO_END)


def test_the_whole_transcript_stops_at_the_recording_end(tok):
    segments = _segments(tok)
    segments[-1].words = [WordTiming(" comió", [], 5.0, 6.0, 0.9), WordTiming(" ñoquis", [], 6.0, 31.0, 0.9)]
    segments[0].start, segments[0].end = 3.0, 2.0  # an inverted pair comes out ordered
    # A window as some path might hand it over, its times uncapped.
    window = window_transcript(tok, [], None, 30.0, -0.2, "es", 0.0)
    window.segments = segments
    window.tokens = [TimedText("x", 29.0, 30.0)]
    window.words = [TimedText("ñoquis", 6.0, 31.0)]
    whole = whole_transcript([window], segments, AUDIO_END, WhisperOptions(), None, "es", None)
    assert whole.text == "el pingüino comió ñoquis"
    _assert_within(whole.segments, AUDIO_END)
    _assert_within(whole.tokens, AUDIO_END)
    _assert_within(whole.words, AUDIO_END)
    _assert_within([w for s in whole.segments for w in s.words], AUDIO_END)
    assert whole.segments[-1].end == pytest.approx(AUDIO_END)
    assert window.words[0].end == 31.0 and segments[-1].end == pytest.approx(30.0)  # inputs untouched
