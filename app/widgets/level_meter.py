"""A recording level meter: a dBFS bar with peak hold, green to amber to red.

Feed it ``Recorder.level_changed``. The bar falls back smoothly instead of
jumping (levels arrive ~30 times a second and raw values flicker), and the
peak mark stays put for a moment so a brief clip is not missed; it turns red
at 0 dBFS and stays red until :meth:`LevelMeter.reset`.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_DBFS = -60.0  # below this the bar is empty; room noise sits around -60..-50
WARN_DBFS = -12.0  # speech peaks belong below here
CLIP_DBFS = -0.5  # at or above: the recording is (about to be) clipped
FALL_DB_PER_S = 24.0  # bar release
PEAK_HOLD_S = 1.5
TICK_MS = 33

GREEN, AMBER, RED = QColor("#43a047"), QColor("#ffb300"), QColor("#e53935")


class LevelMeter(QWidget):
    """Horizontal dBFS meter from ``MIN_DBFS`` to 0 with a peak-hold mark."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.level = MIN_DBFS  # what the bar shows, after release
        self.peak = MIN_DBFS  # the held peak
        self._target = MIN_DBFS  # the latest level; the bar falls towards it
        self.clipped = False
        self._peak_time = 0.0
        self._last_tick = time.monotonic()
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self.on_timer_timeout)
        self.setToolTip(self.tr("Input level (dBFS)"))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(200, 14)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(60, 8)

    @Slot(float)
    def set_level(self, dbfs: float) -> None:
        """Show a new level in dBFS (0 = full scale); louder than the bar jumps, quieter falls."""
        now = time.monotonic()
        dbfs = max(MIN_DBFS, min(0.0, float(dbfs)))
        self.level = max(dbfs, self.level)
        if dbfs >= self.peak or now - self._peak_time > PEAK_HOLD_S:
            self.peak, self._peak_time = dbfs, now
        self.clipped = self.clipped or dbfs >= CLIP_DBFS
        self._target = dbfs
        self.setToolTip(self.tr("Input level {level} dBFS, peak {peak} dBFS").format(level=f"{dbfs:.1f}",
                                                                                       peak=f"{self.peak:.1f}"))
        if not self._timer.isActive():
            self._last_tick = now
            self._timer.start()
        self.update()

    def reset(self) -> None:
        """Empty the bar and clear the peak and the clip mark."""
        self._timer.stop()
        self.level = self.peak = self._target = MIN_DBFS
        self.clipped = False
        self.update()

    @Slot()
    def on_timer_timeout(self) -> None:
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        self.level = max(self._target, self.level - FALL_DB_PER_S * dt)
        if now - self._peak_time > PEAK_HOLD_S:
            self.peak = max(self.level, self.peak - FALL_DB_PER_S * dt)
        if self.level <= self._target and self.peak <= self.level:
            self._timer.stop()  # at rest: no repaints while nothing changes
        self.update()

    def _x(self, dbfs: float, width: float) -> float:
        return width * (dbfs - MIN_DBFS) / -MIN_DBFS

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        w, h = rect.width(), rect.height()
        painter.fillRect(rect, self.palette().color(self.backgroundRole()).darker(115))
        # The bar in three zones, each coloured where the level reaches it.
        zones = ((MIN_DBFS, WARN_DBFS, GREEN), (WARN_DBFS, CLIP_DBFS, AMBER), (CLIP_DBFS, 0.0, RED))
        for low, high, color in zones:
            top = min(self.level, high)
            if top > low:
                x0, x1 = self._x(low, w), self._x(top, w)
                painter.fillRect(QRectF(rect.left() + x0, rect.top(), x1 - x0, h), color)
        if self.peak > MIN_DBFS:
            x = rect.left() + self._x(self.peak, w)
            color = RED if self.clipped or self.peak >= CLIP_DBFS else self.palette().color(self.foregroundRole())
            painter.fillRect(QRectF(x - 1.5, rect.top(), 3.0, h), color)
        painter.setPen(self.palette().color(self.foregroundRole()))
        for mark in (-48, -36, -24, -12, -6):  # scale ticks
            x = rect.left() + self._x(mark, w)
            painter.drawLine(int(x), int(rect.bottom() - h / 4), int(x), int(rect.bottom()))
        painter.end()
