"""`--quantize bf16`: the whole model in bfloat16, for CPUs that multiply it in hardware (and GPUs).

Whisper base on a real sentence gives the float32 text; a Speech-Transformer, with and
without joint CTC scoring, decodes in bf16 too (its features are cast to the weights'
type); a CPU without bfloat16 instructions is told to use int8 instead.
"""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from engine import quantize
from engine.errors import ParceroError
from engine.quantize import check_quantize, cpu_has_bf16, quantize_model
from engine.transcript import DecodeOptions

CAJAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"

needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no AVX-512 BF16 or AMX")


def test_a_cpu_without_bfloat16_instructions_is_told_to_use_int8(monkeypatch):
    monkeypatch.setattr(quantize, "cpu_has_bf16", lambda: False)
    with pytest.raises(ParceroError, match="quantize bf16: this CPU has no bfloat16 instructions.*int8"):
        check_quantize("bf16", "cpu")
    check_quantize("bf16", "cuda")  # GPUs have bf16: not refused for the CPU's sake


@needs_bf16
def test_whisper_base_in_bf16_writes_the_float32_text(base):
    if not (CAJAL / "metadata.csv").is_file():
        pytest.skip("../shared/data/cajal-es is absent")
    from engine.audio import load_audio
    from engine.metrics import error_rates
    from engine.whisper.decoding import WhisperOptions, transcribe_whisper

    ids = [line.split("|")[0] for line in (CAJAL / "metadata.csv").read_text(encoding="utf-8").splitlines()[:2]]
    x = np.concatenate([load_audio(CAJAL / "wavs" / f"{i}.wav", 16000) for i in ids])
    options = WhisperOptions(beam_size=2, temperatures=(0.0,), capture_attention=False)
    full = transcribe_whisper(base, x, options)
    half = SimpleNamespace(**vars(base))
    half.model = quantize_model(copy.deepcopy(base.model), "bf16")
    assert next(half.model.parameters()).dtype == torch.bfloat16
    low = transcribe_whisper(half, x, options)
    assert error_rates([full.text], [low.text]).cer < 0.02, (full.text, low.text)
    assert len(low.words) == len(full.words) and low.words[-1].end == pytest.approx(full.words[-1].end, abs=0.3)


@needs_bf16
@pytest.mark.parametrize("ctc_weight", [0.0, 0.3])
def test_a_speech_transformer_decodes_in_bf16(saved_model_dir, ctc_weight):
    from engine.models.io import load_model
    from engine.transcribe import transcribe_long
    from tests.conftest import OVERFIT_TEXTS
    from tests.helpers import tone_speech

    loaded = load_model(saved_model_dir)
    samples = tone_speech(OVERFIT_TEXTS[0], seed=0)
    options = DecodeOptions(beam_size=3, ctc_weight=ctc_weight)
    full = transcribe_long(loaded, samples, options)
    quantize_model(loaded.model, "bf16")
    low = transcribe_long(loaded, samples, options)
    assert full.text == OVERFIT_TEXTS[0] and low.text == full.text
