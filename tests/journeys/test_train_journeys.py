"""Journeys on the Data and Train pages: real Spanish clips in, a real training run followed live.

A person imports a few real cajal-es recordings on the Data page, writes their manifest, and trains a
tiny model on the Train page with the default log interval (50 steps): the progress bar and the
curves must move within seconds of the first step, the fresh form must not greet them with a red
error, and stopping leaves a checkpoint on disk. A second journey reads a quoted Common Voice
sentence in the Data page's browser as it was written.
"""

from __future__ import annotations

import time
from pathlib import Path

import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine.training.checkpoint import is_complete, list_checkpoints
from tests.journeys.conftest import copy_to, snapshot, wait_until

CLIPS = 8  # the shortest cajal-es clips: about 2 s each, about a second a training step on two CPU cores


def go_to(qtbot, window, page) -> None:
    """Click the page's entry in the window's page list."""
    item = window.page_list.item(window.pages.indexOf(page))
    rect = window.page_list.visualItemRect(item)
    qtbot.mouseClick(window.page_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.pages.currentWidget() is page


def ljspeech_copy(cajal: list[tuple[Path, str]], folder: Path, count: int) -> Path:
    """The ``count`` shortest cajal-es clips in their own LJSpeech layout (metadata.csv + wavs/)."""
    shortest = sorted(cajal, key=lambda clip: sf.info(str(clip[0])).duration)[:count]
    for wav, _ in shortest:
        copy_to(wav, folder / "wavs")
    (folder / "metadata.csv").write_text("\n".join(f"{wav.stem}|{text}" for wav, text in shortest) + "\n",
                                         encoding="utf-8")
    return folder


def import_on_data_page(qtbot, window, source: Path, format_text: str):
    """Import ``source`` as a person does on the Data page; returns the import outcome."""
    data = window.data_page
    go_to(qtbot, window, data)
    data.import_corpus(source)  # what Folder… does once the folder is chosen
    panel = data.import_panel
    wait_until(qtbot, lambda: "Detected" in panel.detected_label.text(), 20, "the layout to be detected")
    assert format_text in panel.detected_label.text()
    with qtbot.waitSignal(panel.imported, timeout=60_000) as imported:
        qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)
    return imported.args[0]


def red(label) -> bool:
    return "c62828" in label.styleSheet()


def test_a_short_run_on_real_clips_moves_at_once_and_stops_with_a_checkpoint(qtbot, journey_window, cajal,
                                                                               tmp_path, monkeypatch):
    window = journey_window
    corpus = ljspeech_copy(cajal, tmp_path / "cajal-corto", CLIPS)

    # Data page: import the clips, then write their manifest.
    outcome = import_on_data_page(qtbot, window, corpus, "LJSpeech")
    assert len(outcome.kept) == CLIPS
    manifest = corpus / "train.jsonl"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(manifest), ""))
    with qtbot.waitSignal(window.data_page.manifest_written, timeout=10_000):
        qtbot.mouseClick(window.data_page.import_panel.write_button, Qt.MouseButton.LeftButton)
    assert manifest.is_file()

    # Train page, fresh: nothing typed yet, so nothing is red.
    page = window.train_page
    form = page.form
    go_to(qtbot, window, page)
    wait_until(qtbot, lambda: page.start_button.isEnabled(), 60, "Start to be ready (engine up)")
    assert page.error_label.text() == ""
    assert form.field_in_error is None
    snapshot(window, "train-journey-fresh-form")

    # Start pressed too early: now it says why, at the field at fault, and nothing starts.
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.training is False
    assert "data.train" in page.error_label.text() and red(page.error_label)
    assert red(form.label_for(form.train_edit.edit)) and form.train_edit.edit.hasFocus()
    assert not page.start_button.isEnabled()

    # The manifest typed in, a tiny model, 60 steps; the log interval stays at its default of 50.
    qtbot.keyClicks(form.train_edit.edit, str(manifest))
    assert page.error_label.text() == "" and not red(form.label_for(form.train_edit.edit))
    form.preset_combo.setCurrentText("tiny")
    form.max_steps_spin.selectAll()
    qtbot.keyClicks(form.max_steps_spin, "60")
    assert form.max_steps_spin.value() == 60
    # A note, not an error: the default warm-up (4,000 steps) would keep the learning rate tiny all run.
    assert "warm-up (4,000 steps) is longer than the run (60)" in page.error_label.text()
    assert not red(page.error_label) and page.start_button.isEnabled()
    assert window.minimumSizeHint().width() <= 1366
    snapshot(window, "train-journey-warmup-note")
    form.warmup_spin.selectAll()
    qtbot.keyClicks(form.warmup_spin, "10")
    assert form.warmup_spin.value() == 10 and page.error_label.text() == ""
    config = form.config_dict()
    assert "log_every" not in config["train"]  # the engine's default: metrics.jsonl every 50 steps
    assert page.start_button.isEnabled()

    arrivals: list[tuple[float, int, float]] = []  # (when it reached the window, step, trainer time)
    page.records_read.connect(lambda records: arrivals.extend(
        (time.monotonic(), int(r["step"]), float(r["time"])) for r in records if r.get("kind") in ("train", "live")))
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.training and page.stop_button.isEnabled()
    wait_until(qtbot, lambda: bool(arrivals), 120, "the first training step")

    def shown_step() -> int:
        text = page.progress.format()
        return int(text.split()[1].replace(",", "")) if text.startswith("step ") else 0

    # Within 5 s of the first step (or one step later on a machine slower than that) the bar has
    # moved past it and the curves hold each step so far; with metrics every 50 steps they used to
    # wait for step 50.
    wait_until(qtbot, lambda: shown_step() >= 2 and len(page.plots.data("loss")[0]) >= 2, 60,
               "the progress bar and the loss curve to move past step 1 (log interval 50)")
    moved = time.monotonic() - arrivals[0][0]
    step_time = next(t for _, step, t in arrivals if step >= 2) - arrivals[0][2]
    assert moved < max(5.0, 1.5 * step_time), (moved, step_time)
    assert page.progress.value() == shown_step() and "/ 60" in page.progress.format()
    assert len(page.plots.data("lr")[0]) >= 2 and len(page.plots.data("throughput")[0]) >= 2
    wait_until(qtbot, lambda: "ETA" in page.progress.format(), 10, "an ETA from the measured step time")
    run_dir = form.run_dir()
    train_logged = [line for line in (run_dir / "metrics.jsonl").read_text("utf-8").splitlines()
                    if '"kind": "train"' in line]
    assert len(train_logged) == 1  # step 1 only: the live points never reach metrics.jsonl

    # Stop: the engine saves a checkpoint at the next step.
    wait_until(qtbot, lambda: shown_step() >= 3, 30, "step 3")
    with qtbot.waitSignal(page.training_stopped, timeout=60_000) as stopped:
        qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    checkpoint = Path(stopped.args[0])
    assert checkpoint.parent == run_dir / "checkpoints" and is_complete(checkpoint)
    step = list_checkpoints(run_dir)[-1][0]
    assert step >= 3 and "checkpoint saved" in page.status_label.text()
    wait_until(qtbot, lambda: shown_step() == step, 5, "the bar to show the step the run stopped at")
    assert "ETA" not in page.progress.format()  # the run has ended
    assert page.resume_button.isEnabled()
    snapshot(window, "train-journey")


def test_a_quoted_common_voice_sentence_reads_as_written_in_the_browser(qtbot, journey_window, shared_data):
    window = journey_window
    outcome = import_on_data_page(qtbot, window, shared_data / "cv-es-sample", "Common Voice")
    assert len(outcome.kept) == 100
    browser = window.data_page.browser
    window.data_page.tabs.setCurrentWidget(browser)
    qtbot.keyClicks(browser.search_edit, "Frederick")
    wait_until(qtbot, lambda: browser.proxy.rowCount() == 1, 5, "one row for “Frederick”")
    with qtbot.waitSignal(browser.audio_view.spectrogram_ready, timeout=20_000):
        browser.select_row(0)
    assert "Frederick" in browser.info_label.text()
    sentence = 'Aquí Olivier van Noort perdió el contacto con el "Frederick Henry".'
    assert sentence in browser.info_label.text().replace("&quot;", '"')
    assert browser.visible_utterances()[0].text == sentence  # not ""Frederick Henry"" as the TSV quotes it
    snapshot(window, "data-journey-quoted-sentence")
