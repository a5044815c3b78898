"""Word and character error rates with jiwer, plus the errors Spanish cares about: accents.

Both sides are normalised the same way before scoring (engine.text.normalize_text:
NFC, optional lower case and punctuation removal). Accents are never removed, so
"papa" for "papá" is an error, and a separate count says how many character
substitutions were only an accent (á→a, n→ñ, ü→u ...), the signature of a model
or a corpus that lost its diacritics.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Sequence

import jiwer

from engine.text import TextConfig, normalize_text


@dataclass
class ErrorCounts:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0

    @property
    def reference_length(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        return error_rate(self.errors, self.reference_length)


@dataclass
class ErrorRates:
    wer: float
    cer: float
    words: ErrorCounts
    chars: ErrorCounts
    utterances: int
    accent_substitutions: int = 0  # character substitutions that differ only in a diacritic
    confusions: dict[str, int] = field(default_factory=dict)  # "á→a": count, most frequent first

    def to_dict(self) -> dict:
        d = asdict(self)
        d["words"]["rate"], d["chars"]["rate"] = self.words.rate, self.chars.rate
        return d


@dataclass
class UtteranceErrors:
    """One utterance scored alone; ``reference``/``hypothesis`` are normalised as scored."""

    reference: str
    hypothesis: str
    words: ErrorCounts
    chars: ErrorCounts


def error_rate(errors: int, reference_length: int) -> float:
    """Errors per reference unit; an empty reference scores 1 if anything was said, else 0."""
    return errors / reference_length if reference_length else float(errors > 0)


def base_letter(ch: str) -> str:
    """The letter without diacritics: "á" → "a", "ñ" → "n", "ü" → "u"."""
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


def error_rates(
    references: Sequence[str], hypotheses: Sequence[str], text_config: TextConfig | None = TextConfig()
) -> ErrorRates:
    """WER and CER of hypotheses against references (lists of equal length).

    ``text_config=None`` scores the texts exactly as given.
    """
    _check_lengths(references, hypotheses)
    if not references:
        return ErrorRates(0.0, 0.0, ErrorCounts(), ErrorCounts(), 0)
    refs, hyps, w, c = _align(references, hypotheses, text_config)
    words = ErrorCounts(w.substitutions, w.deletions, w.insertions, w.hits)
    chars = ErrorCounts(c.substitutions, c.deletions, c.insertions, c.hits)
    confusions: Counter[str] = Counter()
    accent = 0
    for ref_chars, hyp_chars, chunks in zip(c.references, c.hypotheses, c.alignments):
        for chunk in chunks:
            if chunk.type != "substitute":
                continue
            for r, h in zip(ref_chars[chunk.ref_start_idx : chunk.ref_end_idx],
                            hyp_chars[chunk.hyp_start_idx : chunk.hyp_end_idx]):
                confusions[f"{r}→{h}"] += 1
                if r != h and base_letter(r) == base_letter(h):
                    accent += 1
    return ErrorRates(
        wer=words.rate, cer=chars.rate, words=words, chars=chars, utterances=len(refs),
        accent_substitutions=accent, confusions=dict(confusions.most_common()),
    )


def utterance_errors(
    references: Sequence[str], hypotheses: Sequence[str], text_config: TextConfig | None = TextConfig()
) -> list[UtteranceErrors]:
    """Each utterance's own word and character error counts, normalised as :func:`error_rates` does.

    Their sums are :func:`error_rates`' corpus-level counts. One alignment call for all the
    utterances (not one each): thousands of them stay instant.
    """
    _check_lengths(references, hypotheses)
    if not references:
        return []
    refs, hyps, w, c = _align(references, hypotheses, text_config)
    return [UtteranceErrors(ref, hyp, _counts(wa), _counts(ca))
            for ref, hyp, wa, ca in zip(refs, hyps, w.alignments, c.alignments)]


def _check_lengths(references: Sequence[str], hypotheses: Sequence[str]) -> None:
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")


def _align(references: Sequence[str], hypotheses: Sequence[str], text_config: TextConfig | None):
    """The normalised texts and jiwer's word and character alignments of them."""
    norm = (lambda s: normalize_text(s, text_config)) if text_config is not None else (lambda s: s)
    refs = [norm(r) for r in references]
    hyps = [norm(h) for h in hypotheses]
    return refs, hyps, jiwer.process_words(refs, hyps), jiwer.process_characters(refs, hyps)


def _counts(chunks) -> ErrorCounts:
    """The error counts of one sentence's jiwer alignment."""
    counts = ErrorCounts()
    for chunk in chunks:
        n_ref = chunk.ref_end_idx - chunk.ref_start_idx
        if chunk.type == "equal":
            counts.hits += n_ref
        elif chunk.type == "substitute":
            counts.substitutions += n_ref
        elif chunk.type == "delete":
            counts.deletions += n_ref
        else:  # insert
            counts.insertions += chunk.hyp_end_idx - chunk.hyp_start_idx
    return counts
