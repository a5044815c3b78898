"""QtEngineClient against a real engine process: signals on the GUI thread, crashes reported."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from app.engine_client import QtEngineClient
from engine.audio import save_wav
from engine.protocol import AttentionFrame, ChunkResult, LoadModel, PartialTranscript, Transcribe
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech

SIGNALS = ("ready", "job_started", "progress_changed", "partial_transcript", "attention_frame", "chunk_finished",
           "job_finished", "job_failed", "job_cancelled", "worker_exited", "state_changed")


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    save_wav(folder / "corto.wav", tone_speech(OVERFIT_TEXTS[2], seed=2), SR)
    long = [tone_speech(text, seed=i) for _ in range(20) for i, text in enumerate(OVERFIT_TEXTS)]
    save_wav(folder / "largo.wav", np.concatenate(long), SR)
    return folder


@pytest.fixture
def engine(qtbot, saved_model_dir):
    client = QtEngineClient()
    seen: list[tuple[str, tuple, bool]] = []  # (signal, arguments, on the GUI thread?)
    for name in SIGNALS:
        getattr(client, name).connect(
            lambda *args, name=name: seen.append((name, args, threading.current_thread() is threading.main_thread()))
        )
    client.seen = seen
    with qtbot.waitSignal(client.ready, timeout=60_000):
        client.start()
    assert client.state == "ready"
    with qtbot.waitSignal(client.job_finished, timeout=30_000):
        client.submit(LoadModel, path=str(saved_model_dir))
    yield client
    client.close()
    assert client.state == "stopped" and not client.alive


def arguments(seen, name) -> list[tuple]:
    return [args for n, args, _ in seen if n == name]


@pytest.mark.slow
def test_a_transcription_signals_on_the_gui_thread(qtbot, engine, audio_dir):
    job = None
    with qtbot.waitSignal(engine.job_finished, timeout=60_000, check_params_cb=lambda j, _: j == job) as done:
        job = engine.submit(Transcribe, path=str(audio_dir / "corto.wav"))
    assert done.args[1]["text"] == OVERFIT_TEXTS[2]

    seen = [s for s in engine.seen if s[1][:1] == (job,) or s[0] == "state_changed"]
    assert all(on_gui for _, _, on_gui in engine.seen)
    partials = [args[1] for args in arguments(seen, "partial_transcript")]
    frames = [args[1] for args in arguments(seen, "attention_frame")]
    assert partials and all(isinstance(p, PartialTranscript) for p in partials)
    assert frames and all(isinstance(f, AttentionFrame) and f.matrix.dtype == np.float16 for f in frames)
    [(_, chunk)] = arguments(seen, "chunk_finished")
    assert isinstance(chunk, ChunkResult) and chunk.text == OVERFIT_TEXTS[2]
    assert arguments(seen, "job_started") == [(job, "transcribe")]
    _, done_s, total_s, unit = arguments(seen, "progress_changed")[-1]
    assert unit == "seconds" and done_s == total_s > 0
    states = [args[0] for args in arguments(engine.seen, "state_changed")]
    assert states == ["starting", "ready", "busy", "ready", "busy", "ready"]  # LoadModel, then Transcribe


@pytest.mark.slow
def test_a_crash_emits_worker_exited_and_state_crashed(qtbot, engine, audio_dir):
    job = engine.submit(Transcribe, path=str(audio_dir / "largo.wav"))
    qtbot.waitSignal(engine.partial_transcript, timeout=30_000).wait()
    with qtbot.waitSignal(engine.worker_exited, timeout=5_000) as exited:
        os.kill(engine.pid, signal.SIGKILL)
    assert exited.args == [-signal.SIGKILL, "killed by signal SIGKILL"]
    [(failed_job, message, _)] = arguments(engine.seen, "job_failed")
    assert failed_job == job and "SIGKILL" in message
    assert engine.state == "crashed" and not engine.alive
    states = [args[0] for args in arguments(engine.seen, "state_changed")]
    assert states[-2:] == ["busy", "crashed"]

    with qtbot.waitSignal(engine.ready, timeout=60_000):
        engine.restart()
    assert engine.state == "ready" and engine.alive
