"""The pieces of the voice comparison: one column per group, and the plots that set the groups side by side.

:class:`ClipColumn` shows one representative recording of a group (picked
from a list): waveform and spectrogram, its F0 track on the same time axis,
and its level, and plays it as recorded or homologated. :class:`ComparisonPlots`
draws what the analysis measured over many recordings per group (F0
distributions, long-term spectra, a table of level and duration), after
homologation with the recordings' curves dashed behind, and the overlay of one
word said by both.
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
    play_homologated_requested = Signal(object, float, object)  # the same, to be warped before playing

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
        self.homologated_button = QPushButton(self.tr("Play homologated"))
        self.homologated_button.setToolTip(self.tr("Play this recording warped onto the common reference: what a "
                                                   "homologating model hears"))
        self.homologated_button.hide()  # shown in the homologated view
        self.warp_label = QLabel()  # this recording's warp factor, in the homologated view
        self.warp_label.setToolTip(self.tr("warp factor: this voice's frequencies are multiplied by it"))
        self.warp_label.setMinimumWidth(self.warp_label.fontMetrics().horizontalAdvance("α = 0.00") + 4)
        self.warp_label.hide()
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
        top.addWidget(self.homologated_button)
        top.addWidget(self.warp_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text_label)
        layout.addWidget(self.audio_view, 3)
        layout.addWidget(self.f0_widget, 1)
        layout.addWidget(self.level_label)
        self.clip_combo.currentIndexChanged.connect(self.on_clip_combo_current_index_changed)
        self.play_button.clicked.connect(self.on_play_button_clicked)
        self.homologated_button.clicked.connect(self.on_homologated_button_clicked)

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

    def set_homologated(self, shown: bool, alpha: float | None = None) -> None:
        """Show or hide the homologated playback, with this recording's warp factor once known."""
        self.homologated_button.setVisible(shown)
        self.warp_label.setVisible(shown)
        self.warp_label.setText("" if alpha is None else f"α = {alpha:.2f}")

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
        self.warp_label.setText("")  # the warp was the last recording's
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

    @Slot()
    def on_homologated_button_clicked(self) -> None:
        if self.samples is not None:
            start, end = self.audio_view.selection() or (0.0, None)
            self.play_homologated_requested.emit(self.samples, start, end)


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
        self.spectrum_widget.getPlotItem().addLegend(offset=(6, -6))  # bottom left: under the curves, empty
        self.before_curves: list[pg.PlotDataItem] = []  # the dashed "as recorded" curves of a homologated view
        self.overlay_label = QLabel(self.tr("Select the same word in both recordings (Shift+drag), then Overlay."))
        self.overlay_label.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        # Rows as tall as their text: the homologated view's nine fit beside the plots on a 768 px screen.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
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
        for widget in (self.histogram_widget, self.spectrum_widget):
            widget.getPlotItem().clear()
            widget.getPlotItem().legend.clear()  # entries added by hand (the "as recorded" key) stay otherwise
        self.before_curves = []
        self.table.setRowCount(0)

    def show_profiles(self, names: tuple[str, str], profiles: tuple[VoiceProfile, VoiceProfile],
                      homologated: tuple[VoiceProfile, VoiceProfile] | None = None,
                      alphas: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Draw the groups' profiles as recorded, or ``homologated`` ones over them (dashed) with per-clip ``alphas``."""
        self.clear_profiles()
        histogram = self.histogram_widget.getPlotItem()
        spectrum = self.spectrum_widget.getPlotItem()
        shown = profiles
        if homologated is not None:  # behind the homologated curves, dimmed, so the change is what stands out
            for profile, color in zip(profiles, self.colors):
                pen = pg.mkPen(translucent(color, 150), width=1.5, style=Qt.PenStyle.DashLine)
                self.before_curves += self._draw(histogram, spectrum, profile, pen, None, None)
            shown = homologated
        for i, (name, profile, color) in enumerate(zip(names, shown, self.colors)):
            if alphas is not None and alphas[i].size:
                name = f"{name}, α = {alphas[i].mean():.2f}"
            self._draw(histogram, spectrum, profile, pg.mkPen(color, width=2), translucent(color, 60), name)
        if homologated is not None:  # one legend entry for the dashed curves of both groups
            _, text_color, _ = palette_colors(self)
            key = pg.PlotDataItem(pen=pg.mkPen(translucent(text_color, 150), width=1.5, style=Qt.PenStyle.DashLine))
            for plot in (histogram, spectrum):
                plot.legend.addItem(key, self.tr("as recorded"))
        histogram.setXRange(*F0_RANGE, padding=0)
        spectrum.setXRange(np.log10(SPECTRUM_RANGE[0]), np.log10(SPECTRUM_RANGE[1]), padding=0)
        self._fill_table(names, profiles, homologated, alphas)

    @staticmethod
    def _draw(histogram: pg.PlotItem, spectrum: pg.PlotItem, profile: VoiceProfile, pen, brush,
              name: str | None) -> list[pg.PlotDataItem]:
        """One group's F0 histogram (filled when ``brush``) and long-term spectrum; returns the curves drawn."""
        curves = []
        if profile.f0.size:
            edges = np.arange(F0_RANGE[0], F0_RANGE[1] + F0_BIN_HZ, F0_BIN_HZ)
            counts, _ = np.histogram(profile.f0, bins=edges)
            fill = {} if brush is None else {"fillLevel": 0, "brush": brush}
            curves.append(histogram.plot(edges, counts / profile.f0.size, stepMode="center", name=name, pen=pen,
                                         **fill))
        if profile.freqs.size:
            keep = (profile.freqs >= SPECTRUM_RANGE[0]) & (profile.freqs <= SPECTRUM_RANGE[1])
            curves.append(spectrum.plot(profile.freqs[keep], profile.spectrum_db[keep], name=name, pen=pen))
        return curves

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

    def _fill_table(self, names: tuple[str, str], profiles: tuple[VoiceProfile, VoiceProfile],
                    homologated: tuple[VoiceProfile, VoiceProfile] | None = None,
                    alphas: tuple[np.ndarray, np.ndarray] | None = None) -> None:
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
        tips: dict[tuple[int, int], str] = {}
        if homologated is not None and alphas is not None:  # what homologation did: the warp, and F0 after it
            labels += [self.tr("mean warp factor α"), self.tr("median F0 homologated")]
            for c, (values, p, a) in enumerate(zip(columns, homologated, alphas), start=1):
                values += ["—" if not a.size else f"{a.mean():.2f}", f0_text(p)]
                if a.size:
                    tips[len(labels) - 2, c] = self.tr("from {low} to {high} over the recordings").format(
                        low=f"{a.min():.2f}", high=f"{a.max():.2f}")
        self.table.setRowCount(len(labels))
        self.table.setHorizontalHeaderLabels(["", *names])
        for r, label in enumerate(labels):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            for c, values in enumerate(columns, start=1):
                item = QTableWidgetItem(values[r])
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setForeground(self.colors[c - 1])
                item.setToolTip(tips.get((r, c), ""))
                self.table.setItem(r, c, item)
