"""More decoding options for the Transcribe page: Whisper's long-form choices and the subtitles' lines.

What openai-whisper and faster-whisper users reach for, and ``parcero transcribe``
takes as ``--temperature``, ``--no-fallback``, ``--[no-]condition-on-previous-text``,
``--[no-]word-timestamps``, ``--max-line-width`` and ``--max-line-count``, plus the
batched decoding and voice-activity detection of
:class:`engine.transcript.DecodeOptions`. They live in a small dialog opened from
the page ("More options…"): the page's row of controls is full on a 1366 x 768
screen, and these are set once and left alone.

The choices are stored in QSettings beside the page's own (``transcribe/...``,
as the initial prompt is), restored at the next start and reset to the defaults
on request. The defaults are DecodeOptions' and :func:`engine.export.make_cues`'s,
so a person who never opens the dialog decodes and exports as the CLI does.
Options a Speech-Transformer refuses (``engine.speech_transformer.backend``) are
greyed out while such a model is chosen, and never sent to it; the temperature
applies to both families (a Speech-Transformer then samples).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace

from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from app.i18n import QT_TRANSLATE_NOOP
from engine.transcript import VAD_CHOICES, DecodeOptions

log = logging.getLogger(__name__)

KEY_PREFIX = "transcribe/"  # beside the page's "transcribe/initial_prompt"
MAX_BATCH = 32
MAX_LINE_WIDTH = 120
MAX_LINE_COUNT = 4
# The DecodeOptions fields only Whisper takes; the rest of the dialog (temperature, subtitles) fits any model.
WHISPER_ONLY = ("temperature_fallback", "condition_on_previous_text", "word_timestamps", "batch_size", "vad",
                "vad_threshold")
VAD_NAMES = {
    "auto": QT_TRANSLATE_NOOP("DecodeOptionsDialog", "Automatic (on when batched)"),
    "off": QT_TRANSLATE_NOOP("DecodeOptionsDialog", "Off: decode all the audio"),
    "silero": QT_TRANSLATE_NOOP("DecodeOptionsDialog", "Silero (a small neural network)"),
    "energy": QT_TRANSLATE_NOOP("DecodeOptionsDialog", "Energy (loudness)"),
}


@dataclass(frozen=True)
class DecodeChoices:
    """What the dialog holds: DecodeOptions' fields by their names, and the subtitle lines of an export."""

    temperature: float = DecodeOptions.temperature
    temperature_fallback: bool = DecodeOptions.temperature_fallback
    condition_on_previous_text: bool = DecodeOptions.condition_on_previous_text
    word_timestamps: bool = DecodeOptions.word_timestamps
    batch_size: int = DecodeOptions.batch_size
    vad: str = DecodeOptions.vad
    vad_threshold: float = DecodeOptions.vad_threshold
    max_line_width: int = 42  # engine.export.make_cues's max_chars
    max_line_count: int = 1  # and its max_lines

    def applied(self, options: DecodeOptions, whisper: bool) -> DecodeOptions:
        """``options`` with these choices; the Whisper-only ones only when ``whisper`` (else their defaults)."""
        chosen = {"temperature": self.temperature}
        if whisper:
            chosen |= {name: getattr(self, name) for name in WHISPER_ONLY}
        return replace(options, **chosen)

    def subtitle_shaping(self) -> dict[str, int]:
        """engine.export's cue shaping (``max_chars``, ``max_lines``), as ``parcero transcribe`` passes it."""
        return {"max_chars": self.max_line_width, "max_lines": self.max_line_count}


def recorded_settings(options: DecodeOptions, whisper: bool) -> dict:
    """What a transcript's export records of the options its model was sent (``whisper``: a Whisper model).

    The beam and the temperature; for Whisper also the language ("auto" when detected), the task, the
    prompt when there is one, and the rest of "More options…".
    """
    recorded = {"beam_size": options.beam_size, "temperature": options.temperature}
    if whisper:
        recorded |= {"language": options.language or "auto", "task": options.task}
        recorded |= {"initial_prompt": options.initial_prompt} if options.initial_prompt else {}
        recorded |= {name: getattr(options, name) for name in WHISPER_ONLY}
    return recorded


def _valid(choices: DecodeChoices) -> bool:
    """Whether the dialog can show ``choices`` and the engine takes them (what a settings file may not hold)."""
    return (0.0 <= choices.temperature <= 1.0 and 0 <= choices.batch_size <= MAX_BATCH and choices.vad in VAD_CHOICES
            and 0.0 < choices.vad_threshold < 1.0 and 1 <= choices.max_line_width <= MAX_LINE_WIDTH
            and 1 <= choices.max_line_count <= MAX_LINE_COUNT)


def load_choices(settings: QSettings) -> DecodeChoices:
    """The stored choices; one that makes no sense (edited by hand, another version) is its default, logged."""
    defaults = DecodeChoices()
    found = {}
    for f in fields(DecodeChoices):
        default = getattr(defaults, f.name)
        raw = settings.value(KEY_PREFIX + f.name, default)
        try:
            if isinstance(default, bool):
                value = raw if isinstance(raw, bool) else {"true": True, "false": False}[str(raw).strip().lower()]
            else:
                value = type(default)(str(raw).strip())
            usable = _valid(replace(defaults, **{f.name: value}))
        except (KeyError, ValueError):
            usable = False
        if not usable:
            log.warning("settings %s: %s%s: %r makes no sense; using %r", settings.fileName(), KEY_PREFIX, f.name,
                        raw, default)
            value = default
        found[f.name] = value
    return DecodeChoices(**found)


def save_choices(settings: QSettings, choices: DecodeChoices) -> None:
    for f in fields(DecodeChoices):
        settings.setValue(KEY_PREFIX + f.name, getattr(choices, f.name))


class DecodeOptionsDialog(QDialog):
    """The Transcribe page's "More options…": set, stored at once, read by the page at each run and export."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.whisper = True
        self.setWindowTitle(self.tr("Decoding options"))
        self._build()
        self.set_choices(load_choices(settings))
        self._connect()  # after loading: what was read is not written back
        self._update_enabled()

    def _build(self) -> None:
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 1.0)
        self.temperature_spin.setSingleStep(0.2)
        self.temperature_spin.setDecimals(1)
        self.temperature_spin.setToolTip(self.tr(
            "0: the most likely text (beam search). Above 0 the text is sampled, more freely the higher it is; "
            "Whisper starts here and rises by 0.2 while a window's text looks wrong"))
        self.fallback_check = QCheckBox(self.tr("Decode a window again, hotter, when its text looks wrong"))
        self.condition_check = QCheckBox(self.tr("Prompt each 30 s window with the text before it"))
        self.word_times_check = QCheckBox(self.tr("Time every word (off: faster; words spread over each segment)"))
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(0, MAX_BATCH)
        self.batch_spin.setSpecialValueText(self.tr("off: window after window"))
        self.vad_combo = QComboBox()
        for code in VAD_CHOICES:
            self.vad_combo.addItem(self.tr(VAD_NAMES[code]), code)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.01, 0.99)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.whisper_note = QLabel(self.tr("The model chosen now is not a Whisper model: the options greyed out "
                                           "are Whisper's. The temperature and the subtitles apply to every model."))
        self.whisper_note.setWordWrap(True)
        self.line_width_spin = QSpinBox()
        self.line_width_spin.setRange(1, MAX_LINE_WIDTH)
        self.line_width_spin.setSuffix(self.tr(" characters"))
        self.line_width_spin.setToolTip(self.tr(
            "Longest subtitle line in SRT and VTT exports; words are never split (42 is the usual limit)"))
        self.line_count_spin = QSpinBox()
        self.line_count_spin.setRange(1, MAX_LINE_COUNT)
        self.line_count_spin.setToolTip(self.tr(
            "Most lines a subtitle shows; a subtitle also ends at a sentence's end, a pause and after 6 s"))

        decoding = QGroupBox(self.tr("Decoding"))
        form = QFormLayout(decoding)
        form.addRow(self.tr("Temperature:"), self.temperature_spin)
        for check in (self.fallback_check, self.condition_check, self.word_times_check):
            form.addRow(check)
        form.addRow(self.tr("Batch size:"), self.batch_spin)
        form.addRow(self.tr("Voice activity:"), self.vad_combo)
        form.addRow(self.tr("Speech threshold:"), self.threshold_spin)
        form.addRow(self.whisper_note)
        subtitles = QGroupBox(self.tr("Subtitles (SRT and VTT export)"))
        lines = QFormLayout(subtitles)
        lines.addRow(self.tr("Line width:"), self.line_width_spin)
        lines.addRow(self.tr("Lines per subtitle:"), self.line_count_spin)
        self.reset_button = QPushButton(self.tr("Reset to defaults"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.reset_button, QDialogButtonBox.ButtonRole.ResetRole)
        layout = QVBoxLayout(self)
        layout.addWidget(decoding)
        layout.addWidget(subtitles)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        for spin in (self.temperature_spin, self.threshold_spin, self.batch_spin, self.line_width_spin,
                     self.line_count_spin):
            spin.valueChanged.connect(self.on_control_changed)
        for check in (self.fallback_check, self.condition_check, self.word_times_check):
            check.toggled.connect(self.on_control_changed)
        self.vad_combo.currentIndexChanged.connect(self.on_control_changed)
        self.reset_button.clicked.connect(self.reset_to_defaults)
        self.buttons.rejected.connect(self.close)

    # ---- values ---------------------------------------------------------------------

    def choices(self) -> DecodeChoices:
        return DecodeChoices(
            temperature=round(self.temperature_spin.value(), 2), temperature_fallback=self.fallback_check.isChecked(),
            condition_on_previous_text=self.condition_check.isChecked(),
            word_timestamps=self.word_times_check.isChecked(), batch_size=self.batch_spin.value(),
            vad=self.vad_combo.currentData(), vad_threshold=round(self.threshold_spin.value(), 2),
            max_line_width=self.line_width_spin.value(), max_line_count=self.line_count_spin.value())

    def set_choices(self, choices: DecodeChoices) -> None:
        self.temperature_spin.setValue(choices.temperature)
        self.fallback_check.setChecked(choices.temperature_fallback)
        self.condition_check.setChecked(choices.condition_on_previous_text)
        self.word_times_check.setChecked(choices.word_timestamps)
        self.batch_spin.setValue(choices.batch_size)
        self.vad_combo.setCurrentIndex(max(0, self.vad_combo.findData(choices.vad)))
        self.threshold_spin.setValue(choices.vad_threshold)
        self.line_width_spin.setValue(choices.max_line_width)
        self.line_count_spin.setValue(choices.max_line_count)

    def decode_options(self, options: DecodeOptions, whisper: bool) -> DecodeOptions:
        """``options`` with the choices here (the Whisper-only ones only for a Whisper model)."""
        return self.choices().applied(options, whisper)

    def subtitle_shaping(self) -> dict[str, int]:
        return self.choices().subtitle_shaping()

    def opener(self) -> QPushButton:
        """The page's "More options…" button, which opens this dialog."""
        button = QPushButton(self.tr("More options…"))
        button.setToolTip(self.tr("Temperature, fallback, word times, batched decoding, voice activity, "
                                  "subtitle lines"))
        button.clicked.connect(self.show_in_front)
        return button

    @Slot()
    def show_in_front(self) -> None:
        """Open beside the page, or bring it to the front; it stays open while the person transcribes."""
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot()
    def reset_to_defaults(self) -> None:
        self.set_choices(DecodeChoices())
        save_choices(self.settings, DecodeChoices())

    @Slot()
    def on_control_changed(self, *_args) -> None:
        save_choices(self.settings, self.choices())
        self._update_enabled()

    # ---- which options apply --------------------------------------------------------

    def set_whisper(self, whisper: bool) -> None:
        """Whether the model chosen now is a Whisper model (a Speech-Transformer: the temperature, subtitles)."""
        self.whisper = whisper
        self._update_enabled()

    def _update_enabled(self) -> None:
        whisper, batched = self.whisper, self.batch_spin.value() > 1
        vad = self.vad_combo.currentData()
        why = "" if whisper else self.tr("Whisper models only: the model chosen now is not a Whisper model")
        self.whisper_note.setVisible(not whisper)
        for widget in (self.fallback_check, self.word_times_check, self.batch_spin, self.vad_combo):
            widget.setEnabled(whisper)
        self.fallback_check.setToolTip(why or self.tr(
            "When a 30 s window's text repeats itself or is improbable, decode it again at a temperature 0.2 "
            "higher, up to 1.0, and keep the best attempt"))
        self.word_times_check.setToolTip(why or self.tr(
            "Time each word by the cross-attention (needed for word-accurate subtitles); off is faster, and "
            "subtitles then spread a segment's words over its time"))
        self.batch_spin.setToolTip(why or self.tr(
            "Off (0 or 1): Whisper's own way, window after window, each prompted with the text before it. "
            "2 to 32: the speech is cut into pieces of up to 30 s by voice-activity detection and that many "
            "are decoded at once; faster on long files, but no piece is conditioned on the text before it"))
        self.vad_combo.setToolTip(why or self.tr(
            "Voice-activity detection: only the speech is decoded, so no text is made up over silence or "
            "music. Automatic: on when batched, off otherwise"))
        self.condition_check.setEnabled(whisper and not batched)
        self.condition_check.setToolTip(why or (
            self.tr("Batched decoding never prompts a piece with the text before it: set the batch size to off "
                    "for this") if batched
            else self.tr("Keeps names and style consistent; turn it off if the text starts looping")))
        vad_on = vad in ("silero", "energy") or (vad == "auto" and batched)
        self.threshold_spin.setEnabled(whisper and vad_on)
        self.threshold_spin.setToolTip(why or self.tr(
            "How sure voice-activity detection must be that a moment is speech (0.5 by default): lower keeps "
            "quiet speech, higher drops more noise. Used while voice-activity detection is on"))
