import itertools
import math

import numpy as np
import pytest
import torch

from engine.decode import ctc_prefix_scores, decode_batch, decode_encoded, pad_ctc_log_probs
from engine.transcript import DecodeOptions
from engine.models.attention import KVCache
from engine.speech_transformer.config import preset_config
from engine.speech_transformer.model import SpeechTransformer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import collate, compute_features, tone_speech

BLANK, EOS = 0, 3


def brute_force_prefix_prob(lp: np.ndarray, prefix: tuple, exact: bool) -> float:
    """Sum of the probabilities of every CTC path whose collapsed labels start with (or equal) prefix."""
    T, V = lp.shape
    total = 0.0
    for path in itertools.product(range(V), repeat=T):
        labels = [k for i, k in enumerate(path) if k != BLANK and (i == 0 or k != path[i - 1])]
        if (tuple(labels) == prefix) if exact else (tuple(labels[: len(prefix)]) == prefix):
            total += math.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return total


def test_ctc_prefix_scores_match_brute_force():
    torch.manual_seed(3)
    T, V = 5, 5  # ids: 0 blank, 1..2 letters, 3 eos (never emitted by CTC), 4 letter
    lp = torch.randn(1, T, V).log_softmax(-1).double()
    lp[..., EOS] = -30.0  # CTC never emits <eos>; keep it out of the sums
    lp = lp.log_softmax(-1)
    x = pad_ctc_log_probs(lp, torch.tensor([T]), BLANK)
    cand = torch.tensor([[1, 2, 4, EOS]])
    # start: prefix is <sos> alone
    r = torch.full((1, T, 2), float("-inf"), dtype=torch.float64)
    r[..., 1] = x[..., BLANK].cumsum(1)
    psi, r_new = ctc_prefix_scores(x, r, torch.tensor([2]), cand, EOS, BLANK, first=True)
    np_lp = x[0].numpy()
    for j, c in enumerate([1, 2, 4]):
        assert math.exp(psi[0, j]) == pytest.approx(brute_force_prefix_prob(np_lp, (c,), False), rel=1e-9)
    assert math.exp(psi[0, 3]) == pytest.approx(brute_force_prefix_prob(np_lp, (), True), rel=1e-9)
    # second step from prefix (1,), including the repeat 1 -> 1 that needs a blank between
    r1 = r_new[:, :, :, 0]
    psi2, _ = ctc_prefix_scores(x, r1, torch.tensor([1]), torch.tensor([[1, 2, EOS]]), EOS, BLANK, first=False)
    for j, c in enumerate([1, 2]):
        assert math.exp(psi2[0, j]) == pytest.approx(brute_force_prefix_prob(np_lp, (1, c), False), rel=1e-9)
    assert math.exp(psi2[0, 2]) == pytest.approx(brute_force_prefix_prob(np_lp, (1,), True), rel=1e-9)


def test_padded_frames_do_not_change_ctc_scores():
    torch.manual_seed(4)
    lp = torch.randn(2, 9, 6).log_softmax(-1)
    lp[1, :6] = lp[0, :6]  # utterance 1 = utterance 0 plus 3 padded frames
    x = pad_ctc_log_probs(lp, torch.tensor([6, 6]), BLANK)
    r = torch.full((2, 9, 2), float("-inf"), dtype=torch.float64)
    r[..., 1] = x[..., BLANK].cumsum(1)
    cand = torch.tensor([[1, 2, EOS], [1, 2, EOS]])
    psi_short, _ = ctc_prefix_scores(x[:1, :6], r[:1, :6], torch.tensor([2]), cand[:1], EOS, BLANK, True)
    psi, _ = ctc_prefix_scores(x, r, torch.tensor([2, 2]), cand, EOS, BLANK, True)
    torch.testing.assert_close(psi[1], psi_short[0])


def _random_model(V=24, seed=0):
    torch.manual_seed(seed)
    cfg = preset_config("tiny", V, d_model=64, n_head=4, d_ff=128, n_enc_layers=2, n_dec_layers=2, dropout=0.0)
    return SpeechTransformer(cfg).eval()


def test_greedy_equals_argmax_without_cache():
    model = _random_model()
    feats, lens = torch.randn(1, 70, 80), torch.tensor([70])
    [hyp] = decode_batch(model, feats, lens, 2, EOS, DecodeOptions(max_len_ratio=0.5), banned_ids=(0, 2))
    xa, enc_lens = model.encode(feats, lens)
    tokens = [2]
    for _ in range(len(hyp.tokens) + 1):
        logits = model.decode(torch.tensor([tokens]), xa, enc_lens)[0, -1]
        logits[[0, 2]] = float("-inf")
        tokens.append(int(logits.argmax()))
        if tokens[-1] == EOS:
            break
    expected = [t for t in tokens[1:] if t != EOS]
    assert hyp.tokens == expected[: len(hyp.tokens)]
    assert len(hyp.tokens) > 0


@pytest.mark.parametrize("options", [DecodeOptions(beam_size=3), DecodeOptions(beam_size=2, ctc_weight=0.4)])
def test_batching_does_not_change_results(options):
    model = _random_model(seed=1)
    feats, lens = torch.randn(3, 80, 80), torch.tensor([80, 50, 64])
    batched = decode_batch(model, feats, lens, 2, EOS, options, banned_ids=(0, 2))
    for i in range(3):
        n = int(lens[i])
        [alone] = decode_batch(model, feats[i : i + 1, :n], lens[i : i + 1], 2, EOS, options, banned_ids=(0, 2))
        assert alone.tokens == batched[i].tokens
        assert alone.score == pytest.approx(batched[i].score, abs=1e-4)


@pytest.mark.parametrize("options", [DecodeOptions(beam_size=3, capture_attention=True),
                                     DecodeOptions(beam_size=2, ctc_weight=0.4, capture_attention=True)])
def test_an_utterance_whose_search_ended_leaves_the_batch_and_the_others_do_not_change(options):
    model = _random_model(seed=1)
    feats, lens = torch.randn(3, 80, 80), torch.tensor([80, 24, 64])  # the second ends far sooner
    rows_fed, decode = [], model.decode

    def counting(tokens, *args, **kwargs):
        rows_fed.append(tokens.shape[0])
        return decode(tokens, *args, **kwargs)

    model.decode = counting
    steps = []
    batched = decode_batch(model, feats, lens, 2, EOS, options, banned_ids=(0, 2), on_step=steps.append)
    K = options.beam_size
    assert rows_fed[1] == 3 * K and min(rows_fed) < 3 * K  # the rows of the one that ended went
    for i in range(3):
        n = int(lens[i])
        [alone] = decode_batch(model, feats[i: i + 1, :n], lens[i: i + 1], 2, EOS, options, banned_ids=(0, 2))
        assert alone.tokens == batched[i].tokens
        assert alone.score == pytest.approx(batched[i].score, abs=1e-4)
        frames = alone.cross_attention.shape[-1]  # the batch's are padded with frames it never attends
        np.testing.assert_allclose(alone.cross_attention.astype(np.float32),
                                   batched[i].cross_attention[..., :frames].astype(np.float32), atol=2e-3)
    # every step reports all three, in the caller's order; one that ended keeps its final text
    assert all(len(s.tokens) == 3 and len(s.finished) == 3 for s in steps)
    assert all(rows.shape[0] == 3 for s in steps for rows in s.cross_attention)
    ended_at = next(i for i, s in enumerate(steps) if s.finished[1])
    assert ended_at < len(steps) - 1 and all(s.tokens[1] == batched[1].tokens for s in steps[ended_at:])
    assert steps[-1].finished == [True, True, True]


@pytest.mark.parametrize(
    "options",
    [
        DecodeOptions(),
        DecodeOptions(beam_size=4),
        DecodeOptions(beam_size=4, ctc_weight=0.3),
        DecodeOptions(beam_size=1, ctc_weight=0.5, length_penalty=0.0),
    ],
)
def test_trained_model_decodes_exact_transcripts(overfit_model, options):
    model, tok, fc, _ = overfit_model
    feats = [compute_features(tone_speech(t, seed=i), fc) for i, t in enumerate(OVERFIT_TEXTS)]
    batch = collate(feats, [tok.encode(t) for t in OVERFIT_TEXTS], tok.sos_id, tok.eos_id)
    hyps = decode_batch(model, batch.feats, batch.feat_lens, tok.sos_id, tok.eos_id, options, banned_ids=(0, 2))
    assert [tok.decode(h.tokens) for h in hyps] == OVERFIT_TEXTS


def test_step_callback_streams_tokens_and_cross_attention(overfit_model):
    model, tok, fc, _ = overfit_model
    text = OVERFIT_TEXTS[1]
    feats = compute_features(tone_speech(text, seed=1), fc)[None]
    steps = []
    [hyp] = decode_batch(
        model, feats, torch.tensor([feats.shape[1]]), tok.sos_id, tok.eos_id,
        DecodeOptions(beam_size=2, capture_attention=True), banned_ids=(0, 2), on_step=steps.append,
    )
    assert tok.decode(hyp.tokens) == text
    assert [s.step for s in steps] == list(range(len(steps)))
    for s in steps[:-1]:
        assert hyp.tokens[: len(s.tokens[0])] == s.tokens[0]  # partial results are prefixes
        assert len(s.cross_attention) == len(model.decoder)
        for rows in s.cross_attention:
            assert rows.shape[:2] == (1, model.config.n_head)
            torch.testing.assert_close(rows.sum(-1), torch.ones(rows.shape[:2]))
    assert steps[-1].finished == [True]
    layers, heads, n_rows, T = hyp.cross_attention.shape
    assert (layers, heads, n_rows) == (len(model.decoder), model.config.n_head, len(hyp.tokens) + 1)
    np.testing.assert_allclose(hyp.cross_attention.astype(np.float32).sum(-1), 1.0, atol=2e-2)


def test_beam_search_reorders_cache_consistently():
    # After reordering, every cached row must equal what recomputation from scratch gives.
    # Two beams of one utterance (beam search never moves rows between utterances).
    model = _random_model(seed=2)
    feats, lens = torch.randn(1, 60, 80).repeat(2, 1, 1), torch.tensor([60, 60])
    xa, enc_lens = model.encode(feats, lens)
    tokens = torch.tensor([[2, 5, 6], [2, 7, 8]])
    cache = KVCache()
    model.decode(tokens, xa, enc_lens, cache)
    cache.reorder(torch.tensor([1, 1]))
    step = model.decode(torch.tensor([[9], [9]]), xa[[1, 1]], enc_lens[[1, 1]], cache)
    full = model.decode(torch.cat([tokens[[1, 1]], torch.tensor([[9], [9]])], 1), xa[[1, 1]], enc_lens[[1, 1]])
    torch.testing.assert_close(step[:, -1], full[:, -1], atol=1e-5, rtol=1e-5)


def test_reordering_beams_in_place_moves_rows_that_replace_each_other():
    # Rows that swap, a row copied twice and one kept, behind a shared prefix (<sos>, left in place):
    # every cached row must still equal recomputation from scratch of its new tokens.
    model = _random_model(seed=3)
    feats, lens = torch.randn(1, 60, 80), torch.tensor([60])
    xa, enc_lens = model.encode(feats, lens)
    tokens = torch.tensor([[2, 5, 6], [2, 7, 8], [2, 9, 4], [2, 3, 3]])
    cache = KVCache()
    model.decode(tokens, xa, enc_lens, cache)  # four beams of one utterance
    index = torch.tensor([2, 0, 0, 3])  # row 0 takes row 2's place, rows 1 and 2 row 0's, row 3 stays
    cache.reorder(index, shared=1)
    step = model.decode(torch.tensor([[9]] * 4), xa, enc_lens, cache)
    full = model.decode(torch.cat([tokens[index], torch.tensor([[9]] * 4)], 1), xa, enc_lens)
    torch.testing.assert_close(step[:, -1], full[:, -1], atol=1e-5, rtol=1e-5)


def test_invalid_beam_size_is_refused():
    model = _random_model()
    with pytest.raises(ValueError, match="beam_size"):
        decode_batch(model, torch.randn(1, 40, 80), torch.tensor([40]), 2, EOS, DecodeOptions(beam_size=0))


@pytest.mark.parametrize("beam", [2, 3])
def test_beam_search_alone_is_not_cut_short_by_a_worse_finished_hypothesis(overfit_model, beam):
    # Regression: a short wrong hypothesis plus one junk <eos> once filled the finished
    # list and ended the search before the right (one token longer) transcript ended.
    model, tok, fc, _ = overfit_model
    for i, text in enumerate(OVERFIT_TEXTS):
        feats = compute_features(tone_speech(text, seed=i), fc)[None]
        [hyp] = decode_batch(
            model, feats, torch.tensor([feats.shape[1]]), tok.sos_id, tok.eos_id,
            DecodeOptions(beam_size=beam), banned_ids=(0, 2),
        )
        assert tok.decode(hyp.tokens) == text


def test_a_prefix_of_several_tokens_and_a_logits_filter():
    model = _random_model(seed=5)
    feats, lens = torch.randn(1, 70, 80), torch.tensor([70])
    prefix = [2, 7, 9]
    seen_lengths = []

    def no_token_11(tokens, logp):
        seen_lengths.append(tokens.shape[1])
        logp[:, 11] = float("-inf")

    [hyp] = decode_batch(model, feats, lens, prefix, EOS, DecodeOptions(max_len_ratio=0.3), banned_ids=(0, 2))
    xa, enc_lens = model.encode(feats, lens)
    tokens = list(prefix)
    for _ in range(len(hyp.tokens)):
        logits = model.decode(torch.tensor([tokens]), xa, enc_lens)[0, -1]
        logits[[0, 2]] = float("-inf")
        tokens.append(int(logits.argmax()))
    assert hyp.tokens == [t for t in tokens[len(prefix):] if t != EOS]
    [filtered] = decode_encoded(model, xa, enc_lens, prefix, EOS, DecodeOptions(max_len_ratio=0.3),
                                banned_ids=(0, 2), logits_filter=no_token_11)
    assert 11 not in filtered.tokens
    assert seen_lengths[0] == len(prefix) and seen_lengths[1] == len(prefix) + 1


class _ThreadsSeen(torch.nn.Module):
    """The model as it is, noting how many CPU threads each decoding step was given."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.threads: list[int] = []

    def encode(self, *args, **kwargs):
        return self.model.encode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        self.threads.append(torch.get_num_threads())
        return self.model.decode(*args, **kwargs)


@pytest.mark.parametrize("batch,beam,vocab,one_thread", [(1, 1, 12, True), (2, 4, 12, True), (3, 4, 12, False),
                                                         (1, 1, 5000, False)])
def test_small_decoding_steps_run_on_one_thread_and_the_count_is_restored(batch, beam, vocab, one_thread):
    from engine.decode import ONE_THREAD_MAX_VOCAB, ONE_THREAD_ROWS

    torch.manual_seed(0)
    config = preset_config("tiny", vocab, n_enc_layers=1, n_dec_layers=1, ctc=False)
    model = _ThreadsSeen(SpeechTransformer(config).eval())
    model.config = config
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        feats = torch.randn(batch, 60, 80)
        hyps = decode_batch(model, feats, torch.full((batch,), 60), 2, EOS, DecodeOptions(beam_size=beam))
        assert len(hyps) == batch and model.threads
        assert (batch * beam <= ONE_THREAD_ROWS and vocab <= ONE_THREAD_MAX_VOCAB) == one_thread
        assert set(model.threads) == ({1} if one_thread else {2})
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def _rescore(model, xa, enc_lens, tokens: list[int], sos: int = 2) -> float:
    """log p(tokens + <eos>) at temperature 1, teacher-forced without a cache."""
    with torch.inference_mode():
        logits = model.decode(torch.tensor([[sos, *tokens]]), xa, enc_lens)[0].float().log_softmax(-1)
    return float(sum(logits[i, t] for i, t in enumerate([*tokens, EOS])))


def _model_without_ctc(seed=0):
    torch.manual_seed(seed)
    return SpeechTransformer(preset_config("tiny", 12, n_enc_layers=1, n_dec_layers=2, ctc=False)).eval()


def test_sampling_is_seeded_scored_at_temperature_one_and_varies_with_the_seed():
    model = _model_without_ctc()
    with torch.inference_mode():
        xa, enc_lens = model.encode(torch.randn(1, 80, 80), torch.tensor([80]))
    results = {}
    for seed in range(6):
        options = DecodeOptions(temperature=1.5, best_of=3, seed=seed, max_len_ratio=0.5)
        [hyp] = decode_encoded(model, xa, enc_lens, 2, EOS, options)
        [again] = decode_encoded(model, xa, enc_lens, 2, EOS, options)
        assert again.tokens == hyp.tokens and again.log_prob == hyp.log_prob  # the seed decides
        ended = len(hyp.tokens) < int(xa.shape[1] * 0.5) + 10
        if ended:  # a finished candidate is scored with <eos>, at temperature 1
            assert hyp.log_prob == pytest.approx(_rescore(model, xa, enc_lens, hyp.tokens), abs=1e-4)
        results[seed] = tuple(hyp.tokens)
    assert len(set(results.values())) > 1  # hot sampling does differ between seeds


def test_sampling_near_temperature_zero_is_greedy_decoding():
    model = _model_without_ctc(1)
    with torch.inference_mode():
        xa, enc_lens = model.encode(torch.randn(2, 80, 80), torch.tensor([80, 64]))
    greedy = decode_encoded(model, xa, enc_lens, 2, EOS, DecodeOptions(max_len_ratio=0.5))
    cold = decode_encoded(model, xa, enc_lens, 2, EOS, DecodeOptions(temperature=1e-4, best_of=2, max_len_ratio=0.5))
    assert [h.tokens for h in cold] == [h.tokens for h in greedy]
    assert [h.log_prob for h in cold] == pytest.approx([h.log_prob for h in greedy], abs=1e-6)


def test_sampling_streams_steps_and_keeps_attention():
    model = _model_without_ctc(2)
    with torch.inference_mode():
        xa, enc_lens = model.encode(torch.randn(1, 80, 80), torch.tensor([80]))
    steps = []
    options = DecodeOptions(temperature=1.0, best_of=2, max_len_ratio=0.3, capture_attention=True)
    [hyp] = decode_encoded(model, xa, enc_lens, 2, EOS, options, on_step=steps.append)
    assert steps and steps[-1].tokens == [hyp.tokens] and steps[-1].finished == [True]
    assert {s.temperature for s in steps} == {1.0}  # listeners can tell a sampled attempt
    assert steps[0].cross_attention is not None and steps[0].cross_attention[0].shape[-1] == xa.shape[1]
    layers, heads, rows, frames = hyp.cross_attention.shape
    assert (layers, frames) == (2, xa.shape[1]) and rows in (len(hyp.tokens), len(hyp.tokens) + 1)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        decode_encoded(model, xa, enc_lens, 2, EOS, DecodeOptions(temperature=-1.0))
