"""Log-mel spectrograms for display, computed in blocks with numpy.

The picture uses the same front end as the model (25 ms Hann windows every
10 ms, 80 HTK mel bands from 20 Hz to 7.6 kHz, see
``engine.feature_config.FeatureConfig``), so what the user sees is what the model
hears. It is not ``engine.features.compute_features`` itself because display
has other needs: an hour of audio is 360,000 frames, which as one torch STFT
needs over a gigabyte, and the screen shows at most a few thousand columns
anyway. Here frames are computed a block at a time and averaged (in power,
before the logarithm) into at most ``max_columns`` columns, in bounded memory,
and the work can be abandoned between blocks when the user opens another file.
Values are decibels without normalisation, so colours mean the same level
across files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

MAX_COLUMNS = 8000
DYNAMIC_RANGE_DB = 80.0  # quieter than this below the loudest column is drawn as black
POWER_FLOOR = 1e-10  # -100 dB: digital silence stays finite
BLOCK_FRAMES = 8192  # frames per block: ~13 MB of float32 windows


class SpectrogramCancelled(Exception):
    """Raised inside :func:`log_mel_spectrogram` when ``should_stop`` says so."""


@dataclass(frozen=True)
class SpectrogramOptions:
    """STFT and mel settings; the defaults match ``engine.feature_config.FeatureConfig``."""

    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 80
    f_min: float = 20.0
    f_max: float = 7600.0


@dataclass(frozen=True)
class Spectrogram:
    """A log-mel image ready for ``pg.ImageItem`` (row-major).

    Attributes
    ----------
    image : np.ndarray
        Decibels, float32, shape = (n_mels, n_columns); row 0 is the lowest band.
    start : float
        Seconds at the left edge of column 0.
    end : float
        Seconds at the right edge of the last column.
    levels : tuple of float
        (low, high) in dB: the loudest value and ``DYNAMIC_RANGE_DB`` below it.
    frames_per_column : float
        How many STFT frames each column averages; 1.0 at full resolution.
    """

    image: np.ndarray
    start: float
    end: float
    levels: tuple[float, float]
    frames_per_column: float

    @property
    def n_columns(self) -> int:
        return self.image.shape[1]

    @property
    def seconds_per_column(self) -> float:
        return (self.end - self.start) / max(1, self.n_columns)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray | float:
    """HTK mel scale, ``2595 log10(1 + f / 700)``: Kaldi's and torchaudio's default."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray | float:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """Triangular mel filters without area normalisation, shape = (n_fft // 2 + 1, n_mels).

    Filter ``m`` rises from mel point ``m`` to ``m + 1`` and falls to ``m + 2``
    of ``n_mels + 2`` points spaced evenly on the mel scale.
    """
    bin_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    points_hz = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = points_hz[:-2], points_hz[1:-1], points_hz[2:]
    rising = (bin_hz[:, None] - lower) / (centre - lower)
    falling = (upper - bin_hz[:, None]) / (upper - centre)
    weights = np.clip(np.minimum(rising, falling), 0.0, None).astype(np.float32)
    weights.setflags(write=False)  # shared through the cache
    return weights


def mel_band_centres(sample_rate: int, options: SpectrogramOptions = SpectrogramOptions()) -> np.ndarray:
    """Centre frequency in Hz of each mel band (row of the image), shape = (n_mels,)."""
    f_max = min(options.f_max, sample_rate / 2)
    points = np.linspace(hz_to_mel(options.f_min), hz_to_mel(f_max), options.n_mels + 2)
    return mel_to_hz(points[1:-1])


def log_mel_spectrogram(
    samples: np.ndarray,
    sample_rate: int,
    start: float = 0.0,
    end: float | None = None,
    max_columns: int = MAX_COLUMNS,
    options: SpectrogramOptions = SpectrogramOptions(),
    should_stop: Callable[[], bool] | None = None,
) -> Spectrogram:
    """Log-mel spectrogram of ``samples[start:end]`` (in seconds) in at most ``max_columns`` columns.

    Parameters
    ----------
    samples : np.ndarray
        Mono audio, shape = (n_samples,). Read, never modified or copied whole.
    sample_rate : int
    start, end : float
        The time range to draw; ``end=None`` means the end of the audio.
    max_columns : int
        Frames are averaged in power into this many columns at most; fewer
        when the range has fewer frames.
    should_stop : callable or None
        Polled between blocks; when it returns True the work stops with
        :class:`SpectrogramCancelled`.

    Returns
    -------
    Spectrogram
        Frame ``i`` is centred on the middle of its hop, so the image covers
        ``start`` to ``start + n_frames * hop / sample_rate`` (within one hop
        of ``end``) with no half-frame offset to correct when drawing.
    """
    hop, n_fft = options.hop_length, options.n_fft
    first = max(0, int(round(start * sample_rate)))
    last = samples.shape[0] if end is None else min(samples.shape[0], int(round(end * sample_rate)))
    n_frames = max(1, -(-(last - first) // hop))  # ceil: the last partial hop gets a frame
    n_columns = max(1, min(max_columns, n_frames))
    column_of_frame = np.arange(n_frames, dtype=np.int64) * n_columns // n_frames
    frames_in_column = np.bincount(column_of_frame, minlength=n_columns).astype(np.float32)

    fbank = mel_filterbank(sample_rate, n_fft, options.n_mels, options.f_min, min(options.f_max, sample_rate / 2))
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann, as torch.hann_window
    power_sums = np.zeros((n_columns, options.n_mels), dtype=np.float64)
    # Frame i is centred on sample first + i * hop + hop // 2; it reaches back
    # n_fft // 2 from there. Zeros stand in for samples outside the array.
    offset = hop // 2 - n_fft // 2
    for f0 in range(0, n_frames, BLOCK_FRAMES):
        if should_stop is not None and should_stop():
            raise SpectrogramCancelled()
        f1 = min(n_frames, f0 + BLOCK_FRAMES)
        a = first + f0 * hop + offset
        b = first + (f1 - 1) * hop + offset + n_fft
        segment = np.zeros(b - a, dtype=np.float32)
        lo, hi = max(a, 0), min(b, samples.shape[0])
        if hi > lo:
            segment[lo - a : hi - a] = samples[lo:hi]
        frames = np.lib.stride_tricks.sliding_window_view(segment, n_fft)[::hop]  # (f1 - f0, n_fft)
        spectrum = np.fft.rfft(frames * window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        mel_power = power.astype(np.float32) @ fbank  # (f1 - f0, n_mels)
        # Frames of one column are adjacent, so sum runs of equal column index.
        columns = column_of_frame[f0:f1]
        run_starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
        power_sums[columns[run_starts]] += np.add.reduceat(mel_power, run_starts, axis=0)

    mean_power = power_sums / frames_in_column[:, None]
    image = (10.0 * np.log10(mean_power + POWER_FLOOR)).astype(np.float32).T  # (n_mels, n_columns)
    image = np.ascontiguousarray(image)
    high = float(image.max())
    return Spectrogram(
        image=image,
        start=first / sample_rate,
        end=(first + n_frames * hop) / sample_rate,
        levels=(high - DYNAMIC_RANGE_DB, high),
        frames_per_column=n_frames / n_columns,
    )
