"""Reference against hypothesis, aligned and coloured: what the Evaluate page shows for one utterance.

No Qt here: :func:`align` turns two texts into a list of :class:`Op` with
jiwer's Levenshtein alignment (words or characters), and :func:`alignment_html`
renders them as rich text for a ``QTextBrowser``. Colours carry the error
type, and so does the markup (strike-through for deletions, underline for
insertions), so the view still reads in a greyscale screenshot or for a
colour-blind user.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import jiwer

from app.i18n import QT_TRANSLATE_NOOP, translate

# Background colours: light enough for black text, dark enough to see on white and on a dark theme's base.
COLORS = {
    "substitute": "#ffcc80",  # amber: a word (or letter) replaced by another
    "delete": "#ef9a9a",  # red: in the reference, missing from the hypothesis
    "insert": "#90caf9",  # blue: in the hypothesis only
}
LABELS = {"equal": QT_TRANSLATE_NOOP("Alignment", "correct"),
          "substitute": QT_TRANSLATE_NOOP("Alignment", "substitution"),
          "delete": QT_TRANSLATE_NOOP("Alignment", "deletion"),
          "insert": QT_TRANSLATE_NOOP("Alignment", "insertion")}


@dataclass(frozen=True)
class Op:
    """One aligned piece: ``kind`` is "equal", "substitute", "delete" or "insert".

    ``ref``/``hyp`` are the reference and hypothesis units (words or
    characters) it covers; a deletion has no ``hyp``, an insertion no ``ref``.
    """

    kind: str
    ref: tuple[str, ...]
    hyp: tuple[str, ...]


def align(reference: str, hypothesis: str, unit: str = "word") -> list[Op]:
    """Align ``hypothesis`` to ``reference`` by words (``unit="word"``) or characters ("char").

    Both texts are compared as given: normalise them first (engine.text.normalize_text
    with the model's TextConfig) to match what the scores counted.
    """
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', got {unit!r}")
    if not reference and not hypothesis:
        return []
    process = jiwer.process_words if unit == "word" else jiwer.process_characters
    out = process(reference, hypothesis)
    refs, hyps = out.references[0], out.hypotheses[0]
    ops = []
    for chunk in out.alignments[0]:
        r = tuple(refs[chunk.ref_start_idx:chunk.ref_end_idx])
        h = tuple(hyps[chunk.hyp_start_idx:chunk.hyp_end_idx])
        if chunk.type == "substitute":  # one op per unit pair: each gets its own colour box and tooltip
            ops += [Op("substitute", (a,), (b,)) for a, b in zip(r, h)]
        else:
            ops.append(Op(chunk.type, r, h))
    return ops


def error_counts(ops: list[Op]) -> dict[str, int]:
    """Units substituted, deleted, inserted and correct in an alignment."""
    counts = {"substitute": 0, "delete": 0, "insert": 0, "equal": 0}
    for op in ops:
        counts[op.kind] += max(len(op.ref), len(op.hyp))
    return counts


def alignment_html(ops: list[Op], unit: str = "word") -> str:
    """Two lines, REF above HYP, with errors highlighted, as HTML for a QTextBrowser.

    Substitutions are amber on both lines, deletions red and struck through
    on the reference line (a gap below), insertions blue and underlined on the
    hypothesis line (a gap above). Aligned pieces share a table column, so
    the eye can run straight down from a reference word to what replaced it.
    """
    sep = " " if unit == "word" else ""
    ref_cells, hyp_cells = [], []
    for op in ops:
        # A space that is an error must be seen (␣); inside a correct stretch it stays a space.
        visible = unit == "char" and op.kind != "equal"
        ref_text = _text(op.ref, sep, visible)
        hyp_text = _text(op.hyp, sep, visible)
        if op.kind == "equal":
            ref_cells.append(_cell(ref_text))
            hyp_cells.append(_cell(hyp_text))
        elif op.kind == "substitute":
            tip = f"{ref_text} → {hyp_text}"
            ref_cells.append(_cell(ref_text, COLORS["substitute"], tip=tip))
            hyp_cells.append(_cell(hyp_text, COLORS["substitute"], tip=tip))
        elif op.kind == "delete":
            ref_cells.append(_cell(ref_text, COLORS["delete"], "s", tip=translate("Alignment", "deleted")))
            hyp_cells.append(_cell("∅" if unit == "word" else "·", COLORS["delete"]))
        else:
            ref_cells.append(_cell("∅" if unit == "word" else "·", COLORS["insert"]))
            hyp_cells.append(_cell(hyp_text, COLORS["insert"], "u", tip=translate("Alignment", "inserted")))
    head = '<td style="padding-right:8px; color:gray;">{}</td>'
    ref, hyp = translate("Alignment", "REF"), translate("Alignment", "HYP")  # short for reference, hypothesis
    padding = 3 if unit == "word" else 1  # words need air between them; letters of one word do not
    return (f'<table cellspacing="0" cellpadding="{padding}">'
            f'<tr>{head.format(ref)}{"".join(ref_cells)}</tr>'
            f'<tr>{head.format(hyp)}{"".join(hyp_cells)}</tr></table>')


def legend_html() -> str:
    """A one-line key to the colours."""
    parts = [f'<span style="background-color:{COLORS[k]}; color:black;">'
             f'&nbsp;{translate("Alignment", LABELS[k])}&nbsp;</span>'
             for k in ("substitute", "delete", "insert")]
    return " ".join(parts)


def _text(units: tuple[str, ...], sep: str, visible_space: bool) -> str:
    text = sep.join(units)
    return text.replace(" ", "␣") if visible_space else text


def _cell(text: str, color: str | None = None, tag: str | None = None, tip: str = "") -> str:
    body = html.escape(text).replace(" ", "&nbsp;")  # HTML would collapse a cell's edge spaces
    if tag:
        body = f"<{tag}>{body}</{tag}>"
    style = f' style="background-color:{color}; color:black;"' if color else ""
    title = f' title="{html.escape(tip)}"' if tip else ""
    return f"<td{style}{title}>{body}</td>"
