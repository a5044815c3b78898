"""A dataset at a glance: hours, speakers, gender balance, durations and the characters of its texts.

The character chart is there for Spanish: accented vowels, ü and ñ are few
(well under 1% each) but a model that never learns them writes "ano" for
"año", so they are coloured and counted apart, and a dataset whose accents
were stripped upstream shows at once.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.background import BackgroundRunner
from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.plot_style import palette_colors, style_plot
from engine.data.manifest import Utterance
from engine.data.stats import GENDER_KEYS, SPANISH_SPECIALS, DatasetStats, dataset_stats, show_char

SPECIAL_COLOR = QColor("#d81b60")  # the accented letters and ñ stand out from the rest
GENDER_COLORS = {"female": QColor("#e66100"), "male": QColor("#1a5fb4"), "unknown": QColor("#9a9996")}
OTHER_COLOR = QColor("#9a9996")  # space, punctuation, digits
MAX_CHARS = 60  # the chart's characters, most frequent first; the rare rest would be unreadable
HISTOGRAM_BINS = 30
GENDER_NAMES = {"female": QT_TRANSLATE_NOOP("DatasetStatsView", "female"),  # shown through self.tr
                "male": QT_TRANSLATE_NOOP("DatasetStatsView", "male"),
                "unknown": QT_TRANSLATE_NOOP("DatasetStatsView", "unknown")}


def _hours_text(hours: float) -> str:
    # Toy corpora are minutes long; "0.00 h" would hide them.
    if hours >= 0.1:
        return f"{hours:.2f} h"
    return f"{hours * 60:.1f} min" if hours * 60 >= 1 else f"{hours * 3600:.1f} s"


class DatasetStatsView(QWidget):
    stats_changed = Signal(object)  # DatasetStats now shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.stats: DatasetStats | None = None
        self.durations = np.zeros(0)
        self._runner = BackgroundRunner(self)
        self._runner.finished.connect(self.on_runner_finished)
        background, self._text_color, self._accent = palette_colors(self)

        self.summary_label = QLabel(self.tr("Open or import a dataset to see its statistics."))
        font = QFont(self.summary_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.summary_label.setFont(font)
        self.summary_label.setWordWrap(True)
        self.special_label = QLabel()
        self.special_label.setWordWrap(True)
        self.gender_plot = self._plot(background, self.tr("Speech by gender"), self.tr("hours"))
        self.duration_plot = self._plot(background, self.tr("Utterance durations"), self.tr("utterances"))
        self.duration_plot.setLabel("bottom", self.tr("seconds"))
        self.char_plot = self._plot(background, self.tr("Characters of the normalised texts, most frequent first"),
                                    self.tr("count"))
        self.char_plot.getAxis("bottom").setStyle(tickTextOffset=4)

        grid = QGridLayout()
        grid.addWidget(self.gender_plot, 0, 0)
        grid.addWidget(self.duration_plot, 0, 1)
        grid.addWidget(self.char_plot, 1, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.special_label)
        layout.addLayout(grid, 1)

    def _plot(self, background, title: str, y_label: str) -> pg.PlotWidget:
        widget = pg.PlotWidget(background=background)
        plot = widget.getPlotItem()
        style_plot(plot, self._text_color, time_axis=False)
        plot.showAxis("bottom")
        plot.setMouseEnabled(x=False, y=False)
        plot.setTitle(title, color=self._text_color)
        plot.setLabel("left", y_label)
        plot.showGrid(y=True, alpha=0.15)
        return widget

    # ---- public API -------------------------------------------------------------------

    def set_utterances(self, utterances: Sequence[Utterance]) -> None:
        """Count in the background (normalising 100k texts takes a while); ``stats_changed`` follows."""
        items = list(utterances)
        self._runner.start(lambda progress: (dataset_stats(items), np.array([u.duration for u in items])))

    def set_stats(self, stats: DatasetStats, durations: np.ndarray) -> None:
        """Show already computed statistics; ``durations`` (s, shape (n,)) feed the histogram."""
        self.stats, self.durations = stats, np.asarray(durations, dtype=float)
        self._show_summary(stats)
        self._draw_genders(stats)
        self._draw_durations(self.durations)
        self._draw_chars(stats)
        self.stats_changed.emit(stats)

    def shutdown(self) -> None:
        self._runner.shutdown()

    @Slot(object)
    def on_runner_finished(self, result) -> None:
        self.set_stats(*result)

    # ---- drawing ------------------------------------------------------------------------

    def _show_summary(self, s: DatasetStats) -> None:
        no_speaker = (" " + self.tr("({n} without)").format(n=f"{s.utterances_without_speaker:,}")
                      if s.utterances_without_speaker else "")
        self.summary_label.setText(
            self.tr("<b>{utterances}</b> utterances · <b>{duration}</b> · <b>{speakers}</b> speakers{without} · "
                    "durations {shortest}–{longest} s (mean {mean} s)").format(
                utterances=f"{s.utterances:,}", duration=_hours_text(s.hours), speakers=f"{s.speakers:,}",
                without=no_speaker, shortest=f"{s.duration_min:.1f}", longest=f"{s.duration_max:.1f}",
                mean=f"{s.duration_mean:.1f}")
        )
        total = sum(s.char_counts.values())
        cells = []
        for ch in SPANISH_SPECIALS:
            n = s.char_counts.get(ch, 0)
            share = 100 * n / total if total else 0.0
            cells.append(f"<b style='color:{SPECIAL_COLOR.name()}'>{ch}</b> {n:,} ({share:.2f}%)")
        warning = ""
        if total >= 1000 and not any(s.char_counts.get(ch) for ch in SPANISH_SPECIALS):
            warning = " — <b>" + self.tr("no accented letters at all: were the accents stripped upstream?") + "</b>"
        self.special_label.setText(self.tr("Spanish letters:") + " " + " &nbsp; ".join(cells) + warning)

    def _draw_genders(self, s: DatasetStats) -> None:
        plot = self.gender_plot.getPlotItem()
        plot.clear()
        hours = [s.hours_by_gender[k] for k in GENDER_KEYS]
        # A toy corpus in hours would read 0.0003 on the axis; scale to what the total is counted in.
        unit, scale = (self.tr("hours"), 1.0) if s.hours >= 1 else (self.tr("minutes"), 60.0) if s.hours * 60 >= 1 \
            else (self.tr("seconds"), 3600.0)
        heights = [h * scale for h in hours]
        plot.setLabel("left", unit)
        plot.addItem(pg.BarGraphItem(x=np.arange(len(GENDER_KEYS)), height=heights, width=0.6,
                                     brushes=[GENDER_COLORS[k] for k in GENDER_KEYS], pen=None))
        # On two lines: on one, neighbouring labels overlapped on a 1366 px screen and pyqtgraph hid one.
        labels = [(i, self.tr("{gender} · {n} utt.").format(gender=self.tr(GENDER_NAMES.get(k, k)),
                                                              n=f"{s.utterances_by_gender[k]:,}").replace(" · ", "\n"))
                  for i, k in enumerate(GENDER_KEYS)]
        plot.getAxis("bottom").setTicks([labels, []])
        plot.getAxis("bottom").setHeight(2 * self.fontMetrics().height() + 16)  # room for the two lines
        for i, (h, height) in enumerate(zip(hours, heights)):
            text = pg.TextItem(_hours_text(h), color=self._text_color, anchor=(0.5, 1.0))
            text.setPos(i, height)
            plot.addItem(text)
        plot.setXRange(-0.6, len(GENDER_KEYS) - 0.4, padding=0)
        plot.setYRange(0, max(heights + [1e-6]) * 1.2, padding=0)

    def _draw_durations(self, durations: np.ndarray) -> None:
        plot = self.duration_plot.getPlotItem()
        plot.clear()
        if durations.size == 0:
            return
        counts, edges = np.histogram(durations, bins=HISTOGRAM_BINS)
        plot.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts,
                                     brush=self._accent, pen=pg.mkPen(self._text_color, width=0.5)))
        plot.setXRange(edges[0], edges[-1], padding=0.02)
        plot.setYRange(0, counts.max() * 1.1, padding=0)

    def _draw_chars(self, s: DatasetStats) -> None:
        plot = self.char_plot.getPlotItem()
        plot.clear()
        chars = list(s.char_counts)[:MAX_CHARS]
        missing = [ch for ch in SPANISH_SPECIALS if ch not in chars and s.char_counts.get(ch)]
        chars += missing  # rare but always shown: these are the letters we care about
        if not chars:
            return
        counts = [s.char_counts[ch] for ch in chars]

        def color(ch: str) -> QColor:
            if ch in SPANISH_SPECIALS:
                return SPECIAL_COLOR
            return self._accent if ch.isalpha() else OTHER_COLOR

        x = np.arange(len(chars))
        plot.addItem(pg.BarGraphItem(x=x, height=counts, width=0.75, brushes=[color(c) for c in chars], pen=None))
        plot.getAxis("bottom").setTicks([[(i, self._char_label(c)) for i, c in enumerate(chars)], []])
        top = max(counts)
        for i, ch in enumerate(chars):
            if ch in SPANISH_SPECIALS:  # too short to read off the axis: say the number
                label = pg.TextItem(f"{s.char_counts[ch]:,}", color=SPECIAL_COLOR, anchor=(0.5, 1.0))
                label.setPos(i, counts[i] + top * 0.01)
                plot.addItem(label)
        plot.setXRange(-0.7, len(chars) - 0.3, padding=0)
        plot.setYRange(0, top * 1.08, padding=0)

    def _char_label(self, ch: str) -> str:
        label = show_char(ch)
        # "␠" (the space) is missing from many fonts and would show as an empty box.
        if ch == " " and not QFontMetrics(self.char_plot.font()).inFont(label):
            return self.tr("space")
        return label
