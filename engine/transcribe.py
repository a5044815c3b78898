"""Transcribe audio with a loaded model of any family: the functions the CLI, the worker and the GUI share.

Each family decodes in its own way (:mod:`engine.backends`); these functions
check the options, then hand the audio to the model's backend.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Callable

import numpy as np

from engine.backends import EncodeHook, backend_of
from engine.decode import StepCallback, StepInfo
from engine.transcript import DecodeOptions
from engine.errors import ParceroError
from engine.models.io import LoadedModel
from engine.transcript import VAD_CHOICES, Chunk, Transcript

DEFAULT_CHUNK_SECONDS = 20.0
TASKS = ("transcribe", "translate")


def check_decode_options(options: DecodeOptions, loaded: LoadedModel | None = None,
                         names: dict[str, str] | None = None) -> None:
    """ParceroError naming the option (``names`` maps field -> how the caller spells it) when it is unusable.

    A backend refuses the options its family does not have (a Speech-Transformer:
    the Whisper-only ones) through its ``check_options``, with the same names.
    """
    names = {f.name: f"options.{f.name}" for f in fields(DecodeOptions)} | (names or {})
    beam, ctc = names["beam_size"], names["ctc_weight"]
    if options.beam_size < 1:
        raise ParceroError(f"{beam} must be at least 1, got {options.beam_size}")
    if not 0.0 <= options.ctc_weight < 1.0:
        raise ParceroError(f"{ctc} must be in [0, 1), got {options.ctc_weight}")
    if not (0.0 <= options.temperature <= 10.0):  # NaN fails too
        raise ParceroError(f"{names['temperature']} must be from 0 to 10, got {options.temperature}")
    if options.best_of < 1:
        raise ParceroError(f"{names['best_of']} must be at least 1, got {options.best_of}")
    if options.task not in TASKS:
        raise ParceroError(f"{names['task']} must be one of {', '.join(TASKS)}, got {options.task!r}")
    if options.batch_size < 0:
        raise ParceroError(f"{names['batch_size']} must be 0 or more, got {options.batch_size}")
    if options.vad not in VAD_CHOICES:
        raise ParceroError(f"{names['vad']} must be one of {', '.join(VAD_CHOICES)}, got {options.vad!r}")
    if not 0.0 < options.vad_threshold < 1.0:  # NaN fails too
        raise ParceroError(f"{names['vad_threshold']} must be between 0 and 1, got {options.vad_threshold}")
    if loaded is None:
        return
    if options.ctc_weight > 0 and getattr(loaded.model, "ctc_head", None) is None:
        raise ParceroError(f"{loaded.name}: this model has no CTC head; use {ctc} 0")
    backend_of(loaded).check_options(loaded, options, names)


def transcribe_file(
    loaded: LoadedModel,
    path: str | Path,
    options: DecodeOptions = DecodeOptions(),
    on_step: StepCallback | None = None,
    max_chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
) -> Transcript:
    """Load ``path`` (any supported format and rate) and transcribe it, long files in chunks.

    How the file is read is the family's: a Speech-Transformer reads a long file
    in blocks, Whisper seeks by its own timestamps.
    """
    step = (lambda chunk, info: on_step(info)) if on_step is not None else None
    return backend_of(loaded).transcribe_file(loaded, path, options, max_chunk_seconds=max_chunk_seconds,
                                              on_step=step)


def transcribe_long(
    loaded: LoadedModel,
    samples: np.ndarray,
    options: DecodeOptions = DecodeOptions(),
    *,
    max_chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    on_step: Callable[[Chunk, StepInfo], None] | None = None,
    on_chunk: Callable[[Chunk, Transcript], None] | None = None,
    source: str | Path | None = None,
    on_encode: EncodeHook | None = None,
) -> Transcript:
    """Transcribe audio of any length (mono float32 at the model's sample rate).

    ``on_step(chunk, step_info)`` streams tokens and attention of the chunk being
    decoded; ``on_chunk(chunk, transcript)`` gets each chunk's result with times
    already shifted to the whole audio. A callback may raise (e.g. JobCancelled)
    to stop the work. ``on_encode(chunk)`` may return an AttentionRecorder for the
    encoding of a chunk (see :meth:`engine.backends.Backend.transcribe`).
    """
    backend = backend_of(loaded)
    # A family whose transcribe does not take on_encode is not asked (the caller then records the
    # encoder's attention its own way): one written before the hook still works.
    extra = {"on_encode": on_encode} if on_encode is not None and _takes(backend.transcribe, "on_encode") else {}
    return backend.transcribe(loaded, samples, options, max_chunk_seconds=max_chunk_seconds,
                              on_step=on_step, on_chunk=on_chunk, source=source, **extra)


def _takes(function, name: str) -> bool:
    """Whether ``function`` accepts the keyword argument ``name``."""
    parameters = inspect.signature(function).parameters
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
