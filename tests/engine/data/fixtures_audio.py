"""Builders for the data tests: tiny audio files with planted faults, and manifests.

A plain module (not a conftest) so that each test file imports what it uses.
Every file is a few kilobytes; the whole zoo is written in milliseconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.audio import save_wav
from engine.data.manifest import Utterance

SR = 16000


def tone(seconds: float, freq: float = 220.0, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    """A sine, float32 (n,)."""
    t = np.arange(int(round(seconds * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def square(seconds: float, freq: float = 100.0, sr: int = SR) -> np.ndarray:
    """A full-scale square wave: every sample clipped."""
    return np.sign(tone(seconds, freq, 1.0, sr) + 1e-9).astype(np.float32)


def wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    save_wav(path, samples, sr)
    return path


def flac(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), samples, sr, format="FLAC")
    return path


def float_wav_with_nan(path: Path, seconds: float = 0.5, sr: int = SR) -> Path:
    """32-bit float WAV (16-bit PCM cannot hold NaN) with one NaN in the middle."""
    x = tone(seconds, sr=sr)
    x[len(x) // 2] = np.nan
    sf.write(str(path), x, sr, subtype="FLOAT")
    return path


def corrupt(path: Path, n_bytes: int = 2048) -> Path:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, n_bytes, dtype=np.uint8).tobytes())
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def record(id: str, audio: str, text: str = "hola", **fields) -> dict:
    """One manifest line as a dict; ``fields`` adds speaker, gender, offset..."""
    return {"id": id, "audio": audio, "text": text, **fields}


def write_jsonl(path: Path, lines: list[dict | str]) -> Path:
    """Write a manifest; a str is written as is (to plant a broken line)."""
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")
    return path


def speaker_corpus(n_speakers: int = 40, seed: int = 0, audio_dir: str = "clips") -> list[Utterance]:
    """Utterances of ``n_speakers`` speakers with uneven amounts of speech (no audio files).

    Speaker ``k`` has 3 to 12 utterances of 1 to 9 seconds; gender alternates.
    """
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n_speakers):
        speaker = f"spk{k:02d}"
        for j in range(int(rng.integers(3, 13))):
            items.append(Utterance(
                id=f"{speaker}-{j:02d}", audio=f"{audio_dir}/{speaker}-{j:02d}.wav",
                duration=float(np.round(rng.uniform(1.0, 9.0), 3)), text="hola",
                speaker=speaker, gender="female" if k % 2 else "male",
            ))
    return items
