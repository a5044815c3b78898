"""run.json and live.jsonl: what a training process says about itself, and telling a live process from a dead one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from engine.training import runstate
from engine.training.runstate import LiveLog, RunState, end_run, process_alive, read_run_state, write_run_state
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus

REPO = Path(__file__).resolve().parents[2]
TINY = {"preset": "tiny", "d_model": 96, "d_ff": 384, "n_enc_layers": 2, "n_dec_layers": 2}


def test_begin_then_end_keeps_who_ran_it_and_writes_atomically(tmp_path):
    begun = runstate.begin_run(tmp_path / "run")
    assert begun.state == "running" and begun.pid == os.getpid() and begun.host == socket.gethostname()
    assert begun.command and begun.active and process_alive(begun) is True
    ended = end_run(tmp_path / "run", "failed", step=12, last_checkpoint=tmp_path / "ck", message="disk full",
                    code="x.y", params={"path": "/a", "bad": object()})
    again = read_run_state(tmp_path / "run")
    assert again == ended
    assert (again.state, again.pid, again.started, again.step, again.message) == (
        "failed", begun.pid, begun.started, 12, "disk full")
    assert again.params == {"path": "/a"} and not again.active and again.ended >= again.started
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["run.json"]  # no temporary file left behind
    with pytest.raises(ValueError, match="running"):
        end_run(tmp_path / "run", "running")
    # An observer that saw the process die records it for that process, not for itself, file or no file.
    (tmp_path / "run" / "run.json").unlink()
    seen = RunState("running", 4242, "estudio", 5.0, command=["parcero", "train"])
    died = end_run(tmp_path / "run", "failed", message="killed", current=seen)
    assert (died.pid, died.host, died.command, died.state) == (4242, "estudio", ["parcero", "train"], "failed")
    assert seen.state == "running" and read_run_state(tmp_path / "run") == died


def test_an_unreadable_or_foreign_run_json_reads_as_none_and_unknown_keys_are_ignored(tmp_path):
    assert read_run_state(tmp_path) is None
    (tmp_path / "run.json").write_text("{no json", encoding="utf-8")
    assert read_run_state(tmp_path) is None
    (tmp_path / "run.json").write_text(json.dumps({"state": "running", "pid": "12"}), encoding="utf-8")
    assert read_run_state(tmp_path) is None  # no host, no start: not ours
    state = RunState("running", 12, "otro", 1.0)
    (tmp_path / "run.json").write_text(json.dumps({**state.__dict__, "future_field": 1}), encoding="utf-8")
    assert read_run_state(tmp_path) == state


def test_a_dead_pid_a_reused_pid_and_another_host_are_told_apart(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = runstate.process_start_time(child.pid)
        mine = RunState("running", child.pid, socket.gethostname(), time.time(), process_start=started)
        assert process_alive(mine) is True
        if started is not None:  # Linux: the pid now belongs to a process started at another time
            reused = RunState("running", child.pid, socket.gethostname(), time.time(), process_start=started - 10)
            assert process_alive(reused) is False
        assert process_alive(RunState("running", child.pid, "otra-maquina", time.time())) is None
    finally:
        child.kill()
    if hasattr(os, "waitid"):
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped: a zombie
        assert process_alive(mine) is False  # ... is no longer at work
    child.wait()
    assert process_alive(mine) is False


def test_live_log_appends_one_flushed_line_per_point(tmp_path):
    live = LiveLog(tmp_path)
    live({"kind": "live", "step": 1, "loss": 2.5})
    assert json.loads((tmp_path / "live.jsonl").read_text("utf-8")) == {"kind": "live", "step": 1, "loss": 2.5}
    live({"kind": "live", "step": 2, "loss": 2.0})
    live.close()
    assert [json.loads(line)["step"] for line in (tmp_path / "live.jsonl").read_text("utf-8").splitlines()] == [1, 2]


def _config(tmp_path, run_dir, **train) -> Path:
    cfg = tmp_path / f"{run_dir.name}.toml"
    cfg.write_text(tomli_w.dumps({
        "run": {"dir": str(run_dir)},
        "data": {"train": str(write_tone_corpus(tmp_path, OVERFIT_TEXTS, "train")), "num_workers": 0},
        "model": TINY, "train": {"max_steps": 3, "log_every": 1, "checkpoint_every": 3, "warmup": 10, **train},
    }), encoding="utf-8")
    return cfg


def _train(cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", "train", "--config", str(cfg)], cwd=REPO,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_parcero_train_writes_run_json_and_live_points(tmp_path):
    run_dir = tmp_path / "runs" / "corto"
    done = _train(_config(tmp_path, run_dir))
    assert done.returncode == 0, done.stderr
    state = read_run_state(run_dir)
    assert state.state == "finished" and state.step == 3 and state.pid != os.getpid()
    assert state.last_checkpoint == str(run_dir / "checkpoints" / "step-000003")
    assert "train" in state.command and process_alive(state) is False
    live = [json.loads(line) for line in (run_dir / "live.jsonl").read_text("utf-8").splitlines()]
    assert [r["step"] for r in live] == [1, 2, 3] and all(r["kind"] == "live" and "time" in r for r in live)

    # A failure is recorded with its message; a second run on the folder is told it holds checkpoints.
    done = _train(_config(tmp_path, run_dir))
    assert done.returncode == 1
    failed = read_run_state(run_dir)
    assert failed.state == "failed" and "already holds checkpoints" in failed.message
    assert failed.last_checkpoint == str(run_dir / "checkpoints" / "step-000003")


@pytest.mark.slow
def test_a_folder_that_a_live_process_trains_is_refused(tmp_path):
    run_dir = tmp_path / "runs" / "ocupado"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_run_state(run_dir, RunState("running", other.pid, socket.gethostname(), time.time(),
                                          process_start=runstate.process_start_time(other.pid)))
        done = _train(_config(tmp_path, run_dir))
        assert done.returncode == 1 and f"process {other.pid} is training this run folder now" in done.stderr
        assert read_run_state(run_dir).pid == other.pid  # its run.json is left alone
    finally:
        other.kill()
        other.wait()
