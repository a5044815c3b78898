"""The Train page, driven like a user would: a tiny model trains in a process of its own (``parcero train``)
that the page follows through its run folder; the real engine process times the throughput."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.cost import batches_per_epoch, epochs_for_steps, format_usd, steady_throughput
from app.pages.train_page import TrainPage
from app.run_files import trim_padding
from engine.configio import write_toml
from engine.data.manifest import read_manifest
from engine.training.checkpoint import is_complete
from engine.training.config import TrainConfig, run_config_from_dict
from engine.training.runstate import read_run_state
from tests.app.media import ARTIFACTS
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import TINY_MODEL, write_tone_corpus



@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tonos")
    return write_tone_corpus(folder, OVERFIT_TEXTS, "train"), write_tone_corpus(folder, OVERFIT_TEXTS[:2], "dev")


@pytest.fixture
def page(qtbot, engine):
    p = TrainPage(engine)
    qtbot.addWidget(p)
    p.resize(1300, 820)
    p.show()
    yield p
    p.shutdown()


def tiny_config(corpus, run_dir, **train) -> dict:
    train_manifest, dev_manifest = corpus
    return {
        "run": {"name": run_dir.name, "dir": str(run_dir)},
        "data": {"train": str(train_manifest), "dev": str(dev_manifest), "num_workers": 0},
        "model": dict(TINY_MODEL),
        "train": {"max_steps": 6, "log_every": 1, "eval_every": 3, "checkpoint_every": 6, "warmup": 10, **train},
    }


def screenshot(widget, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(ARTIFACTS / f"{name}.png"))


def test_the_forms_defaults_make_a_valid_config(page, corpus):
    train_manifest, _ = corpus
    page.form.train_edit.edit.setText(str(train_manifest))
    assert page.form.problem() == ""
    d = page.form.config_dict()
    config = run_config_from_dict(d, base_dir=page.form.base_dir())
    defaults = TrainConfig()
    assert (config.train.max_steps, config.train.warmup, config.train.schedule) == (
        defaults.max_steps, defaults.warmup, defaults.schedule)
    assert config.model == {**config.model, "preset": "small", "n_enc_layers": 12, "n_dec_layers": 6}
    assert page.form.run_dir() == train_manifest.parent / "runs" / d["run"]["name"]
    assert page.start_button.isEnabled() and page.error_label.text() == ""


def test_a_fresh_form_says_nothing_until_its_field_is_edited_or_start_is_pressed(page):
    form = page.form
    assert form.problem().startswith("run config: data.train is required")
    assert page.error_label.text() == "" and page.start_button.isEnabled()
    form.max_steps_spin.setValue(60)  # another field edited: still not a word about the manifest
    assert page.error_label.text() == "" and page.start_button.isEnabled()
    assert form.field_in_error is None
    assert page.start() is False  # pressed too early: now it speaks, at the field at fault
    assert "data.train is required" in page.error_label.text() and "c62828" in page.error_label.styleSheet()
    assert form.field_in_error is form.train_edit.edit and "c62828" in form.label_for(form.train_edit.edit).styleSheet()
    assert not page.start_button.isEnabled() and page.training is False
    form.train_edit.edit.setText("/no/such/train.jsonl")
    assert "no such manifest" in page.error_label.text()


def wheel(widget, notches: int = -1) -> bool:
    """Send a mouse-wheel turn over ``widget``; True when a widget took it (False: Qt offers it to the parent)."""
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_the_wheel_scrolls_the_form_instead_of_changing_an_unfocused_box(page, qtbot):
    form = page.form
    spin, combo = form.max_steps_spin, form.preset_combo
    before = (spin.value(), combo.currentText())
    page.start_button.setFocus()
    for widget in (spin, combo):
        assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel does not focus it either
        assert not wheel(widget) and not wheel(widget, 1)  # left for the scroll area
    assert (spin.value(), combo.currentText()) == before
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    wheel(spin)  # focused (clicked or tabbed into): the wheel steps it, as a person meant
    assert spin.value() == before[0] - spin.singleStep()


@pytest.mark.parametrize("change, expected", [
    (lambda f: f.warmup_spin.setValue(0), "warmup must be at least 1"),
    (lambda f: f.train_edit.edit.clear(), "data.train is required"),
    (lambda f: f.train_edit.edit.setText("/no/such/train.jsonl"), "no such manifest"),
    (lambda f: f.set_config_dict({**f.config_dict(), "model": {"d_model": 98}}), "model.d_model (98) must be divisible"),
])
def test_an_invalid_value_is_shown_inline_and_disables_start(page, corpus, change, expected):
    page.form.train_edit.edit.setText(str(corpus[0]))
    assert page.start_button.isEnabled()
    change(page.form)
    assert expected in page.error_label.text()
    assert not page.start_button.isEnabled()
    assert not page.cost.measure_button.isEnabled()


def test_a_short_run_draws_curves_prices_it_and_saves_attention(page, qtbot, corpus, tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    page.form.set_config_dict(tiny_config(corpus, run_dir))
    with qtbot.waitSignal(page.training_finished, timeout=100_000) as finished:
        page.start_button.click()
        assert not page.start_button.isEnabled() and page.stop_button.isEnabled()
        assert page.training and page.training_pid != os.getpid()  # a process of its own
    assert finished.args[0]["step"] == 6 and finished.args[0]["run_dir"] == str(run_dir)
    assert read_run_state(run_dir).state == "finished" and not page.training
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text("utf-8").splitlines()]
    qtbot.waitUntil(lambda: len(page.plots.data("loss")[0]) == 6, timeout=5000)
    steps, losses = page.plots.data("loss")
    assert list(steps) == [1, 2, 3, 4, 5, 6] and np.all(np.isfinite(losses))
    assert list(page.plots.data("dev_loss")[0]) == [3, 6] and len(page.plots.data("cer")[0]) == 2
    assert page.progress.value() == 6 and "step 6 / 6" in page.progress.format()
    assert not page.plots.plots["gpu"].isVisible()  # a CPU run logs no GPU memory

    # the cost estimate: hours × price, from the measured throughput and the hours of data
    throughput = steady_throughput(r["audio_seconds_per_second"] for r in records if r["kind"] == "train")
    durations = [u.duration for u in read_manifest(corpus[0]).utterances]
    train_seconds = sum(durations)
    epochs = epochs_for_steps(6, 1, batches_per_epoch(durations, 20000))
    assert epochs == 6.0  # six short clips make one batch (no more buckets than batches): a step an epoch
    assert page.cost.epochs_spin.value() == pytest.approx(epochs, abs=0.01)
    hours = train_seconds / 3600 * epochs / throughput
    p3 = next(r for r in page.cost.rows() if r.price.instance == "p3.2xlarge")
    assert p3.hours == pytest.approx(hours)
    assert p3.cost_usd == pytest.approx(hours * 2236.80 / 730)
    assert page.cost.table.item(0, 6).text() == format_usd(hours * 2236.80 / 730)

    # attention over training: one slider position per evaluation, each showing its saved matrix
    qtbot.waitUntil(lambda: page.samples.steps == [3, 6], timeout=5000)
    page.samples.slider.setValue(0)
    uid = page.samples.utterance_combo.currentText()
    with np.load(run_dir / "samples" / "step-000003.npz") as saved:
        expected = trim_padding(saved[uid]).astype(np.float32)  # without the batch's padding frames
    shown = page.samples.attention_view.matrix(0, 0)
    assert shown.shape == expected.shape[2:] and np.allclose(shown, expected[0, 0], atol=1e-3)
    assert page.samples.step_label.text().startswith("Step 3")
    page.samples.slider.setValue(1)
    assert page.samples.step_label.text().startswith("Step 6")
    screenshot(page, "train-page")
    page.tabs.setCurrentWidget(page.samples)
    screenshot(page, "train-page-attention")
    page.tabs.setCurrentWidget(page.cost)
    screenshot(page, "train-page-cost")
    assert not page.start_button.isEnabled() and page.resume_button.isEnabled()  # the folder holds checkpoints


def test_stop_saves_a_checkpoint_and_resume_continues_from_it(page, qtbot, corpus, tmp_path):
    run_dir = tmp_path / "runs" / "pausa"
    page.form.set_config_dict(tiny_config(corpus, run_dir, max_steps=10_000, eval_every=10_000,
                                          checkpoint_every=10_000))
    page.start_button.click()
    qtbot.waitUntil(lambda: page.plots.buffered("loss") >= 2, timeout=90_000)
    with qtbot.waitSignal(page.training_stopped, timeout=60_000) as stopped:
        page.stop_button.click()
    checkpoint = stopped.args[0]
    assert checkpoint and is_complete(Path(checkpoint))
    assert "checkpoint saved" in page.status_label.text()
    state = read_run_state(run_dir)
    assert state.state == "stopped" and state.last_checkpoint == checkpoint and not page.training
    step = int(checkpoint.rsplit("-", 1)[1])
    assert page.resume_button.isEnabled() and not page.start_button.isEnabled()

    page.form.max_steps_spin.setValue(step + 2)
    with qtbot.waitSignal(page.training_finished, timeout=90_000) as finished:
        page.resume_button.click()
    assert finished.args[0]["step"] == step + 2
    qtbot.waitUntil(lambda: page.plots.data("loss")[0][-1] == step + 2, timeout=5000)
    assert list(page.plots.data("loss")[0]) == list(range(1, step + 3))  # history read back, then continued


def test_live_points_move_the_curves_and_a_killed_run_is_said_to_have_died(page, qtbot, corpus, tmp_path):
    # log_every 1000: metrics.jsonl holds step 1 only, so every later point drawn came through live.jsonl.
    run_dir = tmp_path / "runs" / "muere"
    page.form.set_config_dict(tiny_config(corpus, run_dir, max_steps=10_000, log_every=1000, eval_every=10_000,
                                          checkpoint_every=2))
    with qtbot.waitSignal(page.training_failed, timeout=120_000) as failed:
        page.start_button.click()
        qtbot.waitUntil(lambda: page.plots.buffered("loss") >= 3 and bool(page._last_checkpoint), timeout=90_000)
        train_logged = [line for line in (run_dir / "metrics.jsonl").read_text("utf-8").splitlines()
                        if '"kind": "train"' in line]
        assert len(train_logged) == 1 and "ETA" in page.progress.format()
        os.kill(page.training_pid, signal.SIGKILL)  # the out-of-memory killer, say: no word from the process
    assert "ended unexpectedly (killed by signal SIGKILL)" in failed.args[0]
    status = page.status_label.text()
    assert "Last checkpoint: muere/checkpoints/step-" in status and "Resume continues from it" in status
    assert "c62828" in page.status_label.styleSheet() and not page.training
    state = read_run_state(run_dir)
    assert state.state == "failed" and state.code == "train.died"  # never "running" for ever
    assert page.resume_button.isEnabled() and not page.stop_button.isEnabled()
    assert "ETA" not in page.progress.format()


def test_a_second_page_re_attaches_to_the_running_run_and_stops_it(page, qtbot, corpus, tmp_path):
    run_dir = tmp_path / "runs" / "sigue"
    page.form.set_config_dict(tiny_config(corpus, run_dir, max_steps=10_000, eval_every=10_000,
                                          checkpoint_every=10_000))
    page.start_button.click()
    qtbot.waitUntil(lambda: page.plots.buffered("loss") >= 2, timeout=90_000)
    pid = page.training_pid
    page.shutdown()  # the window closes; the process goes on
    page.close()
    later = TrainPage(page.engine)  # a window opened later (the same settings)
    qtbot.addWidget(later)
    assert later.reattach()
    assert later.training and later.training_pid == pid and later.run_dir == run_dir
    assert "Re-attached to" in later.status_label.text() and later.form.run_dir() == run_dir
    qtbot.waitUntil(lambda: later.plots.buffered("loss") >= 3, timeout=30_000)  # history, then new points
    assert later.stop_button.isEnabled() and not later.start_button.isEnabled()
    with qtbot.waitSignal(later.training_stopped, timeout=60_000) as stopped:
        later.stop_button.click()
        assert "Stopping" in later.status_label.text()
    assert is_complete(Path(stopped.args[0])) and read_run_state(run_dir).state == "stopped"
    later.shutdown()
    again = TrainPage(page.engine)
    qtbot.addWidget(again)
    assert not again.reattach()  # seen to end: nothing to re-attach to, nothing to report


def test_measure_throughput_runs_a_few_steps_and_fills_the_estimate(page, qtbot, corpus, tmp_path):
    page.form.set_config_dict(tiny_config(corpus, tmp_path / "runs" / "medir"))
    with qtbot.waitSignal(page.throughput_measured, timeout=90_000) as measured:
        page.cost.measure_button.click()
    assert measured.args[0] > 0
    assert page.cost.per_gpu_throughput() == pytest.approx(measured.args[0])
    assert "warm-up run" in page.cost.throughput_label.text()
    assert not (tmp_path / "runs" / "medir").exists()  # measured in a scratch folder, then removed
    assert all(r.cost_usd > 0 for r in page.cost.rows())


def _record(kind: str, step: int, **values) -> str:
    return json.dumps({"time": 1000.0 + step, "kind": kind, "step": step, **values}) + "\n"


def test_attaching_follows_a_run_folder_written_by_another_process(page, qtbot, corpus, tmp_path):
    run_dir = tmp_path / "cli-run"
    (run_dir / "samples").mkdir(parents=True)
    write_toml(run_dir / "config.toml", tiny_config(corpus, run_dir, max_steps=100))
    metrics = run_dir / "metrics.jsonl"
    lines = [_record("train", s, loss=3.0 / s, lr=1e-4 * s, audio_seconds_per_second=50.0 + s, gpu_memory_gb=1.5)
             for s in (1, 2, 3)]
    lines.append(_record("eval", 3, dev_loss=2.0, cer=0.5, wer=0.9, best=True))
    metrics.write_text("".join(lines) + '{"time": 1004.0, "kind": "train", "st', encoding="utf-8")  # half a line
    rng = np.random.default_rng(0)
    saved = {}
    for step in (2, 4):
        saved[step] = rng.random((2, 4, 6, 30)).astype(np.float16)
        saved[step][..., 24:] = 0  # padding of a batched decode: no attention at all
        np.savez_compressed(run_dir / "samples" / f"step-{step:06d}.npz", **{"dev-000": saved[step]})
        (run_dir / "samples" / f"step-{step:06d}.json").write_text(json.dumps(
            {"step": step, "samples": [{"id": "dev-000", "reference": "hola", "hypothesis": "hola"}]}))

    assert page.attach(run_dir)
    assert page.form.max_steps_spin.value() == 100 and page.form.run_dir() == run_dir
    page.plots.redraw()
    assert list(page.plots.data("loss")[0]) == [1, 2, 3]  # the half line waits
    assert list(page.plots.data("cer")[1]) == [50.0]
    assert page.plots.plots["gpu"].isVisible() and list(page.plots.data("gpu_memory")[1]) == [1.5] * 3
    assert page.resume_button.isEnabled() is False  # no checkpoint in it yet
    # the writer finishes its line and adds another: both appear within a poll
    with open(metrics, "a", encoding="utf-8") as f:
        f.write('ep": 4, "loss": 0.7}\n' + _record("train", 5, loss=0.6))
    qtbot.waitUntil(lambda: list(page.plots.data("loss")[0]) == [1, 2, 3, 4, 5], timeout=5000)
    assert "step 5 / 100" in page.progress.format()
    # a new run in the same folder (the file starts over, shorter): the curves start over too
    metrics.write_text(_record("train", 1, loss=9.0), encoding="utf-8")
    qtbot.waitUntil(lambda: list(page.plots.data("loss")[1]) == [9.0], timeout=5000)

    assert page.samples.steps == [2, 4]
    for index, step in enumerate((2, 4)):
        page.samples.slider.setValue(index)
        shown = page.samples.attention_view.matrix(1, 3)
        assert shown.shape == (6, 24)  # the padding trimmed off
        assert np.allclose(shown, saved[step][1, 3, :, :24].astype(np.float32), atol=1e-3)
    assert page.samples.attention_view.tokens() == ["h", "o", "l", "a", "⏎", "⏎"]


def test_a_config_file_fills_the_form_with_paths_from_its_folder(page, corpus, tmp_path):
    train_manifest, dev_manifest = corpus
    config = tmp_path / "receta.toml"
    write_toml(config, {
        "data": {"train": str(train_manifest), "dev": "../" + dev_manifest.parent.name + "/" + dev_manifest.name,
                 "num_workers": 0},
        "model": {"preset": "base", "encoder": "conformer", "n_enc_layers": 3},
        "train": {"schedule": "cosine", "peak_lr": 0.0005, "label_smoothing": 0.2},
        "run": {"name": "receta", "dir": "runs/receta"},
    })
    (tmp_path.parent / dev_manifest.parent.name).mkdir(exist_ok=True)  # the relative dev path must resolve
    (tmp_path.parent / dev_manifest.parent.name / dev_manifest.name).write_text(dev_manifest.read_text("utf-8"))
    assert page.load_config(config)
    f = page.form
    assert (f.preset_combo.currentText(), f.encoder_combo.currentData(), f.enc_layers_spin.value()) == (
        "base", "conformer", 3)
    assert f.dec_layers_spin.value() == 6 and f.schedule_combo.currentText() == "cosine"
    assert f.peak_lr_spin.isEnabled() and not f.lr_factor_spin.isEnabled()
    assert f.run_dir() == tmp_path / "runs" / "receta"
    d = f.config_dict()
    assert d["train"]["label_smoothing"] == 0.2 and d["data"]["num_workers"] == 0  # kept though not in the form
    assert "train.label_smoothing = 0.2" in f.extras_label.text()
    assert f.problem() == "" and page.start_button.isEnabled()
    assert not page.load_config(tmp_path / "no-existe.toml")
    assert "no-existe.toml: no such" in page.status_label.text()  # the file it could not read, and why


def test_the_voice_options_write_and_read_the_run_config(qtbot, corpus):
    from app.widgets.train_form import TrainForm

    form = TrainForm()
    qtbot.addWidget(form)
    train_manifest, _ = corpus
    form.train_edit.edit.setText(str(train_manifest))
    assert form.label_for(form.vtlp_check).text() == "Warp voices (VTLP)"
    assert form.label_for(form.vtln_combo).text() == "Normalise voices (VTLN)"
    config = run_config_from_dict(form.config_dict(), base_dir=form.base_dir())
    assert config.features.vtln == "none" and not config.spec_augment.vtlp  # off, as in the engine
    with qtbot.waitSignal(form.changed):
        form.vtlp_check.setChecked(True)
    with qtbot.waitSignal(form.changed):
        form.vtln_combo.setCurrentIndex(form.vtln_combo.findData("utterance"))
    config = run_config_from_dict(form.config_dict(), base_dir=form.base_dir())
    assert config.features.vtln == "utterance" and config.spec_augment.vtlp and form.problem() == ""
    # Each speaker: one factor per speaker of the manifest, its item says so.
    speaker = form.vtln_combo.findData("speaker")
    assert form.vtln_combo.itemText(speaker) == "Each speaker"
    assert "speaker" in form.vtln_combo.itemData(speaker, Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(form.changed):
        form.vtln_combo.setCurrentIndex(speaker)
    config = run_config_from_dict(form.config_dict(), base_dir=form.base_dir())
    assert config.features.vtln == "speaker" and form.problem() == ""
    form.set_config_dict({"data": {"train": str(train_manifest)}, "features": {"vtln": "speaker"}})
    assert form.vtln_combo.currentData() == "speaker" and form.config_dict()["features"] == {"vtln": "speaker"}

    # An opened config sets them; its other voice settings are kept as extras.
    form.set_config_dict({"data": {"train": str(train_manifest)},
                          "features": {"vtln": "none", "vtln_reference_hz": 1500.0},
                          "spec_augment": {"vtlp": False, "vtlp_max": 1.2}})
    assert not form.vtlp_check.isChecked() and form.vtln_combo.currentData() == "none"
    d = form.config_dict()
    assert d["spec_augment"] == {"vtlp": False, "vtlp_max": 1.2}
    assert d["features"] == {"vtln": "none", "vtln_reference_hz": 1500.0}
    assert "spec_augment.vtlp_max = 1.2" in form.extras_label.text()

    # VTLP belongs to the augmentation: with it off, the engine's words go to the checkbox's row.
    form.set_config_dict({"data": {"train": str(train_manifest)}, "spec_augment": {"enabled": False}})
    form.vtlp_check.setChecked(True)
    problem = form.problem()
    assert problem.startswith("spec_augment.vtlp: VTLP is part of the training augmentation")
    assert form.shown_problem() == problem and form.field_in_error is form.vtlp_check


def test_the_price_table_is_editable_and_remembered(qtbot):
    from app.widgets.cost_estimate import CostEstimate

    panel = CostEstimate()
    qtbot.addWidget(panel)
    panel.set_audio_hours(100.0)
    panel.set_epochs(10)
    panel.set_throughput(1000.0, "test")
    panel.measured_gpus_spin.setValue(2)  # 1000 s/s over two GPUs: 500 s/s each -> 2 GPU-hours
    panel.table.item(0, 3).setText("1460.00")  # a cheaper month: 2 $/h
    assert panel.rows()[0].hours == pytest.approx(2.0) and panel.rows()[0].cost_usd == pytest.approx(4.0)
    assert panel.table.item(0, 6).text() == "$4.00"
    panel.add_button.click()
    assert [p.instance for p in panel.prices()][-1] == "my-instance"

    again = CostEstimate()  # a new window: the edited table comes back from QSettings
    qtbot.addWidget(again)
    assert again.prices() == panel.prices()
    again.reset_button.click()
    assert [p.monthly_usd for p in again.prices()][:3] == [2236.80, 22791.16, 23930.40]  # the seed's, first


def test_the_engine_device_decides_what_the_cost_estimate_prices(page, qtbot):
    # The page learns where the engine runs from its EngineInfo: on a CPU, no cloud GPU is priced from
    # the measured speed, and the panel says why (a GPU's speed would be scaled by peak rates instead).
    from engine.protocol import GetInfo

    with qtbot.waitSignal(page.engine.info_received, timeout=60000) as info:
        page.engine.submit(GetInfo)
    assert info.args[0].device_kind == "cpu"
    page.cost.set_audio_hours(10.0)
    page.cost.set_throughput(50.0, "test")
    assert page.cost.rows() and all(r.speed is None and r.cost_usd == float("inf") for r in page.cost.rows())
    assert "measured on a CPU" in page.cost.warning_label.text()
