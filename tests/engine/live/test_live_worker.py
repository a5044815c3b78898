"""The live job in the real engine process: audio through the pipe, text and attention back, nothing lost."""

import time

import numpy as np
import pytest

from engine.client import EngineClient
from engine.live.options import LiveOptions
from engine.protocol import (AttentionFrame, Cancelled, ChunkAttention, Finished, Live, LiveText, LoadModel,
                             PartialTranscript)
from engine.transcript import DecodeOptions


@pytest.fixture(scope="module")
def whisper_folder(whisper_base_live):
    return whisper_base_live.path


def _load(client, path):
    events = client.wait(client.submit(LoadModel, path=str(path)), timeout=120)
    assert isinstance(events[-1], Finished), events[-1]


@pytest.mark.slow
def test_live_job_streams_text_and_attention_and_keeps_every_word(whisper_base_live, whisper_folder, spoken):
    samples, reference = spoken
    with EngineClient() as client:
        _load(client, whisper_folder)
        job = client.submit(Live, options=DecodeOptions(beam_size=1, temperature_fallback=False),
                            live=LiveOptions(min_update_seconds=1.0), heads="all")  # as the window asks
        for i in range(0, len(samples), 16000):  # a second at a time, faster than real time
            client.live_audio(job, samples[i:i + 16000])
            time.sleep(0.2)
        client.stop_live(job)
        events = client.wait(job, timeout=300)
    end = events[-1]
    assert isinstance(end, Finished), end
    texts = [e for e in events if isinstance(e, LiveText)]
    assert texts and texts[-1].final and texts[-1].tentative == ()
    committed = [w for e in texts for w, _, _ in e.committed]
    assert " ".join(committed) == end.result["text"]
    assert "verdades" in end.result["text"].lower() and "prefieren" in end.result["text"].lower()
    assert end.result["duration"] == pytest.approx(len(samples) / 16000, abs=0.01)
    assert end.result["model_path"] == str(whisper_folder)  # the model that made it travels with it
    # Whisper's heatmap comes once a pass, after its text, from the word-timing pass: not step by step.
    assert not any(isinstance(e, (AttentionFrame, PartialTranscript)) for e in events)
    passes = [e for e in events if isinstance(e, ChunkAttention)]
    assert passes and len(passes) <= len(texts)
    layers = len(whisper_base_live.model.decoder.blocks)
    for e in passes:
        assert e.matrix.dtype == np.float16 and not e.averaged
        assert e.matrix.shape[:3] == (layers, whisper_base_live.model.config.n_text_head, len(e.token_texts) + 1)
        weights = e.matrix.astype(np.float32)  # softmax over the 30 s window; the pipe carries the audio's part
        assert np.isfinite(weights).all() and weights.min() >= 0 and weights.sum(-1).max() <= 1.01
    last = passes[-1]  # the final pass reads the buffer to the end of the recording
    assert last.chunk_start + last.matrix.shape[-1] * last.frame_seconds == pytest.approx(len(samples) / 16000,
                                                                                          abs=0.05)
    assert "verdades" in "".join(last.token_texts)


def test_live_job_refuses_a_wrong_sample_rate_and_cancel_keeps_what_is_committed(saved_model_dir):
    with EngineClient() as client:
        _load(client, saved_model_dir)
        bad = client.submit(Live, sample_rate=44100)
        assert "16000 Hz" in client.wait(bad, timeout=60)[-1].message
        bad = client.submit(Live, live=LiveOptions(trim_seconds=-1))
        assert "trim_seconds" in client.wait(bad, timeout=60)[-1].message
        job = client.submit(Live)
        client.live_audio(job, np.zeros(16000, np.float32))
        time.sleep(0.5)
        client.cancel(job)
        end = client.wait(job, timeout=60)[-1]
    assert isinstance(end, Cancelled) and end.result is not None and end.result["text"] == ""
