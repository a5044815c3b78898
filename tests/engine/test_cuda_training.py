"""Training on a CUDA GPU: the AMP paths and a checkpoint's round trip. Skipped without CUDA.

bench/gpu_check.py runs these (with tests/engine/test_cuda.py) as its first part; `pytest -m cuda`
selects them anywhere.
"""

import json

import pytest
import torch

from engine.models.io import load_model
from engine.training.config import run_config_from_dict
from engine.training.loop import Trainer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def _config(tmp_path, precision: str, steps: int = 6):
    manifest = write_tone_corpus(tmp_path / "data", OVERFIT_TEXTS, "train")
    return run_config_from_dict({
        "run": {"name": precision, "dir": str(tmp_path / "run")},
        "data": {"train": str(manifest), "dev": str(manifest), "num_workers": 0},
        "model": {"preset": "tiny"},
        "train": {"max_steps": steps, "warmup": 2, "log_every": 1, "eval_every": steps, "checkpoint_every": steps,
                  "precision": precision, "device": "cuda"},
    }, base_dir=tmp_path)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_amp_training_on_the_gpu_logs_finite_losses_and_gpu_memory(tmp_path, precision):
    trainer = Trainer(_config(tmp_path, precision))
    assert trainer.device.type == "cuda" and trainer.precision == precision
    assert trainer.scaler.is_enabled() == (precision == "fp16")  # the grad scaler only for fp16
    result = trainer.run()
    records = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    assert len(train) == 6 and all(torch.isfinite(torch.tensor(r["loss"])) for r in train)
    assert all(r["gpu_memory_gb"] > 0 for r in train)
    assert not [r for r in records if r["kind"] == "bad_batch"]


def test_a_checkpoint_written_on_the_gpu_loads_on_the_cpu_with_the_same_weights(tmp_path):
    result = Trainer(_config(tmp_path, "bf16", steps=2)).run()
    on_gpu = load_model(result.last_checkpoint, "cuda")
    on_cpu = load_model(result.last_checkpoint, "cpu")
    assert next(on_gpu.model.parameters()).is_cuda
    gpu_state = on_gpu.model.state_dict()
    for name, value in on_cpu.model.state_dict().items():
        assert torch.equal(value, gpu_state[name].cpu()), name
