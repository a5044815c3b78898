"""The Transcribe page's options row: the model, how to decode with it, and which part of the audio.

:class:`TranscribeOptions` builds the row's choices (model, language, task, initial
prompt, beam, "More options…", only the selection), restores them from QSettings
and keeps every change there, offers the language, task and prompt only where the
chosen model takes them (Whisper), and turns them into the DecodeOptions of the
next run. The page adds its Transcribe and Cancel buttons at the row's end.

The text here belongs to the Transcribe page: it is translated in the
"TranscribePage" context, as it was when the page held this code.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, QSignalBlocker, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from app.decode_options import DecodeOptionsDialog, recorded_settings
from app.i18n import translate
from app.settings_dialog import BEAM_KEY
from app.transcript_result import LANGUAGES, TASKS
from app.widgets.model_picker import ModelPicker, has_language_choice
from engine.transcript import DecodeOptions

LANGUAGE_KEY = "transcribe/language"
TASK_KEY = "transcribe/task"
PROMPT_KEY = "transcribe/initial_prompt"


class TranscribeOptions(QObject):
    """The options row's widgets, remembered in ``settings``.

    Parameters
    ----------
    settings : QSettings
    beam_size : int
        The beam to start with (the settings dialog's, :func:`app.settings_dialog.load_settings`).
    parent : QWidget
        The page: it owns these widgets once laid out, and the "More options…" dialog.
    """

    task_changed = Signal()  # transcribe or translate: the page's button says which

    def __init__(self, settings: QSettings, beam_size: int, parent: QWidget):
        super().__init__(parent)
        self.settings = settings
        self.model_picker = ModelPicker()
        self.beam_spin = QSpinBox()
        self.beam_spin.setRange(1, 16)
        self.beam_spin.setPrefix(translate("TranscribePage", "beam "))
        self._beam_tip = translate("TranscribePage", "Beam size: 1 = greedy (fastest)")
        self.beam_spin.setToolTip(self._beam_tip)
        self._own_beam: int | None = None  # the person's beam, kept while the box shows the live one
        self.language_combo = QComboBox()
        for code, name in LANGUAGES:
            self.language_combo.addItem(translate("TranscribePage", name), code)
        self.task_combo = QComboBox()
        for code, name in TASKS:
            self.task_combo.addItem(translate("TranscribePage", name), code)
        # Whisper's initial prompt (engine.transcript.DecodeOptions.initial_prompt): names and jargon to spell.
        # A short placeholder: on a 1366 px screen the row leaves the box about 100 px; the tooltip explains.
        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText(translate("TranscribePage", "Initial prompt…"))
        self.prompt_edit.setToolTip(translate(
            "TranscribePage",
            "Text said before the audio, for Whisper to follow: names and jargon spelled as they should be "
            "written, e.g. \"Núñez, Ramón y Cajal, neuronas\""))
        self.prompt_edit.setClearButtonEnabled(True)
        self.prompt_edit.setMinimumWidth(self.prompt_edit.fontMetrics().horizontalAdvance("M" * 10))
        self.options_dialog = DecodeOptionsDialog(settings, parent)  # temperature, batching, subtitle lines…
        self.options_button = self.options_dialog.opener()  # "More options…"
        self.selection_check = QCheckBox(translate("TranscribePage", "Only the selection"))
        self.selection_check.setToolTip(translate("TranscribePage", "Shift+drag on the waveform to select a stretch"))

        self.beam_spin.setValue(beam_size)  # a bad stored value: the default
        _select_data(self.language_combo, settings.value(LANGUAGE_KEY, "es"))
        _select_data(self.task_combo, settings.value(TASK_KEY, "transcribe"))
        self.prompt_edit.setText(str(settings.value(PROMPT_KEY, "") or ""))
        self.beam_spin.valueChanged.connect(self.on_beam_spin_value_changed)
        self.language_combo.currentIndexChanged.connect(self.on_language_combo_current_index_changed)
        self.task_combo.currentIndexChanged.connect(self.on_task_combo_current_index_changed)
        self.prompt_edit.textChanged.connect(self.on_prompt_edit_text_changed)

    def row(self, *actions: QWidget) -> QHBoxLayout:
        """The row: "Model:", the choices in order, then ``actions`` (the page's Transcribe and Cancel)."""
        row = QHBoxLayout()
        row.addWidget(QLabel(translate("TranscribePage", "Model:")))
        for w in (self.model_picker, self.language_combo, self.task_combo, self.prompt_edit, self.beam_spin,
                  self.options_button, self.selection_check, *actions):
            row.addWidget(w, w is self.prompt_edit)  # the prompt takes the room left on a wide screen
        row.addStretch(0)  # and, hidden, leaves it here
        return row

    @property
    def whisper(self) -> bool:
        """Whether the model chosen takes a language, a task and a prompt (a Whisper model)."""
        return has_language_choice(self.model_picker.current_path())

    def decode_options(self) -> DecodeOptions:
        """The beam, "More options…", and for a Whisper model the language, task and prompt."""
        whisper, language = self.whisper, self.language_combo.currentData()
        chosen = dict(language=None if language == "auto" else language, task=self.task_combo.currentData(),
                      initial_prompt=self.prompt_edit.text().strip() or None) if whisper else {}
        return self.options_dialog.decode_options(DecodeOptions(beam_size=self.beam_spin.value(), **chosen), whisper)

    def recorded_settings(self, options: DecodeOptions) -> dict:
        """What the export of a run decoded with ``options`` (from :meth:`decode_options`) says of them."""
        return recorded_settings(options, self.whisper)

    def translating(self) -> bool:
        """Whether the next run translates: a Whisper model with the task "translate"."""
        return self.whisper and self.task_combo.currentData() == "translate"

    def update_choices(self) -> None:
        """Offer the language, task and prompt for a Whisper model only, and say why not."""
        whisper = self.whisper
        for combo in (self.language_combo, self.task_combo):
            combo.setEnabled(whisper)
        self.prompt_edit.setVisible(whisper)  # only Whisper takes a prompt; hidden, it keeps its text
        self.options_dialog.set_whisper(whisper)
        why = "" if whisper else translate("TranscribePage",
                                           "This model knows one language; Whisper models take these choices")
        self.language_combo.setToolTip(why or translate(
            "TranscribePage", "The language spoken; detecting it reports the language found and how sure the model is"))
        self.task_combo.setToolTip(why or translate(
            "TranscribePage", "Write what is said, or translate the speech into English"))

    def show_live_beam(self, live_beam: int | None) -> None:
        """While live text runs, the beam box shows the beam its passes use (``live_beam``), greyed out; None:
        the person's own beam again, as it was. The box never says one beam while the engine uses another."""
        if (live_beam is None) == (self._own_beam is None):
            return  # already showing what it should
        box, live = self.beam_spin, live_beam is not None
        own, self._own_beam = self._own_beam, (box.value() if live else None)
        with QSignalBlocker(box):  # the person's stored beam is not changed by live text
            box.setValue(live_beam if live else own)
        box.setEnabled(not live)
        box.setToolTip(translate("TranscribePage", "Live text uses beam %1, fast enough to keep up with the voice; "
                                 "your beam applies when you transcribe a file").replace("%1", str(live_beam))
                       if live else self._beam_tip)

    @Slot(int)
    def on_beam_spin_value_changed(self, value: int) -> None:
        self.settings.setValue(BEAM_KEY, value)

    @Slot(int)
    def on_language_combo_current_index_changed(self, _index: int) -> None:
        self.settings.setValue(LANGUAGE_KEY, self.language_combo.currentData())

    @Slot(int)
    def on_task_combo_current_index_changed(self, _index: int) -> None:
        self.settings.setValue(TASK_KEY, self.task_combo.currentData())
        self.task_changed.emit()

    @Slot(str)
    def on_prompt_edit_text_changed(self, text: str) -> None:
        self.settings.setValue(PROMPT_KEY, text)


def _select_data(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0:  # a stored value this version does not offer: the default stays
        combo.setCurrentIndex(index)
