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
from engine.errors import JobCancelled, ParceroError
from engine.logfile import LOG_DIR_ENV, rotating_file_handler
from engine.protocol import (
    check_command,
    Cancel, Cancelled, Command, EngineInfo, Evaluate, EvalResult, Event, Failed, Finished, GetInfo, Live, LiveAudio,
    LoadModel, Progress, Ready, Shutdown, Started, StopLive, Train, TrainMetrics, Transcribe,
)
from engine.transcribe import check_decode_options
from engine.transcription_job import TranscriptionJob, model_identity

log = logging.getLogger("engine.worker")
ENGINE_LOG = "engine.log"
JOB_KINDS = {LoadModel: "load_model", Transcribe: "transcribe", Live: "live", Evaluate: "evaluate", Train: "train"}


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
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)  # a live job: finish, keep all
    # A live job's audio: pushed into its session once it runs; kept here while the job waits in the queue.
    inbox: list = dataclasses.field(default_factory=list)
    session: Any = None
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def push(self, samples: np.ndarray) -> None:
        with self.lock:
            if self.session is None:
                self.inbox.append(samples)
            else:
                self.session.push(samples)


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
            if isinstance(command, (Cancel, LiveAudio, StopLive)):
                with self.jobs_lock:
                    job = self.jobs.get(command.target)
                if job is None:  # a job that already ended has nothing left to stop or feed
                    if isinstance(command, LiveAudio):
                        log.warning("live audio for job %d, which is not running: dropped", command.target)
                elif isinstance(command, LiveAudio):
                    job.push(command.samples)
                elif isinstance(command, StopLive):
                    job.stop.set()
                else:
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
        return TranscriptionJob(job.command, loaded, job.cancel, self.send).run()

    def _do_live(self, job: _Job) -> Event:
        from engine.live.job import LiveJob

        return LiveJob(job, self._need_model(), self.send).run()

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
                             {**report.to_dict(), **model_identity(loaded)}))
        return Finished(command.job_id, result={
            "wer": report.overall.wer, "cer": report.overall.cer, "utterances": report.overall.utterances,
            "manifest": command.manifest, **model_identity(loaded), "warnings": [str(p) for p in manifest.problems],
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

