"""Dataset validation: find what would spoil training before training starts.

Every item of a manifest is checked for its text (empty, characters outside
the target set), its audio (missing, corrupt, empty, NaN, silent, clipped, too
short or too long) and against the other items (duplicate ids, duplicate
audio). One bad item never stops the run: each finding is a
:class:`~engine.data.manifest.DataProblem` whose ``where`` is the utterance id
(``file:line`` for a manifest line that could not be read).

What excludes an item and what only warns
-----------------------------------------
Excluded (left out of ``ValidationReport.kept``): the item cannot train or
would train on garbage.

- ``bad_line``, ``missing_audio``, ``unreadable_audio``, ``empty_audio``
  (0 bytes, no samples, or a segment starting past the end of its file)
- ``nan_audio``: one NaN turns the whole training run into NaN
- ``silent_audio``: all-zero, or RMS below ``silence_dbfs`` with peaks below
  ``silence_dbfs + 20 dB``; a transcript over silence teaches the model to
  hallucinate. A low RMS with louder peaks (quiet speech with long pauses) only warns.
- ``empty_text``: empty, or empty once normalised (``"¿?"``); this is also
  "audio without transcript" as far as a manifest can tell, while "transcript
  without audio" shows up as ``missing_audio``
- ``extreme_duration`` *shorter* than ``min_duration``: too few frames to
  align any text with
- ``duplicate_id``, ``duplicate_audio``: all occurrences but one

Warned (kept): the item is usable and the fix is a judgement call.

- ``clipped_audio``: distorted but still speech, and common in crowd data
- ``extreme_duration`` *longer* than ``max_duration``: costs memory, and the
  batcher decides whether it fits
- ``unknown_chars``: the tokenizer is built from the data, so the character
  gets an id; the warning names it (with its code point) so it can be fixed
  in the text or accepted on purpose

Duplicates
----------
Two items have the same audio when they name the same file (after resolving
the path) with the same ``offset``/``end``, or, when decoding is on, files
with the same bytes (SHA-1 of the file, streamed) and the same segment.
Hashing file bytes rather than decoded samples is much cheaper and catches
what actually happens (the same clip copied under two names); a re-encoded
copy is not caught. Of a group of duplicates the first item that has no other
excluding problem is kept, so a good copy is never lost to a broken one.

Durations
---------
The manifest's ``duration`` is only a hint: checks and statistics use the
duration measured from the file (the decoded length when decoding), and the
kept utterances carry that measured value.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from engine.audio import RMS_EPSILON
from engine.data.manifest import KINDS, DataProblem, Utterance, read_manifest
from engine.data.measure import FileJob, FileMeasure, SegmentMeasure, measure_file
from engine.data.stats import DatasetStats, dataset_stats, format_stats, show_char
from engine.errors import ConfigError
from engine.text import TextConfig, normalize_text

SPANISH_LETTERS = "abcdefghijklmnopqrstuvwxyzáéíóúüñ"
# Only what Spanish orthography uses; typographic variants (“ ” ’) are
# reported so they can be normalised rather than learnt as separate symbols.
SPANISH_PUNCTUATION = "¿?¡!.,;:-'\"()«»"

# Kinds that always exclude their item; extreme_duration excludes only on the short side.
EXCLUDING_KINDS = frozenset({
    "bad_line", "missing_audio", "unreadable_audio", "empty_audio", "nan_audio",
    "silent_audio", "empty_text", "duplicate_id", "duplicate_audio",
})
# Below this many audio files a process pool costs more to start (each worker
# imports torch) than it saves.
POOL_MIN_FILES = 64
QUIET_PEAK_MARGIN_DB = 20.0  # peaks this far above the silence threshold mean speech is there

ProgressCallback = Callable[[int, int], None]


def default_charset(text_config: TextConfig = TextConfig()) -> str:
    """The characters a Spanish model is expected to write, after normalisation.

    Lower-case ``a``–``z``, ``á é í ó ú ü ñ`` and the space; upper case too
    when ``text_config.lowercase`` is off; Spanish punctuation when it is
    kept. Digits are left out on purpose: speech says "veintitrés", and a
    transcript writing "23" asks the model for a mapping it cannot learn from
    a few examples, so digits are flagged for spelling out.
    """
    chars = SPANISH_LETTERS + " "
    if not text_config.lowercase:
        chars += SPANISH_LETTERS.upper()
    if text_config.punctuation == "keep":
        chars += SPANISH_PUNCTUATION
    return chars


@dataclass(frozen=True)
class ValidationOptions:
    """Thresholds and switches of :func:`validate_utterances`.

    Attributes
    ----------
    min_duration, max_duration : float
        Seconds; shorter items are excluded, longer ones warned about.
    silence_dbfs : float
        Items whose RMS level is below this are excluded as silent.
    clip_fraction : float
        Items with more than this fraction of samples at full scale are
        warned about as clipped.
    charset : str or None
        Characters allowed in the normalised text; ``None`` means
        :func:`default_charset` for ``text_config``. The space is always allowed.
    text_config : TextConfig
        Normalisation applied before checking text and counting characters.
    decode_audio : bool
        ``False`` reads headers only (fast): no silence, NaN, clipping or
        same-content checks.
    workers : int
        Processes decoding audio; 0 means one per CPU core.
    """

    min_duration: float = 0.1
    max_duration: float = 30.0
    silence_dbfs: float = -60.0
    clip_fraction: float = 0.01
    charset: str | None = None
    text_config: TextConfig = TextConfig()
    decode_audio: bool = True
    workers: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.min_duration < self.max_duration:
            raise ConfigError(
                f"ValidationOptions: need 0 <= min_duration < max_duration, "
                f"got {self.min_duration} and {self.max_duration}"
            )
        if not 0 <= self.clip_fraction <= 1:
            raise ConfigError(f"ValidationOptions.clip_fraction must be in [0, 1], got {self.clip_fraction}")
        if self.workers < 0:
            raise ConfigError(f"ValidationOptions.workers must be >= 0, got {self.workers}")

    def allowed_chars(self) -> frozenset[str]:
        return frozenset((default_charset(self.text_config) if self.charset is None else self.charset) + " ")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["charset"] = "".join(sorted(self.allowed_chars()))
        return d


@dataclass
class ValidationReport:
    """Everything :func:`validate_utterances` found.

    ``problems`` and ``excluding`` are parallel: ``excluding[i]`` tells whether
    ``problems[i]`` removed its item. ``excluded_ids`` holds the ids of removed
    items; with duplicate ids, one occurrence of such an id may still be kept.
    ``unknown_chars`` counts every occurrence of an out-of-set character.
    """

    manifest: str | None
    total: int
    kept: list[Utterance]
    problems: list[DataProblem]
    excluded_ids: set[str]
    stats: DatasetStats
    excluding: list[bool] = field(default_factory=list)
    unknown_chars: dict[str, int] = field(default_factory=dict)
    options: ValidationOptions = field(default_factory=ValidationOptions)

    @property
    def excluded(self) -> int:
        """Number of utterances left out (bad manifest lines not included)."""
        return self.total - len(self.kept)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{kind: {"excluded": n, "warned": m}}`` for the kinds found, in KINDS order."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for problem, excl in zip(self.problems, self.excluding):
            counts[problem.kind]["excluded" if excl else "warned"] += 1
        order = list(KINDS)
        return {
            k: {"excluded": counts[k]["excluded"], "warned": counts[k]["warned"]}
            for k in sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; each problem carries ``"excluded": bool``."""
        return {
            "manifest": self.manifest,
            "total": self.total,
            "kept": len(self.kept),
            "excluded": self.excluded,
            "counts": self.counts(),
            "unknown_chars": [
                {"char": c, "code_point": f"U+{ord(c):04X}", "count": n} for c, n in self.unknown_chars.items()
            ],
            "problems": [p.to_dict() | {"excluded": e} for p, e in zip(self.problems, self.excluding)],
            "stats": self.stats.to_dict(),
            "options": self.options.to_dict(),
        }


class _Findings:
    """Problems gathered per item, so the report lists each item's problems together."""

    def __init__(self, utterances: list[Utterance]):
        self.utterances = utterances
        self.per_item: list[list[tuple[DataProblem, bool]]] = [[] for _ in utterances]
        self.excluded = [False] * len(utterances)

    def add(self, i: int, kind: str, message: str, exclude: bool | None = None) -> None:
        """Record a problem of item ``i``; ``exclude=None`` means "as EXCLUDING_KINDS says"."""
        exclude = kind in EXCLUDING_KINDS if exclude is None else exclude
        self.per_item[i].append((DataProblem(kind, self.utterances[i].id, message), exclude))
        self.excluded[i] = self.excluded[i] or exclude


def _check_text(findings: _Findings, i: int, options: ValidationOptions, allowed: frozenset[str],
                unknown: Counter[str]) -> None:
    text = findings.utterances[i].text
    if not text.strip():
        findings.add(i, "empty_text", "transcript is empty")
        return
    normalized = normalize_text(text, options.text_config)
    if not normalized:
        findings.add(i, "empty_text", f"transcript {text!r} is empty once normalised")
        return
    if not any(c.isalnum() for c in normalized):
        # With punctuation kept, "¿?" survives normalisation but still says no word.
        findings.add(i, "empty_text", f"transcript {text!r} has no letters or digits")
        return
    outside = Counter(c for c in normalized if c not in allowed)
    if outside:
        unknown.update(outside)
        shown = ", ".join(f"'{show_char(c)}' U+{ord(c):04X}" for c in sorted(outside))
        findings.add(i, "unknown_chars", f"characters outside the character set: {shown} in {normalized!r}")


def _check_audio(findings: _Findings, i: int, m: SegmentMeasure, options: ValidationOptions) -> None:
    if m.error is not None:
        findings.add(i, m.error[0], m.error[1])
        return
    if m.duration < options.min_duration:
        findings.add(i, "extreme_duration", f"only {m.duration:.3f} s long (minimum {options.min_duration} s)",
                     exclude=True)
    elif m.duration > options.max_duration:
        findings.add(i, "extreme_duration", f"{m.duration:.1f} s long (maximum {options.max_duration} s)",
                     exclude=False)
    if m.rms_dbfs is None:
        return  # header-only run
    if m.peak == 0.0:
        findings.add(i, "silent_audio", "every sample is zero")
    elif m.rms_dbfs < options.silence_dbfs:
        # Whole-file RMS alone misjudges quiet recordings with long pauses (a real
        # Common Voice clip: RMS -61.6 dBFS, peaks -36 dBFS, clearly speech). Only
        # when the peaks are low too is there nothing to hear.
        peak_dbfs = 20.0 * math.log10(m.peak + RMS_EPSILON)
        if peak_dbfs < options.silence_dbfs + QUIET_PEAK_MARGIN_DB:
            findings.add(i, "silent_audio", f"near-silent: RMS {m.rms_dbfs:.1f} dBFS, peak {peak_dbfs:.1f} dBFS "
                         f"(threshold {options.silence_dbfs})")
        else:
            findings.add(i, "silent_audio", f"very quiet: RMS {m.rms_dbfs:.1f} dBFS but peaks at "
                         f"{peak_dbfs:.1f} dBFS; kept (check the recording level)", exclude=False)
    if m.clipped_fraction > options.clip_fraction:
        findings.add(i, "clipped_audio", f"{100 * m.clipped_fraction:.1f}% of samples at full scale "
                     f"(threshold {100 * options.clip_fraction:g}%)")


def _check_duplicates(findings: _Findings, keys: dict[int, tuple], kind: str, describe: Callable) -> None:
    """Flag every item sharing a key with another, keeping the first one without other exclusions."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, key in keys.items():
        groups[key].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        keeper = next((i for i in members if not findings.excluded[i]), members[0])
        for i in members:
            if i != keeper:
                findings.add(i, kind, describe(i, keeper))


def _run_jobs(jobs: list[FileJob], workers: int, on_done: Callable[[int, FileMeasure], None]) -> None:
    """Measure every file, in a process pool when it pays off; results arrive in job order."""
    done = 0
    if workers > 1 and len(jobs) >= POOL_MIN_FILES:
        chunksize = max(2, min(32, len(jobs) // (workers * 8)))
        # spawn, not fork: forking a process that holds torch's thread pool
        # (or Qt's threads, from the GUI) can deadlock the child.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            for result in pool.map(measure_file, jobs, chunksize=chunksize):
                on_done(done, result)
                done += 1
        except (BrokenProcessPool, OSError):
            pass  # a crashed worker: measure what is left here, one file at a time
        finally:
            # If on_done raised (a cancelled run), do not sit through the files still queued.
            pool.shutdown(wait=True, cancel_futures=True)
    for k in range(done, len(jobs)):
        on_done(k, measure_file(jobs[k]))


def validate_utterances(
    utterances: Iterable[Utterance],
    base_dir: str | Path | None,
    options: ValidationOptions = ValidationOptions(),
    on_progress: ProgressCallback | None = None,
    *,
    manifest: str | None = None,
    read_problems: Iterable[DataProblem] = (),
) -> ValidationReport:
    """Check every utterance; never raises for a bad item.

    Parameters
    ----------
    utterances : Iterable[Utterance]
    base_dir : str, Path or None
        Folder that relative audio paths are relative to (the manifest's).
    options : ValidationOptions
    on_progress : callable or None
        Called as ``on_progress(done, total)`` in utterances, after each file.
        An exception raised by it (e.g. a cancel request) ends the run and
        propagates; files still queued in the pool are dropped.
    manifest : str or None
        Name recorded in the report.
    read_problems : Iterable[DataProblem]
        Problems met while reading (``bad_line``); listed first, as excluding.

    Returns
    -------
    ValidationReport
    """
    utterances = list(utterances)
    total = len(utterances)
    findings = _Findings(utterances)
    allowed, unknown = options.allowed_chars(), Counter()
    for i in range(total):
        _check_text(findings, i, options, allowed, unknown)

    # One job per file, so a long recording cut into segments is opened and hashed once.
    resolved = [str(u.audio_path(base_dir).resolve()) for u in utterances]
    by_path: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(resolved):
        by_path[p].append(i)
    paths = list(by_path)
    jobs = [
        FileJob(p, tuple((utterances[i].offset, utterances[i].end) for i in by_path[p]), options.decode_audio)
        for p in paths
    ]
    measured: dict[int, float] = {}
    sha1: dict[int, str] = {}
    done = 0

    def on_done(k: int, result: FileMeasure) -> None:
        nonlocal done
        for i, m in zip(by_path[paths[k]], result.segments):
            _check_audio(findings, i, m, options)
            if m.error is None:
                measured[i] = m.duration
                if result.sha1 is not None:
                    sha1[i] = result.sha1
        done += len(by_path[paths[k]])
        if on_progress is not None:
            on_progress(done, total)

    _run_jobs(jobs, options.workers or os.cpu_count() or 1, on_done)

    _check_duplicates(
        findings, {i: (u.id,) for i, u in enumerate(utterances)}, "duplicate_id",
        lambda i, keep: f"id used again (item {i + 1}; the kept one is item {keep + 1})",
    )

    def same_audio(i: int, keep: int) -> str:
        how = ("same file and segment" if resolved[i] == resolved[keep]
               else f"identical bytes: {utterances[i].audio} and {utterances[keep].audio}")
        return f"same audio as '{utterances[keep].id}' ({how})"

    # sha1 when decoding (it subsumes the path, as one file has one hash), else the path.
    audio_keys = {i: (sha1.get(i, resolved[i]), utterances[i].offset, utterances[i].end) for i in measured}
    _check_duplicates(findings, audio_keys, "duplicate_audio", same_audio)

    kept = []
    for i, u in enumerate(utterances):
        if not findings.excluded[i]:
            d = measured.get(i, u.duration)
            kept.append(u if abs(d - u.duration) < 1e-3 else dataclasses.replace(u, duration=d))
    read_problems = list(read_problems)
    pairs = [(p, True) for p in read_problems] + [pair for item in findings.per_item for pair in item]
    return ValidationReport(
        manifest=manifest,
        total=total,
        kept=kept,
        problems=[p for p, _ in pairs],
        excluded_ids={u.id for u, excl in zip(utterances, findings.excluded) if excl},
        stats=dataset_stats(kept, options.text_config),
        excluding=[e for _, e in pairs],
        unknown_chars=dict(sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))),
        options=options,
    )


def validate_manifest(
    path: str | Path, options: ValidationOptions = ValidationOptions(), on_progress: ProgressCallback | None = None
) -> ValidationReport:
    """Read a manifest and validate it; unreadable lines become ``bad_line`` problems.

    Raises
    ------
    OSError
        Only when the manifest file itself cannot be opened.
    """
    path = Path(path)
    read = read_manifest(path)
    return validate_utterances(read.utterances, path.parent, options, on_progress,
                               manifest=str(path), read_problems=read.problems)


def _clip(s: str, width: int) -> str:
    # Keep the end: it holds the file name, or the line number of "file:line".
    return s if len(s) <= width else "…" + s[len(s) - width + 1:]


def format_report(report: ValidationReport, max_rows: int = 50) -> str:
    """Human-readable report: headline, problem table, counts per kind, then the kept data's stats."""
    bad_lines = sum(p.kind == "bad_line" for p in report.problems)
    warnings = sum(not e for e in report.excluding)
    source = f" in {report.manifest}" if report.manifest else ""
    lines = [
        f"Checked {report.total:,} utterances{source}: {len(report.kept):,} kept, {report.excluded:,} excluded, "
        f"{warnings:,} warnings" + (f", {bad_lines:,} unreadable manifest lines" if bad_lines else "") + ".",
    ]
    if report.problems:
        rows = [("excluded" if e else "warning", p.kind, _clip(p.where, 40), p.message)
                for p, e in zip(report.problems, report.excluding)][:max_rows]
        header = ("effect", "kind", "where", "message")
        widths = [max(len(r[c]) for r in rows + [header]) for c in range(3)]
        lines.append("")
        for row in [header] + rows:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3])
        if len(report.problems) > max_rows:
            lines.append(f"  ... and {len(report.problems) - max_rows:,} more problems not shown")
        lines.append("")
        lines.append("Problems by kind:")
        for kind, c in report.counts().items():
            parts = [f"{c[k]:,} {k}" for k in ("excluded", "warned") if c[k]]
            lines.append(f"  {kind:<20} {', '.join(parts)}")
    if report.unknown_chars:
        shown = ", ".join(f"'{show_char(c)}' U+{ord(c):04X} ×{n}" for c, n in report.unknown_chars.items())
        lines.append(f"Characters outside the character set: {shown}")
    lines += ["", "Kept data:", format_stats(report.stats)]
    return "\n".join(lines)
