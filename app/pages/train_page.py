"""The Train page: configure a run, start, stop and resume it, and watch it learn.

Start launches the training as a process of its own (``parcero train``, see
app.training_runs), so the engine process stays free to transcribe and evaluate
meanwhile, and the run goes on when the window closes. The page follows the run
folder as it follows any run (Attach…), through app.run_follower: the records the
run writes, its attention samples, and how it ended. A window opened while such a
run still trains re-attaches to it (:meth:`TrainPage.reattach`); a run whose
process died is said to have died.

"Pause" is Stop (SIGTERM: the trainer saves a checkpoint at the next step)
followed by Resume (training continues from the newest checkpoint, exactly where
it was). Measuring the throughput for the cost estimate (a few steps in a
scratch folder) still runs in the engine process: it lasts seconds.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout,
    QWidget,
)

from app import training_runs
from app.cost import batches_per_epoch, epochs_for_steps, steady_throughput
from app.engine_messages import error_text, exit_reason_text
from app.i18n import QT_TRANSLATE_NOOP
from app.run_files import METRICS, has_checkpoints
from app.run_follower import RunFollower, describe_end, runs_to_reattach
from app.widgets.cost_estimate import CostEstimate
from app.widgets.sample_attention import SampleAttention
from app.widgets.train_form import TrainForm, user_runs_dir
from app.widgets.train_plots import TrainPlots
from app.time_text import clock
from engine.configio import read_toml, write_toml
from engine.errors import ConfigError, ParceroError
from engine.protocol import Train
from engine.training import runstate
from engine.training.config import DataConfig
from engine.training.runstate import RunState

log = logging.getLogger(__name__)

ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
HINT_STYLE = "QLabel { font-weight: 600; }"
NOTE_STYLE = ""  # advice that blocks nothing
EXISTING = QT_TRANSLATE_NOOP("TrainPage", "“{name}” already holds checkpoints: Resume it, or choose another name "
                                         "or folder")
MEASURE_STEPS = 5  # optimizer steps of the throughput warm-up run
RECENT_THROUGHPUTS = 200  # log steps the live throughput is the median of: the current speed, not the average
CONFIG_FILTER = QT_TRANSLATE_NOOP("TrainPage", "Run configs (*.toml);;All files (*)")


class TrainPage(QWidget):
    training_started = Signal(str)  # run folder
    training_finished = Signal(dict)  # how the run ended: run_dir, step, best_cer, last_checkpoint
    training_stopped = Signal(str)  # path of the checkpoint saved on stopping ("" if none)
    training_failed = Signal(str)  # message shown to the user (an error, or a process that died)
    run_attached = Signal(str)  # run folder now followed
    records_read = Signal(list)  # metrics.jsonl and live.jsonl records just read from the run folder, in order
    throughput_measured = Signal(float)  # audio seconds per second of the warm-up run

    def __init__(self, engine, parent: QWidget | None = None):
        super().__init__(parent)
        self.engine = engine
        self.run_dir: Path | None = None  # the run on screen (started here or attached)
        self.follower = RunFollower(self)  # reads its folder: records, samples, run.json
        self._measure_job = None
        self._measure_dir: Path | None = None
        self._max_steps = 0
        self._shown_step: int | None = None  # the step the bar shows
        self._first: tuple[float, int] | None = None  # (time, step) of the first train record this session
        self._throughputs: list[float] = []
        self._measure_values: list[float] = []
        self._last_checkpoint = ""
        self._manifest_key: tuple[str, float] | None = None
        self._durations: list[float] = []  # of the training utterances the trainer keeps
        self._batching: tuple | None = None
        self._batches = 0  # batches per epoch
        self._build()
        self._connect()
        self.on_form_changed()

    # ---- building -------------------------------------------------------------------

    def _build(self) -> None:
        self.form = TrainForm()
        self.open_config_button = QPushButton(self.tr("Open config…"))
        self.save_config_button = QPushButton(self.tr("Save config…"))
        self.attach_button = QPushButton(self.tr("Attach…"))
        self.attach_button.setToolTip(self.tr("Follow a run folder written by `parcero train` or torchrun"))
        self.start_button = QPushButton(self.tr("▶ Start"))
        self.stop_button = QPushButton(self.tr("■ Stop"))
        self.stop_button.setToolTip(self.tr("Stop at the next step and save a checkpoint (Resume continues from it)"))
        self.resume_button = QPushButton(self.tr("Resume"))
        self.resume_button.setToolTip(self.tr("Continue the run in the folder from its newest checkpoint"))
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat(self.tr("no run"))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        self.plots = TrainPlots()
        self.samples = SampleAttention()
        self.cost = CostEstimate()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, self.tr("Curves"))
        self.tabs.addTab(self.samples, self.tr("Attention over training"))
        self.tabs.addTab(self.cost, self.tr("Cost estimate"))

        buttons = QHBoxLayout()
        for b in (self.open_config_button, self.save_config_button, self.attach_button, self.start_button,
                  self.stop_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addWidget(self.error_label, 1)
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.status_label)
        right_layout.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([420, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.form.changed.connect(self.on_form_changed)
        self.open_config_button.clicked.connect(self.choose_config_file)
        self.save_config_button.clicked.connect(self.choose_config_save_file)
        self.attach_button.clicked.connect(self.choose_run_to_attach)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.cost.measure_requested.connect(self.measure_throughput)
        f = self.follower
        f.records_read.connect(self.on_follower_records_read)
        f.restarted.connect(self.on_follower_restarted)
        f.samples_changed.connect(self.on_follower_samples_changed)
        f.ended.connect(self.on_follower_ended)
        e = self.engine
        # The cost estimate scales a GPU's measured speed to other GPUs, and prices nothing from a CPU's.
        e.info_received.connect(self.on_engine_info_received)
        e.train_metrics.connect(self.on_engine_train_metrics)
        e.job_finished.connect(self.on_engine_job_finished)
        e.job_failed.connect(self.on_engine_job_failed)
        e.job_cancelled.connect(self.on_engine_job_cancelled)
        e.state_changed.connect(self.on_engine_state_changed)
        e.worker_exited.connect(self.on_engine_worker_exited)

    # ---- commands -------------------------------------------------------------------

    def start(self, resume: bool = False) -> bool:
        """Launch the form's config as a training process of its own; False (with the reason shown) if it cannot."""
        problem = self._start_problem(resume)
        if problem:
            self.form.reveal()  # the form's problems speak now, even in fields not edited yet
            self._update_controls()
            self.error_label.setStyleSheet(ERROR_STYLE)
            self.error_label.setText(problem)
            return False
        config = self.form.config_dict()
        run_dir = self.form.run_dir().absolute()
        config["run"]["dir"] = str(run_dir)  # the config is written into the run folder: no relative paths
        self.follower.detach()
        self._show_run(run_dir, int(config["train"]["max_steps"]))
        # A fresh start draws only what the new process writes (a folder may hold the log of a run that
        # never saved a checkpoint); Resume draws the run's history first, then goes on.
        self.follower.open(run_dir, from_end=not resume)
        if resume:
            self.follower.read()
            self._first = None  # the speed and ETA from this session's pace, not across the pause
        try:
            launched = training_runs.launch(config, run_dir, resume=resume)
        except (ParceroError, OSError) as e:
            self.follower.detach()
            self._set_status(self.tr("The training could not start: {error}").format(error=error_text(e)),
                             error=True)
            self._update_controls()
            return False
        self.follower.follow(launched.state)
        self._last_checkpoint = ""
        self._set_status(
            (self.tr("Resuming {run_dir} in a process of its own (pid {pid}) …") if resume
             else self.tr("Starting {run_dir} in a process of its own (pid {pid}) …")).format(
                run_dir=run_dir, pid=launched.state.pid))
        self._update_controls()
        self.training_started.emit(str(run_dir))
        return True

    def resume(self) -> bool:
        return self.start(resume=True)

    def stop(self) -> None:
        """Ask the training process to stop; it saves a checkpoint at its next step (``training_stopped`` follows)."""
        if self.follower.stop_run():  # (a process already gone: how it ended is said at once)
            self._set_status(self.tr("Stopping: saving a checkpoint at the next step …"))
            self._update_controls()

    def measure_throughput(self) -> bool:
        """Train the form's model for a few steps in a scratch folder to time it; updates the cost estimate."""
        problem = self.form.problem()
        if problem or self._busy():
            self._set_status(problem or self.tr("Wait for the current job to end."), error=True)
            return False
        config = self.form.config_dict()
        self._measure_dir = Path(tempfile.mkdtemp(prefix="parcero-throughput-"))
        # No dev set (no evaluation pause) and no periodic checkpoint: only the steps themselves are timed.
        config["run"] = {"name": "throughput", "dir": str(self._measure_dir / "run")}
        config["data"]["dev"] = ""
        config["train"].update(max_steps=MEASURE_STEPS, epochs=0, log_every=1, eval_every=10**6,
                               checkpoint_every=10**6)
        self._measure_values = []
        try:
            self._measure_job = self.engine.submit(Train, config=config, base_dir=str(self._measure_dir))
        except ParceroError as e:
            self._end_measurement(error_text(e))
            return False
        self.cost.set_measuring(True)
        self._update_controls()
        return True

    def attach(self, run_dir: str | Path, reattached: bool = False) -> bool:
        """Follow a run folder: its metrics, live points, samples, config and (with run.json) its process.

        ``reattached``: the window has just opened and found this run still training (the status says so).
        """
        run_dir = Path(run_dir).absolute()
        state = runstate.read_run_state(run_dir)
        if not (run_dir / METRICS).is_file() and not (run_dir / "config.toml").is_file() and state is None:
            self._set_status(self.tr("{run_dir}: not a run folder (no metrics.jsonl or config.toml)").format(
                run_dir=run_dir), error=True)
            return False
        max_steps = 0
        try:
            config = read_toml(run_dir / "config.toml")
            self.form.set_config_dict(config)
            max_steps = int((config.get("train") or {}).get("max_steps", 0))
        except Exception as e:  # noqa: BLE001 - a missing or odd config only costs the progress bar
            log.info("%s: config not read: %s", run_dir, e)
        self.follower.detach()
        self._show_run(run_dir, max_steps)
        self.follower.open(run_dir)
        self.follower.follow(state)
        if state is None:
            self._set_status(self.tr("Following {run_dir} (written by another process)").format(run_dir=run_dir))
        elif state.active and not state.local:
            self._set_status(self.tr("Following {run_dir}: it trains on {host}, so this window can follow it but "
                                     "not stop it").format(run_dir=run_dir, host=state.host))
        elif state.active and reattached:
            self._set_status(self.tr("Re-attached to {run_dir}: its training (process {pid}) went on while "
                                     "Parcero was closed. Stop saves a checkpoint.").format(run_dir=run_dir,
                                                                                            pid=state.pid))
        elif state.active:
            self._set_status(self.tr("Following {run_dir}: training in process {pid}. Stop saves a "
                                     "checkpoint.").format(run_dir=run_dir, pid=state.pid))
        self.follower.poll()  # the history now; a run that has ended (or died) says so at once
        self._update_controls()
        self.run_attached.emit(str(run_dir))
        return True

    def reattach(self) -> bool:
        """Follow the newest run that still trains, of those a window launched or in the user's runs folder.

        Called when the window opens. Without one, the newest run a window launched that ended (or died)
        while no window watched is shown with its outcome (see run_follower.runs_to_reattach). False if
        there is nothing.
        """
        running, shown = runs_to_reattach(user_runs_dir())
        if running:
            self.attach(running[0], reattached=True)
            if len(running) > 1:
                self._set_status(self.status_label.text() + " " + self.tr(
                    "{count} other runs are training too; Attach… follows one of them: {runs}").format(
                        count=len(running) - 1, runs=", ".join(str(d) for d in running[1:])))
        elif shown is not None:
            self.attach(shown)
        return bool(running) or shown is not None

    def choose_run_to_attach(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Attach to a run folder"),
                                                str(self.form.run_dir().parent))
        if path:
            self.attach(path)

    def load_config(self, path: str | Path) -> bool:
        """Fill the form from a run config TOML (paths in it are relative to its folder)."""
        try:
            self.form.load_toml(path)
        except (ConfigError, OSError) as e:
            self._set_status(error_text(e), error=True)
            return False
        return True

    def choose_config_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open a run config"), "", self.tr(CONFIG_FILTER))
        if path:
            self.load_config(path)

    def choose_config_save_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the run config"), str(self.form.run_dir()) + ".toml",
                                              self.tr(CONFIG_FILTER))
        if path:
            write_toml(path, self.form.config_dict())

    @property
    def training(self) -> bool:
        """Whether the run on screen is training now (in its own process: closing the window does not stop it)."""
        return self.follower.state is not None and self.follower.state.active

    @property
    def training_pid(self) -> int | None:
        """The pid of the process training the run on screen, while it trains."""
        return self.follower.state.pid if self.training else None

    def shutdown(self) -> None:
        self.follower.shutdown()

    # ---- showing a run --------------------------------------------------------------

    def _show_run(self, run_dir: Path, max_steps: int) -> None:
        self.run_dir, self._max_steps = run_dir, max_steps
        self._first, self._throughputs, self._shown_step = None, [], None
        self.plots.clear()
        self.samples.set_run_dir(run_dir)
        self.progress.setRange(0, max(1, max_steps))
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("waiting for the first step …"))

    @Slot(object)
    def on_follower_ended(self, state: RunState) -> None:
        """The run has ended (everything it wrote before is drawn): say how, and signal it if it was news."""
        if state.step is not None:  # the bar ends at the step the run ended at (no live point for it)
            self._shown_step = state.step
        end = describe_end(state, self.run_dir, self._last_checkpoint)
        self._set_status(end.text, error=end.error, full_path=end.tooltip)
        self._end_job()
        if not self.follower.announce:
            return
        if state.state == runstate.FINISHED:
            self.training_finished.emit({"run_dir": str(self.run_dir), "step": state.step,
                                         "best_cer": state.best_cer, "last_checkpoint": state.last_checkpoint})
        elif state.state == runstate.STOPPED:
            self.training_stopped.emit(end.checkpoint)
        else:
            self.training_failed.emit(end.message)

    def _take_records(self, records: list[dict]) -> None:
        self.plots.add_records(records)
        last = None
        for r in records:
            kind = r.get("kind")
            if kind in ("train", "live") and "step" in r:  # live: the trainer's points between log steps
                last = r
                step, now = int(r["step"]), float(r.get("time", time.time()))
                if self._first is None or step < self._first[1]:
                    self._first = (now, step)
                if kind == "train" and r.get("audio_seconds_per_second"):
                    self._throughputs.append(float(r["audio_seconds_per_second"]))
            elif kind == "checkpoint":
                self._last_checkpoint = str(r.get("path", ""))
            elif kind == "note" and r.get("message"):
                self._set_status(str(r["message"]))
        if last is not None:  # once per batch of records: a long history read back stays quick
            del self._throughputs[:-RECENT_THROUGHPUTS]
            measured = steady_throughput(self._throughputs)
            if measured:
                self.cost.set_throughput(measured, self.tr("live, median of this run's recent log steps"))
            self._show_progress(int(last["step"]), float(last.get("time", time.time())), last.get("eta_seconds"))

    def _show_progress(self, step: int, now: float, eta: float | None = None, ended: bool = False) -> None:
        """The bar at ``step``; the ETA is the trainer's (from its measured step time) or this page's estimate."""
        self._shown_step = step
        total = self._max_steps
        text = (self.tr("step {step} / {total}") if total else self.tr("step {step}")).format(
            step=f"{step:,}", total=f"{total:,}")
        t0, s0 = self._first or (now, step)
        if ended:
            eta = None
        elif step > s0 and now > t0:
            rate = (step - s0) / (now - t0)
            text += " · " + self.tr("{rate} steps/s").format(rate=f"{rate:.2f}")
            if total > step:
                eta = (total - step) / rate if eta is None else eta
        if eta is not None and total > step:
            text += " · " + self.tr("ETA {time}").format(time=clock(eta))
        self.progress.setValue(min(step, max(1, total)))
        self.progress.setFormat(text)

    # ---- slots ----------------------------------------------------------------------

    @Slot()
    def on_form_changed(self) -> None:
        self._update_estimate_inputs(self.form.config_dict())
        self._update_controls()

    @Slot(list)
    def on_follower_records_read(self, records: list) -> None:
        self._take_records(records)
        self.records_read.emit(records)

    @Slot()
    def on_follower_restarted(self) -> None:  # a new run in the same folder: its curves start over
        self._show_run(self.run_dir, self._max_steps)

    @Slot(list)
    def on_follower_samples_changed(self, _steps: list) -> None:
        self.samples.refresh()

    @Slot(object)
    def on_engine_info_received(self, info) -> None:
        self.cost.set_measured_device(info.device_kind, info.gpu_name)

    @Slot(int, dict)
    def on_engine_train_metrics(self, job: int, record: dict) -> None:
        if job == self._measure_job and record.get("kind") == "train":
            self._measure_values.append(float(record.get("audio_seconds_per_second") or 0.0))

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        if job == self._measure_job:
            self._end_measurement()

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, detail: str) -> None:
        if job == self._measure_job:
            self._end_measurement(message)

    @Slot(int)
    def on_engine_job_cancelled(self, job: int) -> None:
        if job == self._measure_job:
            self._end_measurement(self.tr("cancelled"))

    @Slot(str)
    def on_engine_state_changed(self, _state: str) -> None:
        self._update_controls()

    @Slot(int, str)
    def on_engine_worker_exited(self, code: int, reason: str) -> None:
        if self._measure_job is not None:
            self._end_measurement(exit_reason_text(reason))

    def _end_job(self) -> None:
        if self._shown_step is not None:  # no speed or ETA once the run has ended
            self._show_progress(self._shown_step, 0.0, ended=True)
        self.samples.refresh()
        self.plots.redraw()
        self._update_controls()

    def _end_measurement(self, problem: str = "") -> None:
        self._measure_job = None
        self.cost.set_measuring(False)
        if self._measure_dir is not None:
            shutil.rmtree(self._measure_dir, ignore_errors=True)
            self._measure_dir = None
        measured = steady_throughput(self._measure_values)
        if measured and not problem:
            self.cost.set_throughput(measured, self.tr("warm-up run of {steps} steps").format(steps=MEASURE_STEPS))
            self.throughput_measured.emit(measured)
        elif problem:
            self._set_status(self.tr("Throughput not measured: {problem}").format(problem=problem), error=True)
        self._update_controls()

    # ---- state ----------------------------------------------------------------------

    def _busy(self) -> bool:
        return self.training or self._measure_job is not None

    def _set_status(self, text: str, error: bool = False, full_path: str = "") -> None:
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self.status_label.setText(text)
        self.status_label.setToolTip(full_path)

    def _start_problem(self, resume: bool, form_problem: str | None = None) -> str:
        if self.training:
            return self.tr("A training run is already running: stop it first, or wait for it to end.")
        if self._measure_job is not None:
            return self.tr("Wait for the throughput measurement to end.")
        problem = self.form.problem() if form_problem is None else form_problem
        if problem:
            return problem
        run_dir = self.form.run_dir()
        other = runstate.read_run_state(run_dir)
        if other is not None and training_runs.is_running(other):
            return self.tr("Process {pid} is training {name} now: Attach… follows it.").format(
                pid=other.pid, name=run_dir.name)
        exists = has_checkpoints(run_dir)
        if resume and not exists:
            return self.tr("{run_dir}: no checkpoint to resume from").format(run_dir=run_dir)
        if not resume and exists:
            return self._existing_problem()
        return ""

    def _update_controls(self) -> None:
        ready = getattr(self.engine, "state", "ready") in ("ready", "busy")  # for the throughput measurement
        busy = self._busy()
        form_problem = self.form.problem()
        # A problem of a field not edited yet is not said (nor Start disabled) until Start is pressed.
        unsaid = self.form.shown_problem(form_problem) != form_problem  # (also marks or clears the field)
        start_problem = self._start_problem(False, form_problem)
        resume_problem = self._start_problem(True, form_problem)
        unsaid = unsaid and start_problem == form_problem
        # Training runs in a process of its own: Start does not wait for the engine.
        self.start_button.setEnabled(not start_problem or unsaid)
        self.resume_button.setEnabled(not resume_problem)
        run = self.follower.state
        self.stop_button.setEnabled(self.training and run.local and run.world_size == 1 and not self.follower.stopping)
        self.cost.measure_button.setEnabled(ready and not busy and not form_problem)
        self.form.setEnabled(not busy)
        if not busy:  # inline next to Start: why it is disabled
            # Not an error: Resume is the way on.
            hint = not resume_problem and start_problem == self._existing_problem()
            note = "" if start_problem else self._short_run_note()
            self.error_label.setStyleSheet(NOTE_STYLE if note else HINT_STYLE if hint else ERROR_STYLE)
            self.error_label.setText("" if unsaid else start_problem or note)
        else:  # the status line speaks for the run in progress
            self.error_label.setText("")
        self.error_label.setToolTip(str(self.form.run_dir()))
        self.start_button.setToolTip(start_problem or self.tr("Start training this configuration in a process of "
                                                              "its own (it goes on if Parcero closes)"))

    def _short_run_note(self) -> str:
        """A run shorter than its warm-up never reaches its learning rate: say so (it may be meant, as a test)."""
        train = self.form.config_dict()["train"]
        if train["warmup"] <= train["max_steps"]:
            return ""
        return self.tr("The warm-up ({warmup} steps) is longer than the run ({steps}): the learning rate stays "
                       "low.").format(warmup=f"{train['warmup']:,}", steps=f"{train['max_steps']:,}")

    def _existing_problem(self) -> str:
        return self.tr(EXISTING).format(name=self.form.run_dir().name)

    def _update_estimate_inputs(self, d: dict) -> None:
        """Hours of training audio and epochs for the cost panel, re-read only when their inputs changed."""
        data, train, defaults = d["data"], d["train"], DataConfig()
        lo, hi = data.get("min_duration", defaults.min_duration), data.get("max_duration", defaults.max_duration)
        path = data["train"]
        try:
            key = (path, Path(path).stat().st_mtime, lo, hi) if path else None
        except OSError:
            key = None
        if key != self._manifest_key:
            self._manifest_key, self._durations = key, []
            if key is not None:
                from engine.data.manifest import read_manifest

                try:  # as the trainer does: utterances outside the duration limits are left out
                    self._durations = [u.duration for u in read_manifest(path).utterances if lo <= u.duration <= hi]
                except OSError:
                    pass
            self.cost.set_audio_hours(sum(self._durations) / 3600.0)
        batching = (key, data["max_frames"], data.get("num_buckets", defaults.num_buckets),
                    data.get("max_batch_size", defaults.max_batch_size))
        if batching != self._batching:
            self._batching = batching
            self._batches = batches_per_epoch(self._durations, *batching[1:])
        epochs = epochs_for_steps(train["max_steps"], train["accum_steps"], self._batches)
        self.cost.set_epochs(min(epochs, train["epochs"]) if train["epochs"] else epochs)
