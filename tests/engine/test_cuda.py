"""Checks that need a CUDA GPU; skipped elsewhere. Run them on the GPU machine with `make test`."""

import pytest
import torch

from engine.transcript import DecodeOptions
from engine.models.io import load_model
from engine.speech_transformer.transcribe import transcribe_samples
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import tone_speech

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_cuda_transcription_matches_cpu(saved_model_dir):
    clips = [tone_speech(t, seed=i) for i, t in enumerate(OVERFIT_TEXTS)]
    options = DecodeOptions(beam_size=3, ctc_weight=0.3)
    cpu = transcribe_samples(load_model(saved_model_dir, "cpu"), clips, options)
    gpu = transcribe_samples(load_model(saved_model_dir, "cuda"), clips, options)
    assert [r.text for r in gpu] == [r.text for r in cpu] == OVERFIT_TEXTS


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_forward_is_finite(saved_model_dir, dtype):
    loaded = load_model(saved_model_dir, "cuda")
    feats = torch.randn(4, 300, 80, device="cuda")
    lens = torch.tensor([300, 250, 120, 60], device="cuda")
    tokens = torch.randint(4, len(loaded.tokenizer), (4, 12), device="cuda")
    with torch.autocast("cuda", dtype=dtype):
        logits, ctc, _ = loaded.model(feats, lens, tokens)
    assert torch.isfinite(logits.float()).all() and torch.isfinite(ctc).all()
