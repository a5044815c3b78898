"""Whisper on long audio, several pieces of speech at a time, and Whisper's own algorithm on the speech only.

The real Whisper base on real sentences from ../shared/data/cajal-es, set apart by
pauses and a long silence, as a recording of someone reading with breaks would be.
Both skip without the model packages or the shared data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.metrics import error_rates
from engine.whisper.batched import transcribe_batched
from engine.whisper.decoding import WhisperOptions, transcribe_whisper

CAJAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"
SR = 16000
OPTIONS = WhisperOptions(beam_size=2, word_timestamps=False, capture_attention=False, temperatures=(0.0,))


@pytest.fixture(scope="module")
def reading():
    """Three sentences: 1 s of silence, A, a 4 s pause, B, a 0.8 s pause, C, then 40 s of faint room noise."""
    if not (CAJAL / "metadata.csv").is_file():
        pytest.skip("../shared/data/cajal-es is absent")
    from engine.audio import load_audio

    rows = [line.split("|", 1) for line in (CAJAL / "metadata.csv").read_text(encoding="utf-8").splitlines()[:3]]
    clips = [load_audio(CAJAL / "wavs" / f"{i}.wav", SR) for i, _ in rows]
    noise = (10 ** (-65 / 20) * np.random.default_rng(0).standard_normal(40 * SR)).astype(np.float32)
    gap = lambda s: np.zeros(int(s * SR), np.float32)  # noqa: E731
    parts = [gap(1.0), clips[0], gap(4.0), clips[1], gap(0.8), clips[2], noise]
    starts = np.cumsum([0] + [len(p) for p in parts]) / SR
    spans = [(starts[1], starts[2]), (starts[3], starts[4]), (starts[5], starts[6])]
    return np.concatenate(parts), " ".join(text for _, text in rows), spans


@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_batched_transcribes_every_sentence_and_nothing_over_the_silence(base, reading, vad):
    from engine.vad import silero_available

    if vad == "silero" and not silero_available():
        pytest.skip("Silero VAD needs onnxruntime and faster-whisper's model file")
    x, reference, spans = reading
    chunks = []
    result = transcribe_batched(base, x, OPTIONS, batch_size=2, vad=vad,
                                on_chunk=lambda chunk, part: chunks.append((chunk, part)))
    assert error_rates([reference], [result.text]).cer < 0.05, result.text
    # One piece: A, then B and C (0.8 s apart), the 4 s pause between A and B cut out, the noise left out.
    [(chunk, part)] = chunks
    assert chunk.index == 0 and chunk.count == 1
    assert spans[0][0] - 0.5 <= chunk.start and chunk.end < spans[2][1] + 1.0
    [segment] = result.segments  # its times are the recording's, not the joined audio's
    assert spans[0][0] - 0.5 <= segment.start < spans[0][1] and spans[2][0] < segment.end <= spans[2][1] + 0.5
    assert result.duration == pytest.approx(len(x) / SR)


def test_pieces_far_apart_are_joined_and_their_words_keep_the_recording_s_times(base, reading):
    x, reference, spans = reading
    options = dataclasses.replace(OPTIONS, word_timestamps=True)
    result = transcribe_batched(base, x, options, batch_size=2, vad="energy")
    assert error_rates([reference], [result.text]).cer < 0.05, result.text
    assert len(result.words) >= 20
    for w in result.words:  # every word on its sentence: none in the cut pause, none in the noise
        assert any(a - 0.5 <= w.start <= w.end <= b + 0.5 for a, b in spans), w
    assert [w.start for w in result.words] == sorted(w.start for w in result.words)
    first_of_b = next(w for w in result.words if w.start >= spans[1][0] - 0.5)
    assert first_of_b.start < spans[1][0] + 1.0  # B's first word starts as B does, after the 4 s pause


def test_a_long_silence_splits_the_recording_into_pieces(base, reading):
    from engine.vad import pack_pieces

    x, _, spans = reading
    long_pause = np.zeros(40 * SR, np.float32)
    y = np.concatenate([x[: int(spans[1][0] * SR)], long_pause, x[int(spans[1][0] * SR):]])
    assert len(pack_pieces([(0, 20 * SR), (60 * SR, 75 * SR)])) == 2  # 35 s of speech: two pieces
    chunks = []
    transcribe_batched(base, y, OPTIONS, batch_size=2, vad="energy", on_chunk=lambda c, p: chunks.append(c))
    assert len(chunks) == 1 and chunks[0].end - chunks[0].start > 40  # joined across 44 s of silence


def test_batched_gives_the_same_text_whatever_the_batch_size(base, reading):
    x, _, _ = reading
    one_at_a_time = transcribe_batched(base, x, OPTIONS, batch_size=1, vad="energy")
    together = transcribe_batched(base, x, OPTIONS, batch_size=4, vad="energy")
    assert together.text == one_at_a_time.text


def test_whisper_on_the_speech_only_skips_the_silence(base, reading):
    from engine.vad import speech_pieces

    x, reference, spans = reading
    chunks = []
    pieces = speech_pieces(x, "energy")
    result = transcribe_whisper(base, x, OPTIONS, pieces=pieces, on_chunk=lambda chunk, part: chunks.append(chunk))
    assert error_rates([reference], [result.text]).cer < 0.05, result.text
    assert all(c.end <= spans[2][1] + 1.0 for c in chunks)  # no window over the 40 s of noise
    assert chunks[-1].count == len(chunks)
