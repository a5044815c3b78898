"""Who trains a run folder, and how it ended: ``<run>/run.json``, and the live points in ``<run>/live.jsonl``.

A training run lives in its own process (``parcero train``, started by a terminal
or by the window), so anyone who follows the folder needs to know whether that
process is still at work. The process writes ``run.json`` when it starts and
again when it ends; every write is atomic, so a reader never sees half of it::

    {"state": "running", "pid": 4242, "process_start": 1718000000.52, "host": "estudio",
     "started": 1718000001.9, "command": ["python", "-m", "engine.cli", "train", ...],
     "world_size": 1}

and at the end ``"state"`` becomes ``finished``, ``stopped`` (SIGTERM or Ctrl-C:
a checkpoint was saved) or ``failed``, with ``ended``, ``step``,
``last_checkpoint``, ``best_cer`` and, for a failure, ``message`` (English, what
the CLI prints), ``code`` and ``params`` (for the window's translated sentence).

A process that dies without a word (``kill -9``, the out-of-memory killer, a
segfault) leaves ``running`` behind: :func:`process_alive` tells a live process
from a dead one by its pid *and* the time the system started it, so a pid that
was reused by another program is not mistaken for the run.

``live.jsonl`` holds the trainer's "live" points (a few a second, between the log
steps of metrics.jsonl) so that a window following the folder draws the same fine
curves and ETA as the process itself sees. No Qt here.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from engine.fileio import write_json_atomic

RUN_STATE = "run.json"
LIVE = "live.jsonl"
LOG = "train.log"  # the process's stdout and stderr, when the window started it

STARTING, RUNNING, FINISHED, STOPPED, FAILED = "starting", "running", "finished", "stopped", "failed"
ACTIVE = (STARTING, RUNNING)  # the process was at work when the file was written
ENDED = (FINISHED, STOPPED, FAILED)
PROCESS_START_TOLERANCE = 0.05  # seconds; the kernel counts a process's start in clock ticks (10 ms)


@dataclass
class RunState:
    """The contents of ``run.json``."""

    state: str
    pid: int
    host: str
    started: float  # time.time() when the process began
    process_start: float | None = None  # the system's start time of ``pid`` (seconds since the epoch)
    command: list[str] = field(default_factory=list)
    world_size: int = 1  # > 1: torchrun; ``pid`` is rank 0
    ended: float | None = None
    step: int | None = None
    last_checkpoint: str | None = None
    best_cer: float | None = None
    message: str = ""
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether the file says the process is at work (see :func:`process_alive` for whether it still is)."""
        return self.state in ACTIVE

    @property
    def local(self) -> bool:
        """Whether the process runs on this machine (a pid means nothing on another host)."""
        return self.host == socket.gethostname()


def read_run_state(run_dir: str | Path) -> RunState | None:
    """``run_dir/run.json``, or None if there is none or it cannot be read (an older run, a foreign file)."""
    try:
        data = json.loads((Path(run_dir) / RUN_STATE).read_text(encoding="utf-8"))
        known = {f.name for f in fields(RunState)}
        state = RunState(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(state.pid, int) or not isinstance(state.state, str):
        return None
    return state


def write_run_state(run_dir: str | Path, state: RunState) -> None:
    write_json_atomic(Path(run_dir) / RUN_STATE, asdict(state))


def this_process(state: str = RUNNING, command: list[str] | None = None, world_size: int = 1) -> RunState:
    """A :class:`RunState` describing the calling process."""
    pid = os.getpid()
    return RunState(state=state, pid=pid, host=socket.gethostname(), started=round(time.time(), 3),
                    process_start=process_start_time(pid),
                    command=list(command if command is not None else getattr(sys, "orig_argv", sys.argv)),
                    world_size=world_size)


def begin_run(run_dir: str | Path, world_size: int = 1) -> RunState:
    """Record in ``run_dir/run.json`` that this process trains the run now; returns what was written."""
    state = this_process(RUNNING, world_size=world_size)
    write_run_state(run_dir, state)
    return state


def end_run(run_dir: str | Path, state: str, *, step: int | None = None, last_checkpoint: str | Path | None = None,
            best_cer: float | None = None, message: str = "", code: str = "",
            params: dict[str, Any] | None = None, current: RunState | None = None) -> RunState:
    """Record how the run ended (``finished``, ``stopped`` or ``failed``), keeping who ran it.

    ``current``: the run that ended (an observer recording a process it saw die); by default the one in
    ``run.json``, else (the file deleted while the run went on) this process.
    """
    if state not in ENDED:
        raise ValueError(f"end_run: state must be one of {', '.join(ENDED)}, got {state!r}")
    current = replace(current) if current is not None else read_run_state(run_dir) or this_process()
    current.state, current.ended = state, round(time.time(), 3)
    if step is not None:
        current.step = int(step)
    if last_checkpoint is not None:
        current.last_checkpoint = str(last_checkpoint)
    if best_cer is not None:
        current.best_cer = float(best_cer)
    current.message, current.code = message, code
    current.params = {k: v for k, v in (params or {}).items() if isinstance(v, (str, int, float, bool, type(None)))}
    write_run_state(run_dir, current)
    return current


def process_start_time(pid: int) -> float | None:
    """When the system started process ``pid`` (seconds since the epoch), or None if it cannot tell.

    Read from ``/proc`` (Linux): a zombie (ended, not yet reaped) counts as gone.
    Elsewhere None: callers then only know whether the pid exists.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")".
        rest = stat[stat.rindex(")") + 2:].split()
        if rest[0] in ("Z", "X"):  # field 3, the state: zombie or dead
            return None
        ticks = int(rest[19])  # field 22, starttime: clock ticks after boot
        return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


_BOOT_TIME: float | None = None


def _boot_time() -> float:
    global _BOOT_TIME
    if _BOOT_TIME is None:
        with open("/proc/stat", encoding="ascii") as f:
            _BOOT_TIME = float(next(line.split()[1] for line in f if line.startswith("btime ")))
    return _BOOT_TIME


def process_alive(state: RunState) -> bool | None:
    """Whether the process ``state`` names is still running: True, False, or None when it cannot be told here.

    The pid must exist *and* (where the system says) have started when ``state.process_start`` says, so a pid
    reused by another program after the run died is not taken for the run. None for a run on another host.
    """
    if not state.local:
        return None
    if sys.platform.startswith("linux") and os.path.isdir("/proc"):
        started = process_start_time(state.pid)
        if started is None:
            return False
        return state.process_start is None or abs(started - state.process_start) < PROCESS_START_TOLERANCE
    if os.name != "posix":
        return None  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the pid now; it exists
    return True


class LiveLog:
    """Append the trainer's live points to ``run_dir/live.jsonl`` (a callable for ``Trainer(on_live=...)``).

    One JSON object a line, flushed at once, so a window tailing the folder sees each point within its poll.
    The folder is created when the first point comes (the trainer makes it before training starts).
    """

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LIVE
        self._file = None

    def __call__(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
