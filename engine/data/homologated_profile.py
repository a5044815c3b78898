"""Voice profiles of groups of recordings, as recorded and homologated onto a common reference.

Homologation (:mod:`engine.homologate`, VTLN) warps each voice's frequencies
by a factor ``alpha`` so that its formant-related statistic lands on one
reference. A model trained that way hears every voice at the reference's
"size". To *see* and *hear* what that does to two groups (women and men by
default), :func:`measure_groups` measures each group's
:class:`~engine.data.pitch.VoiceProfile` twice: from the recordings, and
from their resynthesised, warped versions (``warp_audio``), the reference
being the median statistic of all clips of both groups
(``reference_frequency``) and each clip's ``alpha`` its own ``estimate_warp``.

Clips are loaded by a caller-given function, so this works on manifests,
files or arrays alike; an unreadable clip (``ParceroError``/``ValueError``)
is left out and counted, since one broken file should not stop a comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence, TypeVar

import numpy as np

from engine.data.pitch import VoiceProfile, VoiceProfileBuilder
from engine.errors import ParceroError

T = TypeVar("T")
ProgressFn = Callable[[str, int, int], None]  # (stage, done, total); raising from it stops the run

# Progress stages (English; the window translates them).
MEASURING = "measuring voices"
HOMOLOGATING = "homologating voices"
# Clips measured in the first pass are kept for the second up to this much audio (about 115 MB of
# float32 at 16 kHz); beyond it they are loaded again, which is slower but bounds the memory.
MAX_KEPT_SECONDS = 1800.0


@dataclass(frozen=True)
class GroupMeasurement:
    """What :func:`measure_groups` found, one entry per group in each tuple.

    Attributes
    ----------
    profiles : tuple of VoiceProfile
        The recordings as they are.
    skipped : int
        Clips that could not be read, over all groups.
    reference_hz : float or None
        The common reference the clips were warped onto; None when not homologated.
    homologated : tuple of VoiceProfile
        The warped recordings; empty when not homologated.
    alphas : tuple of np.ndarray
        Each clip's warp factor, shape = (clips,) per group; empty when not homologated.
    """

    profiles: tuple[VoiceProfile, ...]
    skipped: int = 0
    reference_hz: float | None = None
    homologated: tuple[VoiceProfile, ...] = ()
    alphas: tuple[np.ndarray, ...] = ()

    @property
    def is_homologated(self) -> bool:
        return self.reference_hz is not None

    def mean_alphas(self) -> tuple[float, ...]:
        """Mean warp factor per group (NaN for an empty group); empty when not homologated."""
        return tuple(float(a.mean()) if a.size else float("nan") for a in self.alphas)


def measure_groups(
    groups: Sequence[Sequence[T]],
    load: Callable[[T], np.ndarray],
    sr: int,
    progress: ProgressFn | None = None,
    homologate: bool = False,
) -> GroupMeasurement:
    """Voice profiles of groups of clips, and with ``homologate`` of their warped versions.

    Parameters
    ----------
    groups : sequence of sequences
        The items of each group (utterances, paths, arrays: whatever ``load`` takes).
    load : callable
        ``load(item)`` gives the clip, mono float, shape = (n,), at ``sr``.
    sr : int
        Sample rate of the loaded clips in Hz.
    progress : callable, optional
        ``progress(stage, done, total)`` after every clip: ``MEASURING`` over
        all items, then (homologating) ``HOMOLOGATING`` over twice the readable
        clips, one step for the reference statistic and one for warping.
    homologate : bool
        Also warp every clip onto the common reference and measure the result.

    Returns
    -------
    GroupMeasurement
    """
    from engine import homologate as vtln  # numpy only; imported here so plain measuring never needs it

    report = progress or (lambda stage, done, total: None)
    total = sum(len(g) for g in groups)
    done, skipped, kept_samples = 0, 0, 0
    profiles, readable = [], []  # readable: per group, (item, clip or None when not kept)
    for group in groups:
        builder, clips = VoiceProfileBuilder(sr), []
        for item in group:
            try:
                clip = np.asarray(load(item), dtype=np.float32).reshape(-1)
            except (ParceroError, ValueError):
                clip = None
                skipped += 1  # a broken file lessens the sample; it need not stop the comparison
            if clip is not None:
                builder.add(clip)
                keep = homologate and kept_samples + clip.size <= MAX_KEPT_SECONDS * sr
                kept_samples += clip.size if keep else 0
                clips.append((item, clip if keep else None))
            done += 1
            report(MEASURING, done, total)
        profiles.append(builder.build())
        readable.append(clips)
    if not homologate:
        return GroupMeasurement(tuple(profiles), skipped)

    n = sum(len(clips) for clips in readable)
    step = 0

    def again(clips: list) -> Iterator[np.ndarray]:
        """The readable clips once more, each with a progress step (kept ones from memory)."""
        nonlocal step
        for item, clip in clips:
            if clip is None:
                try:
                    clip = np.asarray(load(item), dtype=np.float32).reshape(-1)
                except (ParceroError, ValueError):
                    clip = np.zeros(0, np.float32)  # read once, unreadable now: counts as silence
            step += 1
            report(HOMOLOGATING, step, 2 * n)
            yield clip

    reference = float(vtln.reference_frequency((c for clips in readable for c in again(clips)), sr))
    after, alphas = [], []
    for clips in readable:
        builder, group_alphas = VoiceProfileBuilder(sr), []
        for clip in again(clips):
            if clip.size == 0:
                continue
            alpha = float(vtln.estimate_warp(clip, sr, reference))
            builder.add(vtln.warp_audio(clip, sr, alpha))
            group_alphas.append(alpha)
        after.append(builder.build())
        alphas.append(np.array(group_alphas))
    return GroupMeasurement(tuple(profiles), skipped, reference, tuple(after), tuple(alphas))


def homologated_clip(samples: np.ndarray, sr: int, reference_hz: float) -> tuple[float, np.ndarray]:
    """One recording warped onto ``reference_hz``, to listen to what a homologating model hears.

    Returns
    -------
    alpha : float
        The clip's warp factor (``estimate_warp``).
    warped : np.ndarray
        float32, shape = (n,) like ``samples``.
    """
    from engine import homologate as vtln

    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    alpha = float(vtln.estimate_warp(samples, sr, reference_hz))
    return alpha, np.asarray(vtln.warp_audio(samples, sr, alpha), dtype=np.float32)
