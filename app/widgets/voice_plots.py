"""The pieces of the voice comparison: one column per group, and the plots that set the groups side by side.

:class:`ClipColumn` shows one representative recording of a group (picked
from a list): waveform and spectrogram, its F0 track on the same time axis,
and its level. :class:`ComparisonPlots` draws what the analysis measured over
many recordings per group (F0 distributions, long-term spectra, a table of
level and duration) and the overlay of one word said by both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.background import BackgroundRunner
from app.i18n import translate
from app.widgets.audio_view import AudioView
from app.widgets.plot_style import palette_colors, style_plot, translucent
from engine.data.manifest import Utterance
from engine.data.pitch import AlignedPair, LevelStats, VoiceProfile, f0_track, level_stats

SAMPLE_RATE = 16_000
F0_RANGE = (50.0, 400.0)  # Hz shown on F0 axes: below and above adult speaking voices
F0_BIN_HZ = 5.0
SPECTRUM_RANGE = (50.0, 8000.0)  # Hz; 16 kHz audio stops at 8 kHz
MAX_CHOICES = 500  # recordings offered in a column's list
TITLE_ONE_LINE = 28  # characters; longer plot titles take two lines
SPECTRUM_TICKS = ((100, "100"), (200, "200"), (500, "500"), (1000, "1k"), (2000, "2k"), (4000, "4k"), (8000, "8k"))


def short_speaker(speaker: str) -> str:
    """A speaker id fit for a label: Common Voice's are 128 hex digits."""
    if not speaker:
        return translate("ClipColumn", "no speaker")
    return speaker if len(speaker) <= 16 else speaker[:8] + "…"


def _plot_widget(parent: QWidget, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    background, text_color, _ = palette_colors(parent)
    widget = pg.PlotWidget(background=background)
    plot = widget.getPlotItem()
    style_plot(plot, text_color, time_axis=False)
    plot.showAxis("bottom")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    _set_title(plot, title, text_color)
    plot.showGrid(x=True, y=True, alpha=0.15)
    return widget


def _set_title(plot: pg.PlotItem, title: str, color) -> None:
    """A plot title that breaks into two lines when long: four plots share a 1366 px screen's width."""
    if len(title) > TITLE_ONE_LINE:
        middle = len(title) // 2
        spaces = [i for i, c in enumerate(title) if c == " "]
        if spaces:
            cut = min(spaces, key=lambda i: abs(i - middle))
            title = title[:cut] + "<br>" + title[cut + 1:]
    plot.setTitle(title, color=color, size="10pt")
    if "<br>" in title:  # pyqtgraph gives the title row a fixed 30 px: room for one line
        plot.titleLabel.setMaximumHeight(40)
        plot.layout.setRowFixedHeight(0, 40)


class ClipColumn(QWidget):
    """One group's representative recording, with its pitch and level."""

    clip_loaded = Signal(object)  # the Utterance now shown
    play_requested = Signal(object, float, object)  # samples (n,), start s, end s or None

    def __init__(self, color: QColor, parent: QWidget | None = None):
        super().__init__(parent)
        self.color = color
        self.base_dir: Path | None = None
        self.utterance: Utterance | None = None
        self.samples: np.ndarray | None = None
        self.level: LevelStats | None = None
        self.f0 = np.zeros(0)
        self._runner = BackgroundRunner(self)
        self._runner.finished.connect(self.on_runner_finished)
        self._runner.failed.connect(self.on_runner_failed)

        self.title_label = QLabel()
        self.clip_combo = QComboBox()
        self.clip_combo.setMinimumContentsLength(16)  # ids are long: the full one is in the list and the tooltip
        self.clip_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.play_button = QPushButton("▶")
        self.play_button.setToolTip(self.tr("Play this recording (the selection, when there is one)"))
        self.play_button.setMaximumWidth(36)
        self.text_label = QLabel()
        self.text_label.setWordWrap(True)
        self.audio_view = AudioView()
        self.f0_widget = _plot_widget(self, "", self.tr("time (s)"), "F0 (Hz)")
        self.f0_widget.setMinimumHeight(110)
        self.f0_widget.setMaximumHeight(160)
        f0_plot = self.f0_widget.getPlotItem()
        f0_plot.setXLink(self.audio_view.waveform_plot)
        f0_plot.setYRange(*F0_RANGE, padding=0)
        self.f0_curve = f0_plot.plot(pen=None, symbol="o", symbolSize=3, symbolPen=None, symbolBrush=color)
        self.level_label = QLabel()
        self.level_label.setWordWrap(True)  # one long line would set the page's minimum width

        top = QHBoxLayout()
        top.addWidget(self.title_label)
        top.addWidget(self.clip_combo, 1)
        top.addWidget(self.play_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text_label)
        layout.addWidget(self.audio_view, 3)
        layout.addWidget(self.f0_widget, 1)
        layout.addWidget(self.level_label)
        self.clip_combo.currentIndexChanged.connect(self.on_clip_combo_current_index_changed)
        self.play_button.clicked.connect(self.on_play_button_clicked)

    def set_title(self, text: str) -> None:
        self.title_label.setText(f"<b style='color:{self.color.name()}'>{text}</b>")

    def set_choices(self, utterances: Sequence[Utterance], base_dir: Path | None) -> None:
        """Offer ``utterances`` (the first is loaded) as this group's representative."""
        self.base_dir = base_dir
        self.clip_combo.blockSignals(True)
        self.clip_combo.clear()
        for u in list(utterances)[:MAX_CHOICES]:
            self.clip_combo.addItem(f"{u.id} · {u.duration:.1f} s", u)
        self.clip_combo.blockSignals(False)
        self.on_clip_combo_current_index_changed(0)

    def segment(self) -> np.ndarray | None:
        """The selected stretch of the shown recording (all of it without a selection), shape (n,)."""
        if self.samples is None:
            return None
        start, end = self.audio_view.selection() or (0.0, self.audio_view.duration)
        return self.samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)]

    def shutdown(self) -> None:
        self._runner.shutdown()
        self.audio_view.shutdown()

    @Slot(int)
    def on_clip_combo_current_index_changed(self, _index: int) -> None:
        u = self.clip_combo.currentData()
        self.samples, self.utterance = None, u
        self.audio_view.clear()
        self.f0_curve.setData([], [])
        self.level_label.setText("")
        self.text_label.setText("" if u is None else f"{short_speaker(u.speaker)} · {u.text}")
        if u is None:
            self._runner.cancel()
            return
        base = self.base_dir
        self._runner.start(lambda progress: _measure_clip(u, base))

    @Slot(object)
    def on_runner_finished(self, result) -> None:
        u, samples, times, f0, level = result
        self.samples, self.f0, self.level = samples, f0, level
        self.audio_view.set_audio(samples, SAMPLE_RATE)
        voiced = np.isfinite(f0)
        self.f0_curve.setData(times[voiced], f0[voiced])
        median = f"{np.median(f0[voiced]):.0f} Hz" if voiced.any() else self.tr("none (unvoiced)")
        self.level_label.setText(
            self.tr("median F0 {median} · speech level {level} dBFS · peak {peak} dBFS · {seconds} s").format(
                median=median, level=f"{level.active_rms_dbfs:.1f}", peak=f"{level.peak_dbfs:.1f}",
                seconds=f"{len(samples) / SAMPLE_RATE:.2f}"))
        self.clip_loaded.emit(u)

    @Slot(str)
    def on_runner_failed(self, message: str) -> None:
        self.level_label.setText(f"<span style='color:#c62828'>{message}</span>")

    @Slot()
    def on_play_button_clicked(self) -> None:
        if self.samples is not None:
            start, end = self.audio_view.selection() or (0.0, None)
            self.play_requested.emit(self.samples, start, end)


def _measure_clip(u: Utterance, base_dir: Path | None):
    samples = u.load_samples(base_dir, SAMPLE_RATE)
    times, f0 = f0_track(samples, SAMPLE_RATE)
    return u, samples, times, f0, level_stats(samples, SAMPLE_RATE)


class ComparisonPlots(QWidget):
    """Overlay, F0 distributions, long-term spectra and a table, for two groups in two colours."""

    def __init__(self, colors: tuple[QColor, QColor], parent: QWidget | None = None):
        super().__init__(parent)
        self.colors = colors
        self.overlay_widget = _plot_widget(self, self.tr("One word, aligned and level-matched"), self.tr("time (s)"),
                                           self.tr("amplitude"))
        overlay = self.overlay_widget.getPlotItem()
        overlay.setDownsampling(auto=True, mode="peak")
        overlay.setClipToView(True)
        overlay.addLegend(offset=(6, 6))
        self.histogram_widget = _plot_widget(self, self.tr("F0 distribution (share of voiced frames)"), "F0 (Hz)",
                                             self.tr("share"))
        self.histogram_widget.getPlotItem().addLegend(offset=(-6, 6))
        self.spectrum_widget = _plot_widget(self, self.tr("Long-term spectrum (level-normalised)"),
                                            self.tr("frequency (Hz)"), "dB")
        self.spectrum_widget.getPlotItem().setLogMode(x=True, y=False)
        # In log mode the automatic ticks crowd into unreadable "2·10³"; name a few frequencies instead.
        self.spectrum_widget.getPlotItem().getAxis("bottom").setTicks([[
            (float(np.log10(hz)), text) for hz, text in SPECTRUM_TICKS
        ], []])
        self.spectrum_widget.getPlotItem().addLegend(offset=(-6, 6))
        self.overlay_label = QLabel(self.tr("Select the same word in both recordings (Shift+drag), then Overlay."))
        self.overlay_label.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalHeaderLabels(["", "", ""])  # the groups' names come with the analysis, not "1 2 3"

        overlay_box = QWidget()
        overlay_layout = QVBoxLayout(overlay_box)
        overlay_layout.setContentsMargins(0, 0, 0, 0)
        overlay_layout.addWidget(self.overlay_widget, 1)
        overlay_layout.addWidget(self.overlay_label)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(overlay_box, 0, 0)
        grid.addWidget(self.histogram_widget, 0, 1)
        grid.addWidget(self.spectrum_widget, 0, 2)
        grid.addWidget(self.table, 0, 3)
        for column in range(4):
            grid.setColumnStretch(column, 1)

    def clear_profiles(self) -> None:
        self.histogram_widget.getPlotItem().clear()
        self.spectrum_widget.getPlotItem().clear()
        self.table.setRowCount(0)

    def show_profiles(self, names: tuple[str, str], profiles: tuple[VoiceProfile, VoiceProfile]) -> None:
        self.clear_profiles()
        histogram = self.histogram_widget.getPlotItem()
        spectrum = self.spectrum_widget.getPlotItem()
        edges = np.arange(F0_RANGE[0], F0_RANGE[1] + F0_BIN_HZ, F0_BIN_HZ)
        for name, profile, color in zip(names, profiles, self.colors):
            if profile.f0.size:
                counts, _ = np.histogram(profile.f0, bins=edges)
                histogram.plot(edges, counts / profile.f0.size, stepMode="center", name=name,
                               pen=pg.mkPen(color, width=2), fillLevel=0, brush=translucent(color, 60))
            if profile.freqs.size:
                keep = (profile.freqs >= SPECTRUM_RANGE[0]) & (profile.freqs <= SPECTRUM_RANGE[1])
                spectrum.plot(profile.freqs[keep], profile.spectrum_db[keep], name=name, pen=pg.mkPen(color, width=2))
        histogram.setXRange(*F0_RANGE, padding=0)
        spectrum.setXRange(np.log10(SPECTRUM_RANGE[0]), np.log10(SPECTRUM_RANGE[1]), padding=0)
        self._fill_table(names, profiles)

    def show_overlay(self, names: tuple[str, str], pair: AlignedPair) -> None:
        plot = self.overlay_widget.getPlotItem()
        plot.clear()
        for name, times, samples, color in zip(names, (pair.a_times, pair.b_times), (pair.a, pair.b), self.colors):
            plot.plot(times, samples, name=name, pen=pg.mkPen(translucent(color, 170), width=1))
        if pair.a_times.size and pair.b_times.size:
            start, end = min(pair.a_times[0], pair.b_times[0]), max(pair.a_times[-1], pair.b_times[-1])
            plot.setXRange(start, end, padding=0.01)
        template = (self.tr("{b} shifted {ms} ms later than {a}; envelope correlation {score}; both at the same RMS "
                            "level.") if pair.lag >= 0 else
                    self.tr("{b} shifted {ms} ms earlier than {a}; envelope correlation {score}; both at the same RMS "
                            "level."))
        self.overlay_label.setText(template.format(a=names[0], b=names[1], ms=f"{abs(pair.lag) * 1000:.0f}",
                                                   score=f"{pair.score:.2f}"))

    def overlay_curves(self) -> list[pg.PlotDataItem]:
        return self.overlay_widget.getPlotItem().listDataItems()

    def _fill_table(self, names: tuple[str, str], profiles: tuple[VoiceProfile, VoiceProfile]) -> None:
        def f0_text(p: VoiceProfile) -> str:
            return "—" if not p.f0.size else f"{p.f0_stats.median:.0f} Hz"

        def rows(p: VoiceProfile) -> list[str]:
            if p.clips == 0:
                return ["0"] + ["—"] * 6
            level = p.active_rms_dbfs
            return [
                f"{p.clips}", f"{p.durations.sum():.1f} s", f"{p.durations.mean():.2f} s", f0_text(p),
                "—" if not p.f0.size else f"{p.f0_stats.p10:.0f}–{p.f0_stats.p90:.0f} Hz",
                f"{100 * p.f0_stats.voiced_fraction:.0f}%", f"{level.mean():.1f} ± {level.std():.1f} dBFS",
            ]

        labels = [self.tr("recordings"), self.tr("total duration"), self.tr("mean duration"), self.tr("median F0"),
                  self.tr("F0 10–90%"), self.tr("voiced frames"), self.tr("speech level")]
        columns = [rows(p) for p in profiles]
        self.table.setRowCount(len(labels))
        self.table.setHorizontalHeaderLabels(["", *names])
        for r, label in enumerate(labels):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            for c, values in enumerate(columns, start=1):
                item = QTableWidgetItem(values[r])
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setForeground(self.colors[c - 1])
                self.table.setItem(r, c, item)
