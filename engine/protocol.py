"""Messages between the GUI (or any client) and the engine worker process.

Commands go to the worker, events come back; all are small frozen dataclasses
that pickle across a ``multiprocessing`` pipe. Arrays travel as numpy
(attention as float16). Nothing is ever parsed from stdout/stderr.

Every command carries a ``job_id`` chosen by the client; every event about a
job carries the same id. A job ends with exactly one terminal event:
:class:`Finished`, :class:`Failed` or :class:`Cancelled`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.configio import check_fields
from engine.errors import ConfigError, ParceroError
from engine.live.options import LiveOptions
from engine.transcript import DecodeOptions

# ---- commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    job_id: int


@dataclass(frozen=True)
class GetInfo(Command):
    """Answered with :class:`EngineInfo` then :class:`Finished`; never waits behind a heavy job."""


@dataclass(frozen=True)
class LoadModel(Command):
    path: str
    device: str = "auto"  # "auto", "cpu", "cuda"
    quantize: str = "none"  # "int8" or "fp16": smaller linear-layer weights, CPU only (engine.quantize)


@dataclass(frozen=True)
class Transcribe(Command):
    """Transcribe a file (``path``) or samples (``samples`` at ``sample_rate``) with the loaded model.

    ``offset``/``duration`` (seconds) select part of the audio. Long audio is cut at
    silences into chunks of at most ``max_chunk_seconds``; each chunk streams its own
    partial transcripts and attention, then a :class:`ChunkResult`.
    """

    path: str | None = None
    samples: np.ndarray | None = field(default=None, repr=False)  # float32 (n,)
    sample_rate: int = 16000
    offset: float = 0.0
    duration: float | None = None
    options: DecodeOptions = DecodeOptions()
    attention: tuple[str, ...] = ("decoder_cross",)  # kinds to stream: "decoder_cross", "encoder_self"
    heads: str = "average"  # "average": a frame per layer of the heads' mean; "all": a frame per layer of every head
    max_chunk_seconds: float = 20.0
    # Heads of "encoder_self" when they differ from ``heads`` (None: the same). Every head of a
    # 30 s Whisper window is 48 matrices of 1500 x 1500, 216 MB: a window wants the averages.
    encoder_heads: str | None = None


@dataclass(frozen=True)
class Live(Command):
    """Transcribe audio while it arrives (:class:`LiveAudio`), until :class:`StopLive` or :class:`Cancel`.

    Sends :class:`LiveText` after every pass and, like Transcribe, the cross-attention of
    the pass's hypothesis; ends with Finished (the whole transcript) on StopLive, having
    decoded every sample sent, or Cancelled (the text committed so far) on Cancel.
    """

    sample_rate: int = 16000  # of the LiveAudio samples: the model's own (resample before sending)
    options: DecodeOptions = DecodeOptions()
    live: LiveOptions = LiveOptions()
    attention: tuple[str, ...] = ("decoder_cross",)  # () for none; live sends no encoder self-attention
    heads: str = "average"


@dataclass(frozen=True)
class LiveAudio(Command):
    """More audio for the live job ``target``: mono float32 at its sample rate. Never queued behind a job."""

    target: int = 0
    samples: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)


@dataclass(frozen=True)
class StopLive(Command):
    """The recording ended: live job ``target`` decodes what it has, commits the rest and finishes."""

    target: int = 0


@dataclass(frozen=True)
class Evaluate(Command):
    manifest: str
    options: DecodeOptions = DecodeOptions()


@dataclass(frozen=True)
class Train(Command):
    """Train from a run config file, or from a config dict (the TOML's tables) with ``base_dir``."""

    config_path: str | None = None
    config: dict[str, Any] | None = None
    base_dir: str = "."
    resume: bool = False
    init: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class Cancel(Command):
    """Cancel job ``target``: decoding stops at the next token, training checkpoints first."""

    target: int = 0


@dataclass(frozen=True)
class Shutdown(Command):
    job_id: int = 0


# ---- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    job_id: int


@dataclass(frozen=True)
class Ready(Event):
    """The worker is up and reading commands."""

    pid: int = 0


@dataclass(frozen=True)
class EngineInfo(Event):
    device: str  # in English, e.g. "CUDA: NVIDIA H100 80GB HBM3, 80 GB" or "CPU (8 threads)"
    cuda_available: bool
    gpu_name: str | None  # the GPU in use, else the first one; None without CUDA
    gpu_memory_gb: float | None
    versions: dict[str, str]  # parcero, torch, torchaudio, cuda, python
    model: str | None = None  # name of the loaded model, if any
    # The device as facts, for a window to word in its own language (engine.device.device_facts):
    device_kind: str = ""  # "cpu", "cuda" or "mps"
    threads: int = 0  # torch's CPU threads in the engine process
    device_memory_gb: float | None = None  # the GPU in use, whole GiB as vendors label cards


@dataclass(frozen=True)
class Started(Event):
    kind: str  # "transcribe", "train", ...


@dataclass(frozen=True)
class Progress(Event):
    done: float
    total: float
    unit: str  # "seconds" (of audio), "utterances", "steps", "chunks"


@dataclass(frozen=True)
class PartialTranscript(Event):
    chunk: int
    tokens: tuple[int, ...]  # token ids decoded so far in this chunk
    text: str  # their text
    chunk_start: float = 0.0  # seconds: where this chunk starts in the audio
    temperature: float = 0.0  # above 0: Whisper is decoding this chunk again by sampling (its first text failed)
    # One label per token, as the heatmap's rows show them: a character model's characters, Whisper's
    # BPE pieces (" sospe", "chando"; "" on a token that only starts a character), "<|0.00|>" for a
    # timestamp; ``special`` flags the tokens that are not text (timestamps, <unk>). Empty: not sent.
    token_texts: tuple[str, ...] = ()
    special: tuple[bool, ...] = ()


ALL_HEADS = -1  # AttentionFrame.head: the matrix holds every head of the layer (8 heads: 8 x fewer events)


@dataclass(frozen=True)
class AttentionFrame(Event):
    kind: str  # "decoder_cross" (one new row per step), "encoder_self" (whole matrix, once per chunk)
    layer: int
    head: int | None  # None = average of the heads; ALL_HEADS = every head, stacked first in ``matrix``
    step: int  # decoding step (row index) for decoder_cross; 0 for encoder_self
    # float16; decoder_cross: (T_enc,) row; encoder_self: (T_enc, T_enc); with ALL_HEADS (H, T_enc) and
    # (H, T_enc, T_enc): one frame per layer and step, not one per head. For Whisper, T_enc counts the
    # frames of the window that hold audio (a 3 s clip: 150), not the 1500 of its silent padding.
    matrix: np.ndarray = field(repr=False)
    chunk: int = 0
    chunk_start: float = 0.0
    frame_seconds: float = 0.04  # seconds per encoder frame, to align with the audio


@dataclass(frozen=True)
class ChunkResult(Event):
    chunk: int
    start: float  # seconds in the whole audio
    end: float
    text: str
    words: tuple[tuple[str, float, float], ...]  # (word, start, end) in seconds of the whole audio


@dataclass(frozen=True)
class LiveText(Event):
    """A live pass's outcome: words made final now, the tentative tail after them, and how it keeps up."""

    committed: tuple[tuple[str, float, float], ...]  # (word, start, end), seconds of the recording; final
    tentative: tuple[tuple[str, float, float], ...]  # replaces the previous tail; may still change
    audio_end: float  # seconds of recording this pass heard
    backlog: float = 0.0  # seconds received but not yet decoded when the pass ended
    behind: bool = False  # passes are too slow for the voice: fewer updates on a shorter buffer
    pass_seconds: float = 0.0  # how long this pass took
    final: bool = False  # the last one: everything is committed
    forced: bool = False  # the buffer was full: words committed without the policy's consent


@dataclass(frozen=True)
class TrainMetrics(Event):
    # one metrics.jsonl record (kind "train", "eval", "checkpoint", "note", ...), or a "live" point between
    # log steps (step, loss, lr, throughput a few times a second; never written to metrics.jsonl)
    record: dict[str, Any]


@dataclass(frozen=True)
class EvalResult(Event):
    wer: float
    cer: float
    report: dict[str, Any]  # engine.evaluate.EvalReport.to_dict()


@dataclass(frozen=True)
class Finished(Event):
    result: Any = None  # plain data: dicts, lists, strings, numbers


@dataclass(frozen=True)
class Failed(Event):
    message: str  # one line for the user in English, naming the file/field (what the CLI prints)
    detail: str = ""  # traceback or exit status, for the log
    code: str = ""  # what went wrong, stable ("audio.unreadable", "model.missing"): see engine.errors
    params: dict[str, Any] = field(default_factory=dict)  # plain values the code's sentence names (path, numbers)

    @classmethod
    def from_error(cls, job_id: int, error: BaseException, message: str | None = None, detail: str = "") -> Failed:
        """The Failed for ``error``: its message (or ``message``), and its code and params if it has them."""
        return cls(job_id, str(error) if message is None else message, detail, getattr(error, "code", "") or "",
                   dict(getattr(error, "params", None) or {}))


@dataclass(frozen=True)
class Cancelled(Event):
    # What the job had finished when it stopped, if anything: for a transcription, the chunks done,
    # joined as a Finished result would be, plus "stopped_at" (seconds of audio transcribed).
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class WorkerExited(Event):
    """Made by the client, not the worker: the worker process is gone (crash, kill, or shutdown)."""

    exitcode: int | None = None
    reason: str = ""  # "killed by signal SIGKILL", "exit status 1", "shut down" or "restarted"


TERMINAL = (Finished, Failed, Cancelled)


def is_terminal(event: Event) -> bool:
    return isinstance(event, TERMINAL)


KNOWN_COMMANDS = (GetInfo, LoadModel, Transcribe, Live, LiveAudio, StopLive, Evaluate, Train, Cancel, Shutdown)


# ---- checking what arrives through the pipe ---------------------------------------------


def check_command(command: object) -> None:
    """Raise ParceroError unless ``command`` is a known command with fields of the right types.

    Anything can come down a pipe (an older client, a bug, a test); a wrong
    type caught here gets a message naming the field instead of a TypeError
    from deep inside torch.
    """
    if type(command) not in KNOWN_COMMANDS:
        what = type(command).__name__
        if isinstance(command, Command):
            raise ParceroError(f"unknown command {what}: this engine knows "
                               + ", ".join(c.__name__ for c in KNOWN_COMMANDS))
        raise ParceroError(f"not a command: got a {what} ({_short(command)})")
    try:
        check_fields(command, type(command).__name__)
    except ConfigError as e:  # a bad command, not a bad setting: no config.* code for the window
        raise ParceroError(str(e)) from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
