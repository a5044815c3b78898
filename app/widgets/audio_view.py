"""Waveform above log-mel spectrogram on one time axis, with cursor, selection and highlight.

Both plots stay smooth for hour-long files:

- the waveform is the min/max envelope of the *visible* samples, one bin per
  pixel (``app.waveform.envelope``), redrawn 40 ms after the last zoom or pan;
- the spectrogram is computed off the GUI thread (``QThreadPool``) in two
  layers: an overview of the whole file in at most ``MAX_COLUMNS`` columns,
  and, once the user zooms in so far that overview columns are wider than a
  pixel, a detail image of the visible range on top of it.

Mouse: wheel zooms time, drag pans, Shift+drag selects a range, click emits
``clicked_at``, double-click shows the whole file.
"""

from __future__ import annotations

import logging
import math
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.spectrogram import (
    MAX_COLUMNS,
    Spectrogram,
    SpectrogramCancelled,
    SpectrogramOptions,
    hz_to_mel,
    log_mel_spectrogram,
    mel_band_centres,
)
from app.waveform import envelope
from app.widgets.plot_style import palette_colors, style_plot, translucent

log = logging.getLogger(__name__)

COLORMAP = "inferno"  # perceptually uniform, and readable in greyscale print
CURSOR_COLOR = QColor("#00b8d4")  # cyan: visible on the light background and on inferno
HIGHLIGHT_COLOR = QColor(255, 213, 79, 80)  # translucent amber
REDRAW_MS = 40
FREQUENCY_TICKS = ((250, "250"), (500, "500"), (1000, "1k"), (2000, "2k"), (4000, "4k"), (7000, "7k"))


class _JobSignals(QObject):
    # One per view, living on the GUI thread: pool threads emit on it and Qt
    # queues the call to the view. (A QObject per job would be freed on
    # whichever thread dropped the job last.)
    done = Signal(object, int, str)  # Spectrogram, generation, "overview" or "detail"


class _SpectrogramJob(QRunnable):
    """Computes one spectrogram in a pool thread and reports it through ``signals``."""

    def __init__(self, signals: _JobSignals, samples, sample_rate, start, end, max_columns, generation, kind):
        super().__init__()
        self.stop_event = threading.Event()
        self._signals = signals
        self._args = (samples, sample_rate, start, end, max_columns)
        self._generation, self._kind = generation, kind

    def run(self) -> None:
        samples, sample_rate, start, end, max_columns = self._args
        try:
            result = log_mel_spectrogram(samples, sample_rate, start, end, max_columns,
                                         should_stop=self.stop_event.is_set)
        except SpectrogramCancelled:
            return
        except Exception:  # a bad array must not kill the pool thread silently
            log.exception("spectrogram computation failed")
            return
        self._signals.done.emit(result, self._generation, self._kind)


class _TimeViewBox(pg.ViewBox):
    """A ViewBox where Shift+left-drag reports a time range instead of panning."""

    def __init__(self, on_select_drag):
        super().__init__()
        self._on_select_drag = on_select_drag  # (start s, end s, finished) -> None

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph name)
        shift = ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if ev.button() == Qt.MouseButton.LeftButton and shift:
            ev.accept()
            a = self.mapToView(ev.buttonDownPos()).x()
            b = self.mapToView(ev.pos()).x()
            self._on_select_drag(a, b, ev.isFinish())
            return
        super().mouseDragEvent(ev, axis)


class AudioView(QWidget):
    """Waveform and log-mel spectrogram of one recording, sharing a zoomable time axis."""

    clicked_at = Signal(float)  # seconds, where the user clicked either plot
    selection_changed = Signal(object)  # (start, end) in seconds, or None when removed
    spectrogram_ready = Signal()  # the overview spectrogram of the current audio is drawn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.samples: np.ndarray | None = None  # shape = (n_samples,), float32; not copied
        self.sample_rate = 16000
        self.spectrogram: Spectrogram | None = None  # the whole-file overview
        self.detail_spectrogram: Spectrogram | None = None  # the zoomed-in range, when drawn
        self.follow_cursor = True  # page the view along when the cursor runs off it
        self._generation = 0  # bumped per file: results of older jobs are dropped
        self._jobs: dict[str, _SpectrogramJob] = {}
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # the overview first, then details; one core stays for the GUI
        self._job_signals = _JobSignals(self)
        self._job_signals.done.connect(self.on_job_done)
        self._syncing_regions = False

        background, self._text_color, self._wave_color = palette_colors(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(background)
        self.graphics.ci.setSpacing(0)
        # No side margins, as in a PlotWidget: a linked AttentionView below then
        # puts each second at the same screen x (see plot_style).
        self.graphics.ci.setContentsMargins(0, 6, 0, 0)
        self.waveform_plot = self.graphics.addPlot(row=0, col=0, viewBox=_TimeViewBox(self._on_select_drag))
        self.spectrogram_plot = self.graphics.addPlot(row=1, col=0, viewBox=_TimeViewBox(self._on_select_drag))
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self._build_waveform_plot()
        self._build_spectrogram_plot()
        self._build_overlays()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw_timer.timeout.connect(self.on_redraw_timer_timeout)
        self.waveform_plot.vb.sigXRangeChanged.connect(self.on_view_x_range_changed)
        self.graphics.scene().sigMouseClicked.connect(self.on_scene_mouse_clicked)
        self._set_x_extent(1.0)

    # ---- building -----------------------------------------------------------------

    def _build_waveform_plot(self) -> None:
        plot = self.waveform_plot
        style_plot(plot, self._text_color, time_axis=False)
        plot.showGrid(x=True, y=False, alpha=0.15)
        plot.setYRange(-1.25, 1.25, padding=0)  # with room: the "-1.0" tick is not drawn over the spectrogram's "7k"
        self.waveform_curve = plot.plot(pen=pg.mkPen(self._wave_color, width=1))

    def _build_spectrogram_plot(self) -> None:
        plot = self.spectrogram_plot
        style_plot(plot, self._text_color)
        plot.setXLink(self.waveform_plot)
        plot.setLabel("left", "Hz")
        colormap = pg.colormap.get(COLORMAP)
        self.spectrogram_image = pg.ImageItem()
        self.spectrogram_image.setColorMap(colormap)
        self.detail_image = pg.ImageItem()
        self.detail_image.setColorMap(colormap)
        self.detail_image.setZValue(1)  # over the overview where it covers it
        plot.addItem(self.spectrogram_image)
        plot.addItem(self.detail_image)
        self._set_frequency_axis(self.sample_rate)

    def _build_overlays(self) -> None:
        self.cursor_lines, self.highlight_regions, self.selection_regions = [], [], []
        for plot in (self.waveform_plot, self.spectrogram_plot):
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOR, width=2))
            cursor.setZValue(20)
            highlight = pg.LinearRegionItem(movable=False, brush=HIGHLIGHT_COLOR, pen=pg.mkPen(None))
            highlight.setZValue(10)
            selection = pg.LinearRegionItem(
                brush=translucent(self._wave_color, 50), pen=pg.mkPen(self._wave_color, width=2),
                hoverBrush=translucent(self._wave_color, 70),
            )
            selection.setZValue(15)
            selection.sigRegionChanged.connect(self.on_selection_region_changed)
            selection.sigRegionChangeFinished.connect(self.on_selection_region_change_finished)
            for item in (cursor, highlight, selection):
                item.hide()
                plot.addItem(item, ignoreBounds=True)
            self.cursor_lines.append(cursor)
            self.highlight_regions.append(highlight)
            self.selection_regions.append(selection)

    def _set_frequency_axis(self, sample_rate: int) -> None:
        options = SpectrogramOptions()
        centres = hz_to_mel(mel_band_centres(sample_rate, options))
        rows = np.arange(options.n_mels) + 0.5  # row i is drawn from y = i to i + 1
        ticks = [(float(np.interp(hz_to_mel(hz), centres, rows)), text)
                 for hz, text in FREQUENCY_TICKS if hz < min(options.f_max, sample_rate / 2)]
        self.spectrogram_plot.getAxis("left").setTicks([ticks, []])
        self.spectrogram_plot.setYRange(0, options.n_mels, padding=0)
        self.spectrogram_plot.setLimits(yMin=0, yMax=options.n_mels)

    # ---- public API -------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Seconds of audio shown; 0.0 when empty."""
        return 0.0 if self.samples is None else self.samples.shape[0] / self.sample_rate

    def set_audio(self, samples: np.ndarray, sample_rate: int) -> None:
        """Show ``samples`` (mono, shape = (n,)); the spectrogram follows from a background thread.

        The array is kept, not copied (an hour at 16 kHz is 230 MB): do not
        modify it while it is shown.
        """
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"expected mono samples of shape (n,), got {samples.shape}")
        self.clear()
        self.samples, self.sample_rate = samples, int(sample_rate)
        self._set_frequency_axis(self.sample_rate)
        _, y = envelope(samples, 4096) if samples.size else (None, np.zeros(1, np.float32))
        # Scale to the loudest sample, so quiet recordings are readable; the level
        # meter, not the waveform, is where absolute level is judged.
        top = max(0.05, float(np.abs(y).max())) * 1.05
        self.waveform_plot.setYRange(-top, top, padding=0)
        self.waveform_plot.setLimits(yMin=-top, yMax=top)
        self._set_x_extent(max(self.duration, 1e-3))
        self._draw_waveform()
        self._start_job("overview", 0.0, None, MAX_COLUMNS)

    def clear(self) -> None:
        """Remove the audio, the spectrogram, the cursor, the selection and any highlight."""
        self._generation += 1
        for job in self._jobs.values():
            job.stop_event.set()
        self._jobs.clear()
        self._pool.clear()  # drop queued jobs; a running one stops at its next block
        self.samples = self.spectrogram = self.detail_spectrogram = None
        self.waveform_curve.setData([], [])
        self.spectrogram_image.clear()
        self.detail_image.clear()
        self.set_cursor(None)
        self.clear_highlight()
        self.clear_selection()

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Stop background work and wait for it; call before the view goes away."""
        self.clear()
        self._pool.waitForDone(timeout_ms)

    def visible_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.waveform_plot.vb.viewRange()
        return float(x0), float(x1)

    def set_visible_range(self, start: float, end: float) -> None:
        self.waveform_plot.setXRange(start, end, padding=0)

    def set_cursor(self, seconds: float | None) -> None:
        """Draw the playback cursor at ``seconds``; ``None`` hides it."""
        for line in self.cursor_lines:
            line.setVisible(seconds is not None)
            if seconds is not None:
                line.setValue(seconds)
        if seconds is not None and self.follow_cursor and self.samples is not None:
            x0, x1 = self.visible_range()
            if not x0 <= seconds <= x1 and x1 - x0 < self.duration:
                self.set_visible_range(seconds, seconds + (x1 - x0))  # turn the page

    def highlight_span(self, start: float, end: float) -> None:
        """Shade ``start``..``end`` seconds, e.g. the audio behind a hovered token."""
        for region in self.highlight_regions:
            region.setRegion((start, end))
            region.show()

    def clear_highlight(self) -> None:
        for region in self.highlight_regions:
            region.hide()

    def selection(self) -> tuple[float, float] | None:
        """The selected (start, end) in seconds, or None."""
        region = self.selection_regions[0]
        if not region.isVisible():
            return None
        a, b = region.getRegion()
        return float(a), float(b)

    def set_selection(self, start: float, end: float) -> None:
        start, end = sorted((max(0.0, start), min(self.duration, end)))
        for region in self.selection_regions:
            region.setRegion((start, end))
            region.show()
        self.selection_changed.emit(self.selection())

    def clear_selection(self) -> None:
        was_shown = self.selection_regions[0].isVisible()
        for region in self.selection_regions:
            region.hide()
        if was_shown:
            self.selection_changed.emit(None)

    def set_selection_enabled(self, enabled: bool) -> None:
        """Show a selection over the middle third of the view (or remove it), e.g. from a toggle button."""
        if not enabled:
            self.clear_selection()
        elif self.selection() is None and self.samples is not None:
            x0, x1 = self.visible_range()
            third = (x1 - x0) / 3
            self.set_selection(x0 + third, x1 - third)

    # ---- slots ---------------------------------------------------------------------------

    @Slot()
    def on_view_x_range_changed(self) -> None:
        if self.samples is not None and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    @Slot()
    def on_redraw_timer_timeout(self) -> None:
        self._draw_waveform()
        self._update_detail()

    @Slot(object, int, str)
    def on_job_done(self, result: Spectrogram, generation: int, kind: str) -> None:
        if generation != self._generation:
            return  # computed for audio no longer shown
        self._jobs.pop(kind, None)
        if kind == "overview":
            self.spectrogram = result
            self._show(self.spectrogram_image, result, result.levels)
            self._update_detail()
            self.spectrogram_ready.emit()
        elif self.spectrogram is not None:
            self.detail_spectrogram = result
            self._show(self.detail_image, result, self.spectrogram.levels)  # same colours as the overview

    @Slot(object)
    def on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.samples is None:
            return
        for plot in (self.waveform_plot, self.spectrogram_plot):
            if plot.vb.sceneBoundingRect().contains(event.scenePos()):
                if event.double():
                    self.set_visible_range(0.0, self.duration)
                else:
                    x = plot.vb.mapSceneToView(event.scenePos()).x()
                    self.clicked_at.emit(float(min(max(x, 0.0), self.duration)))
                return

    @Slot(object)
    def on_selection_region_changed(self, region) -> None:
        # Two region items, one per plot, move as one.
        if self._syncing_regions:
            return
        self._syncing_regions = True
        try:
            for other in self.selection_regions:
                if other is not region:
                    other.setRegion(region.getRegion())
        finally:
            self._syncing_regions = False

    @Slot(object)
    def on_selection_region_change_finished(self, region) -> None:
        if not self._syncing_regions and region.isVisible():
            self.selection_changed.emit(self.selection())

    # ---- helpers ------------------------------------------------------------------------

    def _on_select_drag(self, a: float, b: float, finished: bool) -> None:
        if self.samples is None:
            return
        a, b = sorted((min(max(a, 0.0), self.duration), min(max(b, 0.0), self.duration)))
        for region in self.selection_regions:
            region.setRegion((a, b))
            region.show()
        if finished:
            self.selection_changed.emit(self.selection())

    def _set_x_extent(self, seconds: float) -> None:
        for plot in (self.waveform_plot, self.spectrogram_plot):
            plot.setLimits(xMin=0.0, xMax=seconds, minXRange=min(seconds, 0.01))
        self.waveform_plot.setXRange(0.0, seconds, padding=0)

    def _plot_width_px(self) -> int:
        return max(100, int(self.waveform_plot.vb.width()))

    def _draw_waveform(self) -> None:
        """Plot the min/max envelope of the visible samples, one bin per pixel."""
        samples = self.samples
        if samples is None or samples.size == 0:
            self.waveform_curve.setData([], [])
            return
        x0, x1 = self.visible_range()
        first = max(0, int(math.floor(x0 * self.sample_rate)))
        last = min(samples.size, int(math.ceil(x1 * self.sample_rate)) + 1)
        if last - first < 2:
            first, last = 0, samples.size
        x, y = envelope(samples[first:last], self._plot_width_px())
        self.waveform_curve.setData((x + first) / self.sample_rate, y)

    def _update_detail(self) -> None:
        """Ask for a sharper spectrogram of the visible range when the overview is too coarse for it."""
        overview = self.spectrogram
        if overview is None or self.samples is None:
            return
        x0, x1 = self.visible_range()
        seconds_per_pixel = (x1 - x0) / self._plot_width_px()
        if overview.frames_per_column <= 1.0 or overview.seconds_per_column <= seconds_per_pixel:
            self.detail_image.hide()  # the overview is as sharp as the screen
            return
        frame_seconds = SpectrogramOptions().hop_length / self.sample_rate
        wanted = max(seconds_per_pixel, frame_seconds)
        detail = self.detail_spectrogram
        if detail is not None and detail.start <= x0 and detail.end >= x1 and detail.seconds_per_column <= 1.5 * wanted:
            self.detail_image.show()
            return
        # Half a view of margin on each side: a small pan needs no new job.
        span = x1 - x0
        start, end = max(0.0, x0 - span / 2), min(self.duration, x1 + span / 2)
        columns = min(MAX_COLUMNS, math.ceil((end - start) / wanted))
        self._start_job("detail", start, end, columns)

    def _start_job(self, kind: str, start: float, end: float | None, max_columns: int) -> None:
        previous = self._jobs.pop(kind, None)
        if previous is not None:
            previous.stop_event.set()
        job = _SpectrogramJob(self._job_signals, self.samples, self.sample_rate, start, end, max_columns,
                              self._generation, kind)
        self._jobs[kind] = job
        self._pool.start(job)

    def _show(self, item: pg.ImageItem, result: Spectrogram, levels: tuple[float, float]) -> None:
        item.setImage(result.image, levels=levels, autoLevels=False)
        item.setRect(QRectF(result.start, 0.0, result.end - result.start, result.image.shape[0]))
        item.show()
