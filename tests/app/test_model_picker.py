"""Model lists follow the model folders: an import appears in every list at once, no restart."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QFileDialog

from app.widgets.model_picker import ModelPicker, has_language_choice, model_catalogue


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))  # no models folder yet
    return tmp_path / "datos"


def test_a_model_written_into_the_models_folder_appears_in_every_list(qtbot, data_folder, saved_model_dir):
    first, second = ModelPicker(), ModelPicker()
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    chosen = first.current_path()
    target = data_folder / "models" / "nuevo-modelo"
    # as `parcero models import` does: written under a hidden name, then renamed into place
    hidden = data_folder / "models" / ".nuevo-modelo.tmp"
    shutil.copytree(saved_model_dir, hidden)
    qtbot.wait(600)
    assert first.findData(str(hidden)) < 0  # half-written imports are never offered
    hidden.rename(target)
    for picker in (first, second):
        qtbot.waitUntil(lambda picker=picker: picker.findData(str(target)) >= 0, timeout=3000)
    assert first.current_path() == chosen  # a new model does not change the choice
    shutil.rmtree(target)
    qtbot.waitUntil(lambda: first.findData(str(target)) < 0, timeout=3000)


def test_a_chosen_model_that_vanishes_stays_chosen_so_the_run_says_why(qtbot, data_folder, saved_model_dir):
    target = data_folder / "models" / "se-va"
    shutil.copytree(saved_model_dir, target)
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_model_path(target)
    shutil.rmtree(target)
    model_catalogue().rescan()
    assert picker.current_path() == str(target)  # never quietly another model


def test_browse_starts_in_the_models_folder_and_cancel_keeps_the_choice(qtbot, data_folder, saved_model_dir,
                                                                        monkeypatch):
    (data_folder / "models").mkdir(parents=True)
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_model_path(saved_model_dir)
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: asked.append(a) or "")
    browse = picker.count() - 1
    picker.setCurrentIndex(browse)
    picker.activated.emit(browse)
    assert asked and asked[0][2] == str(data_folder / "models")
    assert picker.current_path() == str(saved_model_dir)


def test_only_whisper_takes_a_language(saved_model_dir, tmp_path):
    import json

    assert not has_language_choice(saved_model_dir)
    whisper = tmp_path / "w"
    whisper.mkdir()
    (whisper / "config.json").write_text(json.dumps({"architecture": "whisper"}), encoding="utf-8")
    assert has_language_choice(whisper) and not has_language_choice(tmp_path / "nada")
