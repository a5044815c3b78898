import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.data.manifest import Utterance, read_manifest, write_manifest
from engine.data.batching import make_loader
from engine.errors import ConfigError, ParceroError
from engine.evaluate import evaluate
from engine.models.io import load_model
from engine.training.checkpoint import list_checkpoints, load_trainer_state
from engine.training.config import run_config_from_dict
from engine.training.loop import Trainer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus

REPO = Path(__file__).resolve().parents[3]

TINY = {"preset": "tiny", "d_model": 96, "d_ff": 384, "n_enc_layers": 2, "n_dec_layers": 2}


def make_config(tmp_path, train_texts=OVERFIT_TEXTS, dev_texts=None, model=None, **train):
    train_path = write_tone_corpus(tmp_path / "data", train_texts, "train")
    dev_path = write_tone_corpus(tmp_path / "data", dev_texts, "dev") if dev_texts else None
    d = {
        "run": {"name": "prueba", "dir": str(tmp_path / "runs" / "prueba")},
        "data": {"train": str(train_path), "num_workers": 0, "max_frames": 100_000, "num_buckets": 1},
        "model": {**TINY, "dropout": 0.0, **(model or {})},
        "text": {"lowercase": False, "punctuation": "keep"},
        "train": {"max_steps": 200, "warmup": 40, "lr_factor": 0.2, "label_smoothing": 0.0, "log_every": 10,
                  "eval_every": 100, "checkpoint_every": 100, **train},
        "spec_augment": {"enabled": False},
    }
    if dev_path:
        d["data"]["dev"] = str(dev_path)
    return run_config_from_dict(d, base_dir=tmp_path)


def metrics(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_overfits_synthetic_utterances_to_cer_zero(tmp_path):
    config = make_config(tmp_path, dev_texts=OVERFIT_TEXTS, max_steps=220, eval_every=110)
    result = Trainer(config).run()
    run = result.run_dir
    assert result.step == 220 and not result.stopped_early
    evals = metrics(run, "eval")
    assert [e["step"] for e in evals] == [110, 220]
    assert evals[-1]["cer"] == 0.0 and evals[-1]["wer"] == 0.0
    assert result.best_cer == 0.0
    train = metrics(run, "train")
    assert train[-1]["loss"] < train[0]["loss"] / 10
    assert all({"lr", "grad_norm", "audio_seconds_per_second", "tokens_per_second"} <= set(r) for r in train)
    # the run folder documents itself and the best model transcribes exactly
    assert (run / "config.toml").read_text().count("[train]") == 1
    assert "ñ" in (run / "vocab.json").read_text(encoding="utf-8")
    best = load_model(run / "best")
    report = evaluate(best.model, best.tokenizer, best.feature_config,
                      read_manifest(config.resolve(config.data.dev)).utterances, config.resolve(config.data.dev).parent)
    assert [r.hypothesis for r in report.rows] == [r.reference for r in report.rows]
    samples = json.loads((run / "samples" / "step-000220.json").read_text(encoding="utf-8"))
    assert len(samples["samples"]) == 4 and samples["samples"][0]["hypothesis"] == samples["samples"][0]["reference"]
    with np.load(run / "samples" / "step-000220.npz", allow_pickle=False) as att:
        a = att[samples["samples"][0]["id"]]
        assert a.ndim == 4 and np.allclose(a.astype(np.float32).sum(-1), 1, atol=0.02)


def _train_until(config, stop_at=None, resume=False):
    trainer = Trainer(config, resume=resume)
    stop = (lambda: trainer.step >= stop_at) if stop_at else (lambda: False)
    trainer.should_stop = stop
    return trainer.run()


def test_stopped_and_resumed_run_continues_the_same_loss_curve(tmp_path):
    # Every source of randomness on: dropout, stochastic depth, SpecAugment, per-epoch shuffling.
    common = dict(max_steps=30, log_every=1, checkpoint_every=1000, eval_every=1000, seed=3)
    extra = {"dropout": 0.1, "stochastic_depth": 0.3}
    a = make_config(tmp_path / "a", model=extra, **common)
    a.spec_augment = run_config_from_dict({"data": {"train": "x"}}).spec_augment
    a.data.max_batch_size = 2  # three batches an epoch: the stop lands mid-epoch
    b = make_config(tmp_path / "b", model=extra, **common)
    b.spec_augment, b.data.max_batch_size = a.spec_augment, 2

    straight = _train_until(a)
    stopped = _train_until(b, stop_at=13)
    assert stopped.stopped_early and stopped.step == 13
    assert [s for s, _ in list_checkpoints(stopped.run_dir)] == [13]
    resumed = _train_until(b, resume=True)
    assert resumed.step == 30

    curve_a = [r["loss"] for r in metrics(straight.run_dir, "train")]
    curve_b = [r["loss"] for r in metrics(stopped.run_dir, "train")]
    assert len(curve_a) == len(curve_b) == 30
    assert curve_b == pytest.approx(curve_a, rel=1e-5, abs=1e-6)
    wa = load_model(straight.last_checkpoint).model.state_dict()
    wb = load_model(resumed.last_checkpoint).model.state_dict()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-5, atol=1e-6)


def test_a_small_dataset_trained_with_workers_keeps_them_and_resumes_bit_exact(tmp_path, monkeypatch):
    # Six clips, three batches an epoch: 12 steps are 4 epochs. With workers, one loader (its workers
    # alive across epochs) serves the whole run, and its batches -- SpecAugment seeded per epoch,
    # the resume position mid-epoch -- are exactly those of loading in this process.
    from engine.training import loop

    made = []
    monkeypatch.setattr(loop, "make_loader", lambda *a, **k: made.append(k) or make_loader(*a, **k))
    common = dict(max_steps=12, log_every=1, checkpoint_every=1000, eval_every=1000, seed=5)
    extra = {"dropout": 0.1, "stochastic_depth": 0.3}
    runs = {}
    for name, workers in (("here", 0), ("workers", 2)):
        config = make_config(tmp_path / name, model=extra, **common)
        config.spec_augment = run_config_from_dict({"data": {"train": "x"}}).spec_augment
        config.data.max_batch_size, config.data.num_workers = 2, workers
        runs[name] = config
    straight = _train_until(runs["here"])
    made.clear()
    stopped = _train_until(runs["workers"], stop_at=7)  # mid-epoch: the third epoch's first batch
    assert stopped.step == 7 and len(made) == 1 and made[0]["persistent"]
    resumed = _train_until(runs["workers"], resume=True)
    assert resumed.step == 12 and len(made) == 2
    assert {r["epoch"] for r in metrics(stopped.run_dir, "train")} == {0, 1, 2, 3}
    curve_a = [r["loss"] for r in metrics(straight.run_dir, "train")]
    curve_b = [r["loss"] for r in metrics(stopped.run_dir, "train")]
    assert len(curve_a) == len(curve_b) == 12
    assert curve_b == pytest.approx(curve_a, rel=1e-5, abs=1e-6)
    wa = load_model(straight.last_checkpoint).model.state_dict()
    wb = load_model(resumed.last_checkpoint).model.state_dict()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-5, atol=1e-6)


def test_live_points_follow_every_step_between_log_steps_and_stay_out_of_metrics(tmp_path, monkeypatch):
    from engine.training import records

    monkeypatch.setattr(records, "LIVE_SECONDS", 0.0)  # no throttle: a point every step
    config = make_config(tmp_path, max_steps=12, log_every=50, checkpoint_every=1000, eval_every=1000)
    live = []
    result = Trainer(config, on_live=live.append).run()
    assert result.step == 12
    assert [r["step"] for r in metrics(result.run_dir, "train")] == [1]  # the log interval is kept on disk
    assert metrics(result.run_dir, "live") == []
    assert [r["step"] for r in live] == list(range(1, 13))
    first_logged = metrics(result.run_dir, "train")[0]
    assert live[0]["loss"] == first_logged["loss"] and live[0]["lr"] == first_logged["lr"]  # both: step 1 alone
    assert all(np.isfinite(r["loss"]) and r["lr"] > 0 and r["audio_seconds_per_second"] > 0 for r in live)
    etas = [r["eta_seconds"] for r in live[1:]]  # from the measured time per step, once one step is timed
    assert "eta_seconds" not in live[0] and etas[-1] == 0.0 and all(e >= 0 for e in etas)


def test_live_points_are_throttled_but_the_first_log_and_last_steps_always_sent(monkeypatch):
    from engine.training import records

    now = [100.0]
    monkeypatch.setattr(records.time, "perf_counter", lambda: now[0])
    points = records.LivePoints(step=0)
    sent = []
    for step in range(1, 41):  # ten steps a second
        now[0] += 0.1
        if points.due(step, always=step % 20 == 0):
            sent.append(step)
    assert sent == [1, 4, 7, 10, 13, 16, 19, 20, 23, 26, 29, 32, 35, 38, 40]  # every 0.25 s or more, and logs
    now[0] += records.LIVE_SECONDS * records.LIVE_POINTS * 10  # a long run: the spacing grows with its age
    assert points.due(41, always=False)
    now[0] += 1.0
    assert not points.due(42, always=False)


def test_the_terminal_bar_shows_step_loss_lr_speed_and_eta_only_when_asked(tmp_path, monkeypatch, capsys):
    from engine.training import records

    monkeypatch.setattr(records, "LIVE_SECONDS", 0.0)
    Trainer(make_config(tmp_path / "quiet", max_steps=3, checkpoint_every=1000, eval_every=1000)).run()
    assert "real time" not in capsys.readouterr().err  # the GUI's and a pipe's runs: no bar
    result = Trainer(make_config(tmp_path / "bar", max_steps=6, log_every=50, checkpoint_every=1000,
                                 eval_every=1000), progress=True).run()
    assert result.step == 6
    err = capsys.readouterr().err
    last = err.rstrip("\n").split("\r")[-1]
    assert "6/6" in last and "100%" in last and "loss " in last and " lr " in last and "× real time" in last
    assert "<00:00" in last  # the ETA at the end
    assert err.endswith("\n")  # the bar is closed: what follows starts on its own line


def test_the_bar_counts_speed_and_eta_from_the_first_step_it_shows(monkeypatch):
    import io

    from engine.training.records import ProgressBar

    now = [1000.0]
    monkeypatch.setattr("tqdm.std.time", lambda: now[0])
    out = io.StringIO()
    bar = ProgressBar(100, file=out)
    point = {"loss": 1.23456, "lr": 1e-3, "audio_seconds_per_second": 41.6}
    bar.show(10, point)  # a run resumed at step 9: its first step here is step 10
    now[0] += 5.0
    bar.show(20, {**point, "loss": 0.5})
    bar.close()
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    assert "20/100" in last and "loss 0.500" in last and "lr 1.00e-03" in last and "42× real time" in last
    # 10 steps in 5 s (the steps before the bar opened do not count): 2 steps/s, 80 steps left: 40 s
    assert "00:05<00:40" in last and "2.00step/s" in last


def test_a_run_with_checkpoints_is_not_overwritten_by_accident(tmp_path):
    config = make_config(tmp_path, max_steps=5, checkpoint_every=5)
    Trainer(config).run()
    with pytest.raises(ConfigError, match="--resume"):
        Trainer(config)


def test_keeps_the_last_k_checkpoints_and_trainer_state_loads_safely(tmp_path):
    config = make_config(tmp_path, max_steps=12, checkpoint_every=3, keep_last=2)
    result = Trainer(config).run()
    assert [s for s, _ in list_checkpoints(result.run_dir)] == [9, 12]
    state = load_trainer_state(result.last_checkpoint)
    assert state["step"] == 12 and "optimizer" in state and "rng" in state
    assert not list((result.run_dir / "checkpoints").glob(".*"))


def test_non_finite_batch_is_skipped_and_named(tmp_path):
    # A float WAV whose samples are finite but huge overflows the features to inf and the loss to NaN.
    config = make_config(tmp_path, max_steps=10, log_every=1)
    config.data.max_batch_size = 1
    train = config.resolve(config.data.train)
    huge = (np.random.default_rng(0).standard_normal(8000) * 1e37).astype(np.float32)
    sf.write(train.parent / "wavs" / "enorme.wav", huge, 16000, subtype="FLOAT")
    utts = read_manifest(train).utterances
    write_manifest(train, utts + [Utterance("enorme", "wavs/enorme.wav", 0.5, "sí", "spk9")])
    result = Trainer(config).run()
    bad = metrics(result.run_dir, "bad_batch")
    assert bad and all(r["ids"] == ["enorme"] for r in bad)
    assert result.step == 10
    final = load_model(result.last_checkpoint)
    assert all(torch.isfinite(p).all() for p in final.model.parameters())


def test_unreadable_audio_is_skipped_counted_and_training_goes_on(tmp_path):
    config = make_config(tmp_path, max_steps=4)
    train = config.resolve(config.data.train)
    (train.parent / "wavs" / "roto.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    write_manifest(train, read_manifest(train).utterances + [Utterance("roto", "wavs/roto.wav", 1.0, "sí", "x")])
    result = Trainer(config).run()
    assert result.step == 4
    assert result.skipped_utterances >= 1
    skipped = metrics(result.run_dir, "skipped")
    assert skipped[0]["id"] == "roto" and "roto.wav" in skipped[0]["reason"]


def test_fine_tuning_extends_the_vocabulary_without_changing_old_predictions(tmp_path, saved_model_dir):
    old = load_model(saved_model_dir)
    new_texts = ["Ça, ß y €", "señor Núñez"]
    config = make_config(tmp_path, train_texts=new_texts, max_steps=1, checkpoint_every=1)
    trainer = Trainer(config, init=saved_model_dir)
    [note] = [n for n in trainer.notes if "new character" in n]
    assert note.endswith("4 new character(s): y Ç ß €")
    assert trainer.tokenizer.tokens[: len(old.tokenizer)] == old.tokenizer.tokens
    # before any training step the old vocabulary's logits are exactly the old model's
    feats = torch.randn(1, 120, 80)
    lens = torch.tensor([120])
    tokens = torch.tensor([[2, 5, 6, 7]])
    trainer.model.eval()
    with torch.no_grad():
        a, ctc_a, _ = old.model(feats, lens, tokens)
        b, ctc_b, _ = trainer.model(feats, lens, tokens)
    V = len(old.tokenizer)
    torch.testing.assert_close(b[..., :V], a)
    torch.testing.assert_close(ctc_b[..., :V].logsumexp(-1), torch.zeros(ctc_b.shape[:2]), atol=0.01, rtol=0)
    assert (b[..., V:].max(-1).values < a.max(-1).values).all()  # new characters are not predicted yet


def test_config_errors_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="data.train is required"):
        run_config_from_dict({"data": {}})
    with pytest.raises(ConfigError, match="train: unknown key.*warmup_steps"):
        run_config_from_dict({"data": {"train": "x"}, "train": {"warmup_steps": 10}})
    with pytest.raises(ConfigError, match="unknown section.*optimizer"):
        run_config_from_dict({"data": {"train": "x"}, "optimizer": {}})
    with pytest.raises(ConfigError, match="model: unknown key"):
        run_config_from_dict({"data": {"train": "x"}, "model": {"layers": 3}})
    with pytest.raises(ParceroError, match="no-such.jsonl"):
        Trainer(run_config_from_dict({"data": {"train": "no-such.jsonl"}}, base_dir=tmp_path))


def test_voice_warping_settings_in_a_run_config(tmp_path):
    from engine.training.config import load_run_config

    toml = tmp_path / "voces.toml"
    toml.write_text('[data]\ntrain = "t.jsonl"\n[features]\nvtln = "utterance"\n'
                    '[spec_augment]\nvtlp = true\nvtlp_max = 1.2\n', encoding="utf-8")
    config = load_run_config(toml)
    assert config.features.vtln == "utterance" and config.features.vtln_reference_hz == 0.0
    assert config.spec_augment.vtlp and (config.spec_augment.vtlp_min, config.spec_augment.vtlp_max) == (0.9, 1.2)
    again = run_config_from_dict(config.to_dict())  # what a run writes to its config.toml reads back
    assert again.features == config.features and again.spec_augment == config.spec_augment
    with pytest.raises(ConfigError, match="spec_augment.vtlp: VTLP is part of the training augmentation"):
        run_config_from_dict({"data": {"train": "x"}, "spec_augment": {"enabled": False, "vtlp": True}})
    toml.write_text('[data]\ntrain = "t.jsonl"\n[spec_augment]\nvtlp_min = 0.3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"voces.toml: spec_augment.vtlp_min: must be a warp factor in \[0.5, 1.5\]"):
        load_run_config(toml)


def test_a_vtln_run_measures_its_reference_once_and_every_checkpoint_keeps_it(tmp_path):
    from engine.feature_config import FeatureConfig, SpecAugmentConfig
    from engine.training.config import load_run_config

    def config():
        c = make_config(tmp_path, max_steps=2, log_every=1, checkpoint_every=1, eval_every=1000)
        c.features, c.spec_augment = FeatureConfig(vtln="utterance"), SpecAugmentConfig(vtlp=True)
        return c

    trainer = Trainer(config())
    reference = trainer.config.features.vtln_reference_hz
    assert reference > 0 and any("reference voice frequency" in n for n in trainer.notes)
    result = trainer.run()
    saved = load_model(result.last_checkpoint).feature_config
    assert saved.vtln == "utterance" and saved.vtln_reference_hz == reference
    assert load_run_config(result.run_dir / "config.toml").features.vtln_reference_hz == reference

    c = config()
    c.train.max_steps = 3
    resumed = Trainer(c, resume=True)  # takes the checkpoint's reference rather than measuring again
    assert resumed.config.features.vtln_reference_hz == reference
    assert not any("reference voice frequency" in n for n in resumed.notes)


def test_minimal_three_line_config_from_the_cli(tmp_path):
    train = write_tone_corpus(tmp_path, OVERFIT_TEXTS[:2], "train")
    cfg = tmp_path / "mini.toml"
    cfg.write_text(f'[data]\ntrain = "{train.name}"\n[train]\nmax_steps = 2\n', encoding="utf-8")
    # small preset by default: two steps on CPU are quick enough
    from engine.cli import main

    assert main(["train", "--config", str(cfg), "--device", "cpu"]) == 0
    run = tmp_path / "runs" / "mini"
    assert (run / "checkpoints" / "step-000002" / "model.safetensors").is_file()
    assert load_model(run / "checkpoints" / "step-000002").model.config.d_model == 256


@pytest.mark.slow
def test_ddp_two_processes_on_cpu_train_and_the_checkpoint_loads(tmp_path):
    config_dict = {
        "run": {"dir": str(tmp_path / "runs" / "ddp")},
        "data": {"train": str(write_tone_corpus(tmp_path, OVERFIT_TEXTS, "train")), "num_workers": 0,
                 "max_frames": 800},
        "model": TINY,
        "train": {"max_steps": 4, "checkpoint_every": 2, "log_every": 1, "device": "cpu"},
    }
    import tomli_w

    cfg = tmp_path / "ddp.toml"
    cfg.write_text(tomli_w.dumps(config_dict), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
         "-m", "engine.train", "--config", str(cfg)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / "runs" / "ddp"
    assert [s for s, _ in list_checkpoints(run)] == [2, 4]
    assert load_model(run / "checkpoints" / "step-000004").model.config.d_model == 96
    train = metrics(run, "train")
    assert [r["step"] for r in train] == [1, 2, 3, 4]  # one writer (rank 0): no duplicate lines
    assert len({r["step"] for r in train}) == len(train)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    import signal
    import time

    import tomli_w

    cfg = tmp_path / "largo.toml"
    cfg.write_text(tomli_w.dumps({
        "run": {"dir": str(tmp_path / "runs" / "largo")},
        "data": {"train": str(write_tone_corpus(tmp_path, OVERFIT_TEXTS, "train")), "num_workers": 0},
        "model": TINY,
        "train": {"max_steps": 100000, "log_every": 1, "checkpoint_every": 100000, "device": "cpu"},
    }), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "train", "--config", str(cfg)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics_file = tmp_path / "runs" / "largo" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not metrics_file.exists() or metrics_file.read_text().count("\n") < 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped at step" in err
    assert "real time" not in err  # stderr is a pipe, not a terminal: no progress bar
    [(step, path)] = list_checkpoints(tmp_path / "runs" / "largo")
    assert step >= 3 and load_trainer_state(path)["step"] == step


@pytest.mark.slow
def test_parcero_train_gpus_flag_launches_ddp(tmp_path):
    import tomli_w

    cfg = tmp_path / "ddp2.toml"
    cfg.write_text(tomli_w.dumps({
        "run": {"dir": str(tmp_path / "runs" / "ddp2")},
        "data": {"train": str(write_tone_corpus(tmp_path, OVERFIT_TEXTS, "train")), "num_workers": 0,
                 "max_frames": 800},
        "model": TINY, "train": {"max_steps": 2, "checkpoint_every": 2},
    }), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-m", "engine.cli", "train", "--config", str(cfg), "--gpus", "2",
                          "--device", "cpu"], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert [s for s, _ in list_checkpoints(tmp_path / "runs" / "ddp2")] == [2]


def test_gradient_accumulation_matches_one_big_batch(tmp_path):
    # Two half batches accumulated = one full batch, when the loss is a mean over equal halves.
    texts = OVERFIT_TEXTS[:4]
    full = make_config(tmp_path / "full", train_texts=texts, max_steps=3, log_every=1, checkpoint_every=3)
    half = make_config(tmp_path / "half", train_texts=texts, max_steps=3, log_every=1, checkpoint_every=3,
                       accum_steps=2)
    full.data.num_buckets = half.data.num_buckets = 1
    full.data.max_batch_size, half.data.max_batch_size = 4, 2
    full.train.ctc_weight = half.train.ctc_weight = 0.0  # CE over tokens: halves of equal token counts
    for c in (full, half):
        c.train.label_smoothing = 0.0
    a = Trainer(full).run()
    b = Trainer(half).run()
    assert a.step == b.step == 3
    wa = load_model(a.last_checkpoint).model.state_dict()
    wb = load_model(b.last_checkpoint).model.state_dict()
    moved = [k for k in wa if not torch.allclose(wa[k], wb[k], atol=2e-3, rtol=1e-2)]
    assert not moved, moved[:5]


def test_freeze_encoder_trains_only_the_decoder(tmp_path, saved_model_dir):
    config = make_config(tmp_path, max_steps=3, checkpoint_every=3, freeze_encoder=True)
    result = Trainer(config, init=saved_model_dir).run()
    before = load_model(saved_model_dir).model.state_dict()
    after = load_model(result.last_checkpoint).model.state_dict()
    for k in before:
        same = torch.equal(before[k], after[k])
        if k.startswith(("subsample", "encoder", "enc_ln")):
            assert same, k
    assert not all(torch.equal(before[k], after[k]) for k in before if k.startswith("decoder"))


def test_repeated_non_finite_losses_stop_the_run_with_advice(tmp_path):
    config = make_config(tmp_path, max_steps=50, max_bad_batches=3)
    train = config.resolve(config.data.train)
    huge = (np.random.default_rng(0).standard_normal(8000) * 1e37).astype(np.float32)
    utts = []
    for i in range(4):
        sf.write(train.parent / "wavs" / f"enorme{i}.wav", huge, 16000, subtype="FLOAT")
        utts.append(Utterance(f"enorme{i}", f"wavs/enorme{i}.wav", 0.5, "sí", "spk9"))
    write_manifest(train, utts)
    config.data.max_batch_size = 1
    with pytest.raises(ParceroError, match="3 batches in a row"):
        Trainer(config).run()


def test_average_command_writes_a_loadable_mean_model(tmp_path, capsys):
    from engine.cli import main

    config = make_config(tmp_path, max_steps=4, checkpoint_every=2, keep_last=5)
    result = Trainer(config).run()
    out = tmp_path / "promedio"
    assert main(["average", str(result.run_dir), "--last", "2", "--out", str(out)]) == 0
    avg = load_model(out).model.state_dict()
    a = load_model(result.run_dir / "checkpoints" / "step-000002").model.state_dict()
    b = load_model(result.run_dir / "checkpoints" / "step-000004").model.state_dict()
    for k in avg:
        torch.testing.assert_close(avg[k], (a[k] + b[k]) / 2)
    assert main(["average", str(tmp_path / "vacío"), "--out", str(out)]) == 1


def test_loader_workers_leave_sigterm_and_ctrl_c_to_the_trainer():
    # A signal sent to the whole process group (Ctrl-C, kill -- -PGID) must not kill the workers
    # before the trainer has saved its checkpoint: the loader's workers ignore both.
    from engine.data.batching import make_loader

    code = (
        "import os, signal\n"
        "from engine.data.batching import _ignore_stop_signals\n"
        "_ignore_stop_signals(0)\n"
        "os.kill(os.getpid(), signal.SIGTERM); os.kill(os.getpid(), signal.SIGINT)\n"
        "print('still here')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "still here", done.stderr
    loader = make_loader([], [], num_workers=1, collate_fn=list)
    assert loader.worker_init_fn is not None and make_loader([], [], collate_fn=list).worker_init_fn is None
