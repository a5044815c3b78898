"""Decimate audio for display without losing its peaks.

A ten-minute recording at 16 kHz has 9.6 million samples; drawing them all
makes every pan and zoom stutter. Plotting the smallest and the largest
sample of each screen-column-sized bin draws the same picture from a few
thousand points: every click and every clipped peak stays visible, which
plain subsampling (``samples[::k]``) would drop.
"""

from __future__ import annotations

import numpy as np


def envelope(samples: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope of ``samples`` in ``n_bins`` bins.

    Parameters
    ----------
    samples : np.ndarray
        Audio, shape = (n_samples,).
    n_bins : int
        Number of bins, about the plot's width in pixels.

    Returns
    -------
    x : np.ndarray
        Sample positions, float64, shape = (2 * n_bins,), or (n_samples,) when
        there are no more than two samples a bin.
    y : np.ndarray
        Values, float32, same shape as ``x``. For bin ``i``, ``y[2 * i]`` is
        its minimum, placed at the bin's first sample, and ``y[2 * i + 1]`` its
        maximum, placed at the bin's last sample, so a line through the points
        sweeps the bin's whole range and the x-range is that of the input.
        Short input is returned as it is: it needs no decimation.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples of shape (n,), got shape {samples.shape}")

    n = samples.shape[0]
    if n <= 2 * n_bins:
        return np.arange(n, dtype=np.float64), samples.astype(np.float32, copy=True)

    # n > 2 * n_bins, so every bin holds at least two samples and reduceat
    # never sees an empty bin (where it would return a sample, not a minimum).
    edges = np.linspace(0, n, n_bins + 1).astype(np.int64)
    starts = edges[:-1]
    lows = np.minimum.reduceat(samples, starts)
    highs = np.maximum.reduceat(samples, starts)

    x = np.empty(2 * n_bins, dtype=np.float64)
    x[0::2] = starts
    x[1::2] = edges[1:] - 1
    y = np.empty(2 * n_bins, dtype=np.float32)
    y[0::2] = lows
    y[1::2] = highs
    return x, y
