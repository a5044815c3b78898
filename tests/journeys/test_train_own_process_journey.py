"""Journey: a model trains in a process of its own while the person transcribes, and outlives the window.

Issue 19: the window sent training to its single engine process, so a transcription asked for during a
run came back only when the run ended. Now Start on the Train page launches ``parcero train`` as a
process of its own: the person transcribes a file with the demo model while the run trains (the
transcript arrives, the run goes on), closes the window (the run goes on), opens Parcero again (the
Train page re-attaches to the run by itself and draws its curves), and stops it there (a checkpoint is
saved and run.json says "stopped").
"""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import Qt

from app import training_runs
from engine.resources import bundled_samples
from engine.training.checkpoint import is_complete, list_checkpoints
from engine.training.runstate import read_run_state
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import TINY_MODEL, write_tone_corpus
from tests.journeys.conftest import (
    choose_model, copy_to, open_main_window, open_with_dialog, snapshot, transcribe, wait_until,
)

pytestmark = pytest.mark.slow



def shown_step(page) -> int:
    text = page.progress.format()
    return int(text.split()[1].replace(",", "")) if text.startswith("step ") else 0


def test_a_run_trains_in_its_own_process_while_the_window_transcribes_and_outlives_the_window(
        qtbot, journey_engine, tmp_path, monkeypatch, demo_model):
    corpus = tmp_path / "tonos"
    train, dev = write_tone_corpus(corpus, OVERFIT_TEXTS, "train"), write_tone_corpus(corpus, OVERFIT_TEXTS[:2], "dev")
    run_dir = corpus / "runs" / "en-su-proceso"
    window = open_main_window(qtbot, journey_engine, tmp_path)

    # Train page: a tiny model, a run far longer than this journey, one loader worker as by default.
    page = window.train_page
    window.page_list.setCurrentRow(window.pages.indexOf(page))
    page.form.set_config_dict({
        "run": {"name": run_dir.name, "dir": str(run_dir)},
        "data": {"train": str(train), "dev": str(dev), "num_workers": 1},
        "model": dict(TINY_MODEL),
        "train": {"max_steps": 100_000, "warmup": 10, "eval_every": 100_000, "checkpoint_every": 100_000},
    })
    assert page.start_button.isEnabled(), page.error_label.text()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.training and page.stop_button.isEnabled()
    pid = page.training_pid
    assert pid != os.getpid() and os.getsid(pid) == pid  # a process of its own, in a session of its own
    assert "in a process of its own" in page.status_label.text()
    assert "closing Parcero does not stop it" in window.statusBar().currentMessage()
    wait_until(qtbot, lambda: shown_step(page) >= 2 and page.plots.buffered("loss") >= 2, 120,
               "the curves and the bar to move (live points from the run folder)")

    # Transcribe page, meanwhile: the engine process is free, so the transcript comes back during the run.
    transcribe_page = window.transcribe_page
    window.page_list.setCurrentRow(window.pages.indexOf(transcribe_page))
    choose_model(transcribe_page.model_picker, demo_model)
    open_with_dialog(window, monkeypatch, copy_to(bundled_samples()[0].path, tmp_path / "audio"))
    step_before, started = shown_step(page), time.monotonic()
    transcript = transcribe(qtbot, transcribe_page, timeout=120)
    took = time.monotonic() - started
    assert transcript.text and transcribe_page.transcript_view.plain_text() == transcript.text
    assert page.training and read_run_state(run_dir).state == "running"  # training has not ended ...
    wait_until(qtbot, lambda: shown_step(page) > step_before, 30, "the run to go on after the transcript")
    print(f"transcribed in {took:.1f} s while training went on past step {step_before}")  # noqa: T201
    snapshot(window, "journey-train-own-process-transcribe-meanwhile")

    # Closing the window leaves the run training.
    window.close()
    time.sleep(1.0)
    state = read_run_state(run_dir)
    assert state.state == "running" and state.pid == pid and training_runs.is_running(state)
    live_lines = (run_dir / "live.jsonl").read_text("utf-8").count("\n")
    wait_until(qtbot, lambda: (run_dir / "live.jsonl").read_text("utf-8").count("\n") > live_lines, 30,
               "the run to go on training with no window open")

    # Parcero opened again: the Train page has re-attached to the run and follows it.
    window = open_main_window(qtbot, journey_engine, tmp_path)
    page = window.train_page
    assert page.training and page.training_pid == pid and page.run_dir == run_dir
    assert "Re-attached to" in page.status_label.text() and str(pid) in page.status_label.text()
    assert "went on while Parcero was closed" in window.statusBar().currentMessage()
    assert page.form.run_dir() == run_dir and not page.form.isEnabled()
    assert page.stop_button.isEnabled() and not page.start_button.isEnabled()
    assert page.error_label.text() == ""  # the status line speaks for the run, not a red "already training"
    drawn = page.plots.buffered("loss")
    assert drawn >= 2  # the history drawn at once
    wait_until(qtbot, lambda: page.plots.buffered("loss") > drawn, 30, "new points of the re-attached run")
    window.page_list.setCurrentRow(window.pages.indexOf(page))
    snapshot(window, "journey-train-own-process-reattached")

    # Stop: the process saves a checkpoint at its next step and says so in run.json.
    with qtbot.waitSignal(page.training_stopped, timeout=120_000) as stopped:
        qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
        assert "Stopping" in page.status_label.text()
    checkpoint = stopped.args[0]
    assert is_complete(type(run_dir)(checkpoint)) and list_checkpoints(run_dir)[-1][1] == type(run_dir)(checkpoint)
    state = read_run_state(run_dir)
    assert state.state == "stopped" and state.last_checkpoint == checkpoint and state.step >= 2
    assert "checkpoint saved" in page.status_label.text() and page.resume_button.isEnabled()
    assert shown_step(page) == state.step and "ETA" not in page.progress.format()  # the step it stopped at
    assert page.error_label.text().startswith(f"“{run_dir.name}” already holds checkpoints")  # Resume is the way on
    wait_until(qtbot, lambda: training_runs.exit_text(state) == "exit status 0" or not os.path.exists(f"/proc/{pid}"),
               30, "the training process to exit")
    assert training_runs.remembered() == []  # its end seen: the next window has nothing to re-attach
    snapshot(window, "journey-train-own-process-stopped")
    window.close()
