"""The engine process as a QObject: typed Qt signals on the GUI thread.

:class:`QtEngineClient` owns an :class:`engine.client.EngineClient`. Its reader
thread hands every event to one private relay signal; the queued connection
carries the event over to the GUI thread, where it is dispatched to the typed
signals below. Widgets therefore never touch a lock, and nothing here blocks
the window: starting and restarting the worker (a second or more to import
torch) happen on a short-lived background thread.

    engine = QtEngineClient(self)
    engine.partial_transcript.connect(self.on_engine_partial_transcript)
    engine.ready.connect(lambda pid: engine.submit(LoadModel, path=model_dir))
    engine.start()
    ...
    engine.close()  # in the window's closeEvent
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.engine_messages import error_text, failure_text
from app.i18n import translate
from engine.client import EngineClient
from engine.errors import ParceroError
from engine.protocol import (
    AttentionFrame, Cancelled, ChunkResult, Command, EngineInfo, EvalResult, Event, Failed, Finished, LiveText,
    PartialTranscript, Progress, Ready, Started, TrainMetrics, WorkerExited,
)

log = logging.getLogger(__name__)

STATES = ("starting", "ready", "busy", "stopped", "crashed")


class QtEngineClient(QObject):
    """Start, use and stop the engine process from the GUI thread.

    Parameters
    ----------
    parent : QObject or None
    start_timeout : float
        Seconds to wait for the worker's first sign of life.
    """

    ready = Signal(int)  # pid of the engine process, which now takes commands
    start_failed = Signal(str)  # message: the process could not be started
    info_received = Signal(object)  # EngineInfo: device, GPU, versions, loaded model
    job_started = Signal(int, str)  # job id, kind ("transcribe", "train", ...)
    progress_changed = Signal(int, float, float, str)  # job id, done, total, unit ("seconds", "utterances", "steps")
    partial_transcript = Signal(int, object)  # job id, PartialTranscript (tokens and text so far in a chunk)
    attention_frame = Signal(int, object)  # job id, AttentionFrame (float16 matrix)
    chunk_finished = Signal(int, object)  # job id, ChunkResult (text and word times of one chunk)
    live_text = Signal(int, object)  # job id, LiveText (words committed by a live pass, the tentative tail)
    train_metrics = Signal(int, dict)  # job id, one metrics.jsonl record or "live" point
    eval_result = Signal(int, object)  # job id, EvalResult
    job_finished = Signal(int, object)  # job id, result (plain data: dicts, lists, strings, numbers)
    job_failed = Signal(int, str, str)  # job id (0: a command the engine could not read), message, detail
    job_cancelled = Signal(int)  # job id
    job_stopped_early = Signal(int, object)  # job id, what it had done (a dict), just before job_cancelled
    worker_exited = Signal(int, str)  # exit code (-N: killed by signal N; -1: unknown), reason
    state_changed = Signal(str)  # "starting", "ready", "busy", "stopped" or "crashed"

    _event_arrived = Signal(object)  # Event, emitted on the client's reader thread
    _start_ended = Signal(str)  # "" or why start/restart failed, emitted on the starter thread

    def __init__(self, parent: QObject | None = None, start_timeout: float = 120.0):
        super().__init__(parent)
        # Events are dispatched as they come and never waited for, so the client keeps none.
        self._client = EngineClient(on_event=self._event_arrived.emit, start_timeout=start_timeout,
                                    keep_events=False)
        self._event_arrived.connect(self.on_client_event_arrived, Qt.ConnectionType.QueuedConnection)
        self._start_ended.connect(self.on_starter_ended, Qt.ConnectionType.QueuedConnection)
        self._state = "stopped"
        self._active: set[int] = set()  # jobs started and not ended: "busy" while any
        self._exit_expected = False  # a WorkerExited we caused (close, restart) is no crash
        self._starter: threading.Thread | None = None

    # ---- commands -----------------------------------------------------------------

    def start(self) -> None:
        """Start the worker in the background; ``ready`` (or ``start_failed``) follows."""
        if self._client.alive or self._starting():
            return
        self._begin_start(self._client.start)

    def restart(self) -> None:
        """Replace the worker by a fresh one (the model must be loaded again); ``ready`` follows."""
        if self._starting():
            return
        self._exit_expected = True
        self._begin_start(self._client.restart)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker and wait for it to end (blocks up to ``timeout`` seconds and a little more)."""
        self._exit_expected = True
        if self._starter is not None:
            self._starter.join()  # a start in flight would otherwise leave a worker behind
            self._starter = None
        self._client.close(timeout)
        self._active.clear()
        self._set_state("stopped")

    def submit(self, command_type: type[Command], **fields) -> int:
        """Send a job; returns its id, which every signal about it carries.

        Raises
        ------
        ParceroError
            The worker is not running (not started yet, crashed or closed).
        """
        return self._client.submit(command_type, **fields)

    def cancel(self, job_id: int) -> None:
        """Ask the worker to stop a job; ``job_cancelled`` follows unless it ended first."""
        self._client.cancel(job_id)

    def live_audio(self, job_id: int, samples) -> None:
        """More recorded audio for live job ``job_id`` (mono float32 at the model's rate)."""
        self._client.live_audio(job_id, samples)

    def stop_live(self, job_id: int) -> None:
        """The recording ended: the live job decodes what it has and finishes."""
        self._client.stop_live(job_id)

    # ---- state --------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def alive(self) -> bool:
        return self._client.alive

    @property
    def pid(self) -> int | None:
        return self._client.pid

    @property
    def running_jobs(self) -> set[int]:
        return self._client.running_jobs

    def _starting(self) -> bool:
        return self._starter is not None and self._starter.is_alive()

    def _begin_start(self, how) -> None:
        self._set_state("starting")

        def run() -> None:
            try:
                how()
            except ParceroError as e:
                self._start_ended.emit(error_text(e))
            except Exception as e:  # e.g. the spawn itself failed: say so instead of hanging in "starting"
                log.exception("starting the engine process failed")
                self._start_ended.emit(translate("QtEngineClient", "the engine process could not be started: "
                                                 "{error}").format(error=f"{type(e).__name__}: {e}"))
            else:
                self._start_ended.emit("")

        self._starter = threading.Thread(target=run, name="parcero-engine-start", daemon=True)
        self._starter.start()

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # ---- slots --------------------------------------------------------------------

    @Slot(str)
    def on_starter_ended(self, problem: str) -> None:
        if problem:
            self._set_state("stopped")
            self.start_failed.emit(problem)

    @Slot(object)
    def on_client_event_arrived(self, event: Event) -> None:
        job = event.job_id
        if isinstance(event, AttentionFrame):  # the most frequent first
            self.attention_frame.emit(job, event)
        elif isinstance(event, PartialTranscript):
            self.partial_transcript.emit(job, event)
        elif isinstance(event, Progress):
            self.progress_changed.emit(job, event.done, event.total, event.unit)
        elif isinstance(event, ChunkResult):
            self.chunk_finished.emit(job, event)
        elif isinstance(event, LiveText):
            self.live_text.emit(job, event)
        elif isinstance(event, TrainMetrics):
            self.train_metrics.emit(job, event.record)
        elif isinstance(event, EvalResult):
            self.eval_result.emit(job, event)
        elif isinstance(event, EngineInfo):
            self.info_received.emit(event)
        elif isinstance(event, Started):
            self._active.add(job)
            self._set_state("busy")
            self.job_started.emit(job, event.kind)
        elif isinstance(event, (Finished, Failed, Cancelled)):
            self._job_ended(job)
            if isinstance(event, Finished):
                self.job_finished.emit(job, event.result)
            elif isinstance(event, Failed):
                self.job_failed.emit(job, failure_text(event), event.detail)  # in the interface's language
            else:
                if event.result is not None:
                    self.job_stopped_early.emit(job, event.result)
                self.job_cancelled.emit(job)
        elif isinstance(event, Ready):
            self._exit_expected = False
            self._set_state("ready")
            self.ready.emit(event.pid)
        elif isinstance(event, WorkerExited):
            self._active.clear()
            if not self._exit_expected:
                self._set_state("crashed")
            self.worker_exited.emit(-1 if event.exitcode is None else event.exitcode, event.reason)

    def _job_ended(self, job: int) -> None:
        self._active.discard(job)
        # After a crash the orphaned jobs fail first; "crashed" follows, not a brief "ready".
        if not self._active and self._state == "busy" and self._client.alive:
            self._set_state("ready")
