"""The main window and the Transcribe page, driven through their real widgets."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import soundfile as sf
import torch
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFileDialog

from app.main_window import MainWindow
from app.transcribe_worker import ENGINE_MISSING_MESSAGE

SAMPLE_RATE = 16_000


@pytest.fixture
def window(qtbot, monkeypatch):
    # The tests describe a CPU machine even where a GPU is present.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


@pytest.fixture
def tone_wav(tmp_path):
    """A 1.5 s, 440 Hz tone at half scale, written at 22.05 kHz so loading resamples it."""
    rate = 22_050
    t = np.arange(int(1.5 * rate)) / rate
    path = tmp_path / "tono_señal.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


def test_window_opens_on_the_transcribe_page(window):
    assert window.windowTitle() == "Parcero"
    assert window.page_list.item(0).text() == "Transcribe"
    assert window.pages.currentWidget() is window.transcribe_page
    for row in range(1, window.page_list.count()):  # planned pages are shown, not usable
        item = window.page_list.item(row)
        assert not item.flags() & Qt.ItemFlag.ItemIsEnabled
        assert item.toolTip() == "Coming soon"
    assert "CPU" in window.device_label.text()
    assert window.device_label.isVisible()
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"


def test_about_names_the_versions(window):
    from PySide6.QtCore import qVersion

    import engine
    from app.main_window import about_text

    text = about_text()
    for version in (engine.__version__, torch.__version__, qVersion()):
        assert version in text
    assert "CPU" in text


def test_loading_a_wav_draws_its_waveform(window, tone_wav):
    page = window.transcribe_page
    assert page.load_audio_file(tone_wav)

    x, y = page.waveform_curve.getData()
    assert x is not None and len(x) > 100
    duration = 1.5
    assert x[0] == pytest.approx(0.0)
    assert x[-1] == pytest.approx(duration, abs=2 / SAMPLE_RATE)
    assert y.max() == pytest.approx(0.5, abs=0.02)
    assert y.min() == pytest.approx(-0.5, abs=0.02)
    (x0, x1), _ = page.plot_widget.getViewBox().viewRange()
    assert x0 <= 0.0 and x1 >= duration - 1 / SAMPLE_RATE
    assert "tono_señal.wav" in page.file_label.text()
    assert not page.error_label.isVisible()


def test_zooming_in_redraws_the_visible_part_in_detail(window, qtbot, tone_wav):
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    page.plot_widget.getViewBox().setXRange(0.5, 0.51, padding=0)

    def redrawn():
        x, _ = page.waveform_curve.getData()
        assert x[0] >= 0.49 and x[-1] <= 0.52

    qtbot.waitUntil(redrawn, timeout=2000)


@pytest.mark.parametrize(
    "name, content",
    [("vacío.wav", b""), ("notas.flac", "esto no es audio, ¿verdad?\n".encode())],
)
def test_a_bad_file_shows_an_inline_error_and_the_window_stays_usable(
    window, tmp_path, tone_wav, name, content
):
    page = window.transcribe_page
    bad = tmp_path / name
    bad.write_bytes(content)

    assert not page.load_audio_file(bad)
    assert page.error_label.isVisible()
    assert name in page.error_label.text()
    assert page.audio_path is None

    assert page.load_audio_file(tone_wav)
    assert not page.error_label.isVisible()
    assert page.audio_path == tone_wav


def test_a_bad_file_keeps_the_audio_already_shown(window, tmp_path, tone_wav):
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    bad = tmp_path / "roto.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    assert not page.load_audio_file(bad)
    assert page.audio_path == tone_wav
    assert len(page.waveform_curve.getData()[0]) > 100


def test_open_audio_action_loads_the_chosen_file(window, monkeypatch, tone_wav):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(tone_wav), ""))
    window.open_action.trigger()
    assert window.transcribe_page.audio_path == tone_wav


def test_geometry_is_restored_in_the_next_window(qtbot, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    # Smaller than the offscreen screen (800x600): restoreGeometry clamps to the screen.
    first.resize(QSize(712, 457))
    qtbot.waitUntil(lambda: first.size() == QSize(712, 457))
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.size() == QSize(712, 457)
    second.close()


def _fake_engine(monkeypatch, transcribe_file):
    io = types.ModuleType("engine.models.io")
    io.load_model = lambda path, device="cpu": ("modelo", str(path), device)
    transcribe = types.ModuleType("engine.transcribe")
    transcribe.transcribe_file = transcribe_file
    monkeypatch.setitem(sys.modules, "engine.models.io", io)
    monkeypatch.setitem(sys.modules, "engine.transcribe", transcribe)


def test_transcribe_shows_the_transcript(window, qtbot, monkeypatch, tmp_path, tone_wav):
    calls = []

    def transcribe_file(model, path):
        calls.append((model, path))
        return types.SimpleNamespace(text="¿Qué tal, señor Ramón y Cajal?")

    _fake_engine(monkeypatch, transcribe_file)
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    page.set_model_path(tmp_path)
    assert page.transcribe_button.isEnabled()

    with qtbot.waitSignal(page.transcription_finished, timeout=10_000):
        page.transcribe_button.click()
    assert page.transcript_edit.toPlainText() == "¿Qué tal, señor Ramón y Cajal?"
    assert calls == [(("modelo", str(tmp_path), "cpu"), tone_wav)]
    assert page.transcribe_button.isEnabled()
    assert not page.error_label.isVisible()


def test_transcribe_failure_is_shown_inline(window, qtbot, monkeypatch, tmp_path, tone_wav):
    from engine.errors import ModelFileError

    def transcribe_file(model, path):
        raise ModelFileError(tmp_path / "vocab.json", "file is missing")

    _fake_engine(monkeypatch, transcribe_file)
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    page.set_model_path(tmp_path)
    with qtbot.waitSignal(page.transcription_failed, timeout=10_000):
        page.transcribe_button.click()
    assert "vocab.json: file is missing" in page.error_label.text()
    assert page.error_label.isVisible()
    assert page.transcribe_button.isEnabled()


def test_missing_engine_says_so(window, qtbot, monkeypatch, tmp_path, tone_wav):
    monkeypatch.setitem(sys.modules, "engine.transcribe", None)  # import fails as if absent
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    page.set_model_path(tmp_path)
    with qtbot.waitSignal(page.transcription_failed, timeout=30_000):
        page.transcribe_button.click()
    assert page.error_label.text() == ENGINE_MISSING_MESSAGE


def test_missing_model_folder_is_reported(window, tmp_path, tone_wav):
    page = window.transcribe_page
    page.load_audio_file(tone_wav)
    page.set_model_path(tmp_path / "no-existe")
    page.transcribe_button.click()
    assert "no-existe: model folder not found" in page.error_label.text()
    assert not page.is_transcribing()


@pytest.mark.slow
def test_transcribe_with_the_real_engine(window, qtbot, saved_model_dir, tmp_path):
    from engine.audio import save_wav
    from tests.conftest import OVERFIT_TEXTS
    from tests.helpers import tone_speech

    text = OVERFIT_TEXTS[1]  # "señor Núñez", as tones the tiny model learnt
    path = tmp_path / "señor Núñez.wav"
    save_wav(path, tone_speech(text, seed=1), SAMPLE_RATE)
    page = window.transcribe_page
    assert page.load_audio_file(path)
    page.set_model_path(saved_model_dir)
    with qtbot.waitSignal(page.transcription_finished, timeout=60_000):
        page.transcribe_button.click()
    assert page.transcript_edit.toPlainText() == text
