"""Cut long audio at silences into chunks a Transformer handles well.

Attention over a whole hour is neither possible nor useful, and character
models trained on sentences decode short stretches best. We look for the
quietest moment (smoothed energy over 200 ms) in the second half of each
``max_seconds`` window and cut there, so words are rarely split.
"""

from __future__ import annotations

import numpy as np

HOP_SECONDS = 0.01
SMOOTH_SECONDS = 0.2
ENERGY_BLOCK_FRAMES = 6000  # 10 ms frames squared and summed at a time (a minute)


def frame_energy_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Energy in dB of 10 ms frames, smoothed over 200 ms; shape (n_frames,)."""
    hop = max(1, int(HOP_SECONDS * sample_rate))
    n = len(samples) // hop
    if n == 0:
        return np.zeros(0)
    frames = samples[: n * hop].reshape(n, hop)
    power = np.empty(n)
    # A minute of frames at a time in float64: the whole of a two-hour file at once
    # took two float64 copies of it (1.8 GB at 16 kHz) just to find the pauses.
    for a in range(0, n, ENERGY_BLOCK_FRAMES):
        block = frames[a:a + ENERGY_BLOCK_FRAMES].astype(np.float64)
        power[a:a + ENERGY_BLOCK_FRAMES] = (block * block).mean(axis=1)
    k = max(1, int(SMOOTH_SECONDS / HOP_SECONDS))
    smooth = np.convolve(power, np.ones(k) / k, mode="same")
    return 10 * np.log10(smooth + 1e-12)


def split_at_silences(
    samples: np.ndarray, sample_rate: int, max_seconds: float = 20.0, min_seconds: float = 2.0
) -> list[tuple[int, int]]:
    """Sample ranges [start, end) covering the whole audio, each at most ``max_seconds`` long.

    A cut is placed at the quietest 10 ms frame between ``max_seconds / 2`` and
    ``max_seconds`` into the current chunk; a tail shorter than ``min_seconds`` is
    merged into the chunk before it when that stays within ``max_seconds * 1.25``.
    """
    n = len(samples)
    max_len = int(max_seconds * sample_rate)
    if n <= max_len:
        return [(0, n)]
    hop = max(1, int(HOP_SECONDS * sample_rate))
    energy = frame_energy_db(samples, sample_rate)
    chunks, start = [], 0
    while n - start > max_len:
        lo = (start + max_len // 2) // hop
        hi = min((start + max_len) // hop, len(energy))
        if hi <= lo:
            cut = start + max_len
        else:
            cut = (lo + int(np.argmin(energy[lo:hi]))) * hop
        chunks.append((start, cut))
        start = cut
    chunks.append((start, n))
    if len(chunks) > 1 and (chunks[-1][1] - chunks[-1][0]) < min_seconds * sample_rate:
        (a, _), (_, b) = chunks[-2], chunks[-1]
        if b - a <= max_len * 1.25:
            chunks[-2:] = [(a, b)]
    return chunks
