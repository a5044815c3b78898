"""Attention weights for the heatmaps: the numbers the model attends with, and never a change to its output.

An encoder's weights (1500 x 1500 a head for Whisper's 30 s) are computed apart from its output,
in blocks of query rows, the output staying the fused kernel's: recording a heatmap must not change
what the decoder hears, so the window and the command line write the same transcript.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.models.attention import LONG_QUERIES, WEIGHT_ROWS, AttentionRecorder, attention_with_weights


def explicit(q, k, v, mask):
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = scores.softmax(-1)
    return w @ v, w


def qkv(T_q: int, T_k: int = 250, B: int = 2, H: int = 4, hd: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, H, T, hd, generator=g) for T in (T_q, T_k, T_k)]


@pytest.mark.parametrize("T_q", [WEIGHT_ROWS * 2 + 37, LONG_QUERIES])  # blocks with a ragged last one; the edge
def test_long_queries_give_the_fused_output_and_every_head_s_weights(T_q):
    q, k, v = qkv(T_q)
    mask = torch.ones(2, 1, 1, 250, dtype=torch.bool)
    mask[1, ..., 180:] = False  # the second row's last frames are padding
    y, w = attention_with_weights(q, k, v, mask)
    assert torch.equal(y, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))  # not merely close
    y_ref, w_ref = explicit(q, k, v, mask)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    assert w.shape == (2, 4, T_q, 250)
    torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
    assert w[1, ..., 180:].abs().max() == 0  # nothing on the padding
    _, mean = attention_with_weights(q, k, v, mask, "mean")
    assert mean.shape == (2, 1, T_q, 250)
    torch.testing.assert_close(mean, w_ref.mean(dim=1, keepdim=True), atol=1e-6, rtol=1e-5)


def test_a_causal_mask_is_cut_with_its_query_rows():
    T = WEIGHT_ROWS + 70
    q, k, v = qkv(T, T)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    y, w = attention_with_weights(q, k, v, mask)
    y_ref, w_ref = explicit(q, k, v, mask)
    torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
    assert torch.all(w.triu(1) == 0)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)


def test_a_decoding_step_s_few_rows_are_computed_explicitly():
    q, k, v = qkv(5)  # a step of 5 beams
    y, w = attention_with_weights(q, k, v, None)
    y_ref, w_ref = explicit(q, k, v, None)
    assert torch.equal(w, w_ref) and torch.equal(y, w_ref @ v)  # one softmax serves both
    _, mean = attention_with_weights(q, k, v, None, "mean")
    assert torch.equal(mean, w_ref.mean(dim=1, keepdim=True))


def test_recording_whisper_s_encoder_changes_nothing_it_outputs():
    from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper

    model = tiny_whisper(tiny_tokenizer_json(), n_audio_ctx=150).eval()
    feats = torch.randn(1, 300, 80)
    lens = torch.tensor([300])
    with torch.inference_mode():
        plain, _ = model.encode(feats, lens)
        every, mean = AttentionRecorder(("encoder_self",)), AttentionRecorder(("encoder_self",), mean_heads=True)
        assert torch.equal(model.encode(feats, lens, every)[0], plain)
        assert torch.equal(model.encode(feats, lens, mean)[0], plain)
    assert len(every.of_kind("encoder_self")) == len(mean.of_kind("encoder_self")) == 2
    for w, m in zip(every.of_kind("encoder_self"), mean.of_kind("encoder_self")):
        assert w.shape == (1, 2, 150, 150) and m.shape == (1, 1, 150, 150)
        torch.testing.assert_close(m, w.mean(dim=1, keepdim=True), atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(w.sum(-1), torch.ones(1, 2, 150))


@pytest.mark.parametrize("encoder", ["transformer", "conformer"])
def test_recording_the_speech_transformer_s_encoder_changes_nothing_it_outputs(encoder):
    from engine.speech_transformer.config import preset_config
    from engine.speech_transformer.model import SpeechTransformer

    model = SpeechTransformer(preset_config("tiny", 30, d_model=64, n_head=4, d_ff=128, n_enc_layers=2,
                                            n_dec_layers=2, dropout=0.0, encoder=encoder)).eval()
    feats, lens = torch.randn(2, 420, 80), torch.tensor([420, 300])  # ~100 encoder frames: the long path
    with torch.inference_mode():
        plain, enc_lens = model.encode(feats, lens)
        assert int(enc_lens[0]) >= LONG_QUERIES
        mean = AttentionRecorder(("encoder_self",), mean_heads=True)
        assert torch.equal(model.encode(feats, lens, mean)[0], plain)
    short = int(enc_lens[1])
    for m in mean.of_kind("encoder_self"):
        assert m.shape[1] == 1
        torch.testing.assert_close(m.sum(-1), torch.ones(m.shape[:-1]))
        assert m[1, ..., short:].abs().max() == 0  # padded frames get no attention
