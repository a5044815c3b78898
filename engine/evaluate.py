"""Evaluate a model on a manifest: WER/CER overall and per speaker and gender, and the gender gap.

:func:`evaluate_loaded` serves ``parcero eval`` and the Evaluate page (through the
engine worker) for a model of any family; :func:`evaluate` is the Speech-Transformer's
batched path, also used by the trainer's periodic dev evaluation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from engine.data.batching import DurationBucketSampler, SpeechDataset, make_loader
from engine.data.manifest import Utterance
from engine.decode import Hypothesis, decode_encoded
from engine.transcript import DecodeOptions
from engine.feature_config import FeatureConfig
from engine.losses import joint_loss
from engine.gap import GenderGap, gender_gap
from engine.metrics import ErrorRates, error_rates, utterance_errors
from engine.text import CharTokenizer, TextConfig


@dataclass
class EvalRow:
    id: str
    reference: str
    hypothesis: str
    speaker: str = ""
    gender: str = ""


@dataclass
class EvalReport:
    overall: ErrorRates
    by_speaker: dict[str, ErrorRates]
    by_gender: dict[str, ErrorRates]
    rows: list[EvalRow]
    skipped: list[tuple[str, str]]  # (id, reason) of utterances whose audio could not be read
    loss: float | None = None  # teacher-forced joint loss per batch, averaged
    attention: dict[str, object] = field(default_factory=dict)  # id -> (layers, H, steps, T) float16 for sampled ids
    gender_gap: GenderGap | None = None  # women's CER/WER minus men's with intervals; None unless both have rows

    def to_dict(self) -> dict:
        return {
            "wer": self.overall.wer, "cer": self.overall.cer, "utterances": self.overall.utterances,
            "loss": self.loss, "overall": self.overall.to_dict(),
            "by_speaker": {k: v.to_dict() for k, v in self.by_speaker.items()},
            "by_gender": {k: v.to_dict() for k, v in self.by_gender.items()},
            "gender_gap": self.gender_gap.to_dict() if self.gender_gap is not None else None,
            "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
            "rows": [vars(r) for r in self.rows],
        }


@torch.inference_mode()
def evaluate(
    model,
    tokenizer: CharTokenizer,
    feature_config: FeatureConfig,
    utterances: Sequence[Utterance],
    base_dir: str | Path | None,
    options: DecodeOptions = DecodeOptions(),
    *,
    max_frames: int = 30000,
    num_workers: int = 0,
    score_config: TextConfig | None = None,
    loss_ctc_weight: float | None = None,
    capture_ids: set[str] = frozenset(),
    autocast_dtype: torch.dtype | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Decode every utterance and score it against its transcript.

    ``score_config`` normalises both sides before scoring (default: the tokenizer's own).
    ``loss_ctc_weight`` also computes the teacher-forced loss (used for dev loss in training).
    ``capture_ids`` keeps the cross-attention of those utterances.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    dataset = SpeechDataset(utterances, base_dir, tokenizer, feature_config, min_frames=model.MIN_FRAMES)
    sampler = DurationBucketSampler(dataset.durations(), max_frames=max_frames, shuffle=False, num_buckets=1)
    by_id = {u.id: u for u in utterances}
    rows, skipped, losses, attention = [], [], [], {}
    done = 0
    for lb in make_loader(dataset, sampler, num_workers=num_workers):
        skipped.extend(lb.skipped)
        done += len(lb.ids) + len(lb.skipped)
        if lb.batch is None:
            continue
        batch = lb.batch.to(device)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            xa, enc_lens = model.encode(batch.feats, batch.feat_lens)
            ctc_lp = model.ctc_log_probs(xa) if getattr(model, "ctc_head", None) is not None else None
            if loss_ctc_weight is not None:
                logits = model.decode(batch.tokens_in, xa, enc_lens)
                losses.append(float(joint_loss(logits, ctc_lp, enc_lens, batch, loss_ctc_weight).total))
            want = bool(capture_ids & set(lb.ids))
            opts = DecodeOptions(**{**vars(options), "capture_attention": want}) if want else options
            hyps: list[Hypothesis] = decode_encoded(
                model, xa.float(), enc_lens, tokenizer.sos_id, tokenizer.eos_id, opts,
                banned_ids=(tokenizer.blank_id, tokenizer.sos_id), ctc_log_probs=ctc_lp,
            )
        for uid, hyp in zip(lb.ids, hyps):
            u = by_id[uid]
            rows.append(EvalRow(uid, u.text, tokenizer.decode(hyp.tokens), u.speaker, u.gender))
            if uid in capture_ids and hyp.cross_attention is not None:
                attention[uid] = hyp.cross_attention
        if on_progress is not None:
            on_progress(done, len(utterances))
    model.train(was_training)
    cfg = score_config if score_config is not None else tokenizer.config
    return scored(rows, skipped, cfg, loss=sum(losses) / len(losses) if losses else None, attention=attention)


def scored(rows: list[EvalRow], skipped: list[tuple[str, str]], cfg: TextConfig, **extra) -> EvalReport:
    """The report of ``rows``: WER/CER overall, per speaker and per gender, all normalised by ``cfg``.

    Also the female − male gap with bootstrap intervals (:func:`engine.gap.gender_gap`),
    from each utterance's own counts.
    """
    return EvalReport(
        overall=error_rates([r.reference for r in rows], [r.hypothesis for r in rows], cfg),
        by_speaker=_grouped(rows, lambda r: r.speaker or "(unknown)", cfg),
        by_gender=_grouped(rows, lambda r: r.gender or "unknown", cfg),
        rows=rows, skipped=skipped, gender_gap=_gender_gap(rows, cfg), **extra,
    )


def _gender_gap(rows: list[EvalRow], cfg) -> GenderGap | None:
    gendered = [r for r in rows if r.gender in ("female", "male")]
    each = utterance_errors([r.reference for r in gendered], [r.hypothesis for r in gendered], cfg)
    groups: dict[str, list] = defaultdict(list)
    for r, u in zip(gendered, each):
        groups[r.gender].append(u)
    return gender_gap(groups)


def _grouped(rows: list[EvalRow], key, cfg) -> dict[str, ErrorRates]:
    groups: dict[str, list[EvalRow]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return {k: error_rates([r.reference for r in g], [r.hypothesis for r in g], cfg) for k, g in sorted(groups.items())}


def evaluate_loaded(
    loaded,
    utterances: Sequence[Utterance],
    base_dir: str | Path | None,
    options: DecodeOptions = DecodeOptions(),
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """:func:`evaluate` for a loaded model of any family (``parcero eval``, the worker): its backend decides how."""
    return loaded.backend.evaluate(loaded, utterances, base_dir, options, on_progress)


def evaluate_by_transcribing(
    loaded,
    utterances: Sequence[Utterance],
    base_dir: str | Path | None,
    options: DecodeOptions = DecodeOptions(),
    on_progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Transcribe one utterance at a time with :func:`engine.transcribe.transcribe_long` and score it.

    For families that cannot batch utterances (Whisper's 30 s windows); references and
    hypotheses are scored with the default text normalisation (accents kept).
    """
    from engine.errors import ParceroError
    from engine.transcribe import transcribe_long

    rows, skipped = [], []
    base = Path(base_dir) if base_dir is not None else None
    sample_rate = loaded.backend.sample_rate(loaded)
    for i, u in enumerate(utterances):
        try:
            samples = u.load_samples(base, sample_rate)
            text = transcribe_long(loaded, samples, options).text
        except ParceroError as e:
            skipped.append((u.id, str(e)))
        else:
            rows.append(EvalRow(u.id, u.text, text, u.speaker, u.gender))
        if on_progress is not None:
            on_progress(i + 1, len(utterances))
    return scored(rows, skipped, TextConfig())
