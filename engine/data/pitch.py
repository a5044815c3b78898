"""Voice measurements for comparing groups of speakers: pitch, spectrum, level, alignment.

The question behind this module is the one a data scientist asks of a new
corpus: *how do the voices in it differ* (women and men, two speakers, two
takes of one word)? Pitch (F0) is the clearest difference between adult
female and male voices (roughly 160–260 Hz against 85–155 Hz), the long-term
spectrum shows where the energy sits, and the level shows how loud people
were recorded, which a model must be robust to.

Pitch estimation: YIN
---------------------
:func:`f0_track` implements the YIN estimator (de Cheveigné & Kawahara,
2002) with numpy, every frame at once: the squared-difference function
``d(τ) = Σ (x_j − x_{j+τ})²`` over an integration window of one longest
period, computed from autocorrelations by FFT; its cumulative-mean
normalisation ``d'(τ) = d(τ) τ / Σ_{k≤τ} d(k)``, which is near 0 at the
period of a periodic signal and near 1 for noise; the *first* local minimum
of ``d'`` below ``threshold`` (taking the first, not the deepest, is what
keeps YIN from octave-too-low errors); and a parabola through that minimum
for sub-sample precision.

A frame is **unvoiced** (NaN) when no dip goes below ``threshold``
(noise, fricatives) or when it is quiet: below ``silence_dbfs``, or more
than ``VOICING_BELOW_LOUDEST_DB`` under the loudest frame of the clip. The
latter matters on real recordings: mains hum (50/60 Hz) in the pauses is
perfectly periodic and YIN rightly finds its period. In ten women's Common
Voice clips it sat 30–35 dB under the vowels and made 7% of the frames read
as "voiced" at about 60 Hz.

With ``clean=True`` (the default) two kinds of error are then dropped, as
pitch statistics suffer from them more than from a few lost frames: frames
more than a factor ``OCTAVE_JUMP`` from the clip's median F0 (octave
errors: a woman read at half her pitch in creaky voice) and voiced runs
shorter than ``MIN_VOICED_FRAMES`` (isolated blips in consonants). The
first assumes one voice per clip: two voices an octave apart lose the rarer one.

Everything here is Qt-free numpy and works on mono float arrays at any rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.audio import RMS_EPSILON

FLOOR_DB = 20.0 * math.log10(RMS_EPSILON)  # -120: digital silence, finite so it can be averaged
QUIET_BELOW_LOUDEST_DB = 40.0  # frames this far under the loudest one are pauses
VOICING_BELOW_LOUDEST_DB = 30.0  # ...and too quiet to be voiced: hum and breath live there
OCTAVE_JUMP = 1.8  # F0 this far (as a factor) from the clip's median is an octave error
MIN_VOICED_FRAMES = 3  # shorter voiced runs (30 ms at the default hop) are blips
ENVELOPE_RATE = 1000  # Hz: alignment is found to the millisecond
ENVELOPE_SMOOTHING = 0.01  # seconds: syllable-scale loudness, blind to pitch periods
OVERLAY_RMS_DBFS = -20.0  # both segments of an overlay are brought to this level
FRAMES_PER_BLOCK = 512  # YIN frames computed at once


@dataclass(frozen=True)
class F0Stats:
    """Summary of the voiced frames of an F0 track (NaN values when none is voiced)."""

    median: float
    mean: float
    p10: float
    p90: float
    voiced_fraction: float  # of all frames given
    voiced_frames: int


@dataclass(frozen=True)
class LevelStats:
    """How loud a recording is, in dB relative to full scale (-120 for silence)."""

    rms_dbfs: float  # over the whole clip, pauses included
    active_rms_dbfs: float  # over frames within QUIET_BELOW_LOUDEST_DB of the loudest: the speech level
    peak: float  # largest |sample|
    peak_dbfs: float


@dataclass(frozen=True)
class AlignedPair:
    """Two segments on a common time axis, each brought to ``OVERLAY_RMS_DBFS``.

    ``lag`` is how many seconds later the content appears in ``b`` than in
    ``a``; plotting ``a`` against ``a_times`` and ``b`` against ``b_times``
    (shifted by ``-lag``) overlays them. ``score`` is the normalised
    correlation of the envelopes at that lag, in [-1, 1].
    """

    lag: float
    score: float
    a: np.ndarray  # shape = (n_a,), float32
    b: np.ndarray  # shape = (n_b,), float32
    a_times: np.ndarray  # shape = (n_a,), seconds
    b_times: np.ndarray  # shape = (n_b,), seconds


def _db(power: np.ndarray | float) -> np.ndarray:
    return 10.0 * np.log10(np.asarray(power, dtype=np.float64) + RMS_EPSILON**2)


def _frame_power(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Mean square of each ``length``-sample frame taken every ``hop``, shape (n_frames,).

    From a running sum of squares, so an hour-long file needs no frame matrix.
    """
    if x.size < length:
        return np.array([np.mean(x * x)]) if x.size else np.zeros(1)
    cumulative = np.concatenate([[0.0], np.cumsum(x * x)])
    starts = np.arange(0, x.size - length + 1, hop)
    return (cumulative[starts + length] - cumulative[starts]) / length


def _yin_periods(
    frames: np.ndarray, window: int, tau_min: int, tau_max: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """YIN on a block of frames: the period in samples (NaN: no dip) and the level in dB, each shape (F,).

    ``frames`` has shape (F, window + tau_max + 1).
    """
    n_frames, length = frames.shape
    n_fft = 1 << (length - 1).bit_length()
    spectrum = np.fft.rfft(frames, n_fft)
    head = np.fft.rfft(frames[:, :window], n_fft)
    corr = np.fft.irfft(np.conj(head) * spectrum, n_fft)[:, : tau_max + 1]  # r(τ), (F, tau_max + 1)
    energy = np.concatenate([np.zeros((n_frames, 1)), np.cumsum(frames**2, axis=1)], axis=1)
    taus = np.arange(tau_max + 1)
    e_tau = energy[:, taus + window] - energy[:, taus]  # energy of the window shifted by τ
    diff = np.maximum(e_tau[:, :1] + e_tau - 2.0 * corr, 0.0)  # d(τ), (F, tau_max + 1)

    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)  # d'(τ), with d'(0) = 1
    with np.errstate(invalid="ignore", divide="ignore"):
        cmnd[:, 1:] = np.where(cumulative > 0, diff[:, 1:] * taus[1:] / cumulative, 1.0)

    # The first local minimum below the threshold, τ in [tau_min, tau_max - 1].
    mid = cmnd[:, tau_min:tau_max]
    before = cmnd[:, tau_min - 1 : tau_max - 1]
    after = cmnd[:, tau_min + 1 : tau_max + 1]
    dips = (mid < threshold) & (mid <= before) & (mid <= after)
    tau = tau_min + np.argmax(dips, axis=1)

    rows = np.arange(n_frames)
    y0, y1, y2 = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, tau + 1]
    curvature = y0 - 2.0 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(curvature > 0, 0.5 * (y0 - y2) / curvature, 0.0)
    period = np.where(dips.any(axis=1), tau + np.clip(shift, -0.5, 0.5), np.nan)
    level = _db(energy[:, -1] / length)  # over the whole frame, which is centred on the frame time
    return period, level


def f0_track(
    samples: np.ndarray,
    sr: int,
    hop: float = 0.01,
    fmin: float = 60.0,
    fmax: float = 400.0,
    threshold: float = 0.15,
    silence_dbfs: float = -60.0,
    clean: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency over time, by YIN (see the module docstring).

    Parameters
    ----------
    samples : np.ndarray
        Mono waveform, shape = (n,).
    sr : int
        Sample rate in Hz.
    hop : float
        Seconds between frames.
    fmin, fmax : float
        Pitch search range in Hz. ``fmin`` sets the frame length (two longest
        periods), so a lower ``fmin`` costs time resolution.
    threshold : float
        Largest normalised difference ``d'`` still called voiced; 0.1–0.2 is
        usual, higher finds pitch in breathier voices and more noise.
    silence_dbfs : float
        Frames quieter than this are unvoiced.
    clean : bool
        Drop octave errors and voiced blips (see the module docstring).

    Returns
    -------
    times : np.ndarray
        Frame centres in seconds, shape = (n_frames,), ``n_frames = 1 + n // hop_samples``.
    f0 : np.ndarray
        Hz, shape = (n_frames,), NaN where unvoiced.
    """
    if not 0 < fmin < fmax < sr / 2:
        raise ValueError(f"need 0 < fmin < fmax < sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    hop_n = max(1, int(round(hop * sr)))
    tau_min, tau_max = max(2, int(math.floor(sr / fmax))), int(math.ceil(sr / fmin))
    window = tau_max  # integration window: one longest period
    length = window + tau_max + 1  # samples each frame needs
    n_frames = 1 + x.size // hop_n
    times = np.arange(n_frames) * hop_n / sr
    if x.size == 0:
        return times, np.full(n_frames, np.nan)

    # Pad so frame i is centred on sample i * hop_n.
    left = length // 2
    padded = np.pad(x, (left, length))
    frames = sliding_window_view(padded, length)[::hop_n][:n_frames]  # (F, length), a view
    period = np.empty(n_frames)
    level = np.empty(n_frames)
    for i in range(0, n_frames, FRAMES_PER_BLOCK):  # blocks bound the FFT buffers for long files
        block = slice(i, i + FRAMES_PER_BLOCK)
        period[block], level[block] = _yin_periods(frames[block], window, tau_min, tau_max, threshold)
    loud = (level >= silence_dbfs) & (level >= level.max() - VOICING_BELOW_LOUDEST_DB)
    f0 = np.where(loud, sr / period, np.nan)  # period is NaN where no dip was found
    return times, _clean(f0) if clean else f0


def _clean(f0: np.ndarray) -> np.ndarray:
    """Drop octave errors and voiced runs shorter than MIN_VOICED_FRAMES (see the module docstring)."""
    voiced = np.isfinite(f0)
    if not voiced.any():
        return f0
    median = np.median(f0[voiced])
    with np.errstate(invalid="ignore"):
        f0 = np.where((f0 < median / OCTAVE_JUMP) | (f0 > median * OCTAVE_JUMP), np.nan, f0)
    edges = np.diff(np.concatenate([[0], np.isfinite(f0).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for start, end in zip(starts, ends):
        if end - start < MIN_VOICED_FRAMES:
            f0[start:end] = np.nan
    return f0


def f0_stats(f0: np.ndarray) -> F0Stats:
    """Median, mean and 10th/90th percentiles of the voiced (finite) values of ``f0``.

    Parameters
    ----------
    f0 : np.ndarray
        Hz, any shape, NaN where unvoiced.
    """
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)
    voiced = f0[np.isfinite(f0)]
    fraction = voiced.size / f0.size if f0.size else 0.0
    if voiced.size == 0:
        nan = float("nan")
        return F0Stats(nan, nan, nan, nan, fraction, 0)
    p10, median, p90 = np.percentile(voiced, [10, 50, 90])
    return F0Stats(float(median), float(voiced.mean()), float(p10), float(p90), fraction, int(voiced.size))


def long_term_spectrum(
    samples: np.ndarray, sr: int, n_fft: int = 1024, normalize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Average power spectrum (Welch: Hann frames, half overlap) of the sounding part of a clip.

    Frames more than ``QUIET_BELOW_LOUDEST_DB`` under the loudest are left
    out, so the pauses around a word do not drag the curve down.

    Parameters
    ----------
    samples : np.ndarray
        Mono waveform, shape = (n,); shorter than ``n_fft`` is zero-padded.
    sr : int
    n_fft : int
        Frame length; the resolution is ``sr / n_fft`` Hz.
    normalize : bool
        Shift the curve so its total power is 0 dB: the shape only, for
        comparing voices recorded at different levels.

    Returns
    -------
    freqs : np.ndarray
        Hz, shape = (n_fft // 2 + 1,).
    db : np.ndarray
        Power per bin in dB, shape = (n_fft // 2 + 1,); scaled so that a
        sine's peak reads its RMS level in dBFS (-3 dB at full scale).
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    hop = n_fft // 2
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann: frames at half overlap sum to a constant
    frames = sliding_window_view(x, n_fft)[::hop]  # a view: (n_frames, n_fft)
    power = _frame_power(x, n_fft, hop)
    keep = np.flatnonzero(_db(power) >= _db(power.max()) - QUIET_BELOW_LOUDEST_DB)  # all, for silence
    total = np.zeros(n_fft // 2 + 1)
    for i in range(0, keep.size, FRAMES_PER_BLOCK):  # blocks bound the FFT buffers for long files
        block = frames[keep[i : i + FRAMES_PER_BLOCK]]
        total += (np.abs(np.fft.rfft(block * window, axis=1)) ** 2).sum(axis=0)
    mean_power = total / keep.size * 2.0 / window.sum() ** 2
    if normalize and mean_power.sum() > 0:
        mean_power = mean_power / mean_power.sum()
    return np.fft.rfftfreq(n_fft, 1.0 / sr), _db(mean_power)


def level_stats(samples: np.ndarray, sr: int = 16000) -> LevelStats:
    """RMS (whole and speech-only) and peak level of a clip.

    Parameters
    ----------
    samples : np.ndarray
        Mono waveform, shape = (n,), floats in [-1, 1].
    sr : int
        Sets the 20 ms frames that decide what is speech and what is pause.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return LevelStats(FLOOR_DB, FLOOR_DB, 0.0, FLOOR_DB)
    frame = max(1, int(0.02 * sr))
    power = _frame_power(x, frame, frame)
    db = _db(power)
    active = power[db >= db.max() - QUIET_BELOW_LOUDEST_DB]
    peak = float(np.abs(x).max())
    return LevelStats(
        rms_dbfs=float(_db(np.mean(x * x))),
        active_rms_dbfs=float(_db(active.mean())),
        peak=peak,
        peak_dbfs=float(20.0 * np.log10(peak + RMS_EPSILON)),
    )


def loudness_envelope(samples: np.ndarray, sr: int) -> np.ndarray:
    """RMS over ``ENVELOPE_SMOOTHING`` seconds, sampled at ``ENVELOPE_RATE`` Hz, shape = (n * 1000 // sr,)."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    width = max(1, int(round(ENVELOPE_SMOOTHING * sr)))
    step = max(1, int(round(sr / ENVELOPE_RATE)))
    cumulative = np.concatenate([[0.0], np.cumsum(x * x)])
    centres = np.arange(0, x.size, step)
    lo = np.clip(centres - width // 2, 0, x.size)
    hi = np.clip(centres + width - width // 2, 0, x.size)
    return np.sqrt((cumulative[hi] - cumulative[lo]) / np.maximum(hi - lo, 1))


def _to_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0
    gain = 10 ** (dbfs / 20) / rms if rms > RMS_EPSILON else 1.0
    return (x * gain).astype(np.float32)


def align_segments(a: np.ndarray, b: np.ndarray, sr: int, max_lag: float | None = None) -> AlignedPair:
    """Time-align two recordings of the same word and bring them to one level, for overlay.

    Two voices saying one word share its rhythm (syllables, stops, pauses)
    but not their waveforms, so the lag is found by cross-correlating the
    loudness envelopes (z-scored, so a louder take does not dominate), to
    the millisecond.

    Parameters
    ----------
    a, b : np.ndarray
        Mono waveforms, shapes (n_a,) and (n_b,), at the same rate.
    sr : int
    max_lag : float or None
        Largest shift considered, in seconds either way; ``None`` allows any overlap.

    Returns
    -------
    AlignedPair
    """
    ea, eb = loudness_envelope(a, sr), loudness_envelope(b, sr)
    if ea.size == 0 or eb.size == 0:
        lag, score = 0.0, 0.0
    else:
        ea = (ea - ea.mean()) / (ea.std() + 1e-12)
        eb = (eb - eb.mean()) / (eb.std() + 1e-12)
        n = 1 << (ea.size + eb.size).bit_length()
        corr = np.fft.irfft(np.conj(np.fft.rfft(ea, n)) * np.fft.rfft(eb, n), n)
        lags = np.concatenate([np.arange(eb.size), np.arange(-(ea.size - 1), 0)])  # corr[k] is lag lags[k]
        values = np.concatenate([corr[: eb.size], corr[n - (ea.size - 1):]])
        if max_lag is not None:
            values = np.where(np.abs(lags) <= max_lag * ENVELOPE_RATE, values, -np.inf)
        best = int(np.argmax(values))
        lag = lags[best] / ENVELOPE_RATE
        score = float(values[best] / math.sqrt(ea.size * eb.size))
    a_out, b_out = _to_level(np.asarray(a), OVERLAY_RMS_DBFS), _to_level(np.asarray(b), OVERLAY_RMS_DBFS)
    return AlignedPair(
        lag=float(lag), score=score, a=a_out, b=b_out,
        a_times=np.arange(a_out.size) / sr, b_times=np.arange(b_out.size) / sr - lag,
    )


@dataclass
class VoiceProfile:
    """What a group of recordings sounds like on average.

    Attributes
    ----------
    clips : int
    durations : np.ndarray
        Seconds per clip, shape = (clips,).
    f0 : np.ndarray
        Every voiced F0 value of every clip (Hz), shape = (voiced frames,).
    f0_stats : F0Stats
    freqs, spectrum_db : np.ndarray
        Mean of the clips' level-normalised long-term spectra (power averaged,
        then dB), shape = (n_fft // 2 + 1,); empty before any clip.
    active_rms_dbfs : np.ndarray
        Speech level per clip, shape = (clips,).
    """

    clips: int = 0
    durations: np.ndarray = field(default_factory=lambda: np.zeros(0))
    f0: np.ndarray = field(default_factory=lambda: np.zeros(0))
    f0_stats: F0Stats = field(default_factory=lambda: f0_stats(np.zeros(0)))
    freqs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    spectrum_db: np.ndarray = field(default_factory=lambda: np.zeros(0))
    active_rms_dbfs: np.ndarray = field(default_factory=lambda: np.zeros(0))


class VoiceProfileBuilder:
    """Accumulates a :class:`VoiceProfile` clip by clip, so a caller can report progress and stop early."""

    def __init__(self, sr: int, fmin: float = 60.0, fmax: float = 400.0, n_fft: int = 1024):
        self.sr, self.fmin, self.fmax, self.n_fft = sr, fmin, fmax, n_fft
        self._f0: list[np.ndarray] = []
        self._frames = 0
        self._durations: list[float] = []
        self._levels: list[float] = []
        self._power: np.ndarray | None = None
        self._freqs = np.zeros(0)

    def add(self, samples: np.ndarray) -> None:
        """Measure one clip (mono, shape = (n,), at ``sr``)."""
        _, f0 = f0_track(samples, self.sr, fmin=self.fmin, fmax=self.fmax)
        self._f0.append(f0[np.isfinite(f0)])
        self._frames += f0.size
        self._durations.append(np.asarray(samples).size / self.sr)
        self._levels.append(level_stats(samples, self.sr).active_rms_dbfs)
        self._freqs, db = long_term_spectrum(samples, self.sr, self.n_fft, normalize=True)
        power = 10 ** (db / 10)
        self._power = power if self._power is None else self._power + power

    def build(self) -> VoiceProfile:
        n = len(self._durations)
        if n == 0:
            return VoiceProfile()
        f0 = np.concatenate(self._f0)
        stats = f0_stats(f0)
        # voiced_fraction over all frames of all clips, not just the voiced ones kept
        stats = F0Stats(stats.median, stats.mean, stats.p10, stats.p90, f0.size / max(1, self._frames), f0.size)
        return VoiceProfile(
            clips=n, durations=np.array(self._durations), f0=f0, f0_stats=stats, freqs=self._freqs,
            spectrum_db=_db(self._power / n), active_rms_dbfs=np.array(self._levels),
        )


def voice_profile(clips: Iterable[np.ndarray], sr: int, **options) -> VoiceProfile:
    """:class:`VoiceProfile` of ``clips`` (mono arrays at ``sr``); ``options`` go to :class:`VoiceProfileBuilder`."""
    builder = VoiceProfileBuilder(sr, **options)
    for clip in clips:
        builder.add(clip)
    return builder.build()
