"""The Transcribe page's record bar (app.record_bar), with fake PortAudio streams; the rest is real."""

from __future__ import annotations

import types

import pytest

from app import audio_io
from app.audio_io import Recorder
from app.record_bar import LIVE_SECONDS, RecordBar
from app.widgets.level_meter import MIN_DBFS
from engine.audio import load_audio
from tests.app.test_audio_io import SR, FakeInputStream, tone

pytestmark = pytest.mark.timeout(60, func_only=True)


@pytest.fixture
def microphone(monkeypatch):
    """One fake input device; returns the signal it delivers (12 s: longer than the live view)."""
    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "Micrófono de prueba", "max_input_channels": 1, "max_output_channels": 0}])
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake_sd)
    signal = tone(12.0)
    monkeypatch.setattr(audio_io, "_input_stream_factory", lambda **kw: FakeInputStream(signal, **kw))
    return signal


def bar_on(qtbot, tmp_path) -> RecordBar:
    bar = RecordBar(Recorder(folder=tmp_path / "grabaciones"), SR)
    qtbot.addWidget(bar)
    return bar


def test_without_portaudio_the_bar_is_disabled_and_says_why(qtbot, monkeypatch, tmp_path):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(audio_io, "_sounddevice", no_portaudio)
    bar = bar_on(qtbot, tmp_path)
    assert not bar.available and "PortAudio library not found" in bar.unavailable_reason
    assert not bar.button.isEnabled() and not bar.device_combo.isEnabled()
    assert bar.button.toolTip().startswith("Recording is unavailable: PortAudio library not found")
    assert bar.device_combo.toolTip() == bar.unavailable_reason


def test_recording_opens_after_starting_scrolls_the_last_seconds_and_stops_into_a_file(qtbot, tmp_path,
                                                                                     microphone):
    bar = bar_on(qtbot, tmp_path)
    assert bar.available and bar.unavailable_reason == "" and bar.device_combo.currentText() == "Micrófono de prueba"
    assert bar.button.toolTip() == "Record from the microphone (Ctrl+R); saved as it is captured"
    seen = []
    bar.starting.connect(lambda: seen.append(("starting", bar.recorder.is_recording)))
    bar.started.connect(lambda path: seen.append(("started", path)))
    live = []
    bar.live_audio_changed.connect(live.append)

    bar.button.click()
    assert seen == [("starting", False), ("started", str(bar.recorder.path))]  # told before the microphone opens
    assert bar.button.isChecked() and bar.button.text() == "■ Stop" and bar.recorder.is_recording
    qtbot.waitUntil(lambda: bar.recorder.frames_captured >= len(microphone), timeout=20_000)
    qtbot.waitUntil(lambda: any(samples.size == LIVE_SECONDS * SR for samples in live), timeout=5_000)
    assert max(samples.size for samples in live) == LIVE_SECONDS * SR  # the last seconds, never the whole file
    assert 1 < len(live) < 60  # a few redraws a second, not one per block
    assert bar.level_meter.peak > MIN_DBFS

    with qtbot.waitSignal(bar.recorder.stopped) as stopped:
        bar.button.click()
    assert bar.button.text() == "● Record" and not bar.recorder.is_recording
    assert bar.level_meter.peak == MIN_DBFS
    assert len(load_audio(stopped.args[0])) == len(microphone)


def test_a_microphone_that_cannot_open_leaves_the_button_up(qtbot, monkeypatch, tmp_path, microphone):
    def broken(**kwargs):
        raise RuntimeError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]")

    monkeypatch.setattr(audio_io, "_input_stream_factory", broken)
    bar = bar_on(qtbot, tmp_path)
    started = []
    bar.started.connect(started.append)
    with qtbot.waitSignal(bar.recorder.failed) as failed:
        bar.button.click()
    assert "Invalid sample rate" in failed.args[0] and started == []
    assert not bar.button.isChecked() and bar.button.text() == "● Record" and not bar.recorder.is_recording
