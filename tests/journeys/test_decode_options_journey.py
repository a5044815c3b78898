"""Journey: a person sets Whisper's options in "More options…" and exports subtitles shaped by them.

Issue 20: the options faster-whisper and openai-whisper users expect (and ``parcero transcribe`` has),
in the window. The real window on a 1366 x 768 screen, the real engine process, Whisper base and a real
Spanish clip: word timestamps off and subtitle lines of at most 20 characters; the SRT on disk obeys.
"""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from tests.journeys.conftest import ARTIFACTS, SCREEN, choose_model, copy_to, open_with_dialog, snapshot, transcribe
from tests.journeys.test_spanish_small_screen_journeys import MAX_MINIMUM


def snapshot_with_dialog(window, dialog, name: str):
    """The window's pixels with the dialog drawn where it stands over it (a dialog is a window of its own)."""
    picture = window.grab()
    painter = QPainter(picture)
    where = dialog.geometry().translated(-window.geometry().topLeft())
    painter.drawPixmap(where.topLeft(), dialog.grab())
    painter.setPen(window.palette().dark().color())  # the offscreen platform draws no window frame
    painter.drawRect(where.adjusted(-1, -1, 0, 0))
    painter.end()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert picture.save(str(path))
    return path


def subtitle_lines(srt: str) -> list[str]:
    """The text lines of an SRT file: neither cue numbers, nor times, nor the blank lines between cues."""
    return [line for block in srt.strip().split("\n\n") for line in block.splitlines()[2:]]


def test_whisper_options_shape_what_is_transcribed_and_exported(journey_window, qtbot, monkeypatch, tmp_path,
                                                                whisper_base, cajal):
    window, page = journey_window, journey_window.transcribe_page
    choose_model(page.model_picker, whisper_base)
    clip, reference = next((p, t) for p, t in cajal if len(t) > 100)  # a long sentence: several subtitles
    clip = copy_to(clip, tmp_path / "audio", "conferencia.wav")
    open_with_dialog(window, monkeypatch, clip)

    # "More options…" fits the row on a 1366 x 768 screen, Whisper's prompt shown as well
    assert page.options_button.isVisible() and page.prompt_edit.isVisible()
    assert window.minimumSizeHint().width() <= MAX_MINIMUM[0] and (window.width(), window.height()) == SCREEN
    qtbot.mouseClick(page.options_button, Qt.MouseButton.LeftButton)
    dialog = page.options_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert all(w.isEnabled() for w in (dialog.word_times_check, dialog.batch_spin, dialog.vad_combo))
    qtbot.mouseClick(dialog.word_times_check, Qt.MouseButton.LeftButton)  # off: faster, segment times
    dialog.line_width_spin.selectAll()
    qtbot.keyClicks(dialog.line_width_spin, "20")
    assert not dialog.word_times_check.isChecked() and dialog.line_width_spin.value() == 20
    qtbot.wait(100)
    assert dialog.height() <= SCREEN[1] - 60 and dialog.width() <= SCREEN[0] // 2  # room around it
    snapshot_with_dialog(window, dialog, "journey-decode-options-open")
    snapshot(dialog, "decode-options-dialog")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Close), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    transcript = transcribe(qtbot, page)
    assert not page.error_label.isVisible(), page.error_label.text()
    assert len(transcript.text) > 60 and "talento" in transcript.text.lower(), (reference, transcript.text)
    assert transcript.words == []  # word timestamps off reached the engine: Whisper timed no word
    # What the person reads is the finished text, in the normal colour (not grey, "still decoding"), and
    # its words still seek playback, spread over the time of the stretch they came from.
    view = page.transcript_view
    assert view.partial == "" and [w for w, _, _ in view.words] == transcript.text.split()
    assert all(0 <= s <= e <= transcript.duration + 0.01 for _, s, e in view.words) and view.words[-1][2] > 1.0

    out = tmp_path / "conferencia-subtitulos.srt"
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or (str(out), ""))
    window.export_action.trigger()  # Ctrl+E
    assert asked and out.is_file()
    srt = out.read_text(encoding="utf-8")
    lines = subtitle_lines(srt)
    assert lines and max(len(line) for line in lines) <= 20, srt
    assert " ".join(lines).split() == transcript.text.split()  # every word, whole, in order
    assert len(re.findall(r"-->", srt)) == len(lines) >= 5  # one line a cue (the default), many cues

    record = tmp_path / "conferencia.json"
    assert page.export(record)
    settings = json.loads(record.read_text(encoding="utf-8"))["settings"]
    assert settings["word_timestamps"] is False and settings["temperature"] == 0.0

    # the next start finds the same choices
    assert page.settings.value("transcribe/max_line_width") in (20, "20")
    snapshot(window, "journey-decode-options-exported")


@pytest.fixture(autouse=True)
def _close_the_dialog(journey_window):
    yield
    journey_window.transcribe_page.options_dialog.close()
