"""LevelMeter: jumps up, falls back slowly, holds the peak, remembers a clip."""

from __future__ import annotations

import pytest

from app.widgets.level_meter import MIN_DBFS, LevelMeter
from tests.app.media import ARTIFACTS


@pytest.fixture
def meter(qtbot):
    m = LevelMeter()
    qtbot.addWidget(m)
    m.resize(240, 16)
    m.show()
    return m


def test_rises_at_once_and_falls_back_slowly(meter, qtbot):
    assert meter.level == MIN_DBFS
    meter.set_level(-6.0)
    assert meter.level == -6.0 and meter.peak == -6.0
    meter.set_level(-40.0)
    assert meter.level == -6.0  # no flicker: the bar falls at its own pace
    qtbot.waitUntil(lambda: meter.level < -8.0, timeout=1000)
    assert meter.level > -40.0
    assert meter.peak == -6.0  # held


def test_out_of_range_levels_are_clamped_and_clips_remembered(meter):
    meter.set_level(-150.0)
    assert meter.level == MIN_DBFS
    assert not meter.clipped
    meter.set_level(3.0)
    assert meter.level == 0.0 and meter.clipped
    meter.set_level(-30.0)
    assert meter.clipped  # stays until reset, so a brief clip is not missed
    meter.reset()
    assert not meter.clipped and meter.level == MIN_DBFS and meter.peak == MIN_DBFS


def test_paints(meter, qtbot):
    meter.set_level(-9.0)
    meter.set_level(-20.0)
    image = meter.grab().toImage()
    assert image.width() == 240
    ARTIFACTS.mkdir(exist_ok=True)
    assert image.save(str(ARTIFACTS / "level_meter.png"))
