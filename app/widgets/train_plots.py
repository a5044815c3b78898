"""Live training curves: loss, dev error rates, learning rate, throughput and GPU memory against the step.

Records (metrics.jsonl objects, from the engine or a tailed file) are only
buffered when they arrive; a timer copies the buffers into the existing
curves with ``setData`` a few times a second, so a fast run never floods the
event loop and nothing is re-plotted from scratch.

The training curves (loss, learning rate, throughput, GPU memory) come from the
"train" records of metrics.jsonl, or, once the engine sends "live" points (a
few a second, whatever the log interval), from those: the finer of the two, never
a mix of means over different windows.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.plot_style import palette_colors, style_plot

REDRAW_MS = 250
FEW_POINTS = 30  # a curve this short marks each point: a lone first point is no line
# name: (plot, record kind, record key, legend label, colour, scale); scale turns rates into percent.
# Labels are English, shown through TrainPlots.tr.
SERIES = {
    "loss": ("loss", "train", "loss", QT_TRANSLATE_NOOP("TrainPlots", "train loss"), "#1f77b4", 1.0),
    "dev_loss": ("loss", "eval", "dev_loss", QT_TRANSLATE_NOOP("TrainPlots", "dev loss"), "#ff7f0e", 1.0),
    "cer": ("errors", "eval", "cer", "CER %", "#2ca02c", 100.0),
    "wer": ("errors", "eval", "wer", "WER %", "#d62728", 100.0),
    "lr": ("lr", "train", "lr", QT_TRANSLATE_NOOP("TrainPlots", "learning rate"), "#9467bd", 1.0),
    "throughput": ("throughput", "train", "audio_seconds_per_second", QT_TRANSLATE_NOOP("TrainPlots", "audio s / s"),
                   "#8c564b", 1.0),
    "gpu_memory": ("gpu", "train", "gpu_memory_gb", QT_TRANSLATE_NOOP("TrainPlots", "GPU memory (GB)"), "#7f7f7f",
                   1.0),
}
PLOTS = (("loss", QT_TRANSLATE_NOOP("TrainPlots", "loss")),
         ("errors", QT_TRANSLATE_NOOP("TrainPlots", "dev error rate (%)")),
         ("lr", QT_TRANSLATE_NOOP("TrainPlots", "learning rate")),
         ("throughput", QT_TRANSLATE_NOOP("TrainPlots", "audio seconds / second")),
         ("gpu", QT_TRANSLATE_NOOP("TrainPlots", "peak GPU memory (GB)")))


class TrainPlots(QWidget):
    """Stacked plots sharing the step axis; feed them records with :meth:`add_records`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        background, text_color, _ = palette_colors(self)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(background)
        self.plots: dict[str, pg.PlotItem] = {}
        for i, (name, label) in enumerate(PLOTS):
            plot = self.view.addPlot(row=i // 2, col=i % 2)
            style_plot(plot, text_color)
            plot.setLabel("bottom", self.tr("step"))
            plot.setLabel("left", self.tr(label))
            plot.showGrid(x=True, y=True, alpha=0.2)
            if name in ("loss", "errors"):
                plot.addLegend(offset=(-10, 10), labelTextColor=text_color)
            if name != "loss":
                plot.setXLink(self.plots["loss"])
            self.plots[name] = plot
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, (plot, kind, _, label, color, _) in SERIES.items():
            symbol = "o" if kind == "eval" else None  # evaluations are sparse: show each one
            self.curves[name] = self.plots[plot].plot([], [], name=self.tr(label), pen=pg.mkPen(color, width=2),
                                                      symbol=symbol, symbolSize=6, symbolBrush=color,
                                                      symbolPen=pg.mkPen(color))
            self.curves[name].setClipToView(True)  # a long run's thousands of points: draw what is in view,
            self.curves[name].setDownsampling(auto=True, method="peak")  # at most a few per pixel
        self.plots["gpu"].hide()  # until a record says how much GPU memory the run holds (never on a CPU)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._timer = QTimer(self, interval=REDRAW_MS)
        self._timer.timeout.connect(self.on_timer_timeout)
        self.clear()

    # ---- data -----------------------------------------------------------------------

    def clear(self) -> None:
        self._x: dict[str, list[float]] = {name: [] for name in SERIES}
        self._y: dict[str, list[float]] = {name: [] for name in SERIES}
        self._live = False  # live points arrived: the curves follow them, not the train records
        self._dirty = True
        self.redraw()

    def add_record(self, record: dict[str, Any]) -> None:
        """Buffer one metrics record; drawn at the next timer tick."""
        kind, step = record.get("kind"), record.get("step")
        if step is None:
            return
        if kind == "live":
            self._live, kind = True, "train"
        elif kind == "train" and self._live:
            return
        for name, (_, series_kind, key, _, _, scale) in SERIES.items():
            value = record.get(key)
            if series_kind == kind and isinstance(value, (int, float)) and np.isfinite(value):
                xs, ys = self._x[name], self._y[name]
                # A resumed run repeats steps, and the first live point takes over from the train
                # record of its step: drop what is redone.
                if xs and step <= xs[-1]:
                    keep = int(np.searchsorted(xs, step))
                    del xs[keep:], ys[keep:]
                xs.append(float(step))
                ys.append(float(value) * scale)
                self._dirty = True
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    def add_records(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.add_record(record)

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What the curve ``name`` (a key of SERIES) shows now, as (steps, values)."""
        curve = self.curves[name]  # xData/yData: as given, before any log-axis transform
        return (np.asarray(curve.xData if curve.xData is not None else []),
                np.asarray(curve.yData if curve.yData is not None else []))

    def buffered(self, name: str) -> int:
        """Points received for ``name``, drawn or not yet."""
        return len(self._x[name])

    # ---- drawing ------------------------------------------------------------------

    def redraw(self) -> None:
        """Copy the buffers into the curves now (the timer does this while records arrive)."""
        if not self._dirty:
            self._timer.stop()
            return
        self._dirty = False
        for name, curve in self.curves.items():
            curve.setData(np.asarray(self._x[name]), np.asarray(self._y[name]))
            symbol = "o" if SERIES[name][1] == "eval" or 0 < len(self._x[name]) <= FEW_POINTS else None
            if curve.opts["symbol"] != symbol:
                curve.setSymbol(symbol)
        self.plots["gpu"].setVisible(bool(self._x["gpu_memory"]))
        # The lr spans decades over warm-up and decay; a log axis needs positive values only.
        self.plots["lr"].setLogMode(y=bool(self._y["lr"]) and min(self._y["lr"]) > 0)

    @Slot()
    def on_timer_timeout(self) -> None:
        self.redraw()
