"""Run slow data work (importing, validating, measuring voices) off the GUI thread.

:class:`BackgroundRunner` runs one function at a time on its own pool thread
and reports back through Qt signals, which Qt queues to the GUI thread. The
function gets a ``progress(stage, done, total)`` callback; calling it is also
where a cancelled run stops (it raises :class:`JobCancelled`), because engine
functions such as ``import_corpus`` and ``validate_utterances`` already call
their ``on_progress`` after every item and let an exception from it end the
run. Results of a run that was replaced or cancelled are dropped, so a slow
old job can never overwrite what a newer one showed.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.engine_messages import error_text
from engine.errors import ParceroError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.05  # seconds: at most ~20 progress signals a second, the GUI stays fluid

ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)


class JobCancelled(Exception):
    """Raised inside a job's progress callback once the job has been cancelled."""


class _Relay(QObject):
    # Lives on the GUI thread; the pool thread emits on it and Qt queues the calls.
    progress = Signal(int, str, int, int)  # generation, stage, done, total
    done = Signal(int, object)  # generation, result
    error = Signal(int, str)  # generation, message


class _Job(QRunnable):
    def __init__(self, relay: _Relay, generation: int, fn: Callable[[ProgressFn], Any]):
        super().__init__()
        self.stop_event = threading.Event()
        self._relay, self._generation, self._fn = relay, generation, fn
        self._last_emit = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.stop_event.is_set():
            raise JobCancelled()
        now = time.monotonic()
        if done >= total or now - self._last_emit >= PROGRESS_INTERVAL:
            self._last_emit = now
            self._relay.progress.emit(self._generation, stage, done, total)

    def run(self) -> None:
        try:
            result = self._fn(self.progress)
        except JobCancelled:
            return
        except ParceroError as error:  # says what is wrong in words already
            self._relay.error.emit(self._generation, error_text(error))  # in the interface's language
            return
        except Exception as error:  # a bug must not die silently on a pool thread
            log.exception("background job failed")
            self._relay.error.emit(self._generation, f"{type(error).__name__}: {error}")
            return
        if not self.stop_event.is_set():
            self._relay.done.emit(self._generation, result)


class BackgroundRunner(QObject):
    """One background job at a time; starting a new one cancels the old one."""

    progress_changed = Signal(str, int, int)  # stage, done, total
    finished = Signal(object)  # what the function returned
    failed = Signal(str)  # why the job failed, for the user

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.progress.connect(self.on_relay_progress)
        self._relay.done.connect(self.on_relay_done)
        self._relay.error.connect(self.on_relay_error)
        self._generation = 0
        self._job: _Job | None = None

    @property
    def is_running(self) -> bool:
        return self._job is not None

    def start(self, fn: Callable[[ProgressFn], Any]) -> None:
        """Run ``fn(progress)`` on the pool thread; its return value arrives with ``finished``."""
        self.cancel()
        self._generation += 1
        self._job = _Job(self._relay, self._generation, fn)  # kept to set its stop event
        self._pool.start(self._job)

    def cancel(self) -> None:
        """Stop the running job at its next progress call; nothing more is emitted for it."""
        if self._job is not None:
            self._job.stop_event.set()
            self._job = None
        self._generation += 1

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait for the pool thread; call before the owner goes away."""
        self.cancel()
        self._pool.waitForDone(timeout_ms)

    @Slot(int, str, int, int)
    def on_relay_progress(self, generation: int, stage: str, done: int, total: int) -> None:
        if generation == self._generation:
            self.progress_changed.emit(stage, done, total)

    @Slot(int, object)
    def on_relay_done(self, generation: int, result: object) -> None:
        if generation == self._generation:
            self._job = None
            self.finished.emit(result)

    @Slot(int, str)
    def on_relay_error(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._job = None
            self.failed.emit(message)
