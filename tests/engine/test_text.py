"""Tests for engine.text: normalisation and the character tokenizer."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

import pytest

from engine.errors import ConfigError, ParceroError, UnknownCharacterError
from engine.text import CharTokenizer, TextConfig, normalize_text

SENTENCE = "¿Qué pasó, señor Núñez? ¡El pingüino comió ñoquis el miércoles!"
KEEP_CASE_AND_PUNCTUATION = TextConfig(lowercase=False, punctuation="keep")


# --- normalize_text -------------------------------------------------------------------


def test_strip_mode_default():
    assert normalize_text(SENTENCE) == "qué pasó señor núñez el pingüino comió ñoquis el miércoles"
    assert normalize_text(SENTENCE, TextConfig()) == normalize_text(SENTENCE)


def test_keep_mode_keeps_everything_but_extra_spaces():
    assert normalize_text(f"  {SENTENCE}\n", KEEP_CASE_AND_PUNCTUATION) == SENTENCE
    assert normalize_text("¡Hola!  ¿Qué tal?", TextConfig(punctuation="keep")) == "¡hola! ¿qué tal?"


def test_nfd_input_gives_nfc_output():
    nfd = unicodedata.normalize("NFD", SENTENCE)
    assert nfd != SENTENCE and "que\u0301" in unicodedata.normalize("NFD", "qué")
    for config in (TextConfig(), KEEP_CASE_AND_PUNCTUATION):
        out = normalize_text(nfd, config)
        assert out == normalize_text(SENTENCE, config)
        assert unicodedata.is_normalized("NFC", out)
    assert normalize_text("que\u0301") == "qué"


def test_lowercase_keeps_accents_and_letters_survive_stripping():
    letters = "ÁÉÍÓÚÜÑáéíóúüñÇçÀàÃãØøßÆæŁłΩωЖж"
    assert normalize_text(letters) == letters.lower()
    assert normalize_text("ÑANDÚ PINGÜINO") == "ñandú pingüino"
    assert normalize_text(letters, TextConfig(lowercase=False)) == letters


def test_punctuation_and_symbols_are_stripped():
    text = '«Hola», dijo “él”; ‘sí’… (¡ya!) [vale] {no} "x" 50% #1 @ana $3 €5 + 2 = 7'
    assert normalize_text(text) == "hola dijo él sí ya vale no x 50 1 ana 3 5 2 7"


def test_hyphens_and_apostrophes():
    assert normalize_text("el acuerdo franco-alemán") == "el acuerdo franco alemán"
    assert normalize_text("—Ven —dijo ella—.") == "ven dijo ella"
    assert normalize_text("O'Donnell y l’Hospitalet") == "odonnell y lhospitalet"


def test_whitespace_digits_and_invisible_characters():
    assert normalize_text(" \t uno\n\ndos\u00a0 tres  ") == "uno dos tres"
    assert normalize_text("Calle 13, nº 7") == "calle 13 nº 7"
    # zero-width space and soft hyphen are not letters or spaces: dropped.
    assert normalize_text("pala\u00adbra\u200b", KEEP_CASE_AND_PUNCTUATION) == "palabra"
    assert normalize_text("") == "" and normalize_text(" ¿? ") == ""


def test_text_config_dict_round_trip_and_errors():
    assert TextConfig.from_dict(KEEP_CASE_AND_PUNCTUATION.to_dict()) == KEEP_CASE_AND_PUNCTUATION
    with pytest.raises(ConfigError, match="accents"):
        TextConfig.from_dict({"accents": "strip"})
    with pytest.raises(ConfigError, match="punctuation"):
        TextConfig.from_dict({"punctuation": "remove"})
    with pytest.raises(ConfigError, match="lowercase"):
        TextConfig.from_dict({"lowercase": "yes"})


# --- CharTokenizer ----------------------------------------------------------------------


def test_special_ids_and_code_point_order():
    tok = CharTokenizer.build(["ba c", "ñá"])
    assert (tok.blank_id, tok.unk_id, tok.sos_id, tok.eos_id) == (0, 1, 2, 3)
    assert tok.tokens[:4] == ("<blank>", "<unk>", "<sos>", "<eos>")
    assert tok.chars == (" ", "a", "b", "c", "á", "ñ")
    assert tok.vocab_size == len(tok) == 10
    assert tok.encode("cab ñá") == [7, 5, 6, 4, 9, 8]


def test_round_trip_keeps_sentence_exactly(tmp_path):
    tok = CharTokenizer.build([SENTENCE], KEEP_CASE_AND_PUNCTUATION)
    ids = tok.encode(SENTENCE)
    assert len(ids) == len(SENTENCE) and tok.unk_id not in ids
    assert tok.decode(ids) == SENTENCE
    # NFD input encodes to the same ids.
    assert tok.encode(unicodedata.normalize("NFD", SENTENCE)) == ids

    path = tmp_path / "model" / "vocab.json"
    tok.save(path)
    loaded = CharTokenizer.load(path)
    assert loaded.tokens == tok.tokens and loaded.config == tok.config
    assert loaded.decode(loaded.encode(SENTENCE)) == SENTENCE
    assert loaded.encode(SENTENCE) == ids


def test_saved_vocab_is_readable_utf8(tmp_path):
    path = tmp_path / "vocab.json"
    CharTokenizer.build([SENTENCE]).save(path)
    raw = path.read_text(encoding="utf-8")
    assert "ñ" in raw and "ü" in raw and "\\u00f1" not in raw
    data = json.loads(raw)
    assert data["text"] == {"lowercase": True, "punctuation": "strip"}
    assert data["tokens"][:5] == ["<blank>", "<unk>", "<sos>", "<eos>", " "]


def test_decode_skips_special_tokens():
    tok = CharTokenizer.build(["hola"])
    ids = [tok.sos_id, *tok.encode("hola"), tok.blank_id, tok.unk_id, tok.eos_id]
    assert tok.decode(ids) == "hola"
    with pytest.raises(ValueError, match="99"):
        tok.decode([99])


def test_unknown_characters_strict():
    tok = CharTokenizer.build(["hola mundo"])
    with pytest.raises(UnknownCharacterError) as exc_info:
        tok.encode("Ñoño y Ángel")
    assert exc_info.value.chars == ["e", "g", "y", "á", "ñ"]
    assert exc_info.value.text == "Ñoño y Ángel"
    assert "U+00F1" in str(exc_info.value)
    assert tok.unknown_counts == Counter()


def test_unknown_characters_counted_not_hidden():
    tok = CharTokenizer.build(["hola mundo"])
    ids = tok.encode("ñoño", errors="count")
    assert ids == [tok.unk_id, tok.encode("o")[0], tok.unk_id, tok.encode("o")[0]]
    tok.encode("año", errors="count")
    assert tok.unknown_counts == Counter({"ñ": 3})
    with pytest.raises(ValueError):
        tok.encode("hola", errors="replace")


def test_encode_without_normalisation():
    tok = CharTokenizer.build(["hola"])
    assert tok.encode("HOLA") == tok.encode("hola")
    with pytest.raises(UnknownCharacterError):
        tok.encode("HOLA", normalize=False)


def test_min_count_drops_rare_characters():
    tok = CharTokenizer.build(["aaa bb", "c"], min_count=2)
    # Space is seen once but always kept: words must stay separable.
    assert tok.chars == (" ", "a", "b")
    assert CharTokenizer.build(["sí", "no"]).chars == (" ", "n", "o", "s", "í")


def test_dict_round_trip():
    tok = CharTokenizer.build([SENTENCE], KEEP_CASE_AND_PUNCTUATION)
    again = CharTokenizer.from_dict(tok.to_dict())
    assert again.tokens == tok.tokens and again.config == tok.config


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"format": "parcero-char-vocab", "version": 1, "tokens": ["a"], "text": {}}',
        '{"format": "parcero-char-vocab", "version": 1, '
        '"tokens": ["<blank>", "<unk>", "<sos>", "<eos>", "a", "b", "a"], "text": {}}',
        '{"format": "parcero-char-vocab", "version": 1, '
        '"tokens": ["<blank>", "<unk>", "<sos>", "<eos>", "ab"], "text": {}}',
        '{"format": "parcero-char-vocab", "version": 1, '
        '"tokens": ["<blank>", "<unk>", "<sos>", "<eos>", "a"], "text": {"accents": false}}',
        '{"format": "parcero-char-vocab", "version": 2, '
        '"tokens": ["<blank>", "<unk>", "<sos>", "<eos>", "a"], "text": {}}',
        '{"format": "parcero-char-vocab", "version": 1, '
        '"tokens": ["<blank>", "<unk>", "<sos>", "<eos>", "a"]}',
    ],
)
def test_malformed_vocab_file_names_the_file(tmp_path, content):
    path = tmp_path / "broken_vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ParceroError, match="broken_vocab.json"):
        CharTokenizer.load(path)


def test_missing_or_binary_vocab_file(tmp_path):
    with pytest.raises(ParceroError, match="missing.json"):
        CharTokenizer.load(tmp_path / "missing.json")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"x": "\xf1"}')
    with pytest.raises(ParceroError, match="latin1.json"):
        CharTokenizer.load(path)


def test_extended_vocabulary_keeps_old_ids_and_reports_new_characters(tmp_path):
    old = CharTokenizer.build(["hola mundo"], TextConfig())
    new, added = old.extended(["año pingüino", "hola"])
    assert added == sorted(set("añopingüino") - set(old.chars))
    assert new.tokens[: len(old)] == old.tokens
    assert new.encode("hola mundo") == old.encode("hola mundo")
    assert new.decode(new.encode("año pingüino")) == "año pingüino"
    new.save(tmp_path / "v.json")
    assert CharTokenizer.load(tmp_path / "v.json").tokens == new.tokens  # order survives saving
