"""What a start begins with: the demo model and a sample the first time, the user's model afterwards.

The first start (no ``first_run/done`` in the settings) selects the bundled
demo model and opens the first bundled sample recording on the Transcribe
page, so pressing Transcribe works at once. Later starts select the default
model from the preferences, else the model used last. A short hint at the
top of the Transcribe page says what to do (record, open, transcribe, train)
and how to get a model for real-world Spanish (importing Whisper); it shows
at every start until "Don't show again".

``app.main`` calls :func:`start` once the window is built; windows built by
tests start as before unless a test calls it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.settings_dialog import HINT_KEY, load_settings
from app.widgets.model_picker import is_model_dir
from engine.resources import bundled_models_dir, bundled_samples, demo_model_dir

log = logging.getLogger(__name__)

DONE_KEY = "first_run/done"
LAST_MODEL_KEY = "models/last"  # the model last chosen in the picker
HINT_STYLE = ("QFrame#firstRunHint { border: 1px solid palette(mid); border-radius: 6px;"
              " background: palette(alternate-base); }")


class FirstRunHint(QFrame):
    """A dismissible panel: what Parcero does and how to start."""

    dismissed = Signal(bool)  # True when "Don't show again" was ticked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("firstRunHint")
        self.setStyleSheet(HINT_STYLE)
        title = QLabel(self.tr("<b>Welcome to Parcero</b>"))
        self.text_label = QLabel(self.tr(
            "<ul style='margin-left: -20px'>"
            "<li><b>Record</b> (Ctrl+R) or <b>open</b> (Ctrl+O, or drop a file here) Spanish audio.</li>"
            "<li><b>Transcribe</b> (Ctrl+T) with the model chosen in the Model list and watch where it listens: "
            "the heatmap shows its attention token by token.</li>"
            "<li><b>Train</b> your own model on the Train page, from a dataset you import on the Data page.</li>"
            "<li>The bundled demo model only knows the synthetic voices it was trained on. For real-world "
            "Spanish, import a Whisper model in a terminal: <code>parcero models import PATH</code> "
            "(an OpenAI <code>.pt</code> file, a Hugging Face or a CTranslate2 folder). It then appears "
            "in the model list; an imported folder elsewhere can be chosen with <i>Browse for a model "
            "folder…</i> at the end of that list.</li>"
            "</ul>"))
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
    if not settings.value(DONE_KEY, False, type=bool):
        _first_start(page)
        settings.setValue(DONE_KEY, True)
        settings.sync()
    else:
        _restore_model(picker, settings)
    if not load_settings(settings).show_hint:
        return None
    hint = FirstRunHint(page)
    page.layout().insertWidget(0, hint)
    window.first_run_hint = hint
    return hint


def _first_start(page) -> None:
    demo = demo_model_dir()
    if demo is not None:
        page.set_model_path(demo)
    else:
        log.info("first start: no bundled demo model in %s", bundled_models_dir())
    for sample in bundled_samples():
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
