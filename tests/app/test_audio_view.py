"""AudioView: waveform and spectrogram on one time axis, for short and hour-long audio."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.spectrogram import MAX_COLUMNS
from app.widgets.audio_view import AudioView
from tests.app.media import ARTIFACTS, SR, real_speech_clip, speech_like


def image_rect(item):
    """The ImageItem's extent in data coordinates (seconds, mel rows)."""
    return item.mapRectToParent(item.boundingRect())


def widget_pos(view: AudioView, plot, seconds: float, y: float) -> QPoint:
    scene = plot.vb.mapViewToScene(QPointF(seconds, y))
    return view.graphics.mapFromScene(scene)


@pytest.fixture
def view(qtbot):
    v = AudioView()
    qtbot.addWidget(v)
    v.resize(900, 420)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.shutdown()


def test_ten_seconds_fill_both_plots_over_the_duration(view, qtbot):
    view.set_audio(speech_like(10.0), SR)
    assert view.duration == pytest.approx(10.0)

    x, y = view.waveform_curve.getData()
    assert x[0] == pytest.approx(0.0) and x[-1] == pytest.approx(10.0, abs=2 / SR)
    assert x.size <= 2 * 900  # one min/max pair per pixel column at most
    assert y.max() > 0.2 and y.min() < -0.2

    with qtbot.waitSignal(view.spectrogram_ready, timeout=5000):
        pass
    image = view.spectrogram_image.image
    assert image.shape == (80, 1000)  # n_mels rows, one column per 10 ms frame
    rect = image_rect(view.spectrogram_image)
    assert rect.left() == pytest.approx(0.0) and rect.right() == pytest.approx(10.0, abs=0.011)
    assert (rect.top(), rect.bottom()) == (0.0, 80.0)
    assert view.detail_image.isVisible() is False  # full resolution already


def test_an_hour_stays_bounded_and_zooming_redecimates(view, qtbot):
    hour = np.zeros(60 * 60 * SR, dtype=np.float32)
    burst = speech_like(2.0)
    hour[1800 * SR : 1802 * SR] = burst  # something to find when zoomed in
    view.set_audio(hour, SR)

    x, _ = view.waveform_curve.getData()
    assert x[0] == pytest.approx(0.0) and x[-1] == pytest.approx(3600.0, abs=1e-3)
    assert x.size <= 2 * 900
    qtbot.waitUntil(lambda: view.spectrogram is not None, timeout=15000)
    assert view.spectrogram_image.image.shape == (80, MAX_COLUMNS)
    rect = image_rect(view.spectrogram_image)
    assert rect.left() == pytest.approx(0.0) and rect.right() == pytest.approx(3600.0, abs=0.011)

    view.set_visible_range(1800.0, 1802.0)
    qtbot.waitUntil(lambda: view.waveform_curve.getData()[0][0] >= 1799.9, timeout=2000)
    x, y = view.waveform_curve.getData()
    assert x[0] == pytest.approx(1800.0, abs=1e-3) and x[-1] == pytest.approx(1802.0, abs=1e-3)
    assert y.max() == pytest.approx(burst.max(), abs=0.02)  # the burst's own peaks, not a blur

    # The overview has 0.45 s columns: the zoomed view gets a sharper image on top.
    qtbot.waitUntil(lambda: view.detail_spectrogram is not None, timeout=5000)
    detail = view.detail_spectrogram
    assert detail.start <= 1800.0 and detail.end >= 1802.0
    assert detail.seconds_per_column < 0.02
    assert view.detail_image.isVisible()
    assert view.detail_image.image.shape[0] == 80

    view.set_visible_range(0.0, 3600.0)
    qtbot.waitUntil(lambda: not view.detail_image.isVisible(), timeout=2000)


def test_selection_cursor_and_highlight(view, qtbot):
    view.set_audio(speech_like(10.0), SR)
    assert view.selection() is None
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.set_selection(2.0, 4.5)
    assert blocker.args == [(2.0, 4.5)]
    assert view.selection() == (2.0, 4.5)
    assert view.selection_regions[1].getRegion() == (2.0, 4.5)  # mirrored on the spectrogram

    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.set_selection_enabled(False)
    assert blocker.args == [None] and view.selection() is None
    view.set_selection_enabled(True)
    start, end = view.selection()
    assert 0 < start < end < 10

    view.set_cursor(3.25)
    assert all(line.isVisible() and line.value() == 3.25 for line in view.cursor_lines)
    view.highlight_span(1.0, 1.5)
    assert view.highlight_regions[0].isVisible() and view.highlight_regions[0].getRegion() == (1.0, 1.5)
    view.clear_highlight()
    assert not any(region.isVisible() for region in view.highlight_regions)


def test_cursor_turns_the_page_when_zoomed(view, qtbot):
    view.set_audio(speech_like(10.0), SR)
    view.set_visible_range(0.0, 2.0)
    view.set_cursor(2.5)
    x0, x1 = view.visible_range()
    assert x0 <= 2.5 <= x1 and x1 - x0 == pytest.approx(2.0)


def test_shift_drag_selects_and_click_reports_seconds(view, qtbot):
    view.set_audio(speech_like(10.0), SR)
    plot = view.waveform_plot
    with qtbot.waitSignal(view.clicked_at) as blocker:
        qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(view, plot, 6.0, 0.0))
    seconds_per_pixel = 10.0 / plot.vb.width()
    assert blocker.args[0] == pytest.approx(6.0, abs=2 * seconds_per_pixel)

    viewport = view.graphics.viewport()
    a, b = widget_pos(view, plot, 3.0, 0.0), widget_pos(view, plot, 5.0, 0.0)
    shift = Qt.KeyboardModifier.ShiftModifier
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as blocker:
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, shift, a)
        for i in range(1, 11):
            qtbot.mouseMove(viewport, a + (b - a) * (i / 10))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, shift, b)
    start, end = blocker.args[0]
    assert start == pytest.approx(3.0, abs=2 * seconds_per_pixel)
    assert end == pytest.approx(5.0, abs=2 * seconds_per_pixel)
    assert view.visible_range() == pytest.approx((0.0, 10.0))  # selected, not panned


def test_clear_and_new_audio_drop_stale_results(view, qtbot):
    view.set_audio(speech_like(20.0), SR)
    view.set_audio(speech_like(3.0, seed=1), SR)  # before the first spectrogram is done
    qtbot.waitUntil(lambda: view.spectrogram is not None, timeout=5000)
    qtbot.wait(100)
    assert view.spectrogram.end == pytest.approx(3.0, abs=0.011)
    view.clear()
    assert view.duration == 0.0 and view.spectrogram is None
    assert view.waveform_curve.getData()[0] is None or len(view.waveform_curve.getData()[0]) == 0


def test_screenshot_of_real_spanish_speech(view, qtbot):
    """Saved for a person to look at: tests/artifacts/audio_view.png."""
    samples, _ = real_speech_clip()
    view.resize(1000, 420)
    view.set_audio(samples, SR)
    qtbot.waitUntil(lambda: view.spectrogram is not None, timeout=5000)
    view.set_cursor(1.2)
    view.highlight_span(2.0, 2.6)
    view.set_selection(3.0, 4.0)
    qtbot.wait(100)
    ARTIFACTS.mkdir(exist_ok=True)
    assert view.grab().save(str(ARTIFACTS / "audio_view.png"))
