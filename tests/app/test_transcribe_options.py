"""The Transcribe page's options row (app.transcribe_options): remembered choices, Whisper-only choices, and
a prompt box whose placeholder can be read on a 1366 x 768 screen, in English and in Spanish."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QPushButton, QStyle, QStyleOptionFrame, QWidget

from app import i18n
from app.settings_dialog import load_settings
from app.transcribe_options import TranscribeOptions
from tests.app.conftest import new_window

LINE_EDIT_MARGIN = 2  # pixels QLineEdit keeps between its contents rectangle and its text, on either side


@pytest.fixture
def page(qtbot):
    widget = QWidget()  # stands for the page: the parent of the options and of "More options…"
    qtbot.addWidget(widget)
    return widget


def test_the_choices_are_remembered_and_the_beam_is_the_settings_one(page, whisper_dir):
    options = TranscribeOptions(QSettings(), 5, page)
    assert options.beam_spin.value() == 5
    options.model_picker.set_model_path(whisper_dir)
    options.beam_spin.setValue(3)
    options.language_combo.setCurrentIndex(options.language_combo.findData("auto"))
    options.task_combo.setCurrentIndex(options.task_combo.findData("translate"))
    options.prompt_edit.setText("Núñez, Ramón y Cajal")
    assert load_settings(QSettings()).beam_size == 3  # the settings dialog's beam, the same key

    again = TranscribeOptions(QSettings(), load_settings(QSettings()).beam_size, page)  # the next session
    again.model_picker.set_model_path(whisper_dir)
    assert again.whisper and again.translating()
    chosen = again.decode_options()
    assert (chosen.beam_size, chosen.language, chosen.task, chosen.initial_prompt) == (
        3, None, "translate", "Núñez, Ramón y Cajal")  # "auto": detected, so no language is sent
    assert again.recorded_settings(chosen)["language"] == "auto"


def test_a_speech_transformer_is_offered_no_language_task_or_prompt(page, whisper_dir, demo_dir):
    options = TranscribeOptions(QSettings(), 1, page)
    options.model_picker.set_model_path(whisper_dir)
    options.task_combo.setCurrentIndex(options.task_combo.findData("translate"))
    options.prompt_edit.setText("el pingüino")
    options.update_choices()
    assert options.language_combo.isEnabled() and not options.prompt_edit.isHidden()
    options.model_picker.set_model_path(demo_dir)
    options.update_choices()
    assert not options.language_combo.isEnabled() and not options.task_combo.isEnabled()
    assert options.prompt_edit.isHidden() and options.prompt_edit.text() == "el pingüino"  # kept, not sent
    assert not options.translating() and options.decode_options().initial_prompt is None
    assert "one language" in options.language_combo.toolTip()


def test_the_row_shows_the_choices_then_the_pages_actions(page):
    options = TranscribeOptions(QSettings(), 1, page)
    go, stop = QPushButton("go"), QPushButton("stop")  # notr: stand-ins for Transcribe and Cancel
    row = options.row(go, stop)
    widgets = [row.itemAt(i).widget() for i in range(row.count())]
    assert widgets[1:] == [options.model_picker, options.language_combo, options.task_combo, options.prompt_edit,
                           options.beam_spin, options.options_button, options.selection_check, go, stop, None]
    assert [row.stretch(i) for i in range(row.count())] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("choice", ["en", "es"])
def test_the_prompt_placeholder_is_whole_on_a_1366_by_768_screen(qapp, qtbot, engine, whisper_dir, tmp_path, choice):
    assert i18n.install_translator(qapp, choice) == choice  # before the window: widgets translate when built
    try:
        window = new_window(qtbot, engine, tmp_path)
        window.resize(1366, 768)
        page = window.transcribe_page
        page.set_model_path(whisper_dir)  # a Whisper: the prompt box is shown
        edit = page.prompt_edit
        qtbot.waitUntil(lambda: edit.isVisible() and window.width() == 1366)
        qapp.processEvents()
        frame = QStyleOptionFrame()
        edit.initStyleOption(frame)
        contents = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, frame, edit)
        room = contents.width() - 2 * LINE_EDIT_MARGIN
        needed = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        assert needed <= room, f"{edit.placeholderText()!r} needs {needed} px, the box shows {room}"
        assert "Whisper" in edit.toolTip()  # the explanation the placeholder no longer holds
        window.close()
    finally:
        i18n.remove_translators(qapp)
