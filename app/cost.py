"""What a training run would cost on rented GPUs, from a measured training throughput.

No Qt here: the Train page's cost panel (app.widgets.cost_estimate) shows what
these functions compute, and tests check them directly.

The arithmetic, spelled out so the numbers on screen can be checked by hand::

    speed on GPU X = measured audio seconds per second × peak(X) / peak(measured GPU)
    GPU hours      = train audio hours × epochs / (speed on GPU X, of one GPU)
    instance hours = GPU hours / GPUs on the instance
    cost           = instance hours × (monthly price / 730)

Scaling by peak rate keeps the measured MFU (achieved FLOP/s ÷ peak FLOP/s) on
every GPU: the work per audio second is the model's, so a GPU with twice the
peak dense bf16/fp16 rate is taken to train twice as fast. That holds while the
step is bound by matrix products; memory bandwidth, small kernels and the data
loader make real ratios smaller, so faster GPUs are estimated optimistically.

What the estimate can and cannot be derived from:

- a measurement on a GPU of :data:`GPU_PEAKS` (the Train page's warm-up run on
  this computer's GPU, a GPU result file of ``bench/gpu_check.py`` or
  ``bench/train_throughput.py``, or a throughput typed in with its GPU named):
  every row is scaled as above;
- a measurement on a GPU the table does not know: rows whose GPU is the
  measured one use it as is, the others cannot be scaled ("—");
- a measurement on a CPU: nothing. A CPU's speed says nothing about a GPU's (the
  ratio is neither constant nor known), so no row is priced and the panel asks
  for a GPU figure instead.

Data-parallel training is taken to scale perfectly with the GPUs of an
instance, so multi-GPU rows are a lower bound.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

from app.i18n import QT_TRANSLATE_NOOP, translate

HOURS_PER_MONTH = 730  # the cloud providers' convention: 365 × 24 / 12
# Shown by app.widgets.cost_estimate, translated there (context "CostEstimate").
PRICE_SOURCE = QT_TRANSLATE_NOOP("CostEstimate", "On-demand AWS US-East prices (730 hours a month) as quoted on the "
                                 "date in each row: the p3/p4d rows are the source analysis's, the others AWS's list "
                                 "prices. Prices change: check them and edit the table.")
ASSUMPTION = QT_TRANSLATE_NOOP("CostEstimate", "Other GPUs are scaled from the measured one by their peak dense "
                               "bf16/fp16 rate (vendor datasheets), keeping the measured MFU; real speed-ups are "
                               "usually smaller. Training is assumed to scale perfectly across an instance's GPUs "
                               "(time ÷ GPUs, whole-instance price), so multi-GPU costs are a lower bound.")
CPU_MEASURED = QT_TRANSLATE_NOOP("CostEstimate", "This throughput was measured on a CPU: no GPU estimate can be "
                                 "derived from it. Type in a throughput measured on a GPU, or load a GPU result file "
                                 "(bench/gpu_check.py or bench/train_throughput.py).")
UNKNOWN_GPU = QT_TRANSLATE_NOOP("CostEstimate", "The measured GPU ({gpu}) is not in the table of peak rates: only rows "
                                "with that GPU are priced.")


@dataclass(frozen=True)
class GpuPeak:
    """Peak dense 16-bit tensor throughput of one GPU model, from its vendor's datasheet.

    Attributes
    ----------
    name : str
        Short name shown to people ("H100 SXM").
    pattern : str
        Regular expression (case-insensitive) that finds this GPU in a device name as
        CUDA reports it ("NVIDIA H100 80GB HBM3") or in the price table's GPU column ("H100").
    dense_tflops : float
        Peak bf16 tensor-core TFLOP/s without structured sparsity (fp16 for the V100,
        which has no bf16). Datasheets print the sparse figure, twice this, with an asterisk.
    source : str
        Where the figure comes from.
    """

    name: str
    pattern: str
    dense_tflops: float
    source: str


# Most specific first: "H100 PCIe" before "H100", "L40S" before "L4", "A100" before "A10G".
GPU_PEAKS: tuple[GpuPeak, ...] = (
    GpuPeak("V100", r"V100", 125.0, "NVIDIA Tesla V100 datasheet (SXM2): 125 TFLOPS tensor, fp16 (no bf16)"),
    GpuPeak("A100", r"A100", 312.0, "NVIDIA A100 datasheet: BF16 tensor core 312 TFLOPS (624 with sparsity)"),
    GpuPeak("H100 PCIe", r"H100.*PCIe", 756.0, "NVIDIA H100 datasheet: H100 PCIe BF16 1,513 TFLOPS with sparsity"),
    GpuPeak("H100 NVL", r"H100.*NVL", 835.0, "NVIDIA H100 datasheet: H100 NVL BF16 1,671 TFLOPS with sparsity"),
    GpuPeak("H100 SXM", r"H100", 989.0, "NVIDIA H100 datasheet: H100 SXM BF16 1,979 TFLOPS with sparsity"),
    GpuPeak("H200", r"H200", 989.0, "NVIDIA H200 datasheet: H200 SXM BF16 1,979 TFLOPS with sparsity"),
    GpuPeak("L40S", r"L40S", 362.0, "NVIDIA L40S datasheet: BF16 tensor core 362.05 TFLOPS (733 with sparsity)"),
    GpuPeak("L4", r"\bL4\b", 121.0, "NVIDIA L4 datasheet: BF16 tensor core 242 TFLOPS with sparsity"),
    # NVIDIA publishes no A10G datasheet (an AWS-only variant of the A10, whose datasheet says 125
    # dense); 70 is the A10G tensor figure from Baseten's "NVIDIA A10 vs A10G" comparison.
    GpuPeak("A10G", r"A10G", 70.0, "Baseten, 'NVIDIA A10 vs A10G for ML model inference' (no NVIDIA datasheet)"),
)


def gpu_peak(name: str | None) -> GpuPeak | None:
    """The :data:`GPU_PEAKS` entry whose pattern matches ``name`` (a CUDA device name or "A100"), else None."""
    if not name:
        return None
    return next((g for g in GPU_PEAKS if re.search(g.pattern, name, re.IGNORECASE)), None)


@dataclass(frozen=True)
class Throughput:
    """A training speed and where it was measured.

    Attributes
    ----------
    audio_seconds_per_second : float
        Seconds of audio trained per second of wall time, by ``gpus`` devices together.
    device : str
        "cuda" (a GPU, named in ``gpu``), "cpu", or "" when unknown.
    gpu : str
        The GPU's name as reported ("NVIDIA H100 80GB HBM3") or typed ("A100").
    gpus : int
        How many GPUs the figure came from (a torchrun run logs their sum).
    mfu : float or None
        Measured model FLOPs utilisation, where the source reports one.
    source : str
        How it was obtained, for people.
    """

    audio_seconds_per_second: float
    device: str = ""
    gpu: str = ""
    gpus: int = 1
    mfu: float | None = None
    source: str = ""

    @property
    def per_gpu(self) -> float:
        return self.audio_seconds_per_second / max(1, self.gpus)

    @property
    def on_cpu(self) -> bool:
        return self.device == "cpu"


def speed_on(measured: Throughput, gpu: str) -> float | None:
    """Audio seconds per second one ``gpu`` would train at, scaled from ``measured`` (see the module docstring).

    None when it cannot be derived: a CPU measurement, or a GPU pair of which one
    has no known peak and the two are not the same model. A measurement whose
    device is unknown ("") is used as is for every GPU (the old behaviour, for
    callers that cannot tell).
    """
    if measured.per_gpu <= 0 or measured.on_cpu:
        return None
    if not measured.device:
        return measured.per_gpu
    source, target = gpu_peak(measured.gpu), gpu_peak(gpu)
    if source is not None and target is not None:
        return measured.per_gpu * target.dense_tflops / source.dense_tflops
    if source is None and gpu and gpu.lower() in measured.gpu.lower():
        return measured.per_gpu  # an unknown GPU, priced only where the row names that same GPU
    return None


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
        GPU model ("V100", "A100"); matched against :data:`GPU_PEAKS` to scale the speed.
    monthly_usd : float
        On-demand price of the whole instance for a month of ``HOURS_PER_MONTH`` hours.
    quoted : str
        When the price was quoted ("2025-06"), so that a stale price shows its age.
    """

    instance: str
    gpus: int
    gpu: str
    monthly_usd: float
    quoted: str = ""

    @property
    def hourly_usd(self) -> float:
        return self.monthly_usd / HOURS_PER_MONTH


SEED_QUOTED = "seed analysis"  # the first three rows' prices, as the source analysis quoted them

# On-demand Linux prices in US East (N. Virginia), hourly × 730. The seed analysis's three rows keep
# its figures; the others are AWS's list prices as quoted on the date given (g5.xlarge $1.006/h, also
# quoted in June 2026 by factualminds.com's "Amazon EC2 On-Demand Pricing ... (2026)"; g6.xlarge
# $0.8048/h, g6e.xlarge $1.861/h; p5.48xlarge $55.04/h after AWS's June 2025 cut of P5 prices).
# They are editable in the panel and drift: check current prices before relying on a row.
DEFAULT_PRICES: tuple[InstancePrice, ...] = (
    InstancePrice("p3.2xlarge", 1, "V100", 2236.80, SEED_QUOTED),
    InstancePrice("p3dn.24xlarge", 8, "V100", 22791.16, SEED_QUOTED),
    InstancePrice("p4d.24xlarge", 8, "A100", 23930.40, SEED_QUOTED),
    InstancePrice("g5.xlarge", 1, "A10G", round(1.006 * HOURS_PER_MONTH, 2), "2026-06"),
    InstancePrice("g6.xlarge", 1, "L4", round(0.8048 * HOURS_PER_MONTH, 2), "2025-06"),
    InstancePrice("g6e.xlarge", 1, "L40S", round(1.861 * HOURS_PER_MONTH, 2), "2025-06"),
    InstancePrice("p5.48xlarge", 8, "H100", round(55.04 * HOURS_PER_MONTH, 2), "2025-06"),
)


@dataclass(frozen=True)
class CostRow:
    price: InstancePrice
    hours: float  # wall-clock hours on the instance; inf when no speed could be derived for its GPU
    cost_usd: float
    speed: float | None = None  # audio seconds per second of one of its GPUs; None: not derivable


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


def estimate_costs(audio_hours: float, epochs: float, measured: Throughput | float,
                   prices: Iterable[InstancePrice]) -> list[CostRow]:
    """Wall-clock hours and cost of the training on each instance of ``prices`` (see the module docstring).

    ``measured`` is a :class:`Throughput`, or a bare number of audio seconds per
    second of one GPU whose device is unknown (used as is for every GPU).
    """
    if not isinstance(measured, Throughput):
        measured = Throughput(float(measured))
    rows = []
    for p in prices:
        speed = speed_on(measured, p.gpu)
        hours = gpu_hours(audio_hours, epochs, speed or 0.0) / max(1, p.gpus)
        rows.append(CostRow(p, hours, hours * p.hourly_usd, speed))
    return rows


def throughputs_from_result(data: dict | str | Path) -> list[Throughput]:
    """The training throughputs in a GPU result file, best first.

    Reads ``bench/gpu_check.py``'s JSON (its ``train`` part) and
    ``bench/train_throughput.py``'s; each row becomes a :class:`Throughput` named
    by the GPU, preset and precision. Raises ValueError for a file that holds none.
    """
    if not isinstance(data, dict):
        data = json.loads(Path(data).read_text(encoding="utf-8"))
    rows = data.get("results")
    if rows is None:
        rows = ((data.get("parts") or {}).get("train") or {}).get("results", [])
    gpu = str(data.get("gpu") or "")
    device = "cuda" if gpu else ("cpu" if str(data.get("device", "")).lower().startswith("cpu") else "")
    out = []
    for r in rows if isinstance(rows, list) else []:
        try:
            rate = float(r["audio_seconds_per_second"])
        except (KeyError, TypeError, ValueError):
            continue
        how = " ".join(str(r[k]) for k in ("preset", "precision") if r.get(k))
        compiled = " compiled" if r.get("compiled") else ""
        out.append(Throughput(rate, device, gpu, 1, r.get("mfu"), f"{gpu or data.get('device', '')}: {how}{compiled}"))
    if not out:
        raise ValueError("no training throughput in this file (expected bench/gpu_check.py or "
                         "bench/train_throughput.py JSON)")
    return sorted(out, key=lambda t: -t.audio_seconds_per_second)


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
                                      float(item["monthly_usd"]), str(item.get("quoted", ""))))
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
