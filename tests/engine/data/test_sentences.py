"""Spanish numbers in words, the sentence generator and reading a user's sentence file."""

from __future__ import annotations

import unicodedata

import pytest

from engine.data.sentences import cantidad, generate_sentences, numero_a_letras, read_sentences
from engine.errors import ParceroError

SPECIAL = "áéíóúüñ¿¡"


@pytest.mark.parametrize("n, words", [
    (0, "cero"), (1, "uno"), (9, "nueve"), (10, "diez"), (15, "quince"), (16, "dieciséis"),
    (19, "diecinueve"), (20, "veinte"), (21, "veintiuno"), (22, "veintidós"), (23, "veintitrés"),
    (26, "veintiséis"), (29, "veintinueve"), (30, "treinta"), (31, "treinta y uno"),
    (99, "noventa y nueve"), (100, "cien"), (101, "ciento uno"), (116, "ciento dieciséis"),
    (200, "doscientos"), (500, "quinientos"), (555, "quinientos cincuenta y cinco"),
    (700, "setecientos"), (900, "novecientos"), (1000, "mil"), (1001, "mil uno"),
    (2023, "dos mil veintitrés"), (21000, "veintiún mil"), (31000, "treinta y un mil"),
    (100_000, "cien mil"), (101_000, "ciento un mil"),
    (999_999, "novecientos noventa y nueve mil novecientos noventa y nueve"),
    (1_000_000, "un millón"), (1_000_001, "un millón uno"), (2_000_000, "dos millones"),
    (2_500_000, "dos millones quinientos mil"), (21_000_000, "veintiún millones"),
    (999_999_999, "novecientos noventa y nueve millones novecientos noventa y nueve mil "
                  "novecientos noventa y nueve"),
])
def test_numero_a_letras(n, words):
    assert numero_a_letras(n) == words


def test_number_agrees_with_the_noun():
    assert numero_a_letras(21, "masculino") == "veintiún"
    assert numero_a_letras(21, "femenino") == "veintiuna"
    assert numero_a_letras(201, "femenino") == "doscientas una"
    assert numero_a_letras(200_000_000, "femenino") == "doscientos millones"  # millón is masculine
    assert cantidad(31, "año", "años", "m") == "treinta y un años"
    assert cantidad(1, "manzana", "manzanas", "f") == "una manzana"
    assert cantidad(2_000_000, "persona", "personas", "f") == "dos millones de personas"


@pytest.mark.parametrize("bad", [-1, 1_000_000_000, 2.5, True, "3"])
def test_numero_a_letras_rejects_what_it_cannot_say(bad):
    with pytest.raises(ValueError):
        numero_a_letras(bad)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2024, 123456])
def test_every_special_character_in_200_sentences(seed):
    text = "".join(generate_sentences(200, seed))
    assert [c for c in SPECIAL if c not in text] == []
    later = "".join(generate_sentences(600, seed)[400:])  # any stretch, not only the start
    assert [c for c in SPECIAL if c not in later] == []


def test_the_words_that_matter_appear():
    text = " ".join(generate_sentences(1000, 0))
    for word in ("pingüino", "cigüeña", "vergüenza", "niño", "mañana", "año", "corazón", "árbol",
                 "música", "miércoles", "está", "también", "¿Dónde", "¡Qué"):
        assert word in text, word


def test_deterministic_per_seed_and_prefix_stable():
    assert generate_sentences(50, 3) == generate_sentences(50, 3)
    assert generate_sentences(50, 3) != generate_sentences(50, 4)
    assert generate_sentences(1000, 3)[:50] == generate_sentences(50, 3)
    assert generate_sentences(0) == []


@pytest.mark.parametrize("seed", [0, 99])
def test_few_duplicates(seed):
    sentences = generate_sentences(1000, seed)
    assert len(set(sentences)) >= 950


def test_sentences_are_well_formed():
    sentences = generate_sentences(1000, 5)
    for s in sentences:
        assert s == unicodedata.normalize("NFC", s) and s == " ".join(s.split()), s
        assert not any(ch.isdigit() for ch in s), s  # numbers are spoken, so written as words
        first = s.lstrip("¿¡")[0]
        assert first.isupper(), s
        if s.startswith("¿"):
            assert s.endswith("?"), s
        elif s.startswith("¡"):
            assert s.endswith("!"), s
        else:
            assert s.endswith("."), s
        assert " ," not in s and "{" not in s, s
    short = sum(4 <= len(s.split()) <= 14 for s in sentences)
    assert short >= 0.9 * len(sentences)


def test_read_sentences_skips_comments_blanks_and_bom(tmp_path):
    path = tmp_path / "frases.txt"
    nfd = unicodedata.normalize("NFD", "¿Qué tal   está usted?")
    text = "\ufeff# mis frases\n\nEl pingüino nada.\r\n  " + nfd + "  \n   # otro\n¡Olé!\n"
    path.write_bytes(text.encode("utf-8"))
    assert read_sentences(path) == ["El pingüino nada.", "¿Qué tal está usted?", "¡Olé!"]


def test_read_sentences_names_the_bad_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Hola.\nBuenos días.\n".encode("utf-8") + "El niño.\n".encode("latin-1"))
    with pytest.raises(ParceroError, match=r"latin1\.txt:3: not UTF-8"):
        read_sentences(path)


def test_read_sentences_missing_or_empty_file(tmp_path):
    with pytest.raises(ParceroError, match="nada.txt: sentence file not found"):
        read_sentences(tmp_path / "nada.txt")
    empty = tmp_path / "vacio.txt"
    empty.write_text("# solo comentarios\n\n", encoding="utf-8")
    with pytest.raises(ParceroError, match="vacio.txt: no sentences"):
        read_sentences(empty)
