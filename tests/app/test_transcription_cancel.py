"""A cancelled transcription's heatmaps (app.transcription_job with the real attention views).

The engine sends a chunk's attention step by step and stops a chunk midway on a
cancel; the heatmaps must then show the last chunk finished, not the first rows of
the one stopped, or say plainly that nothing finished. Events are emitted on the
real engine client's signals in the order the worker sends them (engine/worker.py):
per chunk the encoder's self-attention once, then per step a partial transcript and
one cross-attention frame per layer (all heads stacked); a ChunkResult when the chunk
is done; on a cancel, what was finished and then Cancelled.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.transcription_job import RunViews, TranscriptionRun
from engine.protocol import ALL_HEADS, AttentionFrame, ChunkResult, PartialTranscript

pytestmark = pytest.mark.timeout(180, func_only=True)

JOB = 91_001  # far above any id the engine of this module hands out
LAYERS, HEADS, FRAMES, FRAME_SECONDS = 2, 3, 40, 0.02
OFFSET = 3.0  # the selection decoded starts 3 s into the file


def cross(chunk: int, step: int, layer: int) -> np.ndarray:
    """(HEADS, FRAMES): one step's rows of a layer, peaked where (chunk, step, layer) says."""
    rows = np.full((HEADS, FRAMES), 0.01, dtype=np.float16)
    rows[:, (7 * chunk + 3 * step + layer) % FRAMES] = 1.0
    return rows


def encoder(chunk: int, layer: int) -> np.ndarray:
    """(HEADS, FRAMES, FRAMES) of one layer: each chunk's own pattern."""
    m = np.full((HEADS, FRAMES, FRAMES), 0.01, dtype=np.float16)
    m[:, :, (5 * chunk + layer) % FRAMES] = 1.0
    return m


def decode_chunk(engine, chunk: int, start: float, words: list[str], finish: bool) -> None:
    """The worker's events for one chunk of ``words``: steps, and the ChunkResult when ``finish``."""
    for layer in range(LAYERS):
        engine.attention_frame.emit(JOB, AttentionFrame(JOB, "encoder_self", layer, ALL_HEADS, 0,
                                                        encoder(chunk, layer), chunk, start, FRAME_SECONDS))
    for step in range(len(words) + (1 if finish else 0)):  # a finished chunk's last step wrote <|endoftext|>
        texts = tuple(" " + w for w in words[:step + 1])  # the tokens so far, as the worker labels them
        engine.partial_transcript.emit(JOB, PartialTranscript(JOB, chunk, tuple(range(len(texts))), "".join(texts),
                                                              start, 0.0, texts, (False,) * len(texts)))
        for layer in range(LAYERS):
            engine.attention_frame.emit(JOB, AttentionFrame(JOB, "decoder_cross", layer, ALL_HEADS, step,
                                                            cross(chunk, step, layer), chunk, start, FRAME_SECONDS))
    if finish:
        end = start + FRAMES * FRAME_SECONDS
        engine.chunk_finished.emit(JOB, ChunkResult(JOB, chunk, start, end, " ".join(words), tuple(
            (w, start + 0.1 * i, start + 0.1 * i + 0.05) for i, w in enumerate(words))))


def cancel(engine, finished_text: str | None) -> None:
    """The engine's answer to a cancel: what it had finished, if anything, then Cancelled."""
    if finished_text is not None:
        engine.job_stopped_early.emit(JOB, {"text": finished_text, "duration": 10.0, "model": "demo-es",
                                            "words": [], "stopped_at": 0.8})
    engine.job_cancelled.emit(JOB)


def shows_chunk(views: RunViews, chunk: int, start: float, n_rows: int, labels: list[str]) -> None:
    attention = views.attention
    assert attention.chunk_start == pytest.approx(start + OFFSET)
    assert attention.n_tokens == n_rows and attention.tokens()[:len(labels)] == labels
    for layer in range(LAYERS):
        for head in range(HEADS):
            expected = np.stack([cross(chunk, step, layer)[head] for step in range(n_rows)]).astype(np.float32)
            np.testing.assert_array_equal(attention.matrix(layer, head), expected)
    assert views.self_attention.chunk_start == pytest.approx(start + OFFSET)
    for layer in range(LAYERS):
        np.testing.assert_array_equal(views.self_attention.matrix(layer, 1), encoder(chunk, layer)[1])


def test_a_cancel_midway_shows_the_last_chunk_finished_again(engine, views):
    run = TranscriptionRun(engine, views, None, JOB, offset=OFFSET)
    decode_chunk(engine, 0, 0.0, ["hola", "buenas"], finish=True)
    decode_chunk(engine, 1, 0.8, ["tardes"], finish=True)
    decode_chunk(engine, 2, 1.6, ["a", "todos", "los"], finish=False)  # stopped after three of its steps
    assert views.attention.chunk_start == pytest.approx(1.6 + OFFSET) and views.attention.n_tokens == 3
    cancel(engine, "hola buenas tardes")
    assert not run.running
    shows_chunk(views, 1, 0.8, 2, [" tardes"])  # its word and its end-of-text row
    assert views.attention.note_label.text() == "Cancelled: the last part finished, 0:04–0:05"
    assert not views.attention.note_label.isHidden()


def test_a_cancel_between_chunks_leaves_the_finished_one_shown(engine, views):
    TranscriptionRun(engine, views, None, JOB, offset=OFFSET)
    decode_chunk(engine, 0, 0.0, ["hola", "buenas"], finish=True)
    cancel(engine, "hola buenas")
    shows_chunk(views, 0, 0.0, 3, [" hola", " buenas"])
    assert views.attention.note_label.text().startswith("Cancelled: the last part finished")


def test_a_cancel_before_any_chunk_finished_clears_the_heatmaps_and_says_why(engine, views):
    TranscriptionRun(engine, views, None, JOB, offset=OFFSET)
    decode_chunk(engine, 0, 0.0, ["hola", "buenas"], finish=False)
    assert views.attention.n_tokens == 2
    cancel(engine, None)
    assert views.attention.n_tokens == 0 and views.attention.shown_rows() == []
    assert views.self_attention.matrix(0, None) is None
    assert views.attention.note_label.text() == ("Cancelled before the first part of the audio was transcribed: "
                                                 "no attention to show")
    views.attention.reset(40, 1, 0)  # the next transcription's rows: the note goes
    assert views.attention.note_label.text() == "" and views.attention.note_label.isHidden()
