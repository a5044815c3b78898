"""Faults under the window: the engine process killed mid-transcription, the disk full mid-recording.

Real widgets and the real engine process; only the sound card and the disk's
failure are stand-ins.
"""

from __future__ import annotations

import os
import shutil
import signal
import types

import numpy as np
import pytest
import soundfile as sf

from app import audio_io
from app.main_window import MainWindow
from engine.audio import load_audio, save_wav
from tests.app import conftest as app_fixtures
from tests.app.test_audio_io import FakeInputStream, FakeOutputStream
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, DiskFillsUp, tone_speech

engine = app_fixtures.engine  # one real engine process for the module
isolated_settings = app_fixtures.isolated_settings  # autouse: QSettings in a temporary folder


@pytest.fixture
def window(qtbot, engine, tmp_path):
    return app_fixtures.new_window(qtbot, engine, tmp_path)


@pytest.mark.slow
def test_killing_the_engine_mid_transcription_is_shown_and_a_new_engine_takes_over(window, qtbot, engine,
                                                                                    saved_model_dir, tmp_path):
    page = window.transcribe_page
    long = tmp_path / "una hora no, un minuto.wav"
    save_wav(long, np.concatenate([tone_speech(t, seed=i) for i in range(8) for t in OVERFIT_TEXTS]), SR)
    short = tmp_path / "corto.wav"
    save_wav(short, tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    assert page.load_audio_file(long)
    page.set_model_path(saved_model_dir)
    with qtbot.waitSignal(engine.partial_transcript, timeout=60_000):
        page.transcribe_button.click()
    killed = engine.pid
    states = []
    engine.state_changed.connect(states.append)
    with qtbot.waitSignal(page.transcription_failed, timeout=10_000) as failed:
        os.kill(killed, signal.SIGKILL)
    # the window says what happened, in the page and in the status bar ...
    assert "SIGKILL" in failed.args[0]
    assert page.error_label.isVisible() and "SIGKILL" in page.error_label.text()
    qtbot.waitUntil(lambda: "crashed" in states, timeout=5_000)
    assert "SIGKILL" in window.statusBar().currentMessage() and "new one" in window.statusBar().currentMessage()
    # ... and starts a new engine by itself, without sending the killed job again
    with qtbot.waitSignal(engine.ready, timeout=120_000):
        pass
    assert states[states.index("crashed"):][:3] == ["crashed", "starting", "ready"]
    assert engine.alive and engine.pid != killed and not engine.running_jobs
    assert page.load_audio_file(short)
    qtbot.waitUntil(page.transcribe_button.isEnabled, timeout=5_000)
    with qtbot.waitSignal(page.transcription_finished, timeout=120_000) as finished:
        page.transcribe_button.click()  # the model is loaded again by itself
    assert finished.args[0].text == OVERFIT_TEXTS[1]
    assert not page.error_label.isVisible()


@pytest.mark.slow
def test_an_engine_that_keeps_dying_is_left_to_the_user(window, qtbot, engine):
    window.auto_restarts = 1  # the second crash within two minutes is a crash loop
    qtbot.waitUntil(lambda: engine.state == "ready", timeout=120_000)
    first = engine.pid
    with qtbot.waitSignal(engine.ready, timeout=120_000):
        os.kill(first, signal.SIGKILL)  # restarted by itself
    second = engine.pid
    assert second != first
    with qtbot.waitSignal(engine.worker_exited, timeout=10_000):
        os.kill(second, signal.SIGKILL)
    qtbot.wait(500)  # time enough for a restart to begin, were one coming
    assert engine.state == "crashed" and not engine.alive
    message = window.statusBar().currentMessage()
    assert "2 times" in message and "Engine ▸ Restart engine" in message
    assert not window.transcribe_page.transcribe_button.isEnabled()
    with qtbot.waitSignal(engine.ready, timeout=120_000):
        window.restart_action.trigger()  # the user's restart still works
    assert engine.alive and engine.pid not in (first, second)


def test_a_full_disk_stops_the_recording_keeps_what_was_saved_and_says_why(qtbot, engine, monkeypatch,
                                                                             tmp_path):
    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "Micrófono de prueba", "max_input_channels": 1, "max_output_channels": 2}])
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake_sd)
    voice = np.concatenate([tone_speech(t, seed=i) for i, t in enumerate(OVERFIT_TEXTS)])  # ~7 s
    monkeypatch.setattr(audio_io, "_input_stream_factory", lambda **kw: FakeInputStream(voice, **kw))
    monkeypatch.setattr(audio_io, "_output_stream_factory", lambda **kw: FakeOutputStream(**kw))
    window = MainWindow(device_text="CPU (test)", engine=engine, recordings_folder=tmp_path / "grabaciones")
    qtbot.addWidget(window)
    window.show()
    page = window.transcribe_page
    assert page.record_button.isEnabled()
    recorder = page.recorder

    # a first take, recorded while there was room
    assert recorder.start()
    qtbot.waitUntil(lambda: recorder.frames_captured >= SR, timeout=10_000)
    first = recorder.stop()
    first_bytes = open(first, "rb").read()

    # the second take fills the disk after half a second
    monkeypatch.setattr(audio_io.sf, "SoundFile", DiskFillsUp)
    full = shutil._ntuple_diskusage(total=10**9, used=10**9 - 4096, free=4096)
    monkeypatch.setattr(audio_io.shutil, "disk_usage", lambda path: full)
    with qtbot.waitSignal(recorder.failed, timeout=10_000) as failed:
        page.record_button.click()
    second = str(recorder.path)
    message = failed.args[0]
    assert second in message and "System error." in message and "the disk is full (4 kB free)" in message
    assert not recorder.is_recording and not page.record_button.isChecked()
    assert page.error_label.isVisible() and second in page.error_label.text()

    assert open(first, "rb").read() == first_bytes  # the earlier take is untouched
    saved = load_audio(second)  # and the new one is a valid WAV of everything written before the disk filled
    assert len(saved) == recorder.frames_captured <= DiskFillsUp.room
    assert len(saved) >= DiskFillsUp.room // 2
    np.testing.assert_allclose(saved, voice[: len(saved)], atol=2 / 32768)
