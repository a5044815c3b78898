"""Run one transcription off the GUI thread.

A stop-gap: the model runs on a ``QThread`` inside the GUI process, so a CUDA
crash would still take the window down. The background engine process
(``engine/worker.py`` with a typed protocol) replaces this module; until then
everything thread-related stays here, behind ``TranscribeJob``'s two signals.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

ENGINE_MISSING_MESSAGE = "transcription engine not available yet"

# The modules the worker imports lazily; a missing one means the engine's
# transcription code has not landed, not that something is broken.
_ENGINE_MODULES = {"engine.transcribe", "engine.models.io", "engine.models"}


class TranscribeWorker(QObject):
    """Load a model and transcribe one file; lives on a worker thread."""

    finished = Signal(str)  # the transcript
    failed = Signal(str)  # a message fit to show the user

    def __init__(self, model_dir: str | Path, audio_path: str | Path):
        super().__init__()
        self.model_dir = Path(model_dir)
        self.audio_path = Path(audio_path)

    @Slot()
    def run(self) -> None:
        # Imported here so the window opens (and tests run) before the
        # engine's model code exists, and so torch's model code loads on the
        # worker thread rather than freezing the GUI.
        try:
            from engine.models.io import load_model
            from engine.transcribe import transcribe_file
        except ImportError as error:
            if error.name in _ENGINE_MODULES:
                self.failed.emit(ENGINE_MISSING_MESSAGE)
            else:
                log.exception("importing the transcription engine failed")
                self.failed.emit(f"the transcription engine failed to load: {error}")
            return

        from engine.errors import ParceroError

        try:
            model = load_model(self.model_dir, device="cpu")
            result = transcribe_file(model, self.audio_path)
        except ParceroError as error:
            self.failed.emit(str(error))
        except Exception as error:  # a bug, but the window must survive it
            log.exception("transcribing %s failed", self.audio_path)
            self.failed.emit(
                f"{self.audio_path}: transcription failed ({type(error).__name__}: {error})"
            )
        else:
            self.finished.emit(transcript_text(result))


def transcript_text(result: object) -> str:
    """The text of whatever ``transcribe_file`` returns: a str or an object with ``.text``."""
    if isinstance(result, str):
        return result
    text = getattr(result, "text", None)
    return text if isinstance(text, str) else str(result)


class TranscribeJob(QObject):
    """One transcription on its own ``QThread``; emits exactly one of its signals.

    The owner keeps a reference until a signal arrives, and calls ``wait``
    before it goes away (a ``QThread`` destroyed while running aborts the
    process).
    """

    finished = Signal(str)  # the transcript
    failed = Signal(str)  # a message fit to show the user

    def __init__(self, model_dir: str | Path, audio_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("transcribe")
        self._worker = TranscribeWorker(model_dir, audio_path)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Queued back to this object's (the GUI) thread by Qt.
        self._worker.finished.connect(self.on_worker_finished)
        self._worker.failed.connect(self.on_worker_failed)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self) -> None:
        """Block until the worker thread has stopped (a running model is not interrupted)."""
        self._thread.quit()
        self._thread.wait()

    @Slot(str)
    def on_worker_finished(self, text: str) -> None:
        self._stop_thread()
        self.finished.emit(text)

    @Slot(str)
    def on_worker_failed(self, message: str) -> None:
        self._stop_thread()
        self.failed.emit(message)

    def _stop_thread(self) -> None:
        # The worker has returned from run(); only the thread's event loop is
        # left, so this wait is short.
        self._thread.quit()
        self._thread.wait()
