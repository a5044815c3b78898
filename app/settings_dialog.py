"""Preferences: default model, device, beam size, data folder, theme and interface language.

The values live in QSettings beside the window's own state
(``~/.config/Parcero/Parcero.conf`` on Linux). Qt writes that file to a
temporary file and renames it over the old one, so a crash or a full disk
never leaves half a settings file. :class:`AppSettings` is the typed view of
them: :func:`load_settings` replaces a stored value that makes no sense
(edited by hand, written by another version) with its default and logs which
key it was, so a bad settings file never keeps the window from opening.

What applies when: the theme, the data folder, the device and the beam size
at once (:func:`apply_to_window`); the language from the next start (widgets
translate their texts when they are built, see ``app.i18n``). Re-translating
every open widget in place is where stale half-English windows come from, so
the dialog says so and offers to restart Parcero instead
(:func:`restart_application`).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QProcess, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from app.i18n import LANGUAGE_KEY, available_languages, needs_restart, translate
from app.widgets.model_picker import discover_models, is_model_dir
from app.widgets.plot_style import follow_palette
from engine.paths import DATA_DIR_ENV  # what engine.paths.data_dir() reads, here and in the engine process

log = logging.getLogger(__name__)

DEFAULT_MODEL_KEY = "models/default"
DEVICE_KEY = "engine/device"
CPU_WEIGHTS_KEY = "engine/cpu_weights"


def cpu_has_bf16_instructions() -> bool:
    """Whether /proc/cpuinfo lists AVX-512 BF16 or AMX (read without loading torch; True where unknown:
    the engine then says so itself, engine.quantize.check_quantize)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    except OSError:
        return True
    return flags is None or "avx512_bf16" in flags or "amx_bf16" in flags
BEAM_KEY = "transcribe/beam"  # shared with the Transcribe page's beam box
DATA_FOLDER_KEY = "paths/data_folder"
THEME_KEY = "ui/theme"
HINT_KEY = "first_run/show_hint"

DEVICES = ("auto", "cpu", "cuda")
CPU_WEIGHTS = ("none", "int8", "fp16", "bf16")  # engine.quantize's choices
THEMES = ("system", "light", "dark")
MAX_BEAM = 16
ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"


@dataclass(frozen=True)
class AppSettings:
    default_model: str = ""  # model folder chosen at start; "" = the last one used
    device: str = "auto"  # "auto" (CUDA when there is a GPU), "cpu" or "cuda"
    cpu_weights: str = "none"  # transcribing on the CPU: "none" (float32), "int8", "fp16" or "bf16" (engine.quantize)
    beam_size: int = 1  # 1 = greedy
    data_folder: str = ""  # "" = the user data folder (platformdirs)
    theme: str = "system"  # "system", "light" or "dark"
    language: str = "system"  # a choice of app.i18n.available_languages()
    show_hint: bool = True  # the getting-started hint on the Transcribe page


_KEYS = {"default_model": DEFAULT_MODEL_KEY, "device": DEVICE_KEY, "cpu_weights": CPU_WEIGHTS_KEY,
         "beam_size": BEAM_KEY, "data_folder": DATA_FOLDER_KEY, "theme": THEME_KEY, "language": LANGUAGE_KEY, "show_hint": HINT_KEY}


def check_settings(values: AppSettings) -> list[str]:
    """What is wrong with ``values``, one message a field (empty when all is well)."""
    problems = []
    if values.device not in DEVICES:
        problems.append(translate("Settings", "Device: {value!r} is not one of {choices}").format(
            value=values.device, choices=", ".join(DEVICES)))
    if values.cpu_weights not in CPU_WEIGHTS:
        problems.append(translate("Settings", "CPU weights: {value!r} is not one of {choices}").format(
            value=values.cpu_weights, choices=", ".join(CPU_WEIGHTS)))
    if isinstance(values.beam_size, bool) or not isinstance(values.beam_size, int) \
            or not 1 <= values.beam_size <= MAX_BEAM:
        problems.append(translate("Settings", "Beam size: {value!r} is not a whole number from 1 to {max}").format(
            value=values.beam_size, max=MAX_BEAM))
    if values.theme not in THEMES:
        problems.append(translate("Settings", "Theme: {value!r} is not one of {choices}").format(
            value=values.theme, choices=", ".join(THEMES)))
    if values.language not in {choice for choice, _ in available_languages()}:
        problems.append(translate("Settings", "Language: {value!r} is not a known choice").format(
            value=values.language))
    if values.data_folder and not Path(values.data_folder).expanduser().is_absolute():
        problems.append(translate("Settings", "Data folder: {value} is not a full path (start it with / or ~)").format(
            value=values.data_folder))
    return problems


def load_settings(settings: QSettings | None = None) -> AppSettings:
    """The stored preferences; a value that makes no sense is replaced with its default and logged."""
    settings = settings if settings is not None else QSettings()
    defaults = AppSettings()
    found = {}
    for f in fields(AppSettings):
        default = getattr(defaults, f.name)
        raw = settings.value(_KEYS[f.name], default)
        try:
            if isinstance(default, bool):
                value = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1", "yes")
            elif isinstance(default, int):
                value = int(str(raw).strip())
            else:
                value = str(raw if raw is not None else "")
        except ValueError:
            log.warning("settings %s: %s: %r is not a number; using %r", settings.fileName(), _KEYS[f.name], raw,
                        default)
            value = default
        found[f.name] = value
    values = AppSettings(**found)
    for problem in check_settings(values):
        log.warning("settings %s: %s; using the default", settings.fileName(), problem)
    for f in fields(AppSettings):  # field by field: one bad value does not reset the others
        if check_settings(replace(defaults, **{f.name: getattr(values, f.name)})):
            values = replace(values, **{f.name: getattr(defaults, f.name)})
    return values


def save_settings(values: AppSettings, settings: QSettings | None = None) -> None:
    """Store ``values``; raises ValueError naming the bad fields, OSError when the file cannot be written."""
    problems = check_settings(values)
    if problems:
        raise ValueError("; ".join(problems))
    settings = settings if settings is not None else QSettings()
    for f in fields(AppSettings):
        settings.setValue(_KEYS[f.name], getattr(values, f.name))
    settings.sync()
    if settings.status() != QSettings.Status.NoError:
        raise OSError(translate("Settings", "{file}: cannot save the settings (is the folder writable?)").format(
            file=settings.fileName()))


def default_data_folder() -> Path:
    """Where models go when no data folder is set: the data folder the engine uses without one."""
    from engine.paths import default_data_dir

    return default_data_dir()


def prepare_data_folder(folder: str) -> str | None:
    """Create ``folder`` if needed; returns a message naming it when it cannot be used, else None."""
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return translate("Settings", "Data folder: cannot create {path}: {reason}").format(
            path=path, reason=error.strerror or error)
    if not os.access(path, os.W_OK | os.X_OK):
        return translate("Settings", "Data folder: {path} is not writable").format(path=path)
    return None


# ---- applying ---------------------------------------------------------------------------------------

_data_dir_we_set: str | None = None  # the PARCERO_DATA_DIR value apply_data_folder wrote, if any
_system_look: tuple[str, QPalette] | None = None  # style name and palette before any theme was applied


def data_folder_from_environment() -> str | None:
    """PARCERO_DATA_DIR when the environment set it (it wins over the setting), else None."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return value if value and value != _data_dir_we_set else None


def apply_data_folder(folder: str) -> bool:
    """Make the engine (this process and engine processes started later) use ``folder``; "" = the default.

    Returns False, changing nothing, when ``PARCERO_DATA_DIR`` came from the environment.
    """
    global _data_dir_we_set
    if data_folder_from_environment() is not None:
        return False
    if folder:
        _data_dir_we_set = str(Path(folder).expanduser())
        os.environ[DATA_DIR_ENV] = _data_dir_we_set
    else:
        if _data_dir_we_set is not None:
            os.environ.pop(DATA_DIR_ENV, None)
        _data_dir_we_set = None
    return True


def dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#2f2f2f",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Link: "#6cb6ff", QPalette.ColorRole.LinkVisited: "#b48ead",
        QPalette.ColorRole.Highlight: "#2f7fd1", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#8c8c8c", QPalette.ColorRole.Light: "#4a4a4a",
        QPalette.ColorRole.Midlight: "#3e3e3e", QPalette.ColorRole.Mid: "#2e2e2e",
        QPalette.ColorRole.Dark: "#1a1a1a", QPalette.ColorRole.Shadow: "#000000",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """Light or dark: Qt's Fusion style with a light or dark palette; "system": the look Qt started with.

    Open windows follow at once, their plots included (``follow_palette``).
    """
    global _system_look
    if _system_look is None:
        _system_look = (app.style().name(), QPalette(app.palette()))
    if theme == "system":
        app.setStyle(_system_look[0])
        app.setPalette(_system_look[1])
    else:
        style = app.setStyle("Fusion")
        app.setPalette(dark_palette() if theme == "dark" else style.standardPalette())
    for window in app.topLevelWidgets():
        follow_palette(window, app.palette())


def apply_settings(app: QApplication, values: AppSettings) -> None:
    """What applies to the whole application at once: the theme and the data folder."""
    apply_theme(app, values.theme)
    apply_data_folder(values.data_folder)


def apply_to_window(window, values: AppSettings) -> None:
    """Apply ``values`` to a running main window: application-wide settings, then its Transcribe page."""
    from engine.paths import bundled_models_dir, user_models_dir

    apply_settings(QApplication.instance(), values)
    page = window.transcribe_page
    page.beam_spin.setValue(values.beam_size)
    page.set_device(values.device)
    page.set_cpu_weights(values.cpu_weights)
    page.model_picker.search_dirs = (bundled_models_dir(), user_models_dir())  # the data folder may have moved
    if values.default_model and is_model_dir(Path(values.default_model)):
        page.model_picker.set_model_path(values.default_model)
    else:
        page.model_picker.refresh()


def relaunch_command() -> tuple[str, list[str]]:
    """The program and arguments that start Parcero's window again (this Python, ``-m app.main``)."""
    return sys.executable, ["-m", "app.main"]


LAUNCH = QProcess.startDetached  # how restart_application starts the new process


def restart_application(window: QWidget | None, launch=None) -> bool:
    """Close ``window`` (it saves its state and stops the engine), start Parcero again, and quit.

    ``launch(program, arguments, working_dir)`` starts the new process (default :data:`LAUNCH`).
    Returns False, leaving this one running, when the window refuses to close or the launch fails;
    after a failed launch the window comes back.
    """
    program, arguments = relaunch_command()
    if window is not None and not window.close():
        return False
    started = (launch or LAUNCH)(program, arguments, os.getcwd())
    if isinstance(started, tuple):  # PySide6 returns (ok, pid)
        started = started[0]
    if not started:
        log.error("could not start %s %s again", program, " ".join(arguments))
        if window is not None:
            window.show()
        return False
    log.info("restarting: %s %s", program, " ".join(arguments))
    QApplication.quit()
    return True


def preferences_shortcuts() -> list[QKeySequence]:
    """The platform's Preferences shortcut; Ctrl+, where the platform has none (most Linux desktops)."""
    keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
    return keys or [QKeySequence("Ctrl+,")]


# ---- the dialog -------------------------------------------------------------------------------------


class SettingsDialog(QDialog):
    settings_saved = Signal(object)  # AppSettings, just stored

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None,
                 cuda_available: bool | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Preferences"))
        self.settings = settings if settings is not None else QSettings()
        self._build(cuda_available)
        self.set_values(load_settings(self.settings))

    def _build(self, cuda_available: bool | None) -> None:
        from engine.paths import bundled_models_dir, user_models_dir

        self.model_combo = QComboBox()
        self.model_combo.setToolTip(self.tr("The model selected when Parcero starts"))
        self.model_combo.addItem(self.tr("The last one used"), "")
        for folder in discover_models(bundled_models_dir(), user_models_dir()):
            self.model_combo.addItem(folder.name, str(folder))
            self.model_combo.setItemData(self.model_combo.count() - 1, str(folder), Qt.ItemDataRole.ToolTipRole)
        self.model_browse = QPushButton(self.tr("Browse…"))
        self.model_browse.clicked.connect(self.on_model_browse_clicked)

        if cuda_available is None:
            cuda_available = _cuda_available()
        self.device_combo = QComboBox()
        self.device_combo.addItem(self.tr("Automatic (a CUDA GPU when there is one)"), "auto")
        self.device_combo.addItem(self.tr("CPU"), "cpu")
        self.device_combo.addItem(self.tr("CUDA GPU") if cuda_available else self.tr("CUDA GPU (none found here)"),
                                  "cuda")
        self.device_combo.setToolTip(self.tr("Where the engine runs models for transcription"))

        self.weights_combo = QComboBox()
        self.weights_combo.addItem(self.tr("Full precision (float32)"), "none")
        self.weights_combo.addItem(self.tr("float16: faster, the same transcripts"), "fp16")
        self.weights_combo.addItem(self.tr("int8: fastest for larger models, scores change slightly"), "int8")
        self.weights_combo.addItem(self.tr("bfloat16: about twice as fast on CPUs with AMX or AVX-512 BF16, "
                                           "scores change slightly"), "bf16")
        if not cpu_has_bf16_instructions():  # PyTorch would emulate it: slower than float32
            item = self.weights_combo.model().item(self.weights_combo.count() - 1)
            item.setEnabled(False)
            item.setToolTip(self.tr("This CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"))
        self.weights_combo.setToolTip(self.tr(
            "How model weights are held when transcribing on the CPU (not on a GPU, and not for evaluation). "
            "Smaller weights decode faster: see docs/benchmarks.md"))

        self.beam_spin = QSpinBox()
        self.beam_spin.setRange(1, MAX_BEAM)
        self.beam_spin.setToolTip(self.tr("1 = greedy decoding (fastest); 4–8 is usually a little more accurate"))

        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText(str(default_data_folder()))
        self.data_edit.setToolTip(self.tr("Where imported models are kept; empty = the default shown"))
        self.data_edit.setClearButtonEnabled(True)
        self.data_browse = QPushButton(self.tr("Browse…"))
        self.data_browse.clicked.connect(self.on_data_browse_clicked)
        self.data_note = QLabel()
        self.data_note.setWordWrap(True)
        environment = data_folder_from_environment()
        if environment is not None:
            self.data_note.setText(self.tr("PARCERO_DATA_DIR is set to {folder} in the environment; it is used "
                                           "instead of this setting.").format(folder=environment))
        self.data_note.setVisible(environment is not None)

        self.theme_combo = QComboBox()
        self.theme_combo.addItem(self.tr("Follow the system"), "system")
        self.theme_combo.addItem(self.tr("Light"), "light")
        self.theme_combo.addItem(self.tr("Dark"), "dark")

        self.language_combo = QComboBox()
        for choice, name in available_languages():
            self.language_combo.addItem(name, choice)
        self.language_combo.setToolTip(self.tr("Takes effect the next time Parcero starts"))
        self.language_combo.currentIndexChanged.connect(self.on_language_combo_current_index_changed)
        self.language_note = QLabel(self.tr("The new language takes effect after a restart: Parcero offers to "
                                            "restart when you press OK."))
        self.language_note.setObjectName("languageNote")
        self.language_note.setWordWrap(True)
        self.language_note.hide()
        self.restart_box: QMessageBox | None = None
        self.hint_check = QCheckBox(self.tr("Show the getting-started hint on the Transcribe page"))

        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.on_restore_defaults_clicked)

        form = QFormLayout()
        form.addRow(self.tr("Default &model:"), _row(self.model_combo, self.model_browse))
        form.addRow(self.tr("&Device:"), self.device_combo)
        form.addRow(self.tr("CPU &weights:"), self.weights_combo)
        form.addRow(self.tr("&Beam size:"), self.beam_spin)
        form.addRow(self.tr("Data &folder:"), _row(self.data_edit, self.data_browse))
        form.addRow("", self.data_note)
        form.addRow(self.tr("&Theme:"), self.theme_combo)
        form.addRow(self.tr("&Language:"), self.language_combo)
        form.addRow("", self.language_note)
        form.addRow("", self.hint_check)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

    # ---- values -----------------------------------------------------------------------------------

    def values(self) -> AppSettings:
        """What the dialog shows now (not yet stored)."""
        return AppSettings(
            default_model=str(self.model_combo.currentData() or ""),
            device=str(self.device_combo.currentData()),
            cpu_weights=str(self.weights_combo.currentData()),
            beam_size=self.beam_spin.value(),
            data_folder=self.data_edit.text().strip(),
            theme=str(self.theme_combo.currentData()),
            language=str(self.language_combo.currentData()),
            show_hint=self.hint_check.isChecked(),
        )

    def set_values(self, values: AppSettings) -> None:
        if values.default_model and self.model_combo.findData(values.default_model) < 0:
            self._add_model(values.default_model)
        _select(self.model_combo, values.default_model)
        _select(self.device_combo, values.device)
        _select(self.weights_combo, values.cpu_weights)
        self.beam_spin.setValue(values.beam_size)
        self.data_edit.setText(values.data_folder)
        _select(self.theme_combo, values.theme)
        _select(self.language_combo, values.language)
        self.hint_check.setChecked(values.show_hint)

    def _add_model(self, path: str) -> None:
        name = Path(path).name
        if not is_model_dir(Path(path)):
            name = self.tr("{name} (not found)").format(name=name)
        self.model_combo.addItem(name, path)
        self.model_combo.setItemData(self.model_combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    # ---- slots ------------------------------------------------------------------------------------

    def accept(self) -> None:
        values = self.values()
        problems = check_settings(values)
        if not problems and values.data_folder:
            problem = prepare_data_folder(values.data_folder)
            problems += [problem] if problem else []
        if not problems:
            try:
                save_settings(values, self.settings)
            except (OSError, ValueError) as error:
                problems.append(str(error))
        if problems:
            self.show_error("\n".join(problems))
            return
        self.error_label.hide()
        self.settings_saved.emit(values)
        super().accept()
        if needs_restart(values.language):
            self.restart_box = ask_to_restart(self.parentWidget())

    @Slot(int)
    def on_language_combo_current_index_changed(self, _index: int) -> None:
        self.language_note.setVisible(needs_restart(str(self.language_combo.currentData())))
        self.adjustSize()  # a wrapped label's height is not in the form's minimum: make room for it

    @Slot()
    def on_restore_defaults_clicked(self) -> None:
        self.set_values(AppSettings())

    @Slot()
    def on_model_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a model folder"))
        if not folder:
            return
        if not is_model_dir(Path(folder)):
            self.show_error(self.tr("{folder} is not a model folder (it needs model.safetensors, config.json and "
                                    "vocab.json or tokenizer.json)").format(folder=folder))
            return
        if self.model_combo.findData(folder) < 0:
            self._add_model(folder)
        _select(self.model_combo, folder)
        self.error_label.hide()

    @Slot()
    def on_data_browse_clicked(self) -> None:
        start = self.data_edit.text().strip() or str(default_data_folder())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the data folder"), start)
        if folder:
            self.data_edit.setText(folder)


def ask_to_restart(window: QWidget | None) -> QMessageBox:
    """Ask (without blocking) whether to restart now for the new language; "Restart now" restarts ``window``."""
    box = QMessageBox(window)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(translate("SettingsDialog", "Language"))
    box.setText(translate("SettingsDialog", "The new language takes effect after a restart."))
    box.setInformativeText(translate("SettingsDialog", "Restart Parcero now? A training run in progress "
                                                       "saves a checkpoint first."))
    box.restart_button = box.addButton(translate("SettingsDialog", "&Restart now"),
                                       QMessageBox.ButtonRole.AcceptRole)
    box.later_button = box.addButton(translate("SettingsDialog", "&Later"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(box.restart_button)
    box.restart_button.clicked.connect(lambda: restart_application(window))
    box.open()
    return box


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widgets[0], 1)
    for w in widgets[1:]:
        layout.addWidget(w)
    return row


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(index if index >= 0 else 0)


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken CUDA install: the choice is shown as unavailable
        return False
