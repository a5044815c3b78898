"""What a training run reports as it goes: metrics.jsonl records, live points and the terminal's progress bar.

The trainer sums each batch's loss and throughput into a :class:`Window` (one
between two log steps, for metrics.jsonl; one between two live points, for a
caller following the run live). :class:`LivePoints` says when the next live
point is due and the ETA from the steps timed so far; :class:`ProgressBar`
shows the live points in a terminal (``parcero train``) with tqdm.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from tqdm import tqdm

LIVE_SECONDS = 0.25  # the closest two live points follow each other
# After LIVE_POINTS × LIVE_SECONDS the spacing grows with the run's age (age / LIVE_POINTS): the live
# curves of a day-long run hold a few thousand points, not millions.
LIVE_POINTS = 2000


class MetricsLog:
    """``metrics.jsonl``: one JSON object a line, each stamped with the time, flushed as it is written.

    Only the main process of a distributed run writes; ``on_record`` gets each record too.
    """

    def __init__(self, path: Path, *, is_main: bool = True,
                 on_record: Callable[[dict[str, Any]], None] | None = None):
        self.path = path
        self.is_main = is_main
        self.on_record = on_record

    def write(self, record: dict[str, Any]) -> None:
        if not self.is_main:
            return
        record = {"time": round(time.time(), 3), **record}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
        if self.on_record is not None:
            self.on_record(record)


class LossValues:
    """The parts of one batch's loss as floats."""

    def __init__(self, parts) -> None:
        self.total = parts.total.item()
        self.attention = parts.attention.item()
        self.ctc = parts.ctc.item() if parts.ctc is not None else 0.0


class Window:
    """Running sums between two log steps (or two live points)."""

    def __init__(self) -> None:
        self.lr = 0.0
        self.grad_norm = 0.0
        self._reset()

    def _reset(self) -> None:
        self.t0 = time.perf_counter()
        self.loss = self.att = self.ctc = 0.0
        self.n = 0
        self.audio_s = 0.0
        self.tokens = 0

    def add(self, values: LossValues, audio_seconds: float, tokens: int) -> None:
        self.loss += values.total
        self.att += values.attention
        self.ctc += values.ctc
        self.n += 1
        self.audio_s += audio_seconds
        self.tokens += tokens

    def flush(self) -> dict[str, float]:
        """The means and rates since the last flush, rounded for the record; the sums start again."""
        dt = max(time.perf_counter() - self.t0, 1e-9)
        n = max(self.n, 1)
        out = {"loss": self.loss / n, "att_loss": self.att / n, "ctc_loss": self.ctc / n,
               "audio_seconds_per_second": self.audio_s / dt, "tokens_per_second": self.tokens / dt}
        self._reset()
        return {k: round(v, 5) for k, v in out.items()}


class LivePoints:
    """When the next live point is due, and the ETA from the steps timed so far."""

    def __init__(self, step: int) -> None:
        self.window = Window()
        self.s0 = step
        self.last = float("-inf")
        self.first_step_time: float | None = None  # the ETA leaves out the set-up before the first step

    def due(self, step: int, always: bool) -> bool:
        now = time.perf_counter()
        if self.first_step_time is None:
            self.first_step_time, self.s0 = now, step
            always = True  # the first step: the bar moves as soon as training does
        gap = max(LIVE_SECONDS, (now - self.first_step_time) / LIVE_POINTS)
        if always or now - self.last >= gap:
            self.last = now
            return True
        return False

    def eta(self, step: int, total: int) -> float | None:
        """Seconds left at the mean time per step since the first one (evaluations and checkpoints included)."""
        if self.first_step_time is None or step <= self.s0:
            return None
        per_step = (time.perf_counter() - self.first_step_time) / (step - self.s0)
        return per_step * max(0, total - step)


class ProgressBar:
    """A run's live points as a tqdm bar: step/max_steps, loss, learning rate, speed and ETA.

    The bar opens at the first live point, so that its rate and ETA, like
    :meth:`LivePoints.eta`, are the mean since the first step (set-up left out;
    evaluations and checkpoints included), and from the step a resumed run
    starts at.
    """

    def __init__(self, total: int, file: TextIO | None = None):
        self.total = total
        self.file = file
        self.bar: tqdm | None = None

    def show(self, step: int, record: dict[str, Any]) -> None:
        """Move the bar to ``step``, with a live point's ``loss``, ``lr`` and ``audio_seconds_per_second``."""
        rate = record.get("audio_seconds_per_second", 0.0)
        postfix = f"loss {record['loss']:.3f} lr {record['lr']:.2e} {rate:.0f}× real time"
        if self.bar is None:
            # smoothing 0: tqdm's rate is the mean since the bar opened, not a moving average
            self.bar = tqdm(total=self.total, initial=step, file=self.file or sys.stderr, unit="step",
                            dynamic_ncols=True, smoothing=0, mininterval=0, postfix=postfix)
            return
        self.bar.n = step
        self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
