import pytest
import torch

from engine.errors import ConfigError
from engine.models.attention import AttentionRecorder, KVCache
from engine.speech_transformer.config import PRESETS, ModelConfig, preset_config
from engine.speech_transformer.model import SpeechTransformer, layer_skip_probs

V = 30


def tiny(**overrides) -> SpeechTransformer:
    cfg = dict(d_model=64, n_head=4, d_ff=128, n_enc_layers=2, n_dec_layers=2, dropout=0.0)
    cfg.update(overrides)
    return SpeechTransformer(preset_config("tiny", V, **cfg)).eval()


def inputs(B=2, T=60, lens=(60, 41), L=6):
    feats = torch.randn(B, T, 80)
    feat_lens = torch.tensor(lens)
    tokens = torch.randint(4, V, (B, L))
    tokens[:, 0] = 2
    return feats, feat_lens, tokens


@pytest.mark.parametrize("encoder", ["transformer", "conformer"])
def test_attention_rows_sum_to_one_and_ignore_padding(encoder):
    model = tiny(encoder=encoder)
    feats, feat_lens, tokens = inputs()
    rec = AttentionRecorder()
    xa, enc_lens = model.encode(feats, feat_lens, rec)
    model.decode(tokens, xa, enc_lens, recorder=rec)
    assert enc_lens.tolist() == [((n - 1) // 2 - 1) // 2 for n in feat_lens.tolist()]
    for kind in ("encoder_self", "decoder_self", "decoder_cross"):
        weights = rec.of_kind(kind)
        assert len(weights) == 2, kind
        for w in weights:
            assert w.shape[:2] == (2, 4)
            torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]))
    short = int(enc_lens[1])
    for w in rec.of_kind("encoder_self") + rec.of_kind("decoder_cross"):
        assert w[1, ..., short:].abs().max() == 0  # padded frames get no attention
    for w in rec.of_kind("decoder_self"):
        assert torch.all(w.triu(1) == 0)  # nothing attends to a later token


@pytest.mark.parametrize("encoder", ["transformer", "conformer"])
def test_padding_does_not_change_an_utterance(encoder):
    model = tiny(encoder=encoder)
    feats, feat_lens, tokens = inputs()
    n = int(feat_lens[1])
    batched, _, _ = model(feats, feat_lens, tokens)
    alone, _, _ = model(feats[1:, :n], feat_lens[1:], tokens[1:])
    torch.testing.assert_close(batched[1], alone[0], atol=1e-4, rtol=1e-4)


def test_decoder_never_sees_future_tokens():
    model = tiny()
    feats, feat_lens, tokens = inputs()
    xa, enc_lens = model.encode(feats, feat_lens)
    before = model.decode(tokens, xa, enc_lens)
    changed = tokens.clone()
    changed[:, 4:] = (changed[:, 4:] + 7) % V
    after = model.decode(changed, xa, enc_lens)
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_kv_cache_matches_full_recomputation():
    model = tiny()
    feats, feat_lens, tokens = inputs(L=8)
    xa, enc_lens = model.encode(feats, feat_lens)
    full = model.decode(tokens, xa, enc_lens)
    cache = KVCache()
    steps = [model.decode(tokens[:, i : i + 1], xa, enc_lens, cache) for i in range(tokens.shape[1])]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    # two tokens at once after a cached prefix also agree
    cache = KVCache()
    a = model.decode(tokens[:, :5], xa, enc_lens, cache)
    b = model.decode(tokens[:, 5:], xa, enc_lens, cache)
    torch.testing.assert_close(torch.cat([a, b], dim=1), full, atol=1e-5, rtol=1e-5)


def test_explicit_weights_path_equals_fused_attention():
    model = tiny()
    feats, feat_lens, tokens = inputs()
    xa, enc_lens = model.encode(feats, feat_lens)
    fused = model.decode(tokens, xa, enc_lens)
    xa2, _ = model.encode(feats, feat_lens, AttentionRecorder())
    explicit = model.decode(tokens, xa2, enc_lens, recorder=AttentionRecorder())
    torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=1e-5)


def test_stochastic_depth_rates_and_scaling():
    p, L = 0.5, 4
    model = tiny(n_enc_layers=L, n_dec_layers=2, stochastic_depth=p)
    expected = layer_skip_probs(L, p)
    assert expected == pytest.approx([0.125, 0.25, 0.375, 0.5])
    calls = [0] * L
    for i, layer in enumerate(model.encoder):
        layer.attn.register_forward_hook(lambda *_, i=i: calls.__setitem__(i, calls[i] + 1))
    feats, feat_lens, _ = inputs(T=20, lens=(20, 20))
    model.train()
    torch.manual_seed(1)
    runs = 800
    with torch.no_grad():
        for _ in range(runs):
            model.encode(feats, feat_lens)
    for i in range(L):
        skipped = 1 - calls[i] / runs
        assert skipped == pytest.approx(expected[i], abs=0.06), (i, skipped)
    # A kept layer's residual branch is scaled by 1 / (1 - p_l) in training only.
    layer = model.encoder[3]
    y = torch.ones(3)
    torch.testing.assert_close(layer.branch(y), y / (1 - expected[3]))
    model.eval()
    torch.testing.assert_close(layer.branch(y), y)
    # In eval every layer runs and the output is deterministic.
    calls[:] = [0] * L
    out1, _ = model.encode(feats, feat_lens)
    out2, _ = model.encode(feats, feat_lens)
    assert calls == [2] * L
    torch.testing.assert_close(out1, out2)


def test_presets_parameter_counts_as_documented():
    counts = {name: SpeechTransformer(preset_config(name, 64)).num_parameters() / 1e6 for name in PRESETS}
    assert counts["tiny"] == pytest.approx(2.27, abs=0.05)
    assert counts["small"] == pytest.approx(17.67, abs=0.05)
    assert counts["base"] == pytest.approx(70.47, abs=0.05)
    conformer = SpeechTransformer(preset_config("tiny", 64, encoder="conformer")).num_parameters() / 1e6
    assert conformer > counts["tiny"]


def test_config_validation_names_the_field():
    with pytest.raises(ConfigError, match="encoder"):
        ModelConfig(vocab_size=10, encoder="lstm")
    with pytest.raises(ConfigError, match="unknown key"):
        ModelConfig.from_dict({"vocab_size": 10, "n_layers": 3})
    with pytest.raises(ConfigError, match="d_model"):
        ModelConfig.from_dict({"vocab_size": 10, "d_model": "256"})
    with pytest.raises(ConfigError, match="preset"):
        preset_config("huge", 10)
    cfg = preset_config("small", 40, encoder="conformer")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_too_short_input_is_refused_clearly():
    model = tiny()
    with pytest.raises(ValueError, match="too short"):
        model.encode(torch.randn(1, 5, 80), torch.tensor([5]))


def test_ctc_head_shapes_and_training_backward():
    model = tiny(encoder="conformer", stochastic_depth=0.2).train()
    feats, feat_lens, tokens = inputs()
    logits, ctc, enc_lens = model(feats, feat_lens, tokens)
    assert logits.shape == (2, tokens.shape[1], V)
    assert ctc.shape == (2, int(enc_lens.max()), V)
    torch.testing.assert_close(ctc.exp().sum(-1), torch.ones(ctc.shape[:2]))
    (logits.sum() + ctc.sum()).backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n.startswith("subsample"))
