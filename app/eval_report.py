"""An evaluation report made browsable: per-utterance error rates, accent confusions, the gender gap, export.

No Qt here. The engine's report (engine.evaluate.EvalReport.to_dict(), carried
by the EvalResult event) has the overall, per-speaker and per-gender rates and
every utterance's reference and hypothesis; the Evaluate page also wants each
utterance's own WER/CER to sort by, which this module gets from the engine's
scoring (engine.metrics.utterance_errors) with the normalisation the engine
scored with (the model's TextConfig), so the per-utterance numbers add up to the
overall ones.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from app.i18n import translate
from engine.fileio import atomic_path, write_json_atomic
from engine.gap import MIN_UTTERANCES_FOR_INTERVAL
from engine.metrics import base_letter, utterance_errors
from engine.text import TextConfig

CSV_COLUMNS = ("id", "speaker", "gender", "wer", "cer", "word_errors", "words", "char_errors", "chars",
               "reference", "hypothesis")


@dataclass
class ScoredRow:
    """One utterance with its own error rates; ``reference``/``hypothesis`` are normalised as scored."""

    id: str
    speaker: str
    gender: str
    reference: str
    hypothesis: str
    wer: float
    cer: float
    word_errors: int
    words: int  # reference length in words
    char_errors: int
    chars: int  # reference length in characters


def model_text_config(model_dir: str | Path | None) -> TextConfig:
    """The TextConfig a Parcero model scores with (from its vocab.json); the default one otherwise."""
    from engine.errors import ParceroError
    from engine.text import CharTokenizer

    if not model_dir:
        return TextConfig()
    try:
        return CharTokenizer.load(Path(model_dir) / "vocab.json").config
    except (ParceroError, OSError, ValueError):
        return TextConfig()  # e.g. an imported model with another tokenizer: the engine's default normalisation


def score_rows(rows: Iterable[dict[str, Any]], text_config: TextConfig | None = TextConfig()) -> list[ScoredRow]:
    """Per-utterance WER and CER of report rows, worst first (by WER, then CER, then id).

    Parameters
    ----------
    rows : iterable of dict
        ``{"id", "reference", "hypothesis", "speaker", "gender"}`` as in ``EvalReport.to_dict()["rows"]``.
    text_config : TextConfig or None
        Normalisation applied to both sides first (None: compare as given).
    """
    rows = list(rows)
    scores = utterance_errors([str(r.get("reference", "")) for r in rows],
                              [str(r.get("hypothesis", "")) for r in rows], text_config)
    scored = [
        ScoredRow(
            id=str(r.get("id", "")), speaker=str(r.get("speaker", "")), gender=str(r.get("gender", "")),
            reference=u.reference, hypothesis=u.hypothesis, wer=u.words.rate, cer=u.chars.rate,
            word_errors=u.words.errors, words=u.words.reference_length,
            char_errors=u.chars.errors, chars=u.chars.reference_length,
        )
        for r, u in zip(rows, scores)
    ]
    scored.sort(key=lambda s: (-s.wer, -s.cer, s.id))
    return scored


def accent_confusions(confusions: dict[str, int]) -> list[tuple[str, str, int]]:
    """(reference letter, hypothesis letter, count) for substitutions that differ only in a diacritic.

    ``confusions`` is ``ErrorRates.confusions`` ({"á→a": 3, "b→v": 1, ...}); "á→a",
    "n→ñ", "ü→u" are kept, "b→v" is not. Most frequent first.
    """
    out = []
    for key, count in confusions.items():
        ref, sep, hyp = key.partition("→")
        if sep and ref != hyp and ref and hyp and base_letter(ref) == base_letter(hyp):
            out.append((ref, hyp, int(count)))
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out


def write_csv(path: str | Path, rows: Iterable[ScoredRow]) -> None:
    """One line per utterance (CSV_COLUMNS), UTF-8 with a byte-order mark so spreadsheets show ñ and á."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for r in rows:
                d = asdict(r)
                d["wer"], d["cer"] = round(r.wer, 6), round(r.cer, 6)
                writer.writerow({k: d[k] for k in CSV_COLUMNS})


def write_json(path: str | Path, report: dict[str, Any], rows: Iterable[ScoredRow], **context: Any) -> None:
    """The engine's report plus per-utterance rates, accent confusions and ``context`` (model, manifest, beam)."""
    overall = report.get("overall") or {}
    document = {
        **context,
        **{k: v for k, v in report.items() if k != "rows"},
        "accent_confusions": [{"reference": r, "hypothesis": h, "count": n}
                              for r, h, n in accent_confusions(overall.get("confusions") or {})],
        "rows": [asdict(r) for r in rows],
    }
    write_json_atomic(path, document)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV written by :func:`write_csv` (for tests and round trips)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def summary_text(report: dict[str, Any]) -> str:
    """'WER 12.5 %  ·  CER 4.1 %  ·  120 utterances, 1,034 words  ·  17 accent-only substitutions'."""
    overall = report.get("overall") or {}
    words = (overall.get("words") or {})
    n_words = words.get("substitutions", 0) + words.get("deletions", 0) + words.get("hits", 0)
    parts = [f"WER {100 * report.get('wer', 0.0):.2f} %", f"CER {100 * report.get('cer', 0.0):.2f} %",
             translate("EvalReport", "{utterances} utterances, {words} words").format(
                 utterances=report.get("utterances", 0), words=f"{n_words:,}"),
             translate("EvalReport", "{n} accent-only substitutions").format(
                 n=overall.get("accent_substitutions", 0))]
    skipped = report.get("skipped") or []
    if skipped:
        parts.append(translate("EvalReport", "{n} skipped (unreadable audio)").format(n=len(skipped)))
    return "  ·  ".join(parts)



def gap_text(report: dict[str, Any]) -> str:
    """The women − men gap in CER and WER with its interval, a line each, and the clips it rests on.

    ``report["gender_gap"]`` is :meth:`engine.gap.GenderGap.to_dict` (or None). A gap whose
    interval includes zero is said to be indistinguishable from none, so that a few clips
    are not over-read.
    """
    gap = report.get("gender_gap")
    if not gap:
        return translate("EvalReport", "Gap women − men: the manifest needs utterances of both women and men.")
    first, second = gap.get("groups") or ("female", "male")
    women, men = (int((gap.get("utterances") or {}).get(g, 0)) for g in (first, second))
    level = f"{100 * float(gap.get('confidence', 0.95)):g}"
    lines, has_interval = [], True
    for rate in ("CER", "WER"):
        g = gap.get(rate.lower()) or {}
        estimate, low, high = g.get("estimate", 0.0), g.get("low"), g.get("high")
        if low is None or high is None:
            has_interval = False
            lines.append(translate("EvalReport", "{rate} women − men: {gap} points").format(
                rate=rate, gap=_points(estimate)))
            continue
        line = translate("EvalReport", "{rate} women − men: {gap} points ({level} % interval {low} to {high})").format(
            rate=rate, gap=_points(estimate), level=level, low=_points(low), high=_points(high))
        if low <= 0.0 <= high:
            line += " — " + translate("EvalReport", "not distinguishable from no gap with these clips")
        lines.append(line)
    if has_interval:
        lines.append(translate("EvalReport", "From {women} utterances by women and {men} by men, "
                                             "resampled {resamples} times.").format(
            women=women, men=men, resamples=gap.get("resamples", 0)))
    else:
        lines.append(translate("EvalReport", "Too few clips for an interval ({women} by women, {men} by men; "
                                             "at least {minimum} each): do not read much into this gap.").format(
            women=women, men=men, minimum=MIN_UTTERANCES_FOR_INTERVAL))
    return "\n".join(lines)


def _points(fraction: float) -> str:
    """A rate difference in percentage points with its sign: 0.042 → "+4.2", -0.003 → "−0.3"."""
    return f"{100 * float(fraction):+.1f}".replace("-", "−")
