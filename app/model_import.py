"""File ▸ Import a Whisper model…: what ``parcero models import PATH`` does, from the window.

The person picks an OpenAI ``.pt`` checkpoint, or any file inside a Hugging Face or CTranslate2
folder (the folder is what gets imported). The import runs on a background thread (a few seconds
to a minute for the larger models) into the user's models folder under a free name
(``whisper-<name>``, ``-2``... when taken); the model lists follow that folder, so the model
appears in every list, and the Transcribe page selects it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog

from app.background import BackgroundRunner
from app.i18n import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

CHECKPOINT_FILTER = QT_TRANSLATE_NOOP(
    "ModelImport", "Whisper checkpoints: an OpenAI .pt file, or a file in a Hugging Face or CTranslate2 folder "
                   "(*.pt *.json *.bin *.safetensors);;All files (*)")


def import_source(chosen: str | Path) -> Path:
    """What to import for a file the person chose: a ``.pt`` itself, any other file's folder."""
    chosen = Path(chosen)
    return chosen if chosen.suffix.lower() in (".pt", ".pth") else chosen.parent


class ModelImport(QObject):
    """Imports one checkpoint at a time for a main window, and selects the result on its Transcribe page."""

    finished = Signal(str)  # the new model's folder ("" when the import failed)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.runner = BackgroundRunner(self)
        self.runner.finished.connect(self.on_runner_finished)
        self.runner.failed.connect(self.on_runner_failed)
        self._source: Path | None = None

    @property
    def busy(self) -> bool:
        return self.runner.is_running

    def choose_and_import(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self.window, self.tr("Import a Whisper model"), str(Path.home()),
                                                self.tr(CHECKPOINT_FILTER))
        if chosen:
            self.start(chosen)

    def start(self, chosen: str | Path) -> None:
        """Import the checkpoint ``chosen`` names (see :func:`import_source`) in the background."""
        from engine.models.imports import default_import_name, free_name, import_into

        source = import_source(chosen)
        self._source = source
        name = free_name(default_import_name(source))
        self.window.statusBar().showMessage(self.tr("Importing {source} as {name}…").format(source=source, name=name))
        self.runner.start(lambda progress: import_into(source, name, shown=str(source))[0])

    @Slot(object)
    def on_runner_finished(self, folder) -> None:
        from app.widgets.model_picker import model_catalogue

        model_catalogue().rescan()  # every list now, not at the watcher's next look
        page = self.window.transcribe_page
        page.set_model_path(folder)
        self.window.statusBar().showMessage(
            self.tr("Imported {name}: it is in every model list and selected for transcription.").format(
                name=Path(folder).name), 15000)
        self.finished.emit(str(folder))

    @Slot(str)
    def on_runner_failed(self, message: str) -> None:
        log.warning("importing %s failed: %s", self._source, message)
        self.window.statusBar().clearMessage()
        # The message names the file already (the importers' errors do).
        self.window.transcribe_page.show_error(self.tr("Could not import the model: {message}").format(
            message=message))
        self.finished.emit("")

    def shutdown(self) -> None:
        self.runner.shutdown()
