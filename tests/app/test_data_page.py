"""The Data page against real widgets and the real engine importers, on tiny corpora built in tmp_path.

The sound card is faked as in test_audio_io; everything past the output stream is real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.pages.data_page import DataPage
from engine.audio import save_wav
from engine.data.manifest import Utterance, read_manifest, write_manifest
from tests.app.media import ARTIFACTS, SR, speech_like
from tests.app.test_audio_io import fake_output  # noqa: F401 (a fixture)

GOOD = {
    "good-001": ("El niño come ñoquis.", 1.0),
    "good-002": ("¿Qué tal, señor Núñez?", 1.5),
    "good-003": ("Hola a todos.", 2.0),
}


@pytest.fixture
def page(qtbot):
    page = DataPage()
    qtbot.addWidget(page)
    page.resize(1200, 800)
    yield page
    page.shutdown()


def screenshot(widget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(ARTIFACTS / name))


def broken_ljspeech(root: Path) -> Path:
    """An LJSpeech folder with three good clips and one of each fault an import must report."""
    wavs = root / "wavs"
    wavs.mkdir(parents=True)
    for i, (uid, (_, seconds)) in enumerate(GOOD.items()):
        save_wav(wavs / f"{uid}.wav", speech_like(seconds, seed=i), SR)
    (wavs / "corrupt.wav").write_bytes(np.random.default_rng(0).bytes(3000))
    save_wav(wavs / "silent.wav", np.zeros(SR, np.float32), SR)
    save_wav(wavs / "empty.wav", speech_like(1.0, seed=7), SR)
    save_wav(wavs / "orphan.wav", speech_like(1.0, seed=8), SR)
    lines = [f"{uid}|{text}" for uid, (text, _) in GOOD.items()]
    lines += ["missing|Este audio no existe.", "corrupt|Un archivo roto.", "empty|   ", "silent|Silencio total."]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def gendered_manifest(folder: Path) -> Path:
    """Six clips by three speakers, one of them a segment of a longer file; returns the manifest."""
    (folder / "wavs").mkdir(parents=True)
    rows = [  # id, speaker, gender, seconds, text
        ("a1", "ana", "female", 0.6, "Buenos días"), ("a2", "ana", "female", 1.8, "El año que viene"),
        ("b1", "bruno", "male", 1.2, "Señor Núñez"), ("b2", "bruno", "male", 2.4, "La montaña"),
        ("c1", "carla", "", 0.9, "Hola, ¿qué tal?"),
    ]
    items = []
    for i, (uid, speaker, gender, seconds, text) in enumerate(rows):
        save_wav(folder / "wavs" / f"{uid}.wav", speech_like(seconds, seed=i), SR)
        items.append(Utterance(uid, f"wavs/{uid}.wav", seconds, text, speaker, gender, SR))
    save_wav(folder / "wavs" / "long.wav", speech_like(4.0, seed=9), SR)
    items.append(Utterance("c2", "wavs/long.wav", 1.5, "El pingüino", "carla", "", SR, offset=2.0, end=3.5))
    path = folder / "set.jsonl"
    write_manifest(path, items)
    return path


def test_import_wizard_lists_every_planted_fault_and_writes_the_good_rows(page, qtbot, tmp_path, monkeypatch):
    root = broken_ljspeech(tmp_path / "corpus")
    panel = page.import_panel
    page.import_corpus(root)
    qtbot.waitUntil(lambda: "Detected" in panel.detected_label.text(), timeout=5000)
    assert "LJSpeech" in panel.detected_label.text() and "metadata.csv" in panel.detected_label.text()
    assert panel.format_combo.currentData() == "ljspeech"

    with qtbot.waitSignal(panel.imported, timeout=20000) as blocker:
        qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)
    assert sorted(u.id for u in blocker.args[0].kept) == sorted(GOOD)
    found = {(kind, Path(where.split(":")[0]).name if kind != "silent_audio" else where, excluded)
             for kind, where, _, excluded in panel.problems_model.rows}
    assert found == {
        ("transcript_without_audio", "metadata.csv", True),
        ("unreadable_audio", "corrupt.wav", True),
        ("empty_text", "metadata.csv", True),
        ("audio_without_transcript", "orphan.wav", True),
        ("silent_audio", "silent", True),
    }
    assert panel.preview_model.rowCount() == 3
    assert panel.problems_model.data(panel.problems_model.index(0, 3)) == "yes"

    # The kind filter shows one kind at a time.
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("silent_audio"))
    assert panel.problems_proxy.rowCount() == 1
    assert panel.problems_proxy.index(0, 2).data().startswith("every sample is zero")
    panel.kind_combo.setCurrentIndex(0)
    assert panel.problems_proxy.rowCount() == 5
    # The page shows the kept items at once, before anything is written.
    assert page.browser.model.rowCount() == 3
    screenshot(page, "data-import.png")

    out = root / "good.jsonl"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    with qtbot.waitSignal(page.manifest_written):
        qtbot.mouseClick(panel.write_button, Qt.MouseButton.LeftButton)
    back = read_manifest(out)
    assert back.problems == []
    assert {u.id: (u.audio, u.text) for u in back.utterances} == {
        uid: (f"wavs/{uid}.wav", text) for uid, (text, _) in GOOD.items()
    }
    assert page.dataset_name == str(out) and page.base_dir == root.resolve()


def test_a_folder_that_is_no_corpus_says_so(page, qtbot, tmp_path):
    (tmp_path / "nada").mkdir()
    page.import_corpus(tmp_path / "nada")
    qtbot.waitUntil(lambda: "not a corpus layout Parcero knows" in page.import_panel.detected_label.text(),
                    timeout=5000)
    assert str(tmp_path / "nada") in page.import_panel.detected_label.text()


def test_a_cancelled_import_reports_nothing(page, qtbot, tmp_path):
    panel = page.import_panel
    page.import_corpus(broken_ljspeech(tmp_path / "corpus"))
    qtbot.waitUntil(lambda: panel.import_button.isEnabled(), timeout=5000)
    panel.start_import()
    assert panel.cancel_button.isEnabled() and not panel.import_button.isEnabled()
    with qtbot.assertNotEmitted(panel.imported, wait=500):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.status_label.text() == "Import cancelled." and panel.import_button.isEnabled()
    assert page.utterances == []


def test_utterance_table_filters_sorts_shows_and_plays(page, qtbot, tmp_path, fake_output):  # noqa: F811
    assert page.open_manifest(gendered_manifest(tmp_path))
    browser = page.browser
    page.tabs.setCurrentWidget(browser)

    def ids() -> set[str]:
        return {u.id for u in browser.visible_utterances()}

    assert ids() == {"a1", "a2", "b1", "b2", "c1", "c2"}
    browser.gender_combo.setCurrentIndex(browser.gender_combo.findData("female"))
    assert ids() == {"a1", "a2"}
    browser.gender_combo.setCurrentIndex(browser.gender_combo.findData("unknown"))
    assert ids() == {"c1", "c2"}
    browser.gender_combo.setCurrentIndex(0)
    browser.search_edit.setText("nunez")  # without accents: finds Núñez
    assert ids() == {"b1"}
    browser.search_edit.setText("año")  # typed with ñ: matched exactly
    assert ids() == {"a2"}
    browser.search_edit.setText("carla")  # speaker
    assert ids() == {"c1", "c2"}
    browser.search_edit.clear()
    browser.min_spin.setValue(1.0)
    browser.max_spin.setValue(2.0)
    assert ids() == {"a2", "b1", "c2"}
    assert browser.count_label.text() == "3 of 6"
    browser.min_spin.setValue(0.0)
    browser.max_spin.setValue(0.0)  # "any length"
    assert len(ids()) == 6

    browser.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    durations = [u.duration for u in browser.visible_utterances()]
    assert durations == sorted(durations, reverse=True) and durations[0] == 2.4
    browser.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [u.speaker for u in browser.visible_utterances()][:2] == ["ana", "ana"]

    # The segment c2 (2.0–3.5 s of long.wav) is shown alone: 1.5 s.
    row = [u.id for u in browser.visible_utterances()].index("c2")
    with qtbot.waitSignals([browser.utterance_shown, browser.audio_view.spectrogram_ready], timeout=5000):
        browser.select_row(row)
    assert browser.audio_view.duration == pytest.approx(1.5, abs=1e-3)
    screenshot(page, "data-utterances.png")

    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_Space)
    assert browser.player.state == "playing" and len(fake_output) == 1
    qtbot.waitUntil(lambda: browser.player.state == "stopped", timeout=5000)  # played to the end
    played = np.concatenate(fake_output[0].played)
    assert np.count_nonzero(played) > 0.9 * 1.5 * SR


def test_statistics_show_hours_speakers_and_the_spanish_letters(page, qtbot, tmp_path):
    with qtbot.waitSignal(page.stats_view.stats_changed, timeout=10000) as blocker:
        page.open_manifest(gendered_manifest(tmp_path))
    stats = blocker.args[0]
    assert stats.hours == pytest.approx((0.6 + 1.8 + 1.2 + 2.4 + 0.9 + 1.5) / 3600)
    assert stats.speakers == 3
    summary = page.stats_view.summary_label.text()
    assert "<b>6</b> utterances" in summary and "<b>8.4 s</b>" in summary and "<b>3</b> speakers" in summary
    # ñ: año, Señor, Núñez, montaña; ü: pingüino.
    special = page.stats_view.special_label.text()
    assert ">ñ</b> 4 (" in special and ">ü</b> 1 (" in special and ">ú</b> 1 (" in special
    page.tabs.setCurrentWidget(page.stats_view)
    screenshot(page, "data-stats.png")
