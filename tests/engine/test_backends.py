"""One seam per model family: every family implements the backend, nothing outside a family asks which it is,
and a third family is one folder and one registry line (tests/engine/families/ctc_only)."""

from __future__ import annotations

import inspect
import re
import threading
from pathlib import Path

import pytest

from engine import backends
from engine.audio import save_wav
from engine.backends import FAMILIES, Backend, backend_named, backend_of
from engine.data.manifest import read_manifest
from engine.errors import ParceroError
from engine.evaluate import evaluate_loaded
from engine.metrics import error_rates
from engine.models.io import load_model, save_trained
from engine.protocol import ChunkResult, Finished, Transcribe
from engine.transcribe import check_decode_options, transcribe_file
from engine.transcript import DecodeOptions
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import tone_speech, write_tone_corpus

ENGINE = Path(__file__).resolve().parents[2] / "engine"
THIRD = "tests.engine.families.ctc_only.backend"


@pytest.mark.parametrize("architecture", sorted(FAMILIES))
def test_every_family_implements_the_whole_backend(architecture):
    backend = backend_named(architecture)
    assert isinstance(backend, Backend)
    assert backend.architecture == architecture
    assert not inspect.getmembers(type(backend), lambda m: getattr(m, "__isabstractmethod__", False))


def test_loaded_models_name_their_family(saved_model_dir):
    loaded = load_model(saved_model_dir)
    assert loaded.architecture == "speech-transformer"
    assert loaded.backend is backend_named("speech-transformer") is backend_of(loaded.model)


def test_no_module_outside_a_family_asks_which_architecture_it_holds():
    family_dirs = {ENGINE / module.split(".")[1] for module in FAMILIES.values()}
    asks = re.compile(r"""==\s*["'](whisper|speech-transformer)["']|["'](whisper|speech-transformer)["']\s*==|"""
                      r"""is_whisper|isinstance\([^)]*\b(Whisper|SpeechTransformer)\b""")
    offences = []
    for path in sorted(ENGINE.rglob("*.py")):
        if any(folder in path.parents for folder in family_dirs):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if asks.search(line):
                offences.append(f"{path.relative_to(ENGINE.parent)}:{number}: {line.strip()}")
    assert not offences, "architecture branches outside a family:\n" + "\n".join(offences)


@pytest.fixture
def third_family(monkeypatch):
    """Register the ctc-only family: the one line a new family adds to engine.backends.FAMILIES."""
    monkeypatch.setitem(FAMILIES, "ctc-only", THIRD)
    backend_named.cache_clear()
    yield backend_named("ctc-only")
    backend_named.cache_clear()


@pytest.fixture
def ctc_only_dir(third_family, overfit_model, tmp_path):
    model, tokenizer, fc, _ = overfit_model
    from tests.engine.families.ctc_only.backend import CtcOnlyModel

    ctc = CtcOnlyModel(model.config)
    ctc.load_state_dict(model.state_dict())
    return save_trained(tmp_path / "solo-ctc", ctc, tokenizer, fc, {"name": "solo-ctc"})


def test_a_third_family_loads_transcribes_and_is_scored_through_the_shared_paths(third_family, ctc_only_dir,
                                                                               tmp_path):
    loaded = load_model(ctc_only_dir)
    assert loaded.architecture == "ctc-only" and loaded.backend is third_family and loaded.name == "solo-ctc"

    text = OVERFIT_TEXTS[3]  # "comió ñoquis"
    wav = tmp_path / "ñoquis.wav"
    save_wav(wav, tone_speech(text, seed=5), 16000)
    result = transcribe_file(loaded, wav, DecodeOptions())
    assert error_rates([text], [result.text]).cer < 0.2, result.text
    assert result.words and result.words[-1].end <= result.duration + 0.05

    with pytest.raises(ParceroError, match="greedily"):
        check_decode_options(DecodeOptions(beam_size=4), loaded)

    manifest = write_tone_corpus(tmp_path / "corpus", OVERFIT_TEXTS[:4])
    report = evaluate_loaded(loaded, read_manifest(manifest).utterances, manifest.parent, DecodeOptions())
    assert report.overall.utterances == 4 and report.overall.cer < 0.2


def test_the_worker_runs_a_third_family_without_knowing_it(third_family, ctc_only_dir, tmp_path):
    from engine.transcription_job import TranscriptionJob

    loaded = load_model(ctc_only_dir)
    wav = tmp_path / "sí.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[5], seed=6), 16000)
    sent = []
    command = Transcribe(7, path=str(wav), attention=())
    end = TranscriptionJob(command, loaded, threading.Event(), sent.append).run()
    assert isinstance(end, Finished) and end.result["model"] == "solo-ctc"
    assert error_rates([OVERFIT_TEXTS[5]], [end.result["text"]]).cer < 0.2
    assert [type(e).__name__ for e in sent if isinstance(e, ChunkResult)] == ["ChunkResult"]


def test_an_unknown_family_is_named_with_the_file(saved_model_dir, tmp_path):
    import json
    import shutil

    folder = Path(shutil.copytree(saved_model_dir, tmp_path / "raro"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "architecture": "rnn-t"}), encoding="utf-8")
    with pytest.raises(ParceroError, match=r"config\.json.*unknown architecture 'rnn-t'"):
        load_model(folder)
    assert "rnn-t" not in backends.FAMILIES


def test_a_family_without_the_encoding_hook_is_not_asked_for_it(third_family, ctc_only_dir, tmp_path):
    """The window asks for the encoder's heatmap; a family whose transcribe predates ``on_encode`` still transcribes."""
    from engine.transcription_job import TranscriptionJob

    assert "on_encode" not in inspect.signature(third_family.transcribe).parameters
    loaded = load_model(ctc_only_dir)
    wav = tmp_path / "sí.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[5], seed=6), 16000)
    command = Transcribe(8, path=str(wav), attention=("decoder_cross", "encoder_self"), heads="all",
                         encoder_heads="average")
    end = TranscriptionJob(command, loaded, threading.Event(), lambda event: None).run()
    assert isinstance(end, Finished), end
    assert error_rates([OVERFIT_TEXTS[5]], [end.result["text"]]).cer < 0.2
