"""Train/dev/test splits that keep speakers apart, and a check for leaks between sets.

A test set that shares speakers with the training set measures how well the
model remembers voices, not how well it recognises speech, so
:func:`split_utterances` assigns whole speakers to one set. Fractions are of
*hours*, not of speakers or utterances: one talkative speaker can hold more
audio than ten quiet ones, and the hours are what the model trains and is
scored on.

The assignment is greedy over speakers in a seeded random order: a speaker
goes to dev if that brings dev's hours closer to its target, else to test on
the same rule, else to train. Each set therefore misses its target by at most
half of one speaker's hours. Speakers are sorted by id before shuffling, so
the split depends on the seed and the speakers, not on the manifest's order.

:func:`find_leaks` checks finished sets (ours or anyone's) for a speaker, an
id or a piece of audio in more than one of them.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from engine.data.manifest import DataProblem, Utterance, read_manifest, write_manifest
from engine.data.measure import file_sha1
from engine.errors import ParceroError

SETS = ("train", "dev", "test")
SPLIT_UNITS = ("speaker", "utterance")
LEAK_KINDS = ("speaker", "id", "audio")
MAX_EXAMPLES = 4
MAX_LEAK_ROWS = 20  # per kind, in format_leaks


@dataclass
class SplitResult:
    """The three sets, in manifest order, and what the caller should know about them.

    ``by`` is the unit actually used: ``"utterance"`` when ``"speaker"`` was
    asked for but no item names a speaker.
    """

    train: list[Utterance]
    dev: list[Utterance]
    test: list[Utterance]
    by: str
    warnings: list[str] = field(default_factory=list)

    def sets(self) -> dict[str, list[Utterance]]:
        return {"train": self.train, "dev": self.dev, "test": self.test}

    def hours(self) -> dict[str, float]:
        return {name: sum(u.duration for u in items) / 3600.0 for name, items in self.sets().items()}


def _weights(utterances: Sequence[Utterance], warnings: list[str]) -> list[float]:
    known = [u.duration for u in utterances if u.duration > 0]
    if len(known) == len(utterances):
        return [u.duration for u in utterances]
    if not known:
        warnings.append("no item has a duration: fractions are of utterance counts, not of hours")
        return [1.0] * len(utterances)
    mean = sum(known) / len(known)
    n = len(utterances) - len(known)
    warnings.append(f"{n} utterance{' has' if n == 1 else 's have'} no duration; each counts as "
                    f"the mean ({mean:.2f} s) (run 'parcero data validate' to measure them)")
    return [u.duration if u.duration > 0 else mean for u in utterances]


def _groups(utterances: Sequence[Utterance], by: str, warnings: list[str]) -> tuple[list[list[int]], str]:
    """Indices grouped by the split unit, sorted by a stable key (speaker id or utterance id)."""
    lone = sorted(range(len(utterances)), key=lambda i: utterances[i].id)
    if by == "utterance":
        return [[i] for i in lone], "utterance"
    speakers: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(utterances):
        if u.speaker:
            speakers[u.speaker].append(i)
    if not speakers:
        warnings.append("no item names a speaker: split by utterance, so one voice can be in train and test")
        return [[i] for i in lone], "utterance"
    lone = [i for i in lone if not utterances[i].speaker]
    if lone:
        n = len(lone)
        warnings.append(f"{n} utterance{' has' if n == 1 else 's have'} no speaker: each is its own group, "
                        f"so their voices may be in more than one set")
    return [speakers[s] for s in sorted(speakers)] + [[i] for i in lone], "speaker"


def _move_smallest(assign: list[str], weight: list[float], src: str, dst: str) -> bool:
    candidates = [g for g, name in enumerate(assign) if name == src]
    if len(candidates) < 2:
        return False
    assign[min(candidates, key=lambda g: (weight[g], g))] = dst
    return True


def split_utterances(
    utterances: Sequence[Utterance], dev: float = 0.1, test: float = 0.1, by: str = "speaker", seed: int = 0
) -> SplitResult:
    """Split into train/dev/test with no speaker in two sets.

    Parameters
    ----------
    utterances : Sequence[Utterance]
    dev, test : float
        Fractions of the total duration, each in [0, 1), summing below 1.
    by : str
        ``"speaker"`` (items without a speaker form one group each) or ``"utterance"``.
    seed : int
        Same seed and items, same split.

    Returns
    -------
    SplitResult
        With at least one group in dev (test) when its fraction is > 0 and
        there are at least 3 groups.

    Raises
    ------
    ParceroError
        Fractions out of range, or an unknown ``by``.
    """
    for name, frac in (("dev", dev), ("test", test)):
        if not 0 <= frac < 1:
            raise ParceroError(f"the {name} fraction must be in [0, 1), got {frac}")
    if dev + test >= 1:
        raise ParceroError(f"dev + test must leave something to train on, got {dev} + {test} = {dev + test:g}")
    if by not in SPLIT_UNITS:
        raise ParceroError(f"cannot split by {by!r}: use one of {', '.join(SPLIT_UNITS)}")
    utterances = list(utterances)
    warnings: list[str] = []
    item_weight = _weights(utterances, warnings)
    groups, used = _groups(utterances, by, warnings)
    weight = [sum(item_weight[i] for i in g) for g in groups]
    total = sum(weight)

    order = list(range(len(groups)))
    random.Random(seed).shuffle(order)
    target = {"dev": dev * total, "test": test * total}
    filled = {"dev": 0.0, "test": 0.0}
    assign = ["train"] * len(groups)
    for g in order:
        for name in ("dev", "test"):
            if abs(filled[name] + weight[g] - target[name]) < abs(filled[name] - target[name]):
                filled[name] += weight[g]
                assign[g] = name
                break

    if len(groups) >= 3:
        # Speakers bigger than twice a target never fit the greedy rule; an
        # empty dev set would still be worse than an oversized one.
        for name, frac in (("dev", dev), ("test", test)):
            other = "test" if name == "dev" else "dev"
            if frac > 0 and name not in assign and not _move_smallest(assign, weight, "train", name):
                _move_smallest(assign, weight, other, name)
        if "train" not in assign and not _move_smallest(assign, weight, "dev", "train"):
            _move_smallest(assign, weight, "test", "train")

    set_of = {}
    for g, members in enumerate(groups):
        for i in members:
            set_of[i] = assign[g]
    sets = {name: [u for i, u in enumerate(utterances) if set_of[i] == name] for name in SETS}
    result = SplitResult(sets["train"], sets["dev"], sets["test"], used, warnings)
    for name, frac in (("dev", dev), ("test", test)):
        got = sum(weight[g] for g, a in enumerate(assign) if a == name) / total if total else frac
        if frac > 0 and abs(got - frac) > 0.2 * frac:
            warnings.append(f"{name} holds {100 * got:.1f}% of the audio instead of {100 * frac:g}%: "
                            f"too few or too uneven {used}s to do better")
    return result


def _rebase(audio: str, source_dir: str, out_dir: str) -> str:
    """``audio`` (relative to ``source_dir``) made to resolve from ``out_dir``."""
    if Path(audio).expanduser().is_absolute():
        return audio  # the source chose absolute paths; keep its choice
    full = os.path.abspath(os.path.join(source_dir, os.path.expanduser(audio)))
    try:
        # Relative, even with "..", so that a dataset folder moved as a whole still works.
        return Path(os.path.relpath(full, out_dir)).as_posix()
    except ValueError:
        return Path(full).as_posix()  # on another drive (Windows): no relative path exists


def write_splits(result: SplitResult, out_dir: str | Path, source_manifest: str | Path) -> dict[str, Path]:
    """Write ``train.jsonl``, ``dev.jsonl`` and ``test.jsonl`` (each atomically) into ``out_dir``.

    Audio paths are rewritten so they still resolve from ``out_dir``:
    relative paths stay relative (with ``..`` where needed), absolute ones
    stay as they were. All three files are written, empty ones too, so a
    stale set from an earlier split is never left behind.

    Raises
    ------
    ParceroError
        When an output would overwrite ``source_manifest``.
    """
    out_dir = Path(out_dir)
    source_dir = os.path.dirname(os.path.abspath(source_manifest))
    paths = {name: out_dir / f"{name}.jsonl" for name in SETS}
    for path in paths.values():
        if os.path.abspath(path) == os.path.abspath(source_manifest):
            raise ParceroError(f"{path}: refusing to overwrite the manifest being split; choose another --out-dir")
    out_abs = os.path.abspath(out_dir)
    for name, items in result.sets().items():
        write_manifest(paths[name], [dataclasses.replace(u, audio=_rebase(u.audio, source_dir, out_abs))
                                     for u in items])
    return paths


@dataclass(frozen=True)
class Leak:
    """A speaker, id or piece of audio found in more than one set."""

    kind: str  # "speaker" | "id" | "audio"
    value: str  # the speaker, the id, or the audio's sha1 (a path when not hashed), plus the segment
    sets: tuple[str, ...]  # names of the sets it appears in, in the order given
    examples: tuple[str, ...]  # a few utterance ids, from each set in turn

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value, "sets": list(self.sets), "examples": list(self.examples)}


def _audio_identities(manifests: dict[str, list[Utterance]], base_dirs: dict[str, Path],
                      check_audio: bool) -> dict[str, str]:
    """Resolved path -> identity: its sha1 when it could match a file of another set, else the path."""
    sets_of_path: dict[str, set[str]] = defaultdict(set)
    for name, items in manifests.items():
        for u in items:
            sets_of_path[str(u.audio_path(base_dirs.get(name)).resolve())].add(name)
    identity = {p: p for p in sets_of_path}
    if not check_audio:
        return identity
    # Identical bytes need identical sizes, so only files whose size turns up
    # in two sets are hashed: most of a large corpus is never read.
    size = {}
    for p in sets_of_path:
        try:
            size[p] = os.stat(p).st_size
        except OSError:
            pass  # missing: compared by path only (validate reports it)
    sets_of_size: dict[int, set[str]] = defaultdict(set)
    for p, s in size.items():
        sets_of_size[s] |= sets_of_path[p]
    for p, s in size.items():
        if len(sets_of_size[s]) > 1:
            try:
                identity[p] = file_sha1(p)
            except OSError:
                pass
    return identity


def find_leaks(
    manifests: dict[str, list[Utterance]], base_dirs: dict[str, Path], check_audio: bool = True
) -> list[Leak]:
    """Speakers, ids and audio that appear in more than one set.

    Parameters
    ----------
    manifests : dict[str, list[Utterance]]
        Set name (e.g. ``"train.jsonl"``) -> its utterances.
    base_dirs : dict[str, Path]
        Set name -> folder its relative audio paths start from.
    check_audio : bool
        Also compare file contents (SHA-1 of the bytes), not only paths.

    Returns
    -------
    list[Leak]
        Speakers first, then ids, then audio; each kind sorted by value.
        Empty speakers never leak.
    """
    identity = _audio_identities(manifests, base_dirs, check_audio)
    seen: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, items in manifests.items():
        for u in items:
            if u.speaker:
                seen["speaker", u.speaker][name].append(u.id)
            seen["id", u.id][name].append(u.id)
            audio = identity[str(u.audio_path(base_dirs.get(name)).resolve())]
            if u.offset is not None or u.end is not None:
                audio += f" [{u.offset or 0:g}-{'end' if u.end is None else format(u.end, 'g')} s]"
            seen["audio", audio][name].append(u.id)
    leaks = []
    for (kind, value), by_set in seen.items():
        if len(by_set) < 2:
            continue
        sets = tuple(n for n in manifests if n in by_set)
        examples: list[str] = []
        for k in range(max(len(ids) for ids in by_set.values())):  # round-robin: every set shows up
            examples += [by_set[n][k] for n in sets if k < len(by_set[n])]
        leaks.append(Leak(kind, value, sets, tuple(examples[:MAX_EXAMPLES])))
    return sorted(leaks, key=lambda k: (LEAK_KINDS.index(k.kind), k.value))


def leaks_between(paths: Sequence[str | Path], check_audio: bool = True) -> tuple[list[Leak], list[DataProblem]]:
    """Read manifests and :func:`find_leaks` between them; sets are named by file name.

    Returns the leaks and the manifests' unreadable lines. Raises OSError when
    a manifest cannot be opened.
    """
    paths = [Path(p) for p in paths]
    names = [p.name for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]  # train.jsonl from two folders: tell them apart
    manifests, base_dirs, problems = {}, {}, []
    for name, path in zip(names, paths):
        read = read_manifest(path)
        manifests[name], base_dirs[name] = read.utterances, path.parent
        problems += read.problems
    return find_leaks(manifests, base_dirs, check_audio), problems


def format_leaks(leaks: Sequence[Leak]) -> str:
    """Human-readable list of leaks, grouped by kind, at most MAX_LEAK_ROWS per kind."""
    if not leaks:
        return "No leaks: no speaker, id or audio appears in more than one set."
    by_kind: dict[str, list[Leak]] = defaultdict(list)
    for leak in leaks:
        by_kind[leak.kind].append(leak)
    nouns = {"speaker": ("speaker", "speakers"), "id": ("id", "ids"), "audio": ("audio", "audio files")}
    summary = ", ".join(f"{len(v)} {nouns[k][len(v) != 1]}" for k, v in by_kind.items())
    lines = [f"Leaks between sets: {summary}."]
    for kind, items in by_kind.items():
        lines.append(f"{nouns[kind][1].capitalize()} in more than one set:")
        width = min(44, max(len(leak.value) for leak in items[:MAX_LEAK_ROWS]))
        for leak in items[:MAX_LEAK_ROWS]:
            lines.append(f"  {leak.value:<{width}}  in {', '.join(leak.sets)}  (e.g. {', '.join(leak.examples)})")
        if len(items) > MAX_LEAK_ROWS:
            lines.append(f"  ... and {len(items) - MAX_LEAK_ROWS} more")
    return "\n".join(lines)
