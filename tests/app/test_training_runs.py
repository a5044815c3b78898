"""Training runs in processes of their own: launch, follow their run.json, stop, find them again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from app import training_runs
from engine.training import runstate
from engine.training.runstate import RunState, read_run_state, write_run_state
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import TINY_MODEL, write_tone_corpus



@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_tone_corpus(tmp_path_factory.mktemp("tonos"), OVERFIT_TEXTS, "train")


def config(manifest, run_dir, **train) -> dict:
    return {"run": {"name": run_dir.name, "dir": str(run_dir)}, "data": {"train": str(manifest), "num_workers": 0},
            "model": dict(TINY_MODEL), "train": {"max_steps": 3, "log_every": 1, "checkpoint_every": 3,
                                                 "warmup": 10, **train}}


def wait_for_end(run_dir, timeout: float = 120.0) -> RunState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_run_state(run_dir)
        if state is not None and not training_runs.is_running(state) and training_runs.exit_text(state):
            return state  # said how it ended, and exited
        time.sleep(0.1)
    raise AssertionError(f"{run_dir}: still training after {timeout} s")


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_the_command_is_parcero_train_through_this_python(tmp_path):
    assert training_runs.training_command(tmp_path / "config.toml") == [
        sys.executable, "-m", "engine.cli", "train", "--config", str(tmp_path / "config.toml")]
    assert training_runs.training_command(tmp_path / "config.toml", resume=True)[-1] == "--resume"


@pytest.mark.slow
def test_a_launched_run_lives_in_its_own_session_and_records_how_it_ended(manifest, tmp_path):
    run_dir = tmp_path / "runs" / "propia"
    launched = training_runs.launch(config(manifest, run_dir), run_dir)
    pid = launched.state.pid
    assert pid != os.getpid() and launched.state.host == socket.gethostname()
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid  # its own session: closing the window spares it
    assert (run_dir / "config.toml").is_file() and launched.command[-2:] == ["--config", str(run_dir / "config.toml")]
    assert read_run_state(run_dir).pid == pid and training_runs.is_running(read_run_state(run_dir))
    assert training_runs.remembered() == [str(run_dir)]
    assert [d for d, _ in training_runs.running_runs()] == [run_dir]
    state = wait_for_end(run_dir)
    assert (state.state, state.pid, state.step) == ("finished", pid, 3)
    assert state.last_checkpoint == str(run_dir / "checkpoints" / "step-000003")
    assert "finished at step 3" in training_runs.log_tail(run_dir)  # the process's own words, in train.log
    assert training_runs.exit_text(state) == "exit status 0"
    assert training_runs.running_runs() == [] and not training_runs.stop(state)  # nothing left to stop


@pytest.mark.slow
def test_a_config_the_process_cannot_read_is_recorded_as_its_failure(manifest, tmp_path):
    run_dir = tmp_path / "runs" / "rota"
    training_runs.launch({**config(manifest, run_dir), "entrenamiento": {"pasos": 3}}, run_dir)
    state = wait_for_end(run_dir)
    assert state.state == "failed" and "unknown section(s) entrenamiento" in state.message
    assert str(run_dir / "config.toml") in state.message  # the file at fault
    assert training_runs.exit_text(state) == "exit status 1"


def test_a_folder_a_live_process_trains_is_not_launched_again(manifest, tmp_path):
    run_dir = tmp_path / "runs" / "ocupada"
    other = sleeper()
    try:
        busy = RunState("running", other.pid, socket.gethostname(), time.time(),
                        process_start=runstate.process_start_time(other.pid))
        write_run_state(run_dir, busy)
        with pytest.raises(Exception, match=f"process {other.pid} is training this run folder now"):
            training_runs.launch(config(manifest, run_dir), run_dir)
        assert read_run_state(run_dir) == busy and not (run_dir / "config.toml").exists()
    finally:
        other.kill()
        other.wait()


def test_runs_are_found_again_and_a_dead_one_is_recorded_as_died(tmp_path):
    runs = tmp_path / "runs"
    host = socket.gethostname()
    alive, gone = sleeper(), sleeper()
    gone.kill()
    gone.wait()
    try:
        write_run_state(runs / "viva", RunState("running", alive.pid, host, 3.0,
                                                process_start=runstate.process_start_time(alive.pid)))
        write_run_state(runs / "muerta", RunState("running", gone.pid, host, 2.0, process_start=1.0))
        write_run_state(runs / "hecha", RunState("finished", gone.pid, host, 1.0))
        write_run_state(tmp_path / "lejos", RunState("running", 1, "otra-maquina", 4.0))
        training_runs.remember(tmp_path / "lejos")
        assert [d.name for d, _ in training_runs.known_runs(runs)] == ["lejos", "viva", "muerta", "hecha"]
        assert [d.name for d, _ in training_runs.running_runs(runs)] == ["viva"]  # on this machine, alive
        dead = read_run_state(runs / "muerta")
        assert not training_runs.is_running(dead) and not training_runs.stop(dead)
        died = training_runs.mark_died(runs / "muerta", dead, "killed by signal SIGKILL")
        assert (died.state, died.code, died.pid) == ("failed", "train.died", gone.pid)
        assert read_run_state(runs / "muerta") == died and "killed by signal SIGKILL" in died.message
        assert training_runs.is_running(read_run_state(tmp_path / "lejos"))  # another host: cannot be told dead
        training_runs.forget(tmp_path / "lejos")
        assert training_runs.remembered() == []
    finally:
        alive.kill()
        alive.wait()
