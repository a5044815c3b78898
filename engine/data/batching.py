"""Training batches: a dataset that featurises in DataLoader workers, and a duration-bucketed sampler.

Utterances of similar length are batched together so little compute is spent
on padding, and each batch is capped by its padded size in feature frames
(``len(batch) * longest``) rather than by a count, so short clips come in big
batches and long ones in small batches at the same memory cost.

The sampler is deterministic for (seed, epoch), can skip the batches already
done in an epoch (exact resume), and shards batches across DDP ranks.
"""

from __future__ import annotations

import logging
import math
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from engine.data.manifest import Utterance
from engine.data.speaker_warp import speaker_warps
from engine.errors import AudioError, ParceroError
from engine.feature_config import FeatureConfig, SpecAugmentConfig
from engine.features import compute_features, spec_augment, vtln_warp
from engine.losses import Batch, collate
from engine.text import CharTokenizer

log = logging.getLogger(__name__)

VTLN_REFERENCE_CLIPS = 200  # clips a run measures for its VTLN reference: a median settles well before


@dataclass
class Example:
    id: str
    feats: torch.Tensor  # (T, n_mels)
    tokens: list[int]


@dataclass
class LoadedBatch:
    batch: Batch
    ids: list[str]
    skipped: list[tuple[str, str]]  # (utterance id, reason) of items that could not be loaded


class SpeechDataset(Dataset):
    """Utterances of a manifest as (features, token ids); loading happens in the worker.

    An item whose audio cannot be read, or shorter than ``min_frames`` feature frames
    (the fewest the model's encoder takes: its ``MIN_FRAMES``), yields ``(id, reason)``
    instead of an :class:`Example`; the collate function drops it and reports it, so
    one bad file never stops training.

    With ``feature_config.vtln == "speaker"`` the speakers' VTLN factors are measured once,
    here (:func:`engine.data.speaker_warp.speaker_warps`; deterministic, so a resumed run
    gets the same), and each item is warped by its speaker's.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        base_dir: str | Path | None,
        tokenizer: CharTokenizer,
        feature_config: FeatureConfig = FeatureConfig(),
        spec_augment_config: SpecAugmentConfig | None = None,
        seed: int = 0,
        min_frames: int = 1,
    ):
        self.utterances = list(utterances)
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.tokenizer = tokenizer
        self.feature_config = feature_config
        self.spec_augment_config = spec_augment_config
        self.seed = seed
        self.min_frames = min_frames
        self.epoch = 0
        self.speaker_factors: dict[str, float] = {}  # speaker -> VTLN factor, with vtln == "speaker"
        # index -> the clip's own VTLN factor, estimated the first time it is read: it depends only on the
        # audio, and every epoch reads it again (a loader worker that outlives the epoch keeps its share)
        self._clip_factors: dict[int, float] = {}
        if feature_config.vtln == "speaker":
            self.speaker_factors = speaker_warps(self.utterances, self.base_dir, feature_config)

    def __len__(self) -> int:
        return len(self.utterances)

    def durations(self) -> list[float]:
        return [u.duration for u in self.utterances]

    def __getitem__(self, index: int) -> Example | tuple[str, str]:
        u = self.utterances[index]
        try:
            samples = u.load_samples(self.base_dir, self.feature_config.sample_rate)
            augment = self.spec_augment_config
            # Seeded per (epoch, item) so a resumed run augments exactly as the original would have.
            g = (torch.Generator().manual_seed(hash((self.seed, self.epoch, index)) & 0x7FFFFFFF)
                 if augment is not None else None)
            warp = 1.0
            if augment is not None and augment.vtlp:
                # VTLP (Jaitly & Hinton 2013): a random vocal-tract length for this utterance this epoch.
                u_warp = float(torch.rand(1, generator=g, dtype=torch.float64))
                warp = augment.vtlp_min + (augment.vtlp_max - augment.vtlp_min) * u_warp
            feats = compute_features(samples, self.feature_config, warp=warp,
                                     vtln_factor=self._vtln_factor(index, u, samples))
            if feats.shape[0] < self.min_frames:
                # The encoder's subsampling cannot take it: alone it raises, padded into a batch
                # it has no encoder frame and its loss is NaN, throwing the whole batch away.
                fc = self.feature_config
                have_ms = 1000 * len(samples) / fc.sample_rate
                need_ms = 1000 * (self.min_frames - 1) * fc.hop_length / fc.sample_rate
                raise AudioError(u.audio_path(self.base_dir),
                                 f"too short to train on ({have_ms:.0f} ms; at least {need_ms:.0f} ms needed)",
                                 "too_short")
            if augment is not None:
                feats = spec_augment(feats, augment, generator=g)
            tokens = self.tokenizer.encode(u.text, errors="count")
        except (ParceroError, ValueError) as e:
            return (u.id, str(e))
        return Example(u.id, feats, tokens)


    def _vtln_factor(self, index: int, u: Utterance, samples: np.ndarray) -> float | None:
        """The VTLN factor of item ``index``: its speaker's, else its own (kept once estimated); None: no VTLN."""
        fc = self.feature_config
        if fc.vtln == "none":
            return None
        if fc.vtln == "speaker" and u.speaker in self.speaker_factors:
            return self.speaker_factors[u.speaker]
        factor = self._clip_factors.get(index)
        if factor is None:
            factor = self._clip_factors[index] = vtln_warp(samples, fc)
        return factor


def vtln_reference(
    utterances: Sequence[Utterance],
    base_dir: str | Path | None,
    feature_config: FeatureConfig,
    seed: int = 0,
    max_clips: int = VTLN_REFERENCE_CLIPS,
) -> tuple[float, int]:
    """A training set's reference voice for VTLN: the median voice frequency of a seeded sample of its clips.

    Returns
    -------
    float
        Hz, for ``FeatureConfig.vtln_reference_hz`` (``homologate.DEFAULT_REFERENCE_HZ``
        when no clip could be read or had a voice).
    int
        How many clips had a voice.
    """
    from engine import homologate

    rng = np.random.default_rng([seed, 0x7471])  # a stream of its own: nothing else shifts
    chosen = rng.permutation(len(utterances))[:max_clips]
    values = []
    for i in sorted(chosen.tolist()):
        try:
            samples = utterances[i].load_samples(base_dir, feature_config.sample_rate)
        except (ParceroError, ValueError):
            continue  # the loader reports unreadable files when it reaches them
        v = homologate.voice_frequency(samples, feature_config.sample_rate)
        if v is not None:
            values.append(v)
    return (float(np.median(values)) if values else homologate.DEFAULT_REFERENCE_HZ), len(values)


def make_collate(sos_id: int, eos_id: int):
    """A picklable-enough closure for DataLoader workers (fork or spawn)."""
    return _Collate(sos_id, eos_id)


class _Collate:
    def __init__(self, sos_id: int, eos_id: int):
        self.sos_id, self.eos_id = sos_id, eos_id

    def __call__(self, items: list[Example | tuple[str, str]]) -> LoadedBatch:
        good = [x for x in items if isinstance(x, Example)]
        skipped = [x for x in items if not isinstance(x, Example)]
        if not good:
            return LoadedBatch(None, [], skipped)  # type: ignore[arg-type]
        batch = collate([x.feats for x in good], [x.tokens for x in good], self.sos_id, self.eos_id)
        return LoadedBatch(batch, [x.id for x in good], skipped)


class DurationBucketSampler(Sampler[list[int]]):
    """Batches of indices with similar durations, capped at ``max_frames`` padded frames.

    Parameters
    ----------
    durations : seconds per utterance.
    max_frames : cap on ``len(batch) * longest_in_batch`` in feature frames.
    frames_per_second : feature frame rate (100 for a 10 ms hop).
    num_buckets : how many duration ranges batches are drawn from; more = less padding, less randomness.
    max_batch_size : optional cap on utterances per batch.
    rank, world_size : for DDP, each rank takes every world_size-th batch; all ranks get the same count.
    """

    def __init__(
        self,
        durations: Sequence[float],
        max_frames: int,
        frames_per_second: float = 100.0,
        num_buckets: int = 10,
        shuffle: bool = True,
        seed: int = 0,
        max_batch_size: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
    ):
        if max_frames <= 0:
            raise ValueError(f"max_frames must be positive, got {max_frames}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world size {world_size}")
        self.frames = np.maximum(1, np.round(np.asarray(durations, dtype=np.float64) * frames_per_second)).astype(np.int64)
        self.max_frames = max_frames
        self.num_buckets = max(1, num_buckets)
        self.shuffle = shuffle
        self.seed = seed
        self.max_batch_size = max_batch_size
        self.rank, self.world_size = rank, world_size
        self.drop_last = drop_last
        self.epoch = 0
        self.start_batch = 0  # batches of this epoch already trained on (the trainer sets it when resuming)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.start_batch = 0

    def state_dict(self, batches_done: int) -> dict:
        """Position to save in a checkpoint; ``batches_done`` counts this epoch's batches trained on."""
        return {"epoch": self.epoch, "start_batch": batches_done, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next iteration yields the rest of ``state['epoch']`` from ``start_batch``."""
        self.epoch, self.start_batch, self.seed = state["epoch"], state["start_batch"], state["seed"]

    def batches(self) -> list[list[int]]:
        """All batches of this epoch for this rank, before skipping the consumed ones."""
        rng = np.random.default_rng([self.seed, self.epoch])
        n = len(self.frames)
        if n == 0:
            return []
        # Sort by length with random tie-breaking, cut into buckets, shuffle inside each.
        order = np.lexsort((rng.random(n) if self.shuffle else np.arange(n), self.frames))
        batches: list[list[int]] = []
        # A bucket should hold at least a batch: more buckets than that only leave a part-filled
        # batch in each (four 30 s Whisper windows, one bucket each, trained one at a time).
        typical = max(1, int(np.median(self.frames)))
        per_batch = max(1, min(self.max_frames // typical, self.max_batch_size or n))
        for bucket in np.array_split(order, max(1, min(self.num_buckets, n // per_batch))):
            if self.shuffle:
                bucket = bucket[rng.permutation(len(bucket))]
            # Sorting inside the bucket keeps padding low; bucket order was shuffled for variety
            # across epochs, and batch order is shuffled below.
            bucket = bucket[np.argsort(self.frames[bucket], kind="stable")]
            batches.extend(self._pack(bucket))
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if self.world_size > 1:
            per_rank = len(batches) // self.world_size if self.drop_last else math.ceil(len(batches) / self.world_size)
            total = per_rank * self.world_size
            # Pad by repeating the first batches so every rank steps the same number of times
            # (DDP hangs if one rank runs out first).
            batches = (batches * (total // max(1, len(batches)) + 1))[:total]
            batches = batches[self.rank :: self.world_size]
        return batches

    def _pack(self, indices: np.ndarray) -> list[list[int]]:
        out, current, longest = [], [], 0
        for i in indices.tolist():
            f = int(self.frames[i])
            new_longest = max(longest, f)
            too_big = current and (len(current) + 1) * new_longest > self.max_frames
            too_many = self.max_batch_size is not None and len(current) >= self.max_batch_size
            if too_big or too_many:
                out.append(current)
                current, new_longest = [], f
            current.append(i)
            longest = new_longest
        if current:
            out.append(current)
        return out

    def __iter__(self) -> Iterator[list[int]]:
        # start_batch is not advanced here: a DataLoader pulls indices ahead of
        # training (prefetch), so only the trainer knows how many were consumed.
        yield from self.batches()[self.start_batch :]

    def __len__(self) -> int:
        return max(0, len(self.batches()) - self.start_batch)


def _ignore_stop_signals(_worker_id: int) -> None:
    """Loader workers leave Ctrl-C and SIGTERM to the trainer.

    A terminal's Ctrl-C, ``kill -- -PGID`` or a service manager signals the whole
    process group; a worker that died of it would crash the trainer before it
    could save its checkpoint. The trainer stops its workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class _EpochTaggedBatches(Sampler[list[tuple[int, int]]]):
    """A batch sampler's batches with each index paired with the dataset's epoch.

    A persistent worker holds the copy of the dataset it was started with; setting
    ``dataset.epoch`` in this process later never reaches it. The epoch is read here,
    in this process, when an epoch's iteration begins, and travels with every index.
    """

    def __init__(self, batch_sampler, dataset):
        self.batch_sampler, self.dataset = batch_sampler, dataset

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch = getattr(self.dataset, "epoch", 0)  # now, not when the first batch is drawn
        return ([(epoch, i) for i in batch] for batch in self.batch_sampler)

    def __len__(self) -> int:
        return len(self.batch_sampler)


class _EpochFromIndex(Dataset):
    """In a worker: sets its copy of the dataset to the epoch an index came with, then loads the item."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        epoch, index = key
        if hasattr(self.dataset, "epoch"):
            self.dataset.epoch = epoch
        return self.dataset[index]


def make_loader(
    dataset: SpeechDataset,
    sampler: DurationBucketSampler,
    num_workers: int = 0,
    pin_memory: bool = False,
    seed: int = 0,
    collate_fn=None,
    persistent: bool = False,
) -> DataLoader:
    """A DataLoader yielding :class:`LoadedBatch`; features are computed in its workers.

    The loader draws its worker seeds from its own generator, not the global one, so
    creating a loader (for an eval, or after a resume) never shifts the random numbers
    that dropout and stochastic depth use: resumed training continues bit for bit.
    Nothing in the workers draws from their seeds: SpecAugment and the like are seeded
    per (seed, epoch, item), so which worker loads an item never changes what it gets.

    ``persistent`` (with ``num_workers > 0``): iterate the same loader once per epoch and
    its workers stay alive from one epoch to the next. Starting workers costs a fork of
    the whole training process each; a small dataset has an epoch every step or two, and
    fine-tuning on it spent more time starting workers than training. The sampler lives
    in this process, so its epoch and ``start_batch`` apply as before; the dataset's
    ``epoch`` as set here when an epoch's iteration begins reaches the workers with
    every index (see :class:`_EpochTaggedBatches`).
    """
    if collate_fn is None:
        collate_fn = make_collate(dataset.tokenizer.sos_id, dataset.tokenizer.eos_id)
    persistent = persistent and num_workers > 0
    return DataLoader(
        _EpochFromIndex(dataset) if persistent else dataset,
        generator=torch.Generator().manual_seed(seed),
        batch_sampler=_EpochTaggedBatches(sampler, dataset) if persistent else sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        worker_init_fn=_ignore_stop_signals if num_workers > 0 else None,
        pin_memory=pin_memory,
        persistent_workers=persistent,
        prefetch_factor=4 if num_workers > 0 else None,
    )
