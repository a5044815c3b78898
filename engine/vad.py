"""Where the speech is: voice-activity detection, and long audio cut into pieces of speech.

Two detectors give a speech probability per 32 ms frame (512 samples at 16 kHz):

- ``"silero"``: Silero VAD (v6), a small neural network (1.2 MB, MIT). Its ONNX file
  ships inside the faster-whisper wheel, which Parcero's set-up installs; it runs on
  onnxruntime, one thread, about a second per ten minutes of audio.
- ``"energy"``: loudness against the file's own level, needing nothing. Fine on
  clean recordings; noise and music count as speech.

:func:`speech_spans` turns the probabilities into spans of speech (hysteresis:
speech starts above ``threshold``, ends below ``threshold - 0.15``; spans shorter than
250 ms are dropped; pauses shorter than ``min_silence`` do not split; each span is
padded by ``pad`` seconds, and a pause shorter than two pads is shared at its middle, as
faster-whisper does, so neighbouring spans touch but stay apart). Whisper's own
reading of a file (one window after another) skips the silence through
:func:`speech_pieces`: :func:`group_spans` joins consecutive spans into pieces of at
most 30 s of contiguous audio, never holding a pause longer than ``max_gap`` seconds,
so Whisper never sees a long silence and cannot make text up there. Batched decoding
(:mod:`engine.whisper.batched`) uses :func:`speech_groups`: the spans themselves,
each at most 30 s, joined end to end in order (:func:`pack_pieces`) into groups of at
most 30 s of speech, the pauses between them cut out.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ParceroError

SAMPLE_RATE = 16000
FRAME = 512  # samples per probability (32 ms)
CONTEXT = 64  # samples of the frame before, which the Silero network reads too
SILERO_FILE = "silero_vad_v6.onnx"
ENERGY_FLOOR_DB = -70.0  # dB below full scale: the quietest real speech in cv-es-sample peaks at -48 dB
BLOCK_FRAMES = 8192  # frames per onnxruntime call (4.4 minutes of audio), the recurrent state carried over


@dataclass(frozen=True)
class VadOptions:
    threshold: float = 0.5  # a frame above this probability starts speech
    min_speech: float = 0.25  # seconds; shorter bursts are dropped
    min_silence: float = 0.16  # seconds of pause that end a span (faster-whisper's batched mode: 160 ms)
    # seconds added before and after each span (faster-whisper's 0.4 s: with 0.2 s the hour-long file's WER
    # was 10.44 %, with 0.4 s and spans packed one by one 9.8 %; docs/benchmarks.md)
    pad: float = 0.4
    max_gap: float = 2.0  # seconds: a longer pause is never inside a piece given to the model


def silero_model_path() -> Path | None:
    """The Silero VAD ONNX file in the installed faster-whisper package, found without importing it."""
    spec = importlib.util.find_spec("faster_whisper")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "assets" / SILERO_FILE
        if path.is_file():
            return path
    return None


def silero_available() -> bool:
    return silero_model_path() is not None and importlib.util.find_spec("onnxruntime") is not None


def resolve_method(method: str, batched: bool) -> str:
    """The detector a transcription uses: ``"off"``, ``"silero"`` or ``"energy"``.

    ``"auto"`` is on when decoding in batches (Silero if installed, else energy),
    off otherwise. Asking for ``"silero"`` without it installed is an error naming what is missing.
    """
    if method == "auto":
        if not batched:
            return "off"
        return "silero" if silero_available() else "energy"
    if method == "silero" and not silero_available():
        missing = "onnxruntime" if silero_model_path() else "the faster-whisper package (it carries the model)"
        raise ParceroError(f"vad silero: {missing} is not installed; use vad energy, or install it "
                           "(pip install -c constraints.txt faster-whisper)")
    if method not in ("off", "silero", "energy"):
        raise ParceroError(f"vad: expected auto, off, silero or energy, got {method!r}")
    return method


@functools.lru_cache(maxsize=1)
def _silero_session():
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    return onnxruntime.InferenceSession(str(silero_model_path()), sess_options=opts,
                                        providers=["CPUExecutionProvider"])


def silero_probabilities(samples: np.ndarray) -> np.ndarray:
    """Speech probability of each 512-sample frame of ``samples`` (16 kHz mono), shape (ceil(n / 512),)."""
    n = len(samples)
    frames = -(-n // FRAME)
    if frames == 0:
        return np.zeros(0, dtype=np.float32)
    session = _silero_session()
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    out = np.empty(frames, dtype=np.float32)
    tail = np.zeros(CONTEXT, dtype=np.float32)
    for a in range(0, frames, BLOCK_FRAMES):  # block by block: an hour is never copied whole
        b = min(frames, a + BLOCK_FRAMES)
        block = np.zeros((b - a) * FRAME, dtype=np.float32)
        part = samples[a * FRAME: b * FRAME]
        block[: len(part)] = part
        rows = block.reshape(-1, FRAME)
        context = np.concatenate([tail[None], rows[:-1, -CONTEXT:]], axis=0)
        tail = rows[-1, -CONTEXT:].copy()
        probs, h, c = session.run(None, {"input": np.concatenate([context, rows], axis=1), "h": h, "c": c})
        out[a:b] = np.asarray(probs, dtype=np.float32).reshape(-1)[: b - a]
    return out


def energy_probabilities(samples: np.ndarray) -> np.ndarray:
    """A speech "probability" per 512-sample frame from its loudness: 0.5 at 35 dB below the file's loud level.

    The loud level is the 95th percentile of the frames' energies; the result rises
    from 0 to 1 over 20 dB around that point, so ``threshold`` works on it as on Silero's.
    A frame quieter than ``ENERGY_FLOOR_DB`` is never speech, however quiet the file.
    """
    frames = -(-len(samples) // FRAME)
    if frames == 0:
        return np.zeros(0, dtype=np.float32)
    level = np.empty(frames)
    for a in range(0, frames, BLOCK_FRAMES):  # float64 a block at a time, not a copy of the whole file
        block = samples[a * FRAME: (a + BLOCK_FRAMES) * FRAME].astype(np.float64)
        rows = np.zeros(-(-len(block) // FRAME) * FRAME)
        rows[: len(block)] = block
        level[a: a + len(rows) // FRAME] = 10 * np.log10(np.square(rows).reshape(-1, FRAME).mean(axis=1) + 1e-12)
    middle = max(float(np.percentile(level, 95)) - 35.0, ENERGY_FLOOR_DB + 10.0)
    return np.clip((level - middle) / 20.0 + 0.5, 0.0, 1.0).astype(np.float32)


def probabilities(samples: np.ndarray, method: str) -> np.ndarray:
    if method == "silero":
        return silero_probabilities(samples)
    if method == "energy":
        return energy_probabilities(samples)
    raise ValueError(f"no voice-activity detector called {method!r}")


def speech_spans(probs: np.ndarray, n_samples: int, options: VadOptions = VadOptions()) -> list[tuple[int, int]]:
    """Sample ranges [start, end) of speech from per-frame probabilities, sorted and not overlapping."""
    on, off = options.threshold, max(options.threshold - 0.15, 0.01)
    min_silence = options.min_silence * SAMPLE_RATE
    spans: list[list[int]] = []
    start = None
    quiet_from = None
    for i, p in enumerate(probs.tolist()):
        if start is None:
            if p >= on:
                start, quiet_from = i * FRAME, None
            continue
        if p >= off:
            quiet_from = None
        elif quiet_from is None:
            quiet_from = i * FRAME
        elif i * FRAME - quiet_from >= min_silence:
            spans.append([start, quiet_from])
            start, quiet_from = None, None
    if start is not None:
        spans.append([start, quiet_from if quiet_from is not None else n_samples])
    pad = int(options.pad * SAMPLE_RATE)
    kept = [(a, b) for a, b in spans if b - a >= options.min_speech * SAMPLE_RATE]
    padded: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(kept):
        # A pause shorter than two pads is shared at its middle: the neighbours touch, each keeps its half.
        start = max(0, a - pad) if i == 0 else max(a - pad, (kept[i - 1][1] + a) // 2)
        end = min(n_samples, b + pad) if i == len(kept) - 1 else min(b + pad, (b + kept[i + 1][0]) // 2)
        padded.append((start, end))
    return padded


def cut_long_spans(spans: list[tuple[int, int]], probs: np.ndarray,
                   max_seconds: float = 30.0) -> list[tuple[int, int]]:
    """``spans`` with every span longer than ``max_seconds`` cut, at its least speech-like frame in the
    second half of each ``max_seconds``; the parts touch, nothing is lost."""
    limit = int(max_seconds * SAMPLE_RATE)
    cut: list[tuple[int, int]] = []
    for a, b in spans:
        while b - a > limit:
            lo, hi = (a + limit // 2) // FRAME, (a + limit) // FRAME
            window = probs[lo:hi]
            at = (lo + int(np.argmin(window))) * FRAME if len(window) else a + limit
            at = min(max(at, a + FRAME), a + limit)
            cut.append((a, at))
            a = at
        cut.append((a, b))
    return cut


def group_spans(spans: list[tuple[int, int]], probs: np.ndarray, max_seconds: float = 30.0,
                max_gap: float = VadOptions.max_gap) -> list[tuple[int, int]]:
    """Pack speech spans into pieces of contiguous audio of at most ``max_seconds``.

    Consecutive spans join while the piece stays within ``max_seconds`` and the pause
    between them is at most ``max_gap`` seconds. A span longer than ``max_seconds`` is
    cut at its least speech-like frame in the second half of each ``max_seconds``.
    """
    limit = int(max_seconds * SAMPLE_RATE)
    gap = int(max_gap * SAMPLE_RATE)
    pieces: list[tuple[int, int]] = []
    for a, b in cut_long_spans(spans, probs, max_seconds):
        if pieces and b - pieces[-1][0] <= limit and a - pieces[-1][1] <= gap:
            pieces[-1] = (pieces[-1][0], b)
        else:
            pieces.append((a, b))
    return pieces


def speech_pieces(samples: np.ndarray, method: str, options: VadOptions = VadOptions(),
                  max_seconds: float = 30.0) -> list[tuple[int, int]]:
    """Pieces of ``samples`` (16 kHz) holding speech, each at most ``max_seconds`` of contiguous audio."""
    probs = probabilities(samples, method)
    return group_spans(speech_spans(probs, len(samples), options), probs, max_seconds, options.max_gap)


def speech_groups(samples: np.ndarray, method: str, options: VadOptions = VadOptions(),
                  max_seconds: float = 30.0) -> list[list[tuple[int, int]]]:
    """The speech of ``samples`` as groups of spans, each group at most ``max_seconds`` of speech.

    The spans (each at most ``max_seconds``) are packed one by one, in order, as faster-whisper's
    batched mode packs them: a window ends between two sentences, and is filled. Packing the
    contiguous pieces of :func:`speech_pieces` instead left windows part-empty (a 20 s piece
    does not fit after 15 s) and cost the hour-long file 0.5 WER points (docs/benchmarks.md).
    """
    probs = probabilities(samples, method)
    spans = cut_long_spans(speech_spans(probs, len(samples), options), probs, max_seconds)
    return pack_pieces(spans, max_seconds)


def pack_pieces(pieces: list[tuple[int, int]], max_seconds: float = 30.0) -> list[list[tuple[int, int]]]:
    """Consecutive pieces packed, in order, into groups of at most ``max_seconds`` of audio in all.

    A group is heard as its pieces joined end to end, the long pauses between them cut
    out (as faster-whisper's batched mode does): a recording of short sentences far apart
    (Common Voice clips joined, a slow dialogue) then fills each 30 s window instead of
    costing one window a sentence.
    """
    limit = int(max_seconds * SAMPLE_RATE)
    groups: list[list[tuple[int, int]]] = []
    total = 0
    for a, b in pieces:
        if groups and total + (b - a) <= limit:
            groups[-1].append((a, b))
            total += b - a
        else:
            groups.append([(a, b)])
            total = b - a
    return groups
