"""The fast paths of decoding give what the plain computation gives.

- beams share their utterance's encoder output (queries folded, keys and values once);
- beam search runs the prompt once per utterance, then copies it to the beams;
- a hypothesis' cross-attention is rebuilt from per-step rows and back-pointers;
- no attention is computed when nobody asked for it (``step_attention=False``);
- Whisper's token rules, applied row by row, equal the whole-array formulation;
- Whisper's vocabulary projection in incremental decoding equals the full pass.

Checked against teacher-forced recomputation from scratch (no cache), on tiny random models.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from engine.decode import decode_encoded
from engine.transcript import DecodeOptions
from engine.models.attention import AttentionRecorder, KVCache
from engine.speech_transformer.config import preset_config
from engine.speech_transformer.model import SpeechTransformer
from engine.whisper.logits_filter import WhisperLogitsFilter
from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper, token_id

NEG = float("-inf")


@pytest.fixture(scope="module")
def whisper():
    tokenizer_json = tiny_tokenizer_json()
    model = tiny_whisper(tokenizer_json, seed=3)
    ids = {name: token_id(tokenizer_json, f"<|{name}|>") for name in
           ("startoftranscript", "es", "transcribe", "endoftext", "notimestamps")}
    ts_begin = model.config.n_vocab - 8  # tiny_whisper's timestamp slots
    rules_tok = SimpleNamespace(eot=ids["endoftext"], no_timestamps=ids["notimestamps"], timestamp_begin=ts_begin)
    prefix = [ids["startoftranscript"], ids["es"], ids["transcribe"]]
    g = torch.Generator().manual_seed(5)
    feats = torch.randn(2, 2 * model.config.n_audio_ctx, model.config.n_mels, generator=g)
    with torch.inference_mode():
        xa, enc_lens = model.encode(feats, torch.tensor([feats.shape[1]] * 2))
    return SimpleNamespace(model=model, tok=rules_tok, prefix=prefix, xa=xa, enc_lens=enc_lens)


def _speech_transformer():
    torch.manual_seed(4)
    model = SpeechTransformer(preset_config("tiny", 20, d_model=32, n_head=2, d_ff=64, n_enc_layers=1,
                                            n_dec_layers=2)).eval()
    feats, lens = torch.randn(2, 60, 80), torch.tensor([60, 41])  # the second utterance is padded
    with torch.inference_mode():
        xa, enc_lens = model.encode(feats, lens)
    return model, xa, enc_lens


@pytest.mark.parametrize("which", ["whisper", "speech_transformer"])
def test_beams_sharing_their_encoder_output_equal_copies_of_it(which, whisper):
    if which == "whisper":
        model, xa, enc_lens = whisper.model, whisper.xa, whisper.enc_lens
    else:
        model, xa, enc_lens = _speech_transformer()
    K = 3
    tokens = torch.tensor([[1, 5, 7], [1, 9, 4], [1, 6, 6], [1, 2, 8], [1, 8, 3], [1, 4, 4]])  # 2 x 3 beams
    xa_k, lens_k = xa.repeat_interleave(K, 0), enc_lens.repeat_interleave(K, 0)
    with torch.inference_mode():
        shared, copied = KVCache(), KVCache()
        rec_shared, rec_copied = AttentionRecorder(), AttentionRecorder()
        a = model.decode(tokens, xa, enc_lens, shared, rec_shared)
        b = model.decode(tokens, xa_k, lens_k, copied, rec_copied)
        a2 = model.decode(tokens[:, -1:], xa, enc_lens, shared)  # an incremental step with the caches
        b2 = model.decode(tokens[:, -1:], xa_k, lens_k, copied)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a2, b2, atol=1e-5, rtol=1e-5)
    cross_a, cross_b = rec_shared.of_kind("decoder_cross"), rec_copied.of_kind("decoder_cross")
    assert len(cross_a) == len(cross_b) > 0
    for wa, wb in zip(cross_a, cross_b):
        assert wa.shape == wb.shape == (6, wb.shape[1], 3, xa.shape[1])
        torch.testing.assert_close(wa, wb, atol=1e-6, rtol=1e-5)
    for layer, (k, v) in shared.cross.items():  # keys and values of each utterance, once
        assert k.shape[0] == v.shape[0] == 2 and copied.cross[layer][0].shape[0] == 6


def test_whisper_incremental_logits_equal_the_full_pass(whisper):
    tokens = torch.tensor([whisper.prefix + [20, 40, 60, 80]] * 2)
    with torch.inference_mode():
        full = whisper.model.decode(tokens, whisper.xa, whisper.enc_lens)
        cache = KVCache()
        steps = [whisper.model.decode(tokens[:, :4], whisper.xa, whisper.enc_lens, cache)]
        steps += [whisper.model.decode(tokens[:, i:i + 1], whisper.xa, whisper.enc_lens, cache) for i in range(4, 7)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-4, rtol=1e-4)


class _Counting:
    """The model, noting the rows of tokens and of the encoder output each decode call gets."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def decode(self, tokens, xa, enc_lens, cache=None, recorder=None):
        self.calls.append((tokens.shape[0], tokens.shape[1], xa.shape[0], recorder is not None))
        return self.model.decode(tokens, xa, enc_lens, cache, recorder)

    def __getattr__(self, name):
        return getattr(self.model, name)


def _rescore(w, rules, hyp, b):
    """(log-probability without and with <|endoftext|> at the end, attention rows) by one pass from scratch."""
    P0 = len(w.prefix)
    full = w.prefix + hyp.tokens + [w.tok.eot]
    recorder = AttentionRecorder(("decoder_cross",))
    with torch.inference_mode():
        logits = w.model.decode(torch.tensor([full]), w.xa[b:b + 1], w.enc_lens[b:b + 1], None, recorder)[0]
    total = 0.0
    for t in range(len(hyp.tokens) + 1):
        lp = logits[P0 - 1 + t].float().log_softmax(-1).double()[None]
        rules(torch.tensor([full[:P0 + t]]), lp)
        if t == len(hyp.tokens):
            return total, total + float(lp[0, w.tok.eot]), recorder.of_kind("decoder_cross")
        total += float(lp[0, full[P0 + t]])


def test_beam_search_equals_recomputation_from_scratch(whisper):
    w = whisper
    K = 3
    rules = WhisperLogitsFilter(w.tok, len(w.prefix), suppress_ids=[5, 6], blank_ids=[7])
    model = _Counting(w.model)
    options = DecodeOptions(beam_size=K, max_len_ratio=0.2, capture_attention=True, length_counts_eos=False)
    hyps = decode_encoded(model, w.xa, w.enc_lens, w.prefix, w.tok.eot, options, logits_filter=rules)
    # The prompt ran once per utterance; then every step ran the K beams against 2 encoder rows.
    assert model.calls[0][:3] == (2, len(w.prefix), 2)
    assert len(model.calls) > 2 and all(c[:3] == (2 * K, 1, 2) for c in model.calls[1:])
    for b, hyp in enumerate(hyps):
        assert hyp.tokens and all(t < w.model.config.n_vocab for t in hyp.tokens)
        without_end, with_end, rows = _rescore(w, rules, hyp, b)
        assert hyp.log_prob == pytest.approx(with_end, abs=1e-4) or hyp.log_prob == pytest.approx(without_end, abs=1e-4)
        steps = hyp.cross_attention.shape[2]
        assert steps in (len(hyp.tokens), len(hyp.tokens) + 1)
        expected = torch.stack([r[0, :, len(w.prefix) - 1: len(w.prefix) - 1 + steps] for r in rows])
        torch.testing.assert_close(torch.from_numpy(hyp.cross_attention).float(), expected, atol=2e-3, rtol=0)


def test_no_attention_is_computed_when_nobody_wants_it(whisper):
    w = whisper
    rules = WhisperLogitsFilter(w.tok, len(w.prefix), suppress_ids=[5], blank_ids=[7])
    results = {}
    for wanted in (True, False):
        model, steps = _Counting(w.model), []
        options = DecodeOptions(beam_size=2, max_len_ratio=0.2, length_counts_eos=False, step_attention=wanted)
        hyps = decode_encoded(model, w.xa, w.enc_lens, w.prefix, w.tok.eot, options, logits_filter=rules,
                              on_step=steps.append)
        assert steps and all((s.cross_attention is not None) == wanted for s in steps)
        assert all(c[3] == wanted for c in model.calls)  # the model was asked for weights only when wanted
        results[wanted] = [(h.tokens, h.log_prob) for h in hyps]
        assert [s.tokens for s in steps][-1] == [h.tokens for h in hyps]
    assert [t for t, _ in results[True]] == [t for t, _ in results[False]]
    # Explicit attention and the fused kernel round differently: float32 noise over ~30 steps, no more.
    assert [p for _, p in results[True]] == pytest.approx([p for _, p in results[False]], rel=1e-6)


def _rules_whole_array(tok, sample_begin, suppress, blank, max_initial, tokens, logp):
    """Whisper's rules written with (N, V) masks, as a reference for the row-by-row filter."""
    tb = tok.timestamp_begin
    sampled = tokens[:, sample_begin:]
    if sampled.shape[1] == 0:
        logp[:, blank] = NEG
    logp[:, suppress] = NEG
    logp[:, tok.no_timestamps] = NEG
    if sampled.shape[1] == 0:
        logp[:, :tb] = NEG
        logp[:, tb + max_initial + 1:] = NEG
    else:
        is_ts = sampled >= tb
        last = is_ts[:, -1]
        before = is_ts[:, -2] if sampled.shape[1] > 1 else torch.ones_like(last)
        logp[last & before, tb:] = NEG
        logp[last & ~before, :tok.eot] = NEG
        latest = torch.where(is_ts, sampled, torch.full_like(sampled, -1)).max(dim=1).values
        first = torch.where(last & ~before, latest, latest + 1)
        cols = torch.arange(logp.shape[1])
        logp.masked_fill_((latest >= 0)[:, None] & (cols >= tb) & (cols < first[:, None]), NEG)
        lp = logp.log_softmax(-1)
        logp[lp[:, tb:].logsumexp(-1) > lp[:, :tb].max(-1).values, :tb] = NEG
    return torch.nan_to_num(logp.log_softmax(-1), nan=NEG, neginf=NEG)


def test_row_by_row_rules_equal_the_whole_array_rules():
    tok = SimpleNamespace(eot=10, no_timestamps=19, timestamp_begin=20)
    g = torch.Generator().manual_seed(11)
    checked = 0
    for trial in range(60):
        n_sampled = trial % 6
        sampled = torch.randint(0, 30, (5, n_sampled), generator=g)
        sampled[sampled == 19] = 3  # never <|notimestamps|> once decoding
        tokens = torch.cat([torch.ones(5, 2, dtype=torch.long), sampled], dim=1)
        logp = (3 * torch.randn(5, 30, generator=g, dtype=torch.float64)).log_softmax(-1)
        logp[trial % 5, 20:] += 4.0  # timestamps win now and then
        expected = _rules_whole_array(tok, 2, [5, 11, 12], [0, 10], 3, tokens, logp.clone())
        got = logp.clone()
        WhisperLogitsFilter(tok, 2, [5, 11, 12], [0, 10], max_initial_timestamp_index=3)(tokens, got)
        assert torch.equal(got.isinf(), expected.isinf())
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
        checked += int(expected.isinf().all(-1).sum() < 5)
    assert checked > 40  # most cases leave something allowed (not all rows dead)
