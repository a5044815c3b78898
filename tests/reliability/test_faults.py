"""Training under faults: killed at random moments, the disk filling up, the GPU running out of memory.

What must hold each time: the last complete checkpoint is intact and is what a
resume starts from, nothing half-written is ever taken for a checkpoint, and
the user is told in one line what happened and what to do.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

import engine.speech_transformer.files
from engine.cli import main
from engine.data.manifest import read_manifest
from engine.errors import ParceroError
from engine.models.io import load_model
from engine.training.checkpoint import list_checkpoints, load_trainer_state
from engine.training.config import load_run_config
from engine.training.loop import Trainer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus
from tests.reliability.tools import REPO, assert_clean_failure, tiny_config, tiny_run_config, write_config


def assert_every_checkpoint_loads(run_dir: Path) -> list[int]:
    """Every ``step-N`` folder on disk is a whole checkpoint: model and trainer state load. Returns the steps."""
    folders = sorted(p for p in (run_dir / "checkpoints").glob("step-*"))
    for folder in folders:
        load_model(folder)
        assert load_trainer_state(folder)["step"] == int(folder.name.split("-")[1])
    assert [s for s, _ in list_checkpoints(run_dir)] == [int(p.name.split("-")[1]) for p in folders]
    return [int(p.name.split("-")[1]) for p in folders]


def records_since(metrics: Path, offset: int) -> list[dict]:
    """Complete JSON lines appended to metrics.jsonl after byte ``offset``."""
    if not metrics.exists():
        return []
    with open(metrics, "rb") as f:
        f.seek(offset)
        return [json.loads(line) for line in f.read().split(b"\n")[:-1]]


def _resumed_step(records: list[dict]) -> int | None:
    for r in records:
        if r["kind"] == "note" and r["message"].startswith("resumed from"):
            return int(r["message"].rsplit("(step ", 1)[1].rstrip(")"))
        if r["kind"] == "note" and "no checkpoint to resume from" in r["message"]:
            return 0
    return None


@pytest.mark.slow
def test_ten_sigkills_at_random_moments_lose_nothing_but_time(tmp_path):
    data = write_tone_corpus(tmp_path / "data", OVERFIT_TEXTS[:4], "train")
    settings = dict(max_steps=40, checkpoint_every=1, keep_last=3, deterministic=True, seed=5)
    config = tiny_config(tmp_path / "matado", data, **settings)
    config["data"]["max_batch_size"] = 2  # two batches an epoch: kills land mid-epoch too
    cfg = write_config(tmp_path / "matado.toml", config)
    run_dir = Path(config["run"]["dir"])
    metrics = run_dir / "metrics.jsonl"
    rng = random.Random(2024)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    kills, resumed_from, last_complete = 0, [], None
    while kills < 10:
        offset = metrics.stat().st_size if metrics.exists() else 0
        args = ["train", "--config", str(cfg)] + (["--resume"] if last_complete is not None else [])
        proc = subprocess.Popen([sys.executable, "-m", "engine.cli", *args], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def steps_done() -> int:
            return sum(r["kind"] == "train" for r in records_since(metrics, offset))

        try:
            # While starting (imports, config.toml, vocab.json), or after one or two steps: then the
            # kill lands in a step, a checkpoint being written or an old one being pruned. Waiting on
            # steps, not seconds, keeps each life short on a fast machine as on a loaded one.
            starting = rng.random() < 0.3
            until = time.monotonic() + (rng.uniform(0.2, 3.0) if starting else 120)
            wanted = 1 if starting else rng.choice([1, 2])
            while proc.poll() is None and time.monotonic() < until and steps_done() < wanted:
                time.sleep(0.02)
            if not starting:
                time.sleep(rng.uniform(0.0, 0.1))
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            proc.kill()
        assert not finished, "the run finished before it could be killed ten times"
        kills += 1
        started = _resumed_step(records_since(metrics, offset))
        if started is not None:  # it got as far as saying where it resumed from
            resumed_from.append((started, last_complete or 0))
        steps = assert_every_checkpoint_loads(run_dir)
        last_complete = steps[-1] if steps else (0 if last_complete is None else last_complete)
        half_written = len(list((run_dir / "checkpoints").glob(".*")))  # hidden: never taken for checkpoints
        print(f"kill {kills}: resumed from step {started}, checkpoints on disk {steps}, "
              f"{half_written} half-written folder(s) left for the next run to sweep")

    done = subprocess.run([sys.executable, "-m", "engine.cli", "train", "--config", str(cfg), "--resume"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "finished at step 40" in done.stderr
    assert all(started == expected for started, expected in resumed_from), resumed_from
    assert len(resumed_from) >= 5  # most runs got far enough to resume
    assert assert_every_checkpoint_loads(run_dir)[-1] == 40
    assert not list((run_dir / "checkpoints").glob(".*"))  # half-written folders of killed runs swept away

    straight_config = load_run_config(write_config(tmp_path / "derecho.toml", {
        **config, "run": {"name": "derecho", "dir": str(tmp_path / "derecho")}}))
    straight = Trainer(straight_config).run()
    a = load_model(straight.last_checkpoint).model.state_dict()
    b = load_model(run_dir / "checkpoints" / "step-000040").model.state_dict()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5)


# ---- a full disk ---------------------------------------------------------------------------------


def test_a_full_disk_while_checkpointing_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    """The write error is injected where a full disk surfaces: safetensors, part-way through a file."""
    config = tiny_run_config(tmp_path, max_steps=6, checkpoint_every=2, keep_last=5)
    real_save = engine.speech_transformer.files.save_file
    calls = []

    def disk_fills_at_second_save(state, filename, metadata=None):
        calls.append(filename)
        if len(calls) < 2:
            return real_save(state, filename, metadata=metadata)
        with open(filename, "wb") as f:
            f.write(b"\0" * 1000)  # what fitted before the disk filled
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(engine.speech_transformer.files, "save_file", disk_fills_at_second_save)
    with pytest.raises(ParceroError) as caught:
        Trainer(config).run()
    run_dir = config.resolve(config.out_dir)
    message = str(caught.value)
    assert f"{run_dir / 'checkpoints' / 'step-000004'}: cannot write the checkpoint" in message
    assert "No space left on device" in message
    assert f"the last complete checkpoint, {run_dir / 'checkpoints' / 'step-000002'}, is intact" in message
    assert "--resume" in message
    assert assert_every_checkpoint_loads(run_dir) == [2]
    assert not list((run_dir / "checkpoints").glob(".*"))  # the half-written checkpoint is gone

    monkeypatch.undo()  # space freed
    resumed = Trainer(config, resume=True)
    assert resumed.step == 2
    assert resumed.run().step == 6


LIMITED = ("import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           "resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
           "sys.argv = ['parcero', *sys.argv[1:]]; runpy.run_module('engine.cli', run_name='__main__')")


@pytest.mark.slow
def test_a_real_write_failure_while_checkpointing_is_one_line_and_resumable(tmp_path):
    """No injection: the OS refuses every byte past 256 kB of any file (RLIMIT_FSIZE), as a full disk would."""
    config = tiny_config(tmp_path, max_steps=2, checkpoint_every=2)
    cfg = write_config(tmp_path / "lleno.toml", config)
    run_dir = Path(config["run"]["dir"])
    Trainer(load_run_config(cfg)).run()
    config["train"]["max_steps"] = 4
    write_config(cfg, config)
    out = subprocess.run([sys.executable, "-c", LIMITED.format(limit=256 * 1024), "train", "--config", str(cfg),
                          "--resume"], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 1
    assert_clean_failure(out.stderr)
    [line] = [x for x in out.stderr.splitlines() if x.startswith("parcero: error: ")]
    assert f"{run_dir / 'checkpoints' / 'step-000004'}: cannot write the checkpoint (" in line
    assert "File too large" in line and f"{run_dir / 'checkpoints' / 'step-000002'}, is intact" in line
    assert assert_every_checkpoint_loads(run_dir) == [2]
    assert Trainer(load_run_config(cfg), resume=True).run().step == 4


def test_a_full_disk_while_writing_a_manifest_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    data = write_tone_corpus(tmp_path, OVERFIT_TEXTS, "train")
    clean = tmp_path / "limpio.jsonl"
    assert main(["data", "validate", str(data), "--out", str(clean)]) == 0
    before = clean.read_bytes()

    class FullDisk:
        """The file being written: the disk fills after 300 bytes; the error names no file, as a real one."""

        def __init__(self, f):
            self.f, self.room = f, 300

        def write(self, text):
            if len(text) > self.room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= len(text)
            return self.f.write(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def open_on_a_full_disk(file, mode="r", *args, **kwargs):
        f = open(file, mode, *args, **kwargs)
        return FullDisk(f) if "w" in mode else f

    monkeypatch.setattr("engine.data.manifest.open", open_on_a_full_disk, raising=False)
    capsys.readouterr()
    assert main(["data", "validate", str(data), "--out", str(clean)]) == 1
    err = capsys.readouterr().err
    assert_clean_failure(err)
    assert err.endswith(f"parcero: error: {clean}: No space left on device\n")
    assert clean.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert len(read_manifest(clean).utterances) == len(OVERFIT_TEXTS)


# ---- out of GPU memory ---------------------------------------------------------------------------------


def test_running_out_of_gpu_memory_saves_progress_and_says_what_to_change(tmp_path, capsys):
    """torch.OutOfMemoryError raised on the third forward pass, as CUDA would raise it."""
    config = tiny_config(tmp_path, max_steps=6, checkpoint_every=100)
    cfg = write_config(tmp_path / "memoria.toml", config)
    run_dir = Path(config["run"]["dir"])
    forwards = []

    def out_of_memory_at_step_three(module, args):
        if type(module).__name__ == "SpeechTransformer" and module.training:
            forwards.append(1)
            if len(forwards) == 3:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB "
                                             "total capacity; 5.91 GiB already allocated)")

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    hook = torch.nn.modules.module.register_module_forward_pre_hook(out_of_memory_at_step_three)
    try:
        assert main(["train", "--config", str(cfg), "--device", "cpu"]) == 1
    finally:
        hook.remove()
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    err = capsys.readouterr().err
    assert_clean_failure(err)
    [line] = [x for x in err.splitlines() if x.startswith("parcero: error: ")]
    assert "ran out of memory on a batch of" in line and "Lower data.max_frames (now 100000)" in line
    assert f"Progress is saved in {run_dir / 'checkpoints' / 'step-000002'}; continue with --resume" in line
    assert assert_every_checkpoint_loads(run_dir) == [2]
    assert Trainer(load_run_config(cfg), resume=True).run().step == 6
