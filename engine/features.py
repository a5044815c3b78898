"""Log-mel filterbank features and SpecAugment.

The model never sees raw audio: :class:`LogMel` turns a 16 kHz waveform into
80 log-mel energies every 10 ms, time first, normalised per utterance. The
same module runs in training (batched, on the GPU) and in transcription
(one clip, via :func:`compute_features`), so the two cannot drift apart.

With ``FeatureConfig.vtln == "utterance"`` each clip's mel filters are warped
(:mod:`engine.homologate`) so its voice lands on the model's reference voice; the
factor is estimated from the clip's own waveform, in :func:`compute_features` as in
:class:`LogMel`, so training, evaluation and transcription warp alike. With
``vtln == "speaker"`` the factor is the speaker's, known from outside (training and
evaluation take it from the manifest's speakers, :mod:`engine.data.speaker_warp`,
and hand it to :func:`compute_features` as ``vtln_factor``); without one, a clip is
its own speaker and gets the factor of "utterance". Training can add a random warp
on top (VTLP, ``SpecAugmentConfig.vtlp``) through ``warp``.

Silence must never produce NaN. A silent clip has a constant log-mel of
``log(log_eps)`` in every bin, hence zero variance; the normalisation divides
by ``sqrt(var + norm_eps)`` and the result is all zeros, not 0/0.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torchaudio

from engine import homologate
from engine.feature_config import FeatureConfig, SpecAugmentConfig

def num_frames(n_samples: int | torch.Tensor, config: FeatureConfig) -> int | torch.Tensor:
    """Number of feature frames for ``n_samples`` of audio.

    With ``center=True`` the STFT pads ``n_fft // 2`` on both sides and puts a
    frame at every multiple of ``hop_length``, including 0, so the count is
    ``n_samples // hop_length + 1`` (101 frames for one second at 16 kHz).
    Works elementwise on an integer tensor of lengths.
    """
    return n_samples // config.hop_length + 1


class LogMel(torch.nn.Module):
    """Waveform -> normalised log-mel features, time first.

    Uses the HTK mel scale without filter-area normalisation: the same
    ``1127 ln(1 + f/700)`` scale as Kaldi fbank and torchaudio's default, so
    features resemble the ones most ASR recipes are tuned for. (Slaney's scale
    differs mainly below 1 kHz; with per-utterance normalisation either works,
    but the choice is fixed here so checkpoints stay compatible.)

    Frames at the edges are padded with zeros rather than reflected, so a clip
    in a zero-padded batch gets exactly the features it gets alone, and clips
    shorter than ``n_fft // 2`` samples (where reflection fails) still work.
    """

    def __init__(self, config: FeatureConfig = FeatureConfig()):
        super().__init__()
        self.config = config
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=config.sample_rate,
            n_fft=config.n_fft,
            win_length=config.win_length,
            hop_length=config.hop_length,
            f_min=config.f_min,
            f_max=config.f_max,
            n_mels=config.n_mels,
            power=2.0,
            center=True,
            pad_mode="constant",
            norm=None,
            mel_scale="htk",
        )

    def forward(
        self,
        waveform: torch.Tensor,
        lengths: torch.Tensor | None = None,
        warps: float | torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Compute features.

        Parameters
        ----------
        waveform : torch.Tensor
            shape ``(n,)`` or ``(B, n)``; a batch is zero-padded to ``n``.
        lengths : torch.Tensor, optional
            shape ``(B,)``, valid samples per clip. Normalisation statistics
            are then taken over each clip's own frames only, and padded
            frames are set to 0.
        warps : float or torch.Tensor, optional
            Frequency warp factor per clip, shape ``()`` or ``(B,)`` (see
            :func:`engine.homologate.warped_mel_filterbank`), VTLN included. None:
            the VTLN factors the config asks for (none when ``vtln == "none"``;
            each clip's own estimate with "utterance" or "speaker").

        Returns
        -------
        torch.Tensor
            shape ``(T, n_mels)`` or ``(B, T, n_mels)``, ``T = num_frames(n)``.
        torch.Tensor
            Only when ``lengths`` is given: frame counts, shape ``(B,)``, int64.
        """
        if waveform.dim() not in (1, 2):
            raise ValueError(f"waveform must be (n,) or (B, n), got shape {tuple(waveform.shape)}")
        if warps is None and self.config.vtln != "none":
            warps = vtln_warps(waveform, self.config, lengths)
        if warps is not None and bool((torch.as_tensor(warps) == 1.0).all()):
            warps = None  # torchaudio's own filterbank: unwarped features stay bit for bit
        # stft needs the window's dtype; callers often hand us float64 numpy.
        if warps is None:
            x = self.mel(waveform.to(torch.float32))  # (..., n_mels, T)
        else:
            x = self._warped_mel(waveform.to(torch.float32), warps)
        x = torch.log(x + self.config.log_eps).transpose(-1, -2)  # (..., T, n_mels)

        frame_lengths = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device)
            if waveform.dim() != 2 or lengths.shape != (waveform.shape[0],):
                raise ValueError("lengths needs a (B, n) waveform and shape (B,)")
            frame_lengths = torch.clamp(num_frames(lengths.long(), self.config), max=x.shape[-2])

        if self.config.normalize == "utterance":
            x = self._normalize(x, frame_lengths)
        elif frame_lengths is not None:
            x = x.masked_fill(~_valid_frames(frame_lengths, x.shape[-2])[..., None], 0.0)
        return x if frame_lengths is None else (x, frame_lengths)

    def _warped_mel(self, waveform: torch.Tensor, warps: float | torch.Tensor) -> torch.Tensor:
        """Mel energies through each clip's own warped filterbank, shape ``(..., n_mels, T)``."""
        c = self.config
        factors = torch.as_tensor(warps, dtype=torch.float64).reshape(-1).tolist()
        if len(factors) != (1 if waveform.dim() == 1 else waveform.shape[0]):
            raise ValueError(f"warps needs one factor per clip, got {len(factors)} for shape {tuple(waveform.shape)}")
        power = self.mel.spectrogram(waveform)  # (..., n_freqs, T)
        n_freqs = power.shape[-2]
        fb = np.stack([homologate.warped_mel_filterbank(n_freqs, c.sample_rate, c.n_mels, c.f_min, c.f_max, a)
                       for a in factors])  # (B, n_freqs, n_mels)
        fb = torch.from_numpy(fb).to(power.device)
        if waveform.dim() == 1:
            fb = fb[0]
        return torch.matmul(power.transpose(-1, -2), fb).transpose(-1, -2)

    def _normalize(self, x: torch.Tensor, frame_lengths: torch.Tensor | None) -> torch.Tensor:
        eps = self.config.norm_eps
        if frame_lengths is None:
            mean = x.mean(dim=-2, keepdim=True)  # (..., 1, n_mels)
            var = x.var(dim=-2, unbiased=False, keepdim=True)
            return (x - mean) / torch.sqrt(var + eps)
        valid = _valid_frames(frame_lengths, x.shape[-2])[..., None].to(x.dtype)  # (B, T, 1)
        count = valid.sum(dim=1, keepdim=True).clamp(min=1.0)  # (B, 1, 1)
        mean = (x * valid).sum(dim=1, keepdim=True) / count  # (B, 1, n_mels)
        var = (((x - mean) * valid) ** 2).sum(dim=1, keepdim=True) / count
        return (x - mean) / torch.sqrt(var + eps) * valid


def _valid_frames(frame_lengths: torch.Tensor, t: int) -> torch.Tensor:
    """Boolean mask, shape ``(B, T)``: True where a frame is inside its clip."""
    return torch.arange(t, device=frame_lengths.device)[None, :] < frame_lengths[:, None]


def vtln_warp(samples: np.ndarray, config: FeatureConfig) -> float:
    """The speaker-normalisation factor ``config`` gives one clip: 1.0 when ``config.vtln == "none"``.

    Estimated from the clip alone; with ``vtln == "speaker"`` that is the factor of a clip
    whose speaker is not known (a recording being transcribed is its own speaker).

    Parameters
    ----------
    samples : np.ndarray
        shape ``(n,)``, mono at ``config.sample_rate``.
    """
    if config.vtln == "none":
        return 1.0
    reference = config.vtln_reference_hz or homologate.DEFAULT_REFERENCE_HZ
    return homologate.estimate_warp(np.asarray(samples), config.sample_rate, reference)


def vtln_warps(waveform: torch.Tensor, config: FeatureConfig, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`vtln_warp` of each clip of ``waveform`` (``(n,)`` or zero-padded ``(B, n)``), shape ``()`` or ``(B,)``."""
    x = waveform.detach().float().cpu().numpy()
    if x.ndim == 1:
        return torch.tensor(vtln_warp(x, config), dtype=torch.float64)
    n = [x.shape[1]] * x.shape[0] if lengths is None else torch.as_tensor(lengths).tolist()
    return torch.tensor([vtln_warp(clip[:int(k)], config) for clip, k in zip(x, n)], dtype=torch.float64)


@lru_cache(maxsize=8)
def _log_mel_for(config: FeatureConfig) -> LogMel:
    # Building the filterbank costs more than featurising a short clip.
    return LogMel(config).eval()


def compute_features(
    samples: np.ndarray | torch.Tensor,
    config: FeatureConfig = FeatureConfig(),
    warp: float = 1.0,
    vtln_factor: float | None = None,
) -> torch.Tensor:
    """Features of one clip, on the CPU.

    Parameters
    ----------
    samples : np.ndarray or torch.Tensor
        shape ``(n,)``, mono at ``config.sample_rate``.
    config : FeatureConfig
        With ``vtln == "utterance"`` the clip's voice is warped onto the reference;
        with "speaker", its speaker's voice is.
    warp : float
        A further frequency warp on top of VTLN (training's VTLP); 1 = none.
    vtln_factor : float, optional
        The VTLN factor already known for this clip: its speaker's with ``vtln == "speaker"``
        (:func:`engine.data.speaker_warp.speaker_warps`), or, with "utterance", its own
        :func:`vtln_warp` kept from an earlier epoch. Ignored with ``vtln == "none"``.
        None: estimated from the clip itself.

    Returns
    -------
    torch.Tensor
        float32, shape ``(num_frames(n), n_mels)``.
    """
    waveform = torch.as_tensor(np.asarray(samples) if not torch.is_tensor(samples) else samples)
    if waveform.dim() != 1:
        raise ValueError(
            f"compute_features expects one clip of shape (n,), got {tuple(waveform.shape)}"
        )
    waveform = waveform.detach().cpu()
    if config.vtln != "none" and vtln_factor is not None:
        if not vtln_factor > 0:
            raise ValueError(f"vtln_factor must be positive, got {vtln_factor}")
        alpha = warp * float(vtln_factor)
    else:
        alpha = warp * vtln_warp(waveform.numpy(), config)  # vtln_warp is 1.0 with VTLN off
    with torch.no_grad():
        # No warp asked for: the very path (and numbers) of features before warping existed.
        return _log_mel_for(config)(waveform, warps=None if alpha == 1.0 and config.vtln == "none" else alpha)


def _band_masks(
    n_masks: int,
    max_width: torch.Tensor,
    extent: torch.Tensor,
    size: int,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Random bands along one axis, shape ``(B, size)``, True inside a band.

    Row ``b`` gets bands of width uniform in ``[0, max_width[b]]``, each
    starting uniformly where it fits inside ``[0, extent[b])``;
    ``max_width <= extent`` is the caller's job.
    """
    b = max_width.shape[0]
    u_width = torch.rand(b, n_masks, generator=generator)
    u_start = torch.rand(b, n_masks, generator=generator)
    width = torch.floor(u_width * (max_width[:, None] + 1)).long()  # (B, n_masks)
    start = torch.floor(u_start * (extent[:, None] - width + 1)).long()
    pos = torch.arange(size)[None, None, :]  # (1, 1, size)
    inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])
    return inside.any(dim=1)


def spec_augment(
    feats: torch.Tensor,
    config: SpecAugmentConfig = SpecAugmentConfig(),
    generator: torch.Generator | None = None,
    *,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return a copy of ``feats`` with random frequency and time bands set to 0.

    0 is the mean of utterance-normalised features, so masking removes
    information without adding an outlier.

    Parameters
    ----------
    feats : torch.Tensor
        shape ``(T, F)`` or ``(B, T, F)``; not modified.
    config : SpecAugmentConfig
    generator : torch.Generator, optional
        A CPU generator; the same seed gives the same masks.
    lengths : torch.Tensor, optional
        shape ``(B,)``, valid frames per clip in a padded batch; time masks
        then stay inside each clip and scale with its own length.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``feats``.
    """
    single = feats.dim() == 2
    x = feats.unsqueeze(0) if single else feats
    if x.dim() != 3:
        raise ValueError(f"feats must be (T, F) or (B, T, F), got shape {tuple(feats.shape)}")
    b, t, f = x.shape
    if lengths is None:
        frames = torch.full((b,), t, dtype=torch.long)
    else:
        frames = torch.as_tensor(lengths).detach().cpu().long().clamp(max=t).reshape(b)

    mask = torch.zeros(b, t, f, dtype=torch.bool)
    if config.n_freq_masks and config.freq_mask_width:
        max_f = torch.full((b,), min(config.freq_mask_width, f), dtype=torch.long)
        all_bins = torch.full((b,), f, dtype=torch.long)
        mask |= _band_masks(config.n_freq_masks, max_f, all_bins, f, generator)[:, None, :]
    if config.n_time_masks and config.time_mask_width:
        # Clips too short for a full mask get a proportionally narrower one,
        # down to width 0 (no mask) for a handful of frames.
        cap = torch.floor(frames.double() * config.time_mask_max_ratio).long()
        max_t = torch.clamp(cap, max=config.time_mask_width)
        mask |= _band_masks(config.n_time_masks, max_t, frames, t, generator)[:, :, None]

    out = x.masked_fill(mask.to(x.device), 0.0)
    return out.squeeze(0) if single else out
