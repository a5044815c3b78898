"""Journeys in Spanish and on a small screen (issue 17, defects 7 and 8).

A person who chose Spanish opens a damaged recording and a model folder that broke: what the window says
must be Spanish and name the file, although the engine process that found the problem speaks English (its
errors cross as codes with params). And on a 1366 x 768 laptop, with a real dataset in the Data page (one
speaker id of 128 characters, as Common Voice has) and a real evaluation in Evaluate, every page of the
window must fit the screen: the status bar on screen, WER and CER in view.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app import i18n
from engine.audio import audio_info
from tests.journeys.conftest import SCREEN, copy_to, snapshot, wait_until

# The window's minimum size must leave room for a taskbar on a 1366 x 768 screen.
MAX_MINIMUM = (1340, 700)
LONG_SPEAKER = "c0ffee" + "9" * 122  # Common Voice's speaker ids are 128 hex digits


@pytest.fixture
def window_in(qapp, qtbot, journey_engine, tmp_path):
    """``window_in("es")``: the real main window on the real engine, in that language, at 1366 x 768."""
    from app.main_window import MainWindow

    made = []

    def make(language: str):
        assert i18n.install_translator(qapp, language) == language  # before any widget: they translate when built
        window = MainWindow(device_text=None, engine=journey_engine, recordings_folder=tmp_path / "grabaciones")
        qtbot.addWidget(window)
        window.resize(*SCREEN)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
    i18n.remove_translators(qapp)


def choose_model_folder(picker, monkeypatch, folder: Path) -> None:
    """The model list's "Browse for a model folder…", the folder dialog answering ``folder``."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    browse = picker.count() - 1  # the last entry
    picker.setCurrentIndex(browse)
    picker.activated.emit(browse)
    assert picker.current_path() == str(folder)


def open_audio(window, monkeypatch, path: Path) -> None:
    """File ▸ Open audio… (Ctrl+O), the file dialog answering ``path``."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_action.trigger()


def transcribe_expecting_failure(qtbot, page) -> str:
    assert page.transcribe_button.isEnabled(), page.error_label.text()
    with qtbot.waitSignal(page.transcription_failed, timeout=60_000) as failed:
        page.transcribe_button.click()
    assert page.error_label.isVisible() and page.error_label.text() == failed.args[0]
    return failed.args[0]


def test_a_spanish_speaker_reads_every_problem_in_spanish(window_in, qtbot, monkeypatch, tmp_path, demo_model,
                                                          cajal):
    window = window_in("es")
    page = window.transcribe_page
    # The status bar names the device in Spanish (the engine sends facts, the window words them).
    wait_until(qtbot, lambda: "hilo" in window.device_label.text(), 30, "the device in the status bar")
    assert re.fullmatch(r"CPU \(\d+ hilos?\)", window.device_label.text()), window.device_label.text()
    assert window.engine_label.text().startswith("Motor")

    # A recording cut off in a copy: not audio at all.
    audio = tmp_path / "audio"
    audio.mkdir()
    broken = audio / "entrevista dañada.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    open_audio(window, monkeypatch, broken)
    message = page.error_label.text()
    assert page.error_label.isVisible() and broken.name in message
    assert "No se puede leer" in message and "como audio" in message, message
    # An empty file, as a failed download leaves.
    empty = audio / "vacía.wav"
    empty.write_bytes(b"")
    open_audio(window, monkeypatch, empty)
    assert empty.name in page.error_label.text() and "está vacío" in page.error_label.text()

    # A real clip, and a model folder chosen with Browse… whose weights were cut short on the way: the
    # engine process finds it, the window says it in Spanish.
    open_audio(window, monkeypatch, copy_to(cajal[0][0], audio, "cajal.wav"))
    assert not page.error_label.isVisible()
    model = tmp_path / "modelos" / "mi-modelo"
    shutil.copytree(demo_model, model)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])
    choose_model_folder(page.model_picker, monkeypatch, model)
    message = transcribe_expecting_failure(qtbot, page)
    assert "model.safetensors" in message and "no se pueden leer los pesos del modelo" in message, message
    # The folder is then deleted: it stays chosen, and the next run says it is gone.
    shutil.rmtree(model)
    message = transcribe_expecting_failure(qtbot, page)
    assert message == f"{model}: no existe esa carpeta de modelo", message
    for english in ("not found", "cannot", "no such", "weights"):
        assert english not in message.replace("model.safetensors", "")
    snapshot(window, "journey-spanish-errors")


# ---- a 1366 x 768 screen ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cajal_manifest(tmp_path_factory, cajal) -> Path:
    """Ten real cajal-es clips, women and men, one speaker id of 128 characters."""
    folder = tmp_path_factory.mktemp("cajal-manifest")
    lines = []
    for i, (wav, text) in enumerate(cajal[:10]):
        speaker = LONG_SPEAKER if i == 0 else f"cajal-{i % 3}"
        lines.append(json.dumps({"id": f"cajal-{i:02d}-{wav.stem}", "audio": str(wav), "text": text,
                                 "duration": audio_info(wav).duration, "speaker": speaker,
                                 "gender": "female" if i % 2 else "male"}, ensure_ascii=False))
    path = folder / "cajal-10.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pages_and_tabs(window):
    """(name, select) for every page, and every tab of pages with tabs."""
    for row in range(window.pages.count()):
        page = window.pages.widget(row)
        tabs = getattr(page, "tabs", None)
        for tab in range(tabs.count() if tabs is not None else 1):
            def select(row=row, tabs=tabs, tab=tab):
                window.page_list.setCurrentRow(row)
                if tabs is not None:
                    tabs.setCurrentIndex(tab)
            name = window.page_list.item(row).text() + (f" ▸ {tabs.tabText(tab)}" if tabs is not None else "")
            yield name, select


def slug(name: str) -> str:
    """"Datos ▸ Comparación de voces" -> "datos-comparacion-de-voces" (a file name)."""
    ascii_name = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")


def column_in_view(table, column: int) -> bool:
    """Whether ``column`` of ``table`` is wholly visible without scrolling sideways."""
    left = table.columnViewportPosition(column)
    return left >= 0 and left + table.columnWidth(column) <= table.viewport().width()


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_page_fits_a_1366_by_768_screen(window_in, qtbot, monkeypatch, cajal_manifest, demo_model, language):
    window = window_in(language)
    # The dataset in the Data page (Open manifest…), every tab looked at, Voice comparison measuring.
    data = window.data_page
    window.page_list.setCurrentRow(window.pages.indexOf(data))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(cajal_manifest), ""))
    data.open_button.click()
    assert len(data.utterances) == 10
    # A real evaluation of the same clips (demo-es, greedy: the point is the table, not the accuracy).
    evaluate = window.evaluate_page
    window.page_list.setCurrentRow(window.pages.indexOf(evaluate))
    evaluate.set_model_path(demo_model)
    evaluate.set_manifest(cajal_manifest)
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=180_000):
        evaluate.evaluate_button.click()
    assert evaluate.rows_table.rowCount() == 10

    screen_w, screen_h = SCREEN
    compare = data.voice_compare
    for name, select in pages_and_tabs(window):
        select()
        qtbot.wait(300 if "▸" in name else 50)  # a tab's first showing starts its work (voices are measured)
        hint = window.minimumSizeHint()
        assert hint.width() <= MAX_MINIMUM[0] and hint.height() <= MAX_MINIMUM[1], \
            f"{language} {name}: the window needs at least {hint.width()} x {hint.height()}"
        assert (window.width(), window.height()) == SCREEN, f"{language} {name}: the window grew"
        bar = window.statusBar()
        bottom_right = bar.mapTo(window, bar.rect().bottomRight())
        assert bar.isVisible() and bottom_right.x() < screen_w and bottom_right.y() < screen_h, name
        assert window.device_label.isVisible() and window.engine_label.isVisible()
        if window.data_page.tabs.currentWidget() is compare and compare.isVisible():
            wait_until(qtbot, lambda: not compare.progress.isVisible(), 60, "the voices to be measured")
        snapshot(window, f"small-screen-{language}-{slug(name)}")

    # WER and CER in view in the table of utterances and in the table of speakers, the long id elided.
    window.page_list.setCurrentRow(window.pages.indexOf(evaluate))
    qtbot.wait(50)
    from app.pages.evaluate_page import ROW_COLUMNS

    rows = evaluate.rows_table
    for column in (ROW_COLUMNS.index("WER %"), ROW_COLUMNS.index("CER %")):
        assert column_in_view(rows, column), f"{rows.horizontalHeaderItem(column).text()} is off-screen"
    for column in (2, 3):  # speaker, utterances, WER %, CER %, words
        assert column_in_view(evaluate.speaker_table, column)
    long_rows = [r for r in range(rows.rowCount()) if rows.item(r, 1).text() == LONG_SPEAKER]
    assert long_rows and rows.item(long_rows[0], 1).toolTip() == LONG_SPEAKER  # the whole id on hover
    assert rows.columnWidth(1) < rows.fontMetrics().horizontalAdvance(LONG_SPEAKER)  # shown elided
