"""Following a run folder written by hand: records in the order written, samples, and how its process ended."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from app import training_runs
from app.run_follower import RunFollower, describe_end, runs_to_reattach
from engine.training import runstate
from engine.training.runstate import RunState, read_run_state, write_run_state

HOST = socket.gethostname()


def line(kind: str, time: float, **values) -> str:
    return json.dumps({"time": time, "kind": kind, **values}) + "\n"


def append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


@pytest.fixture
def follower(qapp):
    f = RunFollower()
    events: list[tuple] = []  # every signal, in the order it came
    f.records_read.connect(lambda records: events.append(("records", [(r["kind"], r.get("step")) for r in records])))
    f.restarted.connect(lambda: events.append(("restarted",)))
    f.samples_changed.connect(lambda steps: events.append(("samples", steps)))
    f.ended.connect(lambda state: events.append(("ended", state)))
    f.events = events
    yield f
    f.detach()


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def running_state(pid: int, started: float = 1.0) -> RunState:
    return RunState("running", pid, HOST, started, process_start=runstate.process_start_time(pid))


def dead_pid() -> int:
    gone = sleeper()
    gone.kill()
    gone.wait()
    return gone.pid


def test_records_of_both_files_arrive_in_the_order_they_were_written(follower, tmp_path):
    (tmp_path / "metrics.jsonl").write_text(
        line("train", 1001.0, step=1) + line("eval", 1003.5, step=3) + '{"time": 1004.0, "kind": "tra',
        encoding="utf-8")  # the writer is half-way through a line
    (tmp_path / "live.jsonl").write_text(line("live", 1002.0, step=2) + line("live", 1003.0, step=3),
                                         encoding="utf-8")
    follower.open(tmp_path)
    follower.follow(None)  # no run.json: a run written by another process, followed for as long as it writes
    assert follower.polling and follower.announce is False
    follower.poll()
    assert follower.events == [("records", [("train", 1), ("live", 2), ("live", 3), ("eval", 3)])]
    follower.poll()  # nothing new: nothing said
    assert len(follower.events) == 1
    append(tmp_path / "metrics.jsonl", 'in", "step": 4}\n')
    append(tmp_path / "live.jsonl", line("live", 1004.5, step=5))
    follower.poll()
    assert follower.events[1:] == [("records", [("train", 4), ("live", 5)])]
    assert follower.polling and follower.state is None  # without a run.json the run never "ends"


def test_the_timer_reads_what_is_written_next_and_a_fresh_start_skips_the_old_log(qtbot, tmp_path):
    (tmp_path / "metrics.jsonl").write_text(line("train", 1.0, step=1), encoding="utf-8")  # an earlier run's
    follower = RunFollower(interval_ms=20)
    follower.open(tmp_path, from_end=True)
    follower.follow(None)
    with qtbot.waitSignal(follower.records_read, timeout=5000) as read:
        append(tmp_path / "live.jsonl", line("live", 2.0, step=1))
    assert [r["kind"] for r in read.args[0]] == ["live"]
    follower.detach()
    assert not follower.polling and not follower.following


def test_a_replaced_file_starts_both_files_over_from_the_top(follower, tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(line("train", 1.0, step=1) + line("train", 3.0, step=2), encoding="utf-8")
    (tmp_path / "live.jsonl").write_text(line("live", 2.0, step=1), encoding="utf-8")
    follower.open(tmp_path)
    follower.follow(None)
    follower.poll()
    metrics.write_text(line("train", 9.0, step=1), encoding="utf-8")  # a new run in the same folder: shorter
    follower.events.clear()
    follower.poll()
    assert follower.events == [("restarted",), ("records", [("live", 1), ("train", 1)])]


def test_new_samples_are_said_once_each(follower, tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    follower.open(tmp_path)
    follower.follow(None)
    follower.poll()
    assert follower.events == []
    for step in (2, 4):
        np.savez_compressed(samples / f"step-{step:06d}.npz", a=np.zeros((1, 1, 1, 1), np.float16))
        follower.poll()
        follower.poll()
    assert follower.events == [("samples", [2]), ("samples", [2, 4])]


def test_a_dead_pid_in_run_json_reads_as_died_after_what_it_wrote(follower, tmp_path):
    state = running_state(os.getpid())
    state.pid, state.process_start = dead_pid(), 1.0
    write_run_state(tmp_path, state)
    (tmp_path / "metrics.jsonl").write_text(line("train", 1.0, step=1), encoding="utf-8")
    training_runs.remember(tmp_path)
    follower.open(tmp_path)
    follower.follow(state)
    assert follower.announce  # it was at work when followed: its end is news
    follower.poll()
    assert [e[0] for e in follower.events] == ["records", "ended"]  # everything it wrote, then its end
    ended = follower.events[-1][1]
    assert (ended.state, ended.code, ended.pid) == ("failed", "train.died", state.pid)
    assert read_run_state(tmp_path) == ended  # recorded: never "running" for ever
    assert follower.state is None and not follower.polling and training_runs.remembered() == []
    end = describe_end(ended, tmp_path)
    assert end.error and end.message == "The training process ended unexpectedly (killed or crashed)."
    assert end.text == end.message + " No checkpoint was saved." and end.checkpoint == ""
    follower.poll()
    assert len(follower.events) == 2  # said once


def test_a_run_ends_when_its_run_json_says_it_finished(follower, tmp_path):
    state = running_state(os.getpid())  # this test's own process: alive
    write_run_state(tmp_path, state)
    follower.open(tmp_path)
    follower.follow(state)
    follower.poll()
    assert follower.events == [] and follower.state.state == "running" and follower.polling
    checkpoint = tmp_path / "checkpoints" / "step-000006"
    runstate.end_run(tmp_path, runstate.FINISHED, step=6, last_checkpoint=checkpoint, best_cer=0.25, current=state)
    follower.poll()
    assert [e[0] for e in follower.events] == ["ended"] and not follower.polling
    ended = follower.events[0][1]
    assert (ended.state, ended.step, ended.best_cer) == ("finished", 6, 0.25)
    end = describe_end(ended, tmp_path)
    assert not end.error and end.text == f"Finished at step 6; best dev CER 25.00 %. Model: {tmp_path.name}/best"
    assert end.tooltip == str(tmp_path / "best") and end.checkpoint == str(checkpoint)


def test_what_a_run_writes_just_before_its_end_is_read_before_the_end_is_said(follower, tmp_path):
    state = running_state(os.getpid())
    write_run_state(tmp_path, state)
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(line("train", 1.0, step=1), encoding="utf-8")

    def the_run_writes_its_last_lines_and_ends(_records):  # while the window draws the batch before
        if not metrics.read_text("utf-8").count("checkpoint"):
            append(metrics, line("checkpoint", 2.0, step=2, path="checkpoints/step-000002"))
            runstate.end_run(tmp_path, runstate.FINISHED, step=2, current=state)

    follower.records_read.connect(the_run_writes_its_last_lines_and_ends)
    follower.open(tmp_path)
    follower.follow(state)
    follower.poll()
    assert [e[:2] if e[0] == "records" else e[0] for e in follower.events] == [
        ("records", [("train", 1)]), ("records", [("checkpoint", 2)]), "ended"]


def test_a_run_that_had_ended_before_it_was_followed_is_history(follower, tmp_path):
    state = runstate.end_run(tmp_path, runstate.FAILED, code="train.diverged", message="the loss is NaN",
                             current=running_state(os.getpid()))
    follower.open(tmp_path)
    follower.follow(read_run_state(tmp_path))
    assert not follower.announce
    follower.poll()
    assert follower.events == [("ended", state)]
    end = describe_end(state, tmp_path, last_checkpoint=str(tmp_path / "checkpoints" / "step-000004"))
    assert end.error and end.text.endswith(
        f" Last checkpoint: {tmp_path.name}/checkpoints/step-000004; Resume continues from it.")


def test_stop_asks_the_process_once_and_an_exit_before_any_checkpoint_reads_as_stopped(follower, tmp_path):
    process = sleeper()  # a trainer that exits on SIGTERM without a word
    try:
        state = running_state(process.pid)
        write_run_state(tmp_path, state)
        follower.open(tmp_path)
        follower.follow(state)
        assert follower.stop_run() and follower.stopping
        assert not follower.stop_run()  # asked already
        process.wait(timeout=10)
        follower.poll()
    finally:
        process.kill()
        process.wait()
    ended = follower.events[-1][1]
    assert ended.state == "stopped" and read_run_state(tmp_path).state == "stopped" and not follower.stopping
    end = describe_end(ended, tmp_path)
    assert end.text == "Stopped before the first step; nothing to save." and end.checkpoint == ""
    saved = str(tmp_path / "checkpoints" / "step-000004")
    assert describe_end(ended, tmp_path, saved).text == (
        f"Stopped; checkpoint saved in {tmp_path.name}/checkpoints/step-000004. Resume continues from it.")


def test_stop_on_a_process_already_gone_says_how_it_ended_at_once(follower, tmp_path):
    state = running_state(os.getpid())
    state.pid, state.process_start = dead_pid(), 1.0
    write_run_state(tmp_path, state)
    follower.open(tmp_path)
    follower.follow(state)
    assert not follower.stop_run()
    assert [e[0] for e in follower.events] == ["ended"] and follower.events[0][1].code == "train.died"


def test_a_window_opened_later_follows_the_running_run_and_records_the_dead(tmp_path):
    runs = tmp_path / "runs"
    alive = sleeper()
    try:
        write_run_state(runs / "viva", running_state(alive.pid, started=3.0))
        write_run_state(runs / "muerta", RunState("running", dead_pid(), HOST, 2.0, process_start=1.0))
        training_runs.remember(runs / "muerta")
        assert runs_to_reattach(runs) == ([(runs / "viva").absolute()], None)
    finally:
        alive.kill()
        alive.wait()
    died = read_run_state(runs / "muerta")
    assert (died.state, died.code) == ("failed", "train.died")
    assert training_runs.remembered() == []  # seen to end: not found again


def test_without_a_running_run_the_newest_launched_one_is_shown_and_says_its_end_itself(tmp_path):
    runs = tmp_path / "runs"
    write_run_state(runs / "muerta", RunState("running", dead_pid(), HOST, 2.0, process_start=1.0))
    write_run_state(runs / "hecha", RunState("finished", 1, HOST, 1.0))
    write_run_state(runs / "ajena", RunState("running", dead_pid(), HOST, 3.0, process_start=1.0))
    for name in ("muerta", "hecha"):
        training_runs.remember(runs / name)
    assert runs_to_reattach(runs) == ([], (runs / "muerta").absolute())
    assert read_run_state(runs / "muerta").state == "running"  # left for the page to say, once it follows it
    assert read_run_state(runs / "ajena").code == "train.died"  # not launched by a window: recorded at once
    assert training_runs.remembered() == [str((runs / "muerta").absolute())]
    assert runs_to_reattach(tmp_path / "nothing-here") == ([], (runs / "muerta").absolute())
