"""The bad-input corpus: every case is generated into a folder by the tests, never stored.

Each table entry says how to make one input and what Parcero must do with it:
refuse it with a message that names the file and the problem, or, for inputs
that are odd but valid (8-bit, 96 kHz, six channels, a name with a newline),
handle it correctly. The tests in this folder run every entry through each
operation that reads that kind of input. ``docs/reliability.md`` lists the same
table in words.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from engine.audio import resample
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech

VOICE_TEXT = OVERFIT_TEXTS[1]  # "señor Núñez": what the session's overfit model says for tone_speech of it


def voice(seed: int, sr: int = SR) -> np.ndarray:
    """Tone "speech" of VOICE_TEXT at ``sr``; each seed gives different bytes (no duplicate-audio hits)."""
    x = tone_speech(VOICE_TEXT, seed=seed)
    return x if sr == SR else resample(x, SR, sr)


@dataclass(frozen=True)
class AudioCase:
    """One audio input and what every operation must make of it.

    Attributes
    ----------
    name : str
        Test id, utterance id in manifests, and the row in docs/reliability.md.
    what : str
        The input, in words.
    make : callable
        ``make(folder, seed) -> Path``: writes the input (or not, for a missing file).
    error : str or None
        ``AudioError.kind`` that ``load_audio`` must raise; None when the file loads.
    problem : str
        Regex the message must match after the file's path (the problem in words).
    seconds : float or None
        Duration ``load_audio`` must return (16 kHz, mono) when the file loads.
    text : str or None
        Transcript ``parcero transcribe`` must print; None: any text, as long as it works.
    transcribe_error : str or None
        Regex of the error ``parcero transcribe`` must print for a file that loads but cannot
        be transcribed (too short).
    validate : str or None
        Problem kind ``parcero data validate`` must report for the item (None: none).
    excluded : bool
        Whether validation leaves the item out (else it only warns, or is clean).
    """

    name: str
    what: str
    make: Callable[[Path, int], Path]
    error: str | None = None
    problem: str = ""
    seconds: float | None = None
    text: str | None = None
    transcribe_error: str | None = None
    validate: str | None = None
    excluded: bool = False

    def __str__(self) -> str:  # pytest ids
        return self.name


def _wav(name: str, sr: int = SR, subtype: str = "PCM_16", channels: int = 1,
         edit: Callable[[np.ndarray], np.ndarray] | None = None) -> Callable[[Path, int], Path]:
    def make(folder: Path, seed: int) -> Path:
        x = voice(seed, sr)
        if edit is not None:
            x = edit(x)
        if channels > 1:
            # The voice in the first channel, quieter copies in the others: a mixdown that dropped
            # or mis-weighted channels would change the level, not the words.
            x = np.stack([x] + [0.5 * x] * (channels - 1), axis=1)
        path = folder / name
        sf.write(str(path), x, sr, subtype=subtype, format="WAV")
        return path

    return make


def _bytes(name: str, content: Callable[[np.random.Generator], bytes]) -> Callable[[Path, int], Path]:
    def make(folder: Path, seed: int) -> Path:
        path = folder / name
        path.write_bytes(content(np.random.default_rng(seed)))
        return path

    return make


def _edited_wav(name: str, edit: Callable[[bytearray], bytes]) -> Callable[[Path, int], Path]:
    """A good 16-bit WAV whose bytes are then damaged by ``edit``."""

    def make(folder: Path, seed: int) -> Path:
        path = folder / name
        sf.write(str(path), voice(seed), SR, subtype="PCM_16", format="WAV")
        path.write_bytes(edit(bytearray(path.read_bytes())))
        return path

    return make


def _header_claims_more(b: bytearray) -> bytes:
    # A recording cut off by a crash: the header still announces every sample, half of them are there.
    return bytes(b[: 44 + (len(b) - 44) // 2])


def _sizes_unset(b: bytearray) -> bytes:
    # What a streaming writer leaves when killed before it fixes the header: RIFF and data sizes of ~4 GB.
    struct.pack_into("<I", b, 4, 0xFFFFFFF0)
    struct.pack_into("<I", b, b.find(b"data") + 4, 0xFFFFFFF0)
    return bytes(b)


def _nan_at_half(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[len(x) // 2] = np.nan
    return x


def _inf_at_start(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[10] = np.inf
    return x


def _missing(folder: Path, seed: int) -> Path:
    return folder / "no-existe.wav"


VOICE_SECONDS = len(tone_speech(VOICE_TEXT)) / SR
UNREADABLE = r"cannot decode this \.\w+ file"

AUDIO_CASES = [
    AudioCase("zero-bytes", "a zero-byte .wav", _bytes("vacío.wav", lambda rng: b""),
              error="empty_file", problem=r"file is empty \(0 bytes\)", validate="empty_audio", excluded=True),
    AudioCase("truncated-header", "a WAV cut inside its header (30 bytes)",
              _edited_wav("cabecera-cortada.wav", lambda b: bytes(b[:30])),
              error="unreadable", problem=UNREADABLE, validate="unreadable_audio", excluded=True),
    AudioCase("header-claims-more", "a WAV whose header announces twice the samples it holds",
              _edited_wav("cortado.wav", _header_claims_more), seconds=VOICE_SECONDS / 2),
    AudioCase("header-sizes-unset", "a WAV whose RIFF and data sizes say ~4 GB (writer killed)",
              _edited_wav("sin-tamaño.wav", _sizes_unset), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("no-samples", "a valid WAV header with no samples", _wav("sin-muestras.wav", edit=lambda x: x[:0]),
              error="no_samples", problem="contains no audio samples", validate="empty_audio", excluded=True),
    AudioCase("random-wav", "4 kB of random bytes named .wav", _bytes("ruido.wav", lambda rng: rng.bytes(4096)),
              error="unreadable", problem=UNREADABLE, validate="unreadable_audio", excluded=True),
    AudioCase("random-mp3", "4 kB of random bytes named .mp3", _bytes("ruido.mp3", lambda rng: rng.bytes(4096)),
              error="unreadable", problem=UNREADABLE + ".*not recogni[sz]ed", validate="unreadable_audio",
              excluded=True),
    AudioCase("text-flac", "a text file named .flac", _bytes("notas.flac", lambda rng: "¿Qué tal?\n".encode() * 80),
              error="unreadable", problem=UNREADABLE, validate="unreadable_audio", excluded=True),
    AudioCase("missing", "a manifest or command naming a file that is not there", _missing,
              error="missing", problem="file not found", validate="missing_audio", excluded=True),
    AudioCase("pcm-u8", "an 8-bit unsigned WAV", _wav("ocho-bits.wav", subtype="PCM_U8"),
              seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("float32", "a 32-bit float WAV", _wav("flotante.wav", subtype="FLOAT"),
              seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("rate-8k", "8 kHz", _wav("8k.wav", sr=8000), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("rate-44k", "44.1 kHz", _wav("44k.wav", sr=44100), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("rate-96k", "96 kHz, 24-bit", _wav("96k.wav", sr=96000, subtype="PCM_24"),
              seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("stereo", "stereo", _wav("estéreo.wav", channels=2), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("six-channels", "6 channels (5.1)", _wav("5.1.wav", channels=6), seconds=VOICE_SECONDS,
              text=VOICE_TEXT),
    AudioCase("all-zero", "all-zero samples", _wav("silencio.wav", edit=np.zeros_like), seconds=VOICE_SECONDS,
              validate="silent_audio", excluded=True),
    AudioCase("nan-sample", "a float WAV with one NaN sample", _wav("nan.wav", subtype="FLOAT", edit=_nan_at_half),
              error="non_finite", problem=r"contains 1 NaN or Inf sample \(first at", validate="nan_audio",
              excluded=True),
    AudioCase("inf-sample", "a float WAV with one +Inf sample", _wav("inf.wav", subtype="FLOAT", edit=_inf_at_start),
              error="non_finite", problem="NaN or Inf", validate="nan_audio", excluded=True),
    AudioCase("shorter-than-a-frame", "6 ms of audio, less than one 25 ms frame",
              _wav("corto.wav", edit=lambda x: x[4000:4100]), seconds=100 / SR,
              transcribe_error=r"too short to transcribe \(6 ms", validate="extreme_duration", excluded=True),
    AudioCase("name-spaces-quotes", "a name with spaces, 'single' and \"double\" quotes",
              _wav("con espacios 'simples' \"dobles\".wav"), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("name-newline", "a name with a newline in it", _wav("salto\nde línea.wav"), seconds=VOICE_SECONDS,
              text=VOICE_TEXT),
    AudioCase("name-non-ascii", "a name in non-ASCII letters (ñ, ü, Á, Greek, CJK)",
              _wav("ñandú cigüeña ÁRBOL λόγος 声.wav"), seconds=VOICE_SECONDS, text=VOICE_TEXT),
    AudioCase("name-shell", "a name that would run a command if it went through a shell",
              _wav("$(touch hackeado); `touch hackeado2` | rm -rf x.wav"), seconds=VOICE_SECONDS, text=VOICE_TEXT),
]

# Files a shell would create if any file name above went through one; the tests check they never appear.
SHELL_MARKERS = ("hackeado", "hackeado2")


def make_audio_corpus(folder: Path) -> dict[str, Path]:
    """Write every audio case into ``folder``; returns {case name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    return {case.name: case.make(folder, seed) for seed, case in enumerate(AUDIO_CASES, start=10)}
