"""The engine's errors and device in the interface's language.

The engine never imports Qt and speaks English: its errors cross the process
boundary as :class:`engine.protocol.Failed` with an English ``message`` plus a
stable ``code`` and ``params`` (``engine.errors``). Here each code has a
sentence with ``{placeholders}``, marked for translation; the window shows that
sentence in its language, filled with the params. A code this table does not
know (a newer engine, a rare error) or params that do not fit its sentence
fall back to the engine's English message, so a person always reads something.

    failure_text(event)          # a Failed from the engine process
    error_text(error)            # a ParceroError raised in the window's own process
    device_text(info)            # EngineInfo -> "CPU (2 hilos)"

``tests/app/test_engine_messages.py`` checks that every code the engine
raises has a sentence here.
"""

from __future__ import annotations

import re
from typing import Any

from app.i18n import QT_TRANSLATE_NOOP, translate

CONTEXT = "EngineMessages"

# code -> sentence. A key "code:variant" is a second wording of one code (see _key).
MESSAGES: dict[str, str] = {
    # audio files (engine.audio, engine.transcribe)
    # recording for live transcription outside the window (engine.live.capture)
    "capture.no_sounddevice": QT_TRANSLATE_NOOP(
        "EngineMessages", "Cannot record: the sounddevice package is missing ({error}); pip install sounddevice"),
    "capture.no_portaudio": QT_TRANSLATE_NOOP(
        "EngineMessages", "Cannot record: {error}; install PortAudio, e.g. sudo apt-get install libportaudio2"),
    "capture.input_failed": QT_TRANSLATE_NOOP("EngineMessages", "Could not open the audio input: {error}"),
    "capture.cannot_write": QT_TRANSLATE_NOOP("EngineMessages", "Cannot write {path}: {error}"),
    "audio.missing": QT_TRANSLATE_NOOP("EngineMessages", "{path}: file not found"),
    "audio.not_a_file": QT_TRANSLATE_NOOP("EngineMessages", "{path} is a folder, not an audio file"),
    "audio.empty_file": QT_TRANSLATE_NOOP("EngineMessages", "{path} is empty (0 bytes): there is no audio in it"),
    "audio.no_samples": QT_TRANSLATE_NOOP("EngineMessages", "{path} holds no audio samples"),
    "audio.unreadable": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path} cannot be read as audio: the file is damaged or not in a supported format "
                          "(WAV, FLAC, OGG, MP3). Details: {reason}"),
    "audio.non_finite": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path} holds invalid samples (NaN or infinity), the first at {first:.2f} s"),
    "audio.past_end": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: the start, {offset:.2f} s, is past the end of the audio ({length:.2f} s long)"),
    "audio.too_short": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path} is too short to transcribe: {duration_ms:.0f} ms of audio, at least "
                          "{minimum_ms:.0f} ms are needed"),
    "audio.other": QT_TRANSLATE_NOOP("EngineMessages", "{path}: this audio cannot be used ({problem})"),
    # model folders (engine.models.io)
    "model.missing": QT_TRANSLATE_NOOP("EngineMessages", "{path}: no such model folder"),
    "model.not_a_model": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path} is not a model folder: a model folder holds model.safetensors, config.json and "
                          "vocab.json or tokenizer.json"),
    "model.bad_config": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: the model's settings cannot be read, so the model cannot be loaded ({problem})"),
    "model.bad_weights": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: the model's weights cannot be read: the file is truncated or damaged"),
    "model.mismatch": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: the model's weights do not match its config.json; the folder is damaged"),
    "model.too_new": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: this model was saved by a newer version of Parcero; please update Parcero"),
    "model.broken": QT_TRANSLATE_NOOP("EngineMessages", "{path}: this model cannot be loaded ({problem})"),
    "model.none_loaded": QT_TRANSLATE_NOOP("EngineMessages", "No model is loaded: choose a model first"),
    "text.unknown_characters": QT_TRANSLATE_NOOP(
        "EngineMessages", "The text holds characters the model's vocabulary lacks: {characters}"),
    # datasets and manifests (engine.data, engine.training.loop, the Evaluate job)
    "data.missing": QT_TRANSLATE_NOOP("EngineMessages", "{path}: no such file or folder"),
    "data.unknown_layout": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: this is not a corpus layout Parcero knows. It looked for: {looked_for}. "
                          "Choose the format in the list instead of Automatic."),
    "manifest.unreadable": QT_TRANSLATE_NOOP("EngineMessages", "{path}: the manifest cannot be read ({reason})"),
    "manifest.empty": QT_TRANSLATE_NOOP("EngineMessages", "{path}: the manifest holds no utterances to evaluate"),
    "manifest.no_usable": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: no usable utterances to train on (each line is broken, or its audio lasts less "
                          "than {min:g} s or more than {max:g} s)"),
    # training settings (engine.configio, engine.training.config)
    "config.missing_file": QT_TRANSLATE_NOOP("EngineMessages", "{path}: no such settings file"),
    "config.bad_toml": QT_TRANSLATE_NOOP("EngineMessages", "{path} is not a valid TOML settings file ({reason})"),
    "config.not_utf8": QT_TRANSLATE_NOOP("EngineMessages", "{path} is not UTF-8 text"),
    "config.bad_value": QT_TRANSLATE_NOOP("EngineMessages", "The training settings are not valid: {detail}"),
    # training runs (engine.training)
    "train.non_finite_loss": QT_TRANSLATE_NOOP(
        "EngineMessages", "Training stopped: {count} batches in a row gave an invalid loss (NaN). Check the "
                          "data (Data ▸ Validate), lower the learning rate, or train in float32."),
    "train.out_of_memory": QT_TRANSLATE_NOOP(
        "EngineMessages", "The GPU ran out of memory on a batch of {utterances} utterances. Lower the maximum "
                          "frames per batch (now {max_frames}) and raise gradient accumulation, or choose a "
                          "smaller model."),
    "disk.checkpoint": QT_TRANSLATE_NOOP(
        "EngineMessages", "{path}: the checkpoint cannot be written ({reason}). Free some disk space (or fix the "
                          "folder's permissions), then continue with Resume."),
    "disk.full": QT_TRANSLATE_NOOP(
        "EngineMessages", "The disk is full: {path} could not be written. Free some space and try again."),
    "disk.full:nopath": QT_TRANSLATE_NOOP("EngineMessages", "The disk is full. Free some space and try again."),
    # the engine process (engine.worker, engine.client)
    "engine.out_of_memory": QT_TRANSLATE_NOOP(
        "EngineMessages", "Out of memory on {device}: try a smaller model, a shorter recording or the CPU"),
    "engine.crashed": QT_TRANSLATE_NOOP(
        "EngineMessages", "The engine process stopped unexpectedly ({reason}); run the job again"),
    "engine.stopped:restarted": QT_TRANSLATE_NOOP(
        "EngineMessages", "The engine was restarted before the job ended"),
    "engine.stopped": QT_TRANSLATE_NOOP("EngineMessages", "The engine was shut down before the job ended"),
    "engine.not_running": QT_TRANSLATE_NOOP(
        "EngineMessages", "The engine is not running: restart it with Engine ▸ Restart engine"),
    "engine.internal": QT_TRANSLATE_NOOP(
        "EngineMessages", "Internal error in the engine ({error}). The log has the details: Help ▸ Open log folder"),
    # devices (engine.device)
    "device.unknown": QT_TRANSLATE_NOOP(
        "EngineMessages", "Unknown device “{device}”: choose Automatic, CPU or CUDA GPU in Preferences"),
    "device.no_cuda": QT_TRANSLATE_NOOP(
        "EngineMessages", "A CUDA GPU was asked for ({device}) but none can be used here; choose the CPU in "
                          "Preferences"),
    "device.no_such_gpu": QT_TRANSLATE_NOOP(
        "EngineMessages", "There is no GPU {device} on this machine: it has {count}"),
    "device.unavailable": QT_TRANSLATE_NOOP(
        "EngineMessages", "The device {device} is not available on this machine; choose the CPU in Preferences"),
}

# Added to a sentence when its param is set.
SAVED_PROGRESS = QT_TRANSLATE_NOOP("EngineMessages", "Progress is saved in {saved}; continue with Resume.")
NO_PATH = QT_TRANSLATE_NOOP("EngineMessages", "The audio")  # audio that came without a file (a recording)

# How a process ended (engine.client.exit_reason), worded here.
EXIT_REASONS = {
    "shut down": QT_TRANSLATE_NOOP("EngineMessages", "shut down"),
    "restarted": QT_TRANSLATE_NOOP("EngineMessages", "restarted"),
    "still running": QT_TRANSLATE_NOOP("EngineMessages", "still running"),
}
KILLED_BY = QT_TRANSLATE_NOOP("EngineMessages", "killed by signal {signal}")
EXIT_STATUS = QT_TRANSLATE_NOOP("EngineMessages", "exit status {status}")

CPU_ONE_THREAD = QT_TRANSLATE_NOOP("EngineMessages", "CPU (1 thread)")
CPU_THREADS = QT_TRANSLATE_NOOP("EngineMessages", "CPU ({threads} threads)")
CUDA_GPU = QT_TRANSLATE_NOOP("EngineMessages", "CUDA: {name}, {memory} GB")
CUDA_GPU_NO_MEMORY = QT_TRANSLATE_NOOP("EngineMessages", "CUDA: {name}")
APPLE_GPU = QT_TRANSLATE_NOOP("EngineMessages", "Apple GPU (MPS)")


def engine_message(code: str, params: dict[str, Any] | None, fallback: str) -> str:
    """The sentence for ``code`` in the interface's language, filled with ``params``; else ``fallback``.

    Parameters
    ----------
    code : str
        An error code (``engine.errors``); "" or an unknown code gives ``fallback``.
    params : dict or None
        What the sentence names (``path``, numbers).
    fallback : str
        The engine's English message, shown when the code is unknown or the params do not fit.
    """
    params = dict(params or {})
    key = _key(code, params)
    if key is None:
        return fallback
    if code.startswith("audio.") and not params.get("path"):
        params["path"] = translate(CONTEXT, NO_PATH)
    if "reason" in params and code in ("engine.crashed", "engine.stopped"):
        params["reason"] = exit_reason_text(str(params["reason"]))
    try:
        text = translate(CONTEXT, MESSAGES[key]).format(**params)
        if code == "train.out_of_memory" and params.get("saved"):
            text += " " + translate(CONTEXT, SAVED_PROGRESS).format(**params)
    except (KeyError, IndexError, ValueError, TypeError):  # params of another engine version: say it in English
        return fallback
    return text


def _key(code: str, params: dict[str, Any]) -> str | None:
    if not code:
        return None
    for variant in (params.get("reason"), "nopath" if not params.get("path") else None):
        if variant and f"{code}:{variant}" in MESSAGES:
            return f"{code}:{variant}"
    return code if code in MESSAGES else None


def failure_text(event) -> str:
    """What a :class:`engine.protocol.Failed` says, in the interface's language."""
    return engine_message(getattr(event, "code", ""), getattr(event, "params", None), event.message)


def error_text(error: BaseException) -> str:
    """What an exception raised in this process says: a coded ParceroError translated, else its text."""
    fallback = str(error) or type(error).__name__
    return engine_message(getattr(error, "code", "") or "", getattr(error, "params", None), fallback)


def exit_reason_text(reason: str) -> str:
    """``engine.client.exit_reason``'s words ("killed by signal SIGKILL", "exit status 1") translated."""
    if reason in EXIT_REASONS:
        return translate(CONTEXT, EXIT_REASONS[reason])
    if match := re.fullmatch(r"killed by signal (\S+)", reason):
        return translate(CONTEXT, KILLED_BY).format(signal=match[1])
    if match := re.fullmatch(r"exit status (-?\d+)", reason):
        return translate(CONTEXT, EXIT_STATUS).format(status=match[1])
    return reason


def device_words(kind: str, threads: int = 0, gpu_name: str | None = None, memory_gb: float | None = None) -> str:
    """A device in words: "CPU (2 threads)", "CUDA: NVIDIA H100 80GB HBM3, 80 GB" (translated)."""
    if kind == "cuda" and gpu_name:
        if memory_gb is None:
            return translate(CONTEXT, CUDA_GPU_NO_MEMORY).format(name=gpu_name)
        return translate(CONTEXT, CUDA_GPU).format(name=gpu_name, memory=round(memory_gb))
    if kind == "mps":
        return translate(CONTEXT, APPLE_GPU)
    if threads == 1:
        return translate(CONTEXT, CPU_ONE_THREAD)
    return translate(CONTEXT, CPU_THREADS).format(threads=threads)


def device_text(info) -> str:
    """The device of an :class:`engine.protocol.EngineInfo`, in words; its English line from an older engine."""
    kind = getattr(info, "device_kind", "")
    if not kind:
        return info.device
    return device_words(kind, info.threads, info.gpu_name, getattr(info, "device_memory_gb", None))


def local_device_text() -> str:
    """The device ``auto`` picks in this process, in words (the status bar before the engine answers)."""
    from engine.device import device_facts

    facts = device_facts()
    return device_words(str(facts["kind"]), int(facts["threads"]), facts["gpu_name"], facts["memory_gb"])
