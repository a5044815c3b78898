"""A person transcribes a long recording in the window, watches it go, cancels part way and keeps what is done.

A 10-minute recording of real Spanish speech (../shared/data/make_longform.py): the
progress bar reads the time done, the length and how long is left; the text arrives
chunk by chunk; Cancel stops it at once, the words already transcribed stay on the
page, the label says the transcript covers only the first part, and Export writes
exactly that part, saying where it stopped.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.journeys.conftest import choose_model, open_with_dialog, snapshot, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ten_minutes(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("largo")
    build = subprocess.run([sys.executable, str(shared_data / "make_longform.py"), "--minutes", "10",
                            "--out", str(folder)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return next(folder.glob("longform-*.wav"))


def test_a_long_recording_shows_time_left_and_a_cancel_keeps_and_exports_what_is_done(
        qtbot, journey_window, demo_model, ten_minutes, monkeypatch, tmp_path):
    window, page = journey_window, journey_window.transcribe_page
    open_with_dialog(window, monkeypatch, ten_minutes)
    choose_model(page.model_picker, demo_model)
    started = time.monotonic()
    page.transcribe_button.click()
    wait_until(qtbot, lambda: "left" in page.progress.format(), what="the time left on the progress bar")
    done, total, left = re.fullmatch(r"(\S+) / (\S+) · about (\S+) left", page.progress.format()).groups()
    assert total == "10:00" or total.startswith("10:0")
    wait_until(qtbot, lambda: len(page.transcript_view.words) > 20, what="words of the first chunks")
    snapshot(window, "journey-long-file-progress")

    page.cancel_button.click()
    wait_until(qtbot, lambda: page.run is None, timeout=10, what="the transcription to stop")
    assert time.monotonic() - started < 120  # stopped part way, not after the whole file
    result = page.result
    assert result is not None and result.has_text
    stopped = result.meta["stopped_at"]
    assert 0 < stopped < 600
    words = result.transcript.words
    assert words and words[-1].end <= stopped + 0.05
    assert [w.text for w in words] == [w for w, _, _ in page.transcript_view.words]  # what is shown is kept
    assert page.result_label.isVisible() and "cancelled: the first" in page.result_label.text()
    assert "demo-es" in page.result_label.text()
    snapshot(window, "journey-long-file-cancelled")

    out = tmp_path / "largo-parcial.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.export_action.trigger()
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["text"] == result.transcript.text
    assert record["settings"]["cancelled_at_seconds"] == pytest.approx(stopped, abs=0.01)
    assert max(w["end"] for w in record["words"]) <= stopped + 0.05


def test_whisper_in_batches_on_a_long_recording_streams_pieces_and_a_cancel_keeps_them(
        qtbot, journey_window, whisper_base, ten_minutes, monkeypatch, tmp_path):
    # Batch size 4 in "More options…": the speech is cut into pieces of up to 30 s, four decoded at once.
    window, page = journey_window, journey_window.transcribe_page
    open_with_dialog(window, monkeypatch, ten_minutes)
    choose_model(page.model_picker, whisper_base)
    dialog = page.options_dialog
    page.options_button.click()
    dialog.batch_spin.setValue(4)
    dialog.word_times_check.setChecked(True)
    dialog.close()
    assert page.decode_options().batch_size == 4 and page.decode_options().vad == "auto"
    page.transcribe_button.click()
    # The first batch's four pieces arrive together: about 100 s of the recording, timed word by word.
    wait_until(qtbot, lambda: len(page.transcript_view.words) > 150, timeout=240, what="the first batch's words")
    wait_until(qtbot, lambda: "left" in page.progress.format(), timeout=240, what="the time left")
    assert page.attention_view.n_tokens > 0  # the heatmap followed a piece
    snapshot(window, "journey-long-file-batched")
    page.cancel_button.click()
    wait_until(qtbot, lambda: page.run is None, timeout=60, what="the transcription to stop")
    result = page.result
    assert result is not None and result.has_text and "whisper-base" in page.result_label.text()
    stopped = result.meta["stopped_at"]
    words = result.transcript.words
    assert 60 < stopped < 600 and words[-1].end <= stopped + 0.05
    assert [w.start for w in words] == sorted(w.start for w in words)
    reference = ten_minutes.with_suffix(".txt").read_text(encoding="utf-8").split()
    from engine.metrics import error_rates

    kept = " ".join(reference[: len(words)])
    assert error_rates([kept], [result.transcript.text]).wer < 0.25  # real text, in order, not made up
    out = tmp_path / "largo-lotes.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.export_action.trigger()
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["text"] == result.transcript.text and record["settings"]["batch_size"] == 4
