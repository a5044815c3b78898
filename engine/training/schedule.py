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


def learning_rate(step: int, config: TrainConfig, d_model: int) -> float:
    if config.schedule == "cosine":
        return cosine_lr(step, config.warmup, config.max_steps, config.peak_lr, config.min_lr)
    return noam_lr(step, d_model, config.warmup, config.lr_factor)
