"""A forced prefix: the first window's text starts with given words, read in one step, not decoded.

Live passes give Whisper the words already final this way, so a pass costs only the words
still open. Real Whisper base on real Spanish speech (skipped when either is absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.metrics import error_rates
from engine.whisper.decoding import WhisperOptions, forced_tokens, transcribe_whisper

CLIP = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es" / "wavs" / \
    "0283654f-2565-439b-84b3-41464435538b.wav"


@pytest.fixture(scope="module")
def samples():
    from engine.audio import load_audio

    if not CLIP.is_file():
        pytest.skip("../shared/data/cajal-es is absent")
    return load_audio(CLIP, 16000)


def _read(base, samples, prefix=None, beam_size=2):
    steps = []
    options = WhisperOptions(beam_size=beam_size, temperatures=(0.0,), prefix=prefix, step_attention=False)
    result = transcribe_whisper(base, samples, options, on_step=lambda chunk, info: steps.append(info))
    return result, len(steps)


def test_the_prefix_is_tokens_after_a_first_timestamp(base):
    tok = base.tokenizer
    assert forced_tokens(tok, WhisperOptions(prefix="  ")) is None
    tokens = forced_tokens(tok, WhisperOptions(prefix="Prefieren el libro"))
    assert tokens[0] == tok.timestamp_begin
    assert tok.decode(tokens[1:]) == " Prefieren el libro"
    assert forced_tokens(tok, WhisperOptions(prefix="Prefieren", timestamps=False))[0] != tok.timestamp_begin


@pytest.mark.slow
def test_a_prefix_of_the_right_words_gives_the_same_text_in_fewer_steps(base, samples):
    free, free_steps = _read(base, samples)
    first = " ".join(free.text.split()[:6])
    forced, forced_steps = _read(base, samples, prefix=first)
    assert forced.text.startswith(first)
    assert error_rates([free.text], [forced.text]).wer <= 0.1, (free.text, forced.text)
    # Six words are ~8 tokens fewer to decode one by one.
    assert forced_steps <= free_steps - 6, (free_steps, forced_steps)
    # The forced words are timed like the others: in order, inside the clip.
    words = [w for w in forced.words if w.text.strip()]
    assert [w.text.strip() for w in words[:6]] == first.split()
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert 0.0 <= words[0].start < 1.0 and words[-1].end <= len(samples) / 16000 + 0.5


@pytest.mark.slow
def test_a_forced_start_is_kept_even_when_it_is_not_what_was_said(base, samples):
    result, _ = _read(base, samples, prefix="Dijo el profesor:")
    assert result.text.startswith("Dijo el profesor:")
    # What follows is still the speech.
    assert "libro" in result.text and "hipótesis" in result.text
