"""The live job in the real engine process: audio through the pipe, text and attention back, nothing lost."""

import time

import numpy as np
import pytest

from engine.client import EngineClient
from engine.live.options import LiveOptions
from engine.protocol import (AttentionFrame, Cancelled, Finished, Live, LiveText, LoadModel,
                             PartialTranscript)
from engine.transcript import DecodeOptions


@pytest.fixture(scope="module")
def whisper_folder(whisper_base_live):
    return whisper_base_live.path


def _load(client, path):
    events = client.wait(client.submit(LoadModel, path=str(path)), timeout=120)
    assert isinstance(events[-1], Finished), events[-1]


@pytest.mark.slow
def test_live_job_streams_text_and_attention_and_keeps_every_word(whisper_folder, spoken):
    samples, reference = spoken
    with EngineClient() as client:
        _load(client, whisper_folder)
        job = client.submit(Live, options=DecodeOptions(beam_size=1, temperature_fallback=False),
                            live=LiveOptions(min_update_seconds=1.0))
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
    assert any(isinstance(e, AttentionFrame) and e.kind == "decoder_cross" for e in events)
    assert any(isinstance(e, PartialTranscript) for e in events)


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
