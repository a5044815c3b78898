"""Transcript normalisation and the character tokenizer.

Spanish spelling carries meaning (``papa``/``papá``, ``si``/``sí``), so
accents and ``ñ``/``ü`` are always kept; there is deliberately no option to
strip them. Normalisation only makes equal text look equal: one Unicode form
(NFC), optional lower case, tidy spaces, optional punctuation removal.

The tokenizer maps characters to ids with the four special tokens first. It
never replaces an unknown character silently: it raises, or, when asked to,
maps it to ``<unk>`` and counts it so the caller can report it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from engine import configio
from engine.errors import ConfigError, ModelFileError, UnknownCharacterError
from engine.fileio import write_json_atomic

PUNCTUATION_MODES = ("keep", "strip")
SPECIAL_TOKENS = ("<blank>", "<unk>", "<sos>", "<eos>")
VOCAB_FORMAT = "parcero-char-vocab"
VOCAB_VERSION = 1

# An apostrophe between two letters (l'Hospitalet, O'Donnell) joins the word
# instead of splitting it. [^\W\d_] is "a letter" in Python's Unicode regex.
_INWORD_APOSTROPHE = re.compile(r"(?<=[^\W\d_])['\u2019\u2018\u02bc`\u00b4](?=[^\W\d_])")


@dataclass(frozen=True)
class TextConfig:
    """How transcripts are normalised before tokenizing. Stored with the vocab.

    Attributes
    ----------
    lowercase : bool
        Lower-case with ``str.lower`` (``"Ñ" -> "ñ"``, accents kept).
    punctuation : str
        ``"strip"`` removes punctuation and symbols (``¿ ¡ , . « » " % ...``);
        ``"keep"`` leaves them in the text and the vocabulary.
    """

    lowercase: bool = True
    punctuation: str = "strip"

    def __post_init__(self) -> None:
        if self.punctuation not in PUNCTUATION_MODES:
            raise ConfigError(
                f"TextConfig.punctuation: expected one of {PUNCTUATION_MODES}, "
                f"got {self.punctuation!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "text") -> TextConfig:
        """Inverse of :meth:`to_dict`; raises ConfigError naming ``where.key`` on unknown keys or bad values."""
        return configio.from_dict(cls, d, where)


def _is_invisible(ch: str) -> bool:
    # Format characters (zero-width space, soft hyphen, BOM) and control
    # characters other than whitespace sneak in from web text and word
    # processors; they are never spoken and would only pollute the vocabulary.
    return unicodedata.category(ch) in ("Cf", "Cc") and not ch.isspace()


def normalize_text(text: str, config: TextConfig = TextConfig()) -> str:
    """Normalise a transcript the same way for training, scoring and display.

    Steps: NFC composition (``"que\\u0301" -> "qué"``), removal of invisible
    format characters, optional lower-casing, optional punctuation removal,
    and collapsing every run of whitespace into one space with none at the
    ends. Letters (any script, any case, with any accent) and digits always
    survive.

    In ``"strip"`` mode an apostrophe between letters is dropped
    (``"O'Donnell" -> "ODonnell"``); every other punctuation mark or symbol
    (Unicode categories P* and S*) becomes a space, so ``"franco-alemán"``
    gives ``"franco alemán"`` and ``"hola,adiós"`` gives ``"hola adiós"``.

    Parameters
    ----------
    text : str
    config : TextConfig

    Returns
    -------
    str
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    if config.lowercase:
        # lower() can decompose (U+0130 "İ" -> "i" + combining dot), so
        # compose again afterwards.
        text = unicodedata.normalize("NFC", text.lower())
    if config.punctuation == "strip":
        text = _INWORD_APOSTROPHE.sub("", text)
        text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


class CharTokenizer:
    """Characters <-> ids, with the CTC blank at id 0.

    Ids: ``<blank>`` = 0 (CTC blank, also padding), ``<unk>`` = 1,
    ``<sos>`` = 2, ``<eos>`` = 3, then the characters sorted by code point
    (space is an ordinary character, usually id 4).

    Parameters
    ----------
    chars : Iterable[str]
        Single characters; duplicates are merged.
    config : TextConfig
        The normalisation applied by :meth:`encode`; saved with the vocab.
    """

    blank_id = 0
    unk_id = 1
    sos_id = 2
    eos_id = 3

    def __init__(self, chars: Iterable[str], config: TextConfig = TextConfig(), *, keep_order: bool = False):
        chars = list(chars)
        bad = sorted(c for c in chars if not isinstance(c, str) or len(c) != 1)
        if bad:
            raise ValueError(f"vocabulary entries must be single characters, got {bad!r}")
        if keep_order and len(set(chars)) != len(chars):
            raise ValueError("vocabulary characters must be unique")
        self.config = config
        # keep_order: ids as given (a vocabulary extended for fine-tuning appends new
        # characters after the old ones, so old ids keep their meaning).
        self.chars: tuple[str, ...] = tuple(chars) if keep_order else tuple(sorted(set(chars)))
        self.tokens: tuple[str, ...] = SPECIAL_TOKENS + self.chars
        self._char_to_id = {c: i for i, c in enumerate(self.chars, start=len(SPECIAL_TOKENS))}
        # Unknown characters met by encode(errors="count"), for the caller to report.
        self.unknown_counts: Counter[str] = Counter()

    @classmethod
    def build(
        cls, texts: Iterable[str], config: TextConfig = TextConfig(), min_count: int = 1
    ) -> CharTokenizer:
        """Collect the vocabulary from normalised transcripts.

        Parameters
        ----------
        texts : Iterable[str]
            Raw transcripts; each is normalised with ``config`` first.
        config : TextConfig
        min_count : int
            Characters seen fewer times are left out (and will encode as
            unknown), which keeps one-off typos out of the output layer.
            The space is always kept, even from a corpus of single words,
            since a model that cannot emit it cannot separate words.
        """
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(normalize_text(text, config))
        kept = {c for c, n in counts.items() if n >= min_count}
        return cls(kept | {" "}, config)

    def extended(self, texts: Iterable[str]) -> tuple[CharTokenizer, list[str]]:
        """This vocabulary plus the characters of ``texts`` it lacks, appended at the end.

        Returns the new tokenizer and the added characters. Existing ids are unchanged,
        which lets a fine-tuned model keep its embedding and output rows.
        """
        seen = set(self.chars)
        added = sorted({c for t in texts for c in normalize_text(t, self.config)} - seen)
        return CharTokenizer(self.chars + tuple(added), self.config, keep_order=True), added

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, config={self.config})"

    def encode(self, text: str, *, normalize: bool = True, errors: str = "strict") -> list[int]:
        """Text -> ids (no ``<sos>``/``<eos>`` added).

        Parameters
        ----------
        text : str
        normalize : bool
            Apply :func:`normalize_text` with this tokenizer's config first.
        errors : str
            ``"strict"`` raises on characters not in the vocabulary;
            ``"count"`` encodes them as ``unk_id`` and adds them to
            :attr:`unknown_counts`.

        Returns
        -------
        list[int]
            One id per character of the (normalised) text.

        Raises
        ------
        UnknownCharacterError
            In strict mode, listing every unknown character once, sorted.
        """
        if errors not in ("strict", "count"):
            raise ValueError(f"errors must be 'strict' or 'count', got {errors!r}")
        normalized = normalize_text(text, self.config) if normalize else text
        ids = [self._char_to_id.get(c, self.unk_id) for c in normalized]
        unknown = [c for c, i in zip(normalized, ids) if i == self.unk_id]
        if unknown:
            if errors == "strict":
                raise UnknownCharacterError(text, sorted(set(unknown)))
            self.unknown_counts.update(unknown)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text, skipping the special tokens.

        Repeated ids are kept as they are: collapsing CTC repeats is the
        decoder's job, not the tokenizer's.
        """
        n_special = len(SPECIAL_TOKENS)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise ValueError(
                    f"token id {i} is outside the vocabulary (size {len(self.tokens)})"
                )
            if i >= n_special:
                out.append(self.tokens[i])
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; ``tokens`` lists every token in id order."""
        return {
            "format": VOCAB_FORMAT,
            "version": VOCAB_VERSION,
            "tokens": list(self.tokens),
            "text": self.config.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CharTokenizer:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ConfigError
            Wrong format tag or version, special tokens not in their fixed
            places, or characters that are not single and unique. The order
            is kept as saved: ids must mean what they meant in training.
        """
        if not isinstance(d, dict) or d.get("format") != VOCAB_FORMAT:
            raise ConfigError(f"not a {VOCAB_FORMAT} document")
        if d.get("version") != VOCAB_VERSION:
            raise ConfigError(f"unsupported vocabulary version {d.get('version')!r}")
        tokens = d.get("tokens")
        if not isinstance(tokens, list) or tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ConfigError(f"'tokens' must be a list starting with {list(SPECIAL_TOKENS)}")
        chars = tokens[len(SPECIAL_TOKENS):]
        if not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ConfigError("every token after the special ones must be a single character")
        if len(set(chars)) != len(chars):
            raise ConfigError("characters must be unique")
        if "text" not in d:
            raise ConfigError("missing 'text' (the TextConfig the vocabulary was built with)")
        return cls(chars, TextConfig.from_dict(d["text"]), keep_order=True)

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as readable UTF-8 JSON (``"ñ"``, not ``"\\u00f1"``)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        """Read a file written by :meth:`save`.

        Raises
        ------
        ModelFileError
            (a ParceroError) naming the file, when it is missing, not UTF-8
            JSON, or not a valid vocabulary.
        """
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelFileError(path, "vocabulary file not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(path, f"cannot read vocabulary: {exc}") from exc
        try:
            return cls.from_dict(d)
        except (ConfigError, ValueError) as exc:
            raise ModelFileError(path, f"malformed vocabulary: {exc}") from exc
