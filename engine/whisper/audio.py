"""Whisper's log-mel front end, in torch.

Whisper was trained on one fixed recipe, so a model only hears well what was
computed exactly this way: 16 kHz audio, 25 ms Hann windows (n_fft 400) every
10 ms (hop 160), power spectrum, a Slaney-style mel filterbank (80 bins, 128 for
large-v3), log10, a floor 8 decades under the loudest value of the whole input
(so quiet recordings keep their dynamics), and ``(x + 4) / 4`` to bring values
near [-1, 1]. A model window is 30 s = 3000 frames; shorter input is padded.

Our features are laid out (T, n_mels), time first, like every other feature in
Parcero (:func:`engine.features.compute_features`); OpenAI's are (n_mels, T).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio.functional as AF
from torch import Tensor

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_LENGTH = 30  # seconds in one model window
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE  # 480000
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames in a window
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 mel frames a second
ENCODER_STRIDE = 2  # the encoder's second convolution halves the frame rate
TOKENS_PER_SECOND = FRAMES_PER_SECOND // ENCODER_STRIDE  # 50 encoder frames (20 ms each) a second
TIME_PRECISION = 1 / TOKENS_PER_SECOND  # seconds between timestamp tokens: 0.02

# Frames per STFT block. The whole input's log-mel is needed before the dynamic-range
# floor can be applied, but its complex spectrum is not: an hour of audio would take
# 580 MB as one complex STFT, so it is computed a block at a time.
_BLOCK_FRAMES = 30000


@lru_cache(maxsize=8)
def mel_filters(n_mels: int, device: str = "cpu") -> Tensor:
    """The Slaney-style mel filterbank Whisper uses (librosa's default), shape (n_freqs=201, n_mels)."""
    if n_mels not in (80, 128):
        raise ValueError(f"Whisper models use 80 or 128 mel bins, not {n_mels}")
    fb = AF.melscale_fbanks(
        N_FFT // 2 + 1, 0.0, SAMPLE_RATE / 2, n_mels, SAMPLE_RATE, norm="slaney", mel_scale="slaney"
    )
    return fb.to(device)


@lru_cache(maxsize=4)
def _hann(device: str) -> Tensor:
    return torch.hann_window(N_FFT, periodic=True, device=device)


def log_mel(
    samples: np.ndarray | Tensor, n_mels: int = 80, padding: int = 0, device: str | torch.device | None = None
) -> Tensor:
    """Whisper's log-mel spectrogram of 16 kHz mono audio.

    Parameters
    ----------
    samples : (n,) float waveform at 16 kHz, in [-1, 1].
    n_mels : 80, or 128 for large-v3.
    padding : zero samples appended before the STFT. Whisper's long-form
        transcription appends a whole window (``N_SAMPLES``) so the last frames see
        silence after the audio rather than a reflection of it.
    device : where to compute; defaults to the tensor's device (CPU for numpy input).

    Returns
    -------
    (T, n_mels) float32 with T = (n + padding) // 160: the STFT's last frame is
    dropped, as Whisper does.
    """
    x = torch.as_tensor(samples, dtype=torch.float32)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (n,), got {tuple(x.shape)}")
    if device is not None:
        x = x.to(device)
    dev = str(x.device)
    if padding > 0:
        x = F.pad(x, (0, padding))
    n_frames = x.shape[0] // HOP_LENGTH  # 1 + n // hop centred frames, less the last
    if n_frames == 0:
        return torch.zeros(0, n_mels, device=x.device)
    # torch.stft(center=True) pads n_fft // 2 by reflection on both sides; doing it once
    # here lets each block below be cut from the padded signal and framed with
    # center=False, giving the same frames as one STFT over everything.
    half = N_FFT // 2
    if x.shape[0] <= half:  # reflection needs more samples than the pad; only for tiny inputs
        x = F.pad(x, (0, half + 1 - x.shape[0]))
    xp = F.pad(x[None, None], (half, half), mode="reflect")[0, 0]
    fb = mel_filters(n_mels, dev)
    window = _hann(dev)
    blocks = []
    for f0 in range(0, n_frames, _BLOCK_FRAMES):
        f1 = min(n_frames, f0 + _BLOCK_FRAMES)
        seg = xp[f0 * HOP_LENGTH: (f1 - 1) * HOP_LENGTH + N_FFT]
        spec = torch.stft(seg, N_FFT, HOP_LENGTH, window=window, center=False, return_complex=True)
        power = spec.abs() ** 2  # (n_freqs, f1 - f0)
        mel = power.T @ fb  # (f1 - f0, n_mels)
        blocks.append(torch.clamp(mel, min=1e-10).log10())
    log_spec = torch.cat(blocks)
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def pad_or_trim(x: Tensor | np.ndarray, length: int = N_FRAMES, axis: int = 0):
    """Cut or zero-pad ``x`` along ``axis`` to ``length`` (frames of a log-mel, or samples).

    Works on tensors and numpy arrays and returns the same kind. Padding a log-mel
    with 0 is what Whisper does too: 0 there is a quiet but not silent level
    (log10 power -4), the value the model saw after every short training clip.
    """
    n = x.shape[axis]
    if n == length:
        return x
    if n > length:
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, length)
        return x[tuple(index)]
    if isinstance(x, Tensor):
        pad = [0, 0] * x.ndim
        pad[2 * (x.ndim - 1 - axis) + 1] = length - n  # F.pad lists dimensions last first
        return F.pad(x, pad)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, length - n)
    return np.pad(x, widths)
