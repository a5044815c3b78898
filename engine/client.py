"""Start, talk to and stop the engine process, without Qt.

Tests and scripts use :class:`EngineClient` directly; the GUI wraps it in
``app.engine_client.QtEngineClient``, which turns its callbacks into Qt signals.

    with EngineClient() as engine:
        engine.wait(engine.submit(LoadModel, path="modelos/tonos-es"))
        job = engine.submit(Transcribe, path="grabacion.wav")
        for event in engine.wait(job):
            ...

One reader thread per worker receives events, keeps them per job for
:meth:`EngineClient.wait` and hands each to ``on_event``. The same thread
watches the process: when the worker dies (a segfault, ``kill -9``, the kernel's
OOM killer) every unfinished job gets a :class:`Failed` naming the signal or
exit status, then a :class:`WorkerExited` follows, within a fraction of a second.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from itertools import count
from multiprocessing.connection import wait as wait_for_ready

from engine.errors import ParceroError
from engine.protocol import (
    Cancel, Command, Event, Failed, LiveAudio, Ready, Shutdown, StopLive, WorkerExited, is_terminal,
)

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.2  # how often the reader looks at the process when no event arrives


class EngineClient:
    """Owns one engine worker process at a time.

    Parameters
    ----------
    on_event : callable or None
        Called with every event, on the reader thread (never the caller's);
        it must not block and must not call :meth:`wait` or :meth:`close`.
    start_timeout : float
        Seconds :meth:`start` waits for the worker's :class:`Ready`.
    keep_events : bool
        Keep each job's events until :meth:`wait` collects them. A client that
        only listens through ``on_event`` (the GUI) passes False, so a long
        transcription's attention frames are not kept twice; :meth:`wait` then
        returns the terminal event alone.
    """

    def __init__(
        self,
        on_event: Callable[[Event], None] | None = None,
        start_timeout: float = 120.0,
        *,
        keep_events: bool = True,
    ):
        self.on_event = on_event
        self.start_timeout = start_timeout
        self.keep_events = keep_events
        self._lock = threading.Condition()  # guards everything below; notified on every terminal event
        self._send_lock = threading.Lock()
        self._ids = count(1)
        self._events: dict[int, list[Event]] = {}  # by job id, until wait() collects them
        self._open: set[int] = set()  # submitted jobs without a terminal event yet
        self._process: multiprocessing.Process | None = None
        self._commands = None  # Connection we send on
        self._reader: threading.Thread | None = None
        self._running = False  # True from Ready until the reader sees the process gone
        self._stopping: str | None = None  # why we are ending the worker ourselves: "shut down", "restarted"
        self._gone = threading.Event()  # the reader has reaped the process and reported it

    # ---- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Spawn a worker and block until it is ready.

        Raises
        ------
        ParceroError
            The worker exited or sent nothing within ``start_timeout`` seconds.
        """
        with self._lock:
            if self._running:
                raise RuntimeError("the engine is already running; use restart() for a fresh one")
            crashed = self._process is not None
        if crashed:  # reap and forget the dead worker before starting its successor
            self._stop("restarted", graceful=False)
        ctx = multiprocessing.get_context("spawn")  # fork after Qt or CUDA started threads can deadlock
        command_out, command_in = ctx.Pipe(duplex=False)
        event_out, event_in = ctx.Pipe(duplex=False)
        from engine.worker import worker_main  # the engine process's code (torch): not imported by the window

        process = ctx.Process(target=worker_main, args=(command_out, event_in), name="parcero-engine", daemon=True)
        process.start()
        # Our copies of the child's ends must go, or a dead child would never read as EOF.
        command_out.close()
        event_in.close()
        try:
            ready = self._await_ready(process, event_out)
        except BaseException:
            _end_process(process)
            command_in.close()
            event_out.close()
            raise
        with self._lock:
            self._process, self._commands = process, command_in
            self._running, self._stopping = True, None
            self._gone.clear()
            self._reader = threading.Thread(target=self._read_events, args=(process, event_out),
                                            name="parcero-engine-events", daemon=True)
            self._reader.start()
        self._deliver(ready)

    def _await_ready(self, process, events) -> Ready:
        deadline = time.monotonic() + self.start_timeout
        while (left := deadline - time.monotonic()) > 0:
            if not wait_for_ready([events, process.sentinel], timeout=min(left, WATCH_SECONDS)):
                continue
            if events.poll():
                try:
                    event = events.recv()
                except (EOFError, OSError):
                    event = None
                if isinstance(event, Ready):
                    return event
            process.join(timeout=5)
            raise ParceroError(f"the engine process failed to start ({exit_reason(process.exitcode)})")
        raise ParceroError(f"the engine process did not start within {self.start_timeout:g} s")

    def restart(self) -> None:
        """Kill the worker if it is still there and start a fresh one (load the model again)."""
        self._stop("restarted", graceful=False)
        self.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: Shutdown, then terminate, then kill; safe to call twice.

        ``timeout`` is how long a running job gets to end (training saves a checkpoint).
        """
        self._stop("shut down", graceful=True, timeout=timeout)

    def _stop(self, why: str, graceful: bool, timeout: float = 5.0) -> None:
        with self._lock:
            process, reader = self._process, self._reader
            if process is None:
                return
            self._stopping = why
        # Only the reader thread reaps the process (one waitpid owner, so no pid is
        # ever signalled after reuse); here we ask, then insist.
        if graceful:
            if self._running:
                try:
                    self._send(Shutdown())
                except (OSError, ValueError):
                    pass  # already gone; the reader will see it
            if not self._gone.wait(timeout):
                process.terminate()
                if not self._gone.wait(2.0):
                    process.kill()
        else:
            process.kill()
        self._gone.wait(10.0)
        if reader is not None and reader is not threading.current_thread():
            reader.join()
        with self._lock:
            if self._commands is not None:
                self._commands.close()
            self._process, self._commands, self._reader = None, None, None

    def __enter__(self) -> EngineClient:
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- jobs ---------------------------------------------------------------------

    def submit(self, command_type: type[Command], **fields) -> int:
        """Send ``command_type(job_id=<fresh id>, **fields)`` and return the job id.

        Cancel and Shutdown are not jobs: use :meth:`cancel` and :meth:`close`.
        """
        if command_type in (Cancel, Shutdown, LiveAudio, StopLive):
            raise ValueError(f"{command_type.__name__} is not a job: use cancel(), close(), live_audio() "
                             "or stop_live()")
        with self._lock:
            if not self._running:
                raise ParceroError("the engine is not running: start or restart it", code="engine.not_running")
            job_id = next(self._ids)
            command = command_type(job_id=job_id, **fields)
            # Registered before sending, under the lock the death handler takes:
            # a job can never slip past the "fail every open job" step.
            self._open.add(job_id)
            self._events[job_id] = []
        try:
            self._send(command)
        except (OSError, ValueError):
            pass  # the worker just died; the reader fails this job with the reason
        return job_id

    def cancel(self, job_id: int) -> None:
        """Ask the worker to stop job ``job_id``; its events end with Cancelled (or whatever came first)."""
        with self._lock:
            if not self._running or job_id not in self._open:
                return
        try:
            self._send(Cancel(job_id=0, target=job_id))
        except (OSError, ValueError):
            pass

    def live_audio(self, job_id: int, samples) -> None:
        """Send more audio (mono float32 at the job's rate) to live job ``job_id``; never blocks on a pass."""
        self._to_open_job(LiveAudio(job_id=0, target=job_id, samples=samples), job_id)

    def stop_live(self, job_id: int) -> None:
        """The recording ended: live job ``job_id`` decodes all it got, then ends with Finished."""
        self._to_open_job(StopLive(job_id=0, target=job_id), job_id)

    def _to_open_job(self, command: Command, job_id: int) -> None:
        with self._lock:
            if not self._running or job_id not in self._open:
                return
        try:
            self._send(command)
        except (OSError, ValueError):
            pass

    def wait(self, job_id: int, timeout: float | None = None) -> list[Event]:
        """Block until job ``job_id`` ends; returns its events, the terminal one last.

        Raises
        ------
        KeyError
            ``job_id`` was never submitted, or its events were collected already.
        TimeoutError
            The job did not end within ``timeout`` seconds.
        """
        with self._lock:
            if job_id not in self._events:
                raise KeyError(f"no job {job_id} to wait for")
            ended = self._lock.wait_for(lambda: job_id not in self._open, timeout=timeout)
            if not ended:
                raise TimeoutError(f"job {job_id} did not end within {timeout} s")
            return self._events.pop(job_id)

    def _send(self, command: object) -> None:
        with self._send_lock:
            connection = self._commands
            if connection is None:
                raise OSError("the engine is not running")
            connection.send(command)

    # ---- state --------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """True from Ready until the worker process is found gone."""
        return self._running

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and self._running else None

    @property
    def running_jobs(self) -> set[int]:
        """Submitted jobs that have not ended yet (queued ones included)."""
        with self._lock:
            return set(self._open)

    # ---- the reader thread --------------------------------------------------------

    def _read_events(self, process, events) -> None:
        while True:
            # The sentinel wakes us the moment the process ends, even when a
            # grandchild (a DataLoader worker) still holds the pipe open so no
            # EOF comes; the timeout is a last resort if both stay silent.
            ready = wait_for_ready([events, process.sentinel], timeout=WATCH_SECONDS)
            if events in ready:
                try:
                    event = events.recv()
                except (EOFError, OSError):
                    break
                except Exception:  # an event that cannot be unpickled here: a bug, but keep going
                    log.exception("could not read an event from the engine process")
                    continue
                self._deliver(event)
            elif ready or not process.is_alive():
                while events.poll():  # what it said before dying still counts
                    try:
                        self._deliver(events.recv())
                    except (EOFError, OSError):
                        break
                break
        process.join(timeout=2.0)
        if process.exitcode is None:  # it closed the pipe but lingers: make sure it ends
            process.kill()
            process.join()
        events.close()
        self._report_gone(process)

    def _report_gone(self, process) -> None:
        with self._lock:
            self._running = False
            stopping = self._stopping
            orphans = sorted(self._open)
        reason = stopping or exit_reason(process.exitcode)
        if stopping:
            message, code = f"the engine was {stopping} before the job ended", "engine.stopped"
        else:
            message, code = f"the engine process stopped unexpectedly ({reason})", "engine.crashed"
        detail = f"engine process {process.pid} ended with exit code {process.exitcode}"
        for job_id in orphans:
            self._deliver(Failed(job_id, message, detail, code, {"reason": reason, "exitcode": process.exitcode}))
        self._deliver(WorkerExited(0, process.exitcode, reason))
        self._gone.set()

    def _deliver(self, event: Event) -> None:
        job_id = event.job_id
        with self._lock:
            if job_id in self._events and (self.keep_events or is_terminal(event)):
                self._events[job_id].append(event)
            if is_terminal(event) and job_id in self._open:
                self._open.discard(job_id)
                self._lock.notify_all()
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a listener's bug must not stop the events of everyone else
                log.exception("on_event failed for %r", event)


def exit_reason(exitcode: int | None) -> str:
    """Say how a process ended: ``"killed by signal SIGKILL"``, ``"exit status 1"``."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        return f"killed by signal {name}"
    return f"exit status {exitcode}"


def _end_process(process) -> None:
    """Terminate, then kill, a worker that never became ready; always reaps it."""
    if process.exitcode is None:
        process.terminate()
        process.join(timeout=2.0)
    if process.exitcode is None:
        process.kill()
    process.join()
