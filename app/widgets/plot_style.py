"""Shared look of Parcero's plots, so stacked plots line up and follow the palette.

Plots that share a time axis (the waveform, the spectrogram, the attention
map) are linked with ``setXLink``, which matches their view ranges; their
data areas only line up on screen when their left axes are equally wide,
hence one fixed width for all of them.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from app.i18n import QT_TRANSLATE_NOOP, translate

LEFT_AXIS_WIDTH = 64  # pixels; wide enough for "7.6 kHz" and short token text
TIME_LABEL = QT_TRANSLATE_NOOP("PlotStyle", "time (s)")


def palette_colors(widget: QWidget, palette: QPalette | None = None) -> tuple[QColor, QColor, QColor]:
    """(background, text, highlight) colours of ``palette`` (default: ``widget``'s), for light and dark themes."""
    palette = palette if palette is not None else widget.palette()
    return (
        palette.color(QPalette.ColorRole.Base),
        palette.color(QPalette.ColorRole.WindowText),
        palette.color(QPalette.ColorRole.Highlight),
    )


def style_plot(plot: pg.PlotItem, text_color: QColor, *, time_axis: bool = True) -> None:
    """Axes in the text colour, a fixed-width left axis, x-only mouse zoom, no context menu.

    Parameters
    ----------
    plot : pg.PlotItem
    text_color : QColor
        Colour for axis lines, ticks and labels.
    time_axis : bool
        Show the bottom axis labelled in seconds; stacked plots show it on
        the lowest plot only.
    """
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=True, y=False)
    for name in ("bottom", "left"):
        axis = plot.getAxis(name)
        axis.setTextPen(text_color)
        axis.setPen(text_color)
        # Seconds stay seconds: no "(x0.001)" rescaling when zoomed into a short clip.
        axis.enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    if time_axis:
        plot.setLabel("bottom", translate("PlotStyle", TIME_LABEL))
    else:
        plot.hideAxis("bottom")


def follow_palette(root: QWidget, palette: QPalette | None = None) -> int:
    """Re-colour the plots under ``root`` after a theme change; returns how many views.

    Backgrounds take the base colour of ``palette`` (default: each view's own, which
    follows the application's only once Qt has delivered the change) and axes (lines,
    ticks, labels) its text colour, as when the plots were built; data keep their own
    colours (the colour maps read on light and dark alike).
    """
    views = [root] if isinstance(root, pg.GraphicsView) else []
    views += root.findChildren(pg.GraphicsView)
    for view in views:
        background, text, _ = palette_colors(view, palette)
        view.setBackground(background)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(text)
                item.setTextPen(text)
    return len(views)


def translucent(color: QColor, alpha: int) -> QColor:
    """A copy of ``color`` with ``alpha`` (0–255)."""
    c = QColor(color)
    c.setAlpha(alpha)
    return c
