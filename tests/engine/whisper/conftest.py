"""Fixtures shared by the Whisper tests: the tiny tokenizer and a tiny random Whisper with its probe logits."""

import pytest

from tests.engine.whisper.fixtures_whisper import probe, tiny_tokenizer_json, tiny_whisper


@pytest.fixture(scope="module")
def tok_json():
    return tiny_tokenizer_json()


@pytest.fixture(scope="module")
def tiny(tok_json):
    model = tiny_whisper(tok_json)
    return model, probe(model, tok_json)
