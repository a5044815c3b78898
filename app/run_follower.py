"""Following a run folder that a training process writes: its records in order, its samples, how it ended.

A run trains in a process of its own (``parcero train``, started by the Train page, a terminal or
torchrun; see app.training_runs) and writes everything to its folder. :class:`RunFollower` reads
that folder on a timer, for the Train page's Start and Attach… alike:

- metrics.jsonl (log steps, evaluations, checkpoints) and live.jsonl (the points the trainer writes a
  few times a second between log steps, so the bar and the curves move from the first step whatever
  the run's log interval), merged in the order they were written: ``records_read``;
- samples/ (the attention over training): ``samples_changed`` when an evaluation saved new ones;
- run.json: whether the process still lives and how it ended: ``ended``. A process that died without
  a word (killed, crashed) is recorded as such in its run.json, so no run stays "running" for ever.

:func:`describe_end` says how a run ended in the Train page's words (its "TrainPage" translations),
and :func:`runs_to_reattach` picks what a window opened later follows again. The reading itself is
app.run_files' and engine.training.runstate's. Qt here is a QObject and its timer.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app import training_runs
from app.engine_messages import engine_message, exit_reason_text
from app.i18n import translate
from app.run_files import METRICS, MetricsTail, sample_steps
from engine.training import runstate
from engine.training.runstate import LIVE, RunState

log = logging.getLogger(__name__)

POLL_MS = 500  # how often a followed run folder is read
HISTORY_BYTES = 1 << 30  # a file read from its top (a history read back) is read in one go
POLL_BYTES = 8 << 20  # then at most this much a poll, so a huge log never stalls the window


class RunFollower(QObject):
    """Poll one run folder: :meth:`open` it, :meth:`follow` it (with its run.json, if it has one), :meth:`detach`."""

    records_read = Signal(list)  # metrics.jsonl and live.jsonl records just read, in the order they were written
    restarted = Signal()  # a record file was replaced (a new run in the folder): records_read follows with all of it
    samples_changed = Signal(list)  # the steps with saved attention samples, ascending, when they changed
    ended = Signal(object)  # RunState: how the process ended (finished, stopped, failed; "train.died" if it died)

    def __init__(self, parent: QObject | None = None, interval_ms: int = POLL_MS):
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.state: RunState | None = None  # run.json while its end is not seen (None: no run.json)
        self.following = False  # a run folder is followed (its end seen or not)
        self.announce = False  # the run was at work when followed: its end is news, not history
        self.stopping = False  # Stop was asked of its process
        self._tails: list[MetricsTail] = []  # metrics.jsonl and live.jsonl
        self._sample_steps: list[int] = []
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.on_timer_timeout)

    @property
    def polling(self) -> bool:
        return self._timer.isActive()

    def open(self, run_dir: str | Path, from_end: bool = False) -> None:
        """Read ``run_dir``'s records from their tops (its history), or ``from_end``: only what is written next."""
        self.detach()
        self.run_dir, self._sample_steps = Path(run_dir), []
        self._tails = [MetricsTail(self.run_dir / METRICS), MetricsTail(self.run_dir / LIVE)]
        if from_end:
            for tail in self._tails:
                try:
                    tail.offset = os.stat(tail.path).st_size
                except OSError:
                    pass

    def follow(self, state: RunState | None) -> None:
        """Poll the opened folder; ``state``: its run.json, whose process is then watched (None: it has none)."""
        self.following = True
        self.state, self.stopping = state, False
        self.announce = state is not None and state.active
        self._timer.start()

    def detach(self) -> None:
        """Follow nothing (the folder's records are no longer read)."""
        self.following, self._tails, self.state, self.stopping, self.announce = False, [], None, False, False
        self._timer.stop()

    def shutdown(self) -> None:
        """Stop polling (the window closes; the run goes on)."""
        self._timer.stop()

    def stop_run(self) -> bool:
        """Ask the run's process to stop: it saves a checkpoint at its next step and ``ended`` follows.

        False if there is nothing to ask (no process followed, or already asked), or if the process is
        gone: the folder is then read at once, so ``ended`` says how it ended.
        """
        if self.state is None or self.stopping:
            return False
        if training_runs.stop(self.state):
            self.stopping = True
            return True
        self.poll()
        return False

    @Slot()
    def on_timer_timeout(self) -> None:
        self.poll()

    def poll(self) -> None:
        """Read what the folder gained: records, samples, and run.json (``ended`` once the process has)."""
        if self._tails:
            self.read()
        if self.run_dir is not None:
            steps = sample_steps(self.run_dir)
            if steps != self._sample_steps:
                self._sample_steps = steps
                self.samples_changed.emit(steps)
        self._watch_process()

    def read(self) -> list[dict]:
        """What metrics.jsonl and live.jsonl gained since the last read, in the order it was written.

        Only whole lines: a line the writer is half-way through waits for the next read. A file that
        was replaced (a new run in the same folder) starts both over from their tops, after ``restarted``.
        """
        records, restarted = [], False
        for tail in self._tails:
            records += tail.read_new(max_bytes=HISTORY_BYTES if tail.offset == 0 else POLL_BYTES)
            restarted |= tail.restarted
        if restarted:
            self.restarted.emit()
            records = []
            for tail in self._tails:
                tail.offset = 0
                records += tail.read_new(max_bytes=HISTORY_BYTES)
        records.sort(key=_record_time)
        if records:
            self.records_read.emit(records)
        return records

    def _watch_process(self) -> None:
        """Read run.json: end the run the way it ended, or record that its process died without a word."""
        if self.state is None:
            return
        state = runstate.read_run_state(self.run_dir) or self.state  # (removed under us: the process we knew)
        if state.state in runstate.ENDED:
            self._end(state)
            return
        self.state = state  # starting -> running, or a new process took the folder over
        if training_runs.is_running(state):
            return
        again = runstate.read_run_state(self.run_dir)  # it may have written its end as it went
        if again is not None and again.state in runstate.ENDED:
            self._end(again)
        elif self.stopping:  # stopped before it could save anything (still starting, say)
            from engine.training.checkpoint import latest_checkpoint

            self._end(runstate.end_run(self.run_dir, runstate.STOPPED, current=state,
                                       last_checkpoint=latest_checkpoint(self.run_dir)))
        else:
            self._end(training_runs.mark_died(self.run_dir, state, training_runs.exit_text(state)))

    def _end(self, state: RunState) -> None:
        self.read()  # everything the run wrote before its end
        self.state, self.stopping = None, False
        training_runs.forget(self.run_dir)
        self._timer.stop()
        self.ended.emit(state)


@dataclass
class RunEnd:
    """How a followed run ended, in the Train page's words."""

    text: str  # its status line
    tooltip: str  # the model or checkpoint in full, or what the process printed last
    error: bool = False
    message: str = ""  # a failure alone, without what comes next (for the page's training_failed)
    checkpoint: str = ""  # the checkpoint Resume continues from ("" if none was saved)


def describe_end(state: RunState, run_dir: Path, last_checkpoint: str = "") -> RunEnd:
    """How the run in ``run_dir`` ended (its run.json: ``state``); ``last_checkpoint``: the last its records named."""
    saved = state.last_checkpoint or last_checkpoint
    then = (" " + translate("TrainPage", "Last checkpoint: {path}; Resume continues from it.").format(
        path=_near(saved, run_dir)) if saved else " " + translate("TrainPage", "No checkpoint was saved."))
    if state.state == runstate.FINISHED:
        best = state.best_cer
        # Without a dev set there is no "best": the last checkpoint is the model.
        model = (run_dir / "best" if best is not None
                 else state.last_checkpoint or translate("TrainPage", "none saved"))
        step = f"{state.step or 0:,}"
        text = (translate("TrainPage", "Finished at step {step}; best dev CER {cer} %. Model: {model}").format(
                    step=step, cer=f"{100 * best:.2f}", model=_near(model, run_dir)) if best is not None
                else translate("TrainPage", "Finished at step {step}. Model: {model}").format(
                    step=step, model=_near(model, run_dir)))
        return RunEnd(text, str(model), checkpoint=saved or "")
    if state.state == runstate.STOPPED:
        if state.message:  # a second Ctrl-C in its terminal: the steps since the last checkpoint are lost
            text = translate("TrainPage", "Stopped without saving the last steps.") + then
        elif saved:
            text = translate("TrainPage", "Stopped; checkpoint saved in {path}. Resume continues from it.").format(
                path=_near(saved, run_dir))
        else:
            text = translate("TrainPage", "Stopped before the first step; nothing to save.")
        return RunEnd(text, saved or "", checkpoint=saved or "")
    if state.code == "train.died":
        reason = str(state.params.get("reason") or "")
        message = (translate("TrainPage", "The training process ended unexpectedly ({reason}).").format(
            reason=exit_reason_text(reason)) if reason
            else translate("TrainPage", "The training process ended unexpectedly (killed or crashed)."))
        text = message + then
    else:
        message = engine_message(state.code, state.params, state.message)
        text = translate("TrainPage", "Training failed: {message}").format(message=message) + then
    printed = training_runs.log_tail(run_dir)
    log.warning("training of %s ended: %s\n%s", run_dir, state.message, printed)
    return RunEnd(text, printed or saved or "", error=True, message=message, checkpoint=saved or "")


def runs_to_reattach(runs_folder: str | Path | None) -> tuple[list[Path], Path | None]:
    """What a window that opens follows again: the runs training now (newest first) and a run to show.

    The runs are those a window launched (training_runs.remembered) and those in ``runs_folder``. The run
    to show, when none trains: the newest run a window launched, which ended (or died) while no window
    watched (None if there is none). Runs whose process died without a word are recorded as died in
    their run.json — all but the one shown, which says it when it is followed — and launched runs known
    to have ended are forgotten, so none stays "running" or is found again for ever.
    """
    runs = training_runs.known_runs(runs_folder)
    launched = {Path(p).absolute() for p in training_runs.remembered()}
    running, dead = [], []
    for run_dir, state in runs:
        if state.active and state.local:
            (running if training_runs.is_running(state) else dead).append((run_dir, state))
    shown = None
    if not running:
        shown = next((run_dir for run_dir, _ in runs if run_dir in launched), None)
    for run_dir, state in dead:
        if run_dir != shown:
            training_runs.mark_died(run_dir, state)
    for run_dir in launched:
        state = runstate.read_run_state(run_dir)
        if state is None or not state.active:
            training_runs.forget(run_dir)
    return [run_dir for run_dir, _ in running], shown


def _near(path, run_dir: Path) -> str:
    """``path`` from the runs folder on (``<run>/checkpoints/step-000004``): a full temp path does not wrap."""
    try:
        return str(Path(path).relative_to(run_dir.parent))
    except (TypeError, ValueError, AttributeError):
        return str(path)


def _record_time(record: dict) -> float:
    t = record.get("time")
    return float(t) if isinstance(t, (int, float)) else 0.0
