"""Reading, checking, resampling and writing audio.

Everything the engine hears goes through :func:`load_audio`: a mono float32
waveform at 16 kHz. Files are decoded with ``soundfile`` (libsndfile), never
``torchaudio.load``, which needs the ``torchcodec`` package that Parcero does
not ship. Every failure becomes an :class:`~engine.errors.AudioError` that names
the file and says what is wrong in words, because these messages end up in a
dialog or in a dataset import report, not in a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.errors import AudioError
from engine.fileio import atomic_path

SAMPLE_RATE = 16000
SUPPORTED_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

# dBFS levels for signal_stats. The epsilon puts digital silence at -120 dBFS
# instead of -inf, so the value can be averaged, sorted and written to JSON.
RMS_EPSILON = 1e-6
SILENCE_DBFS = -60.0
CLIP_LEVEL = 0.999
# Long recordings are resampled this many input samples at a time (about a minute
# at 16 kHz). The filter's half-width follows torchaudio's defaults, which we keep.
RESAMPLE_BLOCK = 1 << 20
_RESAMPLE_ZEROS = 6  # torchaudio's lowpass_filter_width
_RESAMPLE_ROLLOFF = 0.99  # torchaudio's rolloff

# What soundfile raises: LibsndfileError is a RuntimeError; OSError covers
# permissions; TypeError/ValueError come from headerless formats such as .raw,
# which demand a sample rate we cannot know.
_SOUNDFILE_ERRORS = (RuntimeError, OSError, TypeError, ValueError)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, without decoding its samples.

    Attributes
    ----------
    path : str
    sample_rate : int
        Samples per second per channel as stored in the file.
    channels : int
    frames : int
        Samples per channel. For MP3 libsndfile estimates it from the stream.
    duration : float
        ``frames / sample_rate`` in seconds.
    format : str
        libsndfile's container name, e.g. ``"WAV"``, ``"FLAC"``, ``"MP3"``.
    subtype : str
        libsndfile's sample encoding, e.g. ``"PCM_16"``, ``"VORBIS"``.
    """

    path: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str


@dataclass(frozen=True)
class SignalStats:
    """Level summary of a waveform, used to flag silent or clipped clips.

    Attributes
    ----------
    rms_dbfs : float
        Root-mean-square level in dB relative to full scale (1.0); -120 for
        digital silence thanks to ``RMS_EPSILON``.
    peak : float
        Largest absolute sample value.
    clipped_fraction : float
        Fraction of samples with ``|x| >= CLIP_LEVEL``.
    is_silent : bool
        ``rms_dbfs < SILENCE_DBFS``.
    """

    rms_dbfs: float
    peak: float
    clipped_fraction: float
    is_silent: bool


def _check_file(path: Path) -> None:
    # libsndfile reports all of these as "Format not recognised" or "System
    # error", so we look first and say what is really wrong.
    if not path.exists():
        raise AudioError(path, "file not found", "missing")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file", "not_a_file")
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)", "empty_file")


def _decode_error(path: Path, exc: Exception) -> AudioError:
    reason = getattr(exc, "error_string", None) or str(exc) or type(exc).__name__
    if "does not exist" in reason and path.is_file():
        # libsndfile's MP3 reader says "File does not exist or is not a regular file" for
        # any stream it cannot sync to; the file is there (_check_file looked), so say what is meant.
        reason = "format not recognised"
    ext = path.suffix.lower() or "(no extension)"
    if ext in SUPPORTED_EXTENSIONS:
        problem = f"cannot decode this {ext} file (corrupt or not audio): {reason}"
    else:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        problem = (
            f"cannot decode this {ext} file as audio (supported: {supported}): {reason}"
        )
    return AudioError(path, problem, "unreadable", {"format": ext, "reason": reason})


def audio_info(path: str | Path) -> AudioInfo:
    """Read an audio file's header only; fast enough for 100k files.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioError
        Missing, a directory, empty, undecodable, or holding no samples.
    """
    path = Path(path)
    _check_file(path)
    try:
        info = sf.info(str(path))
    except _SOUNDFILE_ERRORS as exc:
        raise _decode_error(path, exc) from exc
    if info.frames <= 0:
        raise AudioError(path, "contains no audio samples", "no_samples")
    return AudioInfo(
        path=str(path),
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration=info.frames / info.samplerate,
        format=info.format,
        subtype=info.subtype,
    )


def load_audio(
    path: str | Path,
    sample_rate: int = SAMPLE_RATE,
    *,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Decode an audio file to a mono float32 waveform at ``sample_rate``.

    Only the requested stretch is decoded, so cutting a 2-second segment out of
    an hour-long recording stays cheap.

    Parameters
    ----------
    path : str or Path
    sample_rate : int
        Rate of the returned waveform; the file is resampled if it differs.
    offset : float
        Start of the stretch to read, in seconds from the start of the file.
    duration : float or None
        Length of the stretch in seconds; ``None`` reads to the end. A stretch
        running past the end of the file is cut short, not an error.

    Returns
    -------
    np.ndarray
        float32, shape ``(n_samples,)``, channels averaged.

    Raises
    ------
    AudioError
        Missing, a directory, empty, undecodable, holding no samples, holding
        NaN or Inf samples, or ``offset`` at or past the end of the file.
    ValueError
        Negative ``offset``, non-positive ``duration`` or ``sample_rate``.
    """
    if offset < 0:
        raise ValueError(f"offset must be >= 0 seconds, got {offset}")
    if duration is not None and duration <= 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    path = Path(path)
    _check_file(path)
    try:
        # One open serves both the header checks and the read, the same
        # start/frames seek that sf.read(start=, frames=) does internally.
        with sf.SoundFile(str(path)) as f:
            file_rate, total_frames = int(f.samplerate), int(f.frames)
            if total_frames <= 0:
                raise AudioError(path, "contains no audio samples", "no_samples")
            start = int(round(offset * file_rate))
            if start >= total_frames:
                raise AudioError(
                    path,
                    f"offset {offset:.3f} s is past the end of the audio "
                    f"({total_frames / file_rate:.3f} s long)",
                    "past_end", {"offset": offset, "length": total_frames / file_rate},
                )
            frames = -1 if duration is None else max(1, int(round(duration * file_rate)))
            if start > 0:
                f.seek(start)
            data = f.read(frames, dtype="float32", always_2d=True)  # (n, channels)
    except _SOUNDFILE_ERRORS as exc:
        raise _decode_error(path, exc) from exc
    if data.shape[0] == 0:
        raise AudioError(path, "contains no audio samples", "no_samples")

    bad_frames = ~np.isfinite(data).all(axis=1)
    n_bad = int(bad_frames.sum())
    if n_bad:
        # A float WAV from a broken export can hold NaN; one of them is enough
        # to turn a whole training run into NaN, so we refuse the file.
        first = (start + int(np.argmax(bad_frames))) / file_rate
        raise AudioError(
            path,
            f"contains {n_bad} NaN or Inf sample{'s' if n_bad != 1 else ''} "
            f"(first at {first:.4f} s)",
            "non_finite", {"count": n_bad, "first": first},
        )

    samples = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return resample(np.ascontiguousarray(samples), file_rate, sample_rate)


def resample(samples: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Change a waveform's sample rate with a windowed-sinc filter.

    Parameters
    ----------
    samples : np.ndarray
        shape ``(n,)`` (or ``(..., n)``), any float dtype.
    orig_sr, new_sr : int
        Rates in Hz.

    Returns
    -------
    np.ndarray
        float32, shape ``(ceil(n * new_sr / orig_sr),)``; a float32 view of
        the input when the rates are equal.
    """
    orig_sr, new_sr = int(orig_sr), int(new_sr)
    if orig_sr <= 0 or new_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {new_sr}")
    samples = np.asarray(samples, dtype=np.float32)
    if orig_sr == new_sr:
        return samples
    # torchaudio reduces the ratio by the gcd itself; doing it here too keeps
    # the kernel small for ratios like 44100 -> 16000 (441:160).
    g = gcd(orig_sr, new_sr)
    down, up = orig_sr // g, new_sr // g
    n = samples.shape[-1]
    step = max(down, RESAMPLE_BLOCK // down * down)
    if n <= step:
        return _resample(samples, down, up)
    # Long recordings go in blocks: torchaudio's conv1d unfolds its whole input into a
    # copy some 40 times larger (two hours at 8 kHz took 4.5 GB and 25 s). Blocks start
    # at multiples of `down`, so each one's output lines up exactly with the whole
    # signal's, and read `margin` extra samples on both sides, so the filter sees the
    # same neighbours as it would in one go (the results agree to float rounding).
    width = ceil(_RESAMPLE_ZEROS * down / (_RESAMPLE_ROLLOFF * min(down, up))) + 1  # the filter's half-width
    margin = ceil((width + down) / down) * down
    out = np.empty(samples.shape[:-1] + (ceil(n * up / down),), dtype=np.float32)
    for s in range(0, n, step):
        e = min(n, s + step)
        a, b = max(0, s - margin), min(n, e + margin)
        y = _resample(samples[..., a:b], down, up)
        first = (s - a) // down * up
        count = ceil((e - s) * up / down) if e == n else (e - s) // down * up
        out[..., s // down * up:s // down * up + count] = y[..., first:first + count]
    return out


def _resample(samples: np.ndarray, down: int, up: int) -> np.ndarray:
    # Imported here: torch takes about a second to import, and validation workers
    # and the GUI's file loading only need it when a file must be resampled.
    import torch
    import torchaudio.functional

    out = torchaudio.functional.resample(torch.from_numpy(np.ascontiguousarray(samples)), down, up)
    return out.numpy().astype(np.float32, copy=False)


def signal_stats(samples: np.ndarray) -> SignalStats:
    """Summarise a waveform's level: RMS, peak, clipping, silence.

    Parameters
    ----------
    samples : np.ndarray
        shape ``(n,)``, floats in ``[-1, 1]``.

    Returns
    -------
    SignalStats
        An empty waveform counts as silent at -120 dBFS.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0:
        floor = 20.0 * np.log10(RMS_EPSILON)
        return SignalStats(rms_dbfs=floor, peak=0.0, clipped_fraction=0.0, is_silent=True)
    magnitude = np.abs(x)
    rms = float(np.sqrt(np.mean(x * x)))
    rms_dbfs = float(20.0 * np.log10(rms + RMS_EPSILON))
    return SignalStats(
        rms_dbfs=rms_dbfs,
        peak=float(magnitude.max()),
        clipped_fraction=float(np.mean(magnitude >= CLIP_LEVEL)),
        is_silent=rms_dbfs < SILENCE_DBFS,
    )


def save_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write a 16-bit PCM WAV atomically (never a half-written file).

    Parameters
    ----------
    path : str or Path
    samples : np.ndarray
        shape ``(n,)`` mono or ``(n, channels)``, floats in ``[-1, 1]``;
        values outside are clipped.
    sample_rate : int

    Raises
    ------
    AudioError
        The samples hold NaN or Inf (they have no 16-bit value).
    """
    path = Path(path)
    x = np.asarray(samples, dtype=np.float32)
    if not np.isfinite(x).all():
        raise AudioError(path, "refusing to write NaN or Inf samples", "non_finite")
    # libsndfile does not clip on float -> int conversion by default, so a
    # sample at 1.01 would wrap around to a loud negative click.
    x = np.clip(x, -1.0, 1.0)
    with atomic_path(path) as tmp:
        # The temporary file ends in .tmp, so the format cannot be guessed.
        sf.write(str(tmp), x, int(sample_rate), subtype="PCM_16", format="WAV")
