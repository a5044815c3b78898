"""Learning-rate schedules, as functions of the optimizer step (1-based)."""

from __future__ import annotations

import math

from engine.training.config import TrainConfig


def noam_lr(step: int, d_model: int, warmup: int, factor: float = 1.0) -> float:
    """Vaswani et al.: lr = k · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)."""
    step = max(step, 1)
    return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def cosine_lr(step: int, warmup: int, total: int, peak: float, floor: float = 0.0) -> float:
    """Linear warm-up to ``peak``, then half a cosine down to ``floor`` at ``total``."""
    step = max(step, 1)
    if step <= warmup:
        return peak * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


def resolve_schedule(config: TrainConfig, fine_tuning: bool, default_peak_lr: float = 1e-4) -> tuple[str, float]:
    """The schedule and cosine peak a run uses once "auto" settings are decided.

    "auto" is Vaswani et al.'s schedule from scratch and the cosine schedule when
    fine-tuning: the noam peak (about 7e-4 for d_model 512) would wreck a trained
    model. A peak of 0 means the family's ``default_peak_lr`` (1e-4; Whisper's
    published fine-tuning recipes use 1e-5 and below).
    """
    schedule = config.schedule
    if schedule == "auto":
        schedule = "cosine" if fine_tuning else "noam"
    peak = config.peak_lr or default_peak_lr
    return schedule, peak


def learning_rate(step: int, config: TrainConfig, d_model: int) -> float:
    if config.schedule == "auto" or (config.schedule == "cosine" and config.peak_lr <= 0):
        raise ValueError("resolve the schedule first (resolve_schedule)")
    if config.schedule == "cosine":
        return cosine_lr(step, config.warmup, config.max_steps, config.peak_lr, config.min_lr)
    return noam_lr(step, d_model, config.warmup, config.lr_factor)
