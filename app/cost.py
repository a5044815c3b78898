"""What a training run would cost on rented GPUs, from throughput measured on this machine.

No Qt here: the Train page's cost panel (app.widgets.cost_estimate) shows what
these functions compute, and tests check them directly.

The arithmetic, spelled out so the numbers on screen can be checked by hand::

    GPU hours      = train audio hours × epochs × 3600 / (audio seconds per second) / 3600
                   = train audio hours × epochs / (audio seconds per second, of one GPU)
    instance hours = GPU hours / GPUs on the instance
    cost           = instance hours × (monthly price / 730)

Two assumptions, shown next to the table:

- each GPU of an instance trains as fast as the one measured here (a V100 is
  not an H100: measure on the kind of GPU you mean to rent when you can);
- data-parallel training scales perfectly with the number of GPUs, so an
  8-GPU instance finishes in an eighth of the time and is paid for the whole
  instance during that time. Real scaling is somewhat worse, so multi-GPU rows
  are a lower bound.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from app.i18n import QT_TRANSLATE_NOOP, translate

HOURS_PER_MONTH = 730  # the cloud providers' convention: 365 × 24 / 12
# Shown by app.widgets.cost_estimate, translated there (context "CostEstimate").
PRICE_SOURCE = QT_TRANSLATE_NOOP("CostEstimate", "On-demand US-East monthly prices used by the source analysis "
                                 "(730 hours a month); as quoted in the source analysis, not today's prices: "
                                 "check current prices.")
ASSUMPTION = QT_TRANSLATE_NOOP("CostEstimate", "Assumes every GPU of an instance is as fast as the one measured here "
                               "and that training scales perfectly across an instance's GPUs (time ÷ GPUs, "
                               "whole-instance price); multi-GPU costs are therefore a lower bound.")


@dataclass(frozen=True)
class InstancePrice:
    """One row of the price table.

    Attributes
    ----------
    instance : str
        The provider's name for it, e.g. "p3.2xlarge".
    gpus : int
        GPUs on the instance (the price is for all of them together).
    gpu : str
        GPU model, for people ("V100", "A100").
    monthly_usd : float
        On-demand price of the whole instance for a month of ``HOURS_PER_MONTH`` hours.
    """

    instance: str
    gpus: int
    gpu: str
    monthly_usd: float

    @property
    def hourly_usd(self) -> float:
        return self.monthly_usd / HOURS_PER_MONTH


DEFAULT_PRICES: tuple[InstancePrice, ...] = (
    InstancePrice("p3.2xlarge", 1, "V100", 2236.80),
    InstancePrice("p3dn.24xlarge", 8, "V100", 22791.16),
    InstancePrice("p4d.24xlarge", 8, "A100", 23930.40),
)


@dataclass(frozen=True)
class CostRow:
    price: InstancePrice
    hours: float  # wall-clock hours on the instance
    cost_usd: float


def gpu_hours(audio_hours: float, epochs: float, audio_seconds_per_second: float) -> float:
    """Hours one GPU needs to see ``audio_hours`` of audio ``epochs`` times at the measured speed.

    Parameters
    ----------
    audio_hours : float
        Hours of audio in the training manifest.
    epochs : float
        Passes over the data (fractions allowed).
    audio_seconds_per_second : float
        Measured training throughput of one GPU: seconds of audio per second of wall time.

    Returns
    -------
    float
        Hours; ``math.inf`` when the throughput is not positive (not measured yet).
    """
    if audio_seconds_per_second <= 0:
        return math.inf
    return audio_hours * epochs * 3600.0 / audio_seconds_per_second / 3600.0


def estimate_costs(audio_hours: float, epochs: float, audio_seconds_per_second: float,
                   prices: Iterable[InstancePrice]) -> list[CostRow]:
    """Wall-clock hours and cost of the training on each instance of ``prices`` (see the module docstring)."""
    hours_one_gpu = gpu_hours(audio_hours, epochs, audio_seconds_per_second)
    rows = []
    for p in prices:
        hours = hours_one_gpu / max(1, p.gpus)
        rows.append(CostRow(p, hours, hours * p.hourly_usd))
    return rows


def batches_per_epoch(durations: Sequence[float], max_frames: int, num_buckets: int = 10,
                      max_batch_size: int = 0) -> int:
    """How many batches the trainer's sampler makes of these utterances in one epoch.

    Asks the trainer's own DurationBucketSampler rather than dividing total
    frames by ``max_frames``: every duration bucket ends in a part-filled batch,
    so the count is the sampler's, not the ideal.
    """
    from engine.data.batching import DurationBucketSampler

    if not durations or max_frames <= 0:
        return 0
    sampler = DurationBucketSampler(durations, max_frames, num_buckets=num_buckets,
                                    max_batch_size=max_batch_size or None)
    return len(sampler.batches())


def epochs_for_steps(max_steps: int, accum_steps: int, batches: int) -> float:
    """Epochs that ``max_steps`` optimizer updates of ``accum_steps`` batches each make, at ``batches`` an epoch."""
    if batches <= 0:
        return 0.0
    return max_steps * max(1, accum_steps) / batches


def steady_throughput(values: Iterable[float], skip_first: int = 1) -> float | None:
    """Median audio-seconds-per-second of training records, leaving out the first (warm-up) ones.

    The first logged step includes building the data loader, CUDA kernels
    warming up and ``torch.compile``; the median shrugs off evaluation pauses.
    With only ``skip_first`` values or fewer, all of them are used.
    """
    values = [float(v) for v in values if v is not None and float(v) > 0]
    if not values:
        return None
    kept = values[skip_first:] if len(values) > skip_first else values
    return statistics.median(kept)


def prices_to_json(prices: Iterable[InstancePrice]) -> str:
    return json.dumps([asdict(p) for p in prices], ensure_ascii=False)


def prices_from_json(text: str) -> list[InstancePrice]:
    """Rows saved by :func:`prices_to_json`; malformed rows are dropped, never raised on."""
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        return []
    rows = []
    for item in items if isinstance(items, list) else []:
        try:
            rows.append(InstancePrice(str(item["instance"]), int(item["gpus"]), str(item.get("gpu", "")),
                                      float(item["monthly_usd"])))
        except (KeyError, TypeError, ValueError):
            continue
    return rows


def format_hours(hours: float) -> str:
    """'3 h 20 min', '2.5 days', '12.5 min', '4.2 s'; '—' when unknown."""
    if not math.isfinite(hours):
        return "—"
    if hours >= 48:
        return translate("Cost", "{days} days").format(days=f"{hours / 24:.1f}")
    if hours >= 1:
        h, minutes = divmod(round(hours * 60), 60)
        return f"{h} h {minutes:02d} min"
    if hours * 60 >= 1:
        return f"{hours * 60:.1f} min"
    seconds = hours * 3600
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2f} s"


def format_usd(amount: float) -> str:
    if not math.isfinite(amount):
        return "—"
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"
