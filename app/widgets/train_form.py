"""The Train page's settings form: what a run config's TOML holds, as grouped fields.

The form edits the commonly changed settings; everything else keeps the
engine's defaults, or the values of a config opened from a TOML file
("extras", listed under the form so nothing is hidden). :meth:`TrainForm.config_dict`
returns the TOML-shaped dict that ``Train(config=...)`` and ``parcero train``
both read, and :meth:`TrainForm.problem` checks it with the engine's own
``run_config_from_dict``, so the form and the CLI can never disagree on what
is valid. Validation speaks after input: :meth:`TrainForm.shown_problem` holds
back a problem of a field the person has not edited yet until they press Start
(:meth:`TrainForm.reveal`), so a fresh form is never red.

Spin and combo boxes ignore the mouse wheel unless they have keyboard focus:
the wheel scrolls the form instead of changing whatever passes under the pointer.
"""

from __future__ import annotations

import copy
import datetime
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from app.i18n import QT_TRANSLATE_NOOP, translate
from engine.configio import read_toml
from engine.errors import ConfigError
from engine.speech_transformer.config import PRESETS, ModelConfig
from engine.training.config import PRECISIONS, SCHEDULES, DataConfig, TrainConfig, run_config_from_dict

ENCODERS = (("Speech-Transformer", "transformer"), ("Conformer", "conformer"))
DEVICES = ("auto", "cpu", "cuda")
MANIFEST_FILTER = QT_TRANSLATE_NOOP("TrainForm", "Manifests (*.jsonl);;All files (*)")
DEFAULT_PRESET = "small"  # RunConfig's own default
ERROR_LABEL_STYLE = "QLabel { color: #c62828; font-weight: 600; }"


class WheelGuard(QObject):
    """An event filter: a spin or combo box without keyboard focus passes the mouse wheel on to its parent.

    Qt's boxes step their value under the wheel even unfocused, so scrolling a long form changes
    whatever passes under the pointer. Ignored here, the wheel event travels up to the scroll area.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()  # not accepted: Qt offers it to the parent widget next
            return True
        return False


def guard_wheel(widgets, guard: WheelGuard) -> None:
    """Make ``widgets`` take focus by click or Tab only (never by wheel) and ignore the wheel until focused."""
    for w in widgets:
        w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        w.installEventFilter(guard)


def user_runs_dir() -> Path:
    """Where runs go when there is no manifest folder to put them beside: ``<data folder>/runs``."""
    from engine.paths import runs_dir

    return runs_dir()


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _spin(lo: int, hi: int, value: int, step: int = 1) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setGroupSeparatorShown(True)
    return s


def _dspin(lo: float, hi: float, value: float, decimals: int = 2, step: float = 0.05) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    return s


class _PathEdit(QWidget):
    """A line edit with a Browse… button (a file to open, or a folder)."""

    def __init__(self, caption: str, folder: bool = False, placeholder: str = ""):
        super().__init__()
        self.caption, self.folder = caption, folder
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.button = QPushButton(self.tr("Browse…"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.button.clicked.connect(self.on_button_clicked)

    def text(self) -> str:
        return self.edit.text().strip()

    @Slot()
    def on_button_clicked(self) -> None:
        if self.folder:
            path = QFileDialog.getExistingDirectory(self, self.caption, self.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, self.caption, self.text(),
                                                  translate("TrainForm", MANIFEST_FILTER))
        if path:
            self.edit.setText(path)


class TrainForm(QWidget):
    """Grouped, validated settings of a training run."""

    changed = Signal()  # any setting was edited (validate again)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        data, train, preset = DataConfig(), TrainConfig(), PRESETS[DEFAULT_PRESET]
        model = ModelConfig(vocab_size=8)
        self.extras: dict[str, Any] = {}

        self.train_edit = _PathEdit(self.tr("Training manifest"), placeholder=self.tr("train.jsonl (required)"))
        self.dev_edit = _PathEdit(self.tr("Dev manifest"),
                                  placeholder=self.tr("dev.jsonl (for CER/WER and the best checkpoint)"))
        self.max_frames_spin = _spin(100, 10_000_000, data.max_frames, 1000)
        self.max_frames_spin.setToolTip(self.tr("Padded 10 ms feature frames per batch (20,000 = 200 s of audio)"))
        self.accum_spin = _spin(1, 1024, train.accum_steps)
        self.accum_spin.setToolTip(
            self.tr("Batches per optimizer update: a larger effective batch without more memory"))

        self.preset_combo = QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.setCurrentText(DEFAULT_PRESET)
        self.encoder_combo = QComboBox()
        for label, value in ENCODERS:
            self.encoder_combo.addItem(label, value)
        self.enc_layers_spin = _spin(1, 64, preset["n_enc_layers"])
        self.dec_layers_spin = _spin(1, 32, preset["n_dec_layers"])
        self.stochastic_spin = _dspin(0.0, 0.95, model.stochastic_depth)
        self.stochastic_spin.setToolTip(self.tr("Probability of skipping the deepest layer while training (Pham et "
                                                 "al. 2019); shallower layers are skipped less. 0 = off"))
        self.ctc_spin = _dspin(0.0, 1.0, train.ctc_weight)
        self.ctc_spin.setToolTip(self.tr("Weight of the CTC loss in the joint CTC-attention loss"))
        self.dropout_spin = _dspin(0.0, 0.9, model.dropout)

        self.schedule_combo = QComboBox()
        self.schedule_combo.addItems(list(SCHEDULES))
        self.schedule_combo.setToolTip(self.tr("noam: Vaswani et al. (training from scratch); cosine: warm-up then "
                                               "cosine decay (fine-tuning); auto: noam from scratch, cosine when "
                                               "fine-tuning"))
        self.warmup_spin = _spin(0, 1_000_000, train.warmup, 500)
        self.max_steps_spin = _spin(1, 100_000_000, train.max_steps, 1000)
        self.epochs_spin = _spin(0, 100_000, train.epochs)
        self.epochs_spin.setSpecialValueText(self.tr("as max steps needs"))
        self.lr_factor_spin = _dspin(0.01, 100.0, train.lr_factor, 2, 0.1)
        self.peak_lr_spin = _dspin(0.0, 1.0, train.peak_lr, 7, 1e-5)
        self.peak_lr_spin.setSpecialValueText("auto")  # notr: the config's value, as the combo boxes show it
        self.eval_every_spin = _spin(1, 10_000_000, train.eval_every, 100)
        self.checkpoint_every_spin = _spin(1, 10_000_000, train.checkpoint_every, 100)

        self.device_combo = QComboBox()
        self.device_combo.addItems(list(DEVICES))
        self.precision_combo = QComboBox()
        self.precision_combo.addItems(list(PRECISIONS))
        self.precision_combo.setToolTip(self.tr("auto: bf16 on GPUs that support it, else fp16; fp32 on the CPU"))

        # Homologated voices (engine.homologate): women's and men's voices alike to the model.
        self.vtlp_check = QCheckBox()
        self.vtlp_check.setToolTip(self.tr("Train on every voice as if said by a slightly longer or shorter vocal "
                                           "tract: each utterance's frequencies are scaled by a random factor "
                                           "(0.9 to 1.1 unless the config says otherwise)"))
        self.vtln_combo = QComboBox()
        tip = Qt.ItemDataRole.ToolTipRole
        self.vtln_combo.addItem(self.tr("Off"), "none")
        self.vtln_combo.addItem(self.tr("Each utterance"), "utterance")
        self.vtln_combo.setItemData(self.vtln_combo.count() - 1,
                                    self.tr("Each recording's warp is estimated from the recording itself"), tip)
        self.vtln_combo.addItem(self.tr("Each speaker"), "speaker")
        self.vtln_combo.setItemData(self.vtln_combo.count() - 1,
                                    self.tr("One warp per speaker: the average of the estimates from up to 20 of "
                                            "their recordings, grouped by the manifest's speaker field. Recordings "
                                            "without a speaker, and files being transcribed, are estimated on "
                                            "their own. Use it with Warp voices (VTLP) on: alone it gives the "
                                            "model less variety to learn from"), tip)
        self.vtln_combo.setToolTip(self.tr("Warp each recording so its voice matches the training set's typical "
                                           "voice, estimated from the recording itself or from all of its "
                                           "speaker's; the model keeps that reference and does the same when it "
                                           "transcribes"))

        self.name_edit = QLineEdit(f"run-{datetime.datetime.now():%Y%m%d-%H%M}")
        self.folder_edit = _PathEdit(self.tr("Run folder"), folder=True)
        self.extras_label = QLabel()
        self.extras_label.setWordWrap(True)
        self.extras_label.hide()

        self._touched: set[QWidget] = set()  # fields the person has edited (their problems are shown)
        self._revealed = False  # Start was pressed: every problem is shown
        self._row_labels: dict[QWidget, QLabel] = {}
        self._marked: QWidget | None = None
        groups = [
            (self.tr("Data"), [(self.tr("Train manifest"), self.train_edit), (self.tr("Dev manifest"), self.dev_edit),
                               (self.tr("Max frames / batch"), self.max_frames_spin),
                               (self.tr("Accumulation"), self.accum_spin)]),
            (self.tr("Model"), [(self.tr("Preset"), self.preset_combo), (self.tr("Encoder"), self.encoder_combo),
                                (self.tr("Encoder layers"), self.enc_layers_spin),
                                (self.tr("Decoder layers"), self.dec_layers_spin),
                                (self.tr("Stochastic depth"), self.stochastic_spin),
                                (self.tr("CTC weight"), self.ctc_spin), (self.tr("Dropout"), self.dropout_spin)]),
            (self.tr("Schedule"), [(self.tr("Schedule"), self.schedule_combo),
                                   (self.tr("Warm-up steps"), self.warmup_spin),
                                   (self.tr("Max steps"), self.max_steps_spin), (self.tr("Epochs"), self.epochs_spin),
                                   (self.tr("LR factor (noam)"), self.lr_factor_spin),
                                   (self.tr("Peak LR (cosine)"), self.peak_lr_spin),
                                   (self.tr("Evaluate every"), self.eval_every_spin),
                                   (self.tr("Checkpoint every"), self.checkpoint_every_spin)]),
            (self.tr("Voices"), [(self.tr("Warp voices (VTLP)"), self.vtlp_check),
                                 (self.tr("Normalise voices (VTLN)"), self.vtln_combo)]),
            (self.tr("Run"), [(self.tr("Device"), self.device_combo), (self.tr("Precision"), self.precision_combo),
                              (self.tr("Name"), self.name_edit), (self.tr("Folder"), self.folder_edit)]),
        ]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, rows in groups:
            box = QGroupBox(title)
            form = QFormLayout(box)
            for label, widget in rows:
                row_label = QLabel(label)
                form.addRow(row_label, widget)
                self._row_labels[widget.edit if isinstance(widget, _PathEdit) else widget] = row_label
            layout.addWidget(box)
        layout.addWidget(self.extras_label)
        layout.addStretch(1)

        self.preset_combo.currentTextChanged.connect(self.on_preset_combo_current_text_changed)
        self.schedule_combo.currentTextChanged.connect(self._update_enabled)
        for w in (self.train_edit.edit, self.dev_edit.edit, self.name_edit, self.folder_edit.edit):
            w.textChanged.connect(self.on_field_edited)
        for w in (self.max_frames_spin, self.accum_spin, self.enc_layers_spin, self.dec_layers_spin,
                  self.stochastic_spin, self.ctc_spin, self.dropout_spin, self.warmup_spin, self.max_steps_spin,
                  self.epochs_spin, self.lr_factor_spin, self.peak_lr_spin, self.eval_every_spin,
                  self.checkpoint_every_spin):
            w.valueChanged.connect(self.on_field_edited)
        for w in (self.encoder_combo, self.schedule_combo, self.device_combo, self.precision_combo, self.vtln_combo):
            w.currentIndexChanged.connect(self.on_field_edited)
        self.vtlp_check.toggled.connect(self.on_field_edited)
        self._wheel_guard = WheelGuard(self)
        guard_wheel([w for w in self._fields() if isinstance(w, (QAbstractSpinBox, QComboBox))], self._wheel_guard)
        self._update_enabled()
        self._update_run_placeholder()

    # ---- the config ---------------------------------------------------------------

    def run_dir(self) -> Path:
        """The run folder: as typed, else ``runs/<name>`` beside the train manifest (or in the user data folder)."""
        typed = self.folder_edit.text()
        if typed:
            return Path(typed).expanduser()
        train = self.train_edit.text()
        base = Path(train).expanduser().parent / "runs" if train else user_runs_dir()
        return base / (self.name_edit.text().strip() or "run")

    def base_dir(self) -> str:
        """Folder that relative paths in the config start from (the one a saved config.toml would sit in)."""
        return str(self.run_dir().parent)

    def config_dict(self) -> dict[str, Any]:
        """The TOML-shaped run config: the extras with the form's values over them."""
        data = {"train": self._absolute(self.train_edit.text()), "dev": self._absolute(self.dev_edit.text()),
                "max_frames": self.max_frames_spin.value()}
        model = {"preset": self.preset_combo.currentText(), "encoder": self.encoder_combo.currentData(),
                 "n_enc_layers": self.enc_layers_spin.value(), "n_dec_layers": self.dec_layers_spin.value(),
                 "stochastic_depth": self.stochastic_spin.value(), "dropout": self.dropout_spin.value()}
        train = {"schedule": self.schedule_combo.currentText(), "warmup": self.warmup_spin.value(),
                 "max_steps": self.max_steps_spin.value(), "epochs": self.epochs_spin.value(),
                 "lr_factor": self.lr_factor_spin.value(), "peak_lr": self.peak_lr_spin.value(),
                 "ctc_weight": self.ctc_spin.value(), "accum_steps": self.accum_spin.value(),
                 "eval_every": self.eval_every_spin.value(), "checkpoint_every": self.checkpoint_every_spin.value(),
                 "device": self.device_combo.currentText(), "precision": self.precision_combo.currentText()}
        run = {"name": self.name_edit.text().strip(), "dir": str(self.run_dir())}
        voices = {"features": {"vtln": self.vtln_combo.currentData()},
                  "spec_augment": {"vtlp": self.vtlp_check.isChecked()}}
        return _deep_merge(self.extras, {"run": run, "data": data, "model": model, "train": train, **voices})

    def problem(self) -> str:
        """Why the config cannot start a run ("" when it can), in the engine's words where it has them."""
        d = self.config_dict()
        if not d["run"]["name"]:
            return self.tr("run.name: give the run a name")
        try:
            run_config_from_dict(d, base_dir=self.base_dir(), source="run config")
        except ConfigError as e:
            return str(e)
        for role in ("train", "dev"):
            path = d["data"][role]
            if path and not Path(path).is_file():
                return self.tr("data.{role}: no such manifest: {path}").format(role=role, path=path)
        if d["train"]["schedule"] in ("noam", "auto") and d["train"]["warmup"] < 1:
            # noam's lr = k·d^-0.5·min(step^-0.5, step·warmup^-1.5) divides by the warm-up.
            return self.tr("train.warmup must be at least 1 with the noam schedule")
        return ""

    def shown_problem(self, problem: str | None = None) -> str:
        """:meth:`problem` once the person has edited its field or pressed Start, else "" (not yet said).

        Marks the field's label red while its problem is shown. A problem no field owns (a
        setting from an opened config) is always shown: the config was the person's input.
        """
        problem = self.problem() if problem is None else problem
        field = self.field_for(problem) if problem else None
        shown = bool(problem) and (self._revealed or field is None or field in self._touched)
        self._mark(field if shown else None, problem)
        return problem if shown else ""

    def reveal(self) -> None:
        """Show every problem from now on (Start was pressed) and put the cursor in the field at fault."""
        self._revealed = True
        field = self.field_for(self.problem())
        if field is not None:
            field.setFocus(Qt.FocusReason.OtherFocusReason)

    def field_for(self, problem: str) -> QWidget | None:
        """The field a problem message is about (the engine names settings as ``section.key`` or ``key``)."""
        if not problem:
            return None
        named = [("data.train", self.train_edit.edit), ("data.dev", self.dev_edit.edit), ("run.name", self.name_edit)]
        named += [(key, widget) for _, key, widget in self._numeric_fields()]
        named += [("spec_augment.vtlp", self.vtlp_check), ("features.vtln", self.vtln_combo)]
        named += [("schedule", self.schedule_combo), ("precision", self.precision_combo)]  # words in other messages
        for key, widget in named:
            if re.search(rf"(?<![\w.]){re.escape(key)}\b|\.{re.escape(key)}\b", problem):
                return widget
        return None

    def set_config_dict(self, d: dict[str, Any]) -> None:
        """Fill the form from a TOML-shaped dict; settings the form has no field for are kept as extras."""
        blocked = [w.blockSignals(True) for w in self._fields()]
        data, model, train, run, features, augment = (
            dict(d.get(k) or {}) for k in ("data", "model", "train", "run", "features", "spec_augment"))
        if "preset" in model:
            self.preset_combo.setCurrentText(str(model["preset"]))
            self.on_preset_combo_current_text_changed(self.preset_combo.currentText())
        self.train_edit.edit.setText(str(data.pop("train", self.train_edit.text())))
        self.dev_edit.edit.setText(str(data.pop("dev", self.dev_edit.text())))
        for section, key, widget in self._numeric_fields():
            source = {"data": data, "model": model, "train": train}[section]
            if key in source:
                widget.setValue(source.pop(key))
        model.pop("preset", None)
        if "encoder" in model:
            self.encoder_combo.setCurrentIndex(max(0, self.encoder_combo.findData(model.pop("encoder"))))
        for key, combo in (("schedule", self.schedule_combo), ("device", self.device_combo),
                           ("precision", self.precision_combo)):
            if key in train:
                combo.setCurrentText(str(train.pop(key)))
        if isinstance(augment.get("vtlp"), bool):  # anything else stays an extra, for the engine to refuse
            self.vtlp_check.setChecked(augment.pop("vtlp"))
        if self.vtln_combo.findData(features.get("vtln")) >= 0:
            self.vtln_combo.setCurrentIndex(self.vtln_combo.findData(features.pop("vtln")))
        if run.get("name"):
            self.name_edit.setText(str(run["name"]))
        self.folder_edit.edit.setText(str(run.get("dir", "")))
        for w, was in zip(self._fields(), blocked):
            w.blockSignals(was)
        self.extras = {k: v for k, v in {**d, "data": data, "model": model, "train": train, "features": features,
                                         "spec_augment": augment}.items() if k != "run" and v}
        self._touched.update(self._fields())  # an opened config is the person's input: its problems are shown
        self._show_extras()
        self._update_enabled()
        self._update_run_placeholder()
        self.changed.emit()

    def load_toml(self, path: str | Path) -> None:
        """Fill the form from a run config file; relative paths in it start at its folder.

        Raises
        ------
        ConfigError
            The file is missing or not valid TOML (the message names it).
        """
        path = Path(path)
        config = read_toml(path)
        for section, key in (("data", "train"), ("data", "dev"), ("run", "dir")):
            table = config.get(section)
            value = table.get(key) if isinstance(table, dict) else None
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                table[key] = str((path.parent / value).resolve())
        self.set_config_dict(config)

    # ---- helpers ------------------------------------------------------------------

    def _numeric_fields(self):
        return (("data", "max_frames", self.max_frames_spin), ("model", "n_enc_layers", self.enc_layers_spin),
                ("model", "n_dec_layers", self.dec_layers_spin), ("model", "stochastic_depth", self.stochastic_spin),
                ("model", "dropout", self.dropout_spin), ("train", "ctc_weight", self.ctc_spin),
                ("train", "accum_steps", self.accum_spin), ("train", "warmup", self.warmup_spin),
                ("train", "max_steps", self.max_steps_spin), ("train", "epochs", self.epochs_spin),
                ("train", "lr_factor", self.lr_factor_spin), ("train", "peak_lr", self.peak_lr_spin),
                ("train", "eval_every", self.eval_every_spin),
                ("train", "checkpoint_every", self.checkpoint_every_spin))

    def _fields(self) -> list[QWidget]:
        return [w for _, _, w in self._numeric_fields()] + [
            self.preset_combo, self.encoder_combo, self.schedule_combo, self.device_combo, self.precision_combo,
            self.vtlp_check, self.vtln_combo, self.train_edit.edit, self.dev_edit.edit, self.name_edit,
            self.folder_edit.edit]

    def _absolute(self, path: str) -> str:
        return str(Path(path).expanduser().resolve()) if path else ""

    @property
    def field_in_error(self) -> QWidget | None:
        """The field whose label is shown red now (None: none)."""
        return self._marked

    def label_for(self, field: QWidget) -> QLabel:
        """The label of ``field``'s row."""
        return self._row_labels[field]

    def _mark(self, field: QWidget | None, problem: str) -> None:
        if field is not self._marked and self._marked is not None:
            self._row_labels[self._marked].setStyleSheet("")
            self._row_labels[self._marked].setToolTip("")
        self._marked = field
        if field is not None:
            self._row_labels[field].setStyleSheet(ERROR_LABEL_STYLE)
            self._row_labels[field].setToolTip(problem)

    def _show_extras(self) -> None:
        flat = [f"{section}.{key} = {value!r}" for section, values in self.extras.items()
                if isinstance(values, dict) for key, value in values.items()]
        flat += [f"{k} = {v!r}" for k, v in self.extras.items() if not isinstance(v, dict)]
        self.extras_label.setText(self.tr("Also from the loaded config: ") + ", ".join(flat) if flat else "")
        self.extras_label.setVisible(bool(flat))

    def _update_run_placeholder(self) -> None:
        self.folder_edit.edit.setPlaceholderText(str(self.run_dir()) if not self.folder_edit.text() else "")

    def _update_enabled(self, *_args) -> None:
        schedule = self.schedule_combo.currentText()
        self.lr_factor_spin.setEnabled(schedule != "cosine")
        self.peak_lr_spin.setEnabled(schedule != "noam")

    @Slot(str)
    def on_preset_combo_current_text_changed(self, name: str) -> None:
        preset = PRESETS.get(name, {})
        for key, spin in (("n_enc_layers", self.enc_layers_spin), ("n_dec_layers", self.dec_layers_spin)):
            if key in preset:
                spin.setValue(preset[key])
        self.changed.emit()

    @Slot()
    def on_field_edited(self, *_args) -> None:
        if self.sender() is not None:
            self._touched.add(self.sender())
        self._update_run_placeholder()
        self.changed.emit()
