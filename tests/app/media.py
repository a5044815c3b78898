"""Audio and folders shared by the widget tests: synthetic speech, the real Spanish clips, screenshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 16_000
# Screenshots for a person to look at after a test run (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Real Spanish speech beside the checkout (../shared); absent in a user's fresh clone.
CAJAL_WAVS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cajal-es" / "wavs"


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Syllable-like bursts of a harmonic tone with noise, silence between words; float32 at ``SR``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(pitch) / SR) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    return (0.25 * voice * syllables + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def real_speech_clip() -> tuple[np.ndarray, str | None]:
    """The first cajal-es clip at 16 kHz and its transcript, or synthetic speech and None without ../shared."""
    wavs = sorted(CAJAL_WAVS.glob("*.wav")) if CAJAL_WAVS.is_dir() else []
    if not wavs:
        return speech_like(7.0), None
    from engine.audio import load_audio

    metadata = (CAJAL_WAVS.parent / "metadata.csv").read_text("utf-8").splitlines()
    text = dict(line.split("|", 1) for line in metadata if "|" in line).get(wavs[0].stem)
    return load_audio(wavs[0]), text
