"""What a dataset holds: hours, speakers, gender balance, durations, characters.

The numbers come from the manifest alone (``duration``, ``speaker``,
``gender``, ``text``), so they are instant even for 100k utterances. The
validator hands in utterances whose durations it has measured, so after
``parcero data validate`` they describe the audio actually on disk.

Character counts are taken after :func:`~engine.text.normalize_text`, because
that is what the tokenizer and the model see. :func:`format_stats` always
shows the Spanish letters ``á é í ó ú ü ñ``, even at 0%: a Spanish corpus with
no accents at all has almost certainly had them stripped somewhere upstream,
and that is worth noticing before training on it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from engine.data.manifest import Utterance
from engine.text import TextConfig, normalize_text

GENDER_KEYS = ("male", "female", "unknown")
SPANISH_SPECIALS = "áéíóúüñ"
SPACE_SYMBOL = "␠"  # U+2420, so the most frequent "character" is visible in a table
CHARS_PER_LINE = 8


@dataclass
class DatasetStats:
    """Summary of a list of utterances.

    Attributes
    ----------
    utterances : int
    hours : float
        Sum of ``duration`` in hours.
    speakers : int
        Distinct non-empty speaker ids.
    hours_by_gender, utterances_by_gender : dict
        Keyed by ``"male"``, ``"female"`` and ``"unknown"`` (always all three).
    duration_min, duration_mean, duration_max : float
        Seconds; 0 for an empty dataset.
    char_counts : dict[str, int]
        Characters of the normalised transcripts, most frequent first
        (ties by code point); the space is counted like any character.
    utterances_without_speaker : int
        Items with an empty ``speaker``; they cannot be kept speaker-disjoint.
    """

    utterances: int = 0
    hours: float = 0.0
    speakers: int = 0
    hours_by_gender: dict[str, float] = field(default_factory=lambda: dict.fromkeys(GENDER_KEYS, 0.0))
    utterances_by_gender: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GENDER_KEYS, 0))
    duration_min: float = 0.0
    duration_mean: float = 0.0
    duration_max: float = 0.0
    char_counts: dict[str, int] = field(default_factory=dict)
    utterances_without_speaker: int = 0

    def char_fraction(self, ch: str) -> float:
        """Share of ``ch`` among all counted characters (0 when there are none)."""
        total = sum(self.char_counts.values())
        return self.char_counts.get(ch, 0) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; ``char_counts`` keeps its most-frequent-first order."""
        return {
            "utterances": self.utterances,
            "hours": round(self.hours, 6),
            "speakers": self.speakers,
            "utterances_without_speaker": self.utterances_without_speaker,
            "hours_by_gender": {k: round(v, 6) for k, v in self.hours_by_gender.items()},
            "utterances_by_gender": dict(self.utterances_by_gender),
            "duration_min": round(self.duration_min, 4),
            "duration_mean": round(self.duration_mean, 4),
            "duration_max": round(self.duration_max, 4),
            "char_counts": dict(self.char_counts),
        }


def dataset_stats(utterances: Iterable[Utterance], text_config: TextConfig = TextConfig()) -> DatasetStats:
    """Count hours, speakers, genders, durations and characters.

    Parameters
    ----------
    utterances : Iterable[Utterance]
    text_config : TextConfig
        Normalisation applied before counting characters; use the one the
        tokenizer will be built with.

    Returns
    -------
    DatasetStats
    """
    seconds_by_gender = dict.fromkeys(GENDER_KEYS, 0.0)
    count_by_gender = dict.fromkeys(GENDER_KEYS, 0)
    speakers: set[str] = set()
    chars: Counter[str] = Counter()
    durations: list[float] = []
    no_speaker = 0
    for u in utterances:
        gender = u.gender if u.gender in ("male", "female") else "unknown"
        seconds_by_gender[gender] += u.duration
        count_by_gender[gender] += 1
        if u.speaker:
            speakers.add(u.speaker)
        else:
            no_speaker += 1
        durations.append(u.duration)
        chars.update(normalize_text(u.text, text_config))
    n = len(durations)
    return DatasetStats(
        utterances=n,
        hours=sum(durations) / 3600.0,
        speakers=len(speakers),
        hours_by_gender={k: v / 3600.0 for k, v in seconds_by_gender.items()},
        utterances_by_gender=count_by_gender,
        duration_min=min(durations) if n else 0.0,
        duration_mean=sum(durations) / n if n else 0.0,
        duration_max=max(durations) if n else 0.0,
        char_counts=dict(sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))),
        utterances_without_speaker=no_speaker,
    )


def show_char(ch: str) -> str:
    """A character as it should appear in a report: ``␠`` for space, ``U+XXXX`` for invisible ones."""
    if ch == " ":
        return SPACE_SYMBOL
    if not ch.isprintable() or unicodedata.category(ch).startswith(("Z", "M")):
        return f"U+{ord(ch):04X}"
    return ch


def _percent(fraction: float) -> str:
    # Rare letters (ñ, ü) sit well under 1%; two decimals keep them from all reading "0.0%".
    pct = 100.0 * fraction
    return f"{pct:.1f}%" if pct >= 1.0 or pct == 0.0 else f"{pct:.2f}%"


def _hours(h: float) -> str:
    # Test sets and toy corpora are minutes or seconds long; "0.00 h" would hide them.
    if h >= 0.1:
        return f"{h:.2f} h"
    return f"{h * 60:.1f} min" if h >= 1 / 60 else f"{h * 3600:.1f} s"


def format_stats(stats: DatasetStats) -> str:
    """Human-readable block of :class:`DatasetStats`, for the terminal or a log.

    Returns
    -------
    str
        Several lines, no trailing newline. Example::

            Utterances: 1,204   hours: 1.52 h   speakers: 40 (3 utterances without speaker)
            By gender: female 0.80 h (600 utt.), male 0.70 h (590), unknown 1.2 min (14)
            Duration: min 0.52 s, mean 4.54 s, max 12.10 s
            Spanish letters: á 0.52%  é 0.61%  í 0.74%  ó 0.88%  ú 0.20%  ü 0.01%  ñ 0.21%
            Characters (33 distinct, 61,802 in all):
              ␠ 17.2%  e 12.1%  a 11.0%  ...
    """
    head = f"Utterances: {stats.utterances:,}   hours: {_hours(stats.hours)}   speakers: {stats.speakers:,}"
    if stats.utterances_without_speaker:
        n = stats.utterances_without_speaker
        head += f" ({n:,} utterance{'s' if n != 1 else ''} without speaker)"
    gender = ", ".join(
        f"{k} {_hours(stats.hours_by_gender[k])} ({stats.utterances_by_gender[k]:,} utt.)" for k in GENDER_KEYS
    )
    lines = [
        head,
        f"By gender: {gender}",
        f"Duration: min {stats.duration_min:.2f} s, mean {stats.duration_mean:.2f} s, "
        f"max {stats.duration_max:.2f} s",
    ]
    total = sum(stats.char_counts.values())
    if total:
        specials = "  ".join(f"{c} {_percent(stats.char_fraction(c))}" for c in SPANISH_SPECIALS)
        lines.append(f"Spanish letters: {specials}")
        if not any(stats.char_counts.get(c) for c in SPANISH_SPECIALS) and total >= 1000:
            lines.append("  (no accented letters and no ñ at all: were the accents stripped upstream?)")
        lines.append(f"Characters ({len(stats.char_counts)} distinct, {total:,} in all):")
        cells = [f"{show_char(c)} {_percent(n / total)}" for c, n in stats.char_counts.items()]
        for i in range(0, len(cells), CHARS_PER_LINE):
            lines.append("  " + "  ".join(cells[i : i + CHARS_PER_LINE]))
    return "\n".join(lines)
