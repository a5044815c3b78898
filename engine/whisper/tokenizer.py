"""Whisper's byte-level BPE tokenizer, its special tokens and timestamps.

The vocabulary is GPT-2's byte-level BPE (50,257 text tokens), then special tokens
in a fixed order: ``<|endoftext|>``, ``<|startoftranscript|>``, one token per
language (``<|en|>``, ``<|zh|>``, ``<|de|>``, ``<|es|>`` ...), ``<|translate|>``,
``<|transcribe|>``, ``<|startoflm|>``, ``<|startofprev|>``, ``<|nocaptions|>``
(``<|nospeech|>`` in later models) and ``<|notimestamps|>``. After those come
1501 timestamp tokens, <|0.00|> to <|30.00|> in 20 ms steps; ``tokenizer.json``
does not list them, so ids from ``timestamp_begin`` on are handled here.

A decoder prompt (the "sot sequence") reads ``<|startoftranscript|> <|es|>
<|transcribe|>``, plus ``<|notimestamps|>`` when no timestamps are wanted;
previous text goes before it after ``<|startofprev|>``.

Whisper large-v3 and large-v3-turbo know one language more, ``<|yue|>``
(Cantonese), after the others: every later special token and timestamp is one
id up and the vocabulary has 51,866 tokens. Every id is read from the
tokenizer, never assumed; :func:`add_language_token` derives such a vocabulary
from an earlier one.
"""

from __future__ import annotations

import json
import string
from functools import cached_property
from pathlib import Path

from tokenizers import Tokenizer

N_TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>
TIME_PRECISION = 0.02

# Scripts written without spaces between words: word timings split them at every
# complete character instead of at spaces.
NO_SPACE_LANGUAGES = {"zh", "ja", "th", "lo", "my", "yue"}


def _byte_decoder() -> dict[str, int]:
    """Byte-level BPE writes each byte as a printable character; this maps them back.

    Printable Latin-1 bytes stand for themselves; the others (controls, space,
    0x7f-0xa0, 0xad) take the characters from U+0100 on, in byte order.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def add_language_token(tokenizer_json: str, code: str) -> str:
    """The text of ``tokenizer_json`` with one more language token, ``<|code|>``, right after the last one.

    The special tokens after the languages (``<|translate|>`` ... ``<|notimestamps|>``)
    move one id up, and with them the timestamps: what large-v3's ``<|yue|>`` did to the
    vocabulary of the earlier multilingual Whispers (51,865 tokens to 51,866). Text tokens
    keep their ids. Raises ValueError for a tokenizer without language tokens, or one
    that already has ``<|code|>``.
    """
    before = WhisperTokenizer.from_str(tokenizer_json, language=None)
    if not before.languages:
        raise ValueError("not a multilingual Whisper tokenizer: it has no language tokens")
    if code in before.languages:
        raise ValueError(f"the tokenizer already has <|{code}|>")
    last_code, last_id = max(before.languages.items(), key=lambda kv: kv[1])
    new_id = last_id + 1

    def shift(i: int) -> int:
        return i + 1 if i >= new_id else i

    data = json.loads(tokenizer_json)
    added = data.get("added_tokens") or []
    for token in added:
        token["id"] = shift(token["id"])
    template = next(t for t in added if t.get("content") == f"<|{last_code}|>")
    added.append({**template, "id": new_id, "content": f"<|{code}|>"})
    added.sort(key=lambda t: t["id"])
    vocab = (data.get("model") or {}).get("vocab")
    if isinstance(vocab, dict):  # a BPE vocabulary may list <|endoftext|> too
        data["model"]["vocab"] = {piece: shift(i) for piece, i in vocab.items()}
    _shift_ids(data.get("post_processor"), shift)
    out = json.dumps(data, ensure_ascii=False)
    after = WhisperTokenizer.from_str(out, language=None)
    if after.special(f"<|{code}|>") != new_id or after.vocab_size != before.vocab_size + 1:
        raise ValueError(f"could not add <|{code}|> to this tokenizer")  # a layout we do not know
    return out


def _shift_ids(node, shift) -> None:
    """Renumber the ``"ids"`` lists in a post-processor (its special tokens' ids), in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ids" and isinstance(value, list) and all(isinstance(i, int) for i in value):
                node[key] = [shift(i) for i in value]
            else:
                _shift_ids(value, shift)
    elif isinstance(node, list):
        for item in node:
            _shift_ids(item, shift)


class WhisperTokenizer:
    """Whisper's tokenizer around a ``tokenizers.Tokenizer`` from ``tokenizer.json``.

    ``language`` and ``task`` are the defaults of :meth:`sot_sequence`; both can be
    changed per call (language detection picks one after loading).
    """

    def __init__(self, tokenizer: Tokenizer, language: str | None = "es", task: str = "transcribe"):
        self.tokenizer = tokenizer
        self._special = {t.content: i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}
        for name in ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>"):
            if name not in self._special:
                raise ValueError(f"not a Whisper tokenizer: it has no {name} token")
        if task not in ("transcribe", "translate"):
            raise ValueError(f"task must be 'transcribe' or 'translate', got {task!r}")
        if language is not None and self.is_multilingual and language not in self.languages:
            raise ValueError(f"unknown language {language!r}; this model knows {', '.join(self.languages)}")
        self.language = language if self.is_multilingual else "en"
        self.task = task
        self._bytes = _byte_decoder()

    @classmethod
    def from_file(cls, path: str | Path, language: str | None = "es", task: str = "transcribe") -> "WhisperTokenizer":
        """Load ``tokenizer.json`` (as shipped with Whisper checkpoints and stored in our model folders)."""
        return cls(Tokenizer.from_file(str(path)), language, task)

    @classmethod
    def from_str(cls, json_text: str, language: str | None = "es", task: str = "transcribe") -> "WhisperTokenizer":
        return cls(Tokenizer.from_str(json_text), language, task)

    # Special tokens ---------------------------------------------------------

    def special(self, name: str) -> int | None:
        """Id of a special token such as ``"<|es|>"``, or None when the vocabulary lacks it."""
        return self._special.get(name)

    @property
    def eot(self) -> int:
        return self._special["<|endoftext|>"]

    @property
    def sot(self) -> int:
        return self._special["<|startoftranscript|>"]

    @property
    def transcribe(self) -> int | None:
        return self._special.get("<|transcribe|>")

    @property
    def translate(self) -> int | None:
        return self._special.get("<|translate|>")

    @property
    def sot_lm(self) -> int | None:
        return self._special.get("<|startoflm|>")

    @property
    def sot_prev(self) -> int:
        return self._special["<|startofprev|>"]

    @property
    def no_speech(self) -> int | None:
        return self._special.get("<|nospeech|>", self._special.get("<|nocaptions|>"))

    @property
    def no_timestamps(self) -> int:
        return self._special["<|notimestamps|>"]

    @property
    def timestamp_begin(self) -> int:
        """Id of <|0.00|>; timestamp k (k * 20 ms) is ``timestamp_begin + k``."""
        return self.no_timestamps + 1

    @cached_property
    def languages(self) -> dict[str, int]:
        """Language code -> token id, in the model's order (e.g. {"en": 50259, ..., "es": 50262, ...})."""
        out = {}
        for content, i in sorted(self._special.items(), key=lambda kv: kv[1]):
            code = content[2:-2]
            if self.sot < i and content.startswith("<|") and content.endswith("|>") and 2 <= len(code) <= 3 \
                    and code.isalpha() and code.islower():
                out[code] = i
        return out

    @property
    def is_multilingual(self) -> bool:
        return bool(self.languages)

    @property
    def vocab_size(self) -> int:
        """Size of the model's output layer: text, special and timestamp tokens (51865 multilingual, 51866 large-v3)."""
        return self.timestamp_begin + N_TIMESTAMPS

    def __len__(self) -> int:
        return self.vocab_size

    def sot_sequence(self, language: str | None = None, task: str | None = None, timestamps: bool = True) -> list[int]:
        """The decoder prompt: <|startoftranscript|> <|lang|> <|task|> [<|notimestamps|>]."""
        seq = [self.sot]
        if self.is_multilingual:
            code = language or self.language
            if code is None:
                raise ValueError("no language given and none detected")
            if code not in self.languages:
                raise ValueError(f"unknown language {code!r}")
            seq.append(self.languages[code])
            seq.append(self._special[f"<|{task or self.task}|>"])
        if not timestamps:
            seq.append(self.no_timestamps)
        return seq

    def timestamp(self, token: int) -> float:
        """Seconds that a timestamp token stands for."""
        return (token - self.timestamp_begin) * TIME_PRECISION

    # Text -------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """Text tokens of ``text`` as written (a word after a space is a different token from one without)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        """Text of ``ids``, leaving out special and timestamp tokens."""
        return self.tokenizer.decode([int(t) for t in ids if t < self.eot])

    def decode_with_timestamps(self, ids) -> str:
        """Text with timestamps written in place, e.g. ``"<|0.00|> Hola.<|1.20|>"``."""
        out, run = [], []
        for t in ids:
            if t >= self.timestamp_begin:
                out.append(self.decode(run))
                out.append(f"<|{self.timestamp(t):.2f}|>")
                run = []
            else:
                run.append(t)
        out.append(self.decode(run))
        return "".join(out)

    def token_bytes(self, token: int) -> bytes:
        """The raw bytes of one text token (a token may hold part of a UTF-8 character)."""
        piece = self.tokenizer.id_to_token(int(token))
        if piece is None or token >= self.eot:
            return b""
        return bytes(self._bytes[c] for c in piece)

    def split_to_word_tokens(self, ids) -> tuple[list[str], list[list[int]]]:
        """Group tokens into words: (words, tokens of each word).

        For space-delimited languages (Spanish) a word starts at a token beginning
        with a space, and punctuation and special tokens stand alone, as Whisper
        groups them: " ¿" then "Qué" gives the word " ¿Qué"; "," after "señor"
        is a word of its own (word timings merge it back). For the languages in
        ``NO_SPACE_LANGUAGES`` every complete character is a word.
        """
        pieces, piece_tokens = self.split_on_characters(list(ids))
        if self.language in NO_SPACE_LANGUAGES:
            return pieces, piece_tokens
        words: list[str] = []
        word_tokens: list[list[int]] = []
        for piece, toks in zip(pieces, piece_tokens):
            starts_word = (
                toks[0] >= self.eot or piece.startswith(" ") or piece.strip() in string.punctuation or not words
            )
            if starts_word:
                words.append(piece)
                word_tokens.append(list(toks))
            else:
                words[-1] += piece
                word_tokens[-1].extend(toks)
        return words, word_tokens

    def split_on_characters(self, ids: list[int]) -> tuple[list[str], list[list[int]]]:
        """Runs of tokens that each decode to whole UTF-8 characters (a "ñ" may take two tokens)."""
        pieces, piece_tokens, run, buf = [], [], [], b""
        for t in ids:
            run.append(t)
            if t >= self.eot:
                if buf:  # a broken character before a special token: keep what we have
                    pieces.append(buf.decode("utf-8", errors="replace"))
                    piece_tokens.append(run[:-1])
                    run, buf = [t], b""
                pieces.append(self.decode_with_timestamps([t]) if t >= self.timestamp_begin
                              else self.tokenizer.id_to_token(t))
                piece_tokens.append(run)
                run = []
                continue
            buf += self.token_bytes(t)
            try:
                text = buf.decode("utf-8")
            except UnicodeDecodeError:
                continue  # the character goes on in the next token
            pieces.append(text)
            piece_tokens.append(run)
            run, buf = [], b""
        if run:
            pieces.append(buf.decode("utf-8", errors="replace"))
            piece_tokens.append(run)
        return pieces, piece_tokens

    # Suppression --------------------------------------------------------------

    @cached_property
    def non_speech_tokens(self) -> tuple[int, ...]:
        """Tokens that start speaker tags, music notes or sound descriptions: ♪, [, (, <, ...

        Whisper suppresses them so that it writes only what is said. Ordinary
        punctuation stays allowed, and so do a hyphen or an apostrophe inside a word
        (only " -" and " '" at a word's start are suppressed).
        """
        symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
        symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
        # Musical symbols may take several tokens; their first token is shared by
        # U+2640-267F only, nothing that speech needs, so suppressing it is safe.
        notes = set("♩♪♫♬♭♮♯")
        result = {self.encode(" -")[0], self.encode(" '")[0]}
        for symbol in symbols + sorted(notes):
            for tokens in (self.encode(symbol), self.encode(" " + symbol)):
                if len(tokens) == 1 or symbol in notes:
                    result.add(tokens[0])
        return tuple(sorted(result))

    def suppress_tokens(self, spec: str | list[int] = "-1", model_default: list[int] | None = None) -> tuple[int, ...]:
        """The ids never to emit, from a Whisper-style spec such as ``"-1"`` or ``"-1,123"``.

        ``-1`` stands for the model's default list: ``model_default`` when the model
        folder stores one (the ``suppress_ids`` of a CTranslate2 or Hugging Face
        config), else :attr:`non_speech_tokens`. The task, start and no-speech
        tokens are always added: they are never part of a transcript.
        """
        if isinstance(spec, str):
            ids = [int(s) for s in spec.replace(" ", "").split(",") if s]
        else:
            ids = [int(s) for s in spec]
        result = {i for i in ids if i >= 0}
        if -1 in ids:
            result.update(model_default if model_default is not None else self.non_speech_tokens)
        fixed = (self.transcribe, self.translate, self.sot, self.sot_prev, self.sot_lm, self.no_speech)
        result.update(t for t in fixed if t is not None)
        return tuple(sorted(result))

    @property
    def blank_tokens(self) -> list[int]:
        """What the first token may not be (a bare space, or ending at once)."""
        return self.encode(" ") + [self.eot]
