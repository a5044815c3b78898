"""One VTLN factor per speaker (``FeatureConfig.vtln == "speaker"``).

A clip's own warp estimate (:func:`engine.homologate.estimate_warp`) is noisy: the
formant tracker wanders from clip to clip and pitch moves with intonation, and a
synthetic voice varies its pitch per utterance. A speaker's vocal tract does not
change between recordings, so this mode gives every clip of a speaker the same
factor: the geometric mean (the mean of ``log alpha``) of the factors of up to
``SPEAKER_WARP_CLIPS`` of their clips.

Who the speaker is comes from the manifest (``Utterance.speaker``). A clip with no
speaker is a speaker of its own. Clips without voice, or that cannot be read, are
left out of the mean. A speaker with a single clip, or none that has a voice, gets
no entry: each of their clips is then warped by its own estimate when it is loaded,
exactly as with ``vtln = "utterance"`` (1.0 for a clip without voice). A recording
transcribed on its own (``parcero transcribe``, live) is likewise its own speaker.

The sample is seeded per speaker by the speaker's name, not by the run's seed: the
same manifest gives a speaker the same factor in training, in its dev evaluations
and in ``parcero eval``, and a resumed run recomputes exactly the factors it had.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

from engine import homologate
from engine.data.manifest import Utterance
from engine.errors import ParceroError
from engine.feature_config import FeatureConfig

log = logging.getLogger(__name__)

SPEAKER_WARP_CLIPS = 20  # clips measured per speaker: the mean settles well before, and big sets stay fast


def clip_warp(samples: np.ndarray, sr: int, reference_hz: float) -> float | None:
    """:func:`engine.homologate.estimate_warp` of one clip, but None (not 1.0) when the clip has no voice.

    Parameters
    ----------
    samples : np.ndarray
        shape ``(n,)``, mono at ``sr``.
    """
    return homologate.estimate_warp(samples, sr, reference_hz, unvoiced=None)


def speaker_clips(utterances: Sequence[Utterance]) -> dict[str, list[int]]:
    """Indices of each named speaker's utterances, in manifest order; clips without a speaker are left out."""
    by_speaker: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(utterances):
        if u.speaker:
            by_speaker[u.speaker].append(i)
    return dict(by_speaker)


def sampled_clips(speaker: str, indices: Sequence[int], max_clips: int, seed: int = 0) -> list[int]:
    """Up to ``max_clips`` of ``indices``, seeded by ``seed`` and the speaker's name, in manifest order."""
    if len(indices) <= max_clips:
        return list(indices)
    rng = np.random.default_rng([seed, 0x5350, zlib.crc32(speaker.encode("utf-8"))])  # stable across processes
    chosen = rng.choice(len(indices), size=max_clips, replace=False)
    return [indices[i] for i in sorted(chosen.tolist())]


def speaker_warps(
    utterances: Sequence[Utterance],
    base_dir: str | Path | None,
    feature_config: FeatureConfig,
    seed: int = 0,
    max_clips: int = SPEAKER_WARP_CLIPS,
) -> dict[str, float]:
    """Each speaker's VTLN factor: ``exp(mean(log alpha))`` over a seeded sample of their clips.

    Parameters
    ----------
    utterances : the manifest's utterances; ``Utterance.speaker`` groups them.
    base_dir : the manifest's folder, for relative audio paths.
    feature_config : its ``sample_rate`` and ``vtln_reference_hz`` (0: the default reference).
    seed : which clips are sampled from speakers with more than ``max_clips``.
    max_clips : clips measured per speaker, at most.

    Returns
    -------
    dict
        speaker -> factor, for speakers with at least two clips and one of them voiced. Any
        other clip (no speaker, a single clip, no voice in any) is warped by its own estimate.
    """
    if max_clips < 1:
        raise ValueError(f"max_clips must be at least 1, got {max_clips}")
    sr = feature_config.sample_rate
    reference = feature_config.vtln_reference_hz or homologate.DEFAULT_REFERENCE_HZ
    started = time.monotonic()
    factors: dict[str, float] = {}
    measured = voiced = 0
    for speaker, indices in speaker_clips(utterances).items():
        if len(indices) < 2:
            continue  # the clip's own estimate, when it is loaded, is the speaker's
        logs = []
        for i in sampled_clips(speaker, indices, max_clips, seed):
            try:
                samples = utterances[i].load_samples(base_dir, sr)
            except (ParceroError, ValueError):
                continue  # the loader reports unreadable files when it reaches them
            measured += 1
            alpha = clip_warp(samples, sr, reference)
            if alpha is not None:
                logs.append(math.log(alpha))
        voiced += len(logs)
        if logs:
            factors[speaker] = math.exp(math.fsum(logs) / len(logs))
    if measured:
        log.info("VTLN per speaker: %d speaker(s) from %d voiced of %d clip(s) measured, %.1f s",
                 len(factors), voiced, measured, time.monotonic() - started)
    return factors
