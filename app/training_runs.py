"""Training runs in their own processes: launch one, stop it, tell whether it still lives, find it again.

The window does not train in its engine process (that one keeps transcribing and
evaluating): Start launches ``parcero train --config <run>/config.toml`` through
the same Python, in a session of its own, so it outlives the window. The run
writes everything to its folder (metrics.jsonl, live.jsonl, checkpoints,
samples, and run.json: see :mod:`engine.training.runstate`); the Train page
follows the folder, and a window opened later finds the runs still at work —
those it launched (remembered in the settings) and any in the user's runs folder.

Stop is SIGTERM to the run's process group: the trainer saves a checkpoint at the
next step and exits; its data-loader workers ignore the signal and are ended by
the trainer (engine.data.batching). Qt here is only QSettings.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

from engine.client import exit_reason
from engine.configio import write_toml
from engine.errors import ParceroError
from engine.training import runstate
from engine.training.runstate import LOG, RunState

log = logging.getLogger(__name__)

LAUNCHED_KEY = "train/launched_runs"  # run folders this window started and has not seen end
CONFIG = "config.toml"

# Processes this application started, by pid: polled so that an ended one is reaped (no zombie) and
# its exit status known, even after the window that launched it has closed.
_children: dict[int, subprocess.Popen] = {}


@dataclass
class Launched:
    """A run this window just started."""

    run_dir: Path
    state: RunState  # run.json as the window wrote it (the process rewrites it once it runs)
    command: list[str]


def training_command(config_path: Path, resume: bool = False) -> list[str]:
    """``parcero train --config CONFIG [--resume]`` through this Python (or this frozen executable)."""
    if getattr(sys, "frozen", False):  # the PyInstaller build: the executable is the ``parcero`` command
        cmd = [sys.executable, "train"]
    else:
        cmd = [sys.executable, "-m", "engine.cli", "train"]
    cmd += ["--config", str(config_path)]
    if resume:
        cmd.append("--resume")
    return cmd


def launch(config: dict, run_dir: str | Path, resume: bool = False) -> Launched:
    """Write ``config`` to ``run_dir/config.toml`` and start training it in a process of its own.

    ``config`` is TOML-shaped with absolute paths (its folder changes). The process writes its output to
    ``run_dir/train.log`` and survives the window (``start_new_session``).

    Raises
    ------
    ParceroError
        Another live process trains ``run_dir`` now, or the process could not be started (the message says why).
    """
    run_dir = Path(run_dir)
    current = runstate.read_run_state(run_dir)
    if current is not None and is_running(current):
        raise ParceroError(f"{run_dir}: process {current.pid} is training this run folder now")
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / CONFIG
    write_toml(config_path, config)
    cmd = training_command(config_path, resume)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # train.log line by line, not in 8 kB blocks
    checkout = Path(runstate.__file__).resolve().parents[2]
    if not getattr(sys, "frozen", False) and (checkout / "pyproject.toml").is_file():
        # Run from a source checkout (python -m app.main): the process starts in the run folder, so it
        # needs to be told where the engine package is. An installed package needs nothing.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(checkout), env.get("PYTHONPATH", "")) if p)
    try:
        with open(run_dir / LOG, "ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode())
            out.flush()
            process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       cwd=run_dir, env=env, start_new_session=True)
    except OSError as e:
        raise ParceroError(f"{run_dir}: the training process could not be started: {e.strerror or e}") from e
    _children[process.pid] = process
    state = RunState(state=runstate.STARTING, pid=process.pid, host=socket.gethostname(),
                     started=round(time.time(), 3), process_start=runstate.process_start_time(process.pid),
                     command=cmd)
    written = runstate.read_run_state(run_dir)
    if written is None or written.pid != process.pid:  # not already rewritten by the process itself
        runstate.write_run_state(run_dir, state)
    remember(run_dir)
    log.info("training %s in process %d: %s", run_dir, process.pid, " ".join(cmd))
    return Launched(run_dir, state, cmd)


def is_running(state: RunState) -> bool:
    """Whether the run's process is at work now: run.json says so and its pid, started when it says, lives.

    A run on another host counts as running while its run.json says so (this machine cannot see it).
    """
    _reap()
    if not state.active:
        return False
    return runstate.process_alive(state) is not False


def exit_text(state: RunState) -> str:
    """How a process this application started ended ("killed by signal SIGKILL"), or "" when not known."""
    _reap()
    process = _children.get(state.pid)
    if process is None or process.returncode is None:
        return ""
    return exit_reason(process.returncode)


def stop(state: RunState) -> bool:
    """Ask the run to stop: SIGTERM to its process group (its own pid, if it leads none); False if it is gone.

    The trainer saves a checkpoint at its next step, writes run.json (``stopped``) and exits.
    """
    if not state.local or state.world_size > 1 or not is_running(state):
        return False  # torchrun's ranks stop together only from where it was started (Ctrl-C there)
    try:
        if hasattr(os, "killpg") and os.getpgid(state.pid) == state.pid:
            os.killpg(state.pid, signal.SIGTERM)  # the trainer and its loader workers (they leave it to the trainer)
        else:  # started from a shell script's group: signal the trainer only, not the script
            os.kill(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def mark_died(run_dir: str | Path, state: RunState, reason: str = "") -> RunState:
    """Write into run.json that its process is gone without saying how it ended (killed, crashed)."""
    from engine.training.checkpoint import latest_checkpoint

    last = latest_checkpoint(Path(run_dir))
    why = f" ({reason})" if reason else ""
    return runstate.end_run(run_dir, runstate.FAILED, last_checkpoint=last, code="train.died",
                            message=f"the training process {state.pid} ended without saying why{why}: "
                                    "killed or crashed", params={"reason": reason}, current=state)


def log_tail(run_dir: str | Path, lines: int = 5) -> str:
    """The last ``lines`` lines of the run's train.log (what the process printed before it ended), or ""."""
    try:
        with open(Path(run_dir) / LOG, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


# ---- the runs a window should find again ------------------------------------------------

def remember(run_dir: str | Path) -> None:
    runs = remembered()
    path = str(Path(run_dir).absolute())
    if path not in runs:
        _save([*runs, path])


def forget(run_dir: str | Path) -> None:
    path = str(Path(run_dir).absolute())
    runs = remembered()
    if path in runs:
        _save([r for r in runs if r != path])


def remembered() -> list[str]:
    """Run folders launched by a window whose end no window has seen yet."""
    value = QSettings().value(LAUNCHED_KEY, [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-element list in some formats
        value = [value]
    return [str(v) for v in (value or [])]


def _save(runs: list[str]) -> None:
    settings = QSettings()
    settings.setValue(LAUNCHED_KEY, runs)
    settings.sync()


def known_runs(runs_folder: str | Path | None = None) -> list[tuple[Path, RunState]]:
    """The remembered runs and those in ``runs_folder`` that have a run.json, newest start first."""
    folders = [Path(p) for p in remembered()]
    if runs_folder is not None and Path(runs_folder).is_dir():
        folders += sorted(p for p in Path(runs_folder).iterdir() if (p / runstate.RUN_STATE).is_file())
    found: dict[Path, RunState] = {}
    for folder in folders:
        state = runstate.read_run_state(folder)
        if state is not None:
            found.setdefault(folder.absolute(), state)
    return sorted(found.items(), key=lambda item: item[1].started, reverse=True)


def running_runs(runs_folder: str | Path | None = None) -> list[tuple[Path, RunState]]:
    """Of :func:`known_runs`, those whose process is at work on this machine now."""
    return [(d, s) for d, s in known_runs(runs_folder) if s.local and is_running(s)]


def launched_pids() -> list[int]:
    """The pids of the training processes this application launched that still run."""
    _reap()
    return [pid for pid, process in _children.items() if process.returncode is None]


def _reap() -> None:
    """Collect the exit status of every ended child (kept: exit_text() reads it; an entry is tiny)."""
    for process in _children.values():
        process.poll()
