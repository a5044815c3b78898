"""int8 dynamic quantisation (engine.quantize): same transcripts, clear refusals, CLI and worker."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.audio import save_wav
from engine.cli import main
from engine.decode import DecodeOptions, decode_batch
from engine.errors import ParceroError
from engine.metrics import error_rates
from engine.models.io import load_model
from engine.quantize import check_quantize, is_quantized, quantize_model
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import collate, compute_features, tone_speech


def _decode_all(model, tok, fc, options):
    feats = [compute_features(tone_speech(t, seed=i), fc) for i, t in enumerate(OVERFIT_TEXTS)]
    batch = collate(feats, [tok.encode(t) for t in OVERFIT_TEXTS], tok.sos_id, tok.eos_id)
    hyps = decode_batch(model, batch.feats, batch.feat_lens, tok.sos_id, tok.eos_id, options, banned_ids=(0, 2))
    return [tok.decode(h.tokens) for h in hyps], [h.score for h in hyps]


@pytest.mark.parametrize("options", [DecodeOptions(), DecodeOptions(beam_size=4, ctc_weight=0.3)])
def test_int8_model_transcribes_the_tone_data_as_float32_does(saved_model_dir, options):
    loaded = load_model(saved_model_dir, device=torch.device("cpu"))
    texts, scores = _decode_all(loaded.model, loaded.tokenizer, loaded.feature_config, options)
    linear_weights = loaded.model.decoder[0].ff[0].weight.detach().clone()
    assert quantize_model(loaded.model, "int8") is loaded.model and is_quantized(loaded.model)
    q_texts, q_scores = _decode_all(loaded.model, loaded.tokenizer, loaded.feature_config, options)
    assert texts == OVERFIT_TEXTS
    assert q_texts == texts  # CER unchanged: 0 on the tone data
    assert error_rates(OVERFIT_TEXTS, q_texts).cer == 0.0
    # The numbers did change (int8 weights), if only a little.
    assert q_scores != scores and np.allclose(q_scores, scores, atol=0.05)
    packed = loaded.model.decoder[0].ff[0].weight()
    assert packed.dtype == torch.qint8
    assert torch.allclose(packed.dequantize(), linear_weights, atol=float(packed.q_scale()))


def test_none_leaves_the_model_alone_and_bad_requests_are_refused():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4)).eval()
    assert quantize_model(model, "none") is model and not is_quantized(model)
    assert quantize_model(model, None) is model and not is_quantized(model)
    with pytest.raises(ParceroError, match="quantize: expected one of none, int8, got 'int4'"):
        quantize_model(model, "int4")
    with pytest.raises(ParceroError, match="CPU only, not on cuda"):
        check_quantize("int8", "cuda")
    check_quantize("none", "cuda")  # no quantisation runs anywhere


def test_cli_transcribe_with_quantize_int8(saved_model_dir, tmp_path, capsys):
    wav = tmp_path / "frase ñ.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[3], seed=3), 16000)
    assert main(["transcribe", str(wav), "--model", str(saved_model_dir), "--device", "cpu",
                 "--quantize", "int8"]) == 0
    assert capsys.readouterr().out == OVERFIT_TEXTS[3] + "\n"
    with pytest.raises(SystemExit):
        main(["transcribe", str(wav), "--model", str(saved_model_dir), "--quantize", "int4"])
    assert "invalid choice: 'int4'" in capsys.readouterr().err


def test_worker_loads_an_int8_model_and_streams_no_attention_nobody_asked_for(saved_model_dir, tmp_path):
    from engine.client import EngineClient
    from engine.protocol import AttentionFrame, Failed, Finished, LoadModel, PartialTranscript, Transcribe

    wav = tmp_path / "corto.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[1], seed=1), 16000)
    client = EngineClient()
    client.start()
    try:
        [*_, bad] = client.wait(client.submit(LoadModel, path=str(saved_model_dir), quantize="int4"), timeout=30)
        assert isinstance(bad, Failed) and "quantize" in bad.message and "int4" in bad.message
        [*_, done] = client.wait(client.submit(LoadModel, path=str(saved_model_dir), device="cpu",
                                               quantize="int8"), timeout=30)
        assert isinstance(done, Finished) and done.result["quantize"] == "int8"
        assert done.result["parameters"] > 0
        events = client.wait(client.submit(Transcribe, path=str(wav), attention=()), timeout=60)
        assert isinstance(events[-1], Finished) and events[-1].result["text"] == OVERFIT_TEXTS[1]
        assert [e for e in events if isinstance(e, PartialTranscript)]  # tokens still stream ...
        assert not [e for e in events if isinstance(e, AttentionFrame)]  # ... attention does not
    finally:
        client.close()
