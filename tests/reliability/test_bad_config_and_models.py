"""Broken run configs and broken model folders: one clear line naming the file and the problem.

Configs go through ``load_run_config`` and ``parcero train --config``; model folders
through ``load_model``, ``parcero transcribe --model`` and the trainer (``--init``,
and ``--resume`` from a damaged checkpoint).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from engine.audio import save_wav
from engine.cli import main
from engine.errors import ConfigError, ModelFileError
from engine.models.io import load_model
from engine.training.checkpoint import latest_checkpoint
from engine.training.config import load_run_config
from engine.training.loop import Trainer
from tests.helpers import SR, tone_speech
from tests.reliability.tools import assert_clean_failure, tiny_run_config


@dataclass(frozen=True)
class ConfigCase:
    name: str
    what: str
    toml: bytes
    problem: str  # regex: the key and what is wrong with it
    gap: str | None = None  # a known shortcoming (the case is marked xfail with this reason)

    def __str__(self) -> str:
        return self.name


DATA = b'[data]\ntrain = "datos/train.jsonl"\n'
CONFIG_CASES = [
    ConfigCase("wrong-type", "max_steps = \"100\" (a string)", DATA + b'[train]\nmax_steps = "100"\n',
               r"train\.max_steps: expected int, got str '100'"),
    ConfigCase("unknown-key", "a misspelt key (warmup_steps)", DATA + b"[train]\nwarmup_steps = 10\n",
               r"train: unknown key\(s\) warmup_steps \(known: .*warmup"),
    ConfigCase("unknown-section", "a section that does not exist ([optimiser])", DATA + b"[optimiser]\nlr = 1\n",
               r"unknown section\(s\) optimiser \(known: run, data"),
    ConfigCase("bad-choice", "schedule = \"lineal\"", DATA + b'[train]\nschedule = "lineal"\n',
               r"train: schedule must be one of .*noam.*, got 'lineal'"),
    ConfigCase("model-unknown-key", "[model] layers = 3", DATA + b"[model]\nlayers = 3\n",
               r"model: unknown key\(s\) layers"),
    ConfigCase("model-wrong-type", "[model] d_model = \"grande\"", DATA + b'[model]\nd_model = "grande"\n',
               r"model\.d_model: expected int, got str 'grande'"),
    ConfigCase("unknown-preset", "[model] preset = \"enorme\"", DATA + b'[model]\npreset = "enorme"\n',
               r"model\.preset: unknown preset 'enorme'; choose one of tiny"),
    ConfigCase("bool-as-string", "[spec_augment] enabled = \"sí\"",
               DATA + '[spec_augment]\nenabled = "sí"\n'.encode(),
               r"spec_augment\.enabled: expected bool, got str 'sí'"),
    ConfigCase("not-toml", "a TOML syntax error", DATA + b"[train\nmax_steps = 1\n",
               r"not valid TOML: .*\(at line 3, column \d+\)"),
    ConfigCase("not-utf8", "a config saved in Latin-1", DATA + '[run]\nname = "señor"\n'.encode("latin-1"),
               r"not UTF-8 text"),
    ConfigCase("no-train-manifest", "no [data] train", b"[train]\nmax_steps = 1\n", r"data\.train is required"),
    ConfigCase("section-not-table", "data = 5 instead of a [data] table", b"data = 5\n",
               r"\[data\] must be a table of settings, got int"),
]


def _config_params():
    for case in CONFIG_CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.gap)] if case.gap else []
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_config_params()))
def test_run_config(case, tmp_path, capsys):
    path = tmp_path / f"{case.name}.toml"
    path.write_bytes(case.toml)
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    assert re.search(case.problem, str(caught.value)), str(caught.value)
    assert main(["train", "--config", str(path), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert_clean_failure(err)
    assert err.startswith("parcero: error: ") and err.count("\n") == 1 and re.search(case.problem, err)
    assert str(path) in str(caught.value)


# ---- model folders ---------------------------------------------------------------------------------


def _edit_json(name: str, edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        d = json.loads((folder / name).read_text(encoding="utf-8"))
        edit(d)
        (folder / name).write_text(json.dumps(d), encoding="utf-8")

    return damage


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return damage


@dataclass(frozen=True)
class ModelCase:
    name: str
    what: str
    damage: Callable[[Path], None]  # turns a good model folder (or checkpoint) into this case
    file: str  # the file the message must name
    problem: str

    def __str__(self) -> str:
        return self.name


MODEL_CASES = [
    ModelCase("weights-config-mismatch", "weights of another size than config.json says",
              _edit_json("config.json", lambda d: d["model"].update(d_model=128)), "model.safetensors",
              r"weights do not match config\.json: .*wrong shape.*file \([\d, ]+\) vs config"),
    ModelCase("truncated-safetensors", "model.safetensors cut in half", _truncate("model.safetensors"),
              "model.safetensors", r"cannot read weights \(truncated or corrupt\?\)"),
    ModelCase("missing-weights", "no model.safetensors", lambda f: (f / "model.safetensors").unlink(), "",
              r"not a Parcero model folder: missing model\.safetensors"),
    ModelCase("vocab-size-mismatch", "a vocabulary one character short",
              _edit_json("vocab.json", lambda d: d["tokens"].pop()), "vocab.json",
              r"vocabulary has \d+ entries but the model expects \d+"),
    ModelCase("vocab-not-json", "vocab.json cut in half", _truncate("vocab.json"), "vocab.json",
              r"cannot read vocabulary"),
    ModelCase("config-not-json", "config.json cut in half", _truncate("config.json"), "config.json",
              r"cannot read model config"),
    ModelCase("config-newer-format", "a folder written by a newer Parcero",
              _edit_json("config.json", lambda d: d.update(format_version=99)), "config.json",
              r"made by a newer Parcero \(format 99\); please upgrade"),
    ModelCase("config-wrong-type", "config.json with n_head = \"cuatro\"",
              _edit_json("config.json", lambda d: d["model"].update(n_head="cuatro")), "config.json",
              r"n_head"),
    ModelCase("unknown-architecture", "an architecture Parcero does not know",
              _edit_json("config.json", lambda d: d.update(architecture="mamba")), "config.json",
              r"unknown architecture 'mamba'"),
]
MODELS = pytest.mark.parametrize("case", MODEL_CASES, ids=str)


def _named(message: str, folder: Path, case: ModelCase) -> None:
    target = str(folder / case.file) if case.file else str(folder)
    assert message.count(target) == 1 and re.search(case.problem, message[message.index(target):]), message


@pytest.fixture
def broken(case, saved_model_dir, tmp_path) -> Path:
    folder = tmp_path / "modelo roto"
    shutil.copytree(saved_model_dir, folder)
    case.damage(folder)
    return folder


@MODELS
def test_load_model(case, broken):
    with pytest.raises(ModelFileError) as caught:
        load_model(broken)
    _named(str(caught.value), broken, case)


@MODELS
def test_parcero_transcribe_with_a_broken_model(case, broken, tmp_path, capsys):
    audio = tmp_path / "hola.wav"
    save_wav(audio, tone_speech("señor Núñez", seed=1), SR)
    assert main(["transcribe", str(audio), "--model", str(broken), "--device", "cpu"]) == 1
    out = capsys.readouterr()
    assert_clean_failure(out.err)
    assert out.out == "" and out.err.startswith("parcero: error: ") and out.err.count("\n") == 1
    _named(out.err, broken, case)


@MODELS
def test_fine_tuning_from_a_broken_model(case, broken, tmp_path):
    with pytest.raises(ModelFileError) as caught:
        Trainer(tiny_run_config(tmp_path), init=broken)
    _named(str(caught.value), broken, case)


@MODELS
def test_resuming_from_a_damaged_checkpoint(case, tmp_path, capsys):
    """The newest checkpoint was damaged on disk (not by Parcero: its writes are atomic)."""
    config = tiny_run_config(tmp_path, max_steps=2, checkpoint_every=2)
    Trainer(config).run()
    checkpoint = latest_checkpoint(config.resolve(config.out_dir))
    case.damage(checkpoint)
    config.train.max_steps = 4
    if case.name == "missing-weights":
        # An incomplete folder is not a checkpoint: resume starts afresh, and says so.
        trainer = Trainer(config, resume=True)
        assert trainer.step == 0 and any("no checkpoint to resume from" in n for n in trainer.notes)
        return
    with pytest.raises(ModelFileError) as caught:
        Trainer(config, resume=True)
    _named(str(caught.value), checkpoint, case)
