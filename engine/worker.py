"""The engine process: runs one heavy job at a time and streams typed events back.

The GUI (through :mod:`engine.client`) starts :func:`worker_main` in a process of
its own with the ``spawn`` start method, so a CUDA crash, a segfault in a native
library or an out-of-memory kill takes down this process and never the window.

Two threads share the work:

* the **reader** thread receives commands. ``Cancel`` and ``Shutdown`` act at
  once, ``GetInfo`` is answered at once (a user asking "which GPU?" should not
  wait for a training run), and every other command joins a FIFO queue;
* the **main** thread takes jobs off the queue one at a time, because two
  models competing for one GPU's memory is the classic way to crash both.

A job is cancelled cooperatively: its flag is checked in the decoding step
callback, the evaluation progress callback and the trainer's ``should_stop``,
so the model is never left half-way through a step and training saves a
checkpoint before it returns.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from functools import cache
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import __version__
from engine.audio import load_audio, resample
from engine.decode import StepInfo
from engine.errors import JobCancelled, ParceroError
from engine.models.attention import AttentionRecorder
from engine.logfile import LOG_DIR_ENV, rotating_file_handler
from engine.protocol import (
    check_command,
    ALL_HEADS, AttentionFrame, Cancel, Cancelled, ChunkResult, Command, EngineInfo, Evaluate, EvalResult, Event,
    Failed, Finished, GetInfo, LoadModel, PartialTranscript, Progress, Ready, Shutdown, Started, Train, TrainMetrics,
    Transcribe,
)
from engine.transcribe import check_decode_options, transcribe_long
from engine.transcript import Chunk, Transcript, join_transcripts

log = logging.getLogger("engine.worker")
ENGINE_LOG = "engine.log"
JOB_KINDS = {LoadModel: "load_model", Transcribe: "transcribe", Evaluate: "evaluate", Train: "train"}
ATTENTION_KINDS = ("decoder_cross", "encoder_self")


def worker_main(commands: Connection, events: Connection) -> None:
    """Entry point of the engine process.

    Parameters
    ----------
    commands : Connection
        Receiving end of the client's command pipe.
    events : Connection
        Sending end of the event pipe; :class:`Ready` goes out first.
    """
    # Ctrl-C in a terminal reaches the whole process group; the client decides
    # what happens (it sends Shutdown), so a training run is not killed mid-save.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The client starts us as a daemon so that multiprocessing reaps us if it
    # exits without close(); but daemons may not have children, and training
    # needs DataLoader worker processes. Our own children are ours to end.
    multiprocessing.current_process().daemon = False
    torch.set_num_threads(default_thread_count())
    setup_logging()
    log.info("engine %s started (pid %d, torch %s, %d threads)", __version__, os.getpid(), torch.__version__,
             torch.get_num_threads())
    _Worker(commands, events).run()
    log.info("engine stopped")


def setup_logging() -> Path | None:
    """Write this process's log to ``$PARCERO_LOG_DIR/engine.log`` (rotating), beside the GUI's parcero.log.

    Without the variable (the CLI, tests) nothing is set up. A folder that cannot be
    written is skipped silently: the GUI's own log already says so. Returns the file.
    """
    folder = os.environ.get(LOG_DIR_ENV, "").strip()
    if not folder:
        return None
    path = Path(folder).expanduser() / ENGINE_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = rotating_file_handler(path)
    except OSError:
        return None
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def default_thread_count() -> int:
    """Threads for torch's kernels: PARCERO_NUM_THREADS, else the usable cores.

    On machines with more than four cores one is left to the GUI process, which
    keeps drawing heatmaps while we decode; on smaller ones that would cost too much.
    """
    env = os.environ.get("PARCERO_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores - 1 if cores > 4 else cores


@dataclasses.dataclass
class _Job:
    command: Command
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)


class _Worker:
    def __init__(self, commands: Connection, events: Connection):
        self.commands = commands
        self.events = events
        self.send_lock = threading.Lock()  # the reader and the main thread both send
        self.jobs: dict[int, _Job] = {}  # queued or running, by job id
        self.jobs_lock = threading.Lock()
        self.queue: queue.Queue[_Job | None] = queue.Queue()  # None: stop
        self.loaded = None  # engine.models.io.LoadedModel

    def run(self) -> None:
        self.send(Ready(job_id=0, pid=os.getpid()))
        threading.Thread(target=self._read_commands, name="parcero-commands", daemon=True).start()
        while (job := self.queue.get()) is not None:
            self._run_job(job)

    def send(self, event: Event) -> None:
        try:
            with self.send_lock:
                self.events.send(event)
        except (OSError, ValueError):  # the client is gone: nobody to tell, so stop
            self._stop_all()

    # ---- the reader thread --------------------------------------------------------

    def _read_commands(self) -> None:
        while True:
            try:
                command = self.commands.recv()
            except (EOFError, OSError):  # the client closed the pipe or died
                self._stop_all()
                return
            except Exception as e:  # the bytes arrived but could not be unpickled here
                self.send(Failed(0, f"could not read a command: {type(e).__name__}: {e}", traceback.format_exc()))
                continue
            try:
                check_command(command)
            except ParceroError as e:
                job_id = getattr(command, "job_id", 0)
                self.send(Failed.from_error(job_id if type(job_id) is int else 0, e))
                continue
            if isinstance(command, Shutdown):
                self._stop_all()
                return
            if isinstance(command, Cancel):
                with self.jobs_lock:
                    job = self.jobs.get(command.target)
                if job is not None:  # a job that already ended has nothing left to stop
                    job.cancel.set()
            elif isinstance(command, GetInfo):
                self._answer_info(command.job_id)
            else:
                job = _Job(command)
                with self.jobs_lock:
                    self.jobs[command.job_id] = job
                self.queue.put(job)

    def _stop_all(self) -> None:
        # Queued jobs come off the queue cancelled (each still gets its Cancelled);
        # the running one stops at its next check; then the main loop sees None.
        with self.jobs_lock:
            for job in self.jobs.values():
                job.cancel.set()
        self.queue.put(None)

    def _answer_info(self, job_id: int) -> None:
        try:
            info = engine_info(job_id, self.loaded)
        except Exception as e:
            self.send(failure_for(job_id, e, self.loaded))
            return
        self.send(info)
        self.send(Finished(job_id, result={k: v for k, v in vars(info).items() if k != "job_id"}))

    # ---- the main thread ----------------------------------------------------------

    def _run_job(self, job: _Job) -> None:
        command = job.command
        job_id = command.job_id
        try:
            if job.cancel.is_set():
                raise JobCancelled()
            self.send(Started(job_id, JOB_KINDS[type(command)]))
            log.info("job %d: %s started", job_id, JOB_KINDS[type(command)])
            started = time.perf_counter()
            handler = getattr(self, f"_do_{JOB_KINDS[type(command)]}")
            terminal = handler(job)
            log.info("job %d: finished in %.1f s", job_id, time.perf_counter() - started)
        except JobCancelled:
            terminal = Cancelled(job_id)
            log.info("job %d: cancelled", job_id)
        except ParceroError as e:
            terminal = Failed.from_error(job_id, e, detail=traceback.format_exc())
            log.warning("job %d: failed: %s", job_id, e)
        except Exception as e:
            terminal = failure_for(job_id, e, self.loaded)
            if terminal.code == "engine.internal":
                log.exception("job %d: internal error", job_id)
            else:
                log.error("job %d: %s", job_id, terminal.message)
        if isinstance(terminal, Failed) and torch.cuda.is_initialized():
            torch.cuda.empty_cache()  # an OOM's leftovers would make the next job fail too
        with self.jobs_lock:
            self.jobs.pop(job_id, None)
        self.send(terminal)

    def _need_model(self):
        if self.loaded is None:
            raise ParceroError("no model loaded: load one first", code="model.none_loaded")
        return self.loaded

    def _do_load_model(self, job: _Job) -> Event:
        from engine.device import pick_device
        from engine.models.io import load_model
        from engine.quantize import check_quantize, quantize_model

        command: LoadModel = job.command
        device = pick_device(command.device)
        check_quantize(command.quantize, device)
        # Load before letting go of the old model, so a bad path keeps the old one usable.
        loaded = load_model(command.path, device=device)
        parameters = loaded.model.num_parameters()  # int8 layers no longer count as parameters
        quantize_model(loaded.model, command.quantize, device)
        self.loaded = loaded
        return Finished(command.job_id, result={
            "name": loaded.name, "path": str(loaded.path), "vocab_size": len(loaded.tokenizer),
            "parameters": parameters, "device": str(loaded.device), "quantize": command.quantize,
        })

    def _do_transcribe(self, job: _Job) -> Event:
        loaded = self._need_model()
        return _TranscriptionJob(job.command, loaded, job.cancel, self.send).run()

    def _do_evaluate(self, job: _Job) -> Event:
        from engine.data.manifest import open_manifest
        from engine.evaluate import evaluate_loaded

        command: Evaluate = job.command
        loaded = self._need_model()
        manifest = open_manifest(command.manifest)
        if not manifest.utterances:
            raise ParceroError(f"{command.manifest}: no utterances to evaluate", code="manifest.empty",
                               params={"path": command.manifest})
        check_decode_options(command.options, loaded)

        def on_progress(done: int, total: int) -> None:
            if job.cancel.is_set():
                raise JobCancelled()
            self.send(Progress(command.job_id, float(done), float(total), "utterances"))

        report = evaluate_loaded(loaded, manifest.utterances, os.path.dirname(os.path.abspath(command.manifest)),
                                 command.options, on_progress=on_progress)
        self.send(EvalResult(command.job_id, report.overall.wer, report.overall.cer,
                             {**report.to_dict(), **_identity(loaded)}))
        return Finished(command.job_id, result={
            "wer": report.overall.wer, "cer": report.overall.cer, "utterances": report.overall.utterances,
            "manifest": command.manifest, **_identity(loaded), "warnings": [str(p) for p in manifest.problems],
        })

    def _do_train(self, job: _Job) -> Event:
        from engine.training.config import load_run_config, run_config_from_dict
        from engine.training.loop import Trainer

        command: Train = job.command
        if (command.config_path is None) == (command.config is None):
            raise ParceroError("Train needs exactly one of config_path (a TOML file) or config (a dict)")
        if command.config_path is not None:
            config = load_run_config(command.config_path)
        else:
            config = run_config_from_dict(command.config, base_dir=command.base_dir)
        max_steps = config.train.max_steps

        def on_record(record: dict[str, Any]) -> None:  # metrics.jsonl records, and live points between them
            self.send(TrainMetrics(command.job_id, record))
            if record.get("kind") in ("train", "live") and "step" in record:
                self.send(Progress(command.job_id, float(record["step"]), float(max_steps), "steps"))

        trainer = Trainer(config, resume=command.resume, init=command.init, device=command.device,
                          should_stop=job.cancel.is_set, on_record=on_record, on_live=on_record)
        if job.cancel.is_set():  # cancelled while the data was read: nothing trained, nothing to save
            raise JobCancelled()
        result = trainer.run()
        if result.stopped_early and job.cancel.is_set():
            return Cancelled(command.job_id)
        return Finished(command.job_id, result={
            "run_dir": str(result.run_dir), "step": result.step, "best_cer": result.best_cer,
            "last_checkpoint": str(result.last_checkpoint) if result.last_checkpoint else None,
        })


class _TranscriptionJob:
    """One Transcribe command: audio in; partial transcripts, attention and chunk results out."""

    def __init__(self, command: Transcribe, loaded, cancel: threading.Event, send):
        self.command = command
        self.loaded = loaded
        self.cancel = cancel
        self.send = send
        self.backend = loaded.backend
        self.sample_rate = self.backend.sample_rate(loaded)
        self.frame_seconds = self.backend.frame_seconds(loaded)
        self.samples = np.zeros(0, dtype=np.float32)
        self.duration = 0.0
        self.encoded_chunks: set[int] = set()
        self.done: list[Transcript] = []  # each chunk's transcript, times in the whole audio
        self.done_until = 0.0  # seconds of audio transcribed so far

    def run(self) -> Event:
        c = self.command
        self._check()
        self.samples = self._audio()
        self.duration = len(self.samples) / self.sample_rate
        # Cross-attention is computed per step only when it is to be streamed (no listener, no cost).
        options = dataclasses.replace(c.options, step_attention="decoder_cross" in c.attention)
        try:
            transcript = transcribe_long(self.loaded, self.samples, options, max_chunk_seconds=c.max_chunk_seconds,
                                         on_step=self._on_step, on_chunk=self._on_chunk, source=c.path)
        except JobCancelled:
            return self._stopped_early()
        # A sliver of silence at the very end is skipped without a chunk result; still end at 100 %.
        self.send(Progress(c.job_id, self.duration, self.duration, "seconds"))
        # The identity of the model that produced it travels with the result: the window labels and
        # exports the transcript with this, not with whatever its model list shows by then.
        return Finished(c.job_id, result={**transcript.to_dict(), **_identity(self.loaded), "offset": c.offset})

    def _check(self) -> None:
        c = self.command
        if (c.path is None) == (c.samples is None):
            raise ParceroError("Transcribe needs exactly one of path (a file) or samples (an array)")
        if c.sample_rate <= 0:
            raise ParceroError(f"sample_rate must be positive, got {c.sample_rate}")
        if c.offset < 0 or (c.duration is not None and c.duration <= 0):
            raise ParceroError(f"offset must be >= 0 and duration > 0 seconds, got {c.offset} and {c.duration}")
        if c.max_chunk_seconds < 1.0:
            raise ParceroError(f"max_chunk_seconds must be at least 1 second, got {c.max_chunk_seconds}")
        unknown = [k for k in c.attention if k not in ATTENTION_KINDS]
        if unknown:
            raise ParceroError(f"unknown attention kind(s) {', '.join(map(repr, unknown))}: "
                               f"choose from {', '.join(ATTENTION_KINDS)}")
        for name, heads in (("heads", c.heads), ("encoder_heads", c.encoder_heads or c.heads)):
            if heads not in ("average", "all"):
                raise ParceroError(f"{name} must be 'average' or 'all', got {heads!r}")
        check_decode_options(c.options, self.loaded)

    def _audio(self) -> np.ndarray:
        c = self.command
        if c.path is not None:
            return load_audio(c.path, self.sample_rate, offset=c.offset, duration=c.duration)
        x = c.samples
        if x.ndim != 1 or x.size == 0 or not np.issubdtype(x.dtype, np.floating):
            raise ParceroError(f"samples: expected a non-empty float array of shape (n,), "
                               f"got {x.dtype} of shape {x.shape}")
        start = int(round(c.offset * c.sample_rate))
        if start >= x.size:
            raise ParceroError(f"offset {c.offset:.3f} s is past the end of the samples "
                               f"({x.size / c.sample_rate:.3f} s long)")
        stop = None if c.duration is None else start + max(1, int(round(c.duration * c.sample_rate)))
        x = x[start:stop]
        if not np.isfinite(x).all():
            raise ParceroError("samples: contain NaN or Inf values")
        return resample(x, c.sample_rate, self.sample_rate)

    def _on_step(self, chunk: Chunk, info: StepInfo) -> None:
        if self.cancel.is_set():
            raise JobCancelled()
        c = self.command
        if "encoder_self" in c.attention and chunk.index not in self.encoded_chunks:
            self.encoded_chunks.add(chunk.index)
            self._send_encoder_attention(chunk)
        tokens = info.tokens[0]
        texts, special = self._token_labels(tokens)
        self.send(PartialTranscript(c.job_id, chunk.index, tuple(tokens), self.loaded.tokenizer.decode(tokens),
                                    chunk.start, info.temperature, texts, special))
        if "decoder_cross" in c.attention and info.cross_attention:
            n = self._audio_frames(chunk)
            for layer, w in enumerate(info.cross_attention):  # w: (B=1, H, T)
                self._send_frames("decoder_cross", layer, info.step, w[0, :, :n], chunk, c.heads)

    def _token_labels(self, tokens: list[int]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
        """Each token's text as a heatmap row label, and whether it is special (not text)."""
        return self.backend.token_labels(self.loaded, tokens)

    def _audio_frames(self, chunk: Chunk) -> int | None:
        """Encoder frames of ``chunk`` that hold its audio (None: all of them)."""
        return self.backend.audio_frames(self.loaded, chunk.end - chunk.start)

    def _send_encoder_attention(self, chunk: Chunk) -> None:
        # Decoding never needs the encoder's self-attention, so it is not kept;
        # one more encoder pass (a few percent of the chunk's time) records it.
        a, b = round(chunk.start * self.sample_rate), round(chunk.end * self.sample_rate)
        feats = self.backend.encoder_input(self.loaded, self.samples[a:b])  # (T_in, n_mels)
        device = self.loaded.device
        recorder = AttentionRecorder(("encoder_self",))
        with torch.inference_mode():
            self.loaded.model.encode(feats[None].to(device), torch.tensor([feats.shape[0]], device=device), recorder)
        n = self._audio_frames(chunk)
        for layer, w in enumerate(recorder.of_kind("encoder_self")):  # w: (B=1, H, T, T)
            self._send_frames("encoder_self", layer, 0, w[0, :, :n, :n], chunk,
                              self.command.encoder_heads or self.command.heads)

    def _send_frames(self, kind: str, layer: int, step: int, weights: torch.Tensor, chunk: Chunk,
                     heads: str) -> None:
        """Send ``weights`` (H, ...) of one layer as one frame: the heads' mean ("average") or all of them."""
        c = self.command
        if heads == "average":
            head, matrix = None, weights.float().mean(dim=0).half().cpu().numpy()
        else:  # one frame for all the heads: a step of Whisper base is 6 events, not 48
            head, matrix = ALL_HEADS, weights.half().cpu().numpy()
        self.send(AttentionFrame(c.job_id, kind, layer, head, step, matrix, chunk.index, chunk.start,
                                 self.frame_seconds))

    def _stopped_early(self) -> Cancelled:
        """Cancelled, with what was transcribed before the stop: the chunks done, joined, and the model's identity.

        An hour-long file cancelled at minute 40 keeps its 40 minutes: the window shows and exports them.
        """
        c = self.command
        if not self.done:
            return Cancelled(c.job_id)
        partial = join_transcripts(self.done, self.duration)
        partial.source = c.path
        return Cancelled(c.job_id, result={**partial.to_dict(), **_identity(self.loaded), "offset": c.offset,
                                           "stopped_at": self.done_until})

    def _on_chunk(self, chunk: Chunk, transcript: Transcript) -> None:
        self.done.append(transcript)
        self.done_until = chunk.end
        c = self.command
        words = tuple((w.text, w.start, w.end) for w in transcript.words)
        self.send(ChunkResult(c.job_id, chunk.index, chunk.start, chunk.end, transcript.text, words))
        self.send(Progress(c.job_id, chunk.end, self.duration, "seconds"))


def engine_info(job_id: int, loaded=None) -> EngineInfo:
    """What the status bar shows: the device in use, the GPU, versions and the loaded model."""
    from engine.device import describe_device, device_facts

    device = loaded.device if loaded is not None else None
    cuda = torch.cuda.is_available()
    gpu_name = gpu_memory = None
    if cuda:
        on_gpu = device is not None and device.type == "cuda" and device.index is not None
        props = torch.cuda.get_device_properties(device.index if on_gpu else 0)
        gpu_name, gpu_memory = props.name, round(props.total_memory / 2**30, 1)
    facts = device_facts(device)
    return EngineInfo(
        job_id, device=describe_device(device), cuda_available=cuda, gpu_name=gpu_name, gpu_memory_gb=gpu_memory,
        versions=_versions(), model=loaded.name if loaded is not None else None,
        device_kind=str(facts["kind"]), threads=int(facts["threads"]), device_memory_gb=facts["memory_gb"],
    )


@cache
def _versions() -> dict[str, str]:
    # Package metadata, not imports: importing torchaudio just to read its version costs a second.
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "parcero": __version__, "torch": torch.__version__, "torchaudio": version("torchaudio"),
        "cuda": torch.version.cuda or "none", "python": sys.version.split()[0],
    }


def _identity(loaded) -> dict[str, str]:
    """Which model produced a result: its name and folder."""
    return {"model": loaded.name, "model_path": str(loaded.path)}


def _device_of(loaded) -> str:
    return str(loaded.device) if loaded is not None else "the device"


def failure_for(job_id: int, error: BaseException, loaded=None) -> Failed:
    """The :class:`Failed` a job ends with when ``error`` stopped it: a message, a code and its params.

    Memory and disk troubles are the user's to fix (a smaller model, free space) and get codes of
    their own; anything else unexpected is an ``engine.internal`` error, with the traceback for the log.
    """
    detail = "".join(traceback.format_exception(error))
    if isinstance(error, ParceroError):
        return Failed.from_error(job_id, error, detail=detail)
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        device = _device_of(loaded) if isinstance(error, torch.OutOfMemoryError) else "cpu"
        return Failed(job_id, f"out of memory on {device}: try a smaller model, shorter chunks or the CPU "
                      f"({error})", detail, "engine.out_of_memory", {"device": device})
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        path = str(error.filename or "")
        return Failed(job_id, f"{path + ': ' if path else ''}no space left on the disk ({error.strerror})", detail,
                      "disk.full", {"path": path})
    return Failed(job_id, f"internal error: {type(error).__name__}: {error}", detail, "engine.internal",
                  {"error": f"{type(error).__name__}: {error}"})

