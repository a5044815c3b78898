"""The main window and its Transcribe page, driven like a user would, with the real engine process."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

from app import audio_io
from app.main_window import MainWindow, about_text
from engine.audio import load_audio, save_wav
from tests.app.conftest import new_window
from tests.app.media import ARTIFACTS
from tests.app.test_audio_io import FakeInputStream, FakeOutputStream
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech


@pytest.fixture
def window(qtbot, engine, tmp_path):
    return new_window(qtbot, engine, tmp_path)


def screenshot(widget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def sentence_wav(tmp_path):
    path = tmp_path / "señor núñez.wav"
    save_wav(path, tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    return path


def test_window_has_pages_menus_and_shortcuts(window):
    page_names = [window.page_list.item(i).text() for i in range(window.page_list.count())]
    assert page_names[0] == "Transcribe"
    shortcuts = {a.shortcut().toString() for a in (window.open_action, window.record_action, window.play_action,
                                                   window.export_action, window.live_file_action)}
    assert shortcuts == {"Ctrl+O", "Ctrl+R", "Space", "Ctrl+E", "Ctrl+Shift+R"}
    assert window.device_label.text() == "CPU (test)"
    assert "PyTorch" in about_text() and "Qt" in about_text()


def test_opening_a_file_fills_waveform_and_spectrogram(window, qtbot, sentence_wav):
    page = window.transcribe_page
    assert page.load_audio_file(sentence_wav)
    n = len(load_audio(sentence_wav))
    x, _ = page.audio_view.waveform_curve.getData()
    assert x[0] >= 0 and x[-1] == pytest.approx(n / SR, abs=0.02)
    qtbot.waitUntil(lambda: page.audio_view.spectrogram is not None, timeout=10000)
    spec = page.audio_view.spectrogram
    assert spec.image.shape[0] == 80  # mel bins
    assert spec.end == pytest.approx(n / SR, abs=0.02)
    assert sentence_wav.name in page.file_label.text()
    assert str(sentence_wav) in page.recent_files()
    assert [a.text() for a in window.recent_menu.actions()] == [str(sentence_wav)]


@pytest.mark.parametrize("content", [b"", b"esto no es audio" * 100])
def test_a_bad_file_shows_an_error_and_the_window_stays_usable(window, tmp_path, sentence_wav, content):
    bad = tmp_path / "roto.flac"
    bad.write_bytes(content)
    page = window.transcribe_page
    assert not page.load_audio_file(bad)
    assert page.error_label.isVisible() and "roto.flac" in page.error_label.text()
    assert page.load_audio_file(sentence_wav)
    assert not page.error_label.isVisible()


def test_transcribing_through_the_engine_shows_text_and_a_growing_heatmap(window, qtbot, saved_model_dir,
                                                                            sentence_wav, tmp_path):
    page = window.transcribe_page
    page.load_audio_file(sentence_wav)
    page.set_model_path(saved_model_dir)
    assert page.transcribe_button.isEnabled()
    partials = []
    page.engine.partial_transcript.connect(lambda job, e: partials.append(e.text))
    with qtbot.waitSignal(page.transcription_finished, timeout=60000) as finished:
        page.transcribe_button.click()
    transcript = finished.args[0]
    assert transcript.text == OVERFIT_TEXTS[1]
    assert page.transcript_view.plain_text() == OVERFIT_TEXTS[1]
    assert len(partials) >= 2 and partials[-1] == OVERFIT_TEXTS[1]
    qtbot.waitUntil(lambda: page.attention_view.matrix(0, None).shape[0] >= len(OVERFIT_TEXTS[1]), timeout=5000)
    heat = page.attention_view.matrix(0, None)
    n_frames = ((len(load_audio(sentence_wav)) // 160 + 1 - 1) // 2 - 1) // 2
    assert heat.shape == (len(OVERFIT_TEXTS[1]) + 1, n_frames)  # one row per token and one for <eos>
    assert np.allclose(heat.sum(axis=1), 1.0, atol=0.02)
    assert page.self_attention_view.matrix(0, None).shape == (n_frames, n_frames)
    screenshot(window, "transcribe-window")
    # export: SRT and VTT parse and their times increase
    for fmt in ("srt", "vtt"):
        out = tmp_path / f"salida.{fmt}"
        assert page.export(out)
        text = out.read_text(encoding="utf-8")
        times = re.findall(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)", text)
        seconds = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in times]
        assert seconds and seconds == sorted(seconds)
        assert "Núñez" in text
    assert page.export_button.isEnabled()


def test_a_transcription_error_is_shown_and_the_page_recovers(window, qtbot, tmp_path, sentence_wav):
    page = window.transcribe_page
    page.load_audio_file(sentence_wav)
    not_a_model = tmp_path / "modelo-falso"
    not_a_model.mkdir()
    page.set_model_path(not_a_model)
    with qtbot.waitSignal(page.transcription_failed, timeout=30000) as failed:
        page.transcribe()
    assert "modelo-falso" in failed.args[0]
    assert page.error_label.isVisible()
    assert not page.cancel_button.isEnabled()


def test_missing_portaudio_disables_recording_with_the_reason(qtbot, engine, monkeypatch, tmp_path):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(audio_io, "_sounddevice", no_portaudio)
    w = MainWindow(device_text="CPU", engine=engine, recordings_folder=tmp_path)
    qtbot.addWidget(w)
    page = w.transcribe_page
    assert not page.record_button.isEnabled()
    assert "PortAudio library not found" in page.record_button.toolTip()
    assert "libportaudio2" in page.record_button.toolTip()
    assert page.open_button.isEnabled()
    # Ctrl+R does not do nothing: it says why, on the page and in the status bar
    w.record_action.trigger()
    assert not page.recorder.is_recording
    assert "PortAudio library not found" in page.error_label.text() and not page.error_label.isHidden()
    assert "PortAudio library not found" in w.statusBar().currentMessage()


def test_recording_through_a_fake_microphone_is_saved_and_loaded(qtbot, engine, monkeypatch, tmp_path):
    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "Micrófono de prueba", "max_input_channels": 1, "max_output_channels": 2}],
    )
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake_sd)
    voice = tone_speech("hola", seed=3)
    monkeypatch.setattr(audio_io, "_input_stream_factory", lambda **kw: FakeInputStream(voice, **kw))
    monkeypatch.setattr(audio_io, "_output_stream_factory", lambda **kw: FakeOutputStream(**kw))
    w = MainWindow(device_text="CPU", engine=engine, recordings_folder=tmp_path / "grab")
    qtbot.addWidget(w)
    page = w.transcribe_page
    assert page.record_button.isEnabled() and page.device_combo.currentText() == "Micrófono de prueba"
    page.record_button.click()
    assert page.recorder.is_recording
    qtbot.waitUntil(lambda: page.recorder.frames_captured >= len(voice), timeout=10000)
    qtbot.waitUntil(lambda: page.audio_view.duration > 0, timeout=3000)  # the live view scrolls along
    with qtbot.waitSignal(page.audio_loaded, timeout=5000) as loaded:
        page.record_button.click()
    path = loaded.args[0]
    assert path.startswith(str(tmp_path / "grab"))
    back = load_audio(path)
    assert len(back) == len(voice)
    assert np.abs(back - voice).max() < 1e-3  # 16-bit PCM
    page.toggle_playback()
    qtbot.waitUntil(lambda: page.player.state in ("playing", "stopped"), timeout=3000)


def test_a_late_stop_click_after_a_file_played_live_ends_starts_no_new_recording(qtbot, engine, monkeypatch,
                                                                                tmp_path):
    """A file played as if live stops by itself at its end; the person's Stop click, a moment late, lands on
    "● Record": for a second that starts nothing, then Record works as before."""
    from app.record_bar import STOPPED_BY_ITSELF_GRACE_MS
    from engine.live.capture import FileInputStream

    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "Micrófono de prueba", "max_input_channels": 1, "max_output_channels": 2}],
    )
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake_sd)
    microphone = tone_speech("hola", seed=3)
    monkeypatch.setattr(audio_io, "_input_stream_factory", lambda **kw: FakeInputStream(microphone, **kw))
    w = MainWindow(device_text="CPU", engine=engine, recordings_folder=tmp_path / "grab")
    qtbot.addWidget(w)
    bar, button = w.transcribe_page.record_bar, w.transcribe_page.record_button
    played = tone_speech("sí", seed=4)
    with qtbot.waitSignal(bar.recorder.stopped, timeout=10000):
        bar.record_from(lambda **kw: FileInputStream(played, speed=20.0, **kw), tmp_path / "en-vivo.wav")
        assert bar.recorder.is_recording and button.isChecked()
    assert not button.isChecked() and not button.isEnabled()
    button.click()  # the Stop meant for the file, arriving late
    assert not bar.recorder.is_recording and not button.isChecked()
    qtbot.waitUntil(button.isEnabled, timeout=STOPPED_BY_ITSELF_GRACE_MS + 3000)
    button.click()  # now a deliberate Record: the microphone
    assert bar.recorder.is_recording and button.isChecked()
    button.click()
    assert not bar.recorder.is_recording and button.isEnabled()  # a Stop click: Record at once


def test_window_state_is_remembered(qtbot, engine, tmp_path):
    first = MainWindow(device_text="CPU", engine=engine, recordings_folder=tmp_path)
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 700)  # the offscreen screen is 800 x 800; a restored window is kept on screen
    qtbot.wait(50)
    size = (first.width(), first.height())
    first.close()
    second = MainWindow(device_text="CPU", engine=engine, recordings_folder=tmp_path)
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == size
    assert size[1] == 700
    assert engine.alive  # a window that did not start the engine does not stop it


def test_a_new_window_fits_the_screen_it_opens_on(qtbot, engine, tmp_path):
    # Opened with the default 1200 x 800 on a 768-pixel-high laptop, the status bar was below the screen.
    from app.main_window import MainWindow

    window = MainWindow(device_text="CPU (test)", engine=engine, recordings_folder=tmp_path / "grabaciones")
    qtbot.addWidget(window)
    free = window.screen().availableGeometry()
    assert window.height() <= free.height() - 40
    assert window.width() <= max(free.width(), window.minimumSizeHint().width())
