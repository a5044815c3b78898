"""Journey: a person records with "Live text" on, sees the words as they speak, stops, and keeps everything.

The real main window, the real engine process and the real Whisper base; the microphone is the only
fake: real Spanish speech played in real time through the sound-card boundary (a
``sounddevice.InputStream`` stand-in), so the live loop runs on the real clock.
"""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from engine.audio import load_audio
from engine.live.options import LIVE_BEAM_SIZE
from engine.metrics import error_rates
from tests.journeys.conftest import choose_model, snapshot, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def microphone(monkeypatch, cajal):
    """Two real sentences (100+ characters) and a pause, spoken into a fake microphone in real time."""
    from app import audio_io
    from engine.live.capture import FileInputStream

    (first, text1), (second, text2) = cajal[0], cajal[1]
    pause = np.zeros(16000, np.float32)
    voice = np.concatenate([load_audio(first, 16000), pause, load_audio(second, 16000), pause])
    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "Micrófono de prueba", "max_input_channels": 1, "max_output_channels": 0}])
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake_sd)
    streams = []

    def open_stream(**kw):
        streams.append(FileInputStream(voice, speed=1.0, **kw))
        return streams[-1]

    monkeypatch.setattr(audio_io, "_input_stream_factory", open_stream)
    return voice, f"{text1} {text2}", streams


def test_live_text_while_recording_then_everything_saved_and_exported(qtbot, journey_engine, tmp_path,
                                                                       whisper_base, microphone):
    from tests.journeys.conftest import open_main_window

    voice, reference, streams = microphone
    window = open_main_window(qtbot, journey_engine, tmp_path)  # the fake microphone is in place first
    page = window.transcribe_page
    choose_model(page.model_picker, whisper_base)
    assert page.record_bar.live_check.isEnabled()
    page.record_bar.live_check.setChecked(True)
    page.beam_spin.setValue(2)  # the person's beam, for files
    page.record_button.click()
    assert page.recorder.is_recording and page.run is not None
    # The beam box says which beam the live passes use, and cannot be changed under them.
    assert page.beam_spin.value() == LIVE_BEAM_SIZE and not page.beam_spin.isEnabled()
    # Words become final while the person is still speaking, and the heatmap follows the voice.
    wait_until(qtbot, lambda: len(page.transcript_view.words) >= 5, 60, "live words committed while recording")
    assert page.recorder.is_recording
    assert streams[0].active, "text came only after the voice ended"
    wait_until(qtbot, lambda: len(page.attention_view.shown_rows()) > 0, 30, "the heatmap's rows")
    assert page.attention_view.chunk_start > 0 or len(page.transcript_view.words) < 40  # it moves with the voice
    snapshot(window, "journey-live-while-recording")
    wait_until(qtbot, lambda: streams[0].finished.is_set(), 60, "the whole recording played")
    with qtbot.waitSignal(page.transcription_finished, timeout=120000):
        page.record_button.click()  # stop: the last words are finalised, nothing is dropped
    assert page.result is not None and page.run is None
    assert page.beam_spin.value() == 2 and page.beam_spin.isEnabled()  # the person's own beam, back
    text = page.result.transcript.text
    assert error_rates([reference], [text]).wer < 0.3, text
    shown = page.transcript_view.plain_text()
    assert shown == text and page.transcript_view.partial == ""
    # The recording is on disk, whole, and it is what the page shows and exports.
    path = page.audio_path
    assert path is not None and path.parent == tmp_path / "grabaciones"
    assert len(load_audio(path, 16000)) == len(voice)
    assert page.export_button.isEnabled()
    out = tmp_path / "en-vivo.json"
    assert page.export(out)
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["text"] == text and exported["model"] == "whisper-base"
    assert page.error_label.isHidden()  # a note that passes were slow goes once the text is final
    snapshot(window, "journey-live-finished")
    window.close()


def test_a_file_transcribed_live_from_the_audio_menu(qtbot, journey_window, monkeypatch, tmp_path, whisper_base,
                                                     cajal):
    """Audio ▸ Transcribe a file live…: the file plays through the microphone's path in real time, the text
    comes while it plays, recording stops by itself at its end, and the result is the file's transcript."""
    from PySide6.QtWidgets import QFileDialog

    window, page = journey_window, journey_window.transcribe_page
    (clip, reference) = cajal[2]
    choose_model(page.model_picker, whisper_base)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(clip), ""))
    window.live_file_action.trigger()
    assert page.recorder.is_recording and page.record_bar.live_check.isChecked()
    assert page.record_button.isChecked() and page.record_button.isEnabled()  # "■ Stop" works, microphone or not
    wait_until(qtbot, lambda: len(page.transcript_view.words) >= 3, 60, "words while the file plays")
    assert page.recorder.is_recording
    with qtbot.waitSignal(page.transcription_finished, timeout=120000):
        pass  # no click: recording stops by itself at the file's end
    assert not page.recorder.is_recording and not page.record_button.isChecked()
    # back as it was, after a second in which a late Stop click cannot start a new recording
    wait_until(qtbot, lambda: page.record_button.isEnabled() == page.recording_available, 3, "Record as before")
    snapshot(window, "journey-live-file-from-menu")
    assert error_rates([reference], [page.result.transcript.text]).cer < 0.1, page.result.transcript.text
    assert page.audio_path.name.startswith(clip.stem + "-live-")
    assert len(load_audio(page.audio_path, 16000)) == len(load_audio(clip, 16000))
