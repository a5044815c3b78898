"""The Preferences dialog: values stored and read back, bad input refused with a message, settings applied."""

from __future__ import annotations

import os
import shutil

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialogButtonBox

from app import i18n, settings_dialog
from app.settings_dialog import (
    AppSettings, SettingsDialog, apply_data_folder, apply_theme, load_settings, save_settings,
)
from engine.paths import user_models_dir
from tests.app.conftest import new_window
from tests.conftest import OVERFIT_TEXTS
from tests.packaging.fake_resources import make_resources


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path, monkeypatch, saved_model_dir):
    """Models and resources in temporary folders; PARCERO_DATA_DIR restored after each test."""
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(make_resources(tmp_path / "res", saved_model_dir)))
    monkeypatch.setenv("PARCERO_DATA_DIR", "")  # records the old value, so that the end of the test restores it
    monkeypatch.delenv("PARCERO_DATA_DIR")
    monkeypatch.setattr(settings_dialog, "_data_dir_we_set", None)


@pytest.fixture
def dialog(qtbot):
    d = SettingsDialog(cuda_available=False)
    qtbot.addWidget(d)
    d.show()
    return d


def test_the_dialog_stores_what_it_shows_and_reads_it_back(dialog, qtbot, tmp_path, saved_model_dir):
    demo = str(tmp_path / "res" / "models" / "demo-es")
    assert dialog.values() == AppSettings()  # nothing stored yet: the defaults
    assert dialog.model_combo.findData(demo) >= 0  # the bundled model is offered
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(demo))
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.weights_combo.setCurrentIndex(dialog.weights_combo.findData("fp16"))
    dialog.beam_spin.setValue(5)
    dialog.data_edit.setText(str(tmp_path / "mis datos"))
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("es"))
    dialog.hint_check.setChecked(False)
    with qtbot.waitSignal(dialog.settings_saved) as saved:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    expected = AppSettings(default_model=demo, device="cpu", cpu_weights="fp16", beam_size=5, data_folder=str(tmp_path / "mis datos"),
                           theme="dark", language="es", show_hint=False)
    assert saved.args[0] == expected
    assert load_settings() == expected
    assert i18n.saved_choice() == "es"  # the language key is the one app.i18n reads at start
    assert (tmp_path / "mis datos").is_dir()  # created on OK, so a typo shows up now, not at the first import
    again = SettingsDialog(cuda_available=False)
    qtbot.addWidget(again)
    assert again.values() == expected
    again.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert again.values() == AppSettings()


@pytest.mark.parametrize("folder, words", [("datos/relativos", "not a full path"), ("FILE/sub", "cannot create")])
def test_a_bad_data_folder_is_refused_naming_the_field(dialog, tmp_path, folder, words):
    (tmp_path / "FILE").write_text("un fichero, no una carpeta")
    dialog.data_edit.setText(folder.replace("FILE", str(tmp_path / "FILE")))
    dialog.beam_spin.setValue(3)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible()  # still open, for the user to fix it
    assert dialog.error_label.isVisible()
    assert "Data folder" in dialog.error_label.text() and words in dialog.error_label.text()
    assert load_settings().beam_size == 1  # nothing was stored


def test_hand_edited_nonsense_falls_back_field_by_field(qtbot):
    settings = QSettings()
    for key, value in {"engine/device": "tpu", "engine/cpu_weights": "int4", "transcribe/beam": "muchos", "ui/theme": "morado",
                       "ui/language": "klingon", "paths/data_folder": "relativa", "first_run/show_hint": "false",
                       "models/default": "/ningún/sitio"}.items():
        settings.setValue(key, value)
    settings.sync()
    values = load_settings()
    assert values == AppSettings(default_model="/ningún/sitio", show_hint=False)
    d = SettingsDialog(cuda_available=False)  # opens on such a file, showing the fallbacks
    qtbot.addWidget(d)
    assert d.values().device == "auto" and d.values().cpu_weights == "none"
    assert "(not found)" in d.model_combo.currentText()
    with pytest.raises(ValueError, match="Beam size"):
        save_settings(AppSettings(beam_size=0))


def test_cuda_is_marked_when_there_is_no_gpu(dialog):
    assert "none found" in dialog.device_combo.itemText(dialog.device_combo.findData("cuda"))


def test_themes_set_a_palette_and_system_restores_the_original(qapp):
    before = qapp.palette().color(QPalette.ColorRole.Window)
    try:
        apply_theme(qapp, "dark")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert qapp.palette().color(QPalette.ColorRole.WindowText).lightness() > 180
        apply_theme(qapp, "light")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180
    finally:
        apply_theme(qapp, "system")
    assert qapp.palette().color(QPalette.ColorRole.Window) == before


def test_the_data_folder_moves_user_models_unless_the_environment_set_one(tmp_path, monkeypatch):
    assert apply_data_folder(str(tmp_path / "datos"))
    assert os.environ["PARCERO_DATA_DIR"] == str(tmp_path / "datos")
    assert user_models_dir() == tmp_path / "datos" / "models"  # and engine processes started from now on
    assert apply_data_folder("")
    assert "PARCERO_DATA_DIR" not in os.environ
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "del-entorno"))
    assert not apply_data_folder(str(tmp_path / "datos"))
    assert os.environ["PARCERO_DATA_DIR"] == str(tmp_path / "del-entorno")


@pytest.fixture
def window(qtbot, engine, tmp_path):
    return new_window(qtbot, engine, tmp_path, show=False)


def test_preferences_from_the_menu_apply_to_the_transcribe_page(window, qtbot, tmp_path, saved_model_dir):
    assert window.preferences_action.shortcut().toString()  # Ctrl+, where the platform has no Preferences key
    other = tmp_path / "datos" / "models" / "otro-modelo"
    shutil.copytree(saved_model_dir, other)
    window.preferences_action.trigger()
    dialog = window.settings_dialog
    assert dialog.isVisible()
    dialog.beam_spin.setValue(4)
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.weights_combo.setCurrentIndex(dialog.weights_combo.findData("int8"))
    dialog.data_edit.setText(str(tmp_path / "datos"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    page = window.transcribe_page
    assert not dialog.isVisible()
    assert page.beam_spin.value() == 4 and page.device == "cpu" and page.cpu_weights == "int8"
    # the picker now looks in the new data folder
    assert page.model_picker.findData(str(other)) >= 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_the_device_setting_reaches_the_engine(window, qtbot, tmp_path):
    from tests.helpers import SR, tone_speech

    from engine.audio import save_wav

    wav = tmp_path / "frase.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    page = window.transcribe_page
    page.load_audio_file(wav)
    page.set_model_path(tmp_path / "res" / "models" / "demo-es")
    page.set_device("cuda")
    with qtbot.waitSignal(page.transcription_failed, timeout=60000) as failed:
        page.transcribe()
    assert "CUDA" in failed.args[0] or "cuda" in failed.args[0]
    page.set_device("cpu")
    with qtbot.waitSignal(page.transcription_finished, timeout=60000) as finished:
        page.transcribe()
    assert finished.args[0].text == OVERFIT_TEXTS[1] and page.loaded_info["quantize"] == "none"
    # The CPU-weights preference reaches the engine when the model runs on the CPU ...
    page.set_cpu_weights("fp16")
    with qtbot.waitSignal(page.transcription_finished, timeout=60000) as finished:
        page.transcribe()
    assert finished.args[0].text == OVERFIT_TEXTS[1] and page.loaded_info["quantize"] == "fp16"
    # ... and "auto" without a GPU is the CPU too; on a GPU the setting would not apply
    page.set_device("auto")
    assert page._quantize() == "fp16"
    page.set_device("cuda")
    assert page._quantize() == "none"


def test_open_plots_follow_a_theme_change(qapp, qtbot):
    import pyqtgraph as pg

    from app.widgets.attention_view import AttentionView
    from app.widgets.audio_view import AudioView

    views = [AudioView(), AttentionView()]
    for view in views:
        qtbot.addWidget(view)
        view.show()

    def colours(view):
        graphics = view.findChildren(pg.GraphicsView)
        axes = [item for g in graphics for item in g.scene().items() if isinstance(item, pg.AxisItem)]
        return ({g.backgroundBrush().color().lightness() for g in graphics},
                {a.textPen().color().lightness() for a in axes})

    try:
        apply_theme(qapp, "dark")
        for view in views:
            backgrounds, texts = colours(view)
            assert backgrounds and max(backgrounds) < 80 and texts and min(texts) > 180
        apply_theme(qapp, "light")
        for view in views:
            backgrounds, texts = colours(view)
            assert min(backgrounds) > 180 and max(texts) < 80
    finally:
        apply_theme(qapp, "system")


# ---- the language: applies after a restart, which the dialog offers ---------------------------------


class FakeLaunch:
    """Stands in for QProcess.startDetached: records what would start, starts nothing."""

    def __init__(self, ok: bool = True):
        self.ok, self.calls = ok, []

    def __call__(self, program, arguments, working_dir):
        self.calls.append((program, list(arguments), working_dir))
        return self.ok, 4321


def test_changing_the_language_says_it_needs_a_restart_and_offers_one(qtbot, monkeypatch):
    import sys

    from PySide6.QtWidgets import QWidget

    window = QWidget()  # stands in for the main window: what matters is that it is closed first
    qtbot.addWidget(window)
    window.show()
    launch = FakeLaunch()
    monkeypatch.setattr(settings_dialog, "LAUNCH", launch)
    dialog = SettingsDialog(window, cuda_available=False)
    dialog.show()
    assert i18n.shown_language() == "en" and not dialog.language_note.isVisible()
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("es"))
    assert dialog.language_note.isVisible() and "restart" in dialog.language_note.text()
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))
    assert not dialog.language_note.isVisible()  # English is what is shown: nothing to restart for

    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("es"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    box = dialog.restart_box
    assert box is not None and box.isVisible() and "restart" in box.text()
    box.restart_button.click()
    assert launch.calls and launch.calls[0][:2] == (sys.executable, ["-m", "app.main"])
    assert not window.isVisible()  # closed (saving its state) before the new one starts


def test_a_failed_relaunch_keeps_the_window(qtbot):
    from PySide6.QtWidgets import QWidget

    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    assert not settings_dialog.restart_application(window, launch=FakeLaunch(ok=False))
    assert window.isVisible()


def test_no_restart_is_offered_when_the_language_stays(qtbot):
    dialog = SettingsDialog(cuda_available=False)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("light"))
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))  # what is shown: English
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.restart_box is None and not dialog.language_note.isVisible()


@pytest.mark.parametrize("flags,enabled", [("fpu avx2 avx512f avx512_bf16", True), ("fpu avx2 amx_bf16", True),
                                           ("fpu sse4_2 avx2 fma", False)])
def test_bfloat16_weights_are_offered_only_where_the_cpu_has_the_instructions(qtbot, monkeypatch, tmp_path, flags,
                                                                                enabled):
    from app import settings_dialog

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="utf-8")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(cpuinfo if path == "/proc/cpuinfo" else path,
                                                                          *a, **k))
    assert settings_dialog.cpu_has_bf16_instructions() is enabled
    dialog = settings_dialog.SettingsDialog(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                                            cuda_available=False)
    qtbot.addWidget(dialog)
    index = dialog.weights_combo.findData("bf16")
    assert index >= 0 and dialog.weights_combo.model().item(index).isEnabled() is enabled
