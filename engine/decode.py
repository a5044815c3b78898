"""Greedy and beam-search decoding, batched over utterances, with optional joint CTC scoring.

Works with any encoder-decoder that offers ``encode(feats, feat_lens, recorder)``,
``decode(tokens, xa, enc_lens, cache, recorder)`` and ``ctc_log_probs(xa)``
(the Speech-Transformer and Whisper). Beam search hands ``decode`` one row of xa
and enc_lens per utterance for K rows of tokens (its beams, consecutive), so
cross-attention runs once per utterance: a model must accept that (both do, with
``engine.speech_transformer.model.fold_beams``).

Joint CTC/attention scoring follows Watanabe et al. (2017): a hypothesis' score is
(1 - w) * log p_att + w * log p_ctc(prefix), where the CTC prefix probability
sums over every alignment of the prefix to the audio. It keeps the decoder from
looping or stopping early, which attention alone does on short or noisy clips.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from engine.models.attention import AttentionRecorder, KVCache
from engine.transcript import DecodeOptions

NEG_INF = float("-inf")
ONE_THREAD_ROWS = 8  # CPU decoding steps of at most this many rows (utterances x beams) run on one thread ...
ONE_THREAD_MAX_VOCAB = 4096  # ... unless the output layer is this wide (Whisper's 51865 tokens want two)
IMPOSSIBLE = -1e9  # log-probabilities below this count as log 0 in CTC prefix scoring


@dataclass
class Hypothesis:
    tokens: list[int]  # without <sos> and <eos>
    score: float  # length-normalised log-probability used for ranking
    log_prob: float  # total log-probability (joint when CTC is used)
    cross_attention: np.ndarray | None = None  # (n_layers, H, len(tokens) + 1, T) float16, last row = <eos>


@dataclass
class StepInfo:
    """What a per-step callback receives: the best hypothesis of each utterance so far."""

    step: int
    tokens: list[list[int]]  # per utterance, tokens so far (no <sos>)
    cross_attention: list[Tensor] | None  # per decoder layer, (B, H, T) rows for the newest token
    finished: list[bool] = field(default_factory=list)
    temperature: float = 0.0  # above 0: candidates sampled (Whisper's fallback re-decoding a window)


StepCallback = Callable[[StepInfo], None]
LogitsFilter = Callable[[Tensor, Tensor], None]


@torch.inference_mode()
def decode_batch(
    model,
    feats: Tensor,
    feat_lens: Tensor,
    sos_id: int | Sequence[int],
    eos_id: int,
    options: DecodeOptions = DecodeOptions(),
    *,
    banned_ids: tuple[int, ...] = (),
    on_step: StepCallback | None = None,
) -> list[Hypothesis]:
    """Decode a batch of utterances; returns the best hypothesis of each.

    Parameters
    ----------
    feats : (B, T_in, n_mels) features, padded.
    feat_lens : (B,) valid frames.
    sos_id : the start token, or a prefix of several (Whisper: <|startoftranscript|> <|es|> ...).
    banned_ids : tokens the decoder may never emit (CTC blank, <sos>, ...).
    on_step : called after every decoding step with a :class:`StepInfo`.
    """
    xa, enc_lens = model.encode(feats, feat_lens)
    return decode_encoded(model, xa, enc_lens, sos_id, eos_id, options, banned_ids=banned_ids, on_step=on_step)


@torch.inference_mode()
def decode_encoded(
    model,
    xa: Tensor,
    enc_lens: Tensor,
    sos_id: int | Sequence[int],
    eos_id: int,
    options: DecodeOptions = DecodeOptions(),
    *,
    banned_ids: tuple[int, ...] = (),
    on_step: StepCallback | None = None,
    ctc_log_probs: Tensor | None = None,
    logits_filter: LogitsFilter | None = None,
) -> list[Hypothesis]:
    """Like :func:`decode_batch` from encoder output xa (B, T, D) and enc_lens (B,).

    ``ctc_log_probs`` (B, T, V) may be passed when the caller has them already.
    ``logits_filter(tokens, logp)`` may change the log-probabilities (N, V) in place before
    each step's choice, given every hypothesis' tokens so far (N, L) including the prefix
    (Whisper's timestamp rules and token suppression work this way).
    """
    if options.beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {options.beam_size}")
    if options.temperature < 0 or not math.isfinite(options.temperature) or options.best_of < 1:
        raise ValueError(f"temperature must be >= 0 and best_of >= 1, got {options.temperature} and {options.best_of}")
    # Attention is computed explicitly (not by the fused kernel) only when someone looks at it.
    want_attn = options.capture_attention or (on_step is not None and options.step_attention)
    recorder_kinds = ("decoder_cross",) if want_attn else ()
    ctc_lp = None
    if options.ctc_weight > 0:
        lp = ctc_log_probs if ctc_log_probs is not None else model.ctc_log_probs(xa)
        ctc_lp = pad_ctc_log_probs(lp, enc_lens, blank_id=0)
    prefix = [sos_id] if isinstance(sos_id, int) else [int(t) for t in sos_id]
    vocab = _vocab_size(model)
    if options.temperature > 0:
        with step_threads(xa.device, xa.shape[0] * options.best_of, vocab):
            return _sample_search(model, xa, enc_lens, prefix, eos_id, options, banned_ids, on_step, recorder_kinds,
                                  logits_filter)
    with step_threads(xa.device, xa.shape[0] * options.beam_size, vocab):
        return _beam_search(
            model, xa, enc_lens, ctc_lp, prefix, eos_id, options, banned_ids, on_step, recorder_kinds, logits_filter
        )


def _vocab_size(model) -> int:
    """Output tokens of a Speech-Transformer or Whisper (0 when the model does not say)."""
    config = getattr(model, "config", None)
    return int(getattr(config, "vocab_size", 0) or getattr(config, "n_vocab", 0) or 0)


@contextlib.contextmanager
def step_threads(device: torch.device, rows: int, vocab_size: int = 0) -> Iterator[None]:
    """Run the enclosed decoding steps on one CPU thread when they have few rows and a narrow output.

    A step multiplies a handful of rows by each weight matrix: tens of microseconds
    of work per call, less than it costs to wake a second OpenMP thread that waits
    passively (engine/__init__.py explains why threads wait passively). Measured on
    `small` (docs/benchmarks.md): 2.5 ms a greedy step on one thread, 5.8 ms on two
    passive threads, 2.0 ms on two spinning ones, which fall to 16 ms once another
    program wants a core. Whisper's output layer (51865 x 512 weights, multiplied
    at every step) is the exception: with beam 5 two threads decode 15 % faster.
    The encoder, with hundreds of rows, keeps every thread.
    """
    n = torch.get_num_threads()
    if device.type != "cpu" or rows > ONE_THREAD_ROWS or vocab_size > ONE_THREAD_MAX_VOCAB or n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def pad_ctc_log_probs(lp: Tensor, lens: Tensor, blank_id: int) -> Tensor:
    """Make frames past each utterance's end emit blank with certainty, in float64.

    Then every utterance can be scored over the batch's full length T: blank
    frames add nothing to a prefix and carry its probability to the last frame.
    """
    lp = lp.double().clone()
    pad = torch.arange(lp.shape[1], device=lp.device)[None, :] >= lens[:, None]  # (B, T)
    lp[pad] = NEG_INF
    lp[..., blank_id] = lp[..., blank_id].masked_fill(pad, 0.0)
    return lp


def ctc_prefix_scores(
    x: Tensor, r_prev: Tensor, last: Tensor, cand: Tensor, eos_id: int, blank_id: int, first: bool
) -> tuple[Tensor, Tensor]:
    """CTC prefix log-probabilities of each hypothesis extended by each candidate token.

    Parameters
    ----------
    x : (N, T, V) CTC log-probabilities (padded with :func:`pad_ctc_log_probs`).
    r_prev : (N, T, 2) log r^n_t and r^b_t of each prefix g (paths ending in a non-blank / blank).
    last : (N,) last token of each prefix (ignored when ``first``).
    cand : (N, P) candidate tokens c.
    first : the prefixes are just <sos>.

    Returns
    -------
    psi : (N, P) log p_ctc(g + c ...), or for c = <eos> the probability of exactly g.
    r_new : (N, T, 2, P) the forward variables of every extension.

    The recursions r^n_t = (r^n_{t-1} + phi_{t-1}) x_t(c) and r^b_t = (r^b_{t-1} + r^n_{t-1}) x_t(blank)
    are first-order linear, so they are solved for all t at once with cumulative
    sums and ``logcumsumexp`` instead of a Python loop over frames.
    """
    N, T, _ = x.shape
    # A finite stand-in for log 0, so that cumulative sums never give inf - inf.
    # Anything that comes out below IMPOSSIBLE used such a frame and is set back to -inf,
    # so a padded utterance scores exactly as it would alone.
    big_neg = -1e10
    xc = x.gather(2, cand[:, None, :].expand(N, T, cand.shape[1])).clamp(min=big_neg)  # (N, T, P)
    xb = x[:, :, blank_id].clamp(min=big_neg)[..., None]  # (N, T, 1)
    r_sum = torch.logaddexp(r_prev[..., 0], r_prev[..., 1])  # (N, T)
    phi = r_sum[..., None].expand_as(xc).clone()
    if not first:
        same = cand == last[:, None]  # a repeated character needs a blank between
        phi = torch.where(same[:, None, :], r_prev[..., 1][..., None].expand_as(xc), phi)
    A = xc.cumsum(dim=1)
    z = torch.empty_like(xc)
    z[:, 0] = 0.0 if first else NEG_INF
    z[:, 1:] = phi[:, :-1] - A[:, :-1]
    r_n = A + z.logcumsumexp(dim=1)
    Bc = xb.cumsum(dim=1).expand_as(xc)
    w = torch.empty_like(xc)
    w[:, 0] = NEG_INF
    w[:, 1:] = r_n[:, :-1] - Bc[:, :-1]
    r_b = Bc + w.logcumsumexp(dim=1)
    terms = torch.cat([z[:, :1] + xc[:, :1], phi[:, :-1] + xc[:, 1:]], dim=1)  # (N, T, P)
    psi = terms.logsumexp(dim=1)
    psi = torch.where(cand == eos_id, r_sum[:, -1:].expand_as(psi), psi)
    psi = psi.masked_fill(psi < IMPOSSIBLE, NEG_INF)
    r_new = torch.stack([r_n, r_b], dim=2)
    return psi, r_new.masked_fill(r_new < IMPOSSIBLE, NEG_INF)


def _beam_search(model, xa, enc_lens, ctc_lp, prefix, eos_id, opts, banned_ids, on_step, kinds, logits_filter):
    B, T, _ = xa.shape
    K = opts.beam_size
    device = xa.device
    N = B * K
    # xa and enc_lens stay one row per utterance: the models let the K beams of an utterance
    # query its encoder output together, so its cross-attention keys and values are computed
    # and read once, not K times (see engine.speech_transformer.model.fold_beams).
    max_lens = (enc_lens.float() * opts.max_len_ratio).long() + 10  # (B,)
    P0 = len(prefix)  # tokens before the first decoded one; the results leave them out
    tokens = torch.tensor(prefix, dtype=torch.long, device=device).repeat(N, 1)
    scores = torch.full((B, K), NEG_INF, dtype=torch.float64, device=device)
    scores[:, 0] = 0.0  # only one live beam at the start; the others are copies
    cache = KVCache()
    use_ctc = ctc_lp is not None
    if use_ctc:
        x = ctc_lp.repeat_interleave(K, dim=0)  # (N, T, V)
        r = torch.full((N, T, 2), NEG_INF, dtype=torch.float64, device=device)
        r[..., 1] = x[..., 0].cumsum(dim=1)  # <sos> alone: all blanks so far
        psi_prev = torch.zeros(N, dtype=torch.float64, device=device)
    trace = _AttentionTrace(keep=opts.capture_attention)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    # The utterances still searched, in the order of their rows: an utterance whose search has ended
    # leaves the batch (its rows, its encoder output, its cached keys and values), so the others'
    # steps no longer carry it. In a batch of Whisper pieces one of 8 ends early, and the rest with
    # it, 12 % of the rows of a 10-minute file's steps (docs/benchmarks.md).
    live = list(range(B))

    for step in range(int(max_lens.max())):
        recorder = AttentionRecorder(kinds) if kinds else None
        B = len(live)
        N = B * K
        if step == 0:
            # Every beam starts from the same prefix (Whisper's can be 200 tokens of earlier text):
            # run it once per utterance and copy the result to the beams.
            logits = model.decode(tokens[::K], xa, enc_lens, cache, recorder)[:, -1].float().repeat_interleave(K, 0)
        else:
            logits = model.decode(tokens[:, -1:], xa, enc_lens, cache, recorder)[:, -1].float()  # (N, V)
        V = logits.shape[-1]
        # float32 over the vocabulary (Whisper's is 51865 wide, times batch x beam rows); the CTC
        # prefix scores and the running beam scores are float64.
        logp = logits.log_softmax(dim=-1)
        if logits_filter is not None:
            logits_filter(tokens, logp)
        if banned_ids:
            logp[:, list(banned_ids)] = NEG_INF
        if use_ctc:
            logp = logp.double()
            P = min(V, max(K + 1, int(K * opts.pre_beam_factor) + 1))
            cand = logp.topk(P, dim=-1).indices  # (N, P)
            psi, r_new = ctc_prefix_scores(x, r, tokens[:, -1], cand, eos_id, 0, first=step == 0)
            joint = (1 - opts.ctc_weight) * logp.gather(1, cand) + opts.ctc_weight * (psi - psi_prev[:, None])
        else:
            # The best 2K continuations of each beam hold the best 2K of its utterance: choose among
            # those, not among K x V sums.
            P = min(V, 2 * K)
            joint, cand = logp.topk(P, dim=-1)
            joint = joint.double()
        cand_ids = cand.tolist()
        if recorder is not None:
            rows = torch.stack([w[:, :, -1] for w in recorder.of_kind("decoder_cross")])  # (n_layers, N or B, H, T)
            trace.add(rows.repeat_interleave(K, dim=1) if step == 0 else rows)
        total = (scores.view(N, 1) + joint).view(B, K * P)
        top_scores, top_idx = total.topk(min(2 * K, K * P), dim=-1)  # (B, 2K)
        next_src, next_tok, next_scores, next_p = [], [], [], []
        top_scores, top_idx = top_scores.tolist(), top_idx.tolist()
        for c, b in enumerate(live):  # c: the utterance's place in the batch now, b: in the caller's
            kept = []
            for s, i in zip(top_scores[c], top_idx[c]):
                src, p = c * K + i // P, i % P
                tok = cand_ids[src][p]
                if s == NEG_INF:
                    break
                if tok == eos_id or step + 1 >= int(max_lens[c]):
                    if not done[b]:
                        seq = tokens[src, P0:].tolist() + ([] if tok == eos_id else [tok])
                        finished[b].append(_hypothesis(seq, s, opts, trace.history(src, step + 1)))
                    continue
                kept.append((src, tok, s, p))
                if len(kept) == K:
                    break
            if not kept and not finished[b] and not done[b]:
                # Nothing can be extended (e.g. CTC allows no more tokens than frames):
                # the live hypotheses as they stand are the answer.
                for k in range(K):
                    if scores[c, k] > NEG_INF:
                        seq = tokens[c * K + k, P0:].tolist()
                        attn = trace.history(trace.parents[-1][c * K + k], step) if trace.keep and step else None
                        finished[b].append(_hypothesis(seq, float(scores[c, k]), opts, attn))
            # Stop once K hypotheses have ended and no live one can still beat the best of
            # them: log-probabilities only fall as tokens are added. (Counting finished
            # hypotheses alone lets a short wrong one end the search first.)
            best_live = max((s for _, _, s, _ in kept), default=NEG_INF)
            beaten = finished[b] and best_live < max(h.log_prob for h in finished[b])
            if (len(finished[b]) >= K and beaten) or step + 1 >= int(max_lens[c]) or not kept:
                done[b] = True
            while len(kept) < K:  # dead slots keep shapes fixed; their score is -inf
                kept.append((c * K, eos_id, NEG_INF, 0))
            for src, tok, s, p in kept:
                next_src.append(src)
                next_tok.append(tok)
                next_scores.append(s if not done[b] else NEG_INF)
                next_p.append(p)
        src_idx = torch.tensor(next_src, device=device)
        # Greedy search, and beams that keep their places, need no reordering: copying every
        # cached key and value each step cost greedy decoding of `small` a tenth of its time.
        in_place = next_src == list(range(N))
        tokens = torch.cat([tokens if in_place else tokens[src_idx], torch.tensor(next_tok, device=device)[:, None]],
                           dim=1)
        scores = torch.tensor(next_scores, dtype=torch.float64, device=device).view(B, K)
        # After the first step the cache holds one row per utterance (the shared prefix).
        if step == 0 and K > 1:
            cache.reorder(src_idx // K)
        elif not in_place:
            cache.reorder(src_idx, shared=P0)  # the prefix is the same in every beam of an utterance
        trace.reorder(next_src)
        if use_ctc:
            p_idx = torch.tensor(next_p, device=device)
            r = r_new[src_idx, :, :, p_idx]
            psi_prev = psi[src_idx, p_idx]
        if on_step is not None:
            _report_step(on_step, step, tokens[:, P0 - 1:], scores, trace, finished, done, K, eos_id, live)
        if all(done):
            break
        stay = [c for c, b in enumerate(live) if not done[b]]
        if len(stay) < len(live):
            rows = [c * K + k for c in stay for k in range(K)]
            keep, keep_rows = torch.tensor(stay, device=device), torch.tensor(rows, device=device)
            cache.keep(keep_rows, keep)
            trace.keep_rows(rows)
            xa, enc_lens, max_lens = xa[keep], enc_lens[keep], max_lens[keep]
            tokens, scores = tokens[keep_rows], scores[keep]
            if use_ctc:
                x, r, psi_prev = x[keep_rows], r[keep_rows], psi_prev[keep_rows]
            live = [live[c] for c in stay]
    return [max(f, key=lambda h: h.score) if f else Hypothesis([], NEG_INF, NEG_INF) for f in finished]


def _sample_search(model, xa, enc_lens, prefix, eos_id, opts, banned_ids, on_step, kinds, logits_filter):
    """``opts.best_of`` candidates per utterance, each drawing its tokens at ``opts.temperature``.

    This is Whisper's fallback decoding: when the beam's text of a window looks wrong,
    the window is decoded again by sampling, at rising temperatures. Every row draws
    its next token from softmax(log p / T), after the logits filter and banned tokens;
    a candidate's score is its log-probability at temperature 1, as Whisper ranks
    them. Rows never change places, so the cache is not reordered; a finished row is
    fed <eos> until every row of the batch is done. (Joint CTC scoring does not
    apply: sampling is for models without a CTC head.)
    """
    B, K = xa.shape[0], opts.best_of
    N, device = B * K, xa.device
    generator = torch.Generator(device=device).manual_seed(opts.seed)
    max_lens = ((enc_lens.float() * opts.max_len_ratio).long() + 10).tolist()
    P0 = len(prefix)
    tokens = torch.tensor(prefix, dtype=torch.long, device=device).repeat(N, 1)
    log_probs = [0.0] * N
    alive = [True] * N
    cache = KVCache()
    trace = _AttentionTrace(keep=opts.capture_attention)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    for step in range(max(max_lens)):
        recorder = AttentionRecorder(kinds) if kinds else None
        if step == 0:  # every candidate starts from the same prefix: run it once per utterance
            logits = model.decode(tokens[::K], xa, enc_lens, cache, recorder)[:, -1].float().repeat_interleave(K, 0)
            if K > 1:
                cache.reorder(torch.arange(N, device=device) // K)
        else:
            logits = model.decode(tokens[:, -1:], xa, enc_lens, cache, recorder)[:, -1].float()
        logp = logits.log_softmax(dim=-1).double()
        if logits_filter is not None:
            logits_filter(tokens, logp)
        if banned_ids:
            logp[:, list(banned_ids)] = NEG_INF
        if recorder is not None:
            rows = torch.stack([w[:, :, -1] for w in recorder.of_kind("decoder_cross")])
            trace.add(rows.repeat_interleave(K, dim=1) if step == 0 else rows)
        trace.reorder(list(range(N)))
        probs = (logp / opts.temperature).softmax(dim=-1).float()
        stuck = ~torch.isfinite(probs).all(dim=-1) | (probs.sum(dim=-1) <= 0)  # every token ruled out
        probs[stuck] = 0.0
        probs[stuck, eos_id] = 1.0
        choice = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        chosen = choice.tolist()
        chosen_lp = logp.gather(1, choice[:, None]).squeeze(1).tolist()
        for n in range(N):
            if not alive[n]:
                chosen[n] = eos_id
                continue
            tok, b = chosen[n], n // K
            log_probs[n] += chosen_lp[n] if chosen_lp[n] > NEG_INF else IMPOSSIBLE
            if tok == eos_id or step + 1 >= max_lens[b]:
                seq = tokens[n, P0:].tolist() + ([] if tok == eos_id else [tok])
                finished[b].append(_hypothesis(seq, log_probs[n], opts, trace.history(n, step + 1)))
                alive[n] = False
        tokens = torch.cat([tokens, torch.tensor(chosen, device=device)[:, None]], dim=1)
        if on_step is not None:
            scores = torch.tensor([lp if a else NEG_INF for lp, a in zip(log_probs, alive)],
                                  dtype=torch.float64).view(B, K)
            done = [not any(alive[b * K:(b + 1) * K]) for b in range(B)]
            _report_step(on_step, step, tokens[:, P0 - 1:], scores, trace, finished, done, K, eos_id,
                         temperature=opts.temperature)
        if not any(alive):
            break
    return [max(f, key=lambda h: h.score) if f else Hypothesis([], NEG_INF, NEG_INF) for f in finished]


class _AttentionTrace:
    """Each step's cross-attention rows and where each beam came from, to rebuild a hypothesis' rows.

    Moving the whole history with the beams at every step costs time that grows with the
    square of the length; keeping each step as decoded, with the beams' parents, costs
    nothing until a finished hypothesis asks for its rows. Without ``keep`` (no attention
    in the results) only the newest step is held, for the step callback.
    """

    def __init__(self, keep: bool):
        self.keep = keep
        self.steps: list[Tensor] = []  # per step (n_layers, N, H, T), rows in the order they were decoded
        self.parents: list[list[int]] = []  # per step: row after the step's reordering -> row before

    def add(self, rows: Tensor) -> None:
        if not self.keep:
            self.steps.clear()
            self.parents.clear()
        self.steps.append(rows)

    def reorder(self, src: list[int]) -> None:
        if self.steps:
            self.parents.append(src)

    def keep_rows(self, rows: list[int]) -> None:
        """Only ``rows`` (after the newest reordering) go on, in that order (utterances that ended leave)."""
        if self.steps:
            self.parents[-1] = [self.parents[-1][r] for r in rows]

    def newest(self, rows: list[int]) -> Tensor:
        """(n_layers, len(rows), H, T): the newest step's attention of ``rows``, counted after its reordering."""
        return self.steps[-1][:, [self.parents[-1][r] for r in rows]]

    def history(self, row: int, n_steps: int) -> Tensor | None:
        """(n_layers, H, n_steps, T): the first ``n_steps`` steps of the hypothesis in ``row`` of step
        ``n_steps - 1`` as decoded (before its reordering); None when the history is not kept."""
        if not self.keep or n_steps == 0:
            return None
        out = []
        for t in range(n_steps - 1, -1, -1):
            out.append(self.steps[t][:, row])
            if t > 0:
                row = self.parents[t - 1][row]
        return torch.stack(out[::-1], dim=2)


def _hypothesis(seq, log_prob, opts, attn: Tensor | None) -> Hypothesis:
    n = max(1, len(seq) + (1 if opts.length_counts_eos else 0))  # <eos> is a decision too, unless told otherwise
    score = log_prob / (n**opts.length_penalty) if opts.length_penalty else log_prob
    cross = attn.half().cpu().numpy() if attn is not None else None  # (layers, H, steps, T)
    return Hypothesis(tokens=[int(t) for t in seq], score=float(score), log_prob=float(log_prob), cross_attention=cross)


def _report_step(on_step, step, tokens, scores, trace, finished, done, K, eos_id, live=None, temperature=0.0):
    """Call ``on_step`` with each utterance's best tokens so far and, when traced, its newest attention.

    ``live`` lists the caller's utterances that rows of ``tokens`` and ``scores`` still hold, in order
    (None: all of them); the others have ended, and report their best hypothesis and zero attention.
    """
    live = list(range(scores.shape[0])) if live is None else live
    place = {b: c for c, b in enumerate(live)}
    best_tokens, rows = [], []
    for b in range(len(done)):
        c = place.get(b)  # None: it has left the batch (and so is done)
        k = int(scores[c].argmax()) if c is not None else 0
        if done[b] and finished[b]:
            best_tokens.append(max(finished[b], key=lambda h: h.score).tokens)
        elif c is None:  # ended with no hypothesis: nothing to show
            best_tokens.append([])
        else:
            best_tokens.append([t for t in tokens[c * K + k, 1:].tolist() if t != eos_id])
        rows.append(c * K + k if c is not None else None)
    attn = None
    if trace.steps:
        last = trace.newest([row if row is not None else 0 for row in rows])  # (n_layers, B, H, T)
        ended = [i for i, row in enumerate(rows) if row is None]
        if ended:
            last = last.clone()
            last[:, ended] = 0
        attn = [last[i].float() for i in range(last.shape[0])]
    on_step(StepInfo(step=step, tokens=best_tokens, cross_attention=attn, finished=list(done),
                     temperature=temperature))
